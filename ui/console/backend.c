/* backend.c: the console's connection to a profile's backend. */
#include "ui/console/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/transport.h"
#include "runtime/runtime.h"
#include "state/store.h"
#include "ui/console/actions.h"
#include "ui/console/bench.h"
#include "ui/console/demo.h"
#include "ui/console/data.h"
#include "ui/console/fetch.h"
#include "ui/console/ops.h"
#include "ui/console/screen.h"

/* "http://127.0.0.1:5800/x" -> "127.0.0.1:5800" ("localhost" -> 127.0.0.1). */
static void listen_of(const char *url, char *buf, size_t len)
{
	const char *h = strstr(url, "://");
	size_t n;

	h = h ? h + 3 : url;
	n = strcspn(h, "/");
	if (strncmp(h, "localhost", 9) == 0)
		snprintf(buf, len, "127.0.0.1%.*s", (int)(n - 9), h + 9);
	else
		snprintf(buf, len, "%.*s", (int)n, h);
	if (strchr(buf, ':') == NULL && strlen(buf) + 6 < len)
		memcpy(buf + strlen(buf), ":80", 4);
}

static void mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];

	app_copy(tmp, sizeof tmp, dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(tmp, 0700);
		*p = '/';
	}
	mkdir(tmp, 0700);
}

/* Starts the runtime in-process for a local profile whose URL is free. */
static int start_embedded(struct app *a, const char *url)
{
	char listen[256], home[PATH_MAX], logs[PATH_MAX + 32];
	struct runtime_options o = {0};
	struct error err = {0};

	listen_of(url, listen, sizeof listen);
	if (a->prof.home[0])
		app_copy(home, sizeof home, a->prof.home);
	else if (store_default_home(home, sizeof home) < 0)
		return -1;
	snprintf(logs, sizeof logs, "%s/logs", home);
	mkdir_p(logs);
	snprintf(logs, sizeof logs, "%s/logs/runtime.log", home);
	o.listen = listen;
	o.home = home;
	o.workspace = a->prof.workspace[0] ? a->prof.workspace : NULL;
	o.log_path = logs;
	app_copy(a->log_path, sizeof a->log_path, logs);
	a->rt = runtime_start(&o, &err);
	if (a->rt == NULL) {
		snprintf(a->state, sizeof a->state, "runtime failed");
		app_message(a, 1, "embedded runtime: %s", err.message);
		return -1;
	}
	return 0;
}

void backend_disconnect(struct app *a)
{
	ops_clear(a);
	bench_stop(a);
	demo_load_stop(a->demo);
	a->demo = NULL;
	fetch_free(a->fetch);
	a->fetch = NULL;
	transport_close(a->transport);
	a->transport = NULL;
	a->tunnel_generation = 0;
	runtime_stop(a->rt);
	a->rt = NULL;
	connect_info_cleanup(&a->info);
	live_free(&a->live);
}

/* Nothing listens at listen ("127.0.0.1:5800"): a connection is refused. A
 * listener that does not answer is someone else's (a tunnel, a stopped
 * runtime): it is waited for, never replaced. */
static int port_free(const char *listen)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	int fd, rc = 0;

	if (colon == NULL)
		return 0;
	snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return 0;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		rc = connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno == ECONNREFUSED;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

/* Only a profile that allows it (the built-in local, or embedded = true)
 * starts the runtime in-process, on its own URL (not MLDECK_URL's), on this
 * machine, and only where nothing listens. */
static int embedded_wanted(const struct profile *p)
{
	char listen[256];

	if (!p->embedded || strcmp(p->backend, "local") != 0 ||
	    strcmp(connect_url(p), p->url) != 0 || !connect_is_loopback(p->url))
		return 0;
	listen_of(p->url, listen, sizeof listen);
	return port_free(listen);
}

/* The transport's supervisor thread: a byte in the pipe wakes the loop. */
static void backend_notify(void *ctx, const struct transport_status *st)
{
	int *wake = ctx;

	(void)st;
	if (write(wake[1], "", 1) < 0) {
		/* full: the loop is already due to wake */
	}
}

static int backend_wake_open(struct app *a)
{
	if (pipe(a->wake) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(a->wake[i], F_SETFD, FD_CLOEXEC);
		fcntl(a->wake[i], F_SETFL, O_NONBLOCK);
	}
	return 0;
}

void backend_free(struct app *a)
{
	backend_disconnect(a);
	if (a->wake[0] != a->wake[1]) {
		close(a->wake[0]);
		close(a->wake[1]);
		a->wake[0] = a->wake[1] = 0;
	}
}

int backend_wake_fd(struct app *a)
{
	return a->wake[0] == a->wake[1] ? -1 : a->wake[0];
}

/* Connects to profile p, starting the embedded runtime when embedded_wanted.
 * The console stays up whatever happens: a backend that is down is shown
 * as down. */
void backend_periods(struct app *a)
{
	int ms = a->opt.refresh_ms * 2 > 2000 ? a->opt.refresh_ms * 2 : 2000;

	if (strcmp(a->prof.backend, "azureml") == 0 && ms < BACKEND_AZURE_LIST_MS)
		ms = BACKEND_AZURE_LIST_MS;
	a->list_every_ms = ms;
}

int backend_connect(struct app *a, const struct profile *p)
{
	struct transport_status st;
	struct error err = {0};

	backend_disconnect(a);
	a->prof = *p;
	backend_periods(a);
	a->readonly = profile_readonly(p, a->opt.readonly);
	snprintf(a->state, sizeof a->state, "connecting");
	if (embedded_wanted(p))
		start_embedded(a, p->url);
	if (a->wake[0] == a->wake[1] && backend_wake_open(a) < 0)
		return -1;
	if ((a->transport = transport_open(p, backend_notify, a->wake, &err)) == NULL) {
		snprintf(a->state, sizeof a->state, "cannot connect");
		app_message(a, 1, "%s", err.message);
		return -1;
	}
	transport_status(a->transport, &st);
	if (st.tunnel)
		return 0; /* backend_tick attaches the pool once the tunnel is up */
	if (transport_info(a->transport, &a->info, &err) < 0) {
		snprintf(a->state, sizeof a->state, "no credential");
		app_message(a, 1, "%s", err.message);
		return -1;
	}
	a->fetch = fetch_new(&a->info, BACKEND_TIMEOUT_MS);
	if (a->fetch == NULL)
		return -1;
	if (a->rt != NULL || strcmp(a->state, "runtime failed") != 0)
		snprintf(a->state, sizeof a->state, "%s", a->rt ? "embedded runtime" : "connected");
	return 0;
}

int backend_switch(struct app *a, const char *name)
{
	const struct profile *p = profile_find(&a->profiles, name);

	if (p == NULL) {
		app_message(a, 1, "no profile '%s'", name);
		return -1;
	}
	if (backend_connect(a, p) < 0)
		return -1;
	if (p->theme[0] && !a->opt.theme)
		actions_theme(a, p->theme);
	screen_clear_backend(a);
	screen_show(a, &screen_endpoints, 0);
	app_message(a, 0, "profile %s (%s)", p->name, connect_url(p));
	return 0;
}

/* The connection-related settings of two profiles are the same. */
static int same_connection(const struct profile *x, const struct profile *y)
{
	return strcmp(x->backend, y->backend) == 0 && strcmp(x->url, y->url) == 0 &&
	       strcmp(x->home, y->home) == 0 && strcmp(x->admin_key_file, y->admin_key_file) == 0 &&
	       strcmp(x->workspace, y->workspace) == 0 &&
	       strcmp(x->subscription, y->subscription) == 0 &&
	       strcmp(x->resource_group, y->resource_group) == 0 && x->embedded == y->embedded;
}

/* The current profile as the file now says. */
static void reload_current(struct app *a, const struct profile *now, int says)
{
	int theme = strcmp(now->theme, a->prof.theme) != 0;

	if (!same_connection(now, &a->prof)) {
		backend_switch(a, now->name);
		app_message(a, 0, "config.ini: profile %s changed; reconnected", now->name);
		return;
	}
	a->prof = *now;
	a->readonly = profile_readonly(now, a->opt.readonly);
	if (theme && now->theme[0] && !a->opt.theme)
		actions_theme(a, now->theme);
	else if (says)
		app_message(a, 0, "config.ini reloaded (%zu profiles)", a->profiles.count);
}

int backend_reload(struct app *a, int says)
{
	struct profile_set *set = calloc(1, sizeof *set);
	struct error err = {0};
	const struct profile *now;

	if (set == NULL)
		abort();
	backend_config_changed(a); /* the stamp of what is read now */
	if (profile_load(set, a->profiles.path[0] ? a->profiles.path : NULL, &err) < 0) {
		app_message(a, 1, "config.ini not reloaded: %s", err.message);
		free(set);
		return -1;
	}
	a->profiles = *set;
	free(set);
	screen_load_of(a, &screen_profiles);
	now = profile_find(&a->profiles, a->prof.name);
	if (now == NULL)
		app_message(a, 1, "config.ini: profile %s is gone; still connected to it",
			    a->prof.name);
	else
		reload_current(a, now, says);
	return 0;
}

int backend_config_changed(struct app *a)
{
	char stamp[sizeof a->config_stamp] = "absent";
	struct stat st;
	int changed;

	if (a->profiles.path[0] && stat(a->profiles.path, &st) == 0)
		snprintf(stamp, sizeof stamp, "%llu:%lld:%lld.%09ld", (unsigned long long)st.st_ino,
			 (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	changed = a->config_stamp[0] && strcmp(stamp, a->config_stamp) != 0;
	app_copy(a->config_stamp, sizeof a->config_stamp, stamp);
	return changed;
}

void backend_tick(struct app *a)
{
	struct transport_status st;
	struct error err = {0};

	char buf[64];

	if (a->transport == NULL)
		return;
	while (backend_wake_fd(a) >= 0 && read(a->wake[0], buf, sizeof buf) > 0)
		;
	transport_status(a->transport, &st);
	if (!st.tunnel || st.state != TRANSPORT_CONNECTED || st.generation == a->tunnel_generation)
		return;
	connect_info_cleanup(&a->info);
	if (transport_info(a->transport, &a->info, &err) < 0)
		return;
	/* a new connection: a new pool (the credential may have changed) */
	fetch_free(a->fetch);
	a->fetch = fetch_new(&a->info, BACKEND_TIMEOUT_MS);
	a->tunnel_generation = st.generation;
	snprintf(a->state, sizeof a->state, "connected");
	if (a->trace != NULL) {
		char steps[160];
		transport_describe_steps(&st, steps, sizeof steps);
		app_trace(a, "connected %s", steps);
	}
	screen_load(a);
	data_load_live(a);
}

int backend_tunnel_state(struct app *a, char *buf, size_t len)
{
	struct transport_status st;

	if (a->transport == NULL)
		return 0;
	transport_status(a->transport, &st);
	if (!st.tunnel || st.state == TRANSPORT_CONNECTED)
		return 0;
	transport_describe(&st, buf, len);
	return 1;
}

void backend_retry(struct app *a)
{
	if (a->transport != NULL)
		transport_retry(a->transport);
}
