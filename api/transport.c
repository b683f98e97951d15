/* transport.c: direct and ssh:// transports; the ssh supervisor thread. */
#define _GNU_SOURCE /* close_range, pipe2 */
#include "api/transport.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "state/clock.h"
#include "state/store.h"

#define TRANSPORT_BACKOFF_FIRST_MS 500
#define TRANSPORT_BACKOFF_MAX_MS 30000
#define TRANSPORT_STEP_MS 30000 /* each step: connect, credential, forward, health */
#define TRANSPORT_HEDGE_MS 8	  /* the key's request asked again after this (transport_get) */
#define TRANSPORT_STABLE_MS 10000 /* up this long, a drop starts the backoff afresh */
#define TRANSPORT_TEXT_MAX 2048 /* what is kept of a child's output (the tail) */
#define TRANSPORT_SUN_MAX sizeof(((struct sockaddr_un *)0)->sun_path)
#define TRANSPORT_BASE_MAX 60 /* so DIR/ctl.<16 random> fits in sun_path */
#define TRANSPORT_MAGIC "mldeck-connect 1"

/* The tail of what a child wrote on one pipe. */
struct transport_text {
	char buf[TRANSPORT_TEXT_MAX];
	size_t len;
};

struct transport_child {
	pid_t pid;    /* 0: none */
	int out, err; /* read ends, -1 when closed */
	int in;	      /* the write end of its stdin (TRANSPORT_SPAWN_IN), or -1 */
};

#define TRANSPORT_NO_CHILD ((struct transport_child){0, -1, -1, -1})
#define TRANSPORT_SPAWN_OUT 1 /* stdout to a pipe (else /dev/null) */
#define TRANSPORT_SPAWN_IN 2  /* stdin from a pipe we hold (else /dev/null) */
#define TRANSPORT_SPAWN_QUIET 4 /* stderr to /dev/null (else a pipe) */

struct transport {
	struct profile prof;
	char url[512];
	int tunnel;
	transport_notify_fn notify;
	void *notify_ctx;

	/* ssh: fixed after transport_open */
	char ssh[PROFILE_PATH_MAX];
	char dir[TRANSPORT_SUN_MAX], ctl[TRANSPORT_SUN_MAX], sock[TRANSPORT_SUN_MAX];
	char remote_cmd[2 * PROFILE_PATH_MAX + 64];
	pthread_t thread;
	int thread_started;
	int wake[2]; /* a byte wakes the supervisor: stop or retry */

	pthread_mutex_t lock; /* guards st, next_try, key, stop, retry */
	pthread_cond_t cond;  /* broadcast at every change of st */
	struct transport_status st;
	char detail[TRANSPORT_TEXT_MAX]; /* ssh's words about the last failure */
	double next_try;		 /* monotonic ms of the next try */
	char key[256];			 /* the remote runtime's admin key */
	int stop, retry;
	struct credential *cred; /* azureml: shared by every client (guarded by lock) */
	FILE *trace;

	/* supervisor thread only */
	struct transport_child master;
	struct transport_child hold; /* the session that keeps TCP_NODELAY on */
	struct transport_text master_err;
	char remote_sock[TRANSPORT_SUN_MAX]; /* "" until known (home, or learned) */
	double step_at;			     /* when the step running started */
	long took[TRANSPORT_STEPS];	     /* this try's steps, ms (-1: not run) */
	int via_socket;			     /* this try's credential came by the socket */
};

static double transport_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- text from children ---- */

static void transport_text_add(struct transport_text *t, const char *s, size_t n)
{
	if (n >= sizeof t->buf) {
		s += n - (sizeof t->buf - 1);
		n = sizeof t->buf - 1;
	}
	if (t->len + n >= sizeof t->buf) {
		size_t drop = t->len + n - (sizeof t->buf - 1);
		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

/* The last non-empty line of t into buf ("" when none). */
static void transport_text_last(const struct transport_text *t, char *buf, size_t len)
{
	size_t end = t->len;

	buf[0] = '\0';
	while (end > 0 && strchr("\r\n \t", t->buf[end - 1]) != NULL)
		end--;
	size_t start = end;
	while (start > 0 && t->buf[start - 1] != '\n')
		start--;
	snprintf(buf, len, "%.*s", (int)(end - start), t->buf + start);
}

/* Reads what is ready on *fd into text; closes it (-1) at end of file. */
static void transport_drain(int *fd, struct transport_text *text)
{
	char buf[1024];
	ssize_t n = read(*fd, buf, sizeof buf);

	if (n > 0 && text != NULL)
		transport_text_add(text, buf, (size_t)n);
	if (n > 0 || (n < 0 && (errno == EINTR || errno == EAGAIN)))
		return;
	close(*fd);
	*fd = -1;
}

/* ---- state ---- */

static int transport_stopping(struct transport *t)
{
	pthread_mutex_lock(&t->lock);
	int stop = t->stop;
	pthread_mutex_unlock(&t->lock);
	return stop;
}

/* The status under the lock held by the caller, with retry_in_ms now. */
static void transport_snapshot(struct transport *t, struct transport_status *out)
{
	int pending = t->st.state == TRANSPORT_CONNECTING || t->st.state == TRANSPORT_RECONNECTING;
	double left = t->next_try - transport_now_ms();

	*out = t->st;
	out->trying = pending && t->next_try == 0;
	out->retry_in_ms = pending && t->next_try > 0 && left > 0 ? (long)left : 0;
}

/* Publishes a new state (reason, detail NULL: unchanged): under the lock,
 * then the hook without it. */
static void transport_publish(struct transport *t, enum transport_state state, int attempt,
			      const char *reason, const char *detail, double next_try)
{
	struct transport_status copy;

	pthread_mutex_lock(&t->lock);
	t->st.state = state;
	t->st.attempt = attempt;
	if (reason != NULL)
		snprintf(t->st.reason, sizeof t->st.reason, "%s", reason);
	if (detail != NULL)
		snprintf(t->detail, sizeof t->detail, "%s", detail);
	if (state == TRANSPORT_CONNECTED) {
		t->st.generation++;
		memcpy(t->st.took_ms, t->took, sizeof t->st.took_ms);
		t->st.via_socket = t->via_socket;
	}
	t->st.seq++;
	t->next_try = next_try;
	transport_snapshot(t, &copy);
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	if (t->notify != NULL)
		t->notify(t->notify_ctx, &copy);
}

static void transport_wake(struct transport *t)
{
	ssize_t n = write(t->wake[1], "x", 1);

	(void)n; /* a full pipe already wakes it */
}

/* ---- children ---- */

/* In the child, between fork and exec (async-signal-safe calls only): its own
 * process group, death with the thread that forked it, default signals. */
__attribute__((noreturn)) static void transport_exec(const char *const *argv, int in, int out,
						     int err, pid_t parent)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD};
	sigset_t none;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	close_range(3, ~0U, 0);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

static void transport_close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Starts argv with stdin from /dev/null or a pipe (TRANSPORT_SPAWN_IN: it
 * reads until we close c->in), stdout to a pipe (TRANSPORT_SPAWN_OUT) or
 * /dev/null, stderr to a pipe (or /dev/null: TRANSPORT_SPAWN_QUIET). -1
 * (errno) when it cannot. */
static int transport_spawn(const char *const *argv, int flags, struct transport_child *c)
{
	int fds[7] = {-1, -1, -1, -1, -1, -1, -1}; /* devnull, err r/w, out r/w, in r/w */
	int want_out = flags & TRANSPORT_SPAWN_OUT, want_in = flags & TRANSPORT_SPAWN_IN;
	int quiet = flags & TRANSPORT_SPAWN_QUIET;
	pid_t parent = getpid();

	fds[0] = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fds[0] < 0 || (!quiet && pipe2(fds + 1, O_CLOEXEC) < 0) ||
	    (want_out && pipe2(fds + 3, O_CLOEXEC) < 0) ||
	    (want_in && pipe2(fds + 5, O_CLOEXEC) < 0)) {
		transport_close_fds(fds, 7);
		return -1;
	}
	c->pid = fork();
	if (c->pid == 0)
		transport_exec(argv, want_in ? fds[5] : fds[0], want_out ? fds[4] : fds[0],
			       quiet ? fds[0] : fds[2], parent);
	int keep_err = fds[1], keep_out = fds[3], keep_in = fds[6];
	fds[1] = fds[3] = fds[6] = -1;
	transport_close_fds(fds, 7);
	if (c->pid < 0) {
		transport_close_fds((int[]){keep_err, keep_out, keep_in}, 3);
		c->pid = 0;
		return -1;
	}
	c->err = keep_err;
	c->out = keep_out;
	c->in = keep_in;
	return 0;
}

/* Kills a child's process group (TERM, then KILL after a second) and reaps it. */
static void transport_kill(struct transport_child *c)
{
	int st = 0;

	if (c->pid > 0) {
		pid_t r = 0;
		kill(-c->pid, SIGTERM);
		for (int i = 0; i < 100 && (r = waitpid(c->pid, &st, WNOHANG)) == 0; i++)
			nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
		kill(-c->pid, SIGKILL); /* the leader's helpers too (ProxyCommand) */
		if (r == 0)
			waitpid(c->pid, &st, 0);
	}
	transport_close_fds((int[]){c->out, c->err, c->in}, 3);
	*c = TRANSPORT_NO_CHILD;
}

/* "ssh exited with status 255" / "ssh was killed by signal 9". */
static void transport_exit_words(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "ssh was killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "ssh exited with status %d", WEXITSTATUS(status));
}

/* Waits up to ms for output of child c (may be NULL), of the master, or a
 * wake-up (the callers then look at stop and retry). */
static void transport_poll(struct transport *t, struct transport_child *c,
			   struct transport_text *out, struct transport_text *err, long ms)
{
	struct pollfd p[4] = {{.fd = t->wake[0], .events = POLLIN},
			      {.fd = t->master.err, .events = POLLIN},
			      {.fd = c != NULL ? c->out : -1, .events = POLLIN},
			      {.fd = c != NULL ? c->err : -1, .events = POLLIN}};
	char buf[64];

	if (poll(p, 4, ms < 0 ? 0 : (int)ms) <= 0)
		return;
	if (p[0].revents != 0 && read(t->wake[0], buf, sizeof buf) < 0)
		p[0].revents = 0; /* nothing to read after all */
	if (p[1].revents != 0)
		transport_drain(&t->master.err, &t->master_err);
	if (p[2].revents != 0)
		transport_drain(&c->out, out);
	if (p[3].revents != 0)
		transport_drain(&c->err, err);
}

/* Runs a short command to its end (killed at the deadline or on stop). Its
 * exit status, or -1 with the reason in err. */
static int transport_run(struct transport *t, const char *const *argv, struct transport_text *out,
			 struct transport_text *err)
{
	struct transport_child c = TRANSPORT_NO_CHILD;
	double deadline = transport_now_ms() + TRANSPORT_STEP_MS;
	int status = 0;

	if (transport_spawn(argv, out != NULL ? TRANSPORT_SPAWN_OUT : 0, &c) < 0) {
		snprintf(err->buf, sizeof err->buf, "cannot run %s: %s", argv[0], strerror(errno));
		err->len = strlen(err->buf);
		return -1;
	}
	while ((c.out >= 0 || c.err >= 0) && !transport_stopping(t)) {
		long left = (long)(deadline - transport_now_ms());
		if (left <= 0)
			break;
		transport_poll(t, &c, out, err, left);
	}
	if (c.out >= 0 || c.err >= 0) {
		transport_kill(&c);
		transport_text_add(err, "\n(timed out or stopped)", 23);
		return -1;
	}
	waitpid(c.pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- the ssh steps ---- */

/* 1 when text names a failure that trying again cannot fix. */
static int transport_fatal_words(const char *text)
{
	static const char *const fatal[] = {
	    "Host key verification failed",	"Permission denied",
	    "Bad configuration option",		"Bad owner or permissions",
	    "Too many authentication failures",
	};

	for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
		if (strstr(text, fatal[i]) != NULL)
			return 1;
	return 0;
}

/* The result of one try: the reason, ssh's words, and whether it is final. */
struct transport_fail {
	char reason[256];
	char detail[TRANSPORT_TEXT_MAX];
	int fatal;
};

/* Fills f: the reason from fmt, and words (ssh's output, may be NULL). -1. */
__attribute__((format(printf, 3, 4))) static int
transport_failf(struct transport_fail *f, const struct transport_text *words, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->reason, sizeof f->reason, fmt, ap);
	va_end(ap);
	snprintf(f->detail, sizeof f->detail, "%s", words != NULL ? words->buf : "");
	return -1;
}

/* 1 when the master has exited (reaped; all it wrote is in master_err). */
static int transport_master_exited(struct transport *t, int *status)
{
	if (waitpid(t->master.pid, status, WNOHANG) != t->master.pid)
		return 0;
	t->master.pid = 0;
	while (t->master.err >= 0)
		transport_drain(&t->master.err, &t->master_err);
	return 1;
}

/* Step 1: the master connection, until its control socket appears; with
 * the forward to the remote socket when it is known (ssh sets it up before
 * the control socket appears). */
static int transport_master(struct transport *t, struct transport_fail *f)
{
	static const char *const opts[] = {
	    "-M",
	    "-N",
	    "-T",
	    "-o",
	    "ControlPersist=no",
	    "-o",
	    "BatchMode=yes",
	    "-o",
	    "ExitOnForwardFailure=yes",
	    "-o",
	    "StreamLocalBindUnlink=yes",
	    "-o",
	    "ServerAliveInterval=15",
	    "-o",
	    "ServerAliveCountMax=3",
	    "-o",
	    "ConnectTimeout=20",
	    "-o",
	    "Compression=yes", /* JSON polls: 40x fewer bytes */
	};
	const char *argv[sizeof opts / sizeof opts[0] + 8];
	char spec[2 * TRANSPORT_SUN_MAX + 2];
	double deadline = transport_now_ms() + TRANSPORT_STEP_MS;
	struct stat st;
	char last[256];
	int status = 0;
	size_t n = 0;

	argv[n++] = t->ssh;
	argv[n++] = "-S";
	argv[n++] = t->ctl;
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		argv[n++] = opts[i];
	if (t->remote_sock[0] != '\0') {
		unlink(t->sock);
		snprintf(spec, sizeof spec, "%s:%s", t->sock, t->remote_sock);
		argv[n++] = "-L";
		argv[n++] = spec;
	}
	argv[n++] = t->url;
	argv[n] = NULL;
	unlink(t->ctl);
	t->master_err.len = 0;
	t->master_err.buf[0] = '\0';
	if (transport_spawn(argv, 0, &t->master) < 0)
		return transport_failf(f, NULL, "cannot run ssh: %s", strerror(errno));
	while (lstat(t->ctl, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		if (transport_stopping(t) || transport_now_ms() > deadline)
			return transport_failf(f, &t->master_err, "%s",
					       "ssh did not connect within 30 s");
		transport_poll(t, NULL, NULL, NULL, 10); /* the socket appears after auth */
		if (!transport_master_exited(t, &status))
			continue;
		transport_text_last(&t->master_err, last, sizeof last);
		if (last[0] == '\0')
			transport_exit_words(status, last, sizeof last);
		transport_failf(f, &t->master_err, "%s", last);
		f->fatal = transport_fatal_words(t->master_err.buf);
		return -1;
	}
	return 0;
}

/* Over the master, a session that holds `cat` on the remote side (reading
 * our pipe, so it ends with us). sshd sets TCP_NODELAY only on connections
 * where a session's command runs: without one each request through the
 * tunnel waited ~40 ms for a delayed ACK. A session of its own (not the
 * master's) so that a forced command (authorized_keys command=) that ends
 * at once leaves the master up. Best effort: without it, only slower. */
static void transport_hold(struct transport *t)
{
	const char *argv[] = {t->ssh, "-S",   t->ctl,	  "-o", "ControlMaster=no",
			      "-T",   t->url, "exec cat", NULL};

	if (transport_spawn(argv, TRANSPORT_SPAWN_IN | TRANSPORT_SPAWN_QUIET, &t->hold) < 0)
		t->hold = TRANSPORT_NO_CHILD;
}

/* "socket PATH" and "key KEY" after the magic line; -1 when absent. The
 * socket is taken too when take_socket (the remote command's answer). */
static int transport_parse_info(struct transport *t, const char *text, int take_socket)
{
	const char *p = strstr(text, TRANSPORT_MAGIC "\n");
	char sock[TRANSPORT_SUN_MAX] = "", key[256] = "";

	for (p = p != NULL ? strchr(p, '\n') : NULL; p != NULL && p[1] != '\0';
	     p = strchr(p + 1, '\n')) {
		size_t n = strcspn(p + 1, "\r\n");
		if (strncmp(p + 1, "socket ", 7) == 0 && n - 7 < sizeof sock)
			snprintf(sock, sizeof sock, "%.*s", (int)(n - 7), p + 8);
		else if (strncmp(p + 1, "key ", 4) == 0 && n - 4 < sizeof key)
			snprintf(key, sizeof key, "%.*s", (int)(n - 4), p + 5);
	}
	if (key[0] == '\0' || (take_socket && (sock[0] != '/' || strchr(sock, ':') != NULL)))
		return -1;
	if (take_socket)
		snprintf(t->remote_sock, sizeof t->remote_sock, "%s", sock);
	pthread_mutex_lock(&t->lock);
	snprintf(t->key, sizeof t->key, "%s", key);
	pthread_mutex_unlock(&t->lock);
	memset(key, 0, sizeof key);
	return 0;
}

/* Step 2: the remote runtime's socket and admin key, over the master. */
static int transport_credential(struct transport *t, struct transport_fail *f)
{
	const char *argv[] = {
	    t->ssh, "-S",   t->ctl,	   "-o", "ControlMaster=no", "-o", "BatchMode=yes",
	    "-T",   t->url, t->remote_cmd, NULL};
	struct transport_text *out = calloc(1, sizeof *out), *err = calloc(1, sizeof *err);
	char last[256];
	int rc = -1;

	if (out == NULL || err == NULL) {
		transport_failf(f, NULL, "%s", "out of memory");
		goto out;
	}
	int status = transport_run(t, argv, out, err);
	transport_text_last(err, last, sizeof last);
	if (status == 0 && transport_parse_info(t, out->buf, 1) == 0) {
		rc = 0;
	} else if (status == 0) {
		/* never its output in the message: it may hold the key */
		transport_failf(f, err, "unexpected answer from `%.200s` on the remote host",
				t->remote_cmd);
	} else if (status == 127 || status == 2) {
		/* not found, or an mldeck without --connect-info */
		transport_failf(f, err,
				"mldeck is missing or too old on the remote host (%.120s): install "
				"it there, or set remote_mldeck in the profile",
				last);
		f->fatal = 1;
	} else {
		transport_failf(f, err, "%s", last[0] ? last : "no answer from the remote mldeck");
	}
	memset(out->buf, 0, sizeof out->buf);
out:
	free(out);
	free(err);
	return rc;
}

/* Step 3: the local socket forwarded to the remote one, over the master. */
static int transport_forward(struct transport *t, struct transport_fail *f)
{
	char spec[2 * TRANSPORT_SUN_MAX + 2], last[256];
	const char *argv[] = {t->ssh, "-S", t->ctl, "-o", "ControlMaster=no", "-O", "forward",
			      "-L",   spec, t->url, NULL};
	struct transport_text err = {.len = 0};

	unlink(t->sock);
	snprintf(spec, sizeof spec, "%s:%s", t->sock, t->remote_sock);
	if (transport_run(t, argv, NULL, &err) == 0)
		return 0;
	transport_text_last(&err, last, sizeof last);
	return transport_failf(f, &err, "cannot forward to the remote runtime: %.200s", last);
}

/* Connects to the forward and sends GET path (HTTP/1.0: the runtime closes
 * after its answer). The socket, or -1 (errno). */
static int transport_ask(struct transport *t, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char req[128];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", t->sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    write(fd, req, (size_t)n) != n) {
		int e = errno;
		transport_close_fds(&fd, 1);
		errno = e;
		return -1;
	}
	return fd;
}

/* GET path through the forward: the whole answer into answer (up to its
 * capacity). With hedge_ms > 0 the same request goes again on a second
 * connection when the first has not been answered by then, and the first
 * answer wins: until the session's command has started on the remote side,
 * neither end has TCP_NODELAY, and a request may wait ~40 ms for a delayed
 * ACK (transport_hold). 0 on a 200, -1 on another answer or none, -2 when
 * the socket cannot be used (errno). */
static int transport_get(struct transport *t, const char *path, struct transport_text *answer,
			 long hedge_ms)
{
	struct transport_child c = TRANSPORT_NO_CHILD; /* out: the request, err: the hedge */
	double start = transport_now_ms(), deadline = start + TRANSPORT_STEP_MS;
	struct transport_text *hedge = hedge_ms > 0 ? calloc(1, sizeof *hedge) : NULL;
	int asked_twice = hedge == NULL;

	if ((c.out = transport_ask(t, path)) < 0) {
		free(hedge);
		return -2;
	}
	while (!transport_stopping(t) && (c.out >= 0 || c.err >= 0)) {
		double now = transport_now_ms(), until = deadline;
		if (now >= deadline || (c.out < 0 && answer->len > 0))
			break; /* the first one is complete (closed) */
		if (hedge != NULL && c.err < 0 && hedge->len > 0)
			break; /* the hedge is */
		if (!asked_twice && now - start >= hedge_ms) {
			c.err = transport_ask(t, path);
			asked_twice = 1;
		}
		if (!asked_twice)
			until = start + (double)hedge_ms;
		transport_poll(t, &c, answer, hedge, (long)(until - now) + 1);
	}
	if (hedge != NULL && c.err < 0 && hedge->len > 0 && (c.out >= 0 || answer->len == 0))
		*answer = *hedge;
	transport_close_fds((int[]){c.out, c.err}, 2);
	if (hedge != NULL)
		memset(hedge->buf, 0, sizeof hedge->buf);
	free(hedge);
	return strncmp(answer->buf, "HTTP/1.", 7) == 0 && strncmp(answer->buf + 8, " 200", 4) == 0
		   ? 0
		   : -1;
}

/* Step 4: GET /healthz answers 200 through the forward. */
static int transport_health(struct transport *t, struct transport_fail *f)
{
	struct transport_text answer = {.len = 0};
	char last[256];
	int rc = transport_get(t, "/healthz", &answer, 0);

	if (rc == 0)
		return 0;
	if (rc == -2)
		return transport_failf(f, NULL, "cannot use the tunnel's socket: %s",
				       strerror(errno));
	transport_text_last(&t->master_err, last, sizeof last);
	return transport_failf(f, &t->master_err,
			       "the remote runtime does not answer through the tunnel%s",
			       last[0] ? "" : " (does sshd allow AllowStreamLocalForwarding?)");
}

/* Steps 2-4 at once when the socket was forwarded by the master: the key
 * through it (GET /v1/connect-info, the runtime's own user only). 0, or -1
 * when that did not work (no runtime there, an older one): then the remote
 * command says which socket and key. */
static int transport_socket_info(struct transport *t)
{
	struct transport_text *answer = calloc(1, sizeof *answer);
	int rc = -1;

	if (answer != NULL &&
	    transport_get(t, "/v1/connect-info", answer, TRANSPORT_HEDGE_MS) == 0) {
		const char *body = strstr(answer->buf, "\r\n\r\n");
		rc = body != NULL ? transport_parse_info(t, body + 4, 0) : -1;
	}
	if (answer != NULL)
		memset(answer->buf, 0, sizeof answer->buf);
	free(answer);
	return rc;
}

/* Undoes the master's forward to socket remote (another socket is wanted). */
static int transport_cancel(struct transport *t, const char *remote, struct transport_fail *f)
{
	char spec[2 * TRANSPORT_SUN_MAX + 2], last[256];
	const char *argv[] = {t->ssh, "-S", t->ctl, "-o", "ControlMaster=no", "-O", "cancel",
			      "-L",   spec, t->url, NULL};
	struct transport_text err = {.len = 0};

	snprintf(spec, sizeof spec, "%s:%s", t->sock, remote);
	if (transport_run(t, argv, NULL, &err) == 0)
		return 0;
	transport_text_last(&err, last, sizeof last);
	return transport_failf(f, &err, "cannot cancel the forward to %.100s: %.100s", remote,
			       last);
}

/* The end of a step: its time into took[]. */
static void transport_step(struct transport *t, enum transport_step step)
{
	double now = transport_now_ms();

	t->took[step] = (long)(now - t->step_at + 0.5);
	t->step_at = now;
}

/* Steps 2-4 the long way: the remote command, then the forward (moved when
 * the master forwarded elsewhere), then an answer. */
static int transport_by_command(struct transport *t, struct transport_fail *f)
{
	char forwarded[TRANSPORT_SUN_MAX];

	snprintf(forwarded, sizeof forwarded, "%s", t->remote_sock);
	if (transport_credential(t, f) < 0)
		return -1;
	transport_step(t, TRANSPORT_STEP_CREDENTIAL);
	if (strcmp(forwarded, t->remote_sock) != 0) {
		if ((forwarded[0] != '\0' && transport_cancel(t, forwarded, f) < 0) ||
		    transport_forward(t, f) < 0)
			return -1;
		transport_step(t, TRANSPORT_STEP_FORWARD);
	}
	if (transport_health(t, f) < 0)
		return -1;
	transport_step(t, TRANSPORT_STEP_ANSWER);
	return 0;
}

/* One try of steps 1-4, timed. */
static int transport_try(struct transport *t, struct transport_fail *f)
{
	memset(f, 0, sizeof *f);
	for (int i = 0; i < TRANSPORT_STEPS; i++)
		t->took[i] = -1;
	t->via_socket = 0;
	t->step_at = transport_now_ms();
	if (transport_master(t, f) < 0)
		return -1;
	transport_hold(t);
	transport_step(t, TRANSPORT_STEP_SSH);
	if (t->remote_sock[0] != '\0' && transport_socket_info(t) == 0) {
		t->via_socket = 1;
		transport_step(t, TRANSPORT_STEP_CREDENTIAL);
		return 0;
	}
	return transport_by_command(t, f);
}

/* Connected: waits until the master exits (the reason into f) or stop. */
static void transport_supervise(struct transport *t, struct transport_fail *f)
{
	char last[256], words[64];
	int status = 0;

	t->master_err.len = 0;
	t->master_err.buf[0] = '\0';
	while (!transport_stopping(t)) {
		transport_poll(t, NULL, NULL, NULL, 1000);
		if (t->hold.pid > 0 && waitpid(t->hold.pid, &status, WNOHANG) == t->hold.pid) {
			t->hold.pid = 0; /* ended on its own (a forced command): not a drop */
			transport_kill(&t->hold);
		}
		if (!transport_master_exited(t, &status))
			continue;
		transport_text_last(&t->master_err, last, sizeof last);
		transport_exit_words(status, words, sizeof words);
		transport_failf(f, &t->master_err, "%s%s%.180s", words, last[0] ? ": " : "", last);
		return;
	}
}

/* Between tries: no master, no sockets. */
static void transport_teardown(struct transport *t)
{
	transport_kill(&t->hold);
	transport_kill(&t->master);
	unlink(t->sock);
	unlink(t->ctl);
}

/* Sleeps until the next try is due, or a retry or stop is asked. DOWN waits
 * for those only. */
static void transport_pause(struct transport *t)
{
	for (;;) {
		pthread_mutex_lock(&t->lock);
		int go = t->stop || t->retry;
		double left =
		    t->st.state == TRANSPORT_DOWN ? 1000 : t->next_try - transport_now_ms();
		t->retry = 0;
		pthread_mutex_unlock(&t->lock);
		if (go || left <= 0)
			return;
		transport_poll(t, NULL, NULL, NULL, left > 1000 ? 1000 : (long)left);
	}
}

/* After a failed try or a drop: the next state, and the next try after the
 * backoff of that level (0.5 s doubling, at most 30 s). */
static void transport_after(struct transport *t, const struct transport_fail *f, int failures,
			    int level)
{
	double delay = TRANSPORT_BACKOFF_FIRST_MS;
	unsigned long gen;

	for (int i = 0; i < level && delay < TRANSPORT_BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > TRANSPORT_BACKOFF_MAX_MS)
		delay = TRANSPORT_BACKOFF_MAX_MS;
	pthread_mutex_lock(&t->lock);
	gen = t->st.generation;
	pthread_mutex_unlock(&t->lock);
	if (f->fatal)
		transport_publish(t, TRANSPORT_DOWN, 0, f->reason, f->detail, 0);
	else
		transport_publish(t, gen > 0 ? TRANSPORT_RECONNECTING : TRANSPORT_CONNECTING,
				  failures + 1, f->reason, f->detail, transport_now_ms() + delay);
}

static void *transport_main(void *arg)
{
	struct transport *t = arg;
	struct transport_fail *f = calloc(1, sizeof *f);
	int failures = 0, level = 0; /* tries failed since the last success; backoff */

	while (f != NULL && !transport_stopping(t)) {
		if (transport_try(t, f) == 0) {
			double up = transport_now_ms();
			transport_publish(t, TRANSPORT_CONNECTED, 0, "", "", 0);
			transport_supervise(t, f);
			/* a link that keeps dropping at once backs off as failures do */
			level = transport_now_ms() - up < TRANSPORT_STABLE_MS ? level + 1 : 0;
			failures = 0;
		} else {
			failures++;
			level++;
		}
		transport_teardown(t);
		if (transport_stopping(t))
			break;
		transport_after(t, f, failures, level);
		transport_pause(t);
		if (transport_stopping(t))
			break;
		if (f->fatal)
			failures = level = 0; /* DOWN, and a retry was asked */
		/* trying now: same state and reason, no wait left */
		transport_publish(
		    t, t->st.generation > 0 ? TRANSPORT_RECONNECTING : TRANSPORT_CONNECTING,
		    failures + 1, NULL, NULL, 0);
	}
	transport_teardown(t);
	free(f);
	return NULL;
}

/* ---- opening and closing ---- */

/* Appends word quoted for the remote POSIX shell; a leading "~/" stays
 * outside the quotes so that shell expands it. -1 when it does not fit. */
static int transport_quote(char *buf, size_t len, size_t *o, const char *word)
{
	if (strncmp(word, "~/", 2) == 0) {
		if (*o + 2 >= len)
			return -1;
		memcpy(buf + *o, "~/", 2);
		*o += 2;
		word += 2;
	}
	if (*o + 1 >= len)
		return -1;
	buf[(*o)++] = '\'';
	for (; *word != '\0'; word++) {
		const char *piece = *word == '\'' ? "'\\''" : NULL;
		size_t n = piece != NULL ? 4 : 1;
		if (*o + n + 2 >= len)
			return -1;
		memcpy(buf + *o, piece != NULL ? piece : word, n);
		*o += n;
	}
	buf[(*o)++] = '\'';
	buf[*o] = '\0';
	return 0;
}

/* REMOTE_MLDECK serve --connect-info [--home HOME], quoted. */
static int transport_remote_cmd(struct transport *t, struct error *err)
{
	const struct profile *p = &t->prof;
	size_t o = 0, len = sizeof t->remote_cmd;
	const char *mldeck = p->remote_mldeck[0] ? p->remote_mldeck : "mldeck";
	int home = profile_url_is_ssh(p->url) && p->home[0] != '\0';
	int rc = transport_quote(t->remote_cmd, len, &o, mldeck);

	if (rc == 0) {
		o += (size_t)snprintf(t->remote_cmd + o, len - o, " serve --connect-info%s",
				      home ? " --home " : "");
		rc = o < len && home ? transport_quote(t->remote_cmd, len, &o, p->home) : 0;
	}
	if (rc < 0 || o >= len)
		return error_set(err, 400, "BadConfig", "remote_mldeck or home is too long");
	return 0;
}

/* Removes DIR/NAME entries of a directory left by a dead run. */
static void transport_sweep_one(int base, const char *name)
{
	int fd = openat(base, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (d == NULL) {
		transport_close_fds(&fd, 1);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(fd, e->d_name, 0);
	closedir(d);
	unlinkat(base, name, AT_REMOVEDIR);
}

/* Directories "ssh-PID-XXXXXX" whose PID is gone were left by a killed
 * mldeck: remove them. */
static void transport_sweep(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end;
		if (strncmp(e->d_name, "ssh-", 4) != 0)
			continue;
		long pid = strtol(e->d_name + 4, &end, 10);
		if (pid > 0 && *end == '-' && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			transport_sweep_one(dirfd(d), e->d_name);
	}
	closedir(d);
}

/* $XDG_RUNTIME_DIR/mldeck (when short enough for socket paths), else
 * /tmp/mldeck-UID: created 0700 and refused unless a directory of ours that
 * only we can enter. */
static int transport_base_dir(char *buf, size_t len, struct error *err)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int n;

	if (xdg != NULL && xdg[0] == '/' && strlen(xdg) + 7 <= TRANSPORT_BASE_MAX)
		n = snprintf(buf, len, "%s/mldeck", xdg);
	else
		n = snprintf(buf, len, "/tmp/mldeck-%lu", (unsigned long)geteuid());
	if (n < 0 || (size_t)n >= len)
		return error_set(err, 500, "NoDirectory", "socket directory path is too long");
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return error_set(err, 500, "NoDirectory", "cannot create %s: %s", buf,
				 strerror(errno));
	if (lstat(buf, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0)
		return error_set(err, 500, "NoDirectory",
				 "%s is not a private directory of this user (0700): remove it",
				 buf);
	return 0;
}

/* DIR = BASE/ssh-PID-XXXXXX, with the paths of its two sockets. */
static int transport_make_dir(struct transport *t, struct error *err)
{
	char base[TRANSPORT_BASE_MAX + 32];

	if (transport_base_dir(base, sizeof base, err) < 0)
		return -1;
	transport_sweep(base);
	int n = snprintf(t->dir, sizeof t->dir, "%s/ssh-%ld-XXXXXX", base, (long)getpid());
	if (n < 0 || (size_t)n + 24 >= sizeof t->dir || mkdtemp(t->dir) == NULL) {
		error_set(err, 500, "NoDirectory", "cannot create a directory in %s: %s", base,
			  strerror(errno));
		t->dir[0] = '\0';
		return -1;
	}
	/* both fit: the check above left room for "/ctl.<16 random>" */
	if (snprintf(t->ctl, sizeof t->ctl, "%s/ctl", t->dir) < 0 ||
	    snprintf(t->sock, sizeof t->sock, "%s/api.sock", t->dir) < 0)
		return -1;
	return 0;
}

/* A home given as an absolute path names the remote socket: HOME/mldeck.sock
 * ("" when not, or too long for a socket address). */
static void transport_known_socket(struct transport *t)
{
	const char *home = t->prof.home;
	int n = snprintf(t->remote_sock, sizeof t->remote_sock, "%s/%s", home, STORE_SOCKET);

	if (home[0] != '/' || n < 0 || (size_t)n >= sizeof t->remote_sock ||
	    strchr(home, ':') != NULL)
		t->remote_sock[0] = '\0';
}

static int transport_open_ssh(struct transport *t, struct error *err)
{
	if (strcmp(t->prof.backend, "azureml") == 0)
		return error_set(err, 400, "BadConfig",
				 "profile %s: an azureml backend cannot be reached by ssh://",
				 t->prof.name);
	if (connect_find_program("ssh", t->ssh, sizeof t->ssh) < 0)
		return error_set(err, 400, "NoSsh",
				 "%s needs the OpenSSH client: no `ssh` on PATH (install "
				 "openssh-client)",
				 t->url);
	if (transport_remote_cmd(t, err) < 0 || transport_make_dir(t, err) < 0)
		return -1;
	if (pipe2(t->wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return error_set(err, 500, "NoMemory", "cannot create a pipe: %s", strerror(errno));
	t->st.attempt = 1;
	transport_known_socket(t);
	if (pthread_create(&t->thread, NULL, transport_main, t) != 0)
		return error_set(err, 500, "NoMemory", "cannot start the ssh supervisor");
	t->thread_started = 1;
	return 0;
}

struct transport *transport_open(const struct profile *p, transport_notify_fn notify,
				 void *notify_ctx, struct error *err)
{
	struct transport *t = calloc(1, sizeof *t);

	if (t == NULL)
		return error_set(err, 500, "NoMemory", "out of memory"), NULL;
	t->prof = *p;
	t->notify = notify;
	t->notify_ctx = notify_ctx;
	t->wake[0] = t->wake[1] = -1;
	t->master = t->hold = TRANSPORT_NO_CHILD;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	snprintf(t->url, sizeof t->url, "%s", connect_url(p));
	snprintf(t->st.target, sizeof t->st.target, "%s", t->url);
	t->tunnel = t->st.tunnel = profile_url_is_ssh(t->url);
	t->st.state = t->tunnel ? TRANSPORT_CONNECTING : TRANSPORT_CONNECTED;
	if (t->tunnel && transport_open_ssh(t, err) < 0) {
		transport_close(t);
		return NULL;
	}
	return t;
}

void transport_close(struct transport *t)
{
	if (t == NULL)
		return;
	if (t->thread_started) {
		pthread_mutex_lock(&t->lock);
		t->stop = 1;
		pthread_mutex_unlock(&t->lock);
		transport_wake(t);
		pthread_join(t->thread, NULL);
	}
	transport_close_fds(t->wake, 2);
	if (t->dir[0] != '\0')
		rmdir(t->dir);
	memset(t->key, 0, sizeof t->key);
	credential_unref(t->cred);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->cond);
	free(t);
}

/* ---- state for callers ---- */

void transport_status(struct transport *t, struct transport_status *out)
{
	pthread_mutex_lock(&t->lock);
	transport_snapshot(t, out);
	pthread_mutex_unlock(&t->lock);
}

const char *transport_state_name(enum transport_state s)
{
	static const char *const names[] = {"connecting", "connected", "reconnecting", "down"};

	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

void transport_describe(const struct transport_status *st, char *buf, size_t len)
{
	const char *name = transport_state_name(st->state);
	char when[32] = "";

	if (!st->trying)
		snprintf(when, sizeof when, " in %ld s", (st->retry_in_ms + 999) / 1000);
	if (st->state == TRANSPORT_CONNECTED || st->reason[0] == '\0')
		snprintf(buf, len, "%s", name);
	else if (st->state == TRANSPORT_DOWN)
		snprintf(buf, len, "down: %s", st->reason);
	else
		snprintf(buf, len, "%s (attempt %d%s: %s)", name, st->attempt, when, st->reason);
}

void transport_describe_steps(const struct transport_status *st, char *buf, size_t len)
{
	static const char *const names[TRANSPORT_STEPS] = {"ssh", "credential", "forward",
							   "answer"};
	long total = 0;
	size_t o;
	int n;

	buf[0] = '\0';
	if (!st->tunnel || st->state != TRANSPORT_CONNECTED || st->took_ms[0] < 0)
		return;
	for (int i = 0; i < TRANSPORT_STEPS; i++)
		total += st->took_ms[i] > 0 ? st->took_ms[i] : 0;
	n = snprintf(buf, len, "%ld ms:", total);
	for (int i = 0; i < TRANSPORT_STEPS && n > 0 && (o = (size_t)n) < len; i++) {
		if (st->took_ms[i] < 0)
			continue;
		n += snprintf(buf + o, len - o, "%s %s %ld%s", i ? "," : "", names[i], st->took_ms[i],
			      i == TRANSPORT_STEP_CREDENTIAL && st->via_socket ? " (by the socket)"
										: "");
	}
}

int transport_wait_change(struct transport *t, unsigned long seq, long timeout_ms,
			  struct transport_status *out)
{
	struct timespec until = clock_deadline(timeout_ms);
	int changed, rc = 0;

	pthread_mutex_lock(&t->lock);
	while ((changed = t->st.seq != seq) == 0 && rc == 0)
		rc = pthread_cond_timedwait(&t->cond, &t->lock, &until);
	transport_snapshot(t, out);
	pthread_mutex_unlock(&t->lock);
	return changed;
}

int transport_wait(struct transport *t, long timeout_ms, struct error *err)
{
	struct timespec until = clock_deadline(timeout_ms);
	struct transport_status st;
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	while (t->st.state != TRANSPORT_CONNECTED && t->st.state != TRANSPORT_DOWN &&
	       t->st.reason[0] == '\0' && rc == 0)
		rc = pthread_cond_timedwait(&t->cond, &t->lock, &until);
	transport_snapshot(t, &st);
	pthread_mutex_unlock(&t->lock);
	if (st.state == TRANSPORT_CONNECTED)
		return 0;
	if (st.reason[0] == '\0')
		return error_set(err, 0, "Unreachable", "%s: still connecting after %ld s",
				 st.target, timeout_ms / 1000);
	return error_set(err, 0, "Unreachable", "cannot connect to %s: %s", st.target, st.reason);
}

void transport_detail(struct transport *t, char *buf, size_t len)
{
	pthread_mutex_lock(&t->lock);
	snprintf(buf, len, "%s", t->detail);
	pthread_mutex_unlock(&t->lock);
}

void transport_retry(struct transport *t)
{
	if (!t->tunnel)
		return;
	pthread_mutex_lock(&t->lock);
	t->retry = 1;
	pthread_mutex_unlock(&t->lock);
	transport_wake(t);
}

void transport_set_trace(struct transport *t, FILE *trace)
{
	pthread_mutex_lock(&t->lock);
	t->trace = trace;
	pthread_mutex_unlock(&t->lock);
}

/* A direct profile: its connect_info, with the transport's one token source. */
static int transport_direct(struct transport *t, struct connect_info *out, struct error *err)
{
	if (connect_resolve(&t->prof, out, err) < 0)
		return -1;
	if (out->cred == NULL)
		return 0;
	pthread_mutex_lock(&t->lock);
	if (t->cred == NULL) {
		t->cred = credential_ref(out->cred);
	} else {
		credential_unref(out->cred);
		out->cred = credential_ref(t->cred);
	}
	pthread_mutex_unlock(&t->lock);
	return 0;
}

int transport_info(struct transport *t, struct connect_info *out, struct error *err)
{
	char key[sizeof t->key];
	struct transport_status st;
	int rc;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&t->lock);
	out->trace = t->trace; /* kept by connect_resolve */
	pthread_mutex_unlock(&t->lock);
	if (!t->tunnel)
		return transport_direct(t, out, err);
	pthread_mutex_lock(&t->lock);
	transport_snapshot(t, &st);
	memcpy(key, t->key, sizeof key);
	pthread_mutex_unlock(&t->lock);
	if (st.state != TRANSPORT_CONNECTED) {
		char what[400];
		transport_describe(&st, what, sizeof what);
		rc = error_set(err, 0, "Unreachable", "%s: %s", st.target, what);
	} else {
		rc = connect_resolve_tunnel(&t->prof, t->sock, key, out, err);
	}
	memset(key, 0, sizeof key);
	return rc;
}

struct client *transport_client(struct transport *t, long timeout_ms, struct error *err)
{
	struct connect_info info;
	struct client *c = NULL;

	if (transport_info(t, &info, err) == 0)
		c = connect_info_client(&info, timeout_ms, err);
	connect_info_cleanup(&info);
	return c;
}
