/*
 * retry.h: when and how long to wait before trying an ARM request again.
 * Pure functions; client.c's one request path applies them.
 *
 * Retried (azure-core's policy, narrowed): 429 and 503 for every method
 * (the server says it did not act); 408, 500, 502 and 504, and a connection
 * reset or an empty answer, only for methods that are safe to repeat (GET,
 * HEAD, PUT, DELETE). The wait is the server's Retry-After (seconds or an
 * HTTP date; retry-after-ms and x-ms-retry-after-ms too), else exponential
 * backoff from 0.8 s doubling to RETRY_BACKOFF_MAX_MS with jitter (each wait
 * a random 50-100 % of its step, so clients throttled together spread out).
 */
#ifndef API_RETRY_H
#define API_RETRY_H

#include <time.h>

#define RETRY_DEFAULT_MAX 5		 /* retries after the first try */
#define RETRY_BACKOFF_BASE_MS 800L
#define RETRY_BACKOFF_MAX_MS 30000L
#define RETRY_AFTER_MAX_MS 120000L /* a longer Retry-After is not waited for */

/* 1 when the method may be sent twice with the effect of once. */
int retry_idempotent(const char *method);
/* 1 when an answer with HTTP status (0: none came; curl_code says why) is
 * worth another try for this method. */
int retry_should(long status, int curl_code, const char *method);
/* A Retry-After value in ms: "5" (seconds, fractions allowed) or an
 * IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT") relative to now. -1 when
 * absent (NULL) or unreadable; a date in the past is 0. */
long retry_after_ms(const char *value, time_t now);
/* The wait before retry number attempt (1, 2, ...): server_ms when it is
 * >= 0, else the backoff step for attempt scaled by jitter in [0.5, 1]. */
long retry_delay_ms(int attempt, long server_ms, double jitter);

#endif
