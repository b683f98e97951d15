/*
 * scoring.h: an online endpoint's data plane, the one place both faces get it
 * from (the CLI's invoke and bench, the console's test request, bench and demo
 * load): where a scoring request goes and with which credential.
 *
 * The URL goes through the client's own transport (client_scoring_url): an
 * mldeck runtime is scored at the profile's base URL or ssh tunnel, never at
 * the scoringUri it reports about itself; Azure at the endpoint's scoringUri.
 * The credential follows the endpoint's authMode: Key -> listKeys' primaryKey;
 * AMLToken -> token's accessToken, kept (per base URL, workspace and
 * endpoint, for the whole process) until its refreshAfterTimeUtc and fetched
 * again from then; AADToken -> on Azure an Entra ID token for
 * https://ml.azure.com from the client's credential source (the ARM token is
 * not valid on the scoring host), on an mldeck runtime its token.
 *
 * Threads: those of the client passed in (one thread at a time); the token
 * cache is shared and locked.
 */
#ifndef API_SCORING_H
#define API_SCORING_H

#include <stddef.h>

#include "api/client.h"
#include "state/error.h"

struct scoring_target {
	char url[1024];
	char unix_socket[108]; /* "" or the socket url is reached through (loadgen_config) */
	char auth_mode[16];    /* the endpoint's authMode, "Key" when it states none */
	char credential[4096]; /* bearer for the data plane */
	long long refresh_at;  /* epoch s from which to fetch the credential again (0: a key) */
};

/* The data-plane credential of endpoint ep for its auth_mode (NULL: GET the
 * endpoint to learn it) into buf, and when refresh_at is not NULL the epoch
 * second from which it should be fetched again (0 for a key). 0, or -1 with
 * err (the backend's error, or 502 when the answer lacks the key or token). */
int scoring_credential(struct client *c, const char *ep, const char *auth_mode, char *buf,
		       size_t len, long long *refresh_at, struct error *err);
/* Forgets a cached token of ep (the scoring host refused it: 401). */
void scoring_forget(struct client *c, const char *ep);
/* GETs endpoint ep and fills *t: URL, socket, auth mode and credential.
 * 0, or -1 with err. Wipe t with scoring_target_cleanup when done. */
int scoring_target(struct client *c, const char *ep, struct scoring_target *t, struct error *err);
/* A batch endpoint's invocation target (docs/batch.md): its URL through the
 * client's transport (BASE/batch/EP/jobs on an mldeck runtime) and the
 * client's own credential, the admin key (an endpoint key from listkeys may
 * name no input on the runtime's host). On Azure (an Entra token) it refuses
 * with a message. 0, or -1. */
int scoring_batch_target(struct client *c, const char *ep, struct scoring_target *t,
			 struct error *err);
/* Wipes the credential. NULL is a no-op. */
void scoring_target_cleanup(struct scoring_target *t);

#endif
