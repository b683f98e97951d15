/* layout.c: pane rectangles for a terminal size. */
#include "ui/console/layout.h"

#include <string.h>

static struct rect rect_make(int y, int x, int h, int w)
{
	struct rect r = {y, x, h, w};

	return r;
}

/* Detail pane height in the stacked layout: enough for three deployments'
 * latency lines at 24 rows, more when there is room. */
static int detail_height(int lines)
{
	if (lines >= 50)
		return 16;
	if (lines >= 36)
		return 12;
	return 8;
}

int layout_compute(int cols, int lines, struct layout *out)
{
	int body_y = 1, body_h = lines - 3;

	memset(out, 0, sizeof *out);
	if (cols < LAYOUT_MIN_COLS || lines < LAYOUT_MIN_LINES)
		return -1;
	out->header = rect_make(0, 0, 1, cols);
	out->message = rect_make(lines - 2, 0, 1, cols);
	out->hint = rect_make(lines - 1, 0, 1, cols);
	if (cols >= LAYOUT_WIDE_COLS) {
		int tw = cols * 3 / 5;

		out->wide = 1;
		out->table = rect_make(body_y, 0, body_h, tw);
		out->detail = rect_make(body_y, tw, body_h, cols - tw);
		return 0;
	}
	int dh = detail_height(lines);

	out->table = rect_make(body_y, 0, body_h - dh, cols);
	out->detail = rect_make(body_y + body_h - dh, 0, dh, cols);
	return 0;
}
