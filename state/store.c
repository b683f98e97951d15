/*
 * store.c: the runtime's home on disk: lock, state.json, admin.key.
 *
 * Errors: 409 "Locked" when another process holds HOME/lock, 500
 * "CorruptState" for an unreadable state.json (never replaced), 500
 * "StorageError" for I/O failures (the message carries strerror).
 * admin.key is written to admin.key.tmp, fsynced and then link()ed into place:
 * link fails when the name exists, so creation is atomic (like O_EXCL) and a
 * crash never leaves an empty or partial key.
 */
#include "state/store.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "state/codec.h"
#include "state/file.h"

#define STATE_MAX (256L * 1024 * 1024) /* refuse state files past this */
#define ADMIN_KEY_BYTES 32

struct store {
	char home[PATH_MAX];
	int lock_fd;
};

static int storage_error(struct error *err, const char *what, const char *path)
{
	return error_set(err, 500, "StorageError", "%s %s: %s", what, path, strerror(errno));
}

/* home + "/" + name into buf; -1 when too long. */
static int join(char *buf, size_t len, const char *home, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", home, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* mkdir -p with mode for the last component and any missing parent. */
static int mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int fsync_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, rc;

	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes and fsyncs a new file at tmp (truncated); -1 with errno. */
static int write_synced(const char *tmp, const void *data, size_t len, int mode)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	int saved;

	if (fd < 0)
		return -1;
	if (fchmod(fd, (mode_t)mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return close(fd);
}

int store_write_atomic(const char *path, const void *data, size_t len, int mode, struct error *err)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return error_set(err, 500, "StorageError", "path too long: %s", path);
	if (write_synced(tmp, data, len, mode) < 0)
		return storage_error(err, "cannot write", tmp);
	if (rename(tmp, path) < 0) {
		storage_error(err, "cannot rename into", path);
		unlink(tmp);
		return -1;
	}
	if (fsync_dir(path) < 0)
		return storage_error(err, "cannot sync the directory of", path);
	return 0;
}

/* The pid written in an existing lock file, 0 when unreadable. */
static long lock_owner(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return end != buf && pid > 0 ? pid : 0;
}

static int take_lock(struct store *s, struct error *err)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char path[PATH_MAX], pid[32];
	int n;

	if (join(path, sizeof path, s->home, "lock") < 0)
		return error_set(err, 500, "StorageError", "home path too long");
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0)
		return storage_error(err, "cannot open", path);
	if (fcntl(s->lock_fd, F_SETLK, &fl) < 0) {
		if (errno == EACCES || errno == EAGAIN)
			return error_set(err, 409, "Locked",
					 "another mldeck runtime (pid %ld) holds %s",
					 lock_owner(s->lock_fd), path);
		return storage_error(err, "cannot lock", path);
	}
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(s->lock_fd, 0) < 0 || pwrite(s->lock_fd, pid, (size_t)n, 0) != n)
		return storage_error(err, "cannot write", path);
	return 0;
}

static int make_layout(const char *home, struct error *err)
{
	static const char *const subdirs[] = {"models", "tmp", "logs"};
	char path[PATH_MAX];

	if (mkdirs(home, 0700) < 0)
		return storage_error(err, "cannot create home", home);
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		if (join(path, sizeof path, home, subdirs[i]) < 0)
			return error_set(err, 500, "StorageError", "home path too long");
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return storage_error(err, "cannot create", path);
	}
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

/* Uploads and copies a crash interrupted are never part of the state: sweep them. */
static void sweep_tmp(const char *home)
{
	char path[PATH_MAX];

	if (join(path, sizeof path, home, "tmp") == 0)
		nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int store_default_home(char *buf, size_t len)
{
	const char *v = getenv("MLDECK_HOME");
	int n;

	if (v != NULL && v[0] != '\0')
		n = snprintf(buf, len, "%s", v);
	else if ((v = getenv("XDG_DATA_HOME")) != NULL && v[0] == '/')
		n = snprintf(buf, len, "%s/mldeck", v);
	else if ((v = getenv("HOME")) != NULL && v[0] != '\0')
		n = snprintf(buf, len, "%s/.local/share/mldeck", v);
	else
		return -1;
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

struct store *store_open(const char *home, struct error *err)
{
	struct store *s;

	if (home == NULL || home[0] == '\0' || strlen(home) >= PATH_MAX - 64) {
		error_set(err, 500, "StorageError", "invalid home directory");
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (s == NULL) {
		error_set(err, 500, "InternalError", "out of memory");
		return NULL;
	}
	s->lock_fd = -1;
	snprintf(s->home, sizeof s->home, "%s", home);
	if (make_layout(home, err) < 0 || take_lock(s, err) < 0) {
		store_close(s);
		return NULL;
	}
	sweep_tmp(home);
	return s;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* closing drops the fcntl lock */
	free(s);
}

const char *store_home(const struct store *s)
{
	return s->home;
}

/* Line and column (1-based) of byte offset off in buf. */
static void position(const char *buf, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static struct workspace *parse_state(const char *path, const char *buf, size_t len,
				     struct error *err)
{
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	struct workspace *ws;
	size_t off, line, col;
	struct error inner;

	if (doc == NULL) {
		off = end != NULL && end >= buf && end <= buf + len ? (size_t)(end - buf) : 0;
		position(buf, off, &line, &col);
		error_set(err, 500, "CorruptState",
			  "%s is not valid JSON (error at line %zu, column %zu, byte %zu); "
			  "it was left untouched: repair or move it away",
			  path, line, col, off);
		return NULL;
	}
	error_clear(&inner);
	ws = codec_workspace_from_json(doc, &inner);
	cJSON_Delete(doc);
	if (ws == NULL)
		error_set(err, 500, "CorruptState", "%s: %s; it was left untouched", path,
			  inner.message);
	return ws;
}

struct workspace *store_load(struct store *s, const char *default_name, struct error *err)
{
	char path[PATH_MAX];
	struct workspace *ws;
	size_t len = 0;
	char *buf;

	if (join(path, sizeof path, s->home, "state.json") < 0) {
		error_set(err, 500, "StorageError", "home path too long");
		return NULL;
	}
	errno = 0;
	buf = file_read(path, STATE_MAX, &len);
	if (buf == NULL && errno == ENOENT) {
		ws = workspace_new(default_name);
		if (ws == NULL)
			error_set(err, 500, "InternalError", "out of memory");
		return ws;
	}
	if (buf == NULL) {
		storage_error(err, "cannot read", path);
		return NULL;
	}
	ws = parse_state(path, buf, len, err);
	free(buf);
	return ws;
}

int store_save(struct store *s, const struct workspace *ws, struct error *err)
{
	char path[PATH_MAX];
	cJSON *doc;
	char *text;
	int rc;

	if (join(path, sizeof path, s->home, "state.json") < 0)
		return error_set(err, 500, "StorageError", "home path too long");
	doc = codec_workspace_to_json(ws);
	text = doc != NULL ? cJSON_Print(doc) : NULL;
	cJSON_Delete(doc);
	if (text == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	rc = store_write_atomic(path, text, strlen(text), 0600, err);
	cJSON_free(text);
	return rc;
}

/* base64url without padding; out must hold 4 * ceil(n / 3) + 1 bytes. */
static void base64url(const unsigned char *in, size_t n, char *out)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		v |= i + 1 < n ? (unsigned)in[i + 1] << 8 : 0;
		v |= i + 2 < n ? in[i + 2] : 0;
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = tbl[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = tbl[v & 63];
	}
	out[o] = '\0';
}

/* Reads an existing key file, trailing whitespace stripped: 0, -1 (err set) or
 * -2 (I/O, errno set). */
static int read_key(const char *path, char *buf, size_t len, struct error *err)
{
	size_t n = 0;
	char *data = file_read(path, 4096, &n);

	if (data == NULL)
		return -2;
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r' || data[n - 1] == ' '))
		data[--n] = '\0';
	if (n == 0 || n >= len) {
		free(data);
		return error_set(err, 500, "StorageError", "%s is %s", path,
				 n == 0 ? "empty" : "too long");
	}
	memcpy(buf, data, n + 1);
	free(data);
	return 0;
}

static int create_key(const char *path, struct error *err)
{
	unsigned char raw[ADMIN_KEY_BYTES];
	char key[4 * ADMIN_KEY_BYTES / 3 + 8], tmp[PATH_MAX];
	int rc = 0;

	if (RAND_bytes(raw, sizeof raw) != 1)
		return error_set(err, 500, "InternalError", "no random bytes for the admin key");
	base64url(raw, sizeof raw, key);
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return error_set(err, 500, "StorageError", "path too long: %s", path);
	if (write_synced(tmp, key, strlen(key), 0600) < 0)
		return storage_error(err, "cannot write", tmp);
	if (link(tmp, path) < 0 && errno != EEXIST)
		rc = storage_error(err, "cannot create", path);
	unlink(tmp);
	if (rc == 0 && fsync_dir(path) < 0)
		rc = storage_error(err, "cannot sync the directory of", path);
	return rc;
}

int store_admin_key(struct store *s, char *buf, size_t len, struct error *err)
{
	char path[PATH_MAX];
	int rc;

	if (join(path, sizeof path, s->home, "admin.key") < 0)
		return error_set(err, 500, "StorageError", "home path too long");
	errno = 0;
	rc = read_key(path, buf, len, err);
	if (rc == -2 && errno == ENOENT) {
		if (create_key(path, err) < 0)
			return -1;
		rc = read_key(path, buf, len, err);
	}
	if (rc == -2)
		return storage_error(err, "cannot read", path);
	return rc;
}

int store_mkdirs(const char *path, mode_t mode)
{
	return mkdirs(path, mode);
}
