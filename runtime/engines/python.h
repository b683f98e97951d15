/*
 * python.h: the custom_model engine, the user's Azure-style score.py run in
 * Python worker processes (protocol: docs/worker-protocol.md).
 *
 * load: spawns cfg->workers processes of `cfg->python -u` running
 *   runtime/worker/mldeck_worker.py (embedded in the binary at build time; the
 *   environment variable MLDECK_WORKER, when set, names a .py file to run
 *   instead), each with AZUREML_MODEL_DIR set (the model artifact's directory,
 *   or its parent directory when it is a file), cfg->env added, cwd = code_dir.
 *   Each worker imports cfg->modules, imports the script and calls init().
 *   Blocks until every worker is ready; on any failure it stops them all and
 *   fails with err: status 500, code "DeploymentFailed", message naming the
 *   reason ("init() raised ValueError: ...", "module X is not importable in
 *   environment: ...", "worker exited with status N during init").
 * score: thread-safe; takes an idle worker (waiting up to timeout_ms, else
 *   408), sends the request and waits up to timeout_ms for the answer:
 *   200 with run()'s JSON-encoded value; 400 body not UTF-8; 408 past the
 *   timeout (the worker is killed and replaced); 424 run() raised, returned
 *   something not JSON-encodable, or the worker died (it is replaced); 500
 *   engine fault (no worker can be started). Error bodies are
 *   {"error":{"code":C,"message":M}}. Always fills *out and returns 0, or -1
 *   only when out cannot be filled (no memory).
 * resize: changes the worker count live (1..PYTHON_MAX_WORKERS). Growing blocks
 *   until the new workers ran init() (-1, code "ScalingFailed", when one fails:
 *   the engine keeps retrying in the background with backoff); shrinking
 *   returns at once and surplus workers stop as soon as they are idle.
 * free: stops and reaps every worker (pipes closed, SIGTERM, SIGKILL after a
 *   short grace), joins its threads. No engine_score may be running.
 *
 * Worker stdout/stderr reach cfg->log line by line as "[worker N stdout] ..."
 * from a reader thread per worker; engine events as "[engine] ...".
 * The caller should ignore SIGPIPE process-wide (writes handle EPIPE anyway)
 * and must not set SIGCHLD to SIG_IGN: workers are reaped with waitpid.
 * Workers run in their own process group; a killed worker takes its children.
 */
#ifndef RUNTIME_ENGINES_PYTHON_H
#define RUNTIME_ENGINES_PYTHON_H

#include "runtime/engines/engine.h"

#define PYTHON_MAX_WORKERS 256

extern const struct engine_ops python_engine_ops;

#endif
