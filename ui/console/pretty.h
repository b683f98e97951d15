/*
 * pretty.h: JSON answers made readable for the console's text views:
 * two-space indentation, one member or element per line, except arrays of
 * plain values short enough to read on one line ([0.12, 0.88]). Pure; any
 * thread.
 */
#ifndef UI_CONSOLE_PRETTY_H
#define UI_CONSOLE_PRETTY_H

#include <stddef.h>

#define PRETTY_INLINE_MAX 60 /* columns an array of plain values may take on one line */

/* text pretty-printed (heap, caller frees), or NULL when text is not JSON
 * (or out of memory). */
char *pretty_json(const char *text, size_t len);
/* The same for a parsed value. NULL when out of memory. */
struct cJSON;
char *pretty_item(const struct cJSON *v);

#endif
