/* screens/job.c: one batch job: its figures and progress bar, then its
 * mini-batch table (the last ones of sys/job_report/processed_mini-batches.csv,
 * Azure's columns), its progress log and its error log (their last lines),
 * refreshed every refresh period while it is active. c cancels (asks, No
 * focused). */
#include "ui/console/screen.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/client.h"
#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/draw.h"
#include "ui/console/screens/batchview.h"

#define JOB_TAIL_CSV (128 * 1024) /* the last mini-batches */
#define JOB_TAIL_LOG (32 * 1024)

static const enum keys_action acts[] = {KA_CANCEL, KA_NONE};

struct job_view {
	char name[160];
	char *text; /* mini-batches and logs, heap; the job itself is st->doc */
	int active;
};

struct job_fetch {
	struct fetch_job job;
	char name[160];
	cJSON *doc;
	char *text;
	size_t len, cap;
};

static void add(struct job_fetch *f, const char *s, size_t n)
{
	if (f->len + n + 1 > f->cap) {
		size_t cap = (f->cap + n + 1) * 2;
		char *p = realloc(f->text, cap);

		if (p == NULL)
			return;
		f->text = p;
		f->cap = cap;
	}
	memcpy(f->text + f->len, s, n);
	f->len += n;
	f->text[f->len] = '\0';
}

static void addf(struct job_fetch *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void addf(struct job_fetch *f, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		add(f, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* The last tail bytes of the job's file rel (whole lines), or NULL. */
static char *tail(struct client *c, const char *name, const cJSON *files, const char *rel,
		  long tail_bytes, int *cut)
{
	const cJSON *e;
	double size = -1;
	char path[1024], *text = NULL, *nl;
	size_t len;
	long off;
	struct error err = {0};

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(files, "value"))
	{
		if (strcmp(data_str(e, "path"), rel) == 0)
			size = data_num(e, "size");
	}
	if (size < 0)
		return NULL;
	off = size > (double)tail_bytes ? (long)size - tail_bytes : 0;
	snprintf(path, sizeof path, "%s/jobs/%s/content?path=%s&offset=%ld&length=%ld",
		 client_ws_path(c), name, rel, off, tail_bytes);
	if (client_get_text(c, path, &text, &len, &err) < 0)
		return NULL;
	*cut = off > 0;
	if (off > 0 && (nl = strchr(text, '\n')) != NULL) /* from the first whole line */
		memmove(text, nl + 1, strlen(nl + 1) + 1);
	return text;
}

/* One CSV line into at most max fields (quoted fields as Azure's writer
 * quotes them). Returns the field count; fields point into line. */
static int csv_fields(char *line, char **field, int max)
{
	int n = 0;
	char *p = line;

	while (n < max) {
		char *w;

		if (*p == '"') {
			field[n++] = w = ++p;
			while (*p && !(*p == '"' && p[1] != '"')) {
				if (*p == '"')
					p++;
				*w++ = *p++;
			}
			if (*p == '"')
				p++;
			*w = '\0';
			if (*p == ',')
				*p++ = '\0';
			else
				break;
		} else {
			field[n++] = p;
			p += strcspn(p, ",");
			if (*p != ',')
				break;
			*p++ = '\0';
		}
	}
	return n;
}

/* processed_mini-batches.csv as a table: Id, tries, start, items (total,
 * succeeded, failed), seconds, status, files or the error. */
static void add_mini_batches(struct job_fetch *f, char *csv, int cut)
{
	char *save = NULL, *line;
	int first = 1;

	addf(f, "MINI-BATCHES%s\n", cut ? " (the last ones)" : "");
	addf(f, "%6s %5s %-19s %8s %8s %7s %7s  %-13s %s\n", "ID", "TRIES", "START", "ITEMS",
	     "OK", "FAILED", "SECS", "STATUS", "FILES / ERROR");
	for (line = strtok_r(csv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *fl[14];
		int n;

		if (first && !cut) { /* the header */
			first = 0;
			continue;
		}
		first = 0;
		n = csv_fields(line, fl, 14);
		if (n < 14)
			continue;
		/* 0 Id, 1 Picked, 2 Process, 3 Start, 4 Total, 5 Succeeded, 6 Failed,
		 * 7 Elapsed, 8 Process s, 9 Run s, 10 Status, 11 Category, 12 Message, 13 Detail */
		addf(f, "%6s %5s %-19.19s %8s %8s %7s %7s  %-13s %s\n", fl[0], fl[1], fl[3], fl[4],
		     fl[5], fl[6], fl[7], fl[10], fl[12][0] ? fl[12] : fl[13]);
	}
}

static int job_run(struct fetch_job *j, struct client *c)
{
	struct job_fetch *f = (struct job_fetch *)j;
	cJSON *files = NULL;
	char path[512], *t;
	int cut = 0;

	snprintf(path, sizeof path, "/jobs/%s", f->name);
	if (client_call(c, "GET", path, NULL, &f->doc, &j->err) < 0)
		return -1;
	snprintf(path, sizeof path, "/jobs/%s/files", f->name);
	if (client_call(c, "GET", path, NULL, &files, &j->err) < 0)
		return -1;
	add(f, "", 0);
	t = tail(c, f->name, files, "logs/sys/job_report/processed_mini-batches.csv", JOB_TAIL_CSV,
		 &cut);
	if (t != NULL)
		add_mini_batches(f, t, cut);
	else
		addf(f, "MINI-BATCHES\n(none processed yet)\n");
	free(t);
	t = tail(c, f->name, files, "logs/job_progress_overview.txt", JOB_TAIL_LOG, &cut);
	addf(f, "\nPROGRESS LOG (logs/job_progress_overview.txt%s)\n", cut ? ", the last lines" : "");
	if (t != NULL)
		add(f, t, strlen(t));
	free(t);
	t = tail(c, f->name, files, "logs/user/error.txt", JOB_TAIL_LOG, &cut);
	if (t != NULL) {
		addf(f, "\nERRORS (logs/user/error.txt%s)\n", cut ? ", the last lines" : "");
		add(f, t, strlen(t));
	}
	free(t);
	cJSON_Delete(files);
	return 0;
}

static void job_done(struct app *a, struct fetch_job *j)
{
	struct job_fetch *f = (struct job_fetch *)j;
	struct screen_state *st = screen_state_of(a, &screen_job);
	struct job_view *v = st->data;

	if (strcmp(f->name, v->name) != 0)
		return; /* another job is open now */
	if (j->rc < 0) {
		char path[200];

		snprintf(path, sizeof path, "/jobs/%s", f->name);
		data_report(a, "GET", path, j);
		screen_loaded(a, &screen_job, 0);
		return;
	}
	cJSON_Delete(st->doc);
	st->doc = f->doc;
	f->doc = NULL;
	free(v->text);
	v->text = f->text;
	f->text = NULL;
	v->active = batch_status_active(data_str(st->doc, "properties.status"));
	screen_loaded(a, &screen_job, 1);
}

static void job_release(struct fetch_job *j)
{
	struct job_fetch *f = (struct job_fetch *)j;

	cJSON_Delete(f->doc);
	free(f->text);
	free(f);
}

static void job_load(struct app *a, struct screen_state *st)
{
	struct job_view *v = st->data;
	struct job_fetch *f;

	if (v->name[0] == '\0') {
		screen_loaded(a, &screen_job, 1);
		return;
	}
	f = fetch_job_new(sizeof *f, "job", job_run, job_done, job_release);
	app_copy(f->name, sizeof f->name, v->name);
	data_submit(a, &f->job);
}

static void job_tick(struct app *a, struct screen_state *st, int list_due, int live_due)
{
	struct job_view *v = st->data;

	if ((live_due && v->active) || (list_due && st->doc == NULL))
		job_load(a, st);
}

/* Enter on a job, ":job NAME". */
static void job_open(struct app *a, const struct screen_sel *from, const char *arg)
{
	struct screen_state *st = screen_state_of(a, &screen_job);
	struct job_view *v = st->data;

	(void)from;
	if (arg[0] == '\0') {
		app_message(a, 1, "which job? :job NAME, or Enter on the Jobs screen");
		return;
	}
	if (strcmp(v->name, arg) != 0) {
		app_copy(v->name, sizeof v->name, arg);
		cJSON_Delete(st->doc);
		st->doc = NULL;
		free(v->text);
		v->text = NULL;
		st->top = 0;
	}
	screen_show(a, &screen_job, 1);
}

static void job_title(struct app *a, struct screen_state *st, char *buf, size_t len)
{
	struct job_view *v = st->data;

	(void)a;
	snprintf(buf, len, "Job/%s", v->name);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n + 1;
}

static void job_draw(struct app *a, struct screen_state *st, struct rect r)
{
	struct job_view *v = st->data;
	struct batch_fig f;
	char buf[1024], eta[32];
	struct rect bar;
	int y = r.y, total;

	if (st->doc == NULL) {
		draw_text(a, THEME_NORMAL, r.y, r.x, r.w, "loading...");
		return;
	}
	batch_fig_of(st->doc, &f);
	snprintf(buf, sizeof buf, "%s  %s / %s", f.status,
		 batch_job_prop(st->doc, "azureml.endpointname"),
		 batch_job_prop(st->doc, "azureml.deploymentname"));
	draw_text(a, data_state_style(f.status), y++, r.x, r.w, buf);
	bar = (struct rect){.y = y++, .x = r.x, .h = 1, .w = r.w < 60 ? r.w : 60};
	batch_draw_bar(a, bar, f.done, f.total, 0);
	batch_eta(eta, sizeof eta, v->active ? f.eta : -1);
	snprintf(buf, sizeof buf, "items %ld ok, %ld failed  mini-batches %ld failed%s%s%s%s",
		 f.ok < 0 ? 0 : f.ok, f.bad < 0 ? 0 : f.bad, f.failed_mb < 0 ? 0 : f.failed_mb,
		 f.rate >= 0 && v->active ? "  items/s " : "",
		 f.rate >= 0 && v->active ? batch_job_prop(st->doc, "itemsPerSecond") : "",
		 eta[0] ? "  ETA " : "", eta);
	draw_text(a, THEME_NORMAL, y++, r.x, r.w, buf);
	snprintf(buf, sizeof buf, "error: %s", batch_job_prop(st->doc, "error"));
	draw_text(a, THEME_ERROR, y++, r.x, r.w, batch_job_prop(st->doc, "error")[0] ? buf : "");
	draw_hline(a, y++, r.x, r.w);
	r.h -= y - r.y;
	r.y = y;
	total = count_lines(v->text);
	if (st->top > total - r.h)
		st->top = total - r.h;
	if (st->top < 0)
		st->top = 0;
	draw_lines(a, r, v->text ? v->text : "", st->top, THEME_NORMAL);
}

static int job_key(struct app *a, struct screen_state *st, const struct keys_binding *b)
{
	struct job_view *v = st->data;

	if (b->action != KA_CANCEL)
		return 0;
	if (st->doc != NULL)
		batch_cancel(a, v->name, data_str(st->doc, "properties.status"));
	return 1;
}

static char *job_text(struct app *a, struct screen_state *st, char *title, size_t tlen, int *line)
{
	struct job_view *v = st->data;

	(void)a;
	if (v->text == NULL)
		return NULL;
	snprintf(title, tlen, "job %s", v->name);
	*line = st->top;
	return strdup(v->text);
}

static void job_cleanup(struct screen_state *st)
{
	struct job_view *v = st->data;

	free(v->text);
}

const struct screen screen_job = {
    .name = "Job",
    .commands = {"job"},
    .acts = acts,
    .flags = SCREEN_BACKEND,
    .data_size = sizeof(struct job_view),
    .open = job_open,
    .load = job_load,
    .tick = job_tick,
    .title = job_title,
    .draw = job_draw,
    .key = job_key,
    .text = job_text,
    .cleanup = job_cleanup,
};
