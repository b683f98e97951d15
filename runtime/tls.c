/* tls.c: loading or generating the runtime's certificate (see tls.h). */
#include "runtime/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "state/file.h"
#include "state/store.h"

#define PEM_MAX (64 * 1024)
#define VALID_DAYS 3650
#define SAN_MAX 4096

void tls_identity_cleanup(struct tls_identity *t)
{
	if (t->key_pem != NULL)
		OPENSSL_cleanse(t->key_pem, strlen(t->key_pem));
	free(t->key_pem);
	free(t->cert_pem);
	t->key_pem = NULL;
	t->cert_pem = NULL;
}

static int read_pem(const char *path, const char *what, char **out, struct error *err)
{
	size_t n;

	*out = file_read(path, PEM_MAX, &n);
	if (*out == NULL)
		return error_set(err, 400, "TlsError", "cannot read the TLS %s %s: %s", what, path,
				 strerror(errno));
	if (strstr(*out, "-----BEGIN ") == NULL)
		return error_set(err, 400, "TlsError", "the TLS %s %s is not PEM", what, path);
	return 0;
}

/* Appends ",TYPE:VALUE" to the subjectAltName list when it fits and is new. */
static void san_add(char *san, const char *type, const char *value)
{
	char item[300];
	size_t n = strlen(san);

	if (value[0] == '\0' || strlen(value) > 253 || strpbrk(value, ", \t") != NULL)
		return;
	snprintf(item, sizeof item, "%s:%s", type, value);
	if (strstr(san, item) != NULL || n + strlen(item) + 2 >= SAN_MAX)
		return;
	snprintf(san + n, SAN_MAX - n, "%s%s", n ? "," : "", item);
}

static void san_interfaces(char *san)
{
	struct ifaddrs *ifs, *i;
	char addr[INET6_ADDRSTRLEN];

	if (getifaddrs(&ifs) < 0)
		return;
	for (i = ifs; i != NULL; i = i->ifa_next) {
		const void *a = NULL;

		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			a = &((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr;
		else if (i->ifa_addr->sa_family == AF_INET6)
			a = &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr;
		if (a != NULL && inet_ntop(i->ifa_addr->sa_family, a, addr, sizeof addr) != NULL &&
		    strchr(addr, '%') == NULL)
			san_add(san, "IP", addr);
	}
	freeifaddrs(ifs);
}

/* Every name a client on this machine or the network may use for us. */
static void san_list(const char *host, char *san)
{
	char name[256];
	unsigned char buf[16];

	san[0] = '\0';
	san_add(san, "DNS", "localhost");
	san_add(san, "IP", "127.0.0.1");
	san_add(san, "IP", "::1");
	if (gethostname(name, sizeof name) == 0) {
		name[sizeof name - 1] = '\0';
		san_add(san, "DNS", name);
	}
	if (host == NULL)
		return;
	if (!strcmp(host, "0.0.0.0") || !strcmp(host, "::"))
		san_interfaces(san);
	else if (inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1)
		san_add(san, "IP", host);
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = e != NULL && X509_add_ext(x, e, -1) == 1;

	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

static int set_serial(X509 *x)
{
	unsigned char raw[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(raw, sizeof raw) != 1)
		return -1;
	raw[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(raw, sizeof raw, NULL);
	ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

static int fill_cert(X509 *x, EVP_PKEY *key, const char *san)
{
	X509_NAME *n = X509_get_subject_name(x);
	X509V3_CTX ctx;

	if (X509_set_version(x, 2) != 1 || set_serial(x) < 0 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), (long)VALID_DAYS * 86400) == NULL ||
	    X509_set_pubkey(x, key) != 1 ||
	    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"mldeck", -1,
				       -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				       (const unsigned char *)"mldeck runtime", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, n) != 1)
		return -1;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
	    add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature,keyCertSign") < 0 ||
	    add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") < 0 ||
	    add_ext(x, &ctx, NID_subject_alt_name, san) < 0)
		return -1;
	return X509_sign(x, key, EVP_sha256()) > 0 ? 0 : -1;
}

/* The PEM text a BIO holds, as a heap string. */
static char *bio_text(BIO *b)
{
	char *data, *out;
	long n = BIO_get_mem_data(b, &data);

	if (n <= 0 || (out = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	return out;
}

static int make_pems(const char *san, struct tls_identity *t)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	int rc = -1;

	if (key != NULL && x != NULL && cb != NULL && kb != NULL && fill_cert(x, key, san) == 0 &&
	    PEM_write_bio_X509(cb, x) == 1 &&
	    PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) == 1) {
		t->cert_pem = bio_text(cb);
		t->key_pem = bio_text(kb);
		rc = t->cert_pem != NULL && t->key_pem != NULL ? 0 : -1;
	}
	BIO_free(cb);
	BIO_free(kb);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

static int generate(struct store *st, const char *host, struct tls_identity *t,
		    struct error *err)
{
	char san[SAN_MAX];

	san_list(host, san);
	if (make_pems(san, t) < 0)
		return error_set(err, 500, "TlsError", "cannot generate a certificate");
	if (store_write_file(st, TLS_KEY_FILE, t->key_pem, strlen(t->key_pem), 0600, err) < 0 ||
	    store_write_file(st, TLS_CERT_FILE, t->cert_pem, strlen(t->cert_pem), 0644, err) < 0)
		return -1;
	t->generated = 1;
	return 0;
}

int tls_identity_load(struct store *st, const char *host, const char *cert_path,
		      const char *key_path, struct tls_identity *out, struct error *err)
{
	char key[PATH_MAX];
	int rc;

	memset(out, 0, sizeof *out);
	if ((cert_path == NULL) != (key_path == NULL))
		return error_set(err, 400, "TlsError", "--tls-cert and --tls-key go together");
	if (cert_path != NULL) {
		snprintf(out->cert_path, sizeof out->cert_path, "%s", cert_path);
		rc = read_pem(cert_path, "certificate", &out->cert_pem, err);
		if (rc == 0)
			rc = read_pem(key_path, "key", &out->key_pem, err);
		goto out;
	}
	if (snprintf(key, sizeof key, "%s/" TLS_KEY_FILE, store_home(st)) >= (int)sizeof key ||
	    snprintf(out->cert_path, sizeof out->cert_path, "%s/" TLS_CERT_FILE,
		     store_home(st)) >= (int)sizeof out->cert_path)
		return error_set(err, 400, "TlsError", "home path too long");
	if (access(out->cert_path, F_OK) < 0 && access(key, F_OK) < 0)
		rc = generate(st, host, out, err);
	else if ((rc = read_pem(out->cert_path, "certificate", &out->cert_pem, err)) == 0)
		rc = read_pem(key, "key", &out->key_pem, err);
out:
	if (rc < 0)
		tls_identity_cleanup(out);
	return rc;
}
