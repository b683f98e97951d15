/*
 * tls.h: the runtime's https certificate. `mldeck serve --tls` uses the one in
 * its home, generated on first start (HOME/tls-cert.pem and HOME/tls-key.pem,
 * 0600); --tls-cert and --tls-key name another. Clients trust
 * HOME/tls-cert.pem (REQUESTS_CA_BUNDLE for the Azure SDK, a profile's ca_file
 * for mldeck, which a local profile finds by itself).
 *
 * The generated certificate is self-signed (ECDSA P-256, ten years), marked as
 * its own CA so that it can be trusted as a bundle, for serverAuth, with
 * subjectAltName: localhost, 127.0.0.1, ::1, this host's name, the listen
 * address, and, when listening on every address, each interface's address.
 * Any thread; blocking file I/O.
 */
#ifndef RUNTIME_TLS_H
#define RUNTIME_TLS_H

#include <limits.h>

#include "state/error.h"
#include "state/store.h"

#define TLS_CERT_FILE "tls-cert.pem"
#define TLS_KEY_FILE "tls-key.pem"

struct tls_identity {
	char *cert_pem;            /* heap PEM text, what the server presents */
	char *key_pem;             /* heap PEM text (wiped on cleanup) */
	char cert_path[PATH_MAX];  /* where it came from, for the log and clients */
	int generated;             /* created by this start */
};

/* cert_path and key_path both NULL: the home's pair, created when absent
 * (host: the listen address, to be named in the certificate). Otherwise both
 * must be given and readable. 0, or -1 with err. */
int tls_identity_load(struct store *st, const char *host, const char *cert_path,
		      const char *key_path, struct tls_identity *out, struct error *err);
void tls_identity_cleanup(struct tls_identity *t);

#endif
