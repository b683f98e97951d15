/*
 * identity.c: the managed-identity token endpoint (identity.h).
 */
#include "runtime/identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "runtime/auth.h"
#include "runtime/core.h"

#define IDENTITY_TOKEN_SECONDS (24 * 3600)

int identity_is_path(const struct server_request *rq)
{
	return rq->segc == 2 && !strcasecmp(rq->segv[0], "MSI") && !strcasecmp(rq->segv[1], "auth");
}

int identity_admit(struct runtime *rt, const struct server_request *rq,
		   struct server_admission *ad, struct server_response *rs)
{
	const char *secret = server_header(rq, "secret");

	ad->limit = 0; /* a GET: no body */
	if (secret == NULL || !auth_equal(secret, rt->admin_key)) {
		server_reply_errorf(rs, 401, "Unauthorized",
				    "missing or wrong 'secret' header (MSI_SECRET: the admin key, "
				    "admin.key in the runtime's home)");
		return -1;
	}
	return 0;
}

void identity_handle(struct runtime *rt, const struct server_request *rq,
		     struct server_response *rs)
{
	const char *resource = server_query(rq, "resource");
	cJSON *j;

	if (strcmp(rq->method, "GET")) {
		server_reply_errorf(rs, 405, "MethodNotAllowed", "use GET for /MSI/auth");
		server_reply_header(rs, "Allow", "GET");
		return;
	}
	if (resource == NULL || *resource == '\0')
		return server_reply_errorf(rs, 400, "BadRequest",
					   "the 'resource' query argument is required");
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "access_token", rt->admin_key);
	cJSON_AddNumberToObject(j, "expires_on", (double)(time(NULL) + IDENTITY_TOKEN_SECONDS));
	cJSON_AddStringToObject(j, "resource", resource);
	cJSON_AddStringToObject(j, "token_type", "Bearer");
	server_reply_json(rs, 200, cJSON_PrintUnformatted(j));
	cJSON_Delete(j);
}
