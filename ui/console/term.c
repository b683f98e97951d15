/* term.c: tty check, terminfo fallback, escape sequences. */
#include "ui/console/term.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <unistd.h>

int term_check_tty(void)
{
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		return 0;
	fprintf(stderr,
		"mldeck: the console needs a terminal, and %s not one; run it from a "
		"terminal (ssh -t HOST mldeck), or use the command line (mldeck --help)\n",
		!isatty(STDIN_FILENO) ? "stdin is" : "stdout is");
	return -1;
}

/* 1 when this machine has a terminfo entry called name. */
static int term_known(const char *name)
{
	TERMINAL *saved = cur_term, *t;
	int err = 0;

	if (setupterm(name, STDOUT_FILENO, &err) != OK)
		return 0;
	t = cur_term;
	set_curterm(saved);
	del_curterm(t);
	return 1;
}

int term_pick(char *buf, size_t len)
{
	static const char *const fallback[] = {"xterm-256color", "xterm", "vt100"};
	const char *term = getenv("TERM");

	if (term != NULL && term[0] && term_known(term)) {
		snprintf(buf, len, "%s", term);
		return 0;
	}
	for (size_t i = 0; i < sizeof fallback / sizeof fallback[0]; i++) {
		if (!term_known(fallback[i]))
			continue;
		fprintf(stderr, "mldeck: no terminfo entry for TERM=%s here; using %s\n",
			term && term[0] ? term : "(unset)", fallback[i]);
		snprintf(buf, len, "%s", fallback[i]);
		return 0;
	}
	fprintf(stderr,
		"mldeck: no terminfo entry for TERM=%s, nor xterm-256color, xterm or "
		"vt100 (install ncurses-base)\n",
		term && term[0] ? term : "(unset)");
	return -1;
}

/* One sequence, unless the terminfo entry binds it already. */
static void term_define(const char *seq, int key)
{
	if (key_defined(seq) == 0)
		define_key(seq, key);
}

void term_keys(void)
{
	static const struct {
		const char *seq;
		int key;
	} seqs[] = {
	    {"\033[A", KEY_UP},	     {"\033[B", KEY_DOWN},    {"\033[C", KEY_RIGHT},
	    {"\033[D", KEY_LEFT},    {"\033OA", KEY_UP},      {"\033OB", KEY_DOWN},
	    {"\033OC", KEY_RIGHT},   {"\033OD", KEY_LEFT},    {"\033[H", KEY_HOME},
	    {"\033[F", KEY_END},     {"\033OH", KEY_HOME},    {"\033OF", KEY_END},
	    {"\033[1~", KEY_HOME},   {"\033[7~", KEY_HOME},   {"\033[4~", KEY_END},
	    {"\033[8~", KEY_END},    {"\033[5~", KEY_PPAGE},  {"\033[6~", KEY_NPAGE},
	    {"\033[2~", KEY_IC},     {"\033[3~", KEY_DC},     {"\033[Z", KEY_BTAB},
	    {"\033OP", KEY_F(1)},    {"\033OQ", KEY_F(2)},    {"\033OR", KEY_F(3)},
	    {"\033OS", KEY_F(4)},    {"\033[11~", KEY_F(1)},  {"\033[12~", KEY_F(2)},
	    {"\033[13~", KEY_F(3)},  {"\033[14~", KEY_F(4)},  {"\033[15~", KEY_F(5)},
	    {"\033[17~", KEY_F(6)},  {"\033[18~", KEY_F(7)},  {"\033[19~", KEY_F(8)},
	    {"\033[20~", KEY_F(9)},  {"\033[21~", KEY_F(10)}, {"\033[23~", KEY_F(11)},
	    {"\033[24~", KEY_F(12)}, {"\033[[A", KEY_F(1)},   {"\033[[B", KEY_F(2)},
	    {"\033[[C", KEY_F(3)},   {"\033[[D", KEY_F(4)},   {"\033[[E", KEY_F(5)},
	};
	static const struct {
		char final;
		int key;
	} mods[] = {{'A', KEY_UP},   {'B', KEY_DOWN}, {'C', KEY_RIGHT},
		    {'D', KEY_LEFT}, {'H', KEY_HOME}, {'F', KEY_END}};
	static const struct {
		int num, key;
	} tilde[] = {{1, KEY_HOME}, {4, KEY_END}, {5, KEY_PPAGE}, {6, KEY_NPAGE}, {3, KEY_DC}};
	char seq[32];

	for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++)
		term_define(seqs[i].seq, seqs[i].key);
	/* with Shift, Alt or Ctrl held (xterm's ";2" to ";8"): the plain key */
	for (int m = 2; m <= 8; m++) {
		for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
			snprintf(seq, sizeof seq, "\033[1;%d%c", m, mods[i].final);
			term_define(seq, mods[i].key);
		}
		for (size_t i = 0; i < sizeof tilde / sizeof tilde[0]; i++) {
			snprintf(seq, sizeof seq, "\033[%d;%d~", tilde[i].num, m);
			term_define(seq, tilde[i].key);
		}
	}
}

int term_sequence(int ms)
{
	int ch, seq = 0;

	timeout(ms);
	ch = getch();
	if (ch == '[') { /* CSI: parameters and intermediates, then one final byte */
		seq = 1;
		while ((ch = getch()) != ERR && !(ch >= 0x40 && ch <= 0x7e))
			;
	} else if (ch == 'O') { /* SS3: one byte */
		seq = 1;
		getch();
	} else if (ch != ERR) {
		ungetch(ch);
	}
	nodelay(stdscr, TRUE);
	return seq;
}
