/* screens/viewer.c: the whole of a text the screens cut (`v`): a long
 * message, the selected row's JSON, a test answer, a log; wrapped to the
 * width, scrolled with the usual keys, Esc goes back. */
#include "ui/console/screen.h"

#include <stdio.h>

#include "ui/console/app.h"
#include "ui/console/draw.h"

struct viewer {
	int placed; /* the start line was turned into a first row */
};

static void viewer_enter(struct app *a, struct screen_state *st)
{
	struct viewer *v = st->data;

	(void)a;
	v->placed = 0;
	st->top = 0;
}

static void viewer_draw(struct app *a, struct screen_state *st, struct rect r)
{
	struct viewer *v = st->data;
	const char *title, *text = NULL;
	int line, rows;

	text = screen_viewed(a, &title, &line);
	draw_text(a, THEME_TITLE, r.y, r.x, r.w, title);
	r.y++;
	r.h--;
	if (text == NULL)
		return;
	if (!v->placed) {
		st->top = draw_wrap_rows(text, r.w, line);
		v->placed = 1;
	}
	rows = draw_wrap_rows(text, r.w, -1);
	if (st->top > rows - r.h)
		st->top = rows - r.h;
	if (st->top < 0)
		st->top = 0;
	draw_wrapped(a, r, text, st->top, THEME_NORMAL);
}

const struct screen screen_viewer = {
    .name = "Text",
    .data_size = sizeof(struct viewer),
    .enter = viewer_enter,
    .draw = viewer_draw,
};
