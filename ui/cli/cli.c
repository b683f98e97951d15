/* cli.c: global options, dispatch over the verb tables, generated help. */
#include "ui/cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/azure.h"

#define CLI_HELP_SHOWN (-100) /* cli_prepare: help printed, exit 0 */
#define CLI_CONNECT_MS 120000 /* an ssh:// profile's connection, at most */

static const struct cli_verb *const cli_tables[] = {
    cli_model_verbs,
    cli_endpoint_verbs,
    cli_deployment_verbs,
    cli_batch_verbs,
    cli_monitor_verbs, /* after batch's: its `data collected` joins the data verbs in --help */
    cli_job_verbs,
    cli_misc_verbs,
    cli_metrics_verbs,
    cli_azure_verbs,
};

/* The global options, for parsing and for `mldeck --help`. */
struct cli_global {
	const char *name;
	const char *alt;
	const char *arg; /* NULL: a flag */
	const char *help;
	int (*set)(struct cli_globals *g, const char *value, char *msg, size_t len);
};

static int cli_set_profile(struct cli_globals *g, const char *v, char *msg, size_t len)
{
	(void)msg;
	(void)len;
	g->profile = v;
	return 0;
}

static int cli_set_output(struct cli_globals *g, const char *v, char *msg, size_t len)
{
	if (strcmp(v, "json") == 0)
		g->output = CLI_OUT_JSON;
	else if (strcmp(v, "table") == 0)
		g->output = CLI_OUT_TABLE;
	else
		return snprintf(msg, len, "-o must be json or table, not \"%s\"", v), -1;
	return 0;
}

static int cli_set_readonly(struct cli_globals *g, const char *v, char *msg, size_t len)
{
	(void)v, (void)msg, (void)len;
	g->readonly = 1;
	return 0;
}

static int cli_set_refresh(struct cli_globals *g, const char *v, char *msg, size_t len)
{
	char *end;

	errno = 0;
	long ms = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || ms < 100 || ms > 3600000)
		return snprintf(msg, len, "--refresh must be 100-3600000 ms, not \"%s\"", v), -1;
	g->refresh_ms = (int)ms;
	return 0;
}

static int cli_set_demo(struct cli_globals *g, const char *v, char *msg, size_t len)
{
	(void)v, (void)msg, (void)len;
	g->demo = 1;
	return 0;
}

static int cli_set_theme(struct cli_globals *g, const char *v, char *msg, size_t len)
{
	(void)msg, (void)len;
	g->theme = v;
	return 0;
}

static int cli_set_version(struct cli_globals *g, const char *v, char *msg, size_t len)
{
	(void)v, (void)msg, (void)len;
	g->version = 1;
	return 0;
}

static int cli_set_verbose(struct cli_globals *g, const char *v, char *msg, size_t len)
{
	(void)v, (void)msg, (void)len;
	g->verbose = 1;
	return 0;
}

static const struct cli_global cli_globals_table[] = {
    {"--profile", NULL, "NAME",
     "profile from config.ini (else MLDECK_PROFILE, default_profile, "
     "local)",
     cli_set_profile},
    {"--output", "-o", "json|table", "output format (default: table on a terminal, else json)",
     cli_set_output},
    {"--readonly", NULL, NULL, "refuse every change", cli_set_readonly},
    {"--refresh", NULL, "MS", "console refresh period (default 1000)", cli_set_refresh},
    {"--demo", NULL, NULL, "console: build the demo workspace", cli_set_demo},
    {"--theme", NULL, "NAME", "console theme (themes/NAME.ini)", cli_set_theme},
    {"--version", NULL, NULL, "print the version", cli_set_version},
    {"--verbose", "-v", NULL, "show every request, answer and retry on stderr (never credentials)",
     cli_set_verbose},
};

int cli_global_option(struct cli_globals *g, int argc, char **argv, int *i, char *msg, size_t len)
{
	const char *arg = argv[*i];
	const char *eq = strchr(arg, '=');
	size_t n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);

	for (size_t k = 0; k < sizeof cli_globals_table / sizeof cli_globals_table[0]; k++) {
		const struct cli_global *o = &cli_globals_table[k];
		int match = (strlen(o->name) == n && strncmp(arg, o->name, n) == 0) ||
			    (o->alt != NULL && strlen(o->alt) == n && strncmp(arg, o->alt, n) == 0);
		if (!match)
			continue;
		const char *value = NULL;
		if (o->arg != NULL && eq != NULL) {
			value = eq + 1;
		} else if (o->arg != NULL) {
			if (*i + 1 >= argc)
				return snprintf(msg, len, "%s needs a value (%s)", o->name, o->arg),
				       -1;
			value = argv[++*i];
		} else if (eq != NULL) {
			return snprintf(msg, len, "%s takes no value", o->name), -1;
		}
		return o->set(g, value, msg, len) < 0 ? -1 : 1;
	}
	return 0;
}

static int cli_global_hook(void *ctx, int argc, char **argv, int *i, char *msg, size_t len)
{
	return cli_global_option(ctx, argc, argv, i, msg, len);
}

void cli_help(FILE *f)
{
	const char *last = "";

	fprintf(f, "usage:\n"
		   "  mldeck [OPTIONS]                      the console (ncurses)\n"
		   "  mldeck serve [--listen HOST:PORT] [--home DIR] [OPTION]...\n"
		   "                                        the runtime, headless\n"
		   "  mldeck [OPTIONS] NOUN VERB [ARGS]     the command line\n\n"
		   "commands (* may change the workspace: refused in read-only mode):\n");
	for (size_t t = 0; t < sizeof cli_tables / sizeof cli_tables[0]; t++) {
		for (const struct cli_verb *v = cli_tables[t]; v->noun != NULL; v++) {
			if (strcmp(v->noun, last) != 0 && last[0] != '\0')
				fputc('\n', f);
			last = v->noun;
			fprintf(f, "%c mldeck %s\n", v->mutates ? '*' : ' ', v->usage);
		}
	}
	fprintf(f, "\nglobal options:\n");
	for (size_t k = 0; k < sizeof cli_globals_table / sizeof cli_globals_table[0]; k++) {
		const struct cli_global *o = &cli_globals_table[k];
		char left[64];
		snprintf(left, sizeof left, "%s%s%s%s%s", o->alt ? o->alt : "", o->alt ? ", " : "",
			 o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-26s %s\n", left, o->help);
	}
	fprintf(f, "  %-26s %s\n", "-h, --help", "help (also after a noun or a verb)");
	fprintf(f, "\nenvironment: MLDECK_URL and MLDECK_ADMIN_KEY override the profile;\n"
		   "MLDECK_PROFILE selects one. Exit status: 0 ok, 1 backend error, 2 usage.\n");
}

/* Usage lines of every verb of a noun. */
static void cli_noun_help(FILE *f, const char *noun)
{
	fprintf(f, "usage:\n");
	for (size_t t = 0; t < sizeof cli_tables / sizeof cli_tables[0]; t++)
		for (const struct cli_verb *v = cli_tables[t]; v->noun != NULL; v++)
			if (strcmp(v->noun, noun) == 0)
				fprintf(f, "  mldeck %s\n      %s\n", v->usage, v->help);
}

static void cli_verb_help(FILE *f, const struct cli_verb *v)
{
	static const char *const changes[] = {
	    [CLI_READS] = "",
	    [CLI_CHANGES] = "\nIt changes the workspace: refused in read-only mode.\n",
	    [CLI_CHANGES_WITH_ARGS] = "\nGiven changes, it changes the workspace: refused then in "
				      "read-only mode.\n",
	};

	fprintf(f, "usage: mldeck %s\n\n%s\n%s", v->usage, v->help, changes[v->mutates]);
	fprintf(
	    f, "\nglobal options: --profile NAME, -o json|table, --readonly (see mldeck --help)\n");
}

int cli_fail(const struct error *err)
{
	fprintf(stderr, "mldeck: %s\n", err->message[0] ? err->message : "failed");
	return CLI_FAIL;
}

int cli_usage(const struct cli_verb *v, const char *fmt, ...)
{
	va_list ap;

	fputs("mldeck: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (v != NULL)
		fprintf(stderr, "usage: mldeck %s\n", v->usage);
	return CLI_USAGE;
}

const char *cli_esc(char *buf, size_t len, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0' && o + 4 < len; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-_.~", ch) != NULL) {
			buf[o++] = (char)ch;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
		}
	}
	buf[o] = '\0';
	return buf;
}

int cli_confirm(const struct cli_verb *v, const struct cli_args *a, const char *what)
{
	char line[64];

	if (cli_args_has(a, "--yes"))
		return CLI_OK;
	if (!isatty(STDIN_FILENO))
		return cli_usage(v, "refusing to delete %s without a terminal: pass --yes", what);
	fprintf(stderr, "Delete %s? [y/N] ", what);
	fflush(stderr);
	if (fgets(line, sizeof line, stdin) == NULL || (line[0] != 'y' && line[0] != 'Y')) {
		fprintf(stderr, "mldeck: not deleted\n");
		return CLI_FAIL;
	}
	return CLI_OK;
}

const struct profile *cli_profile(struct cli *c, struct error *err)
{
	if (c->profile != NULL)
		return c->profile;
	if (c->profiles == NULL) {
		c->profiles = calloc(1, sizeof *c->profiles);
		if (c->profiles == NULL)
			return error_set(err, 500, "NoMemory", "out of memory"), NULL;
		if (profile_load(c->profiles, NULL, err) < 0) {
			free(c->profiles);
			c->profiles = NULL;
			return NULL;
		}
	}
	c->profile = profile_select(c->profiles, c->g->profile, err);
	return c->profile;
}

/* After the first connection, what happens to the ssh link goes to stderr
 * (a long bench sees it drop and come back). */
static void cli_transport_notify(void *ctx, const struct transport_status *st)
{
	char what[400];

	(void)ctx;
	if (st->generation == 0 || (st->state == TRANSPORT_CONNECTED && st->generation == 1))
		return;
	if (st->trying)
		return; /* the line before said when */
	transport_describe(st, what, sizeof what);
	fprintf(stderr, "mldeck: %s: %s\n", st->target, what);
}

void cli_transport_detail(struct transport *t)
{
	struct transport_status st;
	char detail[2048];
	size_t n;

	transport_detail(t, detail, sizeof detail);
	for (n = strlen(detail); n > 0 && strchr("\r\n ", detail[n - 1]) != NULL; n--)
		detail[n - 1] = '\0';
	transport_status(t, &st);
	if (detail[0] == '\0' || strstr(st.reason, detail) != NULL)
		return; /* nothing that the message did not say */
	fprintf(stderr, "ssh said:\n");
	for (char *line = detail, *nl; *line != '\0'; line = nl + (*nl != '\0')) {
		nl = line + strcspn(line, "\n");
		if (nl > line)
			fprintf(stderr, "  %.*s\n", (int)(nl - line), line);
	}
}

struct client *cli_client(struct cli *c, struct error *err)
{
	const struct profile *p;

	if (c->client != NULL)
		return c->client;
	if ((p = cli_profile(c, err)) == NULL)
		return NULL;
	if (c->transport == NULL &&
	    (c->transport = transport_open(p, cli_transport_notify, c, err)) == NULL)
		return NULL;
	transport_set_trace(c->transport, c->g->verbose ? stderr : NULL);
	if (transport_wait(c->transport, CLI_CONNECT_MS, err) < 0)
		return NULL;
	c->client = transport_client(c->transport, 0, err);
	return c->client;
}

int cli_is_azure(struct cli *c)
{
	struct error err;
	const struct profile *p = cli_profile(c, &err);

	return p != NULL && strcmp(p->backend, "azureml") == 0;
}

int cli_location(struct cli *c, char *buf, size_t len, struct error *err)
{
	struct client *cl = cli_client(c, err);

	if (cl == NULL)
		return -1;
	return azure_location(cl, cli_is_azure(c) ? NULL : "local", buf, len, err);
}

/* The verb record for noun [verb]; *takes_verb says whether argv[1] was used. */
static const struct cli_verb *cli_find(const char *noun, const char *verb, int *noun_known)
{
	*noun_known = 0;
	for (size_t t = 0; t < sizeof cli_tables / sizeof cli_tables[0]; t++) {
		for (const struct cli_verb *v = cli_tables[t]; v->noun != NULL; v++) {
			if (strcmp(v->noun, noun) != 0)
				continue;
			*noun_known = 1;
			if (v->verb == NULL || (verb != NULL && strcmp(v->verb, verb) == 0))
				return v;
		}
	}
	return NULL;
}

/* Would this call of v change the workspace (its table record says)? */
static int cli_changes(const struct cli_verb *v, const struct cli_args *a)
{
	if (v->mutates == CLI_CHANGES_WITH_ARGS)
		return a->npos > v->min_pos || a->nopt > 0;
	return v->mutates == CLI_CHANGES;
}

/* Parses the verb's arguments and checks counts, --help and read-only. */
static int cli_prepare(struct cli *c, const struct cli_verb *v, int argc, char **argv,
		       struct cli_args *a)
{
	char msg[256];
	struct error err = {0};

	if (cli_args_parse(a, argc, argv, v->opts, cli_global_hook, c->g, msg, sizeof msg) < 0)
		return a->help ? (cli_verb_help(stdout, v), CLI_HELP_SHOWN)
			       : cli_usage(v, "%s", msg);
	if (a->help) {
		cli_verb_help(stdout, v);
		return CLI_HELP_SHOWN;
	}
	if (a->npos < v->min_pos)
		return cli_usage(v, "missing arguments");
	if (v->max_pos >= 0 && a->npos > v->max_pos)
		return cli_usage(v, "unexpected argument \"%s\"", a->pos[v->max_pos]);
	if (cli_changes(v, a) &&
	    profile_readonly(c->g->readonly ? NULL : cli_profile(c, &err), c->g->readonly))
		return cli_usage(NULL, "read-only mode: `%s%s%s` would change the workspace",
				 v->noun, v->verb != NULL ? " " : "",
				 v->verb != NULL ? v->verb : "");
	return 0;
}

static int cli_dispatch(struct cli *c, int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;
	int known;
	const struct cli_verb *v = cli_find(argv[0], verb, &known);
	struct cli_args *a;
	int rc;

	if (!known)
		return cli_usage(NULL, "unknown command \"%s\" (see mldeck --help)", argv[0]);
	if (v == NULL) {
		int help = verb != NULL && (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0);
		if (help) {
			cli_noun_help(stdout, argv[0]);
			return CLI_OK;
		}
		if (verb == NULL)
			cli_usage(NULL, "%s: missing verb", argv[0]);
		else
			cli_usage(NULL, "%s: unknown verb \"%s\"", argv[0], verb);
		cli_noun_help(stderr, argv[0]);
		return CLI_USAGE;
	}
	int skip = v->verb != NULL ? 2 : 1;
	if ((a = calloc(1, sizeof *a)) == NULL)
		return CLI_FAIL;
	rc = cli_prepare(c, v, argc - skip, argv + skip, a);
	if (rc == 0) {
		c->json = c->g->output == CLI_OUT_JSON ||
			  (c->g->output == CLI_OUT_AUTO && !isatty(STDOUT_FILENO));
		rc = v->run(c, v, a);
	} else if (rc < 0) {
		rc = CLI_OK; /* --help */
	}
	free(a);
	return rc;
}

int cli_main(struct cli_globals *g, int argc, char **argv)
{
	struct cli c = {0};

	c.g = g;
	int rc = cli_dispatch(&c, argc, argv);
	if (rc == CLI_FAIL && c.transport != NULL && c.client == NULL)
		cli_transport_detail(c.transport);
	client_free(c.client);
	transport_close(c.transport);
	free(c.profiles);
	fflush(stdout);
	return rc;
}

int cli_show(struct cli *c, const struct cli_col *cols, size_t ncols, const struct cli_col *detail,
	     size_t ndetail, cJSON *doc)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "value");

	if (!cJSON_IsArray(list))
		list = cJSON_IsArray(doc) ? doc : NULL;
	if (c->json)
		cli_out_json(list != NULL ? list : doc);
	else if (list != NULL)
		cli_out_table(cols, ncols, list);
	else if (detail != NULL)
		cli_out_detail(detail, ndetail, doc);
	else
		cli_out_kv(doc);
	cJSON_Delete(doc);
	return CLI_OK;
}

int cli_split_ref(const char *ref, char *name, size_t nlen, char *ver, size_t vlen)
{
	const char *colon = strrchr(ref, ':');
	size_t n = colon != NULL ? (size_t)(colon - ref) : strlen(ref);

	if (n == 0 || n >= nlen ||
	    (colon != NULL && (colon[1] == '\0' || strlen(colon + 1) >= vlen)))
		return -1;
	snprintf(name, nlen, "%.*s", (int)n, ref);
	snprintf(ver, vlen, "%s", colon != NULL ? colon + 1 : "");
	return 0;
}

int cli_asset_ref(struct client *cl, const char *kind, const char *in, char *out, size_t len)
{
	char name[256], ver[64];
	int n;

	if (strncmp(in, "azureml:", 8) == 0 || in[0] == '/' ||
	    cli_split_ref(in, name, sizeof name, ver, sizeof ver) < 0)
		n = snprintf(out, len, "%s", in);
	else if (ver[0] == '\0')
		n = snprintf(out, len, "azureml:%s", in);
	else
		return azure_asset_id(cl, kind, name, ver, out, len);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int cli_code_ref(struct cli *c, const char *dir, char *out, size_t len, struct error *err)
{
	struct upload_result r;

	if (!cli_is_azure(c)) {
		char abs[PATH_MAX];
		const char *d = realpath(dir, abs) != NULL ? abs : dir;

		if (strlen(d) >= len)
			return error_set(err, 400, "BadPath", "--code path too long");
		memcpy(out, d, strlen(d) + 1);
		return 0;
	}
	if (upload_code(c->client, dir, cli_upload_progress, NULL, &r, out, len, err) < 0)
		return -1;
	cli_upload_note(&r, "code");
	return 0;
}
