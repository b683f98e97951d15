/* reaper.c: the keeper of one worker's process tree (see reaper.h). */
#define _GNU_SOURCE /* signalfd */
#include "runtime/reaper.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KILL_ROUNDS 2000 /* x 5 ms: how long a tree may keep forking while it dies */

struct proc_row {
	pid_t pid, ppid;
	int mark;
};

static pid_t reaper_child;  /* PROGRAM */
static int reaper_status;   /* its wait status, once reaped */
static int reaper_has_status;

static void reaper_nap(void)
{
	struct timespec ts = {0, 5000000L};

	nanosleep(&ts, NULL);
}

/* The parent of pid from /proc/PID/stat ("pid (comm) state ppid ..."); -1. */
static pid_t reaper_ppid(const char *pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd, ppid;

	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
	if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

/* Every process's parent, from /proc. NULL when /proc cannot be read. */
static struct proc_row *reaper_table(size_t *n)
{
	struct proc_row *rows = NULL, *grown;
	size_t cap = 0;
	struct dirent *de;
	DIR *d = opendir("/proc");
	char *end;
	long pid;

	*n = 0;
	while (d != NULL && (de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			grown = realloc(rows, cap * sizeof *rows);
			if (grown == NULL)
				break;
			rows = grown;
		}
		rows[*n].pid = (pid_t)pid;
		rows[*n].ppid = reaper_ppid(de->d_name);
		rows[*n].mark = 0;
		(*n)++;
	}
	if (d != NULL)
		closedir(d);
	return rows;
}

static int reaper_row_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct proc_row *)a)->pid, y = ((const struct proc_row *)b)->pid;

	return (x > y) - (x < y);
}

/* Marks every row below self: one more generation per pass. */
static void reaper_mark(struct proc_row *rows, size_t n, pid_t self)
{
	struct proc_row key, *parent;
	int changed = 1;

	while (changed) {
		changed = 0;
		for (size_t i = 0; i < n; i++) {
			if (rows[i].mark)
				continue;
			key.pid = rows[i].ppid;
			parent = bsearch(&key, rows, n, sizeof *rows, reaper_row_cmp);
			if (rows[i].ppid == self || (parent != NULL && parent->mark))
				rows[i].mark = changed = 1;
		}
	}
}

/* SIGKILLs every process below us. */
static void reaper_kill_below(void)
{
	size_t n;
	struct proc_row *rows = reaper_table(&n);

	if (rows == NULL)
		return;
	qsort(rows, n, sizeof *rows, reaper_row_cmp);
	reaper_mark(rows, n, getpid());
	for (size_t i = 0; i < n; i++)
		if (rows[i].mark)
			kill(rows[i].pid, SIGKILL);
	free(rows);
}

/* Reaps what has ended; 1 when we have no child left at all. */
static int reaper_reap(void)
{
	int st;
	pid_t r;

	for (;;) {
		r = waitpid(-1, &st, WNOHANG);
		if (r > 0) {
			if (r == reaper_child) {
				reaper_status = st;
				reaper_has_status = 1;
			}
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 && errno == ECHILD;
	}
}

/* Kills and reaps the whole tree: orphans come back to us, so once we have no
 * child left, nothing of the tree is left. */
static void reaper_kill_tree(void)
{
	for (int round = 0; round < KILL_ROUNDS; round++) {
		if (reaper_child > 0 && !reaper_has_status)
			kill(reaper_child, SIGKILL);
		reaper_kill_below();
		if (reaper_reap())
			return;
		reaper_nap();
	}
}

/* Ends as PROGRAM ended: the same exit status, or the same signal. */
static void reaper_exit(void)
{
	struct rlimit none = {0, 0};
	sigset_t all;
	int sig;

	if (!reaper_has_status || WIFEXITED(reaper_status))
		_exit(reaper_has_status ? WEXITSTATUS(reaper_status) : 1);
	sig = WTERMSIG(reaper_status);
	setrlimit(RLIMIT_CORE, &none);
	signal(sig, SIG_DFL);
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	raise(sig);
	_exit(128 + sig);
}

/* In the child: PROGRAM, dying with us, under the memory limit. */
static void reaper_exec(char **argv, long memory_mb, pid_t parent, const sigset_t *old)
{
	struct rlimit lim;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if (memory_mb > 0) {
		lim.rlim_cur = lim.rlim_max = (rlim_t)memory_mb << 20;
		setrlimit(RLIMIT_DATA, &lim);
	}
	sigprocmask(SIG_SETMASK, old, NULL);
	execvp(argv[0], argv);
	dprintf(2, "mldeck worker reaper: cannot start %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Our copies of the worker's pipes must not keep them open. */
static void reaper_let_go(int lifeline)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	for (int fd = 0; fd <= 4; fd++) {
		if (fd == 2 || fd == lifeline)
			continue; /* stderr: our own last words */
		if (null >= 0)
			dup2(null, fd);
		else
			close(fd);
	}
	if (null > 4)
		close(null);
}

static long reaper_number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s != '\0' && *end == '\0' && v >= 0 ? v : -1;
}

int reaper_main(int argc, char **argv)
{
	struct pollfd pf[2];
	sigset_t mask, old;
	long lifeline, memory_mb;
	pid_t self = getpid();

	if (argc < 4 || (lifeline = reaper_number(argv[1])) < 0 ||
	    (memory_mb = reaper_number(argv[2])) < 0) {
		fprintf(stderr, "usage: mldeck %s LIFELINE_FD MEMORY_MB PROGRAM [ARG...]\n",
			REAPER_ARG);
		return 127;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, &old);
	pf[0] = (struct pollfd){signalfd(-1, &mask, SFD_CLOEXEC), POLLIN, 0};
	pf[1] = (struct pollfd){(int)lifeline, POLLIN, 0};
	fcntl((int)lifeline, F_SETFD, FD_CLOEXEC);
	reaper_child = fork();
	if (reaper_child == 0)
		reaper_exec(argv + 3, memory_mb, self, &old);
	if (reaper_child < 0 || pf[0].fd < 0) {
		fprintf(stderr, "mldeck worker reaper: %s\n", strerror(errno));
		reaper_kill_tree();
		return 127;
	}
	reaper_let_go((int)lifeline);
	for (;;) {
		struct signalfd_siginfo si;
		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[1].revents != 0) /* the runtime is gone */
			break;
		if (pf[0].revents == 0 || read(pf[0].fd, &si, sizeof si) != sizeof si)
			continue;
		if (si.ssi_signo != SIGCHLD)
			break; /* told to stop */
		reaper_reap();
		if (reaper_has_status)
			break; /* PROGRAM ended: its children go with it */
	}
	reaper_kill_tree();
	reaper_exit();
	return 127;
}
