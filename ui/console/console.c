/* console.c: the console's life: terminal, connection, main loop. */
#include "ui/console/console.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "ui/console/actions.h"
#include "ui/console/backend.h"
#include "ui/console/app.h"
#include "ui/console/bench.h"
#include "ui/console/data.h"
#include "ui/console/fetch.h"
#include "ui/console/ops.h"
#include "ui/console/demo.h"
#include "ui/console/draw.h"
#include "ui/console/screen.h"
#include "ui/console/term.h"
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
	signal(SIGXFSZ, SIG_IGN); /* the embedded runtime's writes past ulimit -f fail, not kill */
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

/* curses on the terminfo entry term (term.h picked it). */
static int curses_start(struct app *a, const char *term)
{
	SCREEN *s = newterm(term, stdout, stdin);

	if (s == NULL) {
		fprintf(stderr, "mldeck: cannot start curses on TERM=%s\n", term);
		return -1;
	}
	set_term(s);
	curses_active = 1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	term_keys();
	curs_set(0);
	set_escdelay(25);
	leaveok(stdscr, TRUE);
	draw_theme(a);
	layout_update(a);
	return 0;
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
	backend_periods(a);
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
	backend_config_changed(a); /* notes the file as read */
	theme_dir(a);
	theme_init_default(&a->theme);
	screen_init(a);
	a->switch_profile = backend_switch;
	return 0;
}

/* The theme asked for (--theme, else the profile's, else "default"). An
 * unknown --theme is an error, as ":theme nope" is: -1 after a message on
 * stderr. A profile's broken theme falls back to the built-in colours. */
static int first_theme(struct app *a)
{
	const char *name = a->opt.theme	      ? a->opt.theme
			   : a->prof.theme[0] ? a->prof.theme
					      : "default";
	char err[256];
	struct theme_problems pr = {0};

	if (theme_load(a->theme_dir, name, &a->theme, &pr, err, sizeof err) < 0) {
		if (a->opt.theme) {
			fprintf(stderr, "mldeck: --theme: %s\n", err);
			return -1;
		}
		theme_init_default(&a->theme);
		if (strcmp(name, "default") != 0)
			app_message(a, 1, "theme: %s (built-in colours used)", err);
	} else if (pr.count > 0) {
		app_message(a, 1, "theme %s: line %d: %s", name, pr.item[0].line,
			    pr.item[0].message);
	}
	return 0;
}

/* ---- loop ---- */

static void tick(struct app *a, long long now)
{
	int live_due = now >= a->next_live_ms, list_due = now >= a->next_list_ms;

	ops_tick(a);
	if (live_due) {
		data_load_live(a);
		bench_tick(a);
		a->next_live_ms = now + a->opt.refresh_ms;
	}
	if (list_due)
		a->next_list_ms = now + a->list_every_ms;
	if (list_due && backend_config_changed(a))
		backend_reload(a, 1);
	if (live_due || list_due)
		screen_tick(a, list_due, live_due);
}

/* MLDECK_TRACE=FILE: one line per frame with what it cost, for bench/console.py.
 * "frame T_MS DRAW_US KEY_US ROWS LIVE": T_MS since start, the redraw's time,
 * the time the key before it took, the rows on the Endpoints screen and how
 * many of its first screenful have live figures; and app_trace's "event T_MS
 * what" lines (connection, answers). */
static FILE *trace_file;
static long long trace_t0;

static long long trace_us(void)
{
	return app_now_us() - trace_t0;
}

static void trace_open(void)
{
	const char *path = getenv("MLDECK_TRACE");

	trace_t0 = app_now_us();
	if (path && *path)
		trace_file = fopen(path, "w");
}

static void trace_frame(struct app *a, long long t0, long long key_us)
{
	const struct table *t = screen_table_of(a, &screen_endpoints);
	int live = 0;

	if (trace_file == NULL)
		return;
	for (int v = t->top; v < t->nview && v < t->top + a->lay.table.h - 1; v++)
		live += live_endpoint(&a->live, t->rows[t->view[v]].key) != NULL;
	fprintf(trace_file, "frame %.3f %lld %lld %d %d\n", (double)trace_us() / 1000.0,
		trace_us() - t0, key_us, t->nrows, live);
	fflush(trace_file);
}

/* One key: a resize, the too-small screen's q, or the key's meaning. */
static void key(struct app *a, int ch, long long *key_us)
{
	long long t0;

	if (ch == KEY_RESIZE) {
		layout_update(a);
		return;
	}
	if (ch == 27 && term_sequence(25))
		return; /* a sequence curses did not know: never Esc and letters */
	if (a->too_small) {
		if (ch == 'q')
			a->quit = 1;
		return;
	}
	t0 = trace_us();
	actions_key(a, ch);
	*key_us += trace_us() - t0;
}

/* The loop never waits on the backend: it sleeps in poll() on the terminal
 * and on the fetch pool's pipe, and handles whichever is ready. */
static void loop(struct app *a)
{
	long long key_us = 0;

	nodelay(stdscr, TRUE);
	while (!a->quit && !stop_signal) {
		struct pollfd p[3] = {{.fd = STDIN_FILENO, .events = POLLIN},
				      {.fd = -1},
				      {.fd = backend_wake_fd(a), .events = POLLIN}};
		long long wait, t0;
		int ch;

		backend_tick(a);
		/* answers are parsed on the fetch workers, so in their malloc arenas,
		 * and the ones they replace are freed here: after a screen's new rows
		 * came, those pages go back (RSS stays about one answer's worth, not
		 * one per arena) */
		if (a->fetch != NULL && fetch_deliver(a->fetch, a) > 0 && a->trim_due) {
			malloc_trim(0);
			a->trim_due = 0;
		}
		while (!a->quit && (ch = getch()) != ERR)
			key(a, ch, &key_us);
		if (a->quit)
			break;
		if (a->opt.demo && a->mode == APP_NORMAL)
			demo_run(a);
		tick(a, app_now_ms());
		t0 = trace_us();
		draw_frame(a);
		trace_frame(a, t0, key_us);
		key_us = 0;
		wait = (a->next_live_ms < a->next_list_ms ? a->next_live_ms : a->next_list_ms) -
		       app_now_ms();
		if (a->fetch != NULL)
			p[1] = (struct pollfd){.fd = fetch_fd(a->fetch), .events = POLLIN};
		poll(p, 3, (int)(wait < 10 ? 10 : wait > 1000 ? 1000 : wait));
	}
}

static void app_free(struct app *a)
{
	backend_free(a);
	screen_free(a);
	cJSON_Delete(a->endpoint_doc);
}

int console_run(const struct console_options *o)
{
	struct app *a;
	int was_embedded;
	char term[128];

	trace_open();
	setlocale(LC_ALL, "");
	a = calloc(1, sizeof *a);
	if (a == NULL || app_init(a, o) < 0) {
		free(a);
		return 1;
	}
	a->trace = trace_file;
	a->trace_t0_us = trace_t0;
	if (first_theme(a) < 0 || term_check_tty() < 0 || term_pick(term, sizeof term) < 0) {
		screen_free(a);
		free(a);
		return 2;
	}
	install_signals();
	atexit(terminal_restore);
	backend_connect(a, &a->prof);
	was_embedded = a->rt != NULL;
	stderr_away(a->rt ? a->log_path : NULL);
	if (curses_start(a, term) < 0) {
		stderr_back();
		app_free(a);
		free(a);
		return 2;
	}
	if (a->fetch && !a->opt.demo && was_embedded && !a->readonly)
		demo_offer(a);
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
