/* output.c: prediction arrays and error bodies, formatted in one allocation. */
#include "runtime/engines/output.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/engines/input.h"
#include "runtime/engines/shortest.h"

#define NUMBER_CHARS OUTPUT_NUMBER_MAX /* "-1.2345678901234567e-308" plus a separator */
_Static_assert(OUTPUT_NUMBER_MAX >= SHORTEST_MAX, "a printed number (and its NUL) fits");

/* Writes v at p (room for NUMBER_CHARS): the shortest text that reads back
 * to v, or null when v is not finite; returns the length. */
static size_t put_number(char *p, double v)
{
	size_t n = shortest_double(p, v);

	if (n == 0) {
		memcpy(p, "null", 4);
		n = 4;
	}
	return n;
}

size_t output_row(char *buf, const double *pred, size_t cols)
{
	size_t n = 0;

	if (cols == 1)
		return put_number(buf, pred[0]);
	buf[n++] = '[';
	for (size_t c = 0; c < cols; c++) {
		if (c > 0)
			buf[n++] = ',';
		n += put_number(buf + n, pred[c]);
	}
	buf[n++] = ']';
	return n;
}

static int out_of_memory(struct engine_result *out)
{
	out->status = 500;
	out->body = NULL;
	out->len = 0;
	return -1;
}

int output_predictions(struct engine_result *out, const double *pred, size_t rows, size_t cols,
		       int as_array)
{
	size_t r, c, n = 0;
	int nest = as_array || cols != 1;
	char *p = malloc(rows * (cols * NUMBER_CHARS + 3) + 3);

	if (p == NULL)
		return out_of_memory(out);
	p[n++] = '[';
	for (r = 0; r < rows; r++) {
		if (r > 0)
			p[n++] = ',';
		if (nest)
			p[n++] = '[';
		for (c = 0; c < cols; c++) {
			if (c > 0)
				p[n++] = ',';
			n += put_number(p + n, pred[r * cols + c]);
		}
		if (nest)
			p[n++] = ']';
	}
	p[n++] = ']';
	p[n] = '\0';
	out->status = 200;
	out->body = p;
	out->len = n;
	return 0;
}

/* JSON string escaping into p (room for 6 x strlen(s)); returns the length. */
static size_t put_escaped(char *p, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			p[n++] = '\\';
			p[n++] = (char)ch;
		} else if (ch < 0x20) {
			memcpy(p + n, "\\u00", 4);
			p[n + 4] = hex[ch >> 4];
			p[n + 5] = hex[ch & 15];
			n += 6;
		} else {
			p[n++] = (char)ch;
		}
	}
	return n;
}

int output_error(struct engine_result *out, int status, const char *code, const char *message)
{
	static const char head[] = "{\"error\":{\"code\":\"";
	static const char mid[] = "\",\"message\":\"";
	size_t n = 0;
	char *p = malloc(sizeof head + sizeof mid + 6 * (strlen(code) + strlen(message)) + 8);

	if (p == NULL)
		return out_of_memory(out);
	memcpy(p, head, sizeof head - 1);
	n += sizeof head - 1;
	n += put_escaped(p + n, code);
	memcpy(p + n, mid, sizeof mid - 1);
	n += sizeof mid - 1;
	n += put_escaped(p + n, message);
	memcpy(p + n, "\"}}", 4);
	out->status = status;
	out->body = p;
	out->len = n + 3;
	return 0;
}

int output_from_error(struct engine_result *out, const struct error *err)
{
	return output_error(out, err->status != 0 ? err->status : 500,
			    err->code[0] != '\0' ? err->code : "InternalError", err->message);
}

int output_run(struct engine_result *out, const struct engine_request *req, int features, int flags,
	       size_t outputs, int as_array, output_predict_fn fn, const void *model)
{
	double small[256], *pred = small;
	struct input_matrix m;
	struct error err;
	int rc;

	input_init(&m);
	error_clear(&err);
	if (input_parse(req->body, req->len, features, flags, &m, &err) != 0) {
		rc = output_from_error(out, &err);
		goto out;
	}
	if (m.rows * outputs > sizeof small / sizeof small[0])
		pred = malloc(m.rows * outputs * sizeof *pred);
	if (pred == NULL)
		rc = out_of_memory(out);
	else if (fn(model, &m, pred, &err) != 0)
		rc = output_from_error(out, &err);
	else
		rc = output_predictions(out, pred, m.rows, outputs, as_array);
	if (pred != small)
		free(pred);
out:
	input_cleanup(&m);
	return rc;
}
