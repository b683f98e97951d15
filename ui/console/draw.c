/* draw.c: the console's frames. */
#include "ui/console/draw.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ui/console/data.h"
#include "ui/console/dialog.h"
#include "ui/console/screen.h"
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

/* The next character of *s as it is shown (control characters as spaces,
 * invalid bytes as '?') and its width; advances *s. */
static wchar_t next_char(const char **s, mbstate_t *st, int *cw)
{
	wchar_t wc;
	size_t n = mbrtowc(&wc, *s, MB_CUR_MAX, st);

	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		memset(st, 0, sizeof *st);
		wc = '?';
		n = 1;
	}
	if (wc == '\t' || wc < 32)
		wc = ' ';
	*cw = wcwidth(wc);
	if (*cw < 0)
		*cw = 1, wc = '?';
	*s += n;
	return wc;
}

int draw_fits(const char *s, int w)
{
	mbstate_t st;
	int used = 0, cw;

	memset(&st, 0, sizeof st);
	while (*s && used <= w) {
		next_char(&s, &st, &cw);
		used += cw;
	}
	return used <= w;
}

static void put_char(wchar_t wc)
{
	cchar_t cc;
	wchar_t ws[2] = {wc, 0};

	if (wc < 128) {
		addch((chtype)wc);
		return;
	}
	setcchar(&cc, ws, 0, 0, NULL);
	add_wch(&cc);
}

/* Writes s at (y, x) within w columns (UTF-8 aware); text that does not fit
 * ends in an ellipsis, so nothing is cut without a sign. Returns the
 * columns used. */
static int put(int y, int x, int w, const char *s)
{
	mbstate_t st;
	int used = 0, cw, cut = !draw_fits(s, w), room = cut ? w - 1 : w;

	memset(&st, 0, sizeof st);
	move(y, x);
	while (*s && used < room) {
		wchar_t wc = next_char(&s, &st, &cw);

		if (used + cw > room)
			break;
		put_char(wc);
		used += cw;
	}
	if (cut && w > 0) {
		put_char(MB_CUR_MAX > 1 ? 0x2026 : '~'); /* "…" */
		used++;
	}
	return used;
}

int draw_text(const struct app *a, enum theme_elem e, int y, int x, int w, const char *s)
{
	int n;

	attron(attr_of(a, e));
	n = put(y, x, w, s);
	attroff(attr_of(a, e));
	return n;
}

void draw_fill(const struct app *a, enum theme_elem e, int y, int x, int w)
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

void draw_hline(const struct app *a, int y, int x, int w)
{
	attron(attr_of(a, THEME_BORDER));
	glyph_run(a, G_H, y, x, w, 0);
	attroff(attr_of(a, THEME_BORDER));
}

static void draw_header(struct app *a)
{
	struct rect r = a->lay.header;
	char buf[1700], scr[256], state[768];
	int ro = a->readonly ? 12 : 0;

	screen_title(a, scr, sizeof scr);
	data_state(a, state, sizeof state);
	draw_fill(a, THEME_HEADER, r.y, r.x, r.w);
	/* the state last: a long reason is what gets cut (v shows it whole) */
	snprintf(buf, sizeof buf, " mldeck | %s | %s | %s | %s", a->prof.name, connect_url(&a->prof),
		 scr, state);
	a->header_cut = !draw_fits(buf, r.w - ro);
	attron(attr_of(a, THEME_HEADER));
	put(r.y, r.x, r.w - ro, buf);
	attroff(attr_of(a, THEME_HEADER));
	if (ro)
		draw_text(a, THEME_HEADER_RO, r.y, r.w - ro, ro, " READ-ONLY  ");
}

static void draw_hint(struct app *a)
{
	struct rect r = a->lay.hint;
	size_t n;
	const struct keys_binding *t = keys_table(&n);
	const struct screen *s = screen_current(a);
	int x = r.x;

	if (a->mode == APP_COMMAND && a->completions[0]) {
		draw_text(a, THEME_HINT, r.y, r.x, r.w, a->completions);
		return;
	}
	if (a->mode == APP_FILTER || a->mode == APP_COMMAND || a->mode == APP_PROMPT) {
		draw_text(a, THEME_HINT, r.y, r.x, r.w,
			  a->mode == APP_COMMAND
			      ? "Enter run  Tab complete  Esc cancel  Backspace erase"
			      : "Enter accept  Esc cancel  Backspace erase");
		return;
	}
	if (a->mode == APP_DIALOG) {
		draw_text(a, THEME_HINT, r.y, r.x, r.w,
			  "Tab/Left/Right choose  Enter confirm the focused button  Esc cancel");
		return;
	}
	for (size_t i = 0; i < n && x < r.w; i++) {
		const struct keys_binding *b = &t[i];

		if (!(b->flags & KEYS_HINT) || !screen_binds(s, b) ||
		    (a->readonly && (b->flags & KEYS_MUTATING)))
			continue;
		/* a key whose meaning was already shown for this screen */
		if (keys_lookup(b->codes[0], s, a->readonly) != b)
			continue;
		if (x + (int)strlen(b->keyname) + (int)strlen(b->hint) + 1 > r.w)
			break;
		x += draw_text(a, THEME_HINT_KEY, r.y, x, r.w - x, b->keyname);
		x += draw_text(a, THEME_HINT, r.y, x, r.w - x, " ");
		x += draw_text(a, THEME_HINT, r.y, x, r.w - x, b->hint);
		x += draw_text(a, THEME_HINT, r.y, x, r.w - x, "  ");
	}
}

static void draw_message(struct app *a)
{
	struct rect r = a->lay.message;
	char buf[APP_INPUT_MAX + 24];

	if (a->mode == APP_FILTER || a->mode == APP_COMMAND || a->mode == APP_PROMPT) {
		const char *p = a->mode == APP_FILTER	 ? "/"
				: a->mode == APP_COMMAND ? ":"
							 : a->prompt;
		size_t len = strlen(a->input);
		/* show the end of a long input */
		const char *tail =
		    len > (size_t)r.w - 8 ? a->input + len - ((size_t)r.w - 8) : a->input;

		snprintf(buf, sizeof buf, "%s%s", p, tail);
		draw_text(a, THEME_MESSAGE, r.y, r.x, r.w, buf);
		return;
	}
	draw_text(a, a->message_error ? THEME_ERROR : THEME_MESSAGE, r.y, r.x, r.w, a->message);
}

/* One cell in its style (numbers right-aligned, the state column coloured). */
static void draw_cell(struct app *a, const struct table *t, const struct table_row *row, int c,
		      struct rect r, int cursor)
{
	char buf[TABLE_CELL + 8];
	enum theme_elem e = cursor ? THEME_CURSOR : THEME_NORMAL;
	int len = (int)strlen(row->cell[c]);

	if (!cursor && c == 1 && row->style >= 0)
		e = (enum theme_elem)row->style;
	if (t->cols[c].numeric && len < r.w)
		snprintf(buf, sizeof buf, "%*s", r.w, row->cell[c]);
	else
		snprintf(buf, sizeof buf, "%s", row->cell[c]);
	draw_text(a, e, r.y, r.x, r.w, buf);
}

void draw_table(struct app *a, struct table *t, struct rect r, draw_cell_fn cell, const char *empty)
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
		draw_text(a, THEME_TABLE_HEADER, r.y, x, widths[c], title);
		x += widths[c] + 1;
	}
	table_scroll(t, rows);
	for (int i = 0; i < rows && t->top + i < t->nview; i++) {
		int v = t->top + i, cursor = v == t->cursor, y = r.y + 1 + i;
		const struct table_row *row = &t->rows[t->view[v]];

		x = r.x;
		if (cursor)
			draw_fill(a, THEME_CURSOR, y, r.x, r.w);
		for (int c = 0; c < t->ncols; c++) {
			if (widths[c] == 0)
				continue;
			struct rect cr = {y, x, 1, widths[c]};

			if (cell == NULL || !cell(a, row, c, cr, cursor))
				draw_cell(a, t, row, c, cr, cursor);
			x += widths[c] + 1;
		}
	}
	if (t->nview == 0)
		draw_text(a, THEME_HINT, r.y + 1, r.x + 1, r.w - 2,
			  t->filter[0] ? "(no row matches the filter; Esc clears it)"
			  : empty      ? empty
				       : "(none)");
}

/* One latency line: "name  rps  p50  p99  err  sparkline". */
static void draw_latency_line(struct app *a, int y, int x, int w, const char *name,
			      const struct live_stats *s, const struct live_series *ser)
{
	char buf[256], spark[LIVE_SERIES * 4 + 1];
	int lv[LIVE_SERIES], used, sw;

	if (s == NULL || s->requests == 0)
		snprintf(buf, sizeof buf, "%-12.12s %6s %8s %8s %6s ", name, "-", "-", "-", "-");
	else if (isnan(s->err_rate)) /* a source that does not count errors */
		snprintf(buf, sizeof buf, "%-12.12s %6.1f %8.2f %8.2f %6s ", name, s->rps,
			 isnan(s->p50) ? 0 : s->p50, isnan(s->p99) ? 0 : s->p99, "-");
	else
		snprintf(buf, sizeof buf, "%-12.12s %6.1f %8.2f %8.2f %5.1f%% ", name, s->rps,
			 isnan(s->p50) ? 0 : s->p50, isnan(s->p99) ? 0 : s->p99,
			 s->err_rate * 100);
	used = draw_text(a, THEME_NORMAL, y, x, w, buf);
	sw = w - used - 1;
	if (sw > LIVE_SERIES)
		sw = LIVE_SERIES;
	if (ser == NULL || sw <= 0)
		return;
	sparkline_scale(ser->p99s, ser->n, sw, SPARKLINE_LEVELS, lv);
	sparkline_render(lv, sw, a->utf8, spark, sizeof spark);
	draw_text(a, THEME_SPARK_P99, y, x + used, sw, spark);
}

int draw_latency(struct app *a, struct rect r, int y, const char *ep, const struct app_deploys *d)
{
	const struct live_endpoint *le = live_endpoint(&a->live, ep);
	char title[160];

	/* where the figures come from, so a minute's grain is never taken for a second's */
	if (a->live.ok && a->live.grain_s >= 60)
		snprintf(title, sizeof title, "%-12s %6s %8s %8s %6s  p99 per minute (%s, %d min)",
			 "DEPLOYMENT", "RPS", "P50ms", "P99ms", "ERR", a->live.source,
			 a->live.grain_s / 60);
	else
		snprintf(title, sizeof title, "%-12s %6s %8s %8s %6s  p99, last 60 s", "DEPLOYMENT",
			 "RPS", "P50ms", "P99ms", "ERR");
	draw_text(a, THEME_TITLE, y++, r.x, r.w, title);
	if (!a->live.ok) {
		draw_text(a, THEME_HINT, y++, r.x, r.w, "(no live metrics from this backend)");
		return y;
	}
	if (d != NULL) {
		for (int k = 0; k < d->n && y < r.y + r.h; k++)
			draw_latency_line(a, y++, r.x, r.w, d->name[k],
					  live_deployment(le, d->name[k]),
					  live_series_of(&a->live, d->name[k]));
		return y;
	}
	for (int k = 0; le && k < le->ndeps && y < r.y + r.h; k++)
		draw_latency_line(a, y++, r.x, r.w, le->deps[k].name, &le->deps[k],
				  live_series_of(&a->live, le->deps[k].name));
	return y;
}

void draw_kv(struct app *a, int *y, struct rect r, const char *k, const char *v)
{
	char buf[1024];

	if (*y >= r.y + r.h || v == NULL || v[0] == '\0')
		return;
	snprintf(buf, sizeof buf, "%-12s %s", k, v);
	draw_text(a, THEME_NORMAL, (*y)++, r.x, r.w, buf);
}

const cJSON *draw_selected_doc(struct table *t, const cJSON *doc)
{
	struct table_row *row = table_selected(t);

	if (row == NULL || doc == NULL)
		return NULL;
	if (cJSON_IsObject(doc))
		doc = cJSON_GetObjectItemCaseSensitive(doc, "value");
	return cJSON_GetArrayItem(doc, row->idx);
}

struct rect draw_detail_rect(const struct app *a)
{
	struct rect r = a->lay.detail;

	if (a->lay.wide) {
		r.x += 1;
		r.w -= 1;
	}
	r.y += 1;
	r.h -= 1;
	return r;
}

int draw_lines(struct app *a, struct rect r, const char *text, int top, enum theme_elem e)
{
	int line = 0, y = r.y;

	while (text && *text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);

		if (line >= top && y < r.y + r.h) {
			char buf[1024];

			snprintf(buf, sizeof buf, "%.*s", (int)(len < 1023 ? len : 1023), text);
			draw_text(a, e, y++, r.x, r.w, buf);
		}
		line++;
		text += len + (nl ? 1 : 0);
	}
	return line;
}

/* One row of text wrapped to w columns, after a space when there is one:
 * its byte length (at least one character, so a row always advances) and
 * whether it ends its line. */
static size_t wrap_row(const char *s, int w, int *eol)
{
	mbstate_t st;
	const char *p = s, *space = NULL;
	int used = 0, cw;

	memset(&st, 0, sizeof st);
	*eol = 0;
	while (*p && *p != '\n') {
		const char *q = p;
		wchar_t wc = next_char(&q, &st, &cw);

		if (used + cw > w && p > s)
			return (size_t)((space ? space : p) - s);
		if (wc == ' ')
			space = q;
		used += cw;
		p = q;
	}
	*eol = 1;
	return (size_t)(p - s);
}

int draw_wrap_rows(const char *text, int w, int line)
{
	int rows = 0, lines = 0, eol;

	if (w < 1)
		w = 1;
	while (text && *text && (line < 0 || lines < line)) {
		text += wrap_row(text, w, &eol);
		rows++;
		if (eol) {
			lines++;
			text += *text == '\n';
		}
	}
	return rows;
}

int draw_wrapped(struct app *a, struct rect r, const char *text, int top, enum theme_elem e)
{
	int row = 0, y = r.y, eol;
	char buf[4096];

	while (text && *text) {
		size_t n = wrap_row(text, r.w > 0 ? r.w : 1, &eol);

		if (row >= top && y < r.y + r.h) {
			snprintf(buf, sizeof buf, "%.*s",
				 (int)(n < sizeof buf ? n : sizeof buf - 1), text);
			draw_text(a, e, y++, r.x, r.w, buf);
		}
		row++;
		text += n;
		if (eol)
			text += *text == '\n';
	}
	return row;
}

struct rect draw_body_rect(const struct app *a)
{
	struct rect r = a->lay.table;

	if (!a->lay.wide)
		r.h += a->lay.detail.h;
	else
		r.w += a->lay.detail.w;
	return r;
}

void draw_box(struct app *a, int y, int x, int h, int w)
{
	for (int i = 0; i < h; i++)
		draw_fill(a, THEME_DIALOG, y + i, x, w);
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

static void draw_demo_ask(struct app *a)
{
	int w = a->cols - 8 > 66 ? 66 : a->cols - 8, h = 8;
	int x = (a->cols - w) / 2, y = (a->lines - h) / 2;

	draw_box(a, y, x, h, w);
	draw_text(a, THEME_DIALOG, y + 1, x + 2, w - 4, "This workspace is empty.");
	draw_text(a, THEME_DIALOG, y + 3, x + 2, w - 4,
		  "Build the demo workspace? Three models (digits MLP, fraud");
	draw_text(a, THEME_DIALOG, y + 4, x + 2, w - 4,
		  "XGBoost, churn logistic), blue/green endpoints, light load.");
	draw_text(a, THEME_DIALOG_FOCUS, y + 6, x + 2, w - 4, "[y] yes    [n] no");
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
	screen_draw(a);
	draw_message(a);
	draw_hint(a);
	if (a->mode == APP_DIALOG)
		dialog_draw(a);
	if (a->mode == APP_DEMO_ASK)
		draw_demo_ask(a);
	refresh();
}
