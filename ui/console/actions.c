/* actions.c: key and command handlers. */
#include "ui/console/actions.h"

#include <ctype.h>
#include <curses.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/loadgen.h"
#include "ui/console/data.h"
#include "ui/console/demo.h"
#include "ui/console/draw.h"
#include "ui/console/slider.h"
#include "state/file.h"

#define ESC 27
#define BODY_MAX (1024 * 1024)

struct bench {
	pthread_t thread;
	struct loadgen *lg;
	char endpoint[64];
	int rc;
	struct error err;
};

typedef void (*action_fn)(struct app *a, const struct keys_binding *b);

/* ---- navigation ---- */

void actions_show(struct app *a, enum keys_screen s, int push)
{
	if (push && a->screen != s && a->depth < (int)(sizeof a->back / sizeof a->back[0]))
		a->back[a->depth++] = a->screen;
	if (!push)
		a->depth = 0;
	a->screen = s;
	a->message[0] = '\0';
	if (s == KEYS_SCR_HELP)
		a->help_top = 0;
	if (s == KEYS_SCR_LOGS)
		a->logs.follow = 1;
	data_load_screen(a);
	data_load_live(a);
}

static void act_quit(struct app *a, const struct keys_binding *b)
{
	(void)b;
	a->quit = 1;
}

static void act_help(struct app *a, const struct keys_binding *b)
{
	(void)b;
	actions_show(a, KEYS_SCR_HELP, 1);
}

static void act_input(struct app *a, const struct keys_binding *b)
{
	struct table *t = app_table(a, a->screen);

	a->input[0] = '\0';
	if (b->action == KA_COMMAND) {
		a->mode = APP_COMMAND;
		return;
	}
	if (t == NULL)
		return;
	app_copy(a->input, sizeof a->input, t->filter);
	a->mode = APP_FILTER;
}

static int page(const struct app *a)
{
	int h = a->lay.table.h - 2;

	return h > 1 ? h : 1;
}

static void act_move(struct app *a, const struct keys_binding *b)
{
	static const int unit[KA_COUNT] = {[KA_UP] = -1, [KA_DOWN] = 1};
	struct table *t = app_table(a, a->screen);
	int d = unit[b->action];

	if (b->action == KA_PAGE_UP || b->action == KA_PAGE_DOWN)
		d = (b->action == KA_PAGE_UP ? -1 : 1) * page(a);
	if (b->action == KA_TOP || b->action == KA_BOTTOM)
		d = (b->action == KA_TOP ? -1 : 1) * 10000000;
	if (t != NULL) {
		table_move(t, d);
		/* the detail pane's series follow the cursor soon, not per key */
		if (a->screen == KEYS_SCR_ENDPOINTS && a->next_live_ms > app_now_ms() + 150)
			a->next_live_ms = app_now_ms() + 150;
	} else if (a->screen == KEYS_SCR_LOGS) {
		a->logs.follow = 0;
		a->logs.top += d;
		if (a->logs.top < 0)
			a->logs.top = 0;
	} else if (a->screen == KEYS_SCR_HELP) {
		a->help_top += d;
		if (a->help_top < 0)
			a->help_top = 0;
	}
}

static void open_endpoint(struct app *a, const char *name)
{
	app_copy(a->endpoint, sizeof a->endpoint, name);
	a->dep.n = 0;
	a->tables[KEYS_SCR_DEPLOYMENTS].cursor = 0;
	a->tables[KEYS_SCR_DEPLOYMENTS].cursor_key[0] = '\0';
	actions_show(a, KEYS_SCR_DEPLOYMENTS, 1);
}

static void act_open(struct app *a, const struct keys_binding *b)
{
	struct table_row *r = table_selected(&a->tables[a->screen]);

	(void)b;
	if (r == NULL)
		return;
	if (a->screen == KEYS_SCR_ENDPOINTS)
		open_endpoint(a, r->key);
	else if (a->screen == KEYS_SCR_PROFILES)
		a->switch_profile(a, r->key);
	else if (a->screen == KEYS_SCR_THEMES)
		actions_theme(a, r->key);
}

static void act_back(struct app *a, const struct keys_binding *b)
{
	struct table *t = app_table(a, a->screen);

	(void)b;
	if (t != NULL && t->filter[0]) {
		t->filter[0] = '\0';
		table_rebuild(t);
		app_message(a, 0, "filter cleared");
		return;
	}
	if (a->depth > 0) {
		a->screen = a->back[--a->depth];
		data_load_screen(a);
	}
}

static void act_refresh(struct app *a, const struct keys_binding *b)
{
	(void)b;
	if (data_load_screen(a) == 0)
		app_message(a, 0, "refreshed");
	data_load_live(a);
	clearok(curscr, FALSE);
}

static void act_jump(struct app *a, const struct keys_binding *b)
{
	static const enum keys_screen to[KA_COUNT] = {
	    [KA_JUMP_ENDPOINTS] = KEYS_SCR_ENDPOINTS,
	    [KA_JUMP_MODELS] = KEYS_SCR_MODELS,
	    [KA_JUMP_ENVS] = KEYS_SCR_ENVS,
	    [KA_JUMP_PROFILES] = KEYS_SCR_PROFILES,
	};

	actions_show(a, to[b->action], 0);
}

static void act_sort(struct app *a, const struct keys_binding *b)
{
	struct table *t = app_table(a, a->screen);

	if (t == NULL)
		return;
	if (b->action == KA_SORT)
		table_sort_next(t);
	else
		t->sort_desc = !t->sort_desc;
	table_rebuild(t);
	app_message(a, 0, "sort: %s%s",
		    t->sort_col < 0 ? "server order" : t->cols[t->sort_col].title,
		    t->sort_col >= 0 ? (t->sort_desc ? " descending" : " ascending") : "");
}

/* ---- logs ---- */

/* The deployment with the most traffic of an endpoint. */
static int busiest_deployment(struct app *a, const char *ep, char *out, size_t len)
{
	char path[256];
	cJSON *e = NULL, *t;
	struct error err = {0};
	int best = -1;

	snprintf(path, sizeof path, "/onlineEndpoints/%s/deployments", ep);
	if (client_call(a->c, "GET", path, NULL, &e, &err) < 0)
		return -1;
	cJSON_Delete(e);
	e = NULL;
	snprintf(path, sizeof path, "/onlineEndpoints/%s", ep);
	if (client_call(a->c, "GET", path, NULL, &e, &err) < 0)
		return -1;
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(
				  cJSON_GetObjectItemCaseSensitive(e, "properties"), "traffic"))
	{
		if (cJSON_IsNumber(t) && t->valueint > best) {
			best = t->valueint;
			snprintf(out, len, "%s", t->string);
		}
	}
	cJSON_Delete(e);
	return best < 0 ? -1 : 0;
}

static void open_logs(struct app *a, const char *ep, const char *dep)
{
	app_copy(a->logs.ep, sizeof a->logs.ep, ep);
	app_copy(a->logs.dep, sizeof a->logs.dep, dep);
	free(a->logs.text);
	a->logs.text = NULL;
	actions_show(a, KEYS_SCR_LOGS, 1);
}

static void act_logs(struct app *a, const struct keys_binding *b)
{
	struct table_row *r = table_selected(&a->tables[a->screen]);
	char dep[64];

	(void)b;
	if (r == NULL || a->c == NULL)
		return;
	if (a->screen == KEYS_SCR_DEPLOYMENTS) {
		open_logs(a, a->endpoint, r->key);
		return;
	}
	if (busiest_deployment(a, r->key, dep, sizeof dep) < 0) {
		app_message(a, 1, "endpoint %s has no deployment with traffic", r->key);
		return;
	}
	open_logs(a, r->key, dep);
}

static void act_follow(struct app *a, const struct keys_binding *b)
{
	(void)b;
	a->logs.follow = 1;
}

/* ---- traffic sliders ---- */

static int pending(const struct app_deploys *d)
{
	for (int i = 0; i < d->n; i++)
		if (d->pend_live[i] != d->live[i] || d->pend_mirror[i] != d->mirror[i])
			return 1;
	return 0;
}

static void act_slide(struct app *a, const struct keys_binding *b)
{
	static const int delta[KA_COUNT] = {
	    [KA_SLIDE_DOWN1] = -1,
	    [KA_SLIDE_UP1] = 1,
	    [KA_SLIDE_DOWN10] = -10,
	    [KA_SLIDE_UP10] = 10,
	};
	struct app_deploys *d = &a->dep;
	struct table_row *r = table_selected(&a->tables[KEYS_SCR_DEPLOYMENTS]);
	int k = r ? r->idx : -1;

	if (k < 0 || k >= d->n)
		return;
	if (d->mirror_mode) {
		if (slider_mirror_move(d->pend_mirror, d->pend_live, d->n, k, delta[b->action]) <
		    0) {
			app_message(a, 1,
				    "mirror goes only to a deployment with 0%% live traffic "
				    "(at most %d%%)",
				    SLIDER_MAX_MIRROR);
			return;
		}
	} else {
		slider_move(d->pend_live, d->n, k, delta[b->action]);
		for (int i = 0; i < d->n; i++)
			if (d->pend_live[i] > 0)
				d->pend_mirror[i] = 0; /* Azure: no mirror to a live deployment */
	}
	data_fill_live(a);
	app_message(
	    a, 0, pending(d) ? "pending change: Enter applies, Esc discards" : "no change pending");
}

static void act_mirror_mode(struct app *a, const struct keys_binding *b)
{
	(void)b;
	a->dep.mirror_mode = !a->dep.mirror_mode;
	if (a->dep.mirror_mode)
		app_message(a, 0,
			    "sliders now edit the MIRROR share (0-%d%%, only to a deployment "
			    "without live traffic); m goes back",
			    SLIDER_MAX_MIRROR);
	else
		app_message(a, 0, "sliders now edit the LIVE share");
}

static cJSON *traffic_body(const struct app_deploys *d)
{
	cJSON *body = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(body, "properties");
	cJSON *t = cJSON_AddObjectToObject(p, "traffic"),
	      *m = cJSON_AddObjectToObject(p, "mirrorTraffic");

	for (int i = 0; i < d->n; i++) {
		cJSON_AddNumberToObject(t, d->name[i], d->pend_live[i]);
		if (d->pend_mirror[i] > 0)
			cJSON_AddNumberToObject(m, d->name[i], d->pend_mirror[i]);
	}
	return body;
}

static void apply_traffic(struct app *a)
{
	char path[256];
	cJSON *body = traffic_body(&a->dep);
	struct error err = {0};
	int rc;

	snprintf(path, sizeof path, "/onlineEndpoints/%s", a->endpoint);
	rc = client_call(a->c, "PATCH", path, body, NULL, &err);
	cJSON_Delete(body);
	if (rc < 0) {
		app_message(a, 1, "refused (%d %s): %s", err.status, err.code, err.message);
		return;
	}
	for (int i = 0; i < a->dep.n; i++) {
		a->dep.live[i] = a->dep.pend_live[i];
		a->dep.mirror[i] = a->dep.pend_mirror[i];
	}
	data_load_deployments(a);
	app_message(a, 0, "traffic applied");
}

static void act_apply(struct app *a, const struct keys_binding *b)
{
	(void)b;
	if (!pending(&a->dep)) {
		act_logs(a, b);
		return;
	}
	if (a->readonly) {
		app_message(a, 1, "read-only: traffic cannot be changed");
		return;
	}
	apply_traffic(a);
}

static void act_discard(struct app *a, const struct keys_binding *b)
{
	struct app_deploys *d = &a->dep;

	if (!pending(d)) {
		act_back(a, b);
		return;
	}
	for (int i = 0; i < d->n; i++) {
		d->pend_live[i] = d->live[i];
		d->pend_mirror[i] = d->mirror[i];
	}
	data_fill_live(a);
	app_message(a, 0, "pending changes discarded");
}

/* ---- deletion ---- */

static void act_delete(struct app *a, const struct keys_binding *b)
{
	struct table_row *r = table_selected(&a->tables[a->screen]);
	struct app_dialog *d = &a->dialog;
	const char *sep;

	(void)b;
	if (r == NULL)
		return;
	memset(d, 0, sizeof *d);
	d->from = a->screen;
	switch (a->screen) {
	case KEYS_SCR_ENDPOINTS:
		snprintf(d->title, sizeof d->title, "Delete endpoint %.64s?", r->key);
		snprintf(d->text, sizeof d->text, "Its deployments are deleted with it.");
		snprintf(d->path, sizeof d->path, "/onlineEndpoints/%s", r->key);
		app_copy(d->expect, sizeof d->expect, r->key);
		break;
	case KEYS_SCR_DEPLOYMENTS:
		snprintf(d->title, sizeof d->title, "Delete deployment %.40s of %.40s?", r->key,
			 a->endpoint);
		snprintf(d->text, sizeof d->text,
			 "A deployment with live or mirror traffic is refused.");
		snprintf(d->path, sizeof d->path, "/onlineEndpoints/%s/deployments/%s", a->endpoint,
			 r->key);
		break;
	default:
		sep = strchr(r->key, ':');
		if (sep == NULL)
			return;
		snprintf(d->title, sizeof d->title, "Delete %s version %.80s?",
			 a->screen == KEYS_SCR_MODELS ? "model" : "environment", r->key);
		snprintf(d->text, sizeof d->text, "A version used by a deployment is refused.");
		snprintf(d->path, sizeof d->path, "/%s/%.*s/versions/%s",
			 a->screen == KEYS_SCR_MODELS ? "models" : "environments",
			 (int)(sep - r->key), r->key, sep + 1);
	}
	a->mode = APP_DIALOG;
}

static void dialog_confirm(struct app *a)
{
	struct app_dialog *d = &a->dialog;
	struct error err = {0};

	if (d->focus == 0) {
		a->mode = APP_NORMAL;
		app_message(a, 0, "cancelled: nothing deleted");
		return;
	}
	if (d->expect[0] && strcmp(d->typed, d->expect) != 0) {
		app_message(a, 1, "type the endpoint's name exactly to delete it");
		return;
	}
	a->mode = APP_NORMAL;
	if (client_call(a->c, "DELETE", d->path, NULL, NULL, &err) < 0) {
		app_message(a, 1, "refused (%d %s): %s", err.status, err.code, err.message);
		return;
	}
	app_message(a, 0, "deleted: %s", d->title + 7);
	data_load_screen(a);
}

static void dialog_key(struct app *a, int ch)
{
	struct app_dialog *d = &a->dialog;
	size_t n = strlen(d->typed);

	if (ch == ESC) {
		a->mode = APP_NORMAL;
		app_message(a, 0, "cancelled: nothing deleted");
	} else if (ch == '\t' || ch == KEY_LEFT || ch == KEY_RIGHT || ch == KEY_BTAB) {
		d->focus = !d->focus;
	} else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		dialog_confirm(a);
	} else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n > 0) {
		d->typed[n - 1] = '\0';
	} else if (d->expect[0] && ch > 32 && ch < 127 && n + 1 < sizeof d->typed) {
		d->typed[n] = (char)ch;
		d->typed[n + 1] = '\0';
	} else if (!d->expect[0] && (ch == 'h' || ch == 'l')) {
		d->focus = !d->focus;
	}
}

/* ---- test requests ---- */

static void load_test_files(struct app *a)
{
	char dir[PATH_MAX], sub[PATH_MAX];
	struct app_test *t = &a->test;
	DIR *d;
	struct dirent *de;

	t->nfiles = 0;
	if (demo_dir(dir, sizeof dir) < 0)
		return;
	snprintf(sub, sizeof sub, "%.4000s/requests", dir);
	d = opendir(sub);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && t->nfiles < APP_MAX_FILES) {
		size_t l = strlen(de->d_name);

		if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
			snprintf(t->files[t->nfiles++], sizeof t->files[0], "%.400s/%.100s", sub,
				 de->d_name);
	}
	closedir(d);
	qsort(t->files, (size_t)t->nfiles, sizeof t->files[0],
	      (int (*)(const void *, const void *))strcmp);
}

/* A request body from a file; NULL (errno says why) rather than a cut body. */
static char *slurp(const char *path)
{
	size_t n;

	return file_read(path, BODY_MAX, &n);
}

static void pick_file(struct app *a, int i)
{
	struct app_test *t = &a->test;
	char *body;

	if (t->nfiles == 0) {
		app_message(a, 1, "no request files (demo/requests); i types a body");
		return;
	}
	t->file = (i % t->nfiles + t->nfiles) % t->nfiles;
	body = slurp(t->files[t->file]);
	if (body == NULL) {
		app_message(a, 1, "cannot read %s: %s", t->files[t->file], strerror(errno));
		return;
	}
	free(t->body);
	t->body = body;
}

/* The request file whose name best matches the endpoint (its first word). */
static int file_for_endpoint(const struct app *a)
{
	for (int i = 0; i < a->test.nfiles; i++) {
		const char *base = strrchr(a->test.files[i], '/');
		size_t n;

		base = base ? base + 1 : a->test.files[i];
		n = strlen(base) - 5;
		if (n > 0 && strncmp(a->endpoint, base, n) == 0)
			return i;
	}
	return 0;
}

static void act_test(struct app *a, const struct keys_binding *b)
{
	struct table_row *r = table_selected(&a->tables[KEYS_SCR_ENDPOINTS]);

	(void)b;
	if (a->screen == KEYS_SCR_ENDPOINTS) {
		if (r == NULL)
			return;
		app_copy(a->endpoint, sizeof a->endpoint, r->key);
	} else if (a->screen == KEYS_SCR_LOGS) {
		app_copy(a->endpoint, sizeof a->endpoint, a->logs.ep);
	}
	if (a->endpoint[0] == '\0')
		return;
	data_load_deployments(a);
	load_test_files(a);
	a->test.target = -1;
	a->test.sent = 0;
	a->test.error[0] = '\0';
	if (a->test.body == NULL)
		pick_file(a, file_for_endpoint(a));
	actions_show(a, KEYS_SCR_TEST, 1);
}

static void act_test_file(struct app *a, const struct keys_binding *b)
{
	(void)b;
	pick_file(a, a->test.file + 1);
}

static void act_test_target(struct app *a, const struct keys_binding *b)
{
	(void)b;
	a->test.target = a->test.target + 1 >= a->dep.n ? -1 : a->test.target + 1;
}

static void act_test_inline(struct app *a, const struct keys_binding *b)
{
	(void)b;
	app_copy(a->input, sizeof a->input, a->test.body ? a->test.body : "");
	for (char *p = a->input; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	a->mode = APP_BODY;
}

/* Leaves curses for $EDITOR on a temporary copy of the body. */
static void act_test_edit(struct app *a, const struct keys_binding *b)
{
	char path[] = "/tmp/mldeck-body-XXXXXX", cmd[PATH_MAX + 64];
	const char *ed = getenv("VISUAL") ? getenv("VISUAL") : getenv("EDITOR");
	int fd = mkstemp(path);
	char *body;

	(void)b;
	if (fd < 0)
		return;
	if (a->test.body && write(fd, a->test.body, strlen(a->test.body)) < 0)
		app_message(a, 1, "cannot write %s", path);
	close(fd);
	snprintf(cmd, sizeof cmd, "%s '%s'", ed && ed[0] ? ed : "vi", path);
	def_prog_mode();
	endwin();
	if (system(cmd) != 0)
		app_message(a, 1, "editor exited with an error");
	reset_prog_mode();
	refresh();
	body = slurp(path);
	unlink(path);
	if (body != NULL) {
		free(a->test.body);
		a->test.body = body;
		a->test.file = -1;
	}
}

static void act_test_send(struct app *a, const struct keys_binding *b)
{
	struct app_test *t = &a->test;
	struct scoring_target st;
	struct error err = {0};
	size_t olen = 0;
	int rc;

	(void)b;
	t->error[0] = '\0';
	if (t->body == NULL) {
		snprintf(t->error, sizeof t->error, "no body: f picks a file, i types one");
		return;
	}
	if (data_endpoint_key(a, a->endpoint, &st) < 0) {
		app_copy(t->error, sizeof t->error, a->message);
		return;
	}
	free(t->answer);
	t->answer = NULL;
	rc = client_score(a->c, st.url, st.credential,
			  t->target >= 0 ? a->dep.name[t->target] : NULL, t->body,
			  strlen(t->body), &t->status, &t->answer, &olen, t->chosen,
			  sizeof t->chosen, &t->latency_ms, &err);
	scoring_target_cleanup(&st);
	if (rc < 0) {
		snprintf(t->error, sizeof t->error, "no answer: %.200s", err.message);
		return;
	}
	t->sent = 1;
}

/* ---- bench ---- */

static void *bench_main(void *arg)
{
	struct bench *bn = arg;

	bn->rc = loadgen_run(bn->lg, &bn->err);
	return NULL;
}

static void act_bench(struct app *a, const struct keys_binding *b)
{
	struct table_row *r = table_selected(&a->tables[KEYS_SCR_ENDPOINTS]);
	const char *ep = a->screen == KEYS_SCR_ENDPOINTS ? (r ? r->key : NULL) : a->endpoint;
	struct scoring_target st;
	struct bench *bn;
	struct loadgen_config cfg = {0};
	struct error err = {0};

	(void)b;
	if (a->bench != NULL) {
		app_message(a, 1, "a bench is already running");
		return;
	}
	if (ep == NULL || data_endpoint_key(a, ep, &st) < 0)
		return;
	app_copy(a->endpoint, sizeof a->endpoint, ep);
	load_test_files(a);
	if (a->test.body == NULL)
		pick_file(a, file_for_endpoint(a));
	if (a->test.body == NULL)
		return;
	cfg = (struct loadgen_config){.url = st.url,
				      .unix_socket = st.unix_socket,
				      .key = st.credential,
				      .body = a->test.body,
				      .body_len = strlen(a->test.body),
				      .connections = 4,
				      .duration_s = 10,
				      .timeout_ms = 5000};
	bn = calloc(1, sizeof *bn);
	if (bn != NULL)
		bn->lg = loadgen_new(&cfg, &err);
	scoring_target_cleanup(&st);
	if (bn == NULL || bn->lg == NULL) {
		app_message(a, 1, "bench: %s", err.message);
		free(bn);
		return;
	}
	app_copy(bn->endpoint, sizeof bn->endpoint, ep);
	if (pthread_create(&bn->thread, NULL, bench_main, bn) != 0) {
		loadgen_free(bn->lg);
		free(bn);
		return;
	}
	a->bench = bn;
	app_message(a, 0, "bench: 10 s against %s with 4 connections...", ep);
}

static void bench_join(struct app *a, const struct loadgen_result *res)
{
	struct bench *bn = a->bench;

	pthread_join(bn->thread, NULL);
	if (bn->rc < 0)
		app_message(a, 1, "bench failed: %s", bn->err.message);
	else
		app_message(a, 0,
			    "bench %s done: %ld requests, %.0f req/s, p50 %.2f ms, p99 %.2f ms, "
			    "%ld transport errors",
			    bn->endpoint, res->completed, res->rps, res->p50_ms, res->p99_ms,
			    res->errors);
	loadgen_free(bn->lg);
	free(bn);
	a->bench = NULL;
}

void actions_tick(struct app *a)
{
	struct loadgen_result res;

	if (a->bench == NULL)
		return;
	loadgen_snapshot(a->bench->lg, &res);
	if (!res.running && res.elapsed_s > 0) {
		bench_join(a, &res);
		return;
	}
	app_message(a, 0, "bench %s: %ld requests, %.0f req/s, p99 %.2f ms", a->bench->endpoint,
		    res.completed, res.rps, res.p99_ms);
}

void actions_stop_bench(struct app *a)
{
	struct loadgen_result res;

	if (a->bench == NULL)
		return;
	loadgen_stop(a->bench->lg);
	pthread_join(a->bench->thread, NULL);
	loadgen_free(a->bench->lg);
	free(a->bench);
	a->bench = NULL;
	(void)res;
}

/* ---- themes ---- */

int actions_theme(struct app *a, const char *name)
{
	struct theme t;
	struct theme_problems pr = {0};
	char err[512];

	if (theme_load(a->theme_dir, name, &t, &pr, err, sizeof err) < 0) {
		app_message(a, 1, "theme: %s", err);
		return -1;
	}
	a->theme = t;
	draw_theme(a);
	data_load_themes(a);
	if (pr.count > 0)
		app_message(a, 1, "theme %s: line %d: %s%s", name, pr.item[0].line,
			    pr.item[0].message,
			    pr.count > 1 ? " (and more; the rest applies)" : "");
	else
		app_message(a, 0, "theme %s", name);
	return 0;
}

/* ---- dispatch ---- */

static const action_fn handlers[KA_COUNT] = {
    [KA_QUIT] = act_quit,
    [KA_HELP] = act_help,
    [KA_COMMAND] = act_input,
    [KA_FILTER] = act_input,
    [KA_UP] = act_move,
    [KA_DOWN] = act_move,
    [KA_PAGE_UP] = act_move,
    [KA_PAGE_DOWN] = act_move,
    [KA_TOP] = act_move,
    [KA_BOTTOM] = act_move,
    [KA_OPEN] = act_open,
    [KA_BACK] = act_back,
    [KA_REFRESH] = act_refresh,
    [KA_JUMP_ENDPOINTS] = act_jump,
    [KA_JUMP_MODELS] = act_jump,
    [KA_JUMP_ENVS] = act_jump,
    [KA_JUMP_PROFILES] = act_jump,
    [KA_LOGS] = act_logs,
    [KA_TEST] = act_test,
    [KA_SORT] = act_sort,
    [KA_SORT_REVERSE] = act_sort,
    [KA_SLIDE_DOWN1] = act_slide,
    [KA_SLIDE_UP1] = act_slide,
    [KA_SLIDE_DOWN10] = act_slide,
    [KA_SLIDE_UP10] = act_slide,
    [KA_MIRROR_MODE] = act_mirror_mode,
    [KA_APPLY] = act_apply,
    [KA_DISCARD] = act_discard,
    [KA_DELETE] = act_delete,
    [KA_BENCH] = act_bench,
    [KA_TEST_FILE] = act_test_file,
    [KA_TEST_TARGET] = act_test_target,
    [KA_TEST_EDIT] = act_test_edit,
    [KA_TEST_INLINE] = act_test_inline,
    [KA_TEST_SEND] = act_test_send,
    [KA_FOLLOW] = act_follow,
};

/* ---- commands ---- */

struct command {
	const char *names[4];
	enum keys_screen screen;
};

static const struct command commands[] = {
    {{"ep", "endpoints", "endpoint"}, KEYS_SCR_ENDPOINTS},
    {{"dep", "deployments", "deployment"}, KEYS_SCR_DEPLOYMENTS},
    {{"model", "models", "mo"}, KEYS_SCR_MODELS},
    {{"env", "envs", "environments", "environment"}, KEYS_SCR_ENVS},
    {{"profile", "profiles", "ctx"}, KEYS_SCR_PROFILES},
    {{"theme", "themes"}, KEYS_SCR_THEMES},
    {{"help", "h"}, KEYS_SCR_HELP},
    {{"logs", "log"}, KEYS_SCR_LOGS},
    {{"test"}, KEYS_SCR_TEST},
};

static const struct command *find_command(const char *word)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		for (int k = 0; k < 4 && commands[i].names[k]; k++)
			if (strcmp(commands[i].names[k], word) == 0)
				return &commands[i];
	return NULL;
}

static void command_screen(struct app *a, const struct command *c, const char *arg)
{
	static const struct keys_binding logs = {.action = KA_LOGS}, test = {.action = KA_TEST};

	if (c->screen == KEYS_SCR_PROFILES && arg[0])
		a->switch_profile(a, arg);
	else if (c->screen == KEYS_SCR_THEMES && arg[0])
		actions_theme(a, arg);
	else if (c->screen == KEYS_SCR_DEPLOYMENTS && arg[0])
		open_endpoint(a, arg);
	else if (c->screen == KEYS_SCR_DEPLOYMENTS && a->screen == KEYS_SCR_ENDPOINTS)
		act_open(a, &logs);
	else if (c->screen == KEYS_SCR_DEPLOYMENTS && a->endpoint[0])
		open_endpoint(a, a->endpoint);
	else if (c->screen == KEYS_SCR_LOGS)
		act_logs(a, &logs);
	else if (c->screen == KEYS_SCR_TEST)
		act_test(a, &test);
	else if (c->screen != KEYS_SCR_DEPLOYMENTS)
		actions_show(a, c->screen, c->screen == KEYS_SCR_HELP);
}

void actions_command(struct app *a, const char *line)
{
	char word[64] = "", arg[128] = "";
	const struct command *c;

	while (isspace((unsigned char)*line))
		line++;
	if (sscanf(line, "%63s %127s", word, arg) < 1)
		return;
	if (strcmp(word, "q") == 0 || strcmp(word, "quit") == 0 || strcmp(word, "q!") == 0) {
		a->quit = 1;
		return;
	}
	c = find_command(word);
	if (c == NULL) {
		app_message(a, 1, "unknown command '%s' (try :help)", word);
		return;
	}
	command_screen(a, c, arg);
}

/* ---- input modes ---- */

static void line_edit(struct app *a, int ch)
{
	size_t n = strlen(a->input);
	struct table *t = app_table(a, a->screen);

	if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (n > 0)
			a->input[n - 1] = '\0';
	} else if (ch == 21) { /* ^U */
		a->input[0] = '\0';
	} else if (ch >= 32 && ch < 256 && ch != 127 && n + 1 < sizeof a->input) {
		a->input[n] = (char)ch;
		a->input[n + 1] = '\0';
	}
	if (a->mode == APP_FILTER && t != NULL) {
		app_copy(t->filter, sizeof t->filter, a->input);
		table_rebuild(t);
	}
}

static void input_done(struct app *a, int accept)
{
	enum app_mode m = a->mode;
	struct table *t = app_table(a, a->screen);

	a->mode = APP_NORMAL;
	if (m == APP_FILTER && t != NULL) {
		if (!accept)
			t->filter[0] = '\0';
		table_rebuild(t);
	} else if (m == APP_COMMAND && accept) {
		actions_command(a, a->input);
	} else if (m == APP_BODY && accept) {
		free(a->test.body);
		a->test.body = strdup(a->input);
		a->test.file = -1;
	}
}

static void demo_answer(struct app *a, int ch)
{
	if (ch == 'y' || ch == 'Y') {
		a->mode = APP_NORMAL;
		a->opt.demo = 1;
	} else if (ch == 'n' || ch == 'N' || ch == ESC || ch == 'q') {
		a->mode = APP_NORMAL;
		app_message(a, 0, "no demo; press ? for help, : for commands");
	}
}

void actions_key(struct app *a, int ch)
{
	const struct keys_binding *b;

	switch (a->mode) {
	case APP_FILTER:
	case APP_COMMAND:
	case APP_BODY:
		if (ch == ESC || ch == '\n' || ch == '\r' || ch == KEY_ENTER)
			input_done(a, ch != ESC);
		else
			line_edit(a, ch);
		return;
	case APP_DIALOG:
		dialog_key(a, ch);
		return;
	case APP_DEMO_ASK:
		demo_answer(a, ch);
		return;
	default:
		break;
	}
	b = keys_lookup(ch, a->screen, a->readonly);
	if (b == NULL) {
		const struct keys_binding *off = keys_lookup(ch, a->screen, 0);

		if (off != NULL)
			app_message(a, 1, "read-only: '%s' (%s) is off", off->keyname, off->hint);
		return;
	}
	if (handlers[b->action] != NULL)
		handlers[b->action](a, b);
}
