/*
 * term.h: the terminal the console runs in, before and around curses: the
 * check that there is one (`ssh host mldeck` has none), a terminfo entry
 * for TERMs this machine lacks (xterm-kitty, foot, wezterm, ghostty: the
 * common fallbacks), and the escape sequences a terminfo entry lacks (tmux
 * sends \e[4~ for End whatever TERM says): a table of the common xterm,
 * vt, rxvt and linux-console sequences is taught to curses, and anything
 * else that starts like a sequence is read whole and dropped, never taken
 * as Esc and letters. Console thread only.
 */
#ifndef UI_CONSOLE_TERM_H
#define UI_CONSOLE_TERM_H

#include <stddef.h>

/* 0 when stdin and stdout are terminals; else -1 after one clear line on
 * stderr (the caller exits 2). */
int term_check_tty(void);
/* The terminfo entry to use in buf: TERM's when this machine has it, else
 * the first of xterm-256color, xterm, vt100 that it has (one line on stderr
 * says so). -1 with a message on stderr when there is none. */
int term_pick(char *buf, size_t len);
/* Teaches curses the common sequences its terminfo lacks (after keypad). */
void term_keys(void);
/* Call after getch() returned Esc: when a sequence curses did not know
 * follows (CSI "\e[..." or SS3 "\eO."), reads it whole and returns 1 (drop
 * the Esc); 0 for an Esc key. Waits at most ms for the next byte. */
int term_sequence(int ms);

#endif
