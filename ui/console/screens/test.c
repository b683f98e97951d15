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

#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/draw.h"
#include "ui/console/request.h"

struct test {
	struct request_files files;
	int file;   /* -1 = typed body */
	char *body; /* heap */
	int target; /* -1 = the split, else a deployment index */
	int sent, status;
	double latency_ms;
	char chosen[64];
	char *answer; /* heap */
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

/* `t` on an endpoint, a deployment or a log, ":test [ENDPOINT]". */
static void test_open(struct app *a, const struct screen_sel *from, const char *arg)
{
	struct test *t = test_of(a);
	cJSON *deps = NULL;
	const char *ep = arg[0] ? arg : from->endpoint;

	if (ep[0])
		app_copy(a->endpoint, sizeof a->endpoint, ep);
	if (a->endpoint[0] == '\0')
		return;
	if (data_load_endpoint(a, &deps) == 0)
		cJSON_Delete(deps);
	request_list(&t->files);
	t->target = -1;
	t->sent = 0;
	t->error[0] = '\0';
	if (t->body == NULL)
		pick_file(a, t, request_for_endpoint(&t->files, a->endpoint));
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

	snprintf(buf, sizeof buf, "TEST REQUEST  endpoint %s  %s", a->endpoint, a->scoring_uri);
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
	draw_lines(a, r, t->answer ? t->answer : "", 0, THEME_NORMAL);
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

static void send_request(struct app *a, struct test *t)
{
	struct scoring_target st;
	struct error err = {0};
	size_t olen = 0;
	int rc;

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
			  t->target >= 0 ? a->dep.name[t->target] : NULL, t->body, strlen(t->body),
			  &t->status, &t->answer, &olen, t->chosen, sizeof t->chosen,
			  &t->latency_ms, &err);
	scoring_target_cleanup(&st);
	if (rc < 0) {
		snprintf(t->error, sizeof t->error, "no answer: %.200s", err.message);
		return;
	}
	t->sent = 1;
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
    .open = test_open,
    .select = test_select,
    .draw = test_draw,
    .key = test_key,
    .cleanup = test_cleanup,
};
