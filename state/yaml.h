/*
 * yaml.h: YAML text to a cJSON tree (libyaml), for the two YAML documents
 * Azure's clients send or upload: a conda file (properties.condaFile) and an
 * MLflow model's MLmodel. Pure; any thread.
 *
 * Mappings become objects (keys are scalars), sequences arrays, scalars
 * strings, except a plain null, ~ or empty value, which becomes JSON null.
 * Anchors, aliases and multiple documents are refused; depth is capped at 64.
 */
#ifndef STATE_YAML_H
#define STATE_YAML_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "state/error.h"

/* The first document of text (len bytes), or NULL with a 400 naming the line. */
cJSON *yaml_to_json(const char *text, size_t len, struct error *err);

#endif
