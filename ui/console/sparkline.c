/* sparkline.c: scaling a series to block glyphs. */
#include "ui/console/sparkline.h"

#include <math.h>
#include <string.h>

static const char *const glyph_utf8[SPARKLINE_LEVELS] = {
    "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
    "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88",
};
static const char glyph_ascii[SPARKLINE_LEVELS + 1] = "_.-:=+*#";

static int missing(double x)
{
	return isnan(x) || x < 0;
}

double sparkline_scale(const double *v, int n, int width, int levels, int *out)
{
	int start = n > width ? n - width : 0;
	int pad = width > n ? width - n : 0;
	double max = 0;

	if (width <= 0)
		return 0;
	if (levels < 1)
		levels = 1;
	for (int k = start; k < n; k++)
		if (!missing(v[k]) && v[k] > max)
			max = v[k];
	for (int k = 0; k < pad; k++)
		out[k] = -1;
	for (int k = start; k < n; k++) {
		int *o = &out[pad + k - start];
		long lv;

		if (missing(v[k])) {
			*o = -1;
			continue;
		}
		lv = max > 0 ? lround(v[k] / max * (levels - 1)) : 0;
		*o = lv < 0 ? 0 : lv > levels - 1 ? levels - 1 : (int)lv;
	}
	return max;
}

int sparkline_render(const int *levels, int width, int utf8, char *buf, size_t len)
{
	size_t used = 0;
	int cells = 0;

	if (len == 0)
		return 0;
	for (int k = 0; k < width; k++) {
		int l = levels[k];
		const char *g;
		char one[2] = {0, 0};
		size_t gl;

		if (l < 0 || l >= SPARKLINE_LEVELS) {
			one[0] = ' ';
			g = one;
		} else if (utf8) {
			g = glyph_utf8[l];
		} else {
			one[0] = glyph_ascii[l];
			g = one;
		}
		gl = strlen(g);
		if (used + gl + 1 > len)
			break;
		memcpy(buf + used, g, gl);
		used += gl;
		cells++;
	}
	buf[used] = '\0';
	return cells;
}
