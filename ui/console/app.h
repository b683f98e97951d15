/*
 * app.h: the console's state, shared by its parts (console.c runs the loop
 * and the actions, data.c loads screens through the API client, draw.c
 * paints, demo.c builds the demo workspace). Everything here belongs to the
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
#include "ui/console/keys.h"
#include "ui/console/layout.h"
#include "ui/console/live.h"
#include "ui/console/table.h"
#include "ui/console/theme.h"

#define APP_MAX_THEMES 32
#define APP_MAX_FILES 32
#define APP_INPUT_MAX 4096
#define APP_LOG_TAIL 1000

enum app_mode {
	APP_NORMAL,
	APP_FILTER,   /* typing after / */
	APP_COMMAND,  /* typing after : */
	APP_DIALOG,   /* delete confirmation */
	APP_BODY,     /* typing a test body */
	APP_DEMO_ASK, /* first run: build the demo? */
};

struct app_dialog {
	char title[128];
	char text[256];
	char path[512];	 /* DELETE path, workspace-relative */
	char expect[64]; /* name to type ("" when not needed) */
	char typed[64];
	int focus; /* 0 Cancel, 1 Delete */
	enum keys_screen from;
};

/* Deployments of the open endpoint, with the pending split. */
struct app_deploys {
	int n;
	char name[LIVE_MAX_DEPS][64];
	int live[LIVE_MAX_DEPS], mirror[LIVE_MAX_DEPS];
	int pend_live[LIVE_MAX_DEPS], pend_mirror[LIVE_MAX_DEPS];
	int mirror_mode; /* sliders edit the mirror share */
};

struct app_test {
	char files[APP_MAX_FILES][512];
	int nfiles, file; /* file: -1 = typed body */
	char *body;	  /* heap */
	int target;	  /* -1 = the split, else a deployment index */
	int sent, status;
	double latency_ms;
	char chosen[64];
	char *answer; /* heap */
	char error[256];
};

struct app_logs {
	char ep[64], dep[64];
	char *text; /* heap */
	int top, follow;
};

struct demo;
struct bench;
struct runtime;

struct app {
	struct console_options opt;
	struct profile_set profiles;
	struct profile prof; /* the selected profile (a copy) */
	struct connect_info info;
	struct client *c;
	struct runtime *rt;  /* embedded runtime, NULL when connected to one */
	char log_path[1200]; /* the embedded runtime's log */
	int readonly;
	char state[96]; /* header: "ok", "unreachable: ..." */

	struct theme theme;
	char theme_dir[1024];
	int utf8, colors, no_color;

	enum keys_screen screen;
	enum keys_screen back[16];
	int depth;
	struct table tables[KEYS_SCR_COUNT];
	cJSON *docs[KEYS_SCR_COUNT]; /* last list answer of each table screen */
	char endpoint[64];	     /* the endpoint whose deployments are open */
	cJSON *endpoint_doc;
	char scoring_uri[512];
	struct app_deploys dep;
	struct live live;
	struct app_logs logs;
	struct app_test test;
	int help_top;

	enum app_mode mode;
	char input[APP_INPUT_MAX];
	struct app_dialog dialog;
	char message[512];
	int message_error;

	struct layout lay;
	int too_small, cols, lines;
	struct demo *demo;
	struct bench *bench;
	long long next_list_ms, next_live_ms;
	int quit;
	/* Profile switch (console.c): stops and starts what is needed. */
	int (*switch_profile)(struct app *a, const char *name);
};

/* Sets the message line (printf-style); error selects the error style. */
void app_message(struct app *a, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copies src into dst of size n, cut to fit (always NUL-terminated). */
void app_copy(char *dst, size_t n, const char *src);
/* Milliseconds on the monotonic clock. */
long long app_now_ms(void);
/* The table of a table screen, or NULL for text screens. */
struct table *app_table(struct app *a, enum keys_screen s);

#endif
