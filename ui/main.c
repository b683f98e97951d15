/* main.c: one binary, three faces: console, `serve`, and the command line. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "runtime/reaper.h"
#include "runtime/runtime.h"
#include "ui/cli/cli.h"
#include "ui/console/console.h"

/* Global options before the noun; the index of the first other word. */
static int main_globals(struct cli_globals *g, int argc, char **argv)
{
	char msg[256];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			g->help = 1;
			continue;
		}
		if (argv[i][0] != '-')
			return i;
		int r = cli_global_option(g, argc, argv, &i, msg, sizeof msg);
		if (r == 0)
			snprintf(msg, sizeof msg, "unknown option %s", argv[i]);
		if (r <= 0) {
			fprintf(stderr, "mldeck: %s (see mldeck --help)\n", msg);
			return -1;
		}
	}
	return argc;
}

static int main_console(const struct cli_globals *g)
{
	struct console_options o = {
	    .profile = g->profile,
	    .readonly = g->readonly,
	    .refresh_ms = g->refresh_ms > 0 ? g->refresh_ms : 1000,
	    .demo = g->demo,
	    .theme = g->theme,
	};

	return console_run(&o);
}

int main(int argc, char **argv)
{
	struct cli_globals g = {0};
	int rc, i;

	/* a Python worker's keeper, re-executed by the runtime (runtime/reaper.h) */
	if (argc > 1 && strcmp(argv[1], REAPER_ARG) == 0)
		return reaper_main(argc - 1, argv + 1);
	i = main_globals(&g, argc, argv);

	if (i < 0)
		return CLI_USAGE;
	if (g.version) {
		printf("mldeck %s\n", MLDECK_VERSION);
		return CLI_OK;
	}
	if (g.help && (i >= argc || strcmp(argv[i], "serve") != 0)) {
		if (i >= argc) {
			cli_help(stdout);
			return CLI_OK;
		}
		/* `mldeck --help model register`: same as `mldeck model register --help`. */
		char *args[CLI_ARGS_MAX + 1];
		int n = 0;
		for (int k = i; k < argc && n < CLI_ARGS_MAX; k++)
			args[n++] = argv[k];
		args[n++] = (char *)"--help";
		return cli_main(&g, n, args);
	}
	if (i < argc && strcmp(argv[i], "serve") == 0)
		return runtime_serve_main(argc - i, argv + i);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = i >= argc ? main_console(&g) : cli_main(&g, argc - i, argv + i);
	curl_global_cleanup();
	return rc;
}
