/* connect.c: profile + environment -> base URL, workspace path, credential. */
#include "api/connect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONNECT_ZERO_SUB "00000000-0000-0000-0000-000000000000"

/* Copies s without trailing whitespace (key files end in a newline). */
static void connect_copy_trimmed(char *dst, size_t len, const char *s, size_t n)
{
	while (n > 0 &&
	       (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static int connect_read_key(const char *path, struct connect_info *out, struct error *err)
{
	char buf[4096];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return error_set(err, 401, "NoCredential",
				 "cannot read the admin key %s: %s (start the runtime with "
				 "`mldeck serve`, or set MLDECK_ADMIN_KEY)",
				 path, strerror(errno));
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	connect_copy_trimmed(out->credential, sizeof out->credential, buf, n);
	memset(buf, 0, sizeof buf);
	if (out->credential[0] == '\0')
		return error_set(err, 401, "NoCredential", "the admin key file %s is empty", path);
	snprintf(out->key_source, sizeof out->key_source, "%s", path);
	return 0;
}

int connect_find_program(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");

	while (path != NULL && *path != '\0') {
		size_t n = strcspn(path, ":");
		int w = snprintf(buf, len, "%.*s/%s", (int)n, path, name);
		if (n > 0 && w > 0 && (size_t)w < len && access(buf, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	return -1;
}

/* azureml: a credential chain with the profile's TLS and routing. */
static int connect_azure(const struct profile *p, struct connect_info *out, struct error *err)
{
	struct credential_config cc = {out->ca_file, out->connect_to, out->trace, p->tenant};

	out->cred = credential_new(&cc);
	if (out->cred == NULL)
		return error_set(err, 500, "NoMemory", "out of memory");
	snprintf(out->key_source, sizeof out->key_source, "the Azure credential chain");
	return 0;
}

/* MLDECK_ADMIN_KEY into out; 0 when it is not set. */
static int connect_env_key(struct connect_info *out)
{
	const char *k = getenv("MLDECK_ADMIN_KEY");

	if (k == NULL || k[0] == '\0')
		return 0;
	connect_copy_trimmed(out->credential, sizeof out->credential, k, strlen(k));
	snprintf(out->key_source, sizeof out->key_source, "MLDECK_ADMIN_KEY");
	return 1;
}

static int connect_credential(const struct profile *p, struct connect_info *out, struct error *err)
{
	char path[PROFILE_PATH_MAX + 16];

	if (connect_env_key(out))
		return 0;
	if (out->azure)
		return connect_azure(p, out, err);
	if (p->admin_key_file[0] != '\0')
		snprintf(path, sizeof path, "%s", p->admin_key_file);
	else
		snprintf(path, sizeof path, "%s/admin.key", p->home);
	return connect_read_key(path, out, err);
}

/* Which PEM bundle to trust for https (see connect.h). */
static void connect_ca_file(const struct profile *p, struct connect_info *out)
{
	const char *env = getenv("MLDECK_CA_FILE");

	if (env != NULL && env[0] != '\0')
		snprintf(out->ca_file, sizeof out->ca_file, "%s", env);
	else if (p->ca_file[0] != '\0')
		snprintf(out->ca_file, sizeof out->ca_file, "%s", p->ca_file);
	else if (strcmp(p->backend, "local") == 0 && strncmp(out->base_url, "https://", 8) == 0 &&
		 snprintf(out->ca_file, sizeof out->ca_file, "%s/tls-cert.pem", p->home) > 0 &&
		 access(out->ca_file, R_OK) != 0)
		out->ca_file[0] = '\0';
}

const char *connect_url(const struct profile *p)
{
	const char *url = getenv("MLDECK_URL");

	return url != NULL && url[0] != '\0' ? url : p->url;
}

/* Base URL, workspace path and data-plane rule of profile p, reached at url. */
static int connect_base(const struct profile *p, const char *url, struct connect_info *out,
			struct error *err)
{
	FILE *trace = out->trace;
	int n;

	memset(out, 0, sizeof *out);
	out->trace = trace;
	out->azure = strcmp(p->backend, "azureml") == 0;
	snprintf(out->connect_to, sizeof out->connect_to, "%s", p->connect_to);
	snprintf(out->base_url, sizeof out->base_url, "%s", url);
	for (size_t l = strlen(out->base_url); l > 0 && out->base_url[l - 1] == '/'; l--)
		out->base_url[l - 1] = '\0';
	out->dataplane_at_base = strcmp(p->backend, "azureml") != 0;
	n = snprintf(out->ws_path, sizeof out->ws_path,
		     "/subscriptions/%s/resourceGroups/%s/providers/"
		     "Microsoft.MachineLearningServices/workspaces/%s",
		     p->subscription[0] ? p->subscription : CONNECT_ZERO_SUB,
		     p->resource_group[0] ? p->resource_group : "local",
		     p->workspace[0] ? p->workspace : "local");
	if (n < 0 || (size_t)n >= sizeof out->ws_path)
		return error_set(err, 400, "BadConfig", "workspace path is too long");
	connect_ca_file(p, out);
	return 0;
}

int connect_resolve(const struct profile *p, struct connect_info *out, struct error *err)
{
	const char *url = connect_url(p);

	if (profile_url_is_ssh(url))
		return error_set(err, 400, "BadConfig",
				 "%s is reached through its ssh transport (transport_open)", url);
	if (connect_base(p, url, out, err) < 0)
		return -1;
	return connect_credential(p, out, err);
}

int connect_resolve_tunnel(const struct profile *p, const char *sock, const char *key,
			   struct connect_info *out, struct error *err)
{
	if (connect_base(p, "http://localhost", out, err) < 0)
		return -1;
	if (strlen(sock) >= sizeof out->unix_socket)
		return error_set(err, 400, "BadConfig", "socket path %s is too long", sock);
	snprintf(out->unix_socket, sizeof out->unix_socket, "%s", sock);
	if (connect_env_key(out))
		return 0;
	connect_copy_trimmed(out->credential, sizeof out->credential, key, strlen(key));
	snprintf(out->key_source, sizeof out->key_source, "%s", connect_url(p));
	return 0;
}

struct client *connect_info_client(const struct connect_info *info, long timeout_ms,
				   struct error *err)
{
	struct client_config cfg = {
	    .base_url = info->base_url,
	    .ws_path = info->ws_path,
	    .credential = info->credential,
	    .timeout_ms = timeout_ms,
	    .unix_socket = info->unix_socket,
	    .dataplane_at_base = info->dataplane_at_base,
	    .cred = info->credential[0] ? NULL : info->cred,
	    .ca_file = info->ca_file,
	    .connect_to = info->connect_to,
	    .trace = info->trace,
	};
	struct client *c = client_new(&cfg);

	if (c == NULL)
		error_set(err, 500, "NoMemory", "out of memory");
	return c;
}

struct client *connect_client(const struct profile *p, struct connect_info *info, struct error *err)
{
	struct connect_info local;
	struct connect_info *ci = info != NULL ? info : &local;
	struct client *c = NULL;

	if (ci == &local)
		local.trace = NULL;
	if (connect_resolve(p, ci, err) == 0)
		c = connect_info_client(ci, 0, err);
	if (ci == &local)
		connect_info_cleanup(&local);
	return c;
}

int connect_is_loopback(const char *url)
{
	const char *h = strstr(url, "://");
	char host[64];
	struct in_addr a;
	size_t n;

	h = h != NULL ? h + 3 : url;
	if (strncmp(h, "[::1]", 5) == 0)
		return h[5] == '\0' || h[5] == ':' || h[5] == '/';
	n = strcspn(h, ":/");
	if (n == 0 || n >= sizeof host)
		return 0;
	snprintf(host, sizeof host, "%.*s", (int)n, h);
	if (strcmp(host, "localhost") == 0)
		return 1;
	/* 127.0.0.0/8 as a numeric address, not a name that starts with "127." */
	return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

int connect_same_host(const struct client *c)
{
	return client_unix_socket(c) == NULL && connect_is_loopback(client_base_url(c));
}

void connect_info_copy(struct connect_info *dst, const struct connect_info *src)
{
	*dst = *src;
	if (dst->cred != NULL)
		credential_ref(dst->cred);
}

void connect_info_cleanup(struct connect_info *info)
{
	if (info == NULL)
		return;
	memset(info->credential, 0, sizeof info->credential);
	credential_unref(info->cred);
	info->cred = NULL;
}
