/*
 * azure.h: what the client asks a workspace about itself: its region (GET
 * {workspace}: Azure wants it as an endpoint's location), the parts of its
 * ARM path, and the ARM ids of asset versions (what deployments reference).
 *
 * Threads: those of the client passed in.
 */
#ifndef API_AZURE_H
#define API_AZURE_H

#include <cjson/cJSON.h>
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

/* A PUT body for an endpoint that keeps what current (its GET, or NULL for a
 * new one) says: location, tags, kind, identity type, authMode,
 * description, traffic, mirror traffic, publicNetworkAccess; read-only
 * members are left out. Azure's PATCH takes only tags and identity and its
 * PUT replaces the whole endpoint, so every change of an endpoint (traffic
 * included) is a full PUT of this body, with what changes replaced in it.
 * Caller's. */
cJSON *azure_endpoint_body(const cJSON *current);
/* Replaces member name of obj by a copy of v; v NULL: nothing happens. */
void azure_replace(cJSON *obj, const char *name, const cJSON *v);

#endif
