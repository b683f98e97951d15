/*
 * identity.h: the managed-identity token endpoint of an Azure ML compute
 * instance, served by the runtime so that azure-identity's
 * DefaultAzureCredential() works unchanged against it: with
 *     MSI_ENDPOINT=https://HOST:PORT/MSI/auth  MSI_SECRET=<admin key>
 * in the environment it asks GET /MSI/auth?api-version=2017-09-01&resource=R
 * with the header "secret: <MSI_SECRET>" and gets
 *     {"access_token": <admin key>, "expires_on": <unix seconds, 24 h on>,
 *      "resource": R, "token_type": "Bearer"}
 * which it then sends as "Authorization: Bearer ..." to the control plane.
 * The secret is the admin key itself, so the endpoint hands out nothing its
 * caller does not already hold; a wrong or missing secret is 401.
 * Thread-safe; no I/O.
 */
#ifndef RUNTIME_IDENTITY_H
#define RUNTIME_IDENTITY_H

#include "runtime/server.h"

struct runtime;

/* Whether a request is for /MSI/auth (case-insensitive, as Azure's). */
int identity_is_path(const struct server_request *rq);
/* The pre-auth hook's part (server_admit_fn): the secret header, no body. */
int identity_admit(struct runtime *rt, const struct server_request *rq,
		   struct server_admission *ad, struct server_response *rs);
/* Answers an admitted request (GET only). */
void identity_handle(struct runtime *rt, const struct server_request *rq,
		     struct server_response *rs);

#endif
