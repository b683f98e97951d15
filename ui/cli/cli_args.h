/*
 * cli_args.h: parsing a verb's arguments against its option spec string
 * ("--path= --type= --yes --require=*"). Options may come as "--x V" or
 * "--x=V", anywhere among the positionals; "--" ends options. Global options
 * are handed back to the caller through a callback. The parsed arguments
 * borrow argv's strings.
 */
#ifndef UI_CLI_CLI_ARGS_H
#define UI_CLI_CLI_ARGS_H

#include <stddef.h>

#define CLI_ARGS_MAX 128

struct cli_args {
	int npos;
	const char *pos[CLI_ARGS_MAX];
	int nopt;
	struct {
		const char *name;  /* as in the spec, e.g. "--path" */
		const char *value; /* NULL for a flag */
	} opt[CLI_ARGS_MAX];
	int help; /* -h or --help was given */
};

/* Global option hook: same contract as cli_global_option. */
typedef int (*cli_args_global_fn)(void *ctx, int argc, char **argv, int *i, char *msg, size_t len);

/* 0, or -1 with msg (unknown option, missing value, repeated option). */
int cli_args_parse(struct cli_args *a, int argc, char **argv, const char *spec,
		   cli_args_global_fn global, void *ctx, char *msg, size_t len);
/* The value of an option (the last one), or NULL. */
const char *cli_args_get(const struct cli_args *a, const char *name);
/* 1 when the flag or option was given. */
int cli_args_has(const struct cli_args *a, const char *name);
/* The k-th value of a repeatable option, or NULL. */
const char *cli_args_nth(const struct cli_args *a, const char *name, int k);
/* Parses a checked long in [lo, hi] from the option; 0 absent (keeps *out),
 * -1 bad (msg filled). */
int cli_args_long(const struct cli_args *a, const char *name, long lo, long hi, long *out,
		  char *msg, size_t len);

#endif
