/* records.c: Azure data collector records (records.h). */
#include "runtime/monitor/records.h"

#include <stdio.h>
#include <string.h>
#include <time.h>


int records_row(void *ctx, const struct cell *cells, size_t n, struct error *err)
{
	struct dynbuf *b = ctx;
	size_t start = b->len;
	int rc = dynbuf_adds(b, b->len > 1 ? ",{" : "{");

	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct cell *c = &cells[i];
		rc = (i ? dynbuf_add(b, ",", 1) : 0) | dynbuf_add_json(b, c->key, c->klen) |
		     dynbuf_add(b, ":", 1);
		switch (c->kind) {
		case CELL_NULL: rc |= dynbuf_adds(b, "null"); break;
		case CELL_BOOL: rc |= dynbuf_adds(b, c->num ? "true" : "false"); break;
		case CELL_STRING: rc |= dynbuf_add_json(b, c->text, c->tlen); break;
		default: rc |= dynbuf_add(b, c->text, c->tlen); break; /* numbers, raw JSON */
		}
	}
	if (rc == 0 && dynbuf_add(b, "}", 1) == 0)
		return 0;
	b->len = start;
	return error_set(err, 413, "TooLarge", "the collected rows pass the record's size limit");
}

static void iso_time(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int records_line(struct dynbuf *out, const struct records_meta *m, const char *data, size_t len)
{
	size_t start = out->len;
	char when[32];
	int rc;

	iso_time(when, sizeof when, m->time);
	rc = dynbuf_addf(out, "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":", m->id);
	rc |= dynbuf_add_json(out, m->source, strlen(m->source));
	rc |= dynbuf_addf(out, ",\"type\":\"azureml.inference.%s\",\"datacontenttype\":"
			       "\"application/json\",\"time\":\"%s\",\"data\":",
			  m->collection, when);
	rc |= dynbuf_add(out, data, len);
	rc |= dynbuf_addf(out, ",\"contentrange\":\"bytes 0-%zu/%zu\",\"correlationid\":",
			  len ? len - 1 : 0, len);
	rc |= dynbuf_add_json(out, m->correlation, strlen(m->correlation));
	rc |= dynbuf_adds(out, ",\"xrequestid\":");
	rc |= dynbuf_add_json(out, m->request_id, strlen(m->request_id));
	rc |= dynbuf_adds(out, ",\"modelversion\":\"default\"");
	if (m->payload) {
		rc |= dynbuf_adds(out, ",\"path\":\"/score\",\"method\":\"POST\"");
		if (m->status)
			rc |= dynbuf_addf(out, ",\"statuscode\":%d", m->status);
		if (m->headers)
			rc |= dynbuf_addf(out, ",\"headers\":%s", m->headers);
	} else {
		rc |= dynbuf_adds(out, ",\"collectdatatype\":\"pandas.core.frame.DataFrame\"");
	}
	rc |= dynbuf_adds(out, ",\"agent\":\"" RECORDS_AGENT "\"}\n");
	if (rc == 0)
		return 0;
	out->len = start;
	if (out->p)
		out->p[start] = '\0';
	return -1;
}

void records_uuid(char *buf, uint64_t *s)
{
	unsigned char b[16];

	for (int i = 0; i < 16; i++) {
		*s ^= *s << 13;
		*s ^= *s >> 7;
		*s ^= *s << 17;
		b[i] = (unsigned char)(*s >> 24);
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}
