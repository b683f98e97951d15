/* records.c: Azure data collector records (records.h). */
#include "runtime/monitor/records.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>


/* s as a JSON string at o (room for 6 n + 2 bytes); the bytes written. */
static size_t json_string(char *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *start = o;

	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char)c;
		} else if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else {
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			o += 6;
		}
	}
	*o++ = '"';
	return (size_t)(o - start);
}

/* One pass to size the row, one to write it: the writer thread turns every
 * collected value into text here. */
int records_row(void *ctx, const struct cell *cells, size_t n, struct error *err)
{
	struct dynbuf *b = ctx;
	size_t need = 3, len;
	const char *lit;
	char *o;

	for (size_t i = 0; i < n; i++) {
		const struct cell *c = &cells[i];
		need += 6 * c->klen + 4 +
			(c->kind == CELL_STRING ? 6 * c->tlen + 2
			 : c->kind == CELL_NULL || c->kind == CELL_BOOL ? 5
									 : c->tlen);
	}
	if (dynbuf_reserve(b, need) < 0)
		return error_set(err, 413, "TooLarge",
				 "the collected rows pass the record's size limit");
	o = b->p + b->len;
	if (b->len > 1)
		*o++ = ',';
	*o++ = '{';
	for (size_t i = 0; i < n; i++) {
		const struct cell *c = &cells[i];
		if (i)
			*o++ = ',';
		o += json_string(o, c->key, c->klen);
		*o++ = ':';
		if (c->kind == CELL_STRING) {
			o += json_string(o, c->text, c->tlen);
			continue;
		}
		if (c->kind == CELL_OTHER) { /* nested JSON, on the record's one line */
			o += dataset_json_squeeze(o, c->text, c->tlen);
			continue;
		}
		lit = c->kind == CELL_NULL ? "null" : c->kind != CELL_BOOL ? c->text
						  : c->num		     ? "true"
									     : "false";
		len = c->kind == CELL_NULL || c->kind == CELL_BOOL ? strlen(lit) : c->tlen;
		memcpy(o, lit, len); /* numbers as written */
		o += len;
	}
	*o++ = '}';
	*o = '\0';
	b->len = (size_t)(o - b->p);
	return 0;
}

/* The record's time as text; the last second's is kept (one writer thread
 * formats thousands of records a second). */
static const char *iso_time(int64_t t)
{
	static _Thread_local int64_t last = INT64_MIN;
	static _Thread_local char text[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t != last) {
		gmtime_r(&tt, &tm);
		strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
		last = t;
	}
	return text;
}

/* Decimal n onto b. */
static int add_size(struct dynbuf *b, size_t n)
{
	char d[24];
	int i = (int)sizeof d;

	do {
		d[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	return dynbuf_add(b, d + i, sizeof d - (size_t)i);
}

int records_line(struct dynbuf *out, const struct records_meta *m, const char *data, size_t len)
{
	size_t start = out->len;
	int rc;

	rc = dynbuf_adds(out, "{\"specversion\":\"1.0\",\"id\":\"");
	rc |= dynbuf_adds(out, m->id);
	rc |= dynbuf_adds(out, "\",\"source\":");
	rc |= dynbuf_add_json(out, m->source, strlen(m->source));
	rc |= dynbuf_adds(out, ",\"type\":\"azureml.inference.");
	rc |= dynbuf_adds(out, m->collection);
	rc |= dynbuf_adds(out, "\",\"datacontenttype\":\"application/json\",\"time\":\"");
	rc |= dynbuf_adds(out, iso_time(m->time));
	rc |= dynbuf_adds(out, "\",\"data\":");
	rc |= dynbuf_add(out, data, len);
	rc |= dynbuf_adds(out, ",\"contentrange\":\"bytes 0-");
	rc |= add_size(out, len ? len - 1 : 0);
	rc |= dynbuf_add(out, "/", 1);
	rc |= add_size(out, len);
	rc |= dynbuf_adds(out, "\",\"correlationid\":");
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
	for (int i = 0, o = 0; i < 16; i++) {
		static const char hex[] = "0123456789abcdef";
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[o++] = '-';
		buf[o++] = hex[b[i] >> 4];
		buf[o++] = hex[b[i] & 15];
	}
	buf[36] = '\0';
}
