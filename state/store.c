/*
 * store.c: the runtime's home on disk: safety checks, lock, state.db,
 * admin.key.
 *
 * Choices beyond store.h:
 *  - SQLite, not an append-only journal: both cost one fsync per change
 *    (bench/store_options.c measured 0.26 ms and 0.18 ms median at 5,000 rows);
 *    SQLite brings checksummed, self-compacting logs (checkpoints), torn-tail
 *    recovery and queries for the record logs, which a journal would have to
 *    grow by hand. Tables: rows(kind, key, value), records(kind, key, seq,
 *    value), meta(key, value) with meta "workspace" = the workspace's name;
 *    PRAGMA user_version is the schema (1).
 *  - locking_mode=EXCLUSIVE: no -shm file, and SQLite's own lock backs up the
 *    flock. synchronous=FULL: a commit fsyncs the log before it returns.
 *  - state.db is created by us (openat, O_NOFOLLOW, 0600) before SQLite opens
 *    it (SQLITE_OPEN_NOFOLLOW; its -wal inherits the mode), and its identity
 *    is compared with what SQLite then has open.
 *  - admin.key is written to a temporary in HOME/tmp, fsynced and then
 *    link()ed into place: link fails when the name exists, so creation is
 *    atomic (like O_EXCL) and a crash never leaves an empty or partial key.
 * Errors: 409 "Locked", 500 "UnsafeHome", "CorruptState", "StorageError",
 * "StateFileReplaced". A failed SQLite call reports the system's errno
 * (sqlite3_system_errno) when there is one: "No space left on device".
 */
#include "state/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <sqlite3.h>

#include "state/codec.h"
#include "state/file.h"

#define STATE_DB "state.db"
#define STATE_WAL "state.db-wal"
#define STATE_JSON "state.json" /* before the database: migrated once */
#define STATE_JSON_MAX (256L * 1024 * 1024)
#define SCHEMA_VERSION 1
#define ADMIN_KEY_BYTES 32
#define KEY_MAX 1024

struct ident {
	dev_t dev;
	ino_t ino;
	int known;
};

struct store {
	char home[PATH_MAX];
	int dirfd; /* the home; its flock is the runtime's lock */
	int tmpfd; /* HOME/tmp */
	int lockfd; /* HOME/lock, the pid for messages */
	sqlite3 *db;
	pthread_mutex_t lock; /* one statement sequence on db at a time */
	struct ident db_id, wal_id;
	uint64_t rows_written;
	char notice[3 * PATH_MAX + 256];
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS rows(kind TEXT NOT NULL, key TEXT NOT NULL,"
	" value TEXT NOT NULL, PRIMARY KEY(kind, key)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS records(kind TEXT NOT NULL, key TEXT NOT NULL,"
	" seq INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY(kind, key, seq)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;";

/* ---- errors ------------------------------------------------------------- */

/* e is the errno saved where the failing call returned. */
static int sys_error(struct error *err, int e, const char *what, const char *home,
		     const char *name)
{
	return error_set(err, 500, "StorageError", "%s %s%s%s: %s", what, home, name ? "/" : "",
			 name ? name : "", strerror(e));
}

/* A failed SQLite call: the system's reason when there is one. */
static int db_error(struct store *s, struct error *err, const char *what)
{
	int rc = sqlite3_errcode(s->db), e = sqlite3_system_errno(s->db);
	const char *why = sqlite3_errmsg(s->db);

	if (rc == SQLITE_FULL)
		e = ENOSPC;
	if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
		return error_set(err, 500, "CorruptState",
				 "%s/%s is not a valid mldeck state database (%s); it was left "
				 "untouched: repair or move it away",
				 s->home, STATE_DB, why);
	if (e != 0)
		return error_set(err, 500, "StorageError", "%s %s/%s: %s (%s)", what, s->home,
				 STATE_DB, strerror(e), why);
	return error_set(err, 500, "StorageError", "%s %s/%s: %s", what, s->home, STATE_DB, why);
}

/* ---- the home ----------------------------------------------------------- */

/* The home itself: a directory we own that nobody else may write to. */
static int check_home(const char *home, int fd, struct error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return sys_error(err, errno, "cannot inspect", home, NULL);
	if (st.st_uid != geteuid())
		return error_set(err, 500, "UnsafeHome",
				 "refusing the home %s: it belongs to uid %ld, not to you (uid "
				 "%ld), so its owner controls your state and keys; use a home you "
				 "own (--home DIR or MLDECK_HOME)",
				 home, (long)st.st_uid, (long)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return error_set(err, 500, "UnsafeHome",
				 "refusing the home %s: it is writable by %s (mode %04o), so "
				 "another user could replace the state or plant links in it; fix "
				 "it with: chmod 700 %s",
				 home, st.st_mode & S_IWOTH ? "others" : "its group",
				 (unsigned)(st.st_mode & 07777), home);
	return 0;
}

/* A parent everyone may write to without the sticky bit, or one another user
 * owns, lets them swap the home for their own; the sticky bit (/tmp) forbids
 * renaming our entries. */
static int check_parents(const char *home, struct error *err)
{
	char path[PATH_MAX], *slash;
	struct stat st;

	if (realpath(home, path) == NULL)
		return sys_error(err, errno, "cannot resolve", home, NULL);
	while ((slash = strrchr(path, '/')) != NULL) {
		if (slash == path)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(path, &st) < 0)
			return sys_error(err, errno, "cannot inspect", path, NULL);
		if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
			return error_set(err, 500, "UnsafeHome",
					 "refusing the home %s: its parent %s is writable by "
					 "everyone without the sticky bit (mode %04o), so another "
					 "user could swap the home; use a home elsewhere or chmod "
					 "o-w %s",
					 home, path, (unsigned)(st.st_mode & 07777), path);
		if (st.st_uid != 0 && st.st_uid != geteuid())
			return error_set(err, 500, "UnsafeHome",
					 "refusing the home %s: its parent %s belongs to uid %ld, "
					 "who could swap the home; use a home under a directory that "
					 "you or root own",
					 home, path, (long)st.st_uid);
		if (slash == path)
			break;
	}
	return 0;
}

/* A subfolder: created 0700 if missing; must be a real directory of ours. */
static int open_subdir(struct store *s, const char *name, int private, struct error *err)
{
	struct stat st;
	int fd;

	if (mkdirat(s->dirfd, name, 0700) < 0 && errno != EEXIST)
		return sys_error(err, errno, "cannot create", s->home, name);
	fd = openat(s->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP || errno == ENOTDIR
			       ? error_set(err, 500, "UnsafeHome",
					   "%s/%s is not a directory (a symbolic link or a file); "
					   "remove it",
					   s->home, name)
			       : sys_error(err, errno, "cannot open", s->home, name);
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return sys_error(err, e, "cannot inspect", s->home, name);
	}
	if (st.st_uid != geteuid() || (st.st_mode & (private ? 077 : 022))) {
		/* ours but too open (an older mldeck, a umask): close it up */
		if (st.st_uid == geteuid() && fchmod(fd, 0700) == 0)
			return fd;
		close(fd);
		return error_set(err, 500, "UnsafeHome",
				 "%s/%s belongs to another user or is writable by others; remove "
				 "it",
				 s->home, name);
	}
	return fd;
}

/* The pid in HOME/lock, 0 when unreadable. */
static long lock_owner(int dirfd)
{
	size_t n = 0;
	char *buf = file_read_at(dirfd, "lock", 31, &n), *end;
	long pid = buf ? strtol(buf, &end, 10) : 0;

	free(buf);
	return pid > 0 ? pid : 0;
}

/* flock on the home directory: held as long as the descriptor is open. */
static int take_lock(struct store *s, struct error *err)
{
	char pid[32];
	int n, e;

	if (flock(s->dirfd, LOCK_EX | LOCK_NB) < 0) {
		long owner;

		e = errno;
		if (e != EWOULDBLOCK)
			return sys_error(err, e, "cannot lock", s->home, NULL);
		owner = lock_owner(s->dirfd);
		if (owner > 0)
			snprintf(pid, sizeof pid, " (pid %ld)", owner);
		else
			pid[0] = '\0';
		return error_set(err, 409, "Locked", "another mldeck runtime%s holds the lock on %s",
				 pid, s->home);
	}
	s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (s->lockfd < 0)
		return sys_error(err, errno, "cannot open", s->home, "lock");
	/* only for the message a second runtime gives: a full disk does not stop a start */
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(s->lockfd, 0) == 0 && pwrite(s->lockfd, pid, (size_t)n, 0) < 0)
		(void)ftruncate(s->lockfd, 0);
	return 0;
}

/* Uploads, imports and keys a crash interrupted are never part of the state. */
static void sweep_tmp(struct store *s)
{
	int fd = dup(s->tmpfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			file_remove_at(s->tmpfd, de->d_name);
	closedir(d);
}

static int open_home(struct store *s, struct error *err)
{
	if (file_mkdirs(s->home, 0700) < 0)
		return sys_error(err, errno, "cannot create the home", s->home, NULL);
	s->dirfd = open(s->home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0)
		return sys_error(err, errno, "cannot open the home", s->home, NULL);
	if (check_home(s->home, s->dirfd, err) < 0 || check_parents(s->home, err) < 0 ||
	    take_lock(s, err) < 0)
		return -1;
	if ((s->tmpfd = open_subdir(s, "tmp", 1, err)) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		int fd = open_subdir(s, i == 0 ? "models" : "logs", 0, err);

		if (fd < 0)
			return -1;
		close(fd);
	}
	sweep_tmp(s);
	return 0;
}

/* ---- the database ------------------------------------------------------- */

static int ident_of(int dirfd, const char *name, struct ident *out)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	out->known = 1;
	return 0;
}

static int same_ident(const struct ident *a, const struct ident *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/* state.db (and its -wal once it exists) must still be the files we have open,
 * both through our directory descriptor and through the home's path: else
 * another process removed or replaced them and our writes would go nowhere. */
static int check_ident(struct store *s, struct error *err)
{
	char path[PATH_MAX + 16];
	struct ident now, by_path;
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", s->home, STATE_DB);
	if (ident_of(s->dirfd, STATE_DB, &now) < 0 || !same_ident(&now, &s->db_id) ||
	    stat(path, &st) < 0 || st.st_dev != s->db_id.dev || st.st_ino != s->db_id.ino)
		goto replaced;
	if (!s->wal_id.known) {
		ident_of(s->dirfd, STATE_WAL, &s->wal_id);
	} else {
		by_path.known = 0;
		if (ident_of(s->dirfd, STATE_WAL, &by_path) < 0 || !same_ident(&by_path, &s->wal_id))
			goto replaced;
	}
	return 0;
replaced:
	return error_set(err, 500, "StateFileReplaced",
			 "REFUSING TO WRITE: %s is no longer the state file this runtime opened "
			 "(removed, renamed or replaced by another process); writing would lose "
			 "changes. Stop this runtime and check the home",
			 path);
}

static int exec(struct store *s, const char *sql, struct error *err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(s, err, "cannot use");
	return 0;
}

/* One integer from a one-row query, -1 on error. */
static long long query_int(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int configure(struct store *s, struct error *err)
{
	sqlite3_stmt *st = NULL;
	int wal = 0;
	long long version;

	if (exec(s, "PRAGMA locking_mode=EXCLUSIVE", err) < 0)
		return -1;
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		wal = sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	if (!wal)
		return db_error(s, err, "cannot switch to WAL mode");
	if (exec(s, "PRAGMA synchronous=FULL", err) < 0)
		return -1;
	version = query_int(s, "PRAGMA user_version");
	if (version < 0)
		return db_error(s, err, "cannot read");
	if (version > SCHEMA_VERSION)
		return error_set(err, 500, "CorruptState",
				 "%s/%s was written by a newer mldeck (schema %lld, this one "
				 "knows %d); it was left untouched",
				 s->home, STATE_DB, version, SCHEMA_VERSION);
	if (version == SCHEMA_VERSION)
		return 0; /* nothing to write: a full disk does not stop a start */
	if (exec(s, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	if (exec(s, schema, err) < 0 || exec(s, "PRAGMA user_version=1", err) < 0 ||
	    exec(s, "COMMIT", err) < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

static int open_db(struct store *s, struct error *err)
{
	char path[PATH_MAX + 16];
	struct stat st;
	int fd;

	/* ours, 0600, not a link: created here before SQLite sees the name */
	fd = openat(s->dirfd, STATE_DB, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sys_error(err, errno, "cannot open", s->home, STATE_DB);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		return error_set(err, 500, "UnsafeHome", "%s/%s is not a regular file of yours",
				 s->home, STATE_DB);
	}
	s->db_id = (struct ident){st.st_dev, st.st_ino, 1};
	close(fd); /* before SQLite's POSIX locks: closing drops every one on the file */
	snprintf(path, sizeof path, "%s/%s", s->home, STATE_DB);
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		return s->db ? db_error(s, err, "cannot open")
			     : error_set(err, 500, "InternalError", "out of memory");
	sqlite3_extended_result_codes(s->db, 0);
	if (configure(s, err) < 0)
		return -1;
	return check_ident(s, err);
}

/* ---- open and close ----------------------------------------------------- */

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
	s->dirfd = s->tmpfd = s->lockfd = -1;
	pthread_mutex_init(&s->lock, NULL);
	snprintf(s->home, sizeof s->home, "%s", home);
	if (open_home(s, err) < 0 || open_db(s, err) < 0) {
		store_close(s);
		return NULL;
	}
	return s;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	sqlite3_close(s->db); /* checkpoints the log into state.db */
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->tmpfd >= 0)
		close(s->tmpfd);
	if (s->dirfd >= 0)
		close(s->dirfd); /* drops the flock */
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const char *store_home(const struct store *s)
{
	return s->home;
}

int store_dirfd(const struct store *s)
{
	return s->dirfd;
}

uint64_t store_rows_written(const struct store *s)
{
	return s->rows_written;
}

const char *store_notice(const struct store *s)
{
	return s->notice[0] ? s->notice : NULL;
}

/* ---- rows --------------------------------------------------------------- */

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) == SQLITE_OK ? 0 : -1;
}

/* Runs a prepared statement with up to three text arguments to completion. */
static int run(struct store *s, const char *sql, const char *a, const char *b, const char *c,
	       struct error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(s, err, "cannot write");
	if ((a && bind_text(st, 1, a) < 0) || (b && bind_text(st, 2, b) < 0) ||
	    (c && bind_text(st, 3, c) < 0)) {
		sqlite3_finalize(st);
		return db_error(s, err, "cannot write");
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_error(s, err, "cannot write");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

static int put_row(struct store *s, const struct store_row *r, struct error *err)
{
	if (r->kind == NULL || r->key == NULL || strlen(r->key) > KEY_MAX)
		return error_set(err, 500, "InternalError", "bad row key");
	s->rows_written++;
	if (r->value != NULL)
		return run(s, "INSERT OR REPLACE INTO rows(kind, key, value) VALUES(?1, ?2, ?3)",
			   r->kind, r->key, r->value, err);
	if (run(s, "DELETE FROM rows WHERE kind = ?1 AND key = ?2", r->kind, r->key, NULL,
		err) < 0)
		return -1;
	return run(s, "DELETE FROM records WHERE kind = ?1 AND key = ?2", r->kind, r->key, NULL,
		   err);
}

/* One transaction: optionally every known kind emptied first (a full save) and
 * the workspace's name set, then the rows. Caller holds s->lock. */
static int write_rows(struct store *s, const struct store_row *rows, size_t n, int replace_all,
		      const char *ws_name, struct error *err)
{
	const char *kind;

	if (check_ident(s, err) < 0 || exec(s, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	for (size_t i = 0; replace_all && (kind = codec_workspace_kind(i)) != NULL; i++)
		if (run(s, "DELETE FROM rows WHERE kind = ?1", kind, NULL, NULL, err) < 0)
			goto fail;
	if (ws_name != NULL &&
	    run(s, "INSERT OR REPLACE INTO meta(key, value) VALUES('workspace', ?1)", ws_name,
		NULL, NULL, err) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (put_row(s, &rows[i], err) < 0)
			goto fail;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_error(s, err, "cannot save the state in");
		goto fail;
	}
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int store_write(struct store *s, const struct store_row *rows, size_t n, struct error *err)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = write_rows(s, rows, n, 0, NULL, err);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void free_rows(struct store_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free((char *)rows[i].key);
		cJSON_free((char *)rows[i].value);
	}
	free(rows);
}

static int known_kind(const char *kind)
{
	const char *k;

	for (size_t i = 0; (k = codec_workspace_kind(i)) != NULL; i++)
		if (strcmp(k, kind) == 0)
			return 1;
	return 0;
}

/* The rows for ws's recorded changes: key "a" or "a/b", value the item or NULL. */
static struct store_row *changed_rows(const struct workspace *ws, size_t *n, struct error *err)
{
	const struct workspace_ref *refs;
	struct store_row *rows;
	size_t k = workspace_changes(ws, &refs);

	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (!known_kind(refs[i].kind)) { /* never read "absent" (delete) into a missing codec line */
			error_set(err, 500, "InternalError", "no codec for resource kind '%s'",
				  refs[i].kind);
			return NULL;
		}
	rows = calloc(k + 1, sizeof *rows);
	if (rows == NULL)
		goto oom;
	for (size_t i = 0; i < k; i++, (*n)++) {
		const struct workspace_ref *r = &refs[i];
		cJSON *item = codec_workspace_item(ws, r->kind, r->a, r->b);
		size_t len = strlen(r->a) + strlen(r->b) + 2;
		char *key = malloc(len);

		rows[i].kind = r->kind;
		rows[i].key = key;
		if (key != NULL)
			snprintf(key, len, "%s%s%s", r->a, r->b[0] ? "/" : "", r->b);
		rows[i].value = item ? cJSON_PrintUnformatted(item) : NULL;
		cJSON_Delete(item);
		if (key == NULL || (item != NULL && rows[i].value == NULL)) {
			(*n)++;
			goto oom;
		}
	}
	return rows;
oom:
	free_rows(rows, *n);
	error_set(err, 500, "InternalError", "out of memory");
	return NULL;
}

/* Writes ws's changes (all of ws when replace_all) with the store locked. */
static int commit_locked(struct store *s, struct workspace *ws, int replace_all,
			 struct error *err)
{
	struct store_row *rows;
	size_t n;
	int rc;

	if (replace_all) {
		workspace_changes_clear(ws);
		workspace_touch_all(ws);
		if (workspace_changes_lost(ws))
			return error_set(err, 500, "InternalError", "out of memory");
	}
	rows = changed_rows(ws, &n, err);
	if (rows == NULL)
		return -1;
	rc = write_rows(s, rows, n, replace_all, replace_all ? workspace_name(ws) : NULL, err);
	free_rows(rows, n);
	if (rc == 0)
		workspace_changes_clear(ws);
	return rc;
}

int store_commit(struct store *s, struct workspace *ws, struct error *err)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = commit_locked(s, ws, workspace_changes_lost(ws), err);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int store_rows(struct store *s, const char *kind, store_row_fn fn, void *ctx, struct error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, "SELECT key, value FROM rows WHERE kind = ?1 ORDER BY key",
			       -1, &st, NULL) != SQLITE_OK ||
	    bind_text(st, 1, kind) < 0) {
		db_error(s, err, "cannot read");
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(ctx, (const char *)sqlite3_column_text(st, 0),
		       (const char *)sqlite3_column_text(st, 1)) != 0)
			break;
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		db_error(s, err, "cannot read");
	else
		rc = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ---- records ------------------------------------------------------------ */

/* sql prepared with ?1 kind, ?2 key, ?3 value (text) or, when value is NULL, n. */
static sqlite3_stmt *records_stmt(struct store *s, const char *sql, const char *kind,
				  const char *key, const char *value, int64_t n)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK ||
	    bind_text(st, 1, kind) < 0 || bind_text(st, 2, key) < 0 ||
	    (value ? bind_text(st, 3, value) < 0 : sqlite3_bind_int64(st, 3, n) != SQLITE_OK)) {
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int store_append(struct store *s, const char *kind, const char *key, const char *value,
		 int64_t *seq, struct error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	pthread_mutex_lock(&s->lock);
	if (check_ident(s, err) < 0)
		goto out;
	/* one statement is one transaction: durable when it returns */
	st = records_stmt(s,
			  "INSERT INTO records(kind, key, seq, value) SELECT ?1, ?2,"
			  " COALESCE(MAX(seq), 0) + 1, ?3 FROM records WHERE kind = ?1 AND"
			  " key = ?2 RETURNING seq",
			  kind, key, value ? value : "null", 0);
	if (st == NULL || sqlite3_step(st) != SQLITE_ROW) {
		db_error(s, err, "cannot append to");
		goto out;
	}
	if (seq != NULL)
		*seq = sqlite3_column_int64(st, 0);
	if (sqlite3_step(st) != SQLITE_DONE)
		db_error(s, err, "cannot append to");
	else
		rc = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

long store_records(struct store *s, const char *kind, const char *key, int64_t after,
		   store_record_fn fn, void *ctx, struct error *err)
{
	sqlite3_stmt *st;
	long n = 0;
	int step = SQLITE_DONE;

	pthread_mutex_lock(&s->lock);
	st = records_stmt(s,
			  "SELECT seq, value FROM records WHERE kind = ?1 AND key = ?2 AND"
			  " seq > ?3 ORDER BY seq",
			  kind, key, NULL, after);
	while (st != NULL && (step = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		if (fn(ctx, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1)))
			break;
	}
	if (st == NULL || (step != SQLITE_ROW && step != SQLITE_DONE))
		n = db_error(s, err, "cannot read");
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return n;
}

int store_records_drop(struct store *s, const char *kind, const char *key, int64_t upto,
		       struct error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	pthread_mutex_lock(&s->lock);
	if (check_ident(s, err) < 0)
		goto out;
	st = records_stmt(s, "DELETE FROM records WHERE kind = ?1 AND key = ?2 AND seq <= ?3",
			  kind, key, NULL, upto);
	if (st == NULL || sqlite3_step(st) != SQLITE_DONE)
		db_error(s, err, "cannot write");
	else
		rc = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ---- loading ------------------------------------------------------------ */

/* The workspace's name from meta into *name (heap): 1, 0 on a new database, -1. */
static int meta_name(struct store *s, char **name, struct error *err)
{
	sqlite3_stmt *st = NULL;
	int step, rc = -1;

	*name = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'workspace'", -1, &st,
			       NULL) != SQLITE_OK)
		return db_error(s, err, "cannot read");
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*name = strdup((const char *)sqlite3_column_text(st, 0));
		rc = *name != NULL ? 1 : error_set(err, 500, "InternalError", "out of memory");
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		db_error(s, err, "cannot read");
	}
	sqlite3_finalize(st);
	return rc;
}

/* Adds one stored row to the document's array for its kind. */
static int doc_add(struct store *s, cJSON *doc, const char *kind, const char *key,
		   const char *value, struct error *err)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, kind);
	cJSON *item = cJSON_Parse(value);

	if (item == NULL)
		return error_set(err, 500, "CorruptState",
				 "%s/%s: row %s/%s is not valid JSON; it was left untouched",
				 s->home, STATE_DB, kind, key);
	if (arr == NULL)
		arr = cJSON_AddArrayToObject(doc, kind);
	if (arr == NULL || !cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		return error_set(err, 500, "InternalError", "out of memory");
	}
	return 0;
}

static struct workspace *load_rows(struct store *s, const char *name, struct error *err)
{
	cJSON *doc = codec_workspace_doc(name);
	struct workspace *ws = NULL;
	sqlite3_stmt *st = NULL;
	struct error inner;
	int step = SQLITE_DONE;

	if (doc == NULL) {
		error_set(err, 500, "InternalError", "out of memory");
		return NULL;
	}
	if (sqlite3_prepare_v2(s->db, "SELECT kind, key, value FROM rows ORDER BY kind, key", -1,
			       &st, NULL) != SQLITE_OK) {
		db_error(s, err, "cannot read");
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if (doc_add(s, doc, (const char *)sqlite3_column_text(st, 0),
			    (const char *)sqlite3_column_text(st, 1),
			    (const char *)sqlite3_column_text(st, 2), err) < 0)
			goto out;
	if (step != SQLITE_DONE) {
		db_error(s, err, "cannot read");
		goto out;
	}
	error_clear(&inner);
	ws = codec_workspace_from_json(doc, &inner);
	if (ws == NULL)
		error_set(err, 500, "CorruptState", "%s/%s: %s; it was left untouched", s->home,
			  STATE_DB, inner.message);
	else
		workspace_changes_clear(ws);
out:
	sqlite3_finalize(st);
	cJSON_Delete(doc);
	return ws;
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

/* An older mldeck's state.json, checked through the rules, into *out:
 * 1, 0 when there is none, -1 with err. */
static int read_state_json(struct store *s, struct workspace **out, struct error *err)
{
	size_t len = 0, off, line, col;
	char *buf = file_read_at(s->dirfd, STATE_JSON, STATE_JSON_MAX, &len);
	const char *end = NULL;
	struct workspace *ws = NULL;
	struct error inner;
	cJSON *doc;

	*out = NULL;
	if (buf == NULL) {
		int e = errno;

		return e == ENOENT ? 0 : sys_error(err, e, "cannot read", s->home, STATE_JSON);
	}
	doc = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (doc == NULL) {
		off = end != NULL && end >= buf && end <= buf + len ? (size_t)(end - buf) : 0;
		position(buf, off, &line, &col);
		error_set(err, 500, "CorruptState",
			  "%s/%s is not valid JSON (error at line %zu, column %zu, byte %zu); "
			  "it was left untouched: repair or move it away",
			  s->home, STATE_JSON, line, col, off);
	} else {
		error_clear(&inner);
		ws = codec_workspace_from_json(doc, &inner);
		if (ws == NULL)
			error_set(err, 500, "CorruptState", "%s/%s: %s; it was left untouched",
				  s->home, STATE_JSON, inner.message);
	}
	cJSON_Delete(doc);
	free(buf);
	*out = ws;
	return ws != NULL ? 1 : -1;
}

/* state.json -> rows, in one transaction; the file is then kept as a backup. */
static struct workspace *migrate(struct store *s, struct workspace *ws, struct error *err)
{
	if (commit_locked(s, ws, 1, err) < 0) {
		workspace_free(ws);
		return NULL;
	}
	if (renameat(s->dirfd, STATE_JSON, s->dirfd, STATE_JSON ".migrated") < 0 ||
	    fsync(s->dirfd) < 0)
		snprintf(s->notice, sizeof s->notice,
			 "migrated %s/%s into %s (the old file could not be renamed: %s; it is "
			 "ignored from now on)",
			 s->home, STATE_JSON, STATE_DB, strerror(errno));
	else
		snprintf(s->notice, sizeof s->notice,
			 "migrated %s/%s into %s/%s; the old file is kept as %s/%s.migrated", s->home,
			 STATE_JSON, s->home, STATE_DB, s->home, STATE_JSON);
	return ws;
}

/* A new database: the older state.json if any, else an empty workspace. */
static struct workspace *first_load(struct store *s, const char *default_name,
				    struct error *err)
{
	struct workspace *ws;
	int rc = read_state_json(s, &ws, err);

	if (rc != 0)
		return rc > 0 ? migrate(s, ws, err) : NULL;
	ws = workspace_new(default_name);
	if (ws == NULL) {
		error_set(err, 500, "InternalError", "out of memory");
		return NULL;
	}
	if (write_rows(s, NULL, 0, 0, workspace_name(ws), err) < 0) {
		workspace_free(ws);
		return NULL;
	}
	return ws;
}

struct workspace *store_load(struct store *s, const char *default_name, struct error *err)
{
	struct workspace *ws = NULL;
	char *name;
	int rc;

	pthread_mutex_lock(&s->lock);
	s->notice[0] = '\0';
	rc = meta_name(s, &name, err);
	if (rc == 0)
		ws = first_load(s, default_name, err);
	else if (rc > 0)
		ws = load_rows(s, name, err);
	if (rc > 0 && ws != NULL && faccessat(s->dirfd, STATE_JSON, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		snprintf(s->notice, sizeof s->notice,
			 "%s/%s is ignored: the state is in %s (remove the old file)", s->home,
			 STATE_JSON, STATE_DB);
	pthread_mutex_unlock(&s->lock);
	free(name);
	return ws;
}

/* ---- files in the home -------------------------------------------------- */

/* Creates a new temporary in HOME/tmp (O_EXCL, never a link); its name in name. */
static int tmp_create(struct store *s, const char *prefix, int mode, char *name, size_t len)
{
	unsigned char r[8];

	for (int tries = 0; tries < 16; tries++) {
		int fd;

		if (RAND_bytes(r, sizeof r) != 1)
			return -1;
		snprintf(name, len, "%s.%02x%02x%02x%02x%02x%02x%02x%02x", prefix, r[0], r[1], r[2],
			 r[3], r[4], r[5], r[6], r[7]);
		fd = openat(s->tmpfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    mode);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

/* A new temporary holding data, fsynced; -1 with errno. */
static int tmp_write(struct store *s, const char *prefix, const void *data, size_t len, int mode,
		     char *name, size_t nlen)
{
	int fd = tmp_create(s, prefix, mode, name, nlen), e;

	if (fd < 0)
		return -1;
	if (fchmod(fd, (mode_t)mode) < 0 || file_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlinkat(s->tmpfd, name, 0);
		errno = e;
		return -1;
	}
	return close(fd);
}

int store_write_file(struct store *s, const char *name, const void *data, size_t len, int mode,
		     struct error *err)
{
	char tmp[NAME_MAX + 1];
	int e;

	if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL ||
	    strlen(name) > NAME_MAX - 20)
		return error_set(err, 500, "StorageError", "bad file name in the home");
	if (tmp_write(s, name, data, len, mode, tmp, sizeof tmp) < 0)
		return sys_error(err, errno, "cannot write a temporary for", s->home, name);
	if (renameat(s->tmpfd, tmp, s->dirfd, name) < 0) {
		e = errno;
		unlinkat(s->tmpfd, tmp, 0);
		return sys_error(err, e, "cannot rename into", s->home, name);
	}
	if (fsync(s->dirfd) < 0)
		return sys_error(err, errno, "cannot sync", s->home, NULL);
	return 0;
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
static int read_key(struct store *s, char *buf, size_t len, struct error *err)
{
	size_t n = 0;
	char *data = file_read_at(s->dirfd, "admin.key", 4096, &n);

	if (data == NULL)
		return -2;
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r' || data[n - 1] == ' '))
		data[--n] = '\0';
	if (n == 0 || n >= len) {
		free(data);
		return error_set(err, 500, "StorageError", "%s/admin.key is %s", s->home,
				 n == 0 ? "empty" : "too long");
	}
	memcpy(buf, data, n + 1);
	free(data);
	return 0;
}

static int create_key(struct store *s, struct error *err)
{
	unsigned char raw[ADMIN_KEY_BYTES];
	char key[4 * ADMIN_KEY_BYTES / 3 + 8], tmp[NAME_MAX + 1];
	int rc = 0;

	if (RAND_bytes(raw, sizeof raw) != 1)
		return error_set(err, 500, "InternalError", "no random bytes for the admin key");
	base64url(raw, sizeof raw, key);
	if (tmp_write(s, "admin.key", key, strlen(key), 0600, tmp, sizeof tmp) < 0)
		return sys_error(err, errno, "cannot write a temporary for", s->home, "admin.key");
	if (linkat(s->tmpfd, tmp, s->dirfd, "admin.key", 0) < 0 && errno != EEXIST)
		rc = sys_error(err, errno, "cannot create", s->home, "admin.key");
	unlinkat(s->tmpfd, tmp, 0);
	if (rc == 0 && fsync(s->dirfd) < 0)
		rc = sys_error(err, errno, "cannot sync", s->home, NULL);
	return rc;
}

int store_admin_key(struct store *s, char *buf, size_t len, struct error *err)
{
	int rc = read_key(s, buf, len, err);

	if (rc == -2 && errno == ENOENT) {
		if (create_key(s, err) < 0)
			return -1;
		rc = read_key(s, buf, len, err);
	}
	if (rc == -2)
		return sys_error(err, errno, "cannot read", s->home, "admin.key");
	return rc;
}
