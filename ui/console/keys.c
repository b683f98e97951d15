/* keys.c: the key table. */
#include "ui/console/keys.h"

#include <curses.h>

#define CTRL(c) ((c)&0x1f)
#define ON KEYS_ON
#define ESC 27
#define DEPS ON(KEYS_SCR_DEPLOYMENTS)
#define TESTS ON(KEYS_SCR_TEST)
#define SCROLLS (KEYS_TABLES | ON(KEYS_SCR_LOGS) | ON(KEYS_SCR_HELP) | TESTS)

static const char *const screen_names[KEYS_SCR_COUNT] = {
    "Endpoints", "Deployments", "Models", "Environments", "Logs",
    "Test",	 "Profiles",	"Themes", "Help",
};

static const struct keys_binding table[] = {
    /* First so that the hint bar always shows them. */
    {KA_HELP, {'?'}, "?", "help", "this help", KEYS_ALL, KEYS_HINT},
    {KA_QUIT,
     {'q'},
     "q",
     "quit",
     "quit (stops the embedded runtime and demo load)",
     KEYS_ALL,
     KEYS_HINT},
    /* Deployments: traffic sliders (before the general h/l/Enter/Esc). */
    {KA_SLIDE_DOWN1,
     {KEY_LEFT, 'h'},
     "h/Left",
     "-1%",
     "move the share (live or mirror) down by 1",
     DEPS,
     KEYS_MUTATING | KEYS_HINT},
    {KA_SLIDE_UP1,
     {KEY_RIGHT, 'l'},
     "l/Right",
     "+1%",
     "move the share up by 1; the others give",
     DEPS,
     KEYS_MUTATING | KEYS_HINT},
    {KA_SLIDE_DOWN10,
     {'H', KEY_NPAGE},
     "H/PgDn",
     "-10%",
     "move the share down by 10",
     DEPS,
     KEYS_MUTATING},
    {KA_SLIDE_UP10,
     {'L', KEY_PPAGE},
     "L/PgUp",
     "+10%",
     "move the share up by 10",
     DEPS,
     KEYS_MUTATING},
    {KA_MIRROR_MODE,
     {'m'},
     "m",
     "mirror",
     "switch the slider between live and mirror share",
     DEPS,
     KEYS_MUTATING | KEYS_HINT},
    {KA_APPLY,
     {'\n', '\r', KEY_ENTER},
     "Enter",
     "apply/logs",
     "apply pending traffic changes (one request); without changes open logs",
     DEPS,
     KEYS_HINT},
    {KA_DISCARD,
     {ESC},
     "Esc",
     "discard/back",
     "discard pending changes, else go back",
     DEPS,
     KEYS_HINT},
    /* Test request. */
    {KA_TEST_SEND, {'\n', '\r', KEY_ENTER}, "Enter", "send", "send the request", TESTS, KEYS_HINT},
    {KA_TEST_FILE, {'f'}, "f", "file", "next request file", TESTS, KEYS_HINT},
    {KA_TEST_TARGET,
     {'d'},
     "d",
     "target",
     "next target: the split or one deployment",
     TESTS,
     KEYS_HINT},
    {KA_TEST_INLINE, {'i'}, "i", "type body", "type the JSON body on one line", TESTS, KEYS_HINT},
    {KA_TEST_EDIT, {'e'}, "e", "$EDITOR", "edit the body in $EDITOR", TESTS, KEYS_HINT},
    /* Logs. */
    {KA_FOLLOW,
     {'f', KEY_END, 'G'},
     "f/G/End",
     "follow",
     "follow new lines again",
     ON(KEYS_SCR_LOGS),
     KEYS_HINT},
    /* General. */
    {KA_UP, {'k', KEY_UP}, "k/Up", "up", "move up", SCROLLS, 0},
    {KA_DOWN, {'j', KEY_DOWN}, "j/Down", "down", "move down", SCROLLS, 0},
    {KA_PAGE_UP, {KEY_PPAGE, CTRL('b')}, "PgUp/^B", "page up", "one page up", SCROLLS, 0},
    {KA_PAGE_DOWN, {KEY_NPAGE, CTRL('f')}, "PgDn/^F", "page down", "one page down", SCROLLS, 0},
    {KA_TOP, {'g', KEY_HOME}, "g/Home", "top", "first row", SCROLLS, 0},
    {KA_BOTTOM, {'G', KEY_END}, "G/End", "bottom", "last row", SCROLLS, 0},
    {KA_OPEN,
     {'\n', '\r', KEY_ENTER},
     "Enter",
     "open",
     "open: an endpoint's deployments, switch to a profile or theme",
     ON(KEYS_SCR_ENDPOINTS) | ON(KEYS_SCR_PROFILES) | ON(KEYS_SCR_THEMES),
     KEYS_HINT},
    {KA_BACK,
     {ESC},
     "Esc",
     "back",
     "back to the previous screen, or clear the filter",
     KEYS_ALL,
     KEYS_HINT},
    {KA_DELETE,
     {CTRL('d')},
     "^D",
     "delete",
     "delete the selected endpoint, deployment or version (asks first)",
     ON(KEYS_SCR_ENDPOINTS) | DEPS | ON(KEYS_SCR_MODELS) | ON(KEYS_SCR_ENVS),
     KEYS_MUTATING | KEYS_HINT},
    {KA_LOGS,
     {'l'},
     "l",
     "logs",
     "logs of the endpoint's deployment with the most traffic",
     ON(KEYS_SCR_ENDPOINTS),
     KEYS_HINT},
    {KA_TEST,
     {'t'},
     "t",
     "test",
     "test request to the selected endpoint",
     ON(KEYS_SCR_ENDPOINTS) | DEPS | ON(KEYS_SCR_LOGS),
     KEYS_HINT},
    {KA_BENCH,
     {'b'},
     "b",
     "bench",
     "run the load generator against the endpoint for 10 s",
     ON(KEYS_SCR_ENDPOINTS) | DEPS,
     KEYS_MUTATING | KEYS_HINT},
    {KA_FILTER,
     {'/'},
     "/",
     "filter",
     "filter rows (Enter keeps, Esc clears)",
     KEYS_TABLES,
     KEYS_HINT},
    {KA_SORT, {'s'}, "s", "sort", "sort by the next column", KEYS_TABLES, 0},
    {KA_SORT_REVERSE, {'S'}, "S", "reverse", "reverse the sort order", KEYS_TABLES, 0},
    {KA_REFRESH, {'r', CTRL('l')}, "r/^L", "refresh", "refresh now", KEYS_ALL, 0},
    {KA_JUMP_ENDPOINTS, {'1'}, "1", "endpoints", "Endpoints screen", KEYS_ALL, 0},
    {KA_JUMP_MODELS, {'2'}, "2", "models", "Models screen", KEYS_ALL, 0},
    {KA_JUMP_ENVS, {'3'}, "3", "envs", "Environments screen", KEYS_ALL, 0},
    {KA_JUMP_PROFILES, {'4'}, "4", "profiles", "Profiles screen", KEYS_ALL, 0},
    {KA_COMMAND,
     {':'},
     ":",
     "cmd",
     "command: ep, dep, model, env, logs, test, profile [NAME], theme [NAME], help, q",
     KEYS_ALL,
     KEYS_HINT},
};

const struct keys_binding *keys_table(size_t *count)
{
	*count = sizeof table / sizeof table[0];
	return table;
}

const struct keys_binding *keys_lookup(int code, enum keys_screen screen, int readonly)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		const struct keys_binding *b = &table[i];

		if (!(b->screens & ON(screen)) || (readonly && (b->flags & KEYS_MUTATING)))
			continue;
		for (int k = 0; k < KEYS_MAX_CODES && b->codes[k]; k++)
			if (b->codes[k] == code)
				return b;
	}
	return NULL;
}

const char *keys_screen_name(enum keys_screen s)
{
	return (unsigned)s < KEYS_SCR_COUNT ? screen_names[s] : "?";
}

/* "Endpoints, Deployments" for a screen mask. */
static void write_screens(FILE *f, unsigned mask)
{
	int first = 1;

	if (mask == KEYS_ALL) {
		fputs("all", f);
		return;
	}
	for (int s = 0; s < KEYS_SCR_COUNT; s++) {
		if (!(mask & ON(s)))
			continue;
		fprintf(f, "%s%s", first ? "" : ", ", screen_names[s]);
		first = 0;
	}
}

void keys_write_markdown(FILE *f)
{
	fputs("| Key | Screens | Action | Read-only |\n|---|---|---|---|\n", f);
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		fprintf(f, "| `%s` | ", table[i].keyname);
		write_screens(f, table[i].screens);
		fprintf(f, " | %s | %s |\n", table[i].help,
			table[i].flags & KEYS_MUTATING ? "removed" : "kept");
	}
}
