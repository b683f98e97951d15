/*
 * pyenv.h: an Azure environment on a machine without Docker. An environment
 * with an image and/or a conda file (Azure's shape) runs in a local Python
 * interpreter; this decides which one and checks that the packages its conda
 * file asks for are there, before any worker starts.
 *
 * The interpreter: HOME/runtime.ini maps images to interpreters,
 *
 *	[image "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04*"]
 *	python = /opt/venvs/sklearn/bin/python
 *
 * the first section whose pattern (fnmatch, so "*" and "?" work) matches the
 * image wins; an environment without an image matches [image ""]; nothing
 * matching means /usr/bin/python3. The file is read at every load, so an edit
 * applies to the next deployment update.
 *
 * The check: every dependency of the conda file (conda ones and the pip list)
 * must be installed for that interpreter, by distribution name (importlib.
 * metadata, so "scikit-learn" is found), else importable under the name with
 * '-' as '_'. Entries the runtime itself provides (python, pip, setuptools,
 * wheel, azureml-defaults, azureml-inference-server-http) are not checked. A
 * version pin that differs, a Python version that differs, and entries that
 * cannot be checked (URLs, pip options) are reported as warnings in the log;
 * a missing package fails the load with an error that names each one.
 *
 * Blocking (runs the interpreter, at most 30 s); any thread.
 */
#ifndef RUNTIME_PYENV_H
#define RUNTIME_PYENV_H

#include <stddef.h>

#include "runtime/engines/engine.h"
#include "state/error.h"

#define PYENV_DEFAULT_PYTHON "/usr/bin/python3"

/* The interpreter for image (NULL: none) into buf. 0, or -1 with err (a
 * malformed runtime.ini, naming the line). */
int pyenv_interpreter(const char *home, const char *image, char *buf, size_t len,
		      struct error *err);
/* Checks conda_text (the environment's condaFile, YAML or JSON) against
 * python; each finding is a line to log(ctx, ...). 0 when nothing is missing,
 * else -1 with err (400 EnvironmentError) naming what is. */
int pyenv_check(const char *python, const char *conda_text, engine_log_fn log, void *ctx,
		struct error *err);

#endif
