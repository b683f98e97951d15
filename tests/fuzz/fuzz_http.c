/*
 * fuzz_http: the server's strict reading of a request (runtime/httpcheck.c):
 * the one percent-decoder for paths and queries, and the framing check of
 * Host, Content-Length and Transfer-Encoding values. Beyond "no crash": the
 * decoder never grows the text and reports every control byte it leaves; the
 * framing check answers 0, 400 or 501, with a reason when it refuses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/httpcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_unescape(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	size_t n, i, raw;
	int bad = 0;

	if (s == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	raw = strlen(s);
	n = httpcheck_unescape(s, &bad);
	if (n > raw)
		abort();
	for (i = 0; i < n && !bad; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			abort(); /* a control byte got through unreported */
	free(s);
}

/* Lines: 'v' version, 'h' a Host, 'c' a Content-Length, 't' a Transfer-Encoding. */
static void check_head(const uint8_t *data, size_t size)
{
	struct httpcheck_head h;
	char *text = malloc(size + 1), *line, *save = NULL, msg[160];
	int status;

	if (text == NULL)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&h, 0, sizeof h);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == 'v')
			h.version = line + 1;
		else if (line[0] == 'h')
			h.hosts++;
		else if (line[0] == 'c' && h.ncl++ < HTTPCHECK_MAX_VALUES)
			h.cl[h.ncl - 1] = line + 1;
		else if (line[0] == 't' && h.nte++ < HTTPCHECK_MAX_VALUES)
			h.te[h.nte - 1] = line + 1;
	}
	msg[0] = '\0';
	status = httpcheck_head(&h, msg, sizeof msg);
	if (status != 0 && status != 400 && status != 501)
		abort();
	if (status != 0 && msg[0] == '\0')
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_unescape(data, size);
	check_head(data, size);
	return 0;
}
