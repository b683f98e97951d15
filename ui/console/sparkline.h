/*
 * sparkline.h: a series of numbers as a one-line bar chart. Pure; any thread.
 *
 * Scaling is from 0 to the largest value shown (latency reads against zero, so
 * a flat series stays flat instead of amplifying noise). A missing sample
 * (negative or NaN) is a blank; any positive sample shows at least level 0.
 */
#ifndef UI_CONSOLE_SPARKLINE_H
#define UI_CONSOLE_SPARKLINE_H

#include <stddef.h>

#define SPARKLINE_LEVELS 8

/*
 * Scales the last `width` samples of v[0..n) to levels 0..levels-1 in out
 * (-1 = blank). When n < width the series is right-aligned and the start is
 * blank. Returns the largest sample shown (0 when none).
 */
double sparkline_scale(const double *v, int n, int width, int levels, int *out);
/*
 * Renders the scaled levels as text into buf: "▁▂▃▄▅▆▇█" when utf8, else
 * "_.-:=+*#" (one ASCII glyph per level). Always NUL-terminates;
 * returns the number of cells written.
 */
int sparkline_render(const int *levels, int width, int utf8, char *buf, size_t len);

#endif
