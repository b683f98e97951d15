/*
 * records.h: the lines of Azure's data collector files (docs/monitoring.md):
 *
 *   {"specversion":"1.0","id":UUID,"source":".../onlineEndpoints/EP/deployments/D",
 *    "type":"azureml.inference.COLLECTION","datacontenttype":"application/json",
 *    "time":"2026-11-26T10:00:00Z","data":DATA,"contentrange":"bytes 0-N/N+1",
 *    "correlationid":...,"xrequestid":...,"modelversion":"default",
 *    "collectdatatype":"pandas.core.frame.DataFrame","agent":"mldeck-collector/1"}
 *
 * DATA is the rows, an array of objects, for model data (model_inputs,
 * model_outputs, custom collections); the payload for request and response,
 * whose records also carry "path" and "method" (and "headers" captured, or
 * "statuscode" for a response) instead of collectdatatype. Pure: no I/O, any
 * thread.
 */
#ifndef RUNTIME_MONITOR_RECORDS_H
#define RUNTIME_MONITOR_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/monitor/dataset.h"
#include "state/dynbuf.h"

#define RECORDS_AGENT "mldeck-collector/1" /* the "agent" field: this format's version */

struct records_meta {
	const char *source;      /* ".../onlineEndpoints/EP/deployments/D" */
	const char *collection;
	int64_t time;            /* UTC seconds */
	const char *id;          /* the record's uuid */
	const char *correlation; /* correlationid */
	const char *request_id;  /* xrequestid */
	int payload;             /* request/response logging: path and method, no collectdatatype */
	int status;              /* response: its HTTP status (else 0) */
	const char *headers;     /* request: captured headers as a JSON object, or NULL */
};

/* One row as a JSON object appended to data (with a comma before it unless
 * it is the first): a dataset_row_fn whose ctx is the dynbuf. Cells keep
 * their text: numbers as written, strings re-escaped, objects verbatim. */
int records_row(void *data, const struct cell *cells, size_t n, struct error *err);
/* One record line (newline included) with data[0..len) as DATA. 0, or -1
 * when out past the buffer's cap. */
int records_line(struct dynbuf *out, const struct records_meta *m, const char *data, size_t len);
/* A random version 4 UUID (not for secrets) into buf (37 bytes). */
void records_uuid(char *buf, uint64_t *state);

#endif
