/*
 * cli.h: the command line, `mldeck <noun> <verb> ...` (DESIGN.md "Command
 * line"). Every verb is a record in a table (cli_model.c, cli_endpoint.c,
 * cli_deployment.c, cli_misc.c); the dispatcher and every --help text are
 * generated from those tables. Exit status: 0 success, 1 error reported by
 * the backend (or unreachable), 2 usage error. Single-threaded.
 */
#ifndef UI_CLI_CLI_H
#define UI_CLI_CLI_H

#include <stdio.h>

#include "api/client.h"
#include "api/connect.h"
#include "api/profile.h"
#include "api/upload.h"
#include "api/transport.h"
#include "ui/cli/cli_args.h"
#include "ui/cli/cli_out.h"

#ifndef MLDECK_VERSION
#define MLDECK_VERSION "0.1.0"
#endif

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };
enum cli_output { CLI_OUT_AUTO, CLI_OUT_JSON, CLI_OUT_TABLE };

/* Options valid anywhere on the line (main() parses those before the noun). */
struct cli_globals {
	const char *profile;
	enum cli_output output;
	int readonly;
	int refresh_ms;
	int demo;
	const char *theme;
	int help;
	int version;
	int verbose; /* -v: every request, answer and retry on stderr */
};

/* Does a verb change the workspace? Read-only mode (profile_readonly) refuses
 * it before it runs, with exit 2. */
enum cli_change {
	CLI_READS = 0,
	CLI_CHANGES = 1,
	CLI_CHANGES_WITH_ARGS = 2, /* only when given more than min_pos positionals or an
				      option: `traffic EP` shows, `traffic EP a=100` sets */
};

/* What a verb's handler works with. */
struct cli {
	struct cli_globals *g;
	int json; /* resolved output format */
	struct profile_set *profiles;
	const struct profile *profile;
	struct transport *transport; /* how the profile is reached (ssh:// or direct) */
	struct client *client;
};

struct cli_verb {
	const char *noun;
	const char *verb; /* NULL: the noun alone is the command (traffic, invoke, bench) */
	int (*run)(struct cli *c, const struct cli_verb *v, const struct cli_args *a);
	const char *usage;    /* after "mldeck " */
	const char *help;     /* one line */
	const char *opts;     /* "--path= --yes --require=*": '=' takes a value, '*' repeats */
	int min_pos, max_pos; /* positional arguments; max -1 = any number */
	enum cli_change mutates; /* the one place read-only is decided (cli_prepare) */
};

/* Each verb file's table, ended by a record whose noun is NULL. */
extern const struct cli_verb cli_model_verbs[];
extern const struct cli_verb cli_endpoint_verbs[];
extern const struct cli_verb cli_deployment_verbs[];
extern const struct cli_verb cli_misc_verbs[];
extern const struct cli_verb cli_azure_verbs[];
extern const struct cli_verb cli_metrics_verbs[];
extern const struct cli_verb cli_batch_verbs[];
extern const struct cli_verb cli_job_verbs[];
extern const struct cli_verb cli_monitor_verbs[];

/* Parses one global option at argv[*i] (advancing *i past its value):
 * 1 consumed, 0 not a global option, -1 bad (msg filled). */
int cli_global_option(struct cli_globals *g, int argc, char **argv, int *i, char *msg, size_t len);
/* Runs `noun ...` (argv[0] is the noun). Returns the exit status. */
int cli_main(struct cli_globals *g, int argc, char **argv);
/* `mldeck --help`. */
void cli_help(FILE *f);

/* For handlers. */
/* The selected profile (loads config.ini once); NULL with err. */
const struct profile *cli_profile(struct cli *c, struct error *err);
/* The connected client (once): opens the profile's transport and waits for
 * it (an ssh:// profile connects here); NULL with err. */
struct client *cli_client(struct cli *c, struct error *err);
/* Prints ssh's own words about t's last failure, indented, on stderr. */
void cli_transport_detail(struct transport *t);
/* Prints "mldeck: <message>" and returns CLI_FAIL. */
int cli_fail(const struct error *err);
/* Prints "mldeck: <message>", the verb's usage, and returns CLI_USAGE. */
int cli_usage(const struct cli_verb *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Asks on a terminal; without one refuses unless --yes. CLI_OK to go on. */
int cli_confirm(const struct cli_verb *v, const struct cli_args *a, const char *what);
/* Prints doc (consumed): JSON as is (a {"value":[...]} list as the array),
 * else a table (lists) or detail lines (one item, detail set). CLI_OK. */
int cli_show(struct cli *c, const struct cli_col *cols, size_t ncols, const struct cli_col *detail,
	     size_t ndetail, cJSON *doc);
/* cli_show with two column tables (arrays) given by name. */
#define CLI_SHOW(c, cols, detail, doc)                                                             \
	cli_show(c, cols, sizeof cols / sizeof cols[0], detail, sizeof detail / sizeof detail[0],  \
		 doc)
/* "NAME:V" -> name and version (version "" when absent). -1 when too long
 * or empty parts. */
int cli_split_ref(const char *ref, char *name, size_t nlen, char *ver, size_t vlen);
/* A model's or environment's reference for a deployment body, the same for
 * online and batch deployments: "NAME:V" -> that version's ARM id in the
 * client's workspace (kind "models" or "environments"); a bare NAME ->
 * "azureml:NAME"; an ARM id or "azureml:" reference kept. -1 when it does
 * not fit. */
int cli_asset_ref(struct client *cl, const char *kind, const char *in, char *out, size_t len);
/* codeConfiguration.codeId for folder dir: on Azure the folder uploaded as a
 * code asset (its ARM id); on an mldeck runtime the folder's path on this
 * host. Needs c->client. 0, or -1 with err. */
int cli_code_ref(struct cli *c, const char *dir, char *out, size_t len, struct error *err);
/* cli_job.c: prints a job (a table or JSON), CLI_OK; follows job NAME until it
 * ends (progress on a terminal, plain lines otherwise): CLI_OK when it
 * Completed, CLI_FAIL otherwise. */
int cli_job_print(struct cli *c, cJSON *doc);
int cli_job_stream_name(struct cli *c, const char *name);
/* Percent-encodes s into buf for use as one path segment. */
const char *cli_esc(char *buf, size_t len, const char *s);
/* 1 when the selected profile's backend is azureml (Azure ML itself). */
int cli_is_azure(struct cli *c);
/* The location endpoints are created in: the workspace's region on Azure,
 * "local" on an mldeck runtime without a workspace resource. */
int cli_location(struct cli *c, char *buf, size_t len, struct error *err);

/* Long-running operations (cli_progress.c). Sends method on path; then, unless
 * the verb has --no-wait, follows the operation, showing its state and
 * elapsed time on stderr (updated in place on a terminal, a line per change
 * otherwise). *out is the final resource (PUT/PATCH), NULL for a delete, or
 * with --no-wait the first answer. what names it for people ("deployment
 * blue"). 0, or -1 with err (the service's error when it Failed). */
int cli_lro(struct cli *c, const struct cli_args *a, const char *method, const char *path,
	    const cJSON *body, const char *what, cJSON **out, struct error *err);
/* Upload progress (upload_progress_fn): a line redrawn on a terminal for
 * files past one Put Blob, nothing otherwise. */
void cli_upload_progress(void *ctx, const char *file, long long done, long long total);
/* "Uploaded WHAT DIR (N files, X MiB)" or "Reusing ...", on stderr. */
void cli_upload_note(const struct upload_result *r, const char *what);

#endif
