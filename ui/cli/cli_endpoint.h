/*
 * cli_endpoint.h: what invoke and bench need from an endpoint.
 */
#ifndef UI_CLI_CLI_ENDPOINT_H
#define UI_CLI_CLI_ENDPOINT_H

#include "ui/cli/cli.h"

/* GETs endpoint ep and fetches a data-plane credential for its auth mode
 * (primary key for Key, a token for AMLToken). 0, or -1 with err. */
int cli_endpoint_target(struct cli *c, const char *ep, char *uri, size_t ulen, char *key,
			size_t klen, struct error *err);

#endif
