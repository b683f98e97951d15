/*
 * alerts.h: a failed monitor signal, told to webhooks.
 *
 * Each alert is one JSON body (docs/monitoring.md shows it, and how Slack,
 * Microsoft Teams workflows and Logic Apps take it) POSTed to each URL with
 * Content-Type: application/json, by one delivery thread, in order. An
 * attempt that fails (no connection, a timeout of 10 s, 5xx, 408, 429) is
 * retried after 0.5 s, 1 s, 2 s, 4 s (Retry-After, when the answer gives one,
 * up to 60 s), ALERTS_ATTEMPTS attempts in all; any other 4xx is final. Each
 * outcome is logged (log callback) and counted. At most ALERTS_QUEUE alerts
 * wait; past that the oldest is dropped (counted). Nothing here blocks its
 * caller.
 */
#ifndef RUNTIME_MONITOR_ALERTS_H
#define RUNTIME_MONITOR_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "state/dynbuf.h"

#define ALERTS_ATTEMPTS 5
#define ALERTS_QUEUE 256

struct alerts;

/* log(ctx, line) for each delivery's outcome (from the delivery thread). */
typedef void (*alerts_log_fn)(void *ctx, const char *line);

struct alerts *alerts_new(alerts_log_fn log, void *ctx);
/* Delivers what is queued (without more retries), then stops. NULL is a no-op. */
void alerts_free(struct alerts *a);

/* Queues body (JSON, copied) for every URL. */
void alerts_send(struct alerts *a, const char *const *urls, size_t n, const char *body);

/* mldeck_monitor_webhooks_total{result="delivered"|"failed"|"retried"|"dropped"}. */
void alerts_prometheus(struct alerts *a, struct dynbuf *b);

#endif
