/*
 * screens/list.h: every screen of the console, one line each, in the order
 * of the help screen and docs/console.md. Adding a screen is one file in
 * this folder (a `const struct screen screen_NAME`, see ../screen.h) and one
 * line here. Included with SCREEN(name) defined; no include guard.
 */
SCREEN(endpoints)
SCREEN(deployments)
SCREEN(models)
SCREEN(environments)
SCREEN(batch)
SCREEN(jobs)
SCREEN(job)
SCREEN(schedules)
SCREEN(logs)
SCREEN(monitor)
SCREEN(test)
SCREEN(profiles)
SCREEN(themes)
SCREEN(help)
SCREEN(viewer)
