/*
 * console.h: the ncurses console (DESIGN.md "Console").
 */
#ifndef UI_CONSOLE_CONSOLE_H
#define UI_CONSOLE_CONSOLE_H

struct console_options {
	const char *profile;  /* NULL: MLDECK_PROFILE, then config default, then "local" */
	int readonly;         /* --readonly (the profile may also set it) */
	int refresh_ms;       /* --refresh MS, default 1000 */
	int demo;             /* --demo: build the demo workspace (forces it) */
	const char *theme;    /* --theme NAME, overrides the profile */
};

/* Runs the console until the user quits. Exit status as main() returns it. */
int console_run(const struct console_options *o);

#endif
