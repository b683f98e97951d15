/* screens/test.c: a test request to one endpoint: a request file, a typed
 * or edited body, the split or one deployment as target; Enter sends it
 * and shows the status, the deployment that answered, the latency and the
 * answer. */
#include "ui/console/screen.h"

#include <curses.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/scoring.h"
#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/draw.h"
#include "ui/console/pretty.h"
#include "ui/console/request.h"

struct test {
	struct request_files files;
	int file;	   /* -1 = typed body */
	char *body;	   /* heap */
	char body_for[64]; /* the endpoint the body was chosen for */
	int target;	   /* -1 = the split, else a deployment index */
	int sending, sent, status;
	double latency_ms;
	char chosen[64];
	char url[1024]; /* where the last request went */
	char *answer;	/* heap, pretty-printed when JSON */
	int answer_lines;
	char error[256];
};

static const enum keys_action acts[] = {KA_TEST_SEND,	KA_TEST_FILE, KA_TEST_TARGET,
					KA_TEST_INLINE, KA_TEST_EDIT, KA_NONE};

static struct test *test_of(struct app *a)
{
	return screen_state_of(a, &screen_test)->data;
}

static void pick_file(struct app *a, struct test *t, int i)
{
	char *body;

	if (t->files.n == 0) {
		app_message(a, 1, "no request files (demo/requests); i types a body");
		return;
	}
	t->file = (i % t->files.n + t->files.n) % t->files.n;
	body = request_read(t->files.path[t->file]);
	if (body == NULL) {
		app_message(a, 1, "cannot read %s: %s", t->files.path[t->file], strerror(errno));
		return;
	}
	free(t->body);
	t->body = body;
}

/* The endpoint's deployments are in a->dep (the targets). */
static void test_deployments(struct app *a, cJSON *deps)
{
	(void)a;
	cJSON_Delete(deps);
}

/* `t` on an endpoint, a deployment or a log, ":test [ENDPOINT]". */
static void test_open(struct app *a, const struct screen_sel *from, const char *arg)
{
	struct test *t = test_of(a);
	const char *ep = arg[0] ? arg : from->endpoint;

	if (ep[0] && ep != a->endpoint)
		app_copy(a->endpoint, sizeof a->endpoint, ep);
	if (a->endpoint[0] == '\0')
		return;
	data_load_endpoint(a, "test-endpoint", test_deployments);
	request_list(&t->files);
	t->target = -1;
	t->sent = 0;
	t->sending = 0;
	t->error[0] = '\0';
	/* the endpoint's own request file first (docs/console.md); a body the
	 * user chose for this endpoint stays */
	if (t->body == NULL || strcmp(t->body_for, a->endpoint) != 0) {
		t->answer_lines = 0;
		free(t->answer);
		t->answer = NULL;
		t->url[0] = '\0';
		pick_file(a, t, request_for_endpoint(&t->files, a->endpoint));
		app_copy(t->body_for, sizeof t->body_for, a->endpoint);
	}
	screen_show(a, &screen_test, 1);
}

static void test_select(struct app *a, struct screen_state *st, struct screen_sel *out)
{
	struct test *t = st->data;

	app_copy(out->endpoint, sizeof out->endpoint, a->endpoint);
	if (t->target >= 0 && t->target < a->dep.n)
		app_copy(out->deployment, sizeof out->deployment, a->dep.name[t->target]);
}

static void test_draw(struct app *a, struct screen_state *st, struct rect r)
{
	struct test *t = st->data;
	char buf[1024];
	int y = r.y;

	/* where the last request went (the profile's route, api/scoring.h) */
	snprintf(buf, sizeof buf, "TEST REQUEST  endpoint %s%s%.900s", a->endpoint,
		 t->url[0] ? "  POST " : "", t->url);
	draw_text(a, THEME_TITLE, y++, r.x, r.w, buf);
	snprintf(buf, sizeof buf, "target   %s",
		 t->target < 0 || t->target >= a->dep.n ? "the traffic split"
							: a->dep.name[t->target]);
	draw_text(a, THEME_NORMAL, y++, r.x, r.w, buf);
	snprintf(buf, sizeof buf, "request  %s",
		 t->file >= 0 && t->file < t->files.n ? t->files.path[t->file] : "(typed body)");
	draw_text(a, THEME_NORMAL, y++, r.x, r.w, buf);
	snprintf(buf, sizeof buf, "body     %.900s",
		 t->body ? t->body : "(none: f picks a file, i types one)");
	draw_text(a, THEME_NORMAL, y++, r.x, r.w, buf);
	draw_hline(a, y++, r.x, r.w);
	if (t->sending) {
		draw_text(a, THEME_HINT, y++, r.x, r.w, "sending...");
		return;
	}
	if (t->error[0]) {
		draw_text(a, THEME_ERROR, y++, r.x, r.w, t->error);
		return;
	}
	if (!t->sent)
		return;
	snprintf(buf, sizeof buf, "status   %d   deployment %s   latency %.1f ms", t->status,
		 t->chosen[0] ? t->chosen : "-", t->latency_ms);
	draw_text(a, t->status >= 200 && t->status < 300 ? THEME_STATUS_OK : THEME_STATUS_FAILED,
		  y++, r.x, r.w, buf);
	r.h -= y - r.y;
	r.y = y;
	/* the answer scrolls (j/k, PgUp/PgDn); v shows it whole, wrapped */
	if (st->top > t->answer_lines - r.h)
		st->top = t->answer_lines - r.h;
	if (st->top < 0)
		st->top = 0;
	draw_lines(a, r, t->answer ? t->answer : "", st->top, THEME_NORMAL);
}

/* The request and the answer, whole, for the viewer. */
static char *test_text(struct app *a, struct screen_state *st, char *title, size_t tlen, int *line)
{
	struct test *t = st->data;
	const char *body = t->body ? t->body : "";
	const char *answer = t->error[0] ? t->error : t->answer ? t->answer : "";
	size_t n = strlen(body) + strlen(answer) + 256;
	char *text = malloc(n);

	(void)line;
	if (text == NULL)
		abort();
	snprintf(title, tlen, "test request to %s", a->endpoint);
	snprintf(text, n, "request body:\n%s\n\nstatus %d, deployment %s, %.1f ms:\n%s", body,
		 t->status, t->chosen[0] ? t->chosen : "-", t->latency_ms, answer);
	return text;
}

/* A JSON answer is shown pretty-printed, anything else as it came. */
static char *pretty(char *answer)
{
	char *p = answer ? pretty_json(answer, strlen(answer)) : NULL;

	if (p == NULL)
		return answer;
	free(answer);
	return p;
}

static void body_typed(struct app *a, const char *line)
{
	struct test *t = test_of(a);

	free(t->body);
	t->body = strdup(line);
	t->file = -1;
}

static void type_body(struct app *a, struct test *t)
{
	app_copy(a->input, sizeof a->input, t->body ? t->body : "");
	for (char *p = a->input; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	app_copy(a->prompt, sizeof a->prompt, "body> ");
	a->prompt_done = body_typed;
	a->mode = APP_PROMPT;
}

/* Leaves curses for $EDITOR on a temporary copy of the body. */
static void edit_body(struct app *a, struct test *t)
{
	char path[] = "/tmp/mldeck-body-XXXXXX", cmd[PATH_MAX + 64];
	const char *ed = getenv("VISUAL") ? getenv("VISUAL") : getenv("EDITOR");
	int fd = mkstemp(path);
	char *body;

	if (fd < 0)
		return;
	if (t->body && write(fd, t->body, strlen(t->body)) < 0)
		app_message(a, 1, "cannot write %s", path);
	close(fd);
	snprintf(cmd, sizeof cmd, "%s '%s'", ed && ed[0] ? ed : "vi", path);
	def_prog_mode();
	endwin();
	if (system(cmd) != 0)
		app_message(a, 1, "editor exited with an error");
	reset_prog_mode();
	refresh();
	body = request_read(path);
	unlink(path);
	if (body != NULL) {
		free(t->body);
		t->body = body;
		t->file = -1;
	}
}

struct send_job {
	struct fetch_job job;
	char ep[64], dep[64]; /* dep: "" for the split */
	char *body;
	int keyed; /* the key was found: a failure after it is the scoring call's */
	char url[1024]; /* where it went */
	int status;
	char *answer, chosen[64];
	double latency_ms;
};

/* Through the profile's transport to the endpoint's route on that backend,
 * with the credential its authMode asks for (api/scoring.h). */
static int send_run(struct fetch_job *j, struct client *c)
{
	struct send_job *s = (struct send_job *)j;
	struct scoring_target st;
	size_t olen = 0;
	int rc;

	if (scoring_target(c, s->ep, &st, &j->err) < 0)
		return -1;
	s->keyed = 1;
	app_copy(s->url, sizeof s->url, st.url);
	rc = client_score(c, st.url, st.credential, s->dep[0] ? s->dep : NULL, s->body,
			  strlen(s->body), &s->status, &s->answer, &olen, s->chosen,
			  sizeof s->chosen, &s->latency_ms, &j->err);
	if (rc == 0 && s->status == 401 && st.refresh_at != 0)
		scoring_forget(c, s->ep); /* a kept token was refused: the next send asks anew */
	scoring_target_cleanup(&st);
	return rc;
}

static void send_done(struct app *a, struct fetch_job *j)
{
	struct send_job *s = (struct send_job *)j;
	struct test *t = test_of(a);

	if (strcmp(s->ep, a->endpoint) != 0)
		return;
	t->sending = 0;
	if (j->rc < 0 && s->keyed)
		snprintf(t->error, sizeof t->error, "no answer: %.200s", j->err.message);
	else if (j->rc < 0 && j->err.status)
		snprintf(t->error, sizeof t->error, "%d %.200s", j->err.status, j->err.message);
	else if (j->rc < 0)
		snprintf(t->error, sizeof t->error, "%.250s", j->err.message);
	if (j->rc < 0)
		return;
	free(t->answer);
	t->answer = pretty(s->answer);
	s->answer = NULL;
	t->answer_lines = 1;
	for (const char *c = t->answer; c && *c; c++)
		t->answer_lines += *c == '\n';
	screen_state_of(a, &screen_test)->top = 0;
	t->status = s->status;
	t->latency_ms = s->latency_ms;
	app_copy(t->url, sizeof t->url, s->url);
	app_copy(t->chosen, sizeof t->chosen, s->chosen);
	t->sent = 1;
}

static void send_release(struct fetch_job *j)
{
	struct send_job *s = (struct send_job *)j;

	free(s->body);
	free(s->answer);
	free(s);
}

static void send_request(struct app *a, struct test *t)
{
	struct send_job *s;

	t->error[0] = '\0';
	if (t->body == NULL) {
		snprintf(t->error, sizeof t->error, "no body: f picks a file, i types one");
		return;
	}
	s = fetch_job_new(sizeof *s, "test-send", send_run, send_done, send_release);
	if ((s->body = strdup(t->body)) == NULL)
		abort();
	app_copy(s->ep, sizeof s->ep, a->endpoint);
	if (t->target >= 0 && t->target < a->dep.n)
		app_copy(s->dep, sizeof s->dep, a->dep.name[t->target]);
	t->sending = 1;
	t->sent = 0;
	data_submit(a, &s->job);
}

static int test_key(struct app *a, struct screen_state *st, const struct keys_binding *b)
{
	struct test *t = st->data;

	switch (b->action) {
	case KA_TEST_SEND:
		send_request(a, t);
		return 1;
	case KA_TEST_FILE:
		pick_file(a, t, t->file + 1);
		return 1;
	case KA_TEST_TARGET:
		t->target = t->target + 1 >= a->dep.n ? -1 : t->target + 1;
		return 1;
	case KA_TEST_INLINE:
		type_body(a, t);
		return 1;
	case KA_TEST_EDIT:
		edit_body(a, t);
		return 1;
	default:
		return 0;
	}
}

static void test_cleanup(struct screen_state *st)
{
	struct test *t = st->data;

	free(t->body);
	free(t->answer);
}

const struct screen screen_test = {
    .name = "Test",
    .commands = {"test"},
    .acts = acts,
    .data_size = sizeof(struct test),
    .args = data_endpoint_names,
    .open = test_open,
    .select = test_select,
    .draw = test_draw,
    .key = test_key,
    .text = test_text,
    .cleanup = test_cleanup,
};
