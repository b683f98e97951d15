/* cli_progress.c: what takes time on the command line: long-running
 * operations (like az's `Running ..`) and uploads. */
#include "ui/cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/lro.h"

struct cli_wait {
	const char *what;
	int tty;
	int ticks;
	char shown[32]; /* the status last printed (plain lines) */
};

/* On a terminal one line redrawn in place; otherwise a line per new status. */
static void cli_wait_progress(void *ctx, const struct lro *op)
{
	static const char spin[] = "|/-\\";
	struct cli_wait *w = ctx;

	if (w->tty) {
		fprintf(stderr, "\r\033[K%c %s: %s (%.0f s)", spin[w->ticks++ % 4], w->what,
			op->status, lro_elapsed_s(op));
	} else if (strcmp(w->shown, op->status) != 0) {
		fprintf(stderr, "%s: %s (%.0f s)\n", w->what, op->status, lro_elapsed_s(op));
		snprintf(w->shown, sizeof w->shown, "%s", op->status);
	}
	fflush(stderr);
}

int cli_lro(struct cli *c, const struct cli_args *a, const char *method, const char *path,
	    const cJSON *body, const char *what, cJSON **out, struct error *err)
{
	struct cli_wait w = {what, isatty(STDERR_FILENO) && !c->g->verbose, 0, ""};
	struct client *cl = cli_client(c, err);
	struct lro *op;
	int rc;

	*out = NULL;
	if (cl == NULL)
		return -1;
	if ((op = calloc(1, sizeof *op)) == NULL)
		return error_set(err, 500, "NoMemory", "out of memory");
	rc = lro_call(cl, method, path, body, op, out, err);
	if (rc == 0 && op->state == LRO_RUNNING && !cli_args_has(a, "--no-wait")) {
		cJSON_Delete(*out);
		*out = NULL;
		rc = lro_wait(cl, op, cli_wait_progress, &w, out, err);
		if (w.tty)
			fprintf(stderr, "\r\033[K");
		if (rc == 0 && !c->json)
			fprintf(stderr, "%s: %s after %.0f s\n", what, op->status, lro_elapsed_s(op));
	}
	free(op);
	return rc;
}

void cli_upload_progress(void *ctx, const char *file, long long done, long long total)
{
	(void)ctx;
	if (total > (long long)UPLOAD_SINGLE_MAX && isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[KUploading %s  %.1f/%.1f MiB  %3.0f%%%s", file,
			(double)done / 1048576.0, (double)total / 1048576.0,
			total ? 100.0 * (double)done / (double)total : 100.0,
			done == total ? "\r\033[K" : "");
}

void cli_upload_note(const struct upload_result *r, const char *what)
{
	fprintf(stderr, "%s %s%s%s (%d file%s, %.1f MiB)\n",
		r->reused ? "Reusing the identical upload" : "Uploaded", what, what[0] ? " " : "",
		r->dir, r->files, r->files == 1 ? "" : "s", (double)r->bytes / 1048576.0);
}
