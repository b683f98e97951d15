/* app.c: small helpers on the console's state. */
#include "ui/console/app.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void app_message(struct app *a, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->message, sizeof a->message, fmt, ap);
	va_end(ap);
	a->message_error = error;
}

long long app_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long app_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void app_trace(struct app *a, const char *fmt, ...)
{
	va_list ap;

	if (a->trace == NULL)
		return;
	fprintf(a->trace, "event %.3f ", (double)(app_now_us() - a->trace_t0_us) / 1000.0);
	va_start(ap, fmt);
	vfprintf(a->trace, fmt, ap);
	va_end(ap);
	fputc('\n', a->trace);
	fflush(a->trace);
}

void app_copy(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	if (n == 0)
		return;
	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = '\0';
}
