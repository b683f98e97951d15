/* client.c: the resource API client over one libcurl easy handle (keep-alive). */
#include "api/client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_API_VERSION "api-version=2024-04-01"
#define CLIENT_MAX_BODY ((size_t)64 << 20) /* answers past this are refused */
#define CLIENT_URL_MAX 4096

struct client {
	CURL *curl;
	char *base_url;
	char *ws_path;
	char *credential;
	char *unix_socket; /* NULL: TCP */
	int dataplane_at_base;
	long timeout_ms;
	char curl_err[CURL_ERROR_SIZE];
	atomic_int cancelled;	   /* client_cancel was called */
	pthread_mutex_t sock_lock; /* sock against close during client_cancel */
	curl_socket_t sock;	   /* the open connection, or CURL_SOCKET_BAD */
};

/* A growing answer buffer with a cap. */
struct client_buf {
	char *data;
	size_t len;
	size_t cap;
	int overflow;
};

/* The value of azureml-model-deployment, captured from the header callback. */
struct client_hdr {
	char *chosen;
	size_t chosen_len;
};

static char *client_strdup(const char *s)
{
	size_t n = strlen(s != NULL ? s : "");
	char *d = malloc(n + 1);

	if (d != NULL)
		memcpy(d, s != NULL ? s : "", n + 1);
	return d;
}

struct client *client_new(const struct client_config *cfg)
{
	struct client *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->curl = curl_easy_init();
	c->base_url = client_strdup(cfg->base_url);
	c->ws_path = client_strdup(cfg->ws_path);
	c->credential = client_strdup(cfg->credential);
	c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
	c->sock = CURL_SOCKET_BAD;
	pthread_mutex_init(&c->sock_lock, NULL);
	c->dataplane_at_base = cfg->dataplane_at_base;
	int via_socket = cfg->unix_socket != NULL && cfg->unix_socket[0] != '\0';
	c->unix_socket = via_socket ? client_strdup(cfg->unix_socket) : NULL;
	if (c->curl == NULL || c->base_url == NULL || c->ws_path == NULL || c->credential == NULL ||
	    (via_socket && c->unix_socket == NULL)) {
		client_free(c);
		return NULL;
	}
	/* Trailing slashes would double up with the paths we append. */
	for (size_t n = strlen(c->base_url); n > 0 && c->base_url[n - 1] == '/'; n--)
		c->base_url[n - 1] = '\0';
	return c;
}

void client_free(struct client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	pthread_mutex_destroy(&c->sock_lock);
	free(c->base_url);
	free(c->ws_path);
	free(c->unix_socket);
	if (c->credential != NULL) {
		memset(c->credential, 0, strlen(c->credential));
		free(c->credential);
	}
	free(c);
}

const char *client_base_url(const struct client *c)
{
	return c->base_url;
}

const char *client_unix_socket(const struct client *c)
{
	return c->unix_socket;
}

int client_scoring_url(const struct client *c, const char *ep, const char *scoring_uri, char *buf,
		       size_t len, struct error *err)
{
	char *e = NULL;
	int n;

	if (!c->dataplane_at_base) {
		if (scoring_uri == NULL || scoring_uri[0] == '\0')
			return error_set(err, 409, "NoScoringUri",
					 "endpoint %s has no scoringUri yet", ep);
		n = snprintf(buf, len, "%s", scoring_uri);
	} else {
		if ((e = curl_easy_escape(c->curl, ep, 0)) == NULL)
			return error_set(err, 500, "NoMemory", "out of memory");
		n = snprintf(buf, len, "%s/endpoints/%s/score", c->base_url, e);
		curl_free(e);
	}
	if (n < 0 || (size_t)n >= len)
		return error_set(err, 400, "UrlTooLong", "the scoring URL of %s is too long", ep);
	return 0;
}

static size_t client_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct client_buf *b = userdata;
	size_t n = size * nmemb;

	if (b->len + n > CLIENT_MAX_BODY) {
		b->overflow = 1;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (d == NULL)
			return 0;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static size_t client_header_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct client_hdr *h = userdata;
	size_t n = size * nmemb;
	static const char name[] = "azureml-model-deployment:";
	size_t nl = sizeof name - 1;

	if (h->chosen == NULL || h->chosen_len == 0 || n <= nl || strncasecmp(ptr, name, nl) != 0)
		return n;
	const char *v = ptr + nl;
	size_t vl = n - nl;
	while (vl > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
		vl--;
	if (vl >= h->chosen_len)
		vl = h->chosen_len - 1;
	memcpy(h->chosen, v, vl);
	h->chosen[vl] = '\0';
	return n;
}

/* The connection's socket is recorded so that client_cancel can shut it down. */
static curl_socket_t client_open_cb(void *userdata, curlsocktype purpose,
				    struct curl_sockaddr *addr)
{
	struct client *c = userdata;
	curl_socket_t s;

	(void)purpose;
	if (atomic_load(&c->cancelled))
		return CURL_SOCKET_BAD;
	s = socket(addr->family, addr->socktype, addr->protocol);
	pthread_mutex_lock(&c->sock_lock);
	c->sock = s;
	pthread_mutex_unlock(&c->sock_lock);
	return s;
}

static int client_close_cb(void *userdata, curl_socket_t s)
{
	struct client *c = userdata;

	pthread_mutex_lock(&c->sock_lock);
	if (c->sock == s)
		c->sock = CURL_SOCKET_BAD;
	pthread_mutex_unlock(&c->sock_lock);
	return close(s);
}

/* Ends a transfer still connecting when cancelled (called about once a second). */
static int client_progress_cb(void *userdata, curl_off_t dt, curl_off_t dn, curl_off_t ut,
			      curl_off_t un)
{
	struct client *c = userdata;

	(void)dt, (void)dn, (void)ut, (void)un;
	return atomic_load(&c->cancelled);
}

void client_cancel(struct client *c)
{
	atomic_store(&c->cancelled, 1);
	pthread_mutex_lock(&c->sock_lock);
	if (c->sock != CURL_SOCKET_BAD)
		shutdown(c->sock, SHUT_RDWR);
	pthread_mutex_unlock(&c->sock_lock);
}

/* Resets the shared handle to the options common to every request. */
static void client_prepare(struct client *c, const char *url, struct client_buf *b)
{
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_write_cb);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "mldeck");
	curl_easy_setopt(c->curl, CURLOPT_OPENSOCKETFUNCTION, client_open_cb);
	curl_easy_setopt(c->curl, CURLOPT_OPENSOCKETDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_CLOSESOCKETFUNCTION, client_close_cb);
	curl_easy_setopt(c->curl, CURLOPT_CLOSESOCKETDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, client_progress_cb);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	if (c->unix_socket != NULL)
		curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, c->unix_socket);
	c->curl_err[0] = '\0';
}

/* Sets the method and body; PUT/PATCH/POST carry a body (possibly empty). */
static void client_set_body(CURL *curl, const char *method, const void *data, size_t len)
{
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (strcmp(method, "POST") != 0)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "DELETE") == 0 && data == NULL)
		return;
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data != NULL ? data : "");
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(data != NULL ? len : 0));
}

static int client_transport_error(struct client *c, CURLcode rc, const char *url,
				  const struct client_buf *b, struct error *err)
{
	if (b->overflow)
		return error_set(err, 0, "ResponseTooLarge", "answer from %s is over %zu MiB", url,
				 CLIENT_MAX_BODY >> 20);
	if (atomic_load(&c->cancelled))
		return error_set(err, 0, "Cancelled", "cancelled: %s", url);
	if (c->unix_socket != NULL)
		return error_set(err, 0, "Unreachable",
				 "cannot reach the runtime through the ssh tunnel (%s): %s",
				 c->unix_socket, c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc));
	return error_set(err, 0, "Unreachable", "cannot reach %s: %s", url,
			 c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc));
}

/* Turns a non-2xx answer into err, preferring the server's {"error":{...}}. */
static int client_http_error(long status, const char *url, const struct client_buf *b,
			     struct error *err)
{
	cJSON *doc = b->data != NULL ? cJSON_ParseWithLength(b->data, b->len) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");

	if (cJSON_IsString(msg)) {
		error_set(err, (int)status, cJSON_IsString(code) ? code->valuestring : "Error",
			  "%s", msg->valuestring);
	} else {
		int n = b->len > 200 ? 200 : (int)b->len;
		error_set(err, (int)status, "HttpError", "HTTP %ld from %s: %.*s", status, url, n,
			  b->data != NULL ? b->data : "");
	}
	cJSON_Delete(doc);
	return -1;
}

/* Builds base + ws + path + api-version. */
static int client_url(const struct client *c, const char *path, char *url, size_t len,
		      struct error *err)
{
	int n = snprintf(url, len, "%s%s%s%c%s", c->base_url, c->ws_path, path,
			 strchr(path, '?') != NULL ? '&' : '?', CLIENT_API_VERSION);
	if (n < 0 || (size_t)n >= len)
		return error_set(err, 400, "UrlTooLong", "request URL is too long");
	return 0;
}

/* The upload file name rides in the path's `filename=` query and is also sent
 * as x-mldeck-filename, so either runtime convention works. */
static struct curl_slist *client_filename_header(struct curl_slist *h, const char *path)
{
	const char *q = strchr(path, '?');
	const char *f = q != NULL ? strstr(q, "filename=") : NULL;
	char line[320];

	if (f == NULL)
		return h;
	f += strlen("filename=");
	size_t n = strcspn(f, "&");
	char *raw = curl_easy_unescape(NULL, f, (int)n, NULL);
	if (raw == NULL)
		return h;
	snprintf(line, sizeof line, "x-mldeck-filename: %s", raw);
	curl_free(raw);
	return curl_slist_append(h, line);
}

static struct curl_slist *client_headers(const struct client *c, const char *content_type,
					 const char *path)
{
	char auth[4200], ctype[128];
	struct curl_slist *h = NULL;

	snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->credential);
	snprintf(ctype, sizeof ctype, "Content-Type: %s", content_type);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, ctype);
	h = curl_slist_append(h, "Accept: application/json");
	h = curl_slist_append(h, "Expect:");
	memset(auth, 0, sizeof auth);
	return client_filename_header(h, path);
}

/* Parses a 2xx body into *out (NULL when empty). */
static int client_parse_ok(const char *url, const struct client_buf *b, cJSON **out,
			   struct error *err)
{
	if (out == NULL)
		return 0;
	*out = NULL;
	if (b->len == 0)
		return 0;
	*out = cJSON_ParseWithLength(b->data, b->len);
	if (*out == NULL)
		return error_set(err, 502, "BadResponse", "answer from %s is not JSON", url);
	return 0;
}

int client_call_raw(struct client *c, const char *method, const char *path, const void *data,
		    size_t len, const char *content_type, cJSON **out, struct error *err)
{
	char url[CLIENT_URL_MAX];
	struct client_buf b = {0};
	long status = 0;
	int rc = -1;

	if (out != NULL)
		*out = NULL;
	if (client_url(c, path, url, sizeof url, err) < 0)
		return -1;
	client_prepare(c, url, &b);
	struct curl_slist *h = client_headers(c, content_type, path);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	client_set_body(c->curl, method, data, len);
	CURLcode cr = curl_easy_perform(c->curl);
	if (cr != CURLE_OK) {
		client_transport_error(c, cr, url, &b, err);
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		client_http_error(status, url, &b, err);
		goto out;
	}
	rc = client_parse_ok(url, &b, out, err);
out:
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	free(b.data);
	return rc;
}

int client_call(struct client *c, const char *method, const char *path, const cJSON *body,
		cJSON **out, struct error *err)
{
	char *text = NULL;
	int rc;

	if (body != NULL) {
		text = cJSON_PrintUnformatted(body);
		if (text == NULL)
			return error_set(err, 500, "NoMemory", "cannot encode the request body");
	}
	rc = client_call_raw(c, method, path, text, text != NULL ? strlen(text) : 0,
			     "application/json", out, err);
	free(text);
	return rc;
}

int client_get_text(struct client *c, const char *path, char **out, size_t *len, struct error *err)
{
	char url[CLIENT_URL_MAX];
	struct client_buf b = {0};
	long status = 0;
	struct curl_slist *h = client_headers(c, "application/json", "");

	*out = NULL;
	snprintf(url, sizeof url, "%s%s", c->base_url, path);
	client_prepare(c, url, &b);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	CURLcode cr = curl_easy_perform(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	if (cr != CURLE_OK) {
		client_transport_error(c, cr, url, &b, err);
		free(b.data);
		return -1;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		client_http_error(status, url, &b, err);
		free(b.data);
		return -1;
	}
	*out = b.data != NULL ? b.data : client_strdup("");
	if (len != NULL)
		*len = b.len;
	return *out != NULL ? 0 : error_set(err, 500, "NoMemory", "out of memory");
}

static struct curl_slist *client_score_headers(const char *key, const char *deployment)
{
	char line[4200];
	struct curl_slist *h = NULL;

	snprintf(line, sizeof line, "Authorization: Bearer %s", key != NULL ? key : "");
	h = curl_slist_append(h, line);
	memset(line, 0, sizeof line);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	if (deployment != NULL && deployment[0] != '\0') {
		snprintf(line, sizeof line, "azureml-model-deployment: %s", deployment);
		h = curl_slist_append(h, line);
	}
	return h;
}

static double client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int client_score(struct client *c, const char *scoring_uri, const char *key, const char *deployment,
		 const char *body, size_t len, int *status, char **out, size_t *out_len,
		 char *chosen, size_t chosen_len, double *latency_ms, struct error *err)
{
	struct client_buf b = {0};
	struct client_hdr hd = {chosen, chosen_len};
	long st = 0;

	if (chosen != NULL && chosen_len > 0)
		chosen[0] = '\0';
	*out = NULL;
	client_prepare(c, scoring_uri, &b);
	struct curl_slist *h = client_score_headers(key, deployment);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, client_header_cb);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &hd);
	client_set_body(c->curl, "POST", body, len);
	double t0 = client_now_ms();
	CURLcode cr = curl_easy_perform(c->curl);
	if (latency_ms != NULL)
		*latency_ms = client_now_ms() - t0;
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	if (cr != CURLE_OK) {
		client_transport_error(c, cr, scoring_uri, &b, err);
		free(b.data);
		return -1;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &st);
	*status = (int)st;
	*out = b.data != NULL ? b.data : client_strdup("");
	if (out_len != NULL)
		*out_len = b.len;
	return *out != NULL ? 0 : error_set(err, 500, "NoMemory", "out of memory");
}
