/*
 * fuzz_tz: zone files (state/tz.c, TZif with its POSIX footer) against any
 * bytes: refused with a 400, or parsed and then asked about instants from
 * 1900 to 2200 without a crash.
 */
#include <stdint.h>
#include <stdlib.h>

#include "state/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct error err = {0};
	struct tz *z = tz_parse(data, size, &err);

	if (z == NULL) {
		if (err.status != 400 && err.status != 500)
			abort();
		return 0;
	}
	for (int64_t t = -2208988800LL; t < 7258118400LL; t += 86400LL * 97 + 3601) {
		int64_t local = tz_to_local(z, t);

		(void)tz_to_utc(z, local);
	}
	tz_free(z);
	return 0;
}
