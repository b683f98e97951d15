/*
 * python.c: custom_model, a pool of Python worker processes running score.py.
 *
 * Each worker is a process with five pipes: its stdin (the embedded worker
 * source, then EOF), stdout and stderr (read by one log thread per worker),
 * fd 3 (request frames) and fd 4 (reply frames). Request threads take an idle
 * worker under the engine lock and then own it until they hand it back; a
 * worker that times out or dies is reaped by that thread and marked dead. A
 * supervisor thread per engine cleans dead and surplus workers up and starts
 * replacements, backing off when they keep failing.
 */
#define _GNU_SOURCE /* pipe2: O_CLOEXEC from birth, no race with concurrent spawns */
#include "runtime/engines/python.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* runtime/worker/mldeck_worker.py, NUL-terminated, embedded by the assembler
 * so the binary works wherever it is copied. Paths are relative to the
 * directory make runs in (the repository root). */
__asm__(".pushsection .rodata\n"
	"python_worker_py:\n"
	".incbin \"runtime/worker/mldeck_worker.py\"\n"
	".byte 0\n"
	".popsection\n");
extern const char python_worker_py[];

#define FRAME_MAX (64u << 20)	/* type byte + payload, both directions */
#define LOG_LINE_MAX 4096	/* longer output lines are split */
#define START_TIMEOUT_MS 300000 /* import + init() */
#define STOP_GRACE_MS 500	/* per step: EOF, then SIGTERM, then SIGKILL */
#define CRASH_REAP_MS 200	/* wait for a worker whose pipe closed */
#define BACKOFF_MAX_MS 30000
#define REASON_MAX 512

enum io_rc { IO_OK, IO_TIMEOUT, IO_EOF, IO_ERR, IO_PROTO };
enum wstate { W_STARTING, W_IDLE, W_BUSY, W_DEAD, W_RETIRE };

struct worker {
	struct pyengine *e;
	int id;
	pid_t pid;
	int req_fd, rep_fd, out_fd, err_fd; /* parent ends, -1 when closed */
	enum wstate state;
	atomic_int reaped;
	int log_running;
	pthread_t log_thread;
	char fail[REASON_MAX]; /* why it did not start */
	struct worker *next;
};

struct pyengine {
	char **argv, **envp;
	const char *src; /* embedded worker source, NULL when argv names a file */
	int timeout_ms;
	engine_log_fn log;
	void *log_ctx;
	pthread_mutex_t lock;
	pthread_cond_t idle_cv, sup_cv;
	struct worker *workers;
	int target, next_id, failures;
	int64_t retry_at;
	char last_fail[REASON_MAX];
	atomic_int stopping;
	int sup_running;
	pthread_t supervisor;
};

struct strv {
	char **v;
	size_t n, cap;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void elog(struct pyengine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void elog(struct pyengine *e, const char *fmt, ...)
{
	char line[1024];
	int n;
	va_list ap;

	if (e->log == NULL)
		return;
	n = snprintf(line, sizeof line, "[engine] ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	e->log(e->log_ctx, line);
}

/* ---- string vectors for argv and envp ---- */

static int strv_push(struct strv *s, char *str)
{
	char **v;

	if (str == NULL)
		return -1;
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		v = realloc(s->v, s->cap * sizeof *v);
		if (v == NULL) {
			free(str);
			return -1;
		}
		s->v = v;
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
	return 0;
}

/* Adds "KEY=VALUE", replacing an entry with the same KEY. */
static int strv_setenv(struct strv *s, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) + 1 : strlen(kv);

	for (size_t i = 0; i < s->n; i++) {
		if (strncmp(s->v[i], kv, klen) == 0) {
			char *copy = strdup(kv);

			if (copy == NULL)
				return -1;
			free(s->v[i]);
			s->v[i] = copy;
			return 0;
		}
	}
	return strv_push(s, strdup(kv));
}

static int strv_setenv2(struct strv *s, const char *key, const char *value)
{
	char buf[8192];

	if ((size_t)snprintf(buf, sizeof buf, "%s=%s", key, value) >= sizeof buf)
		return -1;
	return strv_setenv(s, buf);
}

static void strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
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

/* write() that never raises SIGPIPE, whatever the process disposition. */
static ssize_t write_nosig(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	struct timespec zero = {0, 0};
	int was_pending, saved;
	ssize_t n;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	n = write(fd, buf, len);
	saved = errno;
	if (n < 0 && saved == EPIPE && !was_pending)
		sigtimedwait(&pipe_set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return n;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = {fd, events, 0};
	int64_t left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return IO_TIMEOUT;
		n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (n > 0)
			return IO_OK;
		if (n < 0 && errno != EINTR)
			return IO_ERR;
	}
}

static int write_all(int fd, const unsigned char *p, size_t len, int64_t deadline)
{
	ssize_t n;
	int rc;

	while (len > 0) {
		n = write_nosig(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EPIPE) {
			return IO_EOF;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return IO_ERR;
		} else if ((rc = wait_fd(fd, POLLOUT, deadline)) != IO_OK) {
			return rc;
		}
	}
	return IO_OK;
}

static int read_all(int fd, unsigned char *p, size_t len, int64_t deadline)
{
	ssize_t n;
	int rc;

	while (len > 0) {
		n = read(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n == 0) {
			return IO_EOF;
		} else if (errno != EAGAIN && errno != EINTR) {
			return IO_ERR;
		} else if ((rc = wait_fd(fd, POLLIN, deadline)) != IO_OK) {
			return rc;
		}
	}
	return IO_OK;
}

/* Reads one frame: *payload is heap, NUL-terminated, *len bytes before the NUL. */
static int read_frame(int fd, int64_t deadline, char *type, char **payload, size_t *len)
{
	unsigned char head[5];
	uint32_t flen;
	char *buf;
	int rc;

	*payload = NULL;
	if ((rc = read_all(fd, head, sizeof head, deadline)) != IO_OK)
		return rc;
	flen = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
	if (flen < 1 || flen > FRAME_MAX)
		return IO_PROTO;
	*type = (char)head[4];
	*len = flen - 1;
	buf = malloc(*len + 1);
	if (buf == NULL)
		return IO_ERR;
	if ((rc = read_all(fd, (unsigned char *)buf, *len, deadline)) != IO_OK) {
		free(buf);
		return rc;
	}
	buf[*len] = '\0';
	*payload = buf;
	return IO_OK;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* ---- worker output into the log ---- */

struct linebuf {
	char buf[LOG_LINE_MAX];
	size_t len;
	const char *stream;
};

static void line_emit(struct worker *w, struct linebuf *lb)
{
	char line[LOG_LINE_MAX + 64];

	if (lb->len > 0 && lb->buf[lb->len - 1] == '\r')
		lb->len--;
	snprintf(line, sizeof line, "[worker %d %s] %.*s", w->id, lb->stream, (int)lb->len,
		 lb->buf);
	lb->len = 0;
	if (w->e->log != NULL)
		w->e->log(w->e->log_ctx, line);
}

static void line_feed(struct worker *w, struct linebuf *lb, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			line_emit(w, lb);
			continue;
		}
		lb->buf[lb->len++] = p[i];
		if (lb->len == sizeof lb->buf - 1)
			line_emit(w, lb);
	}
}

/* Reads stdout and stderr until both close, or the worker is reaped and they go quiet
 * (a grandchild may keep them open). */
static void *worker_log_main(void *arg)
{
	struct worker *w = arg;
	struct linebuf lb[2] = {{.stream = "stdout"}, {.stream = "stderr"}};
	struct pollfd p[2] = {{w->out_fd, POLLIN, 0}, {w->err_fd, POLLIN, 0}};
	char buf[4096];
	int open = 2, n;
	ssize_t r;

	while (open > 0) {
		n = poll(p, 2, atomic_load(&w->reaped) ? 100 : 1000);
		if (n == 0 && atomic_load(&w->reaped))
			break;
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2 && n > 0; i++) {
			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			r = read(p[i].fd, buf, sizeof buf);
			if (r > 0) {
				line_feed(w, &lb[i], buf, (size_t)r);
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				p[i].fd = -1;
				open--;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (lb[i].len > 0)
			line_emit(w, &lb[i]);
	return NULL;
}

/* ---- process lifetime ---- */

static void describe_status(int status, char *why, size_t n)
{
	if (WIFEXITED(status))
		snprintf(why, n, "worker exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(why, n, "worker killed by signal %d", WTERMSIG(status));
	else
		snprintf(why, n, "worker stopped (status 0x%x)", (unsigned)status);
}

static void worker_kill(struct worker *w, int sig)
{
	if (w->pid > 0 && !atomic_load(&w->reaped)) {
		kill(-w->pid, sig); /* its process group: the user's children too */
		kill(w->pid, sig);
	}
}

/* Waits up to wait_ms for the worker to exit, then SIGKILLs it; says how it ended. */
static void worker_reap(struct worker *w, int wait_ms, char *why, size_t n)
{
	int64_t until = now_ms() + wait_ms;
	int status = 0;
	pid_t r;

	if (w->pid <= 0 || atomic_load(&w->reaped)) {
		snprintf(why, n, "worker not running");
		return;
	}
	for (;;) {
		r = waitpid(w->pid, &status, wait_ms > 0 ? WNOHANG : 0);
		if (r == w->pid)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(why, n, "worker lost: %s", strerror(errno));
			atomic_store(&w->reaped, 1);
			return;
		}
		if (now_ms() >= until) {
			worker_kill(w, SIGKILL);
			wait_ms = 0;
			continue;
		}
		sleep_ms(2);
	}
	atomic_store(&w->reaped, 1);
	describe_status(status, why, n);
}

static int spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at, const int child[5])
{
	static const int defaults[] = {SIGPIPE, SIGINT,	 SIGTERM, SIGQUIT,
				       SIGHUP,	SIGCHLD, SIGUSR1, SIGUSR2};
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
	posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					 POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(at, 0);
	posix_spawnattr_setsigmask(at, &none);
	posix_spawnattr_setsigdefault(at, &def);
	return 0;
}

/* Creates the pipes, starts the process and its log thread. -1 with w->fail set. */
static int worker_spawn(struct pyengine *e, struct worker *w)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
	int req[2] = {-1, -1}, rep[2] = {-1, -1}, child[5], rc = -1;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;

	if ((e->src && pipe_pair(in, 0) != 0) || pipe_pair(out, 1) != 0 || pipe_pair(err, 1) != 0 ||
	    pipe_pair(req, 0) != 0 || pipe_pair(rep, 1) != 0) {
		snprintf(w->fail, sizeof w->fail, "cannot create pipes: %s", strerror(errno));
		goto out;
	}
	child[0] = in[0], child[1] = out[1], child[2] = err[1], child[3] = req[0];
	child[4] = rep[1];
	if (spawn_setup(&fa, &at, child) != 0) {
		snprintf(w->fail, sizeof w->fail, "cannot prepare spawn: out of memory");
		goto out;
	}
	rc = posix_spawnp(&w->pid, e->argv[0], &fa, &at, e->argv, e->envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		w->pid = 0;
		snprintf(w->fail, sizeof w->fail, "cannot start python %s: %s", e->argv[0],
			 strerror(rc));
		rc = -1;
		goto out;
	}
	w->out_fd = out[0], w->err_fd = err[0], w->req_fd = req[1], w->rep_fd = rep[0];
	out[0] = err[0] = req[1] = rep[0] = -1;
	fcntl(w->req_fd, F_SETFL, O_NONBLOCK);
	fcntl(w->rep_fd, F_SETFL, O_NONBLOCK);
	if (pthread_create(&w->log_thread, NULL, worker_log_main, w) == 0)
		w->log_running = 1;
	if (e->src != NULL) /* python reads the program from stdin up to EOF */
		write_all(in[1], (const unsigned char *)e->src, strlen(e->src), now_ms() + 10000);
	rc = 0;
out:
	fd_close(&in[0]), fd_close(&in[1]), fd_close(&out[0]), fd_close(&out[1]);
	fd_close(&err[0]), fd_close(&err[1]), fd_close(&req[0]), fd_close(&req[1]);
	fd_close(&rep[0]), fd_close(&rep[1]);
	return rc;
}

static void worker_free(struct worker *w)
{
	atomic_store(&w->reaped, 1);
	if (w->log_running)
		pthread_join(w->log_thread, NULL);
	fd_close(&w->req_fd), fd_close(&w->rep_fd), fd_close(&w->out_fd), fd_close(&w->err_fd);
	free(w);
}

static int all_reaped(struct worker *list)
{
	int status, done = 1;
	pid_t r;

	for (struct worker *w = list; w != NULL; w = w->next) {
		if (w->pid <= 0 || atomic_load(&w->reaped))
			continue;
		r = waitpid(w->pid, &status, WNOHANG);
		if (r == w->pid || (r < 0 && errno == ECHILD))
			atomic_store(&w->reaped, 1);
		else
			done = 0;
	}
	return done;
}

static void wait_reaped(struct worker *list, int ms)
{
	int64_t until = now_ms() + ms;

	while (!all_reaped(list) && now_ms() < until)
		sleep_ms(5);
}

/* Stops a list of workers together: EOF on fd 3, then SIGTERM, then SIGKILL; frees them. */
static void workers_stop(struct worker *list)
{
	char why[REASON_MAX];
	struct worker *next;

	for (struct worker *w = list; w != NULL; w = w->next)
		fd_close(&w->req_fd);
	wait_reaped(list, STOP_GRACE_MS);
	for (struct worker *w = list; w != NULL; w = w->next)
		worker_kill(w, SIGTERM);
	wait_reaped(list, STOP_GRACE_MS);
	for (struct worker *w = list; w != NULL; w = next) {
		next = w->next;
		worker_reap(w, 0, why, sizeof why);
		worker_free(w);
	}
}

/* ---- the pool ---- */

static int live_count(const struct pyengine *e)
{
	int n = 0;

	for (const struct worker *w = e->workers; w != NULL; w = w->next)
		n += w->state == W_STARTING || w->state == W_IDLE || w->state == W_BUSY;
	return n;
}

static void list_unlink(struct worker **head, struct worker *w)
{
	for (struct worker **p = head; *p != NULL; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			w->next = NULL;
			return;
		}
	}
}

static void cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *m, int64_t deadline_ms)
{
	struct timespec ts = {(time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000L};

	pthread_cond_timedwait(cv, m, &ts);
}

static int backoff_ms(int failures)
{
	int ms = 1000;

	for (int i = 1; i < failures && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

/* Handles the first frame of a starting worker: 1 ready, -1 failed (w->fail says why). */
static int start_reply(struct worker *w)
{
	char type = 0, *payload = NULL, why[REASON_MAX / 2];
	size_t len = 0;
	int rc = read_frame(w->rep_fd, now_ms() + 5000, &type, &payload, &len);

	if (rc == IO_OK && type == 'Y') {
		free(payload);
		return 1;
	}
	if (rc == IO_OK && type == 'I')
		snprintf(w->fail, sizeof w->fail, "%s", payload);
	else if (rc == IO_OK)
		snprintf(w->fail, sizeof w->fail, "worker sent frame type 0x%02x before ready",
			 (unsigned char)type);
	else if (rc == IO_EOF) {
		worker_reap(w, CRASH_REAP_MS, why, sizeof why);
		snprintf(w->fail, sizeof w->fail, "%s during init", why);
	} else {
		snprintf(w->fail, sizeof w->fail, "malformed or missing ready frame from worker");
	}
	free(payload);
	return -1;
}

/* Waits until each started worker says ready (ok[i] = 1) or fails (ok[i] = -1). */
static void start_wait(struct pyengine *e, struct worker **ws, int n, int *ok)
{
	int64_t deadline = now_ms() + START_TIMEOUT_MS;
	struct pollfd p[PYTHON_MAX_WORKERS];
	int idx[PYTHON_MAX_WORKERS], m;

	for (;;) {
		m = 0;
		for (int i = 0; i < n; i++)
			if (ok[i] == 0)
				p[m] = (struct pollfd){ws[i]->rep_fd, POLLIN, 0}, idx[m++] = i;
		if (m == 0)
			return;
		if (atomic_load(&e->stopping) || now_ms() >= deadline) {
			for (int j = 0; j < m; j++) {
				snprintf(ws[idx[j]]->fail, sizeof ws[idx[j]]->fail, "%s",
					 atomic_load(&e->stopping)
					     ? "engine stopping"
					     : "init() did not finish in time");
				ok[idx[j]] = -1;
			}
			return;
		}
		if (poll(p, (nfds_t)m, 100) <= 0)
			continue;
		for (int j = 0; j < m; j++)
			if (p[j].revents != 0)
				ok[idx[j]] = start_reply(ws[idx[j]]);
	}
}

static int start_alloc(struct pyengine *e, struct worker **ws, int k)
{
	int n;

	pthread_mutex_lock(&e->lock);
	for (n = 0; n < k; n++) {
		ws[n] = calloc(1, sizeof *ws[n]);
		if (ws[n] == NULL)
			break;
		*ws[n] = (struct worker){.e = e, .id = ++e->next_id, .state = W_STARTING};
		ws[n]->req_fd = ws[n]->rep_fd = ws[n]->out_fd = ws[n]->err_fd = -1;
		ws[n]->next = e->workers;
		e->workers = ws[n];
	}
	pthread_mutex_unlock(&e->lock);
	return n;
}

/* Marks the outcome under the lock; failed workers move to *gone. */
static int start_settle(struct pyengine *e, struct worker **ws, int k, const int *ok,
			struct worker **gone)
{
	int nfail = 0;

	pthread_mutex_lock(&e->lock);
	for (int i = 0; i < k; i++) {
		if (ok[i] == 1) {
			ws[i]->state = W_IDLE;
			e->failures = 0;
			continue;
		}
		list_unlink(&e->workers, ws[i]);
		ws[i]->next = *gone;
		*gone = ws[i];
		e->failures++;
		snprintf(e->last_fail, sizeof e->last_fail, "%s", ws[i]->fail);
		nfail++;
	}
	if (nfail > 0)
		e->retry_at = now_ms() + backoff_ms(e->failures);
	pthread_cond_broadcast(&e->idle_cv);
	pthread_mutex_unlock(&e->lock);
	return nfail;
}

/* Starts k workers and waits for their init(). Returns how many failed; the first
 * failure's reason goes to fail (if not NULL). */
static int start_batch(struct pyengine *e, int k, char *fail, size_t fail_len)
{
	struct worker *ws[PYTHON_MAX_WORKERS], *gone = NULL;
	int ok[PYTHON_MAX_WORKERS], nfail, retry;

	k = start_alloc(e, ws, k > PYTHON_MAX_WORKERS ? PYTHON_MAX_WORKERS : k);
	for (int i = 0; i < k; i++)
		ok[i] = worker_spawn(e, ws[i]) == 0 ? 0 : -1;
	start_wait(e, ws, k, ok);
	for (int i = 0; i < k; i++)
		if (ok[i] == 1)
			elog(e, "worker %d ready (pid %d)", ws[i]->id, (int)ws[i]->pid);
	nfail = start_settle(e, ws, k, ok, &gone);
	retry = backoff_ms(e->failures) / 1000;
	for (struct worker *w = gone; w != NULL; w = w->next) {
		if (fail != NULL && w == gone)
			snprintf(fail, fail_len, "%s", w->fail);
		if (e->sup_running)
			elog(e, "worker %d failed to start: %s; retrying in %d s", w->id, w->fail,
			     retry);
		else
			elog(e, "worker %d failed to start: %s", w->id, w->fail);
	}
	workers_stop(gone);
	return nfail;
}

/* Unlinks dead, retiring and surplus idle workers. Called with the lock held. */
static struct worker *collect_gone(struct pyengine *e)
{
	struct worker *gone = NULL, *w, *next;
	int surplus = live_count(e) - e->target;

	for (w = e->workers; w != NULL; w = next) {
		next = w->next;
		if (w->state == W_IDLE && surplus > 0) {
			surplus--;
			w->state = W_RETIRE;
		}
		if (w->state != W_DEAD && w->state != W_RETIRE)
			continue;
		list_unlink(&e->workers, w);
		w->next = gone;
		gone = w;
	}
	return gone;
}

/* Cleans dead and surplus workers up and starts replacements, with backoff. */
static void *supervisor_main(void *arg)
{
	struct pyengine *e = arg;
	struct worker *gone;
	int need;

	pthread_mutex_lock(&e->lock);
	while (!atomic_load(&e->stopping)) {
		gone = collect_gone(e);
		need = e->target - live_count(e);
		if (gone != NULL || (need > 0 && now_ms() >= e->retry_at)) {
			pthread_mutex_unlock(&e->lock);
			for (struct worker *w = gone; w != NULL; w = w->next)
				if (w->state == W_RETIRE)
					elog(e, "stopping worker %d (pid %d): pool shrinks", w->id,
					     (int)w->pid);
			if (gone != NULL)
				workers_stop(gone);
			else
				start_batch(e, need, NULL, 0);
			pthread_mutex_lock(&e->lock);
			continue;
		}
		cond_wait_until(&e->sup_cv, &e->lock, need > 0 ? e->retry_at : now_ms() + 1000);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/* Takes an idle worker, waiting up to timeout_ms. NULL with *status and why set. */
static struct worker *worker_acquire(struct pyengine *e, int *status, char *why, size_t n)
{
	int64_t deadline = now_ms() + e->timeout_ms;
	struct worker *w;

	pthread_mutex_lock(&e->lock);
	for (;;) {
		for (w = e->workers; w != NULL; w = w->next) {
			if (w->state == W_IDLE) {
				w->state = W_BUSY;
				pthread_mutex_unlock(&e->lock);
				return w;
			}
		}
		if (atomic_load(&e->stopping) || (live_count(e) == 0 && e->failures > 0)) {
			*status = 500;
			snprintf(why, n, "no worker running: %.*s", REASON_MAX / 2,
				 e->failures > 0 ? e->last_fail : "engine stopping");
			break;
		}
		if (now_ms() >= deadline) {
			*status = 408;
			snprintf(why, n, "no worker became free within %d ms", e->timeout_ms);
			break;
		}
		cond_wait_until(&e->idle_cv, &e->lock, deadline);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/* Hands a worker back: idle (or retiring, when the pool shrank) or dead. */
static void worker_release(struct pyengine *e, struct worker *w, enum wstate st)
{
	pthread_mutex_lock(&e->lock);
	if (st == W_IDLE && live_count(e) > e->target)
		st = W_RETIRE;
	w->state = st;
	if (st == W_IDLE)
		pthread_cond_signal(&e->idle_cv);
	else
		pthread_cond_signal(&e->sup_cv);
	pthread_mutex_unlock(&e->lock);
}

/* ---- requests and answers ---- */

static const struct reply_kind {
	char type;
	int status;
	const char *code;
} reply_kinds[] = {
    {'O', 200, NULL},		       /* run()'s value, JSON-encoded */
    {'E', 424, "ScoringScriptFailed"}, /* run() raised */
    {'N', 424, "ScoringScriptFailed"}, /* value not JSON-encodable */
    {'B', 400, "BadInput"},	       /* body not UTF-8 */
};

static const struct reply_kind *reply_find(char type)
{
	for (size_t i = 0; i < sizeof reply_kinds / sizeof reply_kinds[0]; i++)
		if (reply_kinds[i].type == type)
			return &reply_kinds[i];
	return NULL;
}

static int result_error(struct engine_result *out, int status, const char *code, const char *msg)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *err = cJSON_AddObjectToObject(root, "error");

	cJSON_AddStringToObject(err, "code", code);
	cJSON_AddStringToObject(err, "message", msg);
	out->status = status;
	out->body = root != NULL && err != NULL ? cJSON_PrintUnformatted(root) : NULL;
	out->len = out->body != NULL ? strlen(out->body) : 0;
	cJSON_Delete(root);
	return out->body != NULL ? 0 : -1;
}

/* Takes ownership of payload. */
static int reply_result(struct engine_result *out, const struct reply_kind *k, char *payload,
			size_t len)
{
	int rc;

	if (k->code == NULL) {
		out->status = k->status;
		out->body = payload;
		out->len = len;
		return 0;
	}
	rc = result_error(out, k->status, k->code, payload);
	free(payload);
	return rc;
}

/* Adds "Name: value" to the object; a repeated name joins the values with ", ". */
static void header_add(cJSON *h, const char *line)
{
	const char *colon = strchr(line, ':'), *value;
	char name[256], *joined;
	cJSON *old;
	size_t nlen;

	if (colon == NULL || colon == line || (size_t)(colon - line) >= sizeof name)
		return;
	nlen = (size_t)(colon - line);
	memcpy(name, line, nlen);
	while (nlen > 0 && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
		nlen--;
	name[nlen] = '\0';
	for (value = colon + 1; *value == ' ' || *value == '\t'; value++)
		;
	old = cJSON_GetObjectItem(h, name);
	if (!cJSON_IsString(old)) {
		cJSON_AddStringToObject(h, name, value);
		return;
	}
	joined = malloc(strlen(old->valuestring) + strlen(value) + 3);
	if (joined == NULL)
		return;
	snprintf(joined, strlen(old->valuestring) + strlen(value) + 3, "%s, %s", old->valuestring,
		 value);
	cJSON_ReplaceItemInObject(h, old->string, cJSON_CreateString(joined));
	free(joined);
}

static char *headers_json(const struct engine_request *req)
{
	cJSON *h = cJSON_CreateObject();
	char *text;

	for (size_t i = 0; h != NULL && req->headers != NULL && req->headers[i] != NULL; i++)
		header_add(h, req->headers[i]);
	if (h != NULL && req->request_id != NULL && cJSON_GetObjectItem(h, "x-request-id") == NULL)
		cJSON_AddStringToObject(h, "x-request-id", req->request_id);
	text = h != NULL ? cJSON_PrintUnformatted(h) : NULL;
	cJSON_Delete(h);
	return text;
}

/* The 'Q' frame: headers JSON and body. NULL with *status and why set. */
static unsigned char *request_frame(const struct engine_request *req, size_t *flen, int *status,
				    char *why, size_t n)
{
	char *hjson = headers_json(req);
	unsigned char *frame;
	size_t hlen, payload;

	if (hjson == NULL) {
		*status = 500;
		snprintf(why, n, "out of memory");
		return NULL;
	}
	hlen = strlen(hjson);
	payload = 1 + 4 + hlen + req->len;
	if (req->len > FRAME_MAX || payload > FRAME_MAX) {
		free(hjson);
		*status = 400;
		snprintf(why, n, "request of %zu bytes exceeds the worker frame limit of %u bytes",
			 req->len, FRAME_MAX);
		return NULL;
	}
	frame = malloc(4 + payload);
	if (frame != NULL) {
		put_be32(frame, (uint32_t)payload);
		frame[4] = 'Q';
		put_be32(frame + 5, (uint32_t)hlen);
		memcpy(frame + 9, hjson, hlen);
		if (req->len > 0)
			memcpy(frame + 9 + hlen, req->body, req->len);
		*flen = 4 + payload;
	} else {
		*status = 500;
		snprintf(why, n, "out of memory");
	}
	free(hjson);
	return frame;
}

/* The request's worker timed out, died or broke the protocol: reap it, answer, replace it. */
static int worker_failed(struct pyengine *e, struct worker *w, int rc, struct engine_result *out)
{
	char why[REASON_MAX], msg[REASON_MAX];
	int pid = (int)w->pid;

	if (rc != IO_EOF)
		worker_kill(w, SIGKILL);
	worker_reap(w, rc == IO_EOF ? CRASH_REAP_MS : 0, why, sizeof why);
	if (rc == IO_TIMEOUT) {
		snprintf(msg, sizeof msg, "scoring did not finish within %d ms", e->timeout_ms);
		elog(e, "worker %d (pid %d) killed: %s; replacing it", w->id, pid, msg);
	} else if (rc == IO_EOF) {
		snprintf(msg, sizeof msg, "%s", why);
		elog(e, "worker %d (pid %d): %s while scoring; replacing it", w->id, pid, why);
	} else {
		snprintf(msg, sizeof msg, "broken pipe protocol with worker %d", w->id);
		elog(e, "worker %d (pid %d) killed: %s; replacing it", w->id, pid, msg);
	}
	worker_release(e, w, W_DEAD);
	if (rc == IO_TIMEOUT)
		return result_error(out, 408, "RequestTimeout", msg);
	if (rc == IO_EOF)
		return result_error(out, 424, "WorkerCrashed", msg);
	return result_error(out, 500, "EngineFault", msg);
}

static int py_score(void *impl, const struct engine_request *req, struct engine_result *out)
{
	struct pyengine *e = impl;
	const struct reply_kind *k;
	char why[REASON_MAX], type = 0, *payload = NULL;
	unsigned char *frame;
	size_t flen = 0, plen = 0;
	struct worker *w;
	int status = 500, rc;
	int64_t deadline;

	memset(out, 0, sizeof *out);
	frame = request_frame(req, &flen, &status, why, sizeof why);
	if (frame == NULL)
		return result_error(out, status, status == 400 ? "BadInput" : "EngineFault", why);
	w = worker_acquire(e, &status, why, sizeof why);
	if (w == NULL) {
		free(frame);
		return result_error(out, status, status == 408 ? "RequestTimeout" : "EngineFault",
				    why);
	}
	deadline = now_ms() + e->timeout_ms;
	rc = write_all(w->req_fd, frame, flen, deadline);
	free(frame);
	if (rc == IO_OK)
		rc = read_frame(w->rep_fd, deadline, &type, &payload, &plen);
	k = rc == IO_OK ? reply_find(type) : NULL;
	if (k != NULL) {
		worker_release(e, w, W_IDLE);
		return reply_result(out, k, payload, plen);
	}
	free(payload);
	return worker_failed(e, w, rc == IO_OK ? IO_PROTO : rc, out);
}

/* ---- load, resize, free ---- */

/* AZUREML_MODEL_DIR: the directory that holds the artifact (models/NAME/V), as
 * Azure sets it: a registered folder appears in it by its name, so a score.py
 * written for Azure joins "FOLDER/file" (or "file" for a file model). */
static int model_dir(const char *path, char *dir, size_t n, struct error *err)
{
	struct stat st;
	char *slash;

	dir[0] = '\0';
	if (path == NULL || path[0] == '\0')
		return 0;
	if (stat(path, &st) != 0)
		return error_set(err, 500, "DeploymentFailed", "model %s: %s", path,
				 strerror(errno));
	if ((size_t)snprintf(dir, n, "%s", path) >= n)
		return error_set(err, 500, "DeploymentFailed", "model path too long: %s", path);
	while (n > 1 && strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
		dir[strlen(dir) - 1] = '\0';
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, n, ".");
	else
		slash[slash == dir] = '\0';
	return 0;
}

static int build_argv(struct pyengine *e, const struct engine_config *cfg, const char *file)
{
	struct strv a = {0};
	int rc = 0;

	rc |= strv_push(&a, strdup(cfg->python && cfg->python[0] ? cfg->python : "python3"));
	rc |= strv_push(&a, strdup("-u"));
	rc |= strv_push(&a, strdup(file != NULL ? file : "-"));
	rc |= strv_push(&a, strdup(cfg->code_dir));
	rc |= strv_push(&a, strdup(cfg->scoring_script));
	for (size_t i = 0; cfg->modules != NULL && cfg->modules[i] != NULL; i++)
		rc |= strv_push(&a, strdup(cfg->modules[i]));
	e->argv = a.v;
	return rc;
}

static int build_envp(struct pyengine *e, const struct engine_config *cfg, const char *mdir)
{
	struct strv s = {0};
	int rc = 0;

	for (size_t i = 0; environ != NULL && environ[i] != NULL; i++)
		rc |= strv_push(&s, strdup(environ[i]));
	for (size_t i = 0; cfg->env != NULL && cfg->env[i] != NULL; i++)
		if (strchr(cfg->env[i], '=') != NULL)
			rc |= strv_setenv(&s, cfg->env[i]);
	if (mdir[0] != '\0')
		rc |= strv_setenv2(&s, "AZUREML_MODEL_DIR", mdir);
	rc |= strv_setenv2(&s, "AZUREML_ENTRY_SCRIPT", cfg->scoring_script);
	rc |= strv_setenv2(&s, "AML_APP_ROOT", cfg->code_dir);
	rc |= strv_setenv(&s, "PYTHONUNBUFFERED=1");
	if (s.v == NULL)
		rc = -1;
	e->envp = s.v;
	return rc;
}

static int check_config(const struct engine_config *cfg, struct error *err)
{
	char path[4096];
	struct stat st;

	if (cfg->code_dir == NULL || cfg->scoring_script == NULL || cfg->scoring_script[0] == '\0')
		return error_set(err, 500, "DeploymentFailed",
				 "custom_model needs a code directory and a scoring script");
	if (cfg->workers > PYTHON_MAX_WORKERS)
		return error_set(err, 400, "ValidationError", "at most %d workers",
				 PYTHON_MAX_WORKERS);
	if ((size_t)snprintf(path, sizeof path, "%s/%s", cfg->code_dir, cfg->scoring_script) >=
		sizeof path ||
	    stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return error_set(err, 500, "DeploymentFailed", "scoring script %s not found in %s",
				 cfg->scoring_script, cfg->code_dir);
	return 0;
}

static struct pyengine *engine_alloc(const struct engine_config *cfg)
{
	struct pyengine *e = calloc(1, sizeof *e);
	pthread_condattr_t ca;

	if (e == NULL)
		return NULL;
	pthread_mutex_init(&e->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->idle_cv, &ca);
	pthread_cond_init(&e->sup_cv, &ca);
	pthread_condattr_destroy(&ca);
	e->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000;
	e->log = cfg->log;
	e->log_ctx = cfg->log_ctx;
	e->target = cfg->workers > 0 ? cfg->workers : 1;
	return e;
}

static void py_free(void *impl)
{
	struct pyengine *e = impl;
	struct worker *list;

	if (e == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	atomic_store(&e->stopping, 1);
	pthread_cond_broadcast(&e->sup_cv);
	pthread_cond_broadcast(&e->idle_cv);
	pthread_mutex_unlock(&e->lock);
	if (e->sup_running)
		pthread_join(e->supervisor, NULL);
	list = e->workers;
	e->workers = NULL;
	workers_stop(list);
	strv_free(e->argv);
	strv_free(e->envp);
	pthread_cond_destroy(&e->idle_cv);
	pthread_cond_destroy(&e->sup_cv);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

static void *py_load(const struct engine_config *cfg, struct error *err)
{
	const char *file = getenv("MLDECK_WORKER");
	char mdir[4096], fail[REASON_MAX];
	struct pyengine *e;

	if (check_config(cfg, err) != 0 || model_dir(cfg->model_path, mdir, sizeof mdir, err) != 0)
		return NULL;
	e = engine_alloc(cfg);
	if (e == NULL) {
		error_set(err, 500, "DeploymentFailed", "out of memory");
		return NULL;
	}
	e->src = file != NULL && file[0] != '\0' ? NULL : python_worker_py;
	if (build_argv(e, cfg, e->src ? NULL : file) != 0 || build_envp(e, cfg, mdir) != 0) {
		error_set(err, 500, "DeploymentFailed", "out of memory");
		goto fail;
	}
	if (start_batch(e, e->target, fail, sizeof fail) > 0) {
		error_set(err, 500, "DeploymentFailed", "%s", fail);
		goto fail;
	}
	if (pthread_create(&e->supervisor, NULL, supervisor_main, e) != 0) {
		error_set(err, 500, "DeploymentFailed", "cannot start the supervisor thread");
		goto fail;
	}
	e->sup_running = 1;
	return e;
fail:
	py_free(e);
	return NULL;
}

/* Grows (blocking until the new workers are ready or one fails) or shrinks (at once;
 * busy surplus workers stop when their request ends). */
static int py_resize(void *impl, int workers, struct error *err)
{
	struct pyengine *e = impl;
	int64_t deadline = now_ms() + START_TIMEOUT_MS;
	int rc = 0, ready;

	if (workers < 1 || workers > PYTHON_MAX_WORKERS)
		return error_set(err, 400, "ValidationError", "workers must be between 1 and %d",
				 PYTHON_MAX_WORKERS);
	pthread_mutex_lock(&e->lock);
	e->target = workers;
	e->failures = 0;
	e->retry_at = 0;
	pthread_cond_signal(&e->sup_cv);
	for (;;) {
		ready = 0;
		for (struct worker *w = e->workers; w != NULL; w = w->next)
			ready += w->state == W_IDLE || w->state == W_BUSY;
		if (ready >= e->target || e->target != workers)
			break;
		if (e->failures > 0 || now_ms() >= deadline || atomic_load(&e->stopping)) {
			rc = error_set(err, 500, "ScalingFailed", "a new worker did not start: %s",
				       e->failures > 0 ? e->last_fail : "timed out");
			break;
		}
		cond_wait_until(&e->idle_cv, &e->lock, now_ms() + 100);
	}
	pthread_mutex_unlock(&e->lock);
	return rc;
}

static int py_features(const void *impl)
{
	(void)impl;
	return -1;
}

const struct engine_ops python_engine_ops = {
    .load = py_load,
    .score = py_score,
    .resize = py_resize,
    .features = py_features,
    .free = py_free,
};
