/* python_proc.c: one worker process, its pipes, its log and its end (see python_proc.h). */
#define _GNU_SOURCE /* pipe2: O_CLOEXEC from birth, no race with concurrent spawns */
#include "runtime/engines/python_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/reaper.h"

#define LOG_LINE_MAX 4096 /* longer output lines are split */
#define SRC_WRITE_MS 10000
#define LIFELINE_FD 5    /* in the reaper */
#define REAPER_KILL_MS 2000 /* a reaper told to stop that is still there is SIGKILLed */

static int64_t proc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void proc_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- fds and pipes ---- */

static void fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Moves fd above the child's fixed slots 0..4 so the dup2 calls cannot clash. */
static int fd_high(int fd)
{
	int nfd;

	if (fd >= 5)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 5);
	close(fd);
	return nfd;
}

static int pipe_pair(int p[2], int child_end)
{
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	p[child_end] = fd_high(p[child_end]);
	return p[child_end] < 0 ? -1 : 0;
}

/* One pipe for the whole process: reapers hold its read end; its write end is
 * never written or closed, so they see end of file only when we are gone. */
static int lifeline[2] = {-1, -1};
static pthread_once_t lifeline_once = PTHREAD_ONCE_INIT;

static void lifeline_open(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) != 0)
		return;
	/* above LIFELINE_FD, so that the child's dup2 is never a no-op */
	lifeline[0] = fcntl(p[0], F_DUPFD_CLOEXEC, LIFELINE_FD + 1);
	lifeline[1] = p[1];
	close(p[0]);
}

/* Writes the worker source to its stdin, waiting at most SRC_WRITE_MS; SIGPIPE is
 * ignored by the runtime, and a worker that died early just shows as EPIPE. */
static void write_source(int fd, const char *src)
{
	int64_t until = proc_now_ms() + SRC_WRITE_MS;
	size_t len = strlen(src);
	struct pollfd p = {fd, POLLOUT, 0};
	ssize_t n;

	while (len > 0 && proc_now_ms() < until) {
		n = write(fd, src, len);
		if (n > 0) {
			src += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return;
		} else {
			poll(&p, 1, 100);
		}
	}
}

/* ---- worker output into the log ---- */

struct linebuf {
	char buf[LOG_LINE_MAX];
	size_t len;
	const char *stream;
};

static void line_emit(struct pyproc *p, struct linebuf *lb)
{
	char line[LOG_LINE_MAX + 64];

	if (lb->len > 0 && lb->buf[lb->len - 1] == '\r')
		lb->len--;
	snprintf(line, sizeof line, "[worker %d %s] %.*s", p->id, lb->stream, (int)lb->len,
		 lb->buf);
	lb->len = 0;
	if (p->log != NULL)
		p->log(p->log_ctx, line);
}

static void line_feed(struct pyproc *p, struct linebuf *lb, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n') {
			line_emit(p, lb);
			continue;
		}
		lb->buf[lb->len++] = s[i];
		if (lb->len == sizeof lb->buf - 1)
			line_emit(p, lb);
	}
}

/* Reads stdout and stderr until both close, or the worker is reaped and they go quiet
 * (a grandchild may keep them open). */
static void *log_main(void *arg)
{
	struct pyproc *p = arg;
	struct linebuf lb[2] = {{.stream = "stdout"}, {.stream = "stderr"}};
	struct pollfd pf[2] = {{p->out_fd, POLLIN, 0}, {p->err_fd, POLLIN, 0}};
	char buf[4096];
	int open = 2, n;
	ssize_t r;

	while (open > 0) {
		n = poll(pf, 2, atomic_load(&p->reaped) ? 100 : 1000);
		if (n == 0 && atomic_load(&p->reaped))
			break;
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2 && n > 0; i++) {
			if (pf[i].fd < 0 || pf[i].revents == 0)
				continue;
			r = read(pf[i].fd, buf, sizeof buf);
			if (r > 0) {
				line_feed(p, &lb[i], buf, (size_t)r);
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				pf[i].fd = -1;
				open--;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (lb[i].len > 0)
			line_emit(p, &lb[i]);
	return NULL;
}

/* ---- start ---- */

void pyproc_init(struct pyproc *p, int id, engine_log_fn log, void *log_ctx)
{
	memset(p, 0, sizeof *p);
	p->id = id;
	p->req_fd = p->rep_fd = p->out_fd = p->err_fd = -1;
	p->log = log;
	p->log_ctx = log_ctx;
	atomic_init(&p->reaped, 0);
}

static int spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at, const int child[5])
{
	static const int defaults[] = {SIGPIPE, SIGINT,	 SIGTERM, SIGQUIT, SIGHUP,
				       SIGCHLD, SIGUSR1, SIGUSR2, SIGXFSZ};
	sigset_t none, def;

	sigemptyset(&none);
	sigemptyset(&def);
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
		sigaddset(&def, defaults[i]);
	if (posix_spawn_file_actions_init(fa) != 0)
		return -1;
	if (posix_spawnattr_init(at) != 0) {
		posix_spawn_file_actions_destroy(fa);
		return -1;
	}
	if (child[0] >= 0)
		posix_spawn_file_actions_adddup2(fa, child[0], 0);
	else
		posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
	for (int i = 1; i < 5; i++)
		posix_spawn_file_actions_adddup2(fa, child[i], i);
	posix_spawn_file_actions_adddup2(fa, lifeline[0], LIFELINE_FD);
	posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					 POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(at, 0);
	posix_spawnattr_setsigmask(at, &none);
	posix_spawnattr_setsigdefault(at, &def);
	return 0;
}

/* REAPER_SELF REAPER_ARG LIFELINE_FD MEMORY_MB, then the worker's argv; mem
 * holds the number. */
static char **reaper_argv(const struct pyproc_spec *s, char *mem, size_t len)
{
	static char lifeline_arg[] = {'0' + LIFELINE_FD, '\0'};
	static char self[] = REAPER_SELF, arg[] = REAPER_ARG;
	size_t n = 0;
	char **v;

	while (s->argv[n] != NULL)
		n++;
	v = calloc(n + 5, sizeof *v);
	if (v == NULL)
		return NULL;
	snprintf(mem, len, "%ld", s->memory_mb > 0 ? s->memory_mb : 0);
	v[0] = self, v[1] = arg, v[2] = lifeline_arg, v[3] = mem;
	memcpy(v + 4, s->argv, n * sizeof *v);
	return v;
}

int pyproc_spawn(struct pyproc *p, const struct pyproc_spec *s, char *why, size_t n)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
	int req[2] = {-1, -1}, rep[2] = {-1, -1}, child[5], rc = -1;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char **argv = NULL, mem[24];

	pthread_once(&lifeline_once, lifeline_open);
	if (lifeline[0] < 0 || (argv = reaper_argv(s, mem, sizeof mem)) == NULL) {
		snprintf(why, n, "cannot prepare the worker's reaper: %s", strerror(errno));
		return -1;
	}
	if ((s->src && pipe_pair(in, 0) != 0) || pipe_pair(out, 1) != 0 || pipe_pair(err, 1) != 0 ||
	    pipe_pair(req, 0) != 0 || pipe_pair(rep, 1) != 0) {
		snprintf(why, n, "cannot create pipes: %s", strerror(errno));
		goto out;
	}
	child[0] = in[0], child[1] = out[1], child[2] = err[1], child[3] = req[0];
	child[4] = rep[1];
	if (spawn_setup(&fa, &at, child) != 0) {
		snprintf(why, n, "cannot prepare spawn: out of memory");
		goto out;
	}
	rc = posix_spawn(&p->pid, argv[0], &fa, &at, argv, s->envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		p->pid = 0;
		snprintf(why, n, "cannot start the worker's reaper %s: %s", argv[0], strerror(rc));
		rc = -1;
		goto out;
	}
	p->out_fd = out[0], p->err_fd = err[0], p->req_fd = req[1], p->rep_fd = rep[0];
	out[0] = err[0] = req[1] = rep[0] = -1;
	fcntl(p->req_fd, F_SETFL, O_NONBLOCK);
	fcntl(p->rep_fd, F_SETFL, O_NONBLOCK);
	if (pthread_create(&p->log_thread, NULL, log_main, p) == 0)
		p->log_running = 1;
	if (s->src != NULL) /* python reads the program from stdin up to EOF */
		write_source(in[1], s->src);
	rc = 0;
out:
	free(argv);
	fd_close(&in[0]), fd_close(&in[1]), fd_close(&out[0]), fd_close(&out[1]);
	fd_close(&err[0]), fd_close(&err[1]), fd_close(&req[0]), fd_close(&req[1]);
	fd_close(&rep[0]), fd_close(&rep[1]);
	return rc;
}

/* ---- end ---- */

void pyproc_kill(struct pyproc *p)
{
	if (p->pid > 0 && !atomic_load(&p->reaped))
		kill(p->pid, SIGTERM); /* the reaper: the whole tree, at once */
}

void pyproc_eof(struct pyproc *p)
{
	fd_close(&p->req_fd);
}

int pyproc_reaped(struct pyproc *p, int wait_ms)
{
	int64_t until = proc_now_ms() + wait_ms;
	pid_t r;

	if (p->pid <= 0 || atomic_load(&p->reaped))
		return 1;
	for (;;) {
		r = waitpid(p->pid, &p->status, WNOHANG);
		if (r == p->pid || (r < 0 && errno == ECHILD)) {
			atomic_store(&p->reaped, 1);
			return 1;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (proc_now_ms() >= until)
			return 0;
		proc_sleep_ms(2);
	}
}

void pyproc_reap(struct pyproc *p, int wait_ms)
{
	if (pyproc_reaped(p, wait_ms))
		return;
	pyproc_kill(p);
	while (!pyproc_reaped(p, REAPER_KILL_MS))
		kill(p->pid, SIGKILL); /* last resort: a reaper that does not stop */
}

void pyproc_describe(const struct pyproc *p, char *why, size_t n)
{
	int st = p->status;

	if (p->pid <= 0 || !atomic_load(&p->reaped))
		snprintf(why, n, "worker not reaped");
	else if (WIFEXITED(st))
		snprintf(why, n, "worker exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(why, n, "worker killed by signal %d", WTERMSIG(st));
	else
		snprintf(why, n, "worker stopped (status 0x%x)", (unsigned)st);
}

void pyproc_close(struct pyproc *p)
{
	pyproc_reap(p, 0);
	atomic_store(&p->reaped, 1);
	if (p->log_running)
		pthread_join(p->log_thread, NULL);
	p->log_running = 0;
	fd_close(&p->req_fd), fd_close(&p->rep_fd), fd_close(&p->out_fd), fd_close(&p->err_fd);
}
