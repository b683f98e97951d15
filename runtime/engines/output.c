/* output.c: prediction arrays and error bodies, formatted in one allocation. */
#include "runtime/engines/output.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engines/input.h"

#define NUMBER_CHARS OUTPUT_NUMBER_MAX /* "-1.2345678901234567e-308" plus a separator */

/* Writes v at p (room for NUMBER_CHARS); returns the length. */
static size_t put_number(char *p, double v)
{
	double back;
	int n;

	if (!isfinite(v)) {
		memcpy(p, "null", 4);
		return 4;
	}
	for (int prec = 15; prec < 17; prec++) {
		n = snprintf(p, NUMBER_CHARS, "%.*g", prec, v);
		if (input_number(p, (size_t)n, &back) == (size_t)n && back == v)
			return (size_t)n;
	}
	return (size_t)snprintf(p, NUMBER_CHARS, "%.17g", v);
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
	locale_t old;

	if (p == NULL)
		return out_of_memory(out);
	old = uselocale(input_c_locale());
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
	uselocale(old);
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
