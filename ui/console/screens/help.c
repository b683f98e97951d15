/* screens/help.c: the key table (keys.c) as the code dispatches on it; in
 * read-only mode without the keys that are off. */
#include "ui/console/screen.h"

#include <stdio.h>

#include "ui/console/app.h"
#include "ui/console/draw.h"

static void help_open(struct app *a, const struct screen_sel *from, const char *arg)
{
	(void)from;
	(void)arg;
	screen_show(a, &screen_help, 1);
}

static void help_enter(struct app *a, struct screen_state *st)
{
	(void)a;
	st->top = 0;
}

static void help_draw(struct app *a, struct screen_state *st, struct rect r)
{
	size_t n;
	const struct keys_binding *t = keys_table(&n);
	char buf[512], where[128];
	int line = 0, y = r.y;

	draw_text(a, THEME_TITLE, y++, r.x, r.w,
		  a->readonly ? "KEYS (read-only: keys that change anything are off)" : "KEYS");
	if (st->top > (int)n - 1)
		st->top = (int)n - 1;
	for (size_t i = 0; i < n && y < r.y + r.h; i++) {
		const struct keys_binding *b = &t[i];

		if (a->readonly && (b->flags & KEYS_MUTATING))
			continue;
		if (line++ < st->top)
			continue;
		keys_screens_text(b, ",", "everywhere", where, sizeof where);
		snprintf(buf, sizeof buf, "%-9s %-28.28s %s", b->keyname, where, b->help);
		draw_text(a, THEME_NORMAL, y++, r.x, r.w, buf);
	}
}

const struct screen screen_help = {
    .name = "Help",
    .commands = {"help", "h"},
    .open = help_open,
    .enter = help_enter,
    .draw = help_draw,
};
