/*
 * reaper.h: a keeper process per Python worker, so that nothing a worker
 * starts outlives it: not its children, not the ones that called setsid(),
 * not anything once the runtime itself is gone.
 *
 * The runtime starts `SELF REAPER_ARG LIFELINE_FD MEMORY_MB PROGRAM ARGS...`
 * (SELF is /proc/self/exe: this very binary, re-executed, as Docker's reexec
 * does) with the worker's fds and environment. The reaper makes itself a
 * child subreaper (PR_SET_CHILD_SUBREAPER: every orphan of the tree below it
 * comes back to it, setsid or not), forks PROGRAM (with PR_SET_PDEATHSIG and,
 * when MEMORY_MB > 0, RLIMIT_DATA at that many MiB), keeps none of the
 * worker's pipes, and waits. It kills the whole tree below it with SIGKILL,
 * reaps every process of it and exits when:
 *   - PROGRAM exits (its children go with it); the reaper then exits as
 *     PROGRAM did (the same status, or the same signal);
 *   - it receives SIGTERM, SIGINT, SIGHUP or SIGUSR1 (the runtime kills a
 *     worker that way: at once, tree and all);
 *   - LIFELINE_FD reaches end of file: the runtime died (even by SIGKILL),
 *     since only the runtime holds the pipe's write end.
 * The tree is found through /proc (each process's parent), so it needs no
 * privilege and no cgroup; see docs/security.md for why not cgroup v2.
 *
 * Every program that can start Python workers must call reaper_main from
 * main() when argv[1] is REAPER_ARG (ui/main.c and the engine's unit test).
 */
#ifndef RUNTIME_REAPER_H
#define RUNTIME_REAPER_H

#define REAPER_ARG "__mldeck-worker-reaper"
#define REAPER_SELF "/proc/self/exe"

/* Runs the reaper: argv[0] is REAPER_ARG. Never returns on success; 127
 * when the arguments are wrong or PROGRAM cannot be started. */
int reaper_main(int argc, char **argv);

#endif
