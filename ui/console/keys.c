/* keys.c: the key table. */
#include "ui/console/keys.h"

#include <curses.h>
#include <string.h>

#include "ui/console/screen.h"

#define CTRL(c) ((c)&0x1f)
#define ESC 27
#define G KEYS_GLOBAL
#define T KEYS_TABLES
#define M KEYS_MUTATING
#define H KEYS_HINT

/* Where a binding is not KEYS_GLOBAL or KEYS_TABLES, the screens that list
 * its action (screens/NAME.c) decide where it is bound. */
static const struct keys_binding table[] = {
    /* First so that the hint bar always shows them. */
    {KA_HELP, {'?', KEY_F(1)}, "?", "help", "this help (F1 too)", G | H},
    {KA_QUIT,
     {'q', KEY_F(10)},
     "q",
     "quit",
     "quit, F10 too (asks first about pending changes; stops the embedded runtime and demo "
     "load)",
     G | H},
    /* Deployments: traffic sliders (before the general h/l/Enter/Esc). */
    {KA_SLIDE_DOWN1,
     {KEY_LEFT, 'h'},
     "h/Left",
     "-1%",
     "move the share (live or mirror) down by 1",
     M | H},
    {KA_SLIDE_UP1,
     {KEY_RIGHT, 'l'},
     "l/Right",
     "+1%",
     "move the share up by 1; the others give",
     M | H},
    {KA_SLIDE_DOWN10, {'H', KEY_NPAGE}, "H/PgDn", "-10%", "move the share down by 10", M},
    {KA_SLIDE_UP10, {'L', KEY_PPAGE}, "L/PgUp", "+10%", "move the share up by 10", M},
    {KA_MIRROR_MODE,
     {'m'},
     "m",
     "mirror",
     "switch the slider between live and mirror share",
     M | H},
    {KA_APPLY,
     {'\n', '\r', KEY_ENTER},
     "Enter",
     "apply/logs",
     "apply pending traffic changes (one request); without changes open logs",
     H},
    {KA_DISCARD, {ESC}, "Esc", "discard/back", "discard pending changes, else go back", H},
    /* Test request. */
    {KA_TEST_SEND, {'\n', '\r', KEY_ENTER}, "Enter", "send", "send the request", H},
    {KA_TEST_FILE, {'f'}, "f", "file", "next request file", H},
    {KA_TEST_TARGET, {'d'}, "d", "target", "next target: the split or one deployment", H},
    {KA_TEST_INLINE, {'i'}, "i", "type body", "type the JSON body on one line", H},
    {KA_TEST_EDIT, {'e'}, "e", "$EDITOR", "edit the body in $EDITOR", H},
    /* Logs. */
    {KA_FOLLOW, {'f', KEY_END, 'G'}, "f/G/End", "follow", "follow new lines again", H},
    /* General. */
    {KA_UP, {'k', KEY_UP}, "k/Up", "up", "move up", G},
    {KA_DOWN, {'j', KEY_DOWN}, "j/Down", "down", "move down", G},
    {KA_PAGE_UP, {KEY_PPAGE, CTRL('b')}, "PgUp/^B", "page up", "one page up", G},
    {KA_PAGE_DOWN, {KEY_NPAGE, CTRL('f')}, "PgDn/^F", "page down", "one page down", G},
    {KA_TOP, {'g', KEY_HOME}, "g/Home", "top", "first row", G},
    {KA_BOTTOM, {'G', KEY_END}, "G/End", "bottom", "last row", G},
    {KA_OPEN,
     {'\n', '\r', KEY_ENTER},
     "Enter",
     "open",
     "open: an endpoint's deployments, a batch endpoint's or schedule's jobs, a monitor's "
     "Monitor screen, a job's mini-batches and logs, switch to a profile or theme",
     H},
    {KA_BACK, {ESC}, "Esc", "back", "back to the previous screen, or clear the filter", G | H},
    {KA_DELETE,
     {CTRL('d')},
     "^D",
     "delete",
     "delete the selected endpoint, deployment, version, job or schedule (asks first)",
     M | H},
    {KA_CANCEL, {'c'}, "c", "cancel job", "cancel the selected job (asks first, No focused)", M | H},
    {KA_LOGS, {'l'}, "l", "logs", "logs of the endpoint's deployment with the most traffic", H},
    {KA_TEST, {'t'}, "t", "test", "test request to the selected endpoint", H},
    {KA_MONITOR,
     {'D'},
     "D",
     "drift",
     "the Monitor screen of the selected deployment: live drift, data quality, runs, alerts, "
     "uncollected requests",
     H},
    {KA_BENCH, {'b'}, "b", "bench", "run the load generator against the endpoint for 10 s", M | H},
    {KA_FILTER, {'/'}, "/", "filter", "filter rows (Enter keeps, Esc clears)", T | H},
    {KA_SORT, {'s'}, "s", "sort", "sort by the next column", T},
    {KA_SORT_REVERSE, {'S'}, "S", "reverse", "reverse the sort order", T},
    {KA_REFRESH, {'r', CTRL('l')}, "r/^L", "refresh", "refresh now", G},
    {KA_JUMP_ENDPOINTS, {'1'}, "1", "endpoints", "Endpoints screen", G},
    {KA_JUMP_MODELS, {'2'}, "2", "models", "Models screen", G},
    {KA_JUMP_ENVS, {'3'}, "3", "envs", "Environments screen", G},
    {KA_JUMP_PROFILES, {'4'}, "4", "profiles", "Profiles screen", G},
    {KA_JUMP_BATCH, {'5'}, "5", "batch", "Batch endpoints screen", G},
    {KA_JUMP_JOBS, {'6'}, "6", "jobs", "Jobs screen", G},
    {KA_COMMAND,
     {':'},
     ":",
     "cmd",
     "command (Tab completes): ep, dep, model, env, logs, monitor [EP/DEP], test, batch, "
     "jobs [EP], job NAME, schedules, profile [NAME], theme [NAME], help, reload, q",
     G | H},
    {KA_VIEW,
     {'v'},
     "v",
     "view",
     "the whole text: a message cut with ..., else the selected row's JSON, the test answer "
     "or the log, wrapped",
     G | H},
};

#define NKEYS (sizeof table / sizeof table[0])

const struct keys_binding *keys_table(size_t *count)
{
	*count = NKEYS;
	return table;
}

const struct keys_binding *keys_lookup(int code, const struct screen *s, int readonly)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct keys_binding *b = &table[i];

		if ((readonly && (b->flags & KEYS_MUTATING)) || !screen_binds(s, b))
			continue;
		for (int k = 0; k < KEYS_MAX_CODES && b->codes[k]; k++)
			if (b->codes[k] == code)
				return b;
	}
	return NULL;
}

int keys_is_move(enum keys_action action)
{
	return action == KA_UP || action == KA_DOWN || action == KA_PAGE_UP ||
	       action == KA_PAGE_DOWN || action == KA_TOP || action == KA_BOTTOM;
}

void keys_screens_text(const struct keys_binding *b, const char *sep, const char *all, char *buf,
		       size_t len)
{
	size_t n, used = 0;
	const struct screen *const *s = screen_all(&n);

	buf[0] = '\0';
	if (b->flags & KEYS_GLOBAL) {
		snprintf(buf, len, "%s", all);
		return;
	}
	for (size_t i = 0; i < n && used < len; i++) {
		int w;

		if (!screen_binds(s[i], b))
			continue;
		w = snprintf(buf + used, len - used, "%s%s", used ? sep : "", s[i]->name);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

void keys_write_markdown(FILE *f)
{
	char where[512];

	fputs("| Key | Screens | Action | Read-only |\n|---|---|---|---|\n", f);
	for (size_t i = 0; i < NKEYS; i++) {
		keys_screens_text(&table[i], ", ", "all", where, sizeof where);
		fprintf(f, "| `%s` | %s | %s | %s |\n", table[i].keyname, where, table[i].help,
			table[i].flags & KEYS_MUTATING ? "removed" : "kept");
	}
}
