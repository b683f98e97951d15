/*
 * cli_endpoint.h: what other verbs need from `endpoint` (cli_endpoint.c):
 * changing an endpoint's traffic the one way Azure allows, a full PUT
 * (api/azure.h azure_endpoint_body).
 */
#ifndef UI_CLI_CLI_ENDPOINT_H
#define UI_CLI_CLI_ENDPOINT_H

#include "ui/cli/cli.h"

/* Sets the endpoint's traffic and/or mirrorTraffic maps (NULL: unchanged)
 * with GET + full PUT, followed as a long-running operation (--no-wait
 * honoured). *out is the endpoint after it. 0, or -1 with err. */
int cli_endpoint_set_traffic(struct cli *c, const struct cli_args *a, const char *ep,
			     const cJSON *traffic, const cJSON *mirror, cJSON **out,
			     struct error *err);

#endif
