/*
 * app.h: the console's state, shared by its parts (console.c runs the loop,
 * screen.c dispatches to the screens of screens/, actions.c runs the
 * general keys and commands, data.c loads through the API client, draw.c
 * paints, demo.c builds the demo workspace). What one screen alone uses is
 * that screen's own (struct screen_state). Everything here belongs to the
 * console's thread; only demo.c's load thread and the bench thread run
 * beside it, each with its own client.
 */
#ifndef UI_CONSOLE_APP_H
#define UI_CONSOLE_APP_H

#include <cjson/cJSON.h>

#include "api/client.h"
#include "api/connect.h"
#include "api/profile.h"
#include "ui/console/console.h"
#include "ui/console/layout.h"
#include "ui/console/live.h"
#include "ui/console/table.h"
#include "ui/console/theme.h"

struct app;

#define APP_MAX_THEMES 32
#define APP_INPUT_MAX 4096
#define APP_MAX_OPS 16 /* long-running operations followed at once (ops.h) */

enum app_mode {
	APP_NORMAL,
	APP_FILTER,   /* typing after / */
	APP_COMMAND,  /* typing after : */
	APP_DIALOG,   /* a dialog (dialog.h) */
	APP_PROMPT,   /* typing a line a screen asked for (prompt, prompt_done) */
	APP_DEMO_ASK, /* first run: build the demo? */
};

struct app_dialog {
	char title[160];
	char text[256];
	const char *buttons[3];
	int nbuttons, focus, safe;		   /* safe: the button Esc presses */
	void (*choose)(struct app *a, int button); /* after the dialog closed */
	char what[128];				   /* delete: "endpoint churn" */
	char path[512];				   /* delete: DELETE path, workspace-relative */
	char expect[64];			   /* name to type ("" when not needed) */
	char typed[64];
};

/* Deployments of the open endpoint, with the pending split. */
struct app_deploys {
	char endpoint[64]; /* whose deployments these are */
	int n;
	char name[LIVE_MAX_DEPS][64];
	int live[LIVE_MAX_DEPS], mirror[LIVE_MAX_DEPS];
	int pend_live[LIVE_MAX_DEPS], pend_mirror[LIVE_MAX_DEPS];
	int mirror_mode; /* sliders edit the mirror share */
};

struct demo;
struct bench;
struct op;
struct runtime;
struct screen_nav;
struct transport;

struct app {
	struct console_options opt;
	struct profile_set profiles;
	char config_stamp[96]; /* config.ini as last read: inode, size, mtime */
	struct profile prof;   /* the selected profile (a copy) */
	struct connect_info info;
	struct fetch *fetch; /* the backend, in the background (fetch.h); NULL when not connected */
	struct transport *transport;	 /* how the backend is reached (api/transport.h) */
	unsigned long tunnel_generation; /* ssh://: the connection the pool was made for */
	int wake[2];	     /* the transport's state changed (backend.c); equal when not open */
	struct runtime *rt;  /* embedded runtime, NULL when connected to one */
	char log_path[1200]; /* the embedded runtime's log */
	int readonly;
	char state[96]; /* connection: "connected", "embedded runtime", "no credential" */

	struct theme theme;
	char theme_dir[1024];
	int utf8, colors, no_color;

	struct screen_nav *nav; /* screen.c's: the active screen, history, states */
	char endpoint[64];	/* the endpoint whose deployments are open */
	cJSON *endpoint_doc;
	char scoring_uri[512];
	struct app_deploys dep;
	struct live live;
	char monitor_ep[64];   /* azureml: whose Azure Monitor figures a->live holds */
	long long monitor_ms;  /* and when they were asked for */

	enum app_mode mode;
	char input[APP_INPUT_MAX];
	char prompt[16];				      /* APP_PROMPT: "body> " */
	void (*prompt_done)(struct app *a, const char *line); /* APP_PROMPT, on Enter */
	char completions[512]; /* APP_COMMAND: what Tab found, when more than one */
	struct app_dialog dialog;
	char message[2048];
	int message_error;

	struct layout lay;
	int header_cut; /* the last header drawn did not fit (v shows it) */
	int too_small, cols, lines;
	struct demo *demo;
	struct bench *bench;
	struct op *ops[APP_MAX_OPS]; /* ops.c's: changes being followed */
	long long ops_shown_ms;	     /* ops.c's: when their rows were last redrawn */
	long long next_list_ms, next_live_ms;
	int list_every_ms; /* list screens reload this often */
	int trim_due;	   /* a load replaced its answer: give the freed memory back */
	int quit;
	FILE *trace;		/* MLDECK_TRACE (bench/console.py), or NULL */
	long long trace_t0_us;	/* the console's start, on app_now_us's clock */
	/* Profile switch (console.c): stops and starts what is needed. */
	int (*switch_profile)(struct app *a, const char *name);
};

/* Sets the message line (printf-style); error selects the error style. */
void app_message(struct app *a, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copies src into dst of size n, cut to fit (always NUL-terminated). */
void app_copy(char *dst, size_t n, const char *src);
/* Milliseconds (microseconds) on the monotonic clock. */
long long app_now_ms(void);
long long app_now_us(void);
/* With MLDECK_TRACE: "event T_MS what" (ms since the start) for benchmarks. */
void app_trace(struct app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
