/* console.c: the console's life: terminal, connection, main loop. */
#include "ui/console/console.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "ui/console/actions.h"
#include "ui/console/app.h"
#include "ui/console/bench.h"
#include "ui/console/data.h"
#include "ui/console/demo.h"
#include "ui/console/draw.h"
#include "ui/console/screen.h"
#include "state/store.h"

/* Set from signal handlers; read by the loop and the exit path. */
static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t curses_active;
static int saved_stderr = -1;

/* While curses owns the terminal nothing else may write to it: stderr goes
 * to the embedded runtime's log (or nowhere) until the console exits. */
static void stderr_away(const char *log_path)
{
	int fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_APPEND | O_CREAT, 0600);

	if (fd < 0)
		return;
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

static void stderr_back(void)
{
	if (saved_stderr >= 0) {
		dup2(saved_stderr, 2);
		close(saved_stderr);
		saved_stderr = -1;
	}
}

/* Leaves curses; safe to call twice (atexit, signals, normal exit). */
static void terminal_restore(void)
{
	if (curses_active) {
		curses_active = 0;
		endwin();
		stderr_back();
	}
}

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* A crash anywhere (the runtime thread included) restores the terminal
 * before the default action (core dump) runs. */
static void on_crash(int sig)
{
	terminal_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_signals(void)
{
	static const int stops[] = {SIGHUP, SIGTERM, SIGINT, SIGQUIT};
	static const int crashes[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++)
		sigaction(stops[i], &sa, NULL);
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < sizeof crashes / sizeof crashes[0]; i++)
		sigaction(crashes[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ---- connection ---- */

/* GET /healthz answers 2xx within a second. */
static int healthy(const char *url)
{
	struct client_config cfg = {.base_url = url, .ws_path = "", .credential = "",
				    .timeout_ms = 1000, .max_retries = -1};
	struct client *c = client_new(&cfg);
	struct error err = {0};
	char *text = NULL;
	size_t len;
	int ok;

	if (c == NULL)
		return 0;
	ok = client_get_text(c, "/healthz", &text, &len, &err) == 0;
	free(text);
	client_free(c);
	return ok;
}

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

static void disconnect(struct app *a)
{
	bench_stop(a);
	demo_load_stop(a->demo);
	a->demo = NULL;
	client_free(a->c);
	a->c = NULL;
	runtime_stop(a->rt);
	a->rt = NULL;
	connect_info_cleanup(&a->info);
	live_free(&a->live);
}

/* Connects to profile p, starting the embedded runtime when it is local and
 * nothing answers at its URL. The console stays up whatever happens. */
static int connect_to(struct app *a, const struct profile *p)
{
	const char *env_url = getenv("MLDECK_URL");
	const char *url = env_url && env_url[0] ? env_url : p->url;
	struct error err = {0};

	disconnect(a);
	a->prof = *p;
	a->readonly = profile_readonly(p, a->opt.readonly);
	snprintf(a->state, sizeof a->state, "connecting");
	if (strcmp(p->backend, "local") == 0 && connect_is_loopback(url) && !healthy(url) &&
	    start_embedded(a, url) < 0)
		return -1;
	if (connect_resolve(p, &a->info, &err) < 0) {
		snprintf(a->state, sizeof a->state, "no credential");
		app_message(a, 1, "%s", err.message);
		return -1;
	}
	a->c = connect_info_client(&a->info, 10000, &err);
	if (a->c == NULL)
		return -1;
	snprintf(a->state, sizeof a->state, "%s", a->rt ? "embedded runtime" : "connected");
	return 0;
}

static int switch_profile(struct app *a, const char *name)
{
	const struct profile *p = profile_find(&a->profiles, name);

	if (p == NULL) {
		app_message(a, 1, "no profile '%s'", name);
		return -1;
	}
	if (connect_to(a, p) < 0)
		return -1;
	if (p->theme[0] && !a->opt.theme)
		actions_theme(a, p->theme);
	screen_clear_backend(a);
	screen_show(a, &screen_endpoints, 0);
	app_message(a, 0, "profile %s (%s)", p->name, a->info.base_url);
	return 0;
}

/* ---- setup ---- */

static void theme_dir(struct app *a)
{
	const char *env = getenv("MLDECK_THEMES");
	char exe[PATH_MAX], *slash;
	ssize_t n;
	struct stat st;

	if (env && env[0]) {
		app_copy(a->theme_dir, sizeof a->theme_dir, env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(a->theme_dir, sizeof a->theme_dir, "%.900s/themes", exe);
	if (stat(a->theme_dir, &st) != 0) /* build/mldeck: the repository's themes */
		snprintf(a->theme_dir, sizeof a->theme_dir, "%.900s/../themes", exe);
}

static void layout_update(struct app *a)
{
	getmaxyx(stdscr, a->lines, a->cols);
	a->too_small = layout_compute(a->cols, a->lines, &a->lay) < 0;
}

static void curses_start(struct app *a)
{
	initscr();
	curses_active = 1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	leaveok(stdscr, TRUE);
	draw_theme(a);
	layout_update(a);
}

static int app_init(struct app *a, const struct console_options *o)
{
	struct error err = {0};
	const struct profile *p;
	const char *cs;

	a->opt = *o;
	if (a->opt.refresh_ms <= 0)
		a->opt.refresh_ms = 1000;
	if (a->opt.refresh_ms < 100)
		a->opt.refresh_ms = 100;
	cs = nl_langinfo(CODESET);
	a->utf8 = cs && strcmp(cs, "UTF-8") == 0;
	a->no_color = getenv("NO_COLOR") && getenv("NO_COLOR")[0];
	if (profile_load(&a->profiles, NULL, &err) < 0) {
		fprintf(stderr, "mldeck: %s\n", err.message);
		return -1;
	}
	p = profile_select(&a->profiles, o->profile, &err);
	if (p == NULL) {
		fprintf(stderr, "mldeck: %s\n", err.message);
		return -1;
	}
	a->prof = *p;
	theme_dir(a);
	theme_init_default(&a->theme);
	screen_init(a);
	a->switch_profile = switch_profile;
	return 0;
}

/* The theme asked for (--theme, else the profile's, else "default"). */
static void first_theme(struct app *a)
{
	const char *name = a->opt.theme	      ? a->opt.theme
			   : a->prof.theme[0] ? a->prof.theme
					      : "default";
	char err[256];
	struct theme_problems pr = {0};

	if (theme_load(a->theme_dir, name, &a->theme, &pr, err, sizeof err) < 0) {
		theme_init_default(&a->theme);
		if (a->opt.theme || strcmp(name, "default") != 0)
			app_message(a, 1, "theme: %s (built-in colours used)", err);
	} else if (pr.count > 0) {
		app_message(a, 1, "theme %s: line %d: %s", name, pr.item[0].line,
			    pr.item[0].message);
	}
}

static void demo_progress(void *ctx, const char *text)
{
	struct app *a = ctx;

	app_message(a, 0, "%s", text);
	draw_frame(a);
}

static void run_demo(struct app *a)
{
	char dir[PATH_MAX];
	struct error err = {0};

	a->opt.demo = 0;
	if (a->c == NULL || a->readonly) {
		app_message(a, 1, "demo: needs a writable connection");
		return;
	}
	if (demo_dir(dir, sizeof dir) < 0) {
		app_message(a, 1, "demo: no demo directory (set MLDECK_DEMO_DIR)");
		return;
	}
	if (demo_build(a->c, dir, demo_progress, a, &err) < 0) {
		app_message(a, 1, "demo: %s", err.message);
		return;
	}
	a->demo = demo_load_start(a->c, &a->info, dir);
	app_message(a, 0,
		    "demo workspace ready; a light load is running (Enter opens an endpoint)");
	screen_load(a);
}

/* ---- loop ---- */

static void tick(struct app *a, long long now)
{
	int list_every = a->opt.refresh_ms * 2 > 2000 ? a->opt.refresh_ms * 2 : 2000;

	int live_due = now >= a->next_live_ms, list_due = now >= a->next_list_ms;

	if (live_due) {
		data_load_live(a);
		bench_tick(a);
		a->next_live_ms = now + a->opt.refresh_ms;
	}
	if (list_due)
		a->next_list_ms = now + list_every;
	if (live_due || list_due)
		screen_tick(a, list_due, live_due);
}

/* MLDECK_TRACE=FILE: one line per frame with what it cost, for bench/console.py.
 * "frame T_MS DRAW_US KEY_US ROWS": T_MS since start, the redraw's time, the
 * time the key before it took, and the rows on the Endpoints screen. */
static FILE *trace_file;
static struct timespec trace_t0;

static long long trace_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)(ts.tv_sec - trace_t0.tv_sec) * 1000000LL +
	       (ts.tv_nsec - trace_t0.tv_nsec) / 1000;
}

static void trace_open(void)
{
	const char *path = getenv("MLDECK_TRACE");

	clock_gettime(CLOCK_MONOTONIC, &trace_t0);
	if (path && *path)
		trace_file = fopen(path, "w");
}

static void trace_frame(struct app *a, long long t0, long long key_us)
{
	if (trace_file == NULL)
		return;
	fprintf(trace_file, "frame %.3f %lld %lld %d\n", (double)trace_us() / 1000.0,
		trace_us() - t0, key_us, screen_table_of(a, &screen_endpoints)->nrows);
	fflush(trace_file);
}

static void loop(struct app *a)
{
	long long key_us = 0;

	while (!a->quit && !stop_signal) {
		long long now = app_now_ms(), wait, t0;
		int ch;

		if (a->opt.demo && a->mode == APP_NORMAL)
			run_demo(a);
		tick(a, now);
		t0 = trace_us();
		draw_frame(a);
		trace_frame(a, t0, key_us);
		key_us = 0;
		wait = (a->next_live_ms < a->next_list_ms ? a->next_live_ms : a->next_list_ms) -
		       app_now_ms();
		timeout((int)(wait < 10 ? 10 : wait > 1000 ? 1000 : wait));
		ch = getch();
		if (ch == ERR)
			continue;
		if (ch == KEY_RESIZE) {
			layout_update(a);
			continue;
		}
		if (a->too_small) {
			if (ch == 'q')
				a->quit = 1;
			continue;
		}
		t0 = trace_us();
		actions_key(a, ch);
		key_us = trace_us() - t0;
	}
}

static void app_free(struct app *a)
{
	disconnect(a);
	screen_free(a);
	cJSON_Delete(a->endpoint_doc);
}

int console_run(const struct console_options *o)
{
	struct app *a;
	int was_embedded;

	trace_open();
	setlocale(LC_ALL, "");
	a = calloc(1, sizeof *a);
	if (a == NULL || app_init(a, o) < 0) {
		free(a);
		return 1;
	}
	install_signals();
	atexit(terminal_restore);
	first_theme(a);
	connect_to(a, &a->prof);
	was_embedded = a->rt != NULL;
	stderr_away(a->rt ? a->log_path : NULL);
	curses_start(a);
	if (a->c && !a->opt.demo && was_embedded && demo_workspace_empty(a->c) && !a->readonly)
		a->mode = APP_DEMO_ASK;
	if (a->prof.theme[0] == '\0' && !a->opt.theme)
		screen_load_of(a, &screen_themes);
	screen_show(a, &screen_endpoints, 0);
	if (!a->message[0])
		app_message(a, 0, "? help  : commands  q quit");
	loop(a);
	terminal_restore();
	app_free(a);
	free(a);
	if (trace_file)
		fclose(trace_file);
	return 0;
}
