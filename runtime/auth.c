/* auth.c: constant-time key checks and HS256 tokens (see auth.h). */
#include "runtime/auth.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTH_MAC_LEN 32
#define AUTH_MAC_B64 43 /* base64url characters of a 32-byte MAC */
#define AUTH_PAYLOAD_MAX 300

static const char auth_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/* base64url of {"alg":"HS256","typ":"JWT"}, the only header we issue. */
static const char auth_header[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

int auth_equal(const char *a, const char *b)
{
	size_t la, lb;
	int diff;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	/* Compare the common prefix in full, whatever the lengths: no early exit. */
	diff = CRYPTO_memcmp(a, b, la < lb ? la : lb);
	return (diff == 0) & (la == lb);
}

/* base64url without padding; out must hold 4 * ceil(n / 3) + 1. Returns the
 * length written. */
static size_t auth_b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[o++] = auth_b64[(v >> 18) & 63];
		out[o++] = auth_b64[(v >> 12) & 63];
		if (left > 1)
			out[o++] = auth_b64[(v >> 6) & 63];
		if (left > 2)
			out[o++] = auth_b64[v & 63];
	}
	out[o] = '\0';
	return o;
}

static int auth_b64_value(char c)
{
	const char *p = c ? strchr(auth_b64, c) : NULL;

	return p ? (int)(p - auth_b64) : -1;
}

/* Decodes n base64url characters into out (room for outmax bytes). Returns
 * the byte count, or -1 on a bad character, length or overflow. */
static long auth_b64_decode(const char *in, size_t n, unsigned char *out, size_t outmax)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = auth_b64_value(in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outmax)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)o;
}

int auth_random_key(char *buf, size_t len)
{
	unsigned char raw[AUTH_KEY_BYTES];

	if (buf == NULL || len < AUTH_KEY_LEN)
		return -1;
	if (RAND_bytes(raw, sizeof raw) != 1)
		return -1;
	auth_b64_encode(raw, sizeof raw, buf);
	OPENSSL_cleanse(raw, sizeof raw);
	return 0;
}

/* base64url(HMAC-SHA256(secret, msg[0..n))) into out (AUTH_MAC_B64 + 1). */
static int auth_mac(const unsigned char *secret, size_t secret_len, const char *msg, size_t n,
		    char *out)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	if (HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)msg, n, mac,
		 &mac_len) == NULL ||
	    mac_len != AUTH_MAC_LEN)
		return -1;
	auth_b64_encode(mac, mac_len, out);
	return 0;
}

static char *auth_payload_json(const struct auth_audience *aud, int64_t now, int64_t exp)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;

	if (o != NULL && cJSON_AddStringToObject(o, "aud", aud->endpoint) != NULL &&
	    cJSON_AddStringToObject(o, "uid", aud->uid ? aud->uid : "") != NULL &&
	    cJSON_AddNumberToObject(o, "gen", aud->generation) != NULL &&
	    cJSON_AddNumberToObject(o, "iat", (double)now) != NULL &&
	    cJSON_AddNumberToObject(o, "exp", (double)exp) != NULL)
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

int auth_token_issue(const unsigned char *secret, size_t secret_len,
		     const struct auth_audience *aud, int64_t now, int ttl_s, char *buf,
		     size_t buflen, struct error *err)
{
	char payload[AUTH_PAYLOAD_MAX * 4 / 3 + 8], mac[AUTH_MAC_B64 + 1];
	char *json;
	size_t jlen, hlen = sizeof auth_header - 1, plen;

	if (secret == NULL || secret_len < AUTH_SECRET_MIN || aud == NULL || aud->endpoint == NULL)
		return error_set(err, 500, "InternalError", "token secret missing or too short");
	json = auth_payload_json(aud, now, now + (ttl_s > 0 ? ttl_s : AUTH_TOKEN_TTL));
	if (json == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	jlen = strlen(json);
	if (jlen > AUTH_PAYLOAD_MAX) {
		free(json);
		return error_set(err, 500, "InternalError", "token payload too long");
	}
	plen = auth_b64_encode((const unsigned char *)json, jlen, payload);
	free(json);
	if (buf == NULL || hlen + 1 + plen + 1 + AUTH_MAC_B64 + 1 > buflen)
		return error_set(err, 500, "InternalError", "token buffer too small");
	memcpy(buf, auth_header, hlen);
	buf[hlen] = '.';
	memcpy(buf + hlen + 1, payload, plen + 1);
	if (auth_mac(secret, secret_len, buf, hlen + 1 + plen, mac) != 0)
		return error_set(err, 500, "InternalError", "HMAC failed");
	buf[hlen + 1 + plen] = '.';
	memcpy(buf + hlen + 1 + plen + 1, mac, AUTH_MAC_B64 + 1);
	return 0;
}

/* The claims of a token whose layout is right (signature not checked). */
struct auth_claims {
	char aud[AUTH_PAYLOAD_MAX];
	char uid[AUTH_PAYLOAD_MAX];
	double gen;
	double exp;
};

/* Splits token into its three parts: sets *dot1 and *dot2. 0 or -1. */
static int auth_split(const char *token, const char **dot1, const char **dot2)
{
	size_t n;

	if (token == NULL)
		return -1;
	n = strnlen(token, AUTH_TOKEN_MAX);
	if (n >= AUTH_TOKEN_MAX)
		return -1;
	*dot1 = strchr(token, '.');
	*dot2 = *dot1 ? strchr(*dot1 + 1, '.') : NULL;
	if (*dot2 == NULL || strchr(*dot2 + 1, '.') != NULL)
		return -1;
	return 0;
}

static int auth_claims_parse(const char *p, size_t n, struct auth_claims *c)
{
	unsigned char raw[AUTH_PAYLOAD_MAX + 1];
	long len = auth_b64_decode(p, n, raw, AUTH_PAYLOAD_MAX);
	cJSON *o, *aud, *uid, *gen, *exp;
	int rc = -1;

	if (len < 0)
		return -1;
	raw[len] = '\0';
	o = cJSON_Parse((const char *)raw);
	aud = cJSON_GetObjectItemCaseSensitive(o, "aud");
	uid = cJSON_GetObjectItemCaseSensitive(o, "uid");
	gen = cJSON_GetObjectItemCaseSensitive(o, "gen");
	exp = cJSON_GetObjectItemCaseSensitive(o, "exp");
	if (cJSON_IsString(aud) && cJSON_IsNumber(gen) && cJSON_IsNumber(exp) &&
	    isfinite(gen->valuedouble) && isfinite(exp->valuedouble)) {
		snprintf(c->aud, sizeof c->aud, "%s", aud->valuestring);
		/* tokens issued before uids existed carry none: they match "" only */
		snprintf(c->uid, sizeof c->uid, "%s", cJSON_IsString(uid) ? uid->valuestring : "");
		c->gen = gen->valuedouble;
		c->exp = exp->valuedouble;
		rc = 0;
	}
	cJSON_Delete(o);
	return rc;
}

static int auth_fail(struct error *err, const char *reason)
{
	return error_set(err, 401, "Unauthorized", "%s", reason);
}

int auth_token_verify(const unsigned char *secret, size_t secret_len, const char *token,
		      const struct auth_audience *aud, int64_t now, struct error *err)
{
	const char *dot1, *dot2;
	char mac[AUTH_MAC_B64 + 1];
	struct auth_claims c;

	if (secret == NULL || secret_len < AUTH_SECRET_MIN)
		return error_set(err, 500, "InternalError", "token secret missing or too short");
	if (auth_split(token, &dot1, &dot2) != 0)
		return auth_fail(err, "malformed token");
	if (auth_mac(secret, secret_len, token, (size_t)(dot2 - token), mac) != 0)
		return error_set(err, 500, "InternalError", "HMAC failed");
	if (!auth_equal(mac, dot2 + 1))
		return auth_fail(err, "bad signature");
	/* Signed by us, so the layout is ours; still parse defensively. */
	if (auth_claims_parse(dot1 + 1, (size_t)(dot2 - dot1 - 1), &c) != 0)
		return auth_fail(err, "malformed token");
	if (aud == NULL || aud->endpoint == NULL || strcmp(c.aud, aud->endpoint) != 0 ||
	    !auth_equal(c.uid, aud->uid ? aud->uid : ""))
		return auth_fail(err, "token is for another endpoint");
	if (c.gen != (double)aud->generation)
		return auth_fail(err, "token was revoked (keys regenerated or auth mode changed)");
	if (c.exp <= (double)now)
		return auth_fail(err, "token expired");
	return 0;
}

int auth_token_expiry(const char *token, int64_t *exp)
{
	const char *dot1, *dot2;
	struct auth_claims c;

	if (auth_split(token, &dot1, &dot2) != 0 ||
	    auth_claims_parse(dot1 + 1, (size_t)(dot2 - dot1 - 1), &c) != 0)
		return -1;
	*exp = (int64_t)c.exp;
	return 0;
}
