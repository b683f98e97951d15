/*
 * auth.h: data-plane credentials: endpoint keys and AMLToken tokens.
 *
 * Keys are compared in constant time. Tokens are JSON Web Tokens (HS256):
 *
 *	base64url({"alg":"HS256","typ":"JWT"}) "." base64url(payload) "." base64url(mac)
 *
 * with payload {"aud": endpoint, "uid": the endpoint's uid, "gen":
 * key_generation, "iat": issued, "exp": expiry} (unix seconds) and mac =
 * HMAC-SHA256(secret, the first two parts). A token is checked without any
 * lookup: the signature, then the endpoint it was issued for (name and uid),
 * then the endpoint's key generation, then the expiry. The uid is random and
 * new each time an endpoint is created, so a token dies with its endpoint even
 * when another is created under the same name; the key generation moves when
 * either key is regenerated or the auth mode changes, which revokes every
 * token issued before.
 *
 * The secret is the runtime's (one per home, kept by the caller); rotating it
 * revokes every token of every endpoint. All functions are thread-safe and
 * keep no state.
 */
#ifndef RUNTIME_AUTH_H
#define RUNTIME_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "state/error.h"

#define AUTH_KEY_BYTES 32   /* random bytes in an endpoint key */
#define AUTH_KEY_LEN 44	    /* buffer for one: 43 base64url characters + NUL */
#define AUTH_TOKEN_MAX 512  /* buffer for one token, NUL included */
#define AUTH_TOKEN_TTL 3600 /* default lifetime, seconds */
#define AUTH_SECRET_MIN 16  /* shortest secret accepted, bytes */

/* 1 when the NUL-terminated strings are equal, else 0. The time taken
 * depends on the lengths only, never on the content; NULL equals nothing. */
int auth_equal(const char *a, const char *b);

/* Writes a new key, 32 bytes from the system's CSPRNG in base64url without
 * padding (43 characters), into buf. 0, or -1 when len < AUTH_KEY_LEN or the
 * generator fails. */
int auth_random_key(char *buf, size_t len);

/* What a token is for: one incarnation of one endpoint, at one key generation. */
struct auth_audience {
	const char *endpoint; /* its name */
	const char *uid;      /* random, made with the endpoint ("" for one made before uids) */
	uint32_t generation;  /* its key generation */
};

/* Writes a token for aud, valid from now for ttl_s seconds (<= 0:
 * AUTH_TOKEN_TTL), into buf. 0, or -1 (500 in err) when the secret is shorter
 * than AUTH_SECRET_MIN, buflen is too small or HMAC fails. */
int auth_token_issue(const unsigned char *secret, size_t secret_len,
		     const struct auth_audience *aud, int64_t now, int ttl_s, char *buf,
		     size_t buflen, struct error *err);

/* 0 when token was issued with this secret for aud and has not expired at
 * now; else -1 with 401 "Unauthorized" in err and one of the reasons
 * "malformed token", "bad signature", "token is for another endpoint" (another
 * name, or an endpoint of that name that was deleted), "token was revoked
 * (keys regenerated or auth mode changed)", "token expired". */
int auth_token_verify(const unsigned char *secret, size_t secret_len, const char *token,
		      const struct auth_audience *aud, int64_t now, struct error *err);

/* The expiry (exp) claim of a token, without checking it: for answering
 * getToken. 0, or -1 when the token is malformed. */
int auth_token_expiry(const char *token, int64_t *exp);

#endif
