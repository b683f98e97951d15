/* cli_args.c: option parsing against a verb's spec string. */
#include "ui/cli/cli_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Looks name (length n) up in spec: 1 found (with *takes_value, *repeats). */
static int cli_args_lookup(const char *spec, const char *name, size_t n, int *takes_value,
			   int *repeats, const char **canon)
{
	const char *p = spec != NULL ? spec : "";

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		size_t w = strcspn(p, " ");
		size_t nl = strcspn(p, "=* ");
		if (w > 0 && nl == n && strncmp(p, name, n) == 0) {
			*takes_value = memchr(p, '=', w) != NULL;
			*repeats = memchr(p, '*', w) != NULL;
			*canon = p;
			return 1;
		}
		p += w;
	}
	return 0;
}

static int cli_args_add(struct cli_args *a, const char *canon, const char *value, char *msg,
			size_t len)
{
	if (a->nopt >= CLI_ARGS_MAX) {
		snprintf(msg, len, "too many options");
		return -1;
	}
	a->opt[a->nopt].name = canon;
	a->opt[a->nopt].value = value;
	a->nopt++;
	return 0;
}

/* Compares an option record's name (a pointer into the spec) with name. */
static int cli_args_is(const char *canon, const char *name)
{
	size_t n = strlen(name);

	return strncmp(canon, name, n) == 0 &&
	       (canon[n] == '\0' || canon[n] == '=' || canon[n] == '*' || canon[n] == ' ');
}

static int cli_args_option(struct cli_args *a, int argc, char **argv, int *i, const char *spec,
			   char *msg, size_t len)
{
	const char *arg = argv[*i];
	const char *eq = strchr(arg, '=');
	size_t n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
	int takes_value, repeats;
	const char *canon, *value = NULL;

	if (!cli_args_lookup(spec, arg, n, &takes_value, &repeats, &canon))
		return 0;
	if (takes_value && eq != NULL) {
		value = eq + 1;
	} else if (takes_value) {
		if (*i + 1 >= argc) {
			snprintf(msg, len, "%.*s needs a value", (int)n, arg);
			return -1;
		}
		value = argv[++*i];
	} else if (eq != NULL) {
		snprintf(msg, len, "%.*s takes no value", (int)n, arg);
		return -1;
	}
	for (int k = 0; !repeats && k < a->nopt; k++) {
		if (a->opt[k].name == canon) {
			snprintf(msg, len, "%.*s given twice", (int)n, arg);
			return -1;
		}
	}
	return cli_args_add(a, canon, value, msg, len) < 0 ? -1 : 1;
}

/* "-5" or "-0.5" are values, not options. */
static int cli_args_is_option(const char *s)
{
	return s[0] == '-' && s[1] != '\0' && !(s[1] >= '0' && s[1] <= '9');
}

int cli_args_parse(struct cli_args *a, int argc, char **argv, const char *spec,
		   cli_args_global_fn global, void *ctx, char *msg, size_t len)
{
	int only_pos = 0;

	memset(a, 0, sizeof *a);
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		if (!only_pos && strcmp(s, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (only_pos || !cli_args_is_option(s)) {
			if (a->npos >= CLI_ARGS_MAX) {
				snprintf(msg, len, "too many arguments");
				return -1;
			}
			a->pos[a->npos++] = s;
			continue;
		}
		if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
			a->help = 1;
			continue;
		}
		int r = cli_args_option(a, argc, argv, &i, spec, msg, len);
		if (r == 0 && global != NULL)
			r = global(ctx, argc, argv, &i, msg, len);
		if (r < 0)
			return -1;
		if (r == 0) {
			snprintf(msg, len, "unknown option %s", s);
			return -1;
		}
	}
	return 0;
}

const char *cli_args_nth(const struct cli_args *a, const char *name, int k)
{
	for (int i = 0; i < a->nopt; i++)
		if (cli_args_is(a->opt[i].name, name) && k-- == 0)
			return a->opt[i].value;
	return NULL;
}

const char *cli_args_get(const struct cli_args *a, const char *name)
{
	const char *v = NULL;

	for (int i = 0; i < a->nopt; i++)
		if (cli_args_is(a->opt[i].name, name))
			v = a->opt[i].value;
	return v;
}

int cli_args_has(const struct cli_args *a, const char *name)
{
	for (int i = 0; i < a->nopt; i++)
		if (cli_args_is(a->opt[i].name, name))
			return 1;
	return 0;
}

int cli_args_long(const struct cli_args *a, const char *name, long lo, long hi, long *out,
		  char *msg, size_t len)
{
	const char *v = cli_args_get(a, name);
	char *end;

	if (v == NULL)
		return 0;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || x < lo || x > hi) {
		snprintf(msg, len, "%s must be an integer from %ld to %ld, not \"%s\"", name, lo,
			 hi, v);
		return -1;
	}
	*out = x;
	return 0;
}
