/* screens/batchview.c: what the batch screens share (see batchview.h). */
#include "ui/console/screens/batchview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/dialog.h"
#include "ui/console/draw.h"

const char *batch_job_prop(const cJSON *job, const char *key)
{
	const cJSON *pp = data_member(job, "properties.properties");
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pp, key));

	return s != NULL ? s : "";
}

static long prop_num(const cJSON *job, const char *key)
{
	const char *s = batch_job_prop(job, key);

	return s[0] ? strtol(s, NULL, 10) : -1;
}

void batch_fig_of(const cJSON *job, struct batch_fig *f)
{
	f->status = data_str(job, "properties.status");
	f->total = prop_num(job, "totalMiniBatches");
	f->done = prop_num(job, "completedMiniBatches");
	f->failed_mb = prop_num(job, "failedMiniBatches");
	f->items = prop_num(job, "totalItems");
	f->ok = prop_num(job, "succeededItems");
	f->bad = prop_num(job, "failedItems");
	f->rate = prop_num(job, "itemsPerSecond");
	f->eta = prop_num(job, "etaSeconds");
}

int batch_status_active(const char *s)
{
	static const char *const ended[] = {"Completed", "Failed",	  "Canceled", "NotResponding",
					    "Paused",	 "NotStarted", ""};

	for (size_t i = 0; i < sizeof ended / sizeof ended[0]; i++)
		if (strcmp(s, ended[i]) == 0)
			return 0;
	return 1;
}

void batch_bar(const struct app *a, char *buf, size_t len, long done, long total, int w)
{
	char count[48];
	size_t used = 0;
	int n, bw, fill;

	buf[0] = '\0';
	if (total <= 0)
		return;
	if (done < 0)
		done = 0;
	n = snprintf(count, sizeof count, " %ld/%ld", done, total);
	bw = w - n;
	if (bw < 4) {
		snprintf(buf, len, "%s", count + 1);
		return;
	}
	fill = done >= total ? bw : (int)((long long)bw * done / total);
	for (int i = 0; i < bw && used + 4 < len; i++) {
		const char *g = i < fill ? (a->utf8 ? "\xe2\x96\x88" : "#")
					 : (a->utf8 ? "\xe2\x96\x91" : ".");

		memcpy(buf + used, g, strlen(g));
		used += strlen(g);
	}
	snprintf(buf + used, len - used, "%s", count);
}

void batch_draw_bar(struct app *a, struct rect r, long done, long total, int cursor)
{
	char bar[4 * 256 + 64];

	batch_bar(a, bar, sizeof bar, done, total, r.w < 256 ? r.w : 256);
	draw_text(a, cursor ? THEME_CURSOR : THEME_SLIDER, r.y, r.x, r.w, bar);
}

void batch_eta(char *buf, size_t len, long eta)
{
	if (eta < 0)
		snprintf(buf, len, "%s", "");
	else if (eta >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", eta / 3600, eta / 60 % 60, eta % 60);
	else
		snprintf(buf, len, "%ld:%02ld", eta / 60, eta % 60);
}

/* ",1,2" -> "1,2" of a list of numbers or names, appended to buf at *n. */
static void add_list(char *buf, size_t len, size_t *n, const char *lead, const cJSON *arr)
{
	const cJSON *e;
	int first = 1;

	if (cJSON_GetArraySize(arr) == 0 || *n >= len)
		return;
	*n += (size_t)snprintf(buf + *n, len - *n, "%s", lead);
	cJSON_ArrayForEach(e, arr)
	{
		if (*n >= len)
			return;
		if (cJSON_IsNumber(e))
			*n += (size_t)snprintf(buf + *n, len - *n, "%s%d", first ? "" : ",",
					       e->valueint);
		else if (cJSON_IsString(e))
			*n += (size_t)snprintf(buf + *n, len - *n, "%s%s", first ? "" : ",",
					       e->valuestring);
		first = 0;
	}
}

void batch_trigger(const cJSON *s, char *buf, size_t len)
{
	const cJSON *t = data_member(s, "properties.trigger");
	const cJSON *p = data_member(t, "schedule");
	size_t n;

	if (strcmp(data_str(t, "triggerType"), "Cron") == 0) {
		snprintf(buf, len, "cron %s", data_str(t, "expression"));
		return;
	}
	n = (size_t)snprintf(buf, len, "every %.0f %s", data_num(t, "interval"),
			     data_str(t, "frequency"));
	if (n >= len)
		return;
	add_list(buf, len, &n, " on ", data_member(p, "weekDays"));
	add_list(buf, len, &n, " days ", data_member(p, "monthDays"));
	add_list(buf, len, &n, " at h ", data_member(p, "hours"));
	add_list(buf, len, &n, " m ", data_member(p, "minutes"));
}

void batch_time(char *buf, size_t len, const char *iso)
{
	snprintf(buf, len, "%.16s", iso);
	if (strlen(buf) > 10 && buf[10] == 'T')
		buf[10] = ' ';
}

static void canceled(struct app *a, struct data_call *c)
{
	if (c->job.rc < 0) {
		app_message(a, 1, "refused (%d %s): %s", c->job.err.status, c->job.err.code,
			    c->job.err.message);
		return;
	}
	app_message(a, 0, "cancel requested: %s", c->tag);
	screen_load(a);
}

static void cancel_chosen(struct app *a, int button)
{
	struct app_dialog *d = &a->dialog;

	if (button != 1) {
		app_message(a, 0, "not canceled: %s runs on", d->what);
		return;
	}
	data_call(a, "", "POST", d->path, NULL, d->what, canceled);
}

void batch_cancel(struct app *a, const char *name, const char *status)
{
	static const char *const buttons[] = {"No", "Yes"};
	struct app_dialog *d = &a->dialog;
	char title[200];

	if (!batch_status_active(status)) {
		app_message(a, 1, "job %s is %s: nothing to cancel", name, status);
		return;
	}
	snprintf(title, sizeof title, "Cancel job %.120s?", name);
	dialog_open(a, title,
		    "Its workers stop within a second; the mini-batches done stay in its logs, "
		    "and no output file is written.",
		    buttons, 2, 0, 0, cancel_chosen);
	app_copy(d->what, sizeof d->what, name);
	snprintf(d->path, sizeof d->path, "/jobs/%s/cancel", name);
}
