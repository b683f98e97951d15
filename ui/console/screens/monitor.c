/* screens/monitor.c: one deployment's monitoring (GET /v1/monitors): its features ranked by
 * live drift, a bar each against its threshold with a sparkline of the last minutes, data
 * quality, the monitor's last and next run, the last alerts, and a warning while requests go
 * uncollected (a saturated CPU, a full disk). Refreshed every second. */
#include "ui/console/screen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ui/console/app.h"
#include "ui/console/data.h"
#include "ui/console/draw.h"
#include "ui/console/sparkline.h"

#define BAR_MAX 2.5 /* the bar's end: two and a half times the threshold */
#define LOSS_SHOWN 10 /* seconds a loss stays on screen after the last one */

/* The collection's counts at the last answer, and the last loss seen. */
struct loss {
	int have;
	double records, dropped, failed;
	double share;        /* of requests collected over the last lossy interval */
	int failing;         /* records not written */
	time_t at;           /* of the last loss; 0: none */
};

struct monitor {
	char ep[64], dep[64];
	cJSON *doc; /* the last answer */
	struct loss loss;
};

/* Compares the collection's counts with the last answer's. */
static void loss_update(struct loss *l, const cJSON *collected)
{
	double rec, drop, fail, dr, dd, df;

	if (collected == NULL)
		return;
	rec = data_num(collected, "records");
	drop = data_num(collected, "dropped");
	fail = data_num(collected, "failed");
	if (isnan(rec) || isnan(drop) || isnan(fail))
		return;
	dr = rec - l->records;
	dd = drop - l->dropped;
	df = fail - l->failed;
	if (l->have && (dd > 0 || df > 0)) {
		l->share = dr > 0 ? dr / (dr + dd + df) : 0;
		l->failing = df > 0;
		l->at = time(NULL);
	}
	l->records = rec;
	l->dropped = drop;
	l->failed = fail;
	l->have = 1;
}

static const enum keys_action acts[] = {KA_LOGS, KA_TEST, KA_NONE};

static void monitor_loaded(struct app *a, struct data_call *c)
{
	struct monitor *m = screen_state_of(a, &screen_monitor)->data;
	char tag[160];
	cJSON *doc;

	snprintf(tag, sizeof tag, "%s/%s", m->ep, m->dep);
	if (strcmp(tag, c->tag) != 0)
		return; /* another deployment's */
	if (c->job.rc < 0 || (doc = cJSON_Parse(c->text ? c->text : "")) == NULL) {
		if (c->job.rc < 0)
			data_report(a, c->method, c->path, &c->job);
		screen_loaded(a, &screen_monitor, 0);
		return;
	}
	cJSON_Delete(m->doc);
	m->doc = doc;
	loss_update(&m->loss, data_member(doc, "collected"));
	screen_loaded(a, &screen_monitor, 1);
}

static void monitor_load(struct app *a, struct screen_state *st)
{
	struct monitor *m = st->data;
	char path[256], tag[160];

	if (m->ep[0] == '\0') {
		screen_loaded(a, &screen_monitor, 1);
		return;
	}
	snprintf(path, sizeof path, "/v1/monitors?endpoint=%s&deployment=%s", m->ep, m->dep);
	snprintf(tag, sizeof tag, "%s/%s", m->ep, m->dep);
	data_get(a, "monitor", path, tag, monitor_loaded);
}

static void monitor_tick(struct app *a, struct screen_state *st, int list_due, int live_due)
{
	(void)list_due;
	if (live_due)
		monitor_load(a, st);
}

/* Enter or D on a deployment, ":monitor [EP/DEP]". */
static void monitor_open(struct app *a, const struct screen_sel *from, const char *arg)
{
	struct monitor *m = screen_state_of(a, &screen_monitor)->data;
	const char *slash = strchr(arg, '/');

	if (arg[0] && slash) {
		snprintf(m->ep, sizeof m->ep, "%.*s", (int)(slash - arg), arg);
		app_copy(m->dep, sizeof m->dep, slash + 1);
	} else if (from->deployment[0]) {
		app_copy(m->ep, sizeof m->ep, from->endpoint);
		app_copy(m->dep, sizeof m->dep, from->deployment);
	} else {
		app_message(a, 1, "select a deployment (or :monitor ENDPOINT/DEPLOYMENT)");
		return;
	}
	cJSON_Delete(m->doc);
	m->doc = NULL;
	memset(&m->loss, 0, sizeof m->loss);
	screen_show(a, &screen_monitor, 1);
}

static void monitor_select(struct app *a, struct screen_state *st, struct screen_sel *out)
{
	struct monitor *m = st->data;

	(void)a;
	app_copy(out->endpoint, sizeof out->endpoint, m->ep);
	app_copy(out->deployment, sizeof out->deployment, m->dep);
}

/* ---- drawing ---------------------------------------------------------------- */

/* How far along the bar a value is (0..1); the threshold sits at 1 / BAR_MAX. */
static double bar_fill(const cJSON *f)
{
	double sev = data_num(f, "severity");

	if (isnan(sev) || sev < 0)
		return 0;
	return sev / BAR_MAX > 1 ? 1 : sev / BAR_MAX;
}

/* "[#######|###      ]": the threshold is the '|'. */
static void bar_text(const struct app *a, double fill, int w, char *buf, size_t len)
{
	int mark = (int)(w / BAR_MAX + 0.5), n = (int)(fill * w + 0.5), o = 0;
	const char *full = a->utf8 ? "\xe2\x96\x88" : "#";

	for (int i = 0; i < w && o + 4 < (int)len; i++) {
		const char *g = i == mark ? "|" : i < n ? full : " ";
		size_t gl = strlen(g);
		memcpy(buf + o, g, gl);
		o += (int)gl;
	}
	buf[o] = '\0';
}

/* The last w history values on the bar's scale (the threshold at 1 / BAR_MAX of
 * the height), so a sparkline reads like the bar beside it. */
static void history_text(const struct app *a, const cJSON *f, int w, char *buf, size_t len)
{
	const cJSON *h = data_member(f, "history"), *v;
	double thr = data_num(f, "threshold");
	int test = !strcmp(data_str(f, "metric"), "TwoSampleKolmogorovSmirnovTest") ||
		   !strcmp(data_str(f, "metric"), "PearsonsChiSquaredTest");
	int lv[64], n = cJSON_GetArraySize(h), i = 0;

	if (w > 64)
		w = 64;
	cJSON_ArrayForEach(v, h)
	{
		int at = w - (n - i++);
		double sev;
		if (at < 0)
			continue;
		if (!cJSON_IsNumber(v) || isnan(thr)) {
			lv[at] = -1;
			continue;
		}
		sev = test ? thr / (v->valuedouble > 1e-300 ? v->valuedouble : 1e-300)
		      : thr > 0 ? v->valuedouble / thr
				: 0;
		sev = sev / BAR_MAX > 1 ? 1 : sev / BAR_MAX;
		lv[at] = (int)(sev * (SPARKLINE_LEVELS - 1) + 0.5);
	}
	for (i = 0; i < w - n; i++)
		lv[i] = -1;
	sparkline_render(lv, w, a->utf8, buf, len);
}

static const char *metric_short(const char *m)
{
	static const struct {
		const char *name, *abbr;
	} abbr[] = {{"NormalizedWassersteinDistance", "W1/sd"},
		    {"JensenShannonDistance", "JS"},
		    {"PopulationStabilityIndex", "PSI"},
		    {"TwoSampleKolmogorovSmirnovTest", "KS p"},
		    {"PearsonsChiSquaredTest", "chi2 p"}};

	for (size_t i = 0; i < sizeof abbr / sizeof abbr[0]; i++)
		if (!strcmp(m, abbr[i].name))
			return abbr[i].abbr;
	return m;
}

/* One feature's line: name, metric, bar, value/threshold, history. */
static void feature_line(struct app *a, const cJSON *f, int y, struct rect r)
{
	int failed = cJSON_IsFalse(data_member(f, "passed")), bw = r.w - 52;
	char bar[256], spark[256], line[1024], val[32];
	double v = data_num(f, "value");

	if (bw < 10)
		bw = 10;
	bar_text(a, bar_fill(f), bw, bar, sizeof bar);
	history_text(a, f, 12, spark, sizeof spark);
	snprintf(val, sizeof val, isnan(v) ? "-" : "%.3g", v);
	snprintf(line, sizeof line, "%-12.12s %-6.6s %s %7s/%-5.3g %s %s", data_str(f, "feature"),
		 metric_short(data_str(f, "metric")), bar, val, data_num(f, "threshold"),
		 failed ? "FAIL" : " ok ", spark);
	draw_text(a, failed ? THEME_STATUS_FAILED : THEME_NORMAL, y, r.x, r.w, line);
}

/* "quality: nulls 0.0% type errors 0.0% out of bounds 1.2% (tenure)". */
static void quality_line(struct app *a, const cJSON *feats, int y, struct rect r)
{
	static const char *const keys[] = {"nullRate", "typeErrorRate", "outOfBoundsRate"};
	static const char *const names[] = {"nulls", "type errors", "out of bounds"};
	char line[512];
	int o = snprintf(line, sizeof line, "quality:");

	for (int k = 0; k < 3; k++) {
		const cJSON *f, *worst = NULL;
		double max = -1;
		cJSON_ArrayForEach(f, feats)
		{
			double v = data_num(f, keys[k]);
			if (!isnan(v) && v > max) {
				max = v;
				worst = f;
			}
		}
		o += snprintf(line + o, sizeof line - (size_t)o, "  %s %.1f%%%s%s%s", names[k],
			      max < 0 ? 0.0 : 100 * max, max > 0 ? " (" : "",
			      max > 0 ? data_str(worst, "feature") : "", max > 0 ? ")" : "");
		if (o >= (int)sizeof line)
			break;
	}
	draw_text(a, THEME_NORMAL, y, r.x, r.w, line);
}

/* "2026-11-27T03:15:00Z" as "11-27 03:15:00" (UTC), "" as "-". */
static const char *short_time(const char *iso, char *buf, size_t len)
{
	if (strlen(iso) >= 19 && iso[10] == 'T')
		snprintf(buf, len, "%.5s %.8s", iso + 5, iso + 11);
	else
		snprintf(buf, len, "%s", iso[0] ? iso : "-");
	return buf;
}

/* "monitor NAME  last run 11-26 10:00:01 Failed  next 11-27 03:15:00". */
static void runs_line(struct app *a, const cJSON *doc, int y, struct rect r)
{
	const cJSON *m = cJSON_GetArrayItem(data_member(doc, "value"), 0);
	char line[512], last[40], next[40];
	const char *ms = data_str(m, "lastRun.monitorStatus");

	if (m == NULL) {
		draw_text(a, THEME_MESSAGE, y, r.x, r.w,
			  "no monitor targets this deployment (mldeck monitor create ...)");
		return;
	}
	snprintf(line, sizeof line, "monitor %s  last run %s %s  next %s", data_str(m, "name"),
		 short_time(data_str(m, "lastRun.time"), last, sizeof last),
		 ms[0] ? ms : data_str(m, "lastRun.status"),
		 short_time(data_str(m, "nextRun"), next, sizeof next));
	draw_text(a, !strcmp(ms, "Failed") ? THEME_STATUS_FAILED : THEME_NORMAL, y, r.x, r.w, line);
}

static void monitor_draw(struct app *a, struct screen_state *st, struct rect r)
{
	struct monitor *m = st->data;
	const cJSON *live = data_member(m->doc, "live.model_inputs"), *f, *al;
	int y = r.y, bottom = r.y + r.h, alerts = cJSON_GetArraySize(data_member(m->doc, "alerts"));
	char title[256], last[40];

	snprintf(title, sizeof title, "MONITOR %s/%s  live: %s rows", m->ep, m->dep,
		 live ? data_str(live, "rows")[0] ? data_str(live, "rows") : "0" : "-");
	if (live)
		snprintf(title, sizeof title, "MONITOR %s/%s  live: %.0f rows", m->ep, m->dep,
			 data_num(live, "rows"));
	draw_text(a, THEME_TITLE, y++, r.x, r.w, title);
	runs_line(a, m->doc, y++, r);
	if (m->loss.at && time(NULL) - m->loss.at < LOSS_SHOWN) {
		if (m->loss.failing)
			snprintf(title, sizeof title,
				 "collection failing: records not written, see the runtime log");
		else
			snprintf(title, sizeof title,
				 "collecting %.0f%% of requests: the CPU is saturated, the rest is "
				 "dropped",
				 100 * m->loss.share);
		draw_text(a, THEME_STATUS_FAILED, y++, r.x, r.w, title);
	}
	if (live == NULL) {
		draw_text(a, THEME_MESSAGE, y++, r.x, r.w,
			  "no live drift: a monitor with a reference, and model_inputs collected");
	} else {
		quality_line(a, data_member(live, "features"), y++, r);
		draw_text(a, THEME_TABLE_HEADER, y++, r.x, r.w,
			  "FEATURE      METRIC DRIFT (| = threshold)");
		cJSON_ArrayForEach(f, data_member(live, "features"))
		{
			if (y >= bottom - (alerts ? 2 : 0))
				break;
			feature_line(a, f, y++, r);
		}
	}
	if (alerts && y < bottom - 1) {
		y = y < bottom - 2 ? bottom - 2 : y;
		draw_text(a, THEME_TABLE_HEADER, y++, r.x, r.w, "LAST ALERT");
		al = cJSON_GetArrayItem(data_member(m->doc, "alerts"), 0);
		snprintf(title, sizeof title, "%s %s",
			 short_time(data_str(al, "time"), last, sizeof last), data_str(al, "text"));
		draw_text(a, THEME_STATUS_FAILED, y, r.x, r.w, title);
	}
}

static char *monitor_text(struct app *a, struct screen_state *st, char *title, size_t tlen,
			  int *line)
{
	struct monitor *m = st->data;

	(void)a;
	if (m->doc == NULL)
		return NULL;
	snprintf(title, tlen, "monitoring of %s/%s", m->ep, m->dep);
	*line = 0;
	return cJSON_Print(m->doc);
}

static void monitor_cleanup(struct screen_state *st)
{
	struct monitor *m = st->data;

	cJSON_Delete(m->doc);
}

const struct screen screen_monitor = {
    .name = "Monitor",
    .commands = {"monitor", "mon", "drift"},
    .acts = acts,
    .flags = SCREEN_BACKEND,
    .data_size = sizeof(struct monitor),
    .open = monitor_open,
    .load = monitor_load,
    .tick = monitor_tick,
    .select = monitor_select,
    .draw = monitor_draw,
    .text = monitor_text,
    .cleanup = monitor_cleanup,
};
