/*
 * fuzz_input: the data plane's input scanner ({"data": [[...]]}) against any
 * bytes a client can send. Checks, beyond "no crash": a parse that succeeds
 * yields a matrix whose shape is consistent and within the limits; and the
 * number reader (input_number, Eisel-Lemire behind it) agrees bit for bit
 * with strtod on whatever prefix it accepts as a number.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engines/input.h"

#define NUMBER_TEXT_MAX 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* input_number against strtod in the "C" locale on the bytes at data. */
static void check_number(const uint8_t *data, size_t size)
{
	char buf[NUMBER_TEXT_MAX];
	double got, want;
	size_t n = input_number((const char *)data, size, &got);
	locale_t old;

	if (n == 0)
		return;
	if (n >= sizeof buf || n > size)
		abort();
	memcpy(buf, data, n);
	buf[n] = '\0';
	old = uselocale(input_c_locale());
	want = strtod(buf, NULL);
	uselocale(old);
	if (memcmp(&got, &want, sizeof got) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input_matrix m;
	struct error err;
	int flags = size > 0 && (data[0] & 1) ? INPUT_ALLOW_NULL : 0;

	input_init(&m);
	if (input_parse((const char *)data, size, 0, flags, &m, &err) == 0) {
		if (m.rows == 0 || m.rows > INPUT_MAX_ROWS || m.cols > INPUT_MAX_COLS ||
		    m.rows * m.cols > m.cap)
			abort();
	} else if (err.status != 400 || err.message[0] == '\0') {
		abort();
	}
	input_cleanup(&m);
	check_number(data, size);
	if (size > 1)
		check_number(data + 1, size - 1);
	return 0;
}
