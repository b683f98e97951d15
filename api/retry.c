/* retry.c: the retry policy of ARM requests (see retry.h). */
#include "api/retry.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int retry_idempotent(const char *method)
{
	static const char *const safe[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"};

	for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++)
		if (strcmp(method, safe[i]) == 0)
			return 1;
	return 0;
}

/* A dropped or empty answer: the request may or may not have been acted on. */
static int retry_transport(int curl_code)
{
	return curl_code == CURLE_SEND_ERROR || curl_code == CURLE_RECV_ERROR ||
	       curl_code == CURLE_GOT_NOTHING || curl_code == CURLE_PARTIAL_FILE ||
	       curl_code == CURLE_HTTP2 || curl_code == CURLE_HTTP2_STREAM;
}

int retry_should(long status, int curl_code, const char *method)
{
	if (status == 429 || status == 503)
		return 1;
	if (!retry_idempotent(method))
		return 0;
	if (status == 0)
		return retry_transport(curl_code);
	return status == 408 || status == 500 || status == 502 || status == 504;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm), so no
 * timezone-dependent mktime is needed for a GMT date. */
static long retry_days(long y, long m, long d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "Wed, 21 Oct 2015 07:28:00 GMT" -> epoch seconds, or -1. Parsed by hand:
 * strptime's %b follows the locale, HTTP's month names do not. */
static long retry_http_date(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char wday[4], mon[4];
	int d, y, h, mi, sec, used = 0;

	if (sscanf(s, "%3s, %d %3s %d %d:%d:%d GMT%n", wday, &d, mon, &y, &h, &mi, &sec, &used) !=
		7 ||
	    used == 0 || s[used] != '\0')
		return -1;
	const char *m = strstr(months, mon);
	if (strlen(mon) != 3 || m == NULL || (m - months) % 3 != 0 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	return retry_days(y, (m - months) / 3 + 1, d) * 86400L + h * 3600L + mi * 60L + sec;
}

long retry_after_ms(const char *value, time_t now)
{
	char *end;

	if (value == NULL)
		return -1;
	while (*value == ' ')
		value++;
	errno = 0;
	double s = strtod(value, &end);
	if (end != value && errno == 0) {
		while (*end == ' ')
			end++;
		if (*end != '\0' || s < 0 || s > 86400.0 * 365)
			return -1;
		return (long)(s * 1000.0);
	}
	long t = retry_http_date(value);
	if (t < 0)
		return -1;
	return t <= (long)now ? 0 : (t - (long)now) * 1000L;
}

long retry_delay_ms(int attempt, long server_ms, double jitter)
{
	long step = RETRY_BACKOFF_BASE_MS;

	if (server_ms >= 0)
		return server_ms;
	for (int i = 1; i < attempt && step < RETRY_BACKOFF_MAX_MS; i++)
		step *= 2;
	if (step > RETRY_BACKOFF_MAX_MS)
		step = RETRY_BACKOFF_MAX_MS;
	if (jitter < 0.5)
		jitter = 0.5;
	if (jitter > 1.0)
		jitter = 1.0;
	return (long)((double)step * jitter);
}
