/*
 * datacollector.h: an online deployment's dataCollector, Azure's shape
 * (spec DataCollector, 2024-04-01):
 *
 *   {"collections": {"model_inputs": {"dataCollectionMode": "Enabled",
 *                                     "samplingRate": 1.0, "dataId": "azureml:..."},
 *                    "model_outputs": {...}, "request": {...}, "response": {...}},
 *    "rollingRate": "Hour",
 *    "requestLogging": {"captureHeaders": ["x-ms-client-request-id"]}}
 *
 * Rules: collections is an object (at most DC_COLLECTIONS_MAX); a name is
 * 1-64 letters, digits, '_' or '-' (it becomes a folder); "request" and
 * "response" are payload logging, any other name custom logging (model_inputs
 * and model_outputs are what monitoring reads). dataCollectionMode is Enabled
 * or Disabled (default Disabled, as the spec says), samplingRate a number in
 * [0, 1] (default 1), dataId a string (kept), clientId accepted and ignored.
 * rollingRate is Year, Month, Day, Hour (default) or Minute; captureHeaders
 * holds header names (at most DC_HEADERS_MAX). Names of enums are
 * case-insensitive on input, Azure's spelling on output.
 *
 * Pure: no I/O, any thread; the struct is plain data (no heap), copy it with =.
 */
#ifndef STATE_DATACOLLECTOR_H
#define STATE_DATACOLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "state/error.h"

#define DC_COLLECTIONS_MAX 16
#define DC_NAME_MAX 64
#define DC_DATA_ID_MAX 512
#define DC_HEADERS_MAX 16
#define DC_HEADER_MAX 64

enum dc_rolling { DC_ROLL_YEAR, DC_ROLL_MONTH, DC_ROLL_DAY, DC_ROLL_HOUR, DC_ROLL_MINUTE };

struct dc_collection {
	char name[DC_NAME_MAX + 1];
	int enabled;
	double sampling_rate; /* 0..1 */
	char data_id[DC_DATA_ID_MAX + 1];
};

struct datacollector {
	struct dc_collection items[DC_COLLECTIONS_MAX];
	size_t n;
	enum dc_rolling rolling;
	char headers[DC_HEADERS_MAX][DC_HEADER_MAX + 1];
	size_t nheaders;
};

const char *dc_rolling_name(enum dc_rolling r);
/* A collection name: 1-64 letters, digits, '_' or '-', not starting with '_' or '-'. */
int datacollector_name_ok(const char *s);

/* Parses and checks Azure's JSON. 0, or -1 with a 400 naming the field
 * (properties.dataCollector...). */
int datacollector_from_json(const cJSON *o, struct datacollector *out, struct error *err);
/* The normalized form (every default written out). NULL when out of memory. */
cJSON *datacollector_to_json(const struct datacollector *d);
/* The same from and to the text a deployment stores. */
int datacollector_from_text(const char *text, struct datacollector *out, struct error *err);
char *datacollector_to_text(const struct datacollector *d); /* heap; NULL when out of memory */

/* The collection called name, or NULL. */
const struct dc_collection *datacollector_find(const struct datacollector *d, const char *name);
/* Whether any collection is enabled. */
int datacollector_active(const struct datacollector *d);

/* Registers each enabled collection of deployment d as a data asset, as
 * Azure does: "{endpoint}-{deployment}-{collection}" version "1", a
 * uri_folder at azureml://datastores/workspaceblobstore/paths/
 * modelDataCollector/{endpoint}/{deployment}/{collection}, so a monitor can
 * name it (azureml:NAME:1). An existing asset of that name is kept. Within a
 * workspace change (workspace.h); 0, or -1 with err. */
struct workspace;
struct deployment;
int datacollector_register(struct workspace *ws, const struct deployment *d, struct error *err);

/* The time folders of a file written at UTC second t, as the rolling rate
 * cuts them: "2024/03/05/18" (Hour), "2024/03/05" (Day), ..., and the UTC
 * second the period ends. 0, or -1 when buf is too small. */
int datacollector_period(enum dc_rolling r, int64_t t, char *buf, size_t len, int64_t *end);

#endif
