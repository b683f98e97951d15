/* draw.c: the console's frames. */
#include "ui/console/draw.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ui/console/data.h"
#include "ui/console/sparkline.h"

static attr_t style_bits(unsigned a)
{
	attr_t r = 0;

	if (a & THEME_A_BOLD)
		r |= A_BOLD;
	if (a & THEME_A_UNDERLINE)
		r |= A_UNDERLINE;
	if (a & THEME_A_REVERSE)
		r |= A_REVERSE;
	if (a & THEME_A_DIM)
		r |= A_DIM;
	if (a & THEME_A_STANDOUT)
		r |= A_STANDOUT;
	return r;
}

/* Without colours these elements still need to stand out. */
static const unsigned mono_fallback[THEME_COUNT] = {
    [THEME_HEADER] = THEME_A_REVERSE,	  [THEME_HEADER_RO] = THEME_A_REVERSE,
    [THEME_CURSOR] = THEME_A_REVERSE,	  [THEME_SLIDER_PENDING] = THEME_A_BOLD,
    [THEME_STATUS_FAILED] = THEME_A_BOLD, [THEME_DIALOG] = THEME_A_REVERSE,
    [THEME_DIALOG_FOCUS] = THEME_A_BOLD,  [THEME_ERROR] = THEME_A_BOLD,
    [THEME_HINT_KEY] = THEME_A_BOLD,	  [THEME_TABLE_HEADER] = THEME_A_UNDERLINE,
};

void draw_theme(struct app *a)
{
	a->colors = 0;
	if (!a->no_color && has_colors() && start_color() == OK) {
		use_default_colors();
		a->colors = COLORS >= 256 ? 256 : COLORS >= 8 ? 8 : 0;
	}
	if (a->colors == 0)
		return;
	for (int e = 0; e < THEME_COUNT && e + 1 < COLOR_PAIRS; e++) {
		int fg = a->theme.style[e].fg, bg = a->theme.style[e].bg;

		if (a->colors < 256) {
			fg = theme_color_to8(fg);
			bg = theme_color_to8(bg);
		}
		init_pair((short)(e + 1), (short)fg, (short)bg);
	}
}

static attr_t attr_of(const struct app *a, enum theme_elem e)
{
	unsigned bits = a->theme.style[e].attrs;

	if (a->colors == 0)
		return style_bits(bits ? bits : mono_fallback[e]);
	return style_bits(bits) | COLOR_PAIR(e + 1);
}

/* Writes s at (y, x) within w columns (UTF-8 aware); returns columns used. */
static int put(int y, int x, int w, const char *s)
{
	mbstate_t st;
	int used = 0;

	memset(&st, 0, sizeof st);
	move(y, x);
	while (*s && used < w) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
		int cw;

		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof st);
			wc = '?';
			n = 1;
		}
		if (wc == '\t' || wc < 32)
			wc = ' ';
		cw = wcwidth(wc);
		if (cw < 0)
			cw = 1, wc = '?';
		if (used + cw > w)
			break;
		if (wc < 128) {
			addch((chtype)wc);
		} else {
			cchar_t cc;
			wchar_t ws[2] = {wc, 0};

			setcchar(&cc, ws, 0, 0, NULL);
			add_wch(&cc);
		}
		used += cw;
		s += n;
	}
	return used;
}

static int put_attr(const struct app *a, enum theme_elem e, int y, int x, int w, const char *s)
{
	int n;

	attron(attr_of(a, e));
	n = put(y, x, w, s);
	attroff(attr_of(a, e));
	return n;
}

/* Fills a row span with spaces in a style (for bars). */
static void fill(const struct app *a, enum theme_elem e, int y, int x, int w)
{
	attron(attr_of(a, e));
	mvhline(y, x, ' ', w);
	attroff(attr_of(a, e));
}

/* Line drawing as UTF-8 text (no alternate character set, which some
 * terminals and multiplexers mangle), or ASCII outside a UTF-8 locale. */
static const char *line_glyph(const struct app *a, int which)
{
	static const char *const utf8[] = {"\xe2\x94\x80", "\xe2\x94\x82", "\xe2\x94\x8c",
					   "\xe2\x94\x90", "\xe2\x94\x94", "\xe2\x94\x98"};
	static const char *const ascii[] = {"-", "|", "+", "+", "+", "+"};

	return a->utf8 ? utf8[which] : ascii[which];
}

enum { G_H, G_V, G_UL, G_UR, G_LL, G_LR };

static void glyph_run(const struct app *a, int which, int y, int x, int n, int vertical)
{
	for (int i = 0; i < n; i++)
		put(vertical ? y + i : y, vertical ? x : x + i, 1, line_glyph(a, which));
}

static void hline_at(const struct app *a, int y, int x, int w)
{
	attron(attr_of(a, THEME_BORDER));
	glyph_run(a, G_H, y, x, w, 0);
	attroff(attr_of(a, THEME_BORDER));
}

static void draw_header(struct app *a)
{
	struct rect r = a->lay.header;
	char buf[768];
	const char *scr = keys_screen_name(a->screen);
	int x;

	fill(a, THEME_HEADER, r.y, r.x, r.w);
	if (a->screen == KEYS_SCR_DEPLOYMENTS)
		snprintf(buf, sizeof buf, " mldeck | %s | %s | %s | %s/%s", a->prof.name,
			 a->info.base_url, a->state, scr, a->endpoint);
	else
		snprintf(buf, sizeof buf, " mldeck | %s | %s | %s | %s", a->prof.name,
			 a->info.base_url, a->state, scr);
	attron(attr_of(a, THEME_HEADER));
	x = put(r.y, r.x, r.w, buf);
	attroff(attr_of(a, THEME_HEADER));
	if (a->readonly && r.w - x > 12)
		put_attr(a, THEME_HEADER_RO, r.y, r.w - 12, 12, " READ-ONLY  ");
}

static void draw_hint(struct app *a)
{
	struct rect r = a->lay.hint;
	size_t n;
	const struct keys_binding *t = keys_table(&n);
	int x = r.x;

	if (a->mode == APP_FILTER || a->mode == APP_COMMAND || a->mode == APP_BODY) {
		put_attr(a, THEME_HINT, r.y, r.x, r.w, "Enter accept  Esc cancel  Backspace erase");
		return;
	}
	if (a->mode == APP_DIALOG) {
		put_attr(a, THEME_HINT, r.y, r.x, r.w,
			 "Tab/Left/Right choose  Enter confirm the focused button  Esc cancel");
		return;
	}
	for (size_t i = 0; i < n && x < r.w; i++) {
		const struct keys_binding *b = &t[i];

		if (!(b->flags & KEYS_HINT) || !(b->screens & KEYS_ON(a->screen)) ||
		    (a->readonly && (b->flags & KEYS_MUTATING)))
			continue;
		/* a key whose meaning was already shown for this screen */
		if (keys_lookup(b->codes[0], a->screen, a->readonly) != b)
			continue;
		if (x + (int)strlen(b->keyname) + (int)strlen(b->hint) + 1 > r.w)
			break;
		x += put_attr(a, THEME_HINT_KEY, r.y, x, r.w - x, b->keyname);
		x += put_attr(a, THEME_HINT, r.y, x, r.w - x, " ");
		x += put_attr(a, THEME_HINT, r.y, x, r.w - x, b->hint);
		x += put_attr(a, THEME_HINT, r.y, x, r.w - x, "  ");
	}
}

static void draw_message(struct app *a)
{
	struct rect r = a->lay.message;
	char buf[APP_INPUT_MAX + 8];

	if (a->mode == APP_FILTER || a->mode == APP_COMMAND || a->mode == APP_BODY) {
		const char *p = a->mode == APP_FILTER	 ? "/"
				: a->mode == APP_COMMAND ? ":"
							 : "body> ";
		size_t len = strlen(a->input);
		/* show the end of a long input */
		const char *tail =
		    len > (size_t)r.w - 8 ? a->input + len - ((size_t)r.w - 8) : a->input;

		snprintf(buf, sizeof buf, "%s%s", p, tail);
		put_attr(a, THEME_MESSAGE, r.y, r.x, r.w, buf);
		return;
	}
	put_attr(a, a->message_error ? THEME_ERROR : THEME_MESSAGE, r.y, r.x, r.w, a->message);
}

/* The traffic bar of deployment k in w columns: "█████░░░░░  90%". */
static void draw_slider(struct app *a, int k, int y, int x, int w, int cursor)
{
	const struct app_deploys *d = &a->dep;
	int pct = d->pend_live[k], pending = pct != d->live[k] || d->pend_mirror[k] != d->mirror[k];
	int bw = w - 5, filled = (int)lround(pct * bw / 100.0);
	enum theme_elem e = pending ? THEME_SLIDER_PENDING : THEME_SLIDER;
	char num[16];

	if (bw < 1)
		bw = 0, filled = 0;
	attron(attr_of(a, cursor ? THEME_CURSOR : e));
	for (int i = 0; i < bw; i++)
		put(y, x + i, 1,
		    i < filled ? (a->utf8 ? "\xe2\x96\x88" : "#")
			       : (a->utf8 ? "\xe2\x96\x91" : "."));
	attroff(attr_of(a, cursor ? THEME_CURSOR : e));
	snprintf(num, sizeof num, "%4d%%", pct);
	put_attr(a, cursor ? THEME_CURSOR : e, y, x + bw, 5, num);
}

static void draw_cell(struct app *a, const struct table *t, const struct table_row *row, int c,
		      int y, int x, int w, int cursor)
{
	char buf[TABLE_CELL + 8];
	enum theme_elem e = cursor ? THEME_CURSOR : THEME_NORMAL;
	int len = (int)strlen(row->cell[c]);

	if (a->screen == KEYS_SCR_DEPLOYMENTS && c == 2 && row->idx < a->dep.n) {
		draw_slider(a, row->idx, y, x, w, cursor);
		return;
	}
	if (!cursor && c == 1 && row->style >= 0 && t != &a->tables[KEYS_SCR_PROFILES])
		e = (enum theme_elem)row->style;
	if (!cursor && a->screen == KEYS_SCR_DEPLOYMENTS && c == 3 && row->idx < a->dep.n) {
		int k = row->idx;

		e = a->dep.pend_mirror[k] != a->dep.mirror[k] ? THEME_SLIDER_PENDING : THEME_MIRROR;
	}
	if (t->cols[c].numeric && len < w)
		snprintf(buf, sizeof buf, "%*s", w, row->cell[c]);
	else
		snprintf(buf, sizeof buf, "%s", row->cell[c]);
	put_attr(a, e, y, x, w, buf);
}

static void draw_table(struct app *a, struct table *t, struct rect r)
{
	int widths[TABLE_MAX_COLS], x = r.x, rows = r.h - 1;

	table_widths(t, r.w, widths);
	for (int c = 0; c < t->ncols; c++) {
		char title[80];

		if (widths[c] == 0)
			continue;
		snprintf(title, sizeof title, "%s%s", t->cols[c].title,
			 t->sort_col == c ? (t->sort_desc ? "v" : "^") : "");
		if (t->cols[c].numeric)
			snprintf(title, sizeof title, "%*s%s", widths[c] - (t->sort_col == c),
				 t->cols[c].title,
				 t->sort_col == c ? (t->sort_desc ? "v" : "^") : "");
		put_attr(a, THEME_TABLE_HEADER, r.y, x, widths[c], title);
		x += widths[c] + 1;
	}
	table_scroll(t, rows);
	for (int i = 0; i < rows && t->top + i < t->nview; i++) {
		int v = t->top + i, cursor = v == t->cursor, y = r.y + 1 + i;
		const struct table_row *row = &t->rows[t->view[v]];

		x = r.x;
		if (cursor)
			fill(a, THEME_CURSOR, y, r.x, r.w);
		for (int c = 0; c < t->ncols; c++) {
			if (widths[c] == 0)
				continue;
			draw_cell(a, t, row, c, y, x, widths[c], cursor);
			x += widths[c] + 1;
		}
	}
	if (t->nview == 0)
		put_attr(a, THEME_HINT, r.y + 1, r.x + 1, r.w - 2,
			 t->filter[0] ? "(no row matches the filter; Esc clears it)" : "(none)");
}

/* One latency line: "name  rps  p50  p99  err  sparkline". */
static void draw_latency_line(struct app *a, int y, int x, int w, const char *name,
			      const struct live_stats *s, const struct live_series *ser)
{
	char buf[256], spark[LIVE_SERIES * 4 + 1];
	int lv[LIVE_SERIES], used, sw;

	if (s == NULL || s->requests == 0)
		snprintf(buf, sizeof buf, "%-12.12s %6s %8s %8s %6s ", name, "-", "-", "-", "-");
	else
		snprintf(buf, sizeof buf, "%-12.12s %6.1f %8.2f %8.2f %5.1f%% ", name, s->rps,
			 isnan(s->p50) ? 0 : s->p50, isnan(s->p99) ? 0 : s->p99,
			 isnan(s->err_rate) ? 0 : s->err_rate * 100);
	used = put_attr(a, THEME_NORMAL, y, x, w, buf);
	sw = w - used - 1;
	if (sw > LIVE_SERIES)
		sw = LIVE_SERIES;
	if (ser == NULL || sw <= 0)
		return;
	sparkline_scale(ser->p99s, ser->n, sw, SPARKLINE_LEVELS, lv);
	sparkline_render(lv, sw, a->utf8, spark, sizeof spark);
	put_attr(a, THEME_SPARK_P99, y, x + used, sw, spark);
}

/* The latency block of endpoint ep: a title and one line per deployment. */
static int draw_latency(struct app *a, struct rect r, int y, const char *ep)
{
	const struct live_endpoint *le = live_endpoint(&a->live, ep);
	char title[160];

	snprintf(title, sizeof title, "%-12s %6s %8s %8s %6s  p99, last 60 s", "DEPLOYMENT", "RPS",
		 "P50ms", "P99ms", "ERR");
	put_attr(a, THEME_TITLE, y++, r.x, r.w, title);
	if (!a->live.ok) {
		put_attr(a, THEME_HINT, y++, r.x, r.w, "(no live metrics from this backend)");
		return y;
	}
	if (a->screen == KEYS_SCR_DEPLOYMENTS) {
		for (int k = 0; k < a->dep.n && y < r.y + r.h; k++)
			draw_latency_line(a, y++, r.x, r.w, a->dep.name[k],
					  live_deployment(le, a->dep.name[k]),
					  live_series_of(&a->live, a->dep.name[k]));
		return y;
	}
	for (int k = 0; le && k < le->ndeps && y < r.y + r.h; k++)
		draw_latency_line(a, y++, r.x, r.w, le->deps[k].name, &le->deps[k],
				  live_series_of(&a->live, le->deps[k].name));
	return y;
}

static void kv_line(struct app *a, int *y, struct rect r, const char *k, const char *v)
{
	char buf[1024];

	if (*y >= r.y + r.h || v == NULL || v[0] == '\0')
		return;
	snprintf(buf, sizeof buf, "%-12s %s", k, v);
	put_attr(a, THEME_NORMAL, (*y)++, r.x, r.w, buf);
}

static const cJSON *selected_doc(struct app *a)
{
	struct table_row *row = table_selected(&a->tables[a->screen]);
	const cJSON *doc = a->docs[a->screen];

	if (row == NULL || doc == NULL)
		return NULL;
	if (cJSON_IsObject(doc))
		doc = cJSON_GetObjectItemCaseSensitive(doc, "value");
	return cJSON_GetArrayItem(doc, row->idx);
}

static void detail_endpoint(struct app *a, struct rect r, int y)
{
	const cJSON *e = selected_doc(a);

	if (e == NULL)
		return;
	kv_line(a, &y, r, "scoring", data_str(e, "properties.scoringUri"));
	if (y < r.y + r.h)
		draw_latency(a, r, y, data_str(e, "name"));
}

static void detail_deployment(struct app *a, struct rect r, int y)
{
	const cJSON *d = selected_doc(a);
	char buf[1024];

	snprintf(buf, sizeof buf, "%s (m switches)  scoring %s",
		 a->dep.mirror_mode ? "MIRROR share" : "LIVE share", a->scoring_uri);
	kv_line(a, &y, r, "sliders", buf);
	y = draw_latency(a, r, y, a->endpoint);
	if (d == NULL)
		return;
	char model[128], env[128];

	data_asset_short(data_str(d, "properties.model"), model, sizeof model);
	data_asset_short(data_str(d, "properties.environmentId"), env, sizeof env);
	snprintf(buf, sizeof buf, "%s  environment %s  instances %.0f", model, env,
		 data_num(d, "sku.capacity"));
	kv_line(a, &y, r, "model", buf);
	kv_line(a, &y, r, "error", data_str(d, "properties.error"));
}

static void detail_asset(struct app *a, struct rect r, int y)
{
	const cJSON *v = selected_doc(a);

	if (v == NULL)
		return;
	kv_line(a, &y, r, "id", data_str(v, "id"));
	kv_line(a, &y, r, "modelUri", data_str(v, "properties.modelUri"));
	kv_line(a, &y, r, "sha256", data_str(v, "properties.properties.sha256"));
	kv_line(a, &y, r, "interpreter", data_str(v, "properties.interpreterPath"));
	kv_line(a, &y, r, "description", data_str(v, "properties.description"));
}

static void detail_profile(struct app *a, struct rect r, int y)
{
	struct table_row *row = table_selected(&a->tables[KEYS_SCR_PROFILES]);
	const struct profile *p = row ? profile_find(&a->profiles, row->key) : NULL;

	kv_line(a, &y, r, "config", a->profiles.path);
	if (p == NULL)
		return;
	kv_line(a, &y, r, "url", p->url);
	kv_line(a, &y, r, "home", p->home);
	kv_line(a, &y, r, "workspace", p->workspace);
	kv_line(a, &y, r, "key file", p->admin_key_file);
	kv_line(a, &y, r, "", "Enter switches to this profile");
}

/* A preview of the current theme: every element in its own style. */
static void detail_theme(struct app *a, struct rect r, int y)
{
	int x = r.x;

	for (int e = 0; e < THEME_COUNT && y < r.y + r.h; e++) {
		const char *k = theme_elem_key((enum theme_elem)e);
		int w = (int)strlen(k) + 1;

		if (x + w > r.x + r.w) {
			x = r.x;
			y++;
			if (y >= r.y + r.h)
				break;
		}
		put_attr(a, (enum theme_elem)e, y, x, w - 1, k);
		x += w;
	}
}

static void draw_detail(struct app *a)
{
	struct rect r = a->lay.detail;
	int y = r.y + 1;

	hline_at(a, r.y, r.x, r.w);
	if (a->lay.wide) {
		r.x += 1;
		r.w -= 1;
	}
	switch (a->screen) {
	case KEYS_SCR_ENDPOINTS:
		detail_endpoint(a, r, y);
		break;
	case KEYS_SCR_DEPLOYMENTS:
		detail_deployment(a, r, y);
		break;
	case KEYS_SCR_MODELS:
	case KEYS_SCR_ENVS:
		detail_asset(a, r, y);
		break;
	case KEYS_SCR_PROFILES:
		detail_profile(a, r, y);
		break;
	case KEYS_SCR_THEMES:
		detail_theme(a, r, y);
		break;
	default:
		break;
	}
}

/* Lines of text (no wrap) from line top within r. Returns the line count. */
static int draw_lines(struct app *a, struct rect r, const char *text, int top, enum theme_elem e)
{
	int line = 0, y = r.y;

	while (text && *text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);

		if (line >= top && y < r.y + r.h) {
			char buf[1024];

			snprintf(buf, sizeof buf, "%.*s", (int)(len < 1023 ? len : 1023), text);
			put_attr(a, e, y++, r.x, r.w, buf);
		}
		line++;
		text += len + (nl ? 1 : 0);
	}
	return line;
}

static struct rect body_rect(const struct app *a)
{
	struct rect r = a->lay.table;

	if (!a->lay.wide)
		r.h += a->lay.detail.h;
	else
		r.w += a->lay.detail.w;
	return r;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n + 1;
}

static void draw_logs(struct app *a)
{
	struct rect r = body_rect(a);
	char title[200];
	int total = count_lines(a->logs.text);

	snprintf(title, sizeof title, "LOGS %s/%s  %s", a->logs.ep, a->logs.dep,
		 a->logs.follow ? "(following)" : "(paused: f follows)");
	put_attr(a, THEME_TITLE, r.y, r.x, r.w, title);
	r.y++;
	r.h--;
	if (a->logs.follow || a->logs.top > total - r.h)
		a->logs.top = total - r.h;
	if (a->logs.top < 0)
		a->logs.top = 0;
	draw_lines(a, r, a->logs.text ? a->logs.text : "(empty)", a->logs.top, THEME_NORMAL);
}

static void draw_test(struct app *a)
{
	struct rect r = body_rect(a);
	struct app_test *t = &a->test;
	char buf[1024];
	int y = r.y;

	snprintf(buf, sizeof buf, "TEST REQUEST  endpoint %s  %s", a->endpoint, a->scoring_uri);
	put_attr(a, THEME_TITLE, y++, r.x, r.w, buf);
	snprintf(buf, sizeof buf, "target   %s",
		 t->target < 0 || t->target >= a->dep.n ? "the traffic split"
							: a->dep.name[t->target]);
	put_attr(a, THEME_NORMAL, y++, r.x, r.w, buf);
	snprintf(buf, sizeof buf, "request  %s",
		 t->file >= 0 && t->file < t->nfiles ? t->files[t->file] : "(typed body)");
	put_attr(a, THEME_NORMAL, y++, r.x, r.w, buf);
	snprintf(buf, sizeof buf, "body     %.900s",
		 t->body ? t->body : "(none: f picks a file, i types one)");
	put_attr(a, THEME_NORMAL, y++, r.x, r.w, buf);
	hline_at(a, y++, r.x, r.w);
	if (t->error[0]) {
		put_attr(a, THEME_ERROR, y++, r.x, r.w, t->error);
		return;
	}
	if (!t->sent)
		return;
	snprintf(buf, sizeof buf, "status   %d   deployment %s   latency %.1f ms", t->status,
		 t->chosen[0] ? t->chosen : "-", t->latency_ms);
	put_attr(a, t->status >= 200 && t->status < 300 ? THEME_STATUS_OK : THEME_STATUS_FAILED,
		 y++, r.x, r.w, buf);
	r.h -= y - r.y;
	r.y = y;
	draw_lines(a, r, t->answer ? t->answer : "", 0, THEME_NORMAL);
}

static void draw_help(struct app *a)
{
	struct rect r = body_rect(a);
	size_t n;
	const struct keys_binding *t = keys_table(&n);
	char buf[512];
	int line = 0, y = r.y;

	put_attr(a, THEME_TITLE, y++, r.x, r.w,
		 a->readonly ? "KEYS (read-only: keys that change anything are off)" : "KEYS");
	if (a->help_top > (int)n - 1)
		a->help_top = (int)n - 1;
	for (size_t i = 0; i < n && y < r.y + r.h; i++) {
		const struct keys_binding *b = &t[i];
		unsigned m = b->screens;
		const char *where = m == KEYS_ALL ? "everywhere" : "";
		char scr[128] = "";
		size_t used = 0;

		if (a->readonly && (b->flags & KEYS_MUTATING))
			continue;
		if (line++ < a->help_top)
			continue;
		for (int s = 0; s < KEYS_SCR_COUNT && !where[0]; s++)
			if ((m & KEYS_ON(s)) && used < sizeof scr)
				used += (size_t)snprintf(scr + used, sizeof scr - used, "%s%s",
							 used ? "," : "", keys_screen_name(s));
		snprintf(buf, sizeof buf, "%-9s %-28.28s %s", b->keyname, where[0] ? where : scr,
			 b->help);
		put_attr(a, THEME_NORMAL, y++, r.x, r.w, buf);
	}
}

static void draw_box(struct app *a, int y, int x, int h, int w)
{
	for (int i = 0; i < h; i++)
		fill(a, THEME_DIALOG, y + i, x, w);
	attron(attr_of(a, THEME_DIALOG));
	put(y, x, 1, line_glyph(a, G_UL));
	glyph_run(a, G_H, y, x + 1, w - 2, 0);
	put(y, x + w - 1, 1, line_glyph(a, G_UR));
	glyph_run(a, G_V, y + 1, x, h - 2, 1);
	glyph_run(a, G_V, y + 1, x + w - 1, h - 2, 1);
	put(y + h - 1, x, 1, line_glyph(a, G_LL));
	glyph_run(a, G_H, y + h - 1, x + 1, w - 2, 0);
	put(y + h - 1, x + w - 1, 1, line_glyph(a, G_LR));
	attroff(attr_of(a, THEME_DIALOG));
}

static void draw_dialog(struct app *a)
{
	struct app_dialog *d = &a->dialog;
	int w = a->cols - 8 > 70 ? 70 : a->cols - 8, h = d->expect[0] ? 9 : 7;
	int x = (a->cols - w) / 2, y = (a->lines - h) / 2;
	char buf[200];

	draw_box(a, y, x, h, w);
	put_attr(a, THEME_DIALOG, y + 1, x + 2, w - 4, d->title);
	put_attr(a, THEME_DIALOG, y + 2, x + 2, w - 4, d->text);
	if (d->expect[0]) {
		snprintf(buf, sizeof buf, "Type the endpoint's name to confirm: %s_", d->typed);
		put_attr(a, THEME_DIALOG, y + 4, x + 2, w - 4, buf);
	}
	put_attr(a, d->focus == 0 ? THEME_DIALOG_FOCUS : THEME_DIALOG, y + h - 2, x + 2, 10,
		 "[ Cancel ]");
	put_attr(a, d->focus == 1 ? THEME_DIALOG_FOCUS : THEME_DIALOG, y + h - 2, x + 14, 10,
		 "[ Delete ]");
}

static void draw_demo_ask(struct app *a)
{
	int w = a->cols - 8 > 66 ? 66 : a->cols - 8, h = 8;
	int x = (a->cols - w) / 2, y = (a->lines - h) / 2;

	draw_box(a, y, x, h, w);
	put_attr(a, THEME_DIALOG, y + 1, x + 2, w - 4, "This workspace is empty.");
	put_attr(a, THEME_DIALOG, y + 3, x + 2, w - 4,
		 "Build the demo workspace? Three models (digits MLP, fraud");
	put_attr(a, THEME_DIALOG, y + 4, x + 2, w - 4,
		 "XGBoost, churn logistic), blue/green endpoints, light load.");
	put_attr(a, THEME_DIALOG_FOCUS, y + 6, x + 2, w - 4, "[y] yes    [n] no");
}

static void draw_too_small(struct app *a)
{
	char buf[160];

	snprintf(buf, sizeof buf, "mldeck needs a terminal of at least %dx%d (this one is %dx%d).",
		 LAYOUT_MIN_COLS, LAYOUT_MIN_LINES, a->cols, a->lines);
	mvaddnstr(0, 0, buf, a->cols);
	mvaddnstr(a->lines > 1 ? 1 : 0, 0, "Enlarge the window, or press q to quit.", a->cols);
}

void draw_frame(struct app *a)
{
	erase();
	if (a->too_small) {
		draw_too_small(a);
		refresh();
		return;
	}
	draw_header(a);
	if (a->screen == KEYS_SCR_LOGS)
		draw_logs(a);
	else if (a->screen == KEYS_SCR_TEST)
		draw_test(a);
	else if (a->screen == KEYS_SCR_HELP)
		draw_help(a);
	else {
		draw_table(a, &a->tables[a->screen], a->lay.table);
		draw_detail(a);
	}
	draw_message(a);
	draw_hint(a);
	if (a->mode == APP_DIALOG)
		draw_dialog(a);
	if (a->mode == APP_DEMO_ASK)
		draw_demo_ask(a);
	refresh();
}
