/*
 * python_proc.h: one Python worker process of the custom_model engine
 * (python.c): starting it with its pipes, its stdout/stderr into the
 * deployment log, and its end. Protocol: docs/worker-protocol.md.
 *
 * The process is started with fds 0 (stdin: the worker source, then EOF, or
 * /dev/null), 1 and 2 (read line by line into the log by a thread of its own
 * as "[worker N stdout] ..."), 3 (request frames) and 4 (reply frames); the
 * parent's ends of 3 and 4 are non-blocking and close-on-exec. It runs under
 * a reaper (runtime/reaper.h), the process this module knows by pid: killing
 * the worker kills everything it started, setsid() or not, and so does the
 * runtime's death. The reaper leads its own process group.
 *
 * Threads: a pyproc belongs to one thread at a time (the engine hands it
 * over under its lock), except pyproc_kill, which any thread may call until
 * pyproc_close.
 */
#ifndef RUNTIME_ENGINES_PYTHON_PROC_H
#define RUNTIME_ENGINES_PYTHON_PROC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/engines/engine.h"

struct pyproc {
	int id;   /* the worker number in log lines */
	pid_t pid;
	int req_fd, rep_fd, out_fd, err_fd; /* parent ends, -1 when closed */
	atomic_int reaped;
	int status; /* wait status, once reaped */
	int log_running;
	pthread_t log_thread;
	engine_log_fn log;
	void *log_ctx;
};

struct pyproc_spec {
	char *const *argv; /* argv[0] is looked up in PATH */
	char *const *envp;
	const char *src;   /* written to stdin then closed; NULL: stdin is /dev/null */
	long memory_mb;    /* RLIMIT_DATA of every process of the worker; 0: none */
};

/* Prepares p (all fds -1) for pyproc_spawn and pyproc_close. */
void pyproc_init(struct pyproc *p, int id, engine_log_fn log, void *log_ctx);
/* Starts the process and its log thread. 0, or -1 with why set. */
int pyproc_spawn(struct pyproc *p, const struct pyproc_spec *s, char *why, size_t n);
/* Kills the worker and everything it started, at once (the reaper SIGKILLs
 * the tree, reaps it and exits). */
void pyproc_kill(struct pyproc *p);
/* Closes the request pipe: an idle worker then exits by itself. */
void pyproc_eof(struct pyproc *p);
/* 1 once the process is reaped (waits at most wait_ms, 0: just looks). */
int pyproc_reaped(struct pyproc *p, int wait_ms);
/* Reaps it, killing it first when it has not exited after wait_ms. */
void pyproc_reap(struct pyproc *p, int wait_ms);
/* How it ended: "worker exited with status 3", "worker killed by signal 9". */
void pyproc_describe(const struct pyproc *p, char *why, size_t n);
/* Reaps (killing if need be), joins the log thread, closes every fd. */
void pyproc_close(struct pyproc *p);

#endif
