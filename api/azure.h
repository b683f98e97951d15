/*
 * azure.h: what the client asks a workspace about itself: its region (GET
 * {workspace}: Azure wants it as an endpoint's location), the parts of its
 * ARM path, and the ARM ids of asset versions (what deployments reference).
 *
 * Threads: those of the client passed in.
 */
#ifndef API_AZURE_H
#define API_AZURE_H

#include <stddef.h>

#include "api/client.h"
#include "state/error.h"

struct azure_ws {
	char subscription[128];
	char resource_group[128];
	char workspace[128];
};

/* The workspace's location ("westus2") into buf. When the backend has no
 * workspace resource (404/405: an older mldeck runtime) and fallback is not
 * NULL, fallback. 0, or -1 with err. */
int azure_location(struct client *c, const char *fallback, char *buf, size_t len,
		   struct error *err);
/* The subscription, resource group and workspace of the client's ws_path.
 * -1 when it is not an ARM workspace path. */
int azure_ws_parts(const struct client *c, struct azure_ws *out);
/* ws_path + "/KIND/NAME/versions/VERSION" into buf (KIND: models,
 * environments, codes). -1 when it does not fit. */
int azure_asset_id(const struct client *c, const char *kind, const char *name,
		   const char *version, char *buf, size_t len);

#endif
