/*
 * bench.h: the console's bench key: the load generator (api/loadgen.h)
 * against one endpoint for 10 s with 4 connections, on its own thread,
 * progress on the message line. One bench at a time. Console thread.
 */
#ifndef UI_CONSOLE_BENCH_H
#define UI_CONSOLE_BENCH_H

struct app;

/* Starts a bench against endpoint ep with the request file named like it. */
void bench_start(struct app *a, const char *ep);
/* Progress on the message line while one runs; joins it when done. */
void bench_tick(struct app *a);
/* Stops a running bench (quit, profile switch). No-op without one. */
void bench_stop(struct app *a);

#endif
