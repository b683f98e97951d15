/*
 * fuzz_input: the data plane's input scanner ({"data": [[...]]}) against any
 * bytes a client can send. Checks, beyond "no crash": a parse that succeeds
 * yields a matrix whose shape is consistent and within the limits.
 */
#include <stdint.h>
#include <stdlib.h>

#include "runtime/engines/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	return 0;
}
