/*
 * cli_endpoint.h: what other verbs need from `endpoint` (cli_endpoint.c):
 * changing an endpoint the one way Azure allows, a full PUT.
 */
#ifndef UI_CLI_CLI_ENDPOINT_H
#define UI_CLI_CLI_ENDPOINT_H

#include "ui/cli/cli.h"

/* A PUT body for an endpoint that keeps what current (its GET, or NULL for a
 * new one) says: location, tags, authMode, description, traffic, mirror
 * traffic. Azure's PUT replaces the whole endpoint, so every change of an
 * endpoint (traffic included) is a full PUT of this body. Caller's. */
cJSON *cli_endpoint_body(const cJSON *current);
/* Sets the endpoint's traffic and/or mirrorTraffic maps (NULL: unchanged)
 * with GET + full PUT, followed as a long-running operation (--no-wait
 * honoured). *out is the endpoint after it. 0, or -1 with err. */
int cli_endpoint_set_traffic(struct cli *c, const struct cli_args *a, const char *ep,
			     const cJSON *traffic, const cJSON *mirror, cJSON **out,
			     struct error *err);

#endif
