/* theme.c: theme files to styles. */
#include "ui/console/theme.h"
#include "state/file.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct elem_def {
	const char *key;
	struct theme_style def;
};

static const struct elem_def elems[THEME_COUNT] = {
    [THEME_NORMAL] = {"normal", {-1, -1, 0}},
    [THEME_HEADER] = {"header", {7, 4, THEME_A_BOLD}},
    [THEME_HEADER_RO] = {"header.readonly", {7, 1, THEME_A_BOLD}},
    [THEME_TABLE_HEADER] = {"table.header", {-1, -1, THEME_A_BOLD | THEME_A_UNDERLINE}},
    [THEME_CURSOR] = {"cursor", {0, 6, 0}},
    [THEME_STATUS_OK] = {"status.ok", {2, -1, 0}},
    [THEME_STATUS_PENDING] = {"status.pending", {3, -1, 0}},
    [THEME_STATUS_FAILED] = {"status.failed", {1, -1, THEME_A_BOLD}},
    [THEME_SLIDER] = {"slider", {4, -1, 0}},
    [THEME_SLIDER_PENDING] = {"slider.pending", {3, -1, THEME_A_BOLD}},
    [THEME_MIRROR] = {"mirror", {5, -1, 0}},
    [THEME_SPARK_P50] = {"spark.p50", {2, -1, 0}},
    [THEME_SPARK_P99] = {"spark.p99", {3, -1, 0}},
    [THEME_DIALOG] = {"dialog", {7, 4, 0}},
    [THEME_DIALOG_FOCUS] = {"dialog.focus", {0, 7, THEME_A_BOLD}},
    [THEME_HINT] = {"hint", {-1, -1, THEME_A_DIM}},
    [THEME_HINT_KEY] = {"hint.key", {6, -1, THEME_A_BOLD}},
    [THEME_MESSAGE] = {"message", {-1, -1, 0}},
    [THEME_ERROR] = {"error", {1, -1, THEME_A_BOLD}},
    [THEME_BORDER] = {"border", {-1, -1, THEME_A_DIM}},
    [THEME_TITLE] = {"title", {-1, -1, THEME_A_BOLD}},
};

static const char *const color_names[8] = {"black", "red",     "green", "yellow",
					   "blue",  "magenta", "cyan",	"white"};

static const struct {
	const char *name;
	unsigned bit;
} attr_names[] = {
    {"bold", THEME_A_BOLD},
    {"underline", THEME_A_UNDERLINE},
    {"reverse", THEME_A_REVERSE},
    {"dim", THEME_A_DIM},
    {"standout", THEME_A_STANDOUT},
    {"normal", 0},
    {"none", 0},
};

const char *theme_elem_key(enum theme_elem e)
{
	return (unsigned)e < THEME_COUNT ? elems[e].key : "?";
}

void theme_init_default(struct theme *t)
{
	snprintf(t->name, sizeof t->name, "builtin");
	for (int i = 0; i < THEME_COUNT; i++)
		t->style[i] = elems[i].def;
}

int theme_parse_color(const char *s)
{
	char *end;
	long v;

	if (strcmp(s, "default") == 0 || strcmp(s, "-1") == 0)
		return -1;
	for (int i = 0; i < 8; i++) {
		if (strcmp(s, color_names[i]) == 0)
			return i;
		if (strncmp(s, "bright-", 7) == 0 && strcmp(s + 7, color_names[i]) == 0)
			return i + 8;
	}
	if (!isdigit((unsigned char)s[0]))
		return -2;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 255)
		return -2;
	return (int)v;
}

int theme_color_to8(int c)
{
	if (c < 0)
		return -1;
	if (c < 8)
		return c;
	if (c < 16)
		return c - 8;
	if (c < 232) {
		int n = c - 16, r = n / 36, g = (n / 6) % 6, b = n % 6;

		return (r >= 3 ? 1 : 0) | (g >= 3 ? 2 : 0) | (b >= 3 ? 4 : 0);
	}
	return c < 244 ? 0 : 7;
}

static void problem(struct theme_problems *p, int line, const char *what, const char *arg)
{
	if (p == NULL || p->count >= THEME_MAX_PROBLEMS)
		return;
	p->item[p->count].line = line;
	snprintf(p->item[p->count].message, sizeof p->item[p->count].message, "%s '%.60s'", what,
		 arg);
	p->count++;
}

static int find_elem(const char *key)
{
	for (int i = 0; i < THEME_COUNT; i++)
		if (strcmp(elems[i].key, key) == 0)
			return i;
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* The next space-separated word of *p (NUL-terminated in place), or NULL. */
static char *next_word(char **p)
{
	char *s = *p, *w;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return NULL;
	w = s;
	while (*s && *s != ' ')
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return w;
}

/* Parses "FG BG ATTR..." into *st; returns 0 or -1 with the bad word in bad. */
static int parse_value(char *val, struct theme_style *st, const char **bad)
{
	char *w, *p = val;
	int n = 0;
	struct theme_style s = {-1, -1, 0};

	for (char *c = val; *c; c++)
		if (*c == ',' || *c == '|' || *c == '\t')
			*c = ' ';
	for (; (w = next_word(&p)) != NULL; n++) {
		if (n < 2) {
			int c = theme_parse_color(w);

			if (c == -2)
				return *bad = w, -1;
			*(n == 0 ? &s.fg : &s.bg) = c;
			continue;
		}
		size_t k;

		for (k = 0; k < sizeof attr_names / sizeof attr_names[0]; k++)
			if (strcmp(w, attr_names[k].name) == 0)
				break;
		if (k == sizeof attr_names / sizeof attr_names[0])
			return *bad = w, -1;
		s.attrs |= attr_names[k].bit;
	}
	if (n == 0)
		return *bad = "(empty)", -1;
	*st = s;
	return 0;
}

static void parse_line(char *line, int lineno, struct theme *t, struct theme_problems *pr)
{
	char *eq, *key, *val;
	const char *bad = NULL;
	struct theme_style st;
	int e;

	line = trim(line);
	if (*line == '\0' || *line == ';' || *line == '#' || *line == '[')
		return;
	eq = strchr(line, '=');
	if (eq == NULL) {
		problem(pr, lineno, "expected 'element = fg bg attrs', got", line);
		return;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (strcmp(key, "name") == 0) {
		snprintf(t->name, sizeof t->name, "%s", val);
		return;
	}
	e = find_elem(key);
	if (e < 0) {
		problem(pr, lineno, "unknown element", key);
		return;
	}
	if (parse_value(val, &st, &bad) < 0) {
		problem(pr, lineno, "bad colour or attribute", bad);
		return;
	}
	t->style[e] = st;
}

int theme_parse(const char *text, struct theme *t, struct theme_problems *pr)
{
	int lineno = 0, before = pr ? pr->count : 0;

	while (text && *text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);
		char buf[512];

		lineno++;
		if (len >= sizeof buf) {
			problem(pr, lineno, "line too long:", "over 511 characters");
		} else {
			memcpy(buf, text, len);
			buf[len] = '\0';
			parse_line(buf, lineno, t, pr);
		}
		text += len + (nl ? 1 : 0);
	}
	return pr ? pr->count - before : 0;
}

int theme_load(const char *dir, const char *name, struct theme *t, struct theme_problems *pr,
	       char *errbuf, size_t errlen)
{
	char path[1024], *text;
	size_t n;

	if (strchr(name, '/') != NULL || name[0] == '.') {
		snprintf(errbuf, errlen, "bad theme name '%s'", name);
		return -1;
	}
	snprintf(path, sizeof path, "%s/%s.ini", dir, name);
	text = file_read(path, 65536, &n);
	if (text == NULL && errno == ENOENT) {
		char names[32][64];
		int k = theme_list(dir, names, 32);
		size_t used = (size_t)snprintf(errbuf, errlen, "no theme '%s' in %s (themes:", name, dir);

		for (int i = 0; i < k && used < errlen; i++)
			used += (size_t)snprintf(errbuf + used, errlen - used, " %s", names[i]);
		if (used < errlen)
			snprintf(errbuf + used, errlen - used, ")");
		return -1;
	}
	if (text == NULL) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	theme_init_default(t);
	snprintf(t->name, sizeof t->name, "%s", name);
	theme_parse(text, t, pr);
	snprintf(t->name, sizeof t->name, "%s", name);
	free(text);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

int theme_list(const char *dir, char names[][64], int max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		size_t l = strlen(de->d_name);

		if (l <= 4 || l - 4 >= 64 || strcmp(de->d_name + l - 4, ".ini") != 0 ||
		    de->d_name[0] == '.')
			continue;
		snprintf(names[n], 64, "%.*s", (int)(l - 4), de->d_name);
		n++;
	}
	closedir(d);
	qsort(names, (size_t)n, 64, cmp_name);
	return n;
}
