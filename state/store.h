/*
 * store.h: the crash-safe home of one runtime ($MLDECK_HOME).
 *
 * Layout: HOME/state.db (SQLite in WAL mode, synchronous=FULL, exclusive
 * locking; its log HOME/state.db-wal beside it), HOME/lock (the pid of the
 * runtime, for messages only), HOME/admin.key (0600), HOME/models/NAME/V/...
 * (artifacts, see artifact.h), HOME/tmp/ (private temporaries, swept at open),
 * HOME/logs/. A HOME/state.json of an older mldeck is migrated into state.db on
 * the first store_load and kept as HOME/state.json.migrated.
 *
 * Rows: the workspace is kept one row per resource, keyed by kind (a
 * WORKSPACE_* name: "endpoints") and key ("NAME", or "A/B": "ep/blue",
 * "model/3"), the value the codec's JSON of that resource
 * (codec_workspace_item). A change writes only the rows it touched, in one
 * transaction: when store_commit or store_write returns 0 the change survives
 * kill -9 and power loss; a crash leaves it whole or absent, never torn.
 *
 * Records: frequent small facts about a resource (a job's per-mini-batch
 * progress) are appended to that resource's record log with store_append: one
 * small transaction each, never a rewrite of anything else. Deleting the row
 * deletes its records in the same transaction.
 *
 * The home is refused (500 "UnsafeHome", the message names the problem and
 * the fix) when it is not a directory owned by the user, when group or others
 * may write to it, or when a parent directory may be written by everyone
 * without the sticky bit (another user could swap it). Every file in it is
 * opened relative to the home's directory descriptor without following
 * symlinks; temporaries are created exclusively in HOME/tmp (0700).
 *
 * Single writer: store_open takes an flock on the home directory itself (not
 * on a file in it: a directory cannot be deleted while it holds files, and a
 * new one at the same path is a different inode), so a second runtime on the
 * same home fails with 409 "Locked" however the files inside are shuffled.
 * Before every write the store checks that HOME/state.db (and its -wal) is
 * still the file it opened (device and inode); if not, it refuses the write
 * (500 "StateFileReplaced") and the message says what happened.
 *
 * Threads: any function may be called from any thread once store_open
 * returned; writes and reads of the database are serialised inside. Writing a
 * workspace (store_commit) needs the caller's lock on that workspace.
 */
#ifndef STATE_STORE_H
#define STATE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "state/error.h"
#include "state/workspace.h"

struct store;

/* The runtime's Unix socket in its home (0600; the API as on TCP): what
 * ssh:// profiles forward to. */
#define STORE_SOCKET "mldeck.sock"

/* The default home: $MLDECK_HOME, else $XDG_DATA_HOME/mldeck (when absolute, as
 * the XDG spec asks), else $HOME/.local/share/mldeck. 0, or -1 when none can be
 * formed or it does not fit. The runtime and every client agree through this. */
int store_default_home(char *buf, size_t len);

/* Creates HOME (0700) and its subfolders if needed, checks that it is safe,
 * takes the lock and opens (or creates) state.db. NULL with a message in err:
 * 409 "Locked" ("another mldeck runtime (pid N) holds the lock on HOME"), 500
 * "UnsafeHome", "CorruptState" (state.db unreadable: never replaced) or
 * "StorageError" (the message carries the system's reason). */
struct store *store_open(const char *home, struct error *err);
void store_close(struct store *s); /* releases the lock; NULL is a no-op */
const char *store_home(const struct store *s);
/* The home's directory descriptor (owned by the store), for files created in it
 * with openat and friends. */
int store_dirfd(const struct store *s);

/* Loads the workspace from its rows; on a new home, a new empty workspace named
 * default_name (migrating HOME/state.json first when an older mldeck left one).
 * The workspace has no recorded changes. A corrupt row or file is an error
 * (500 "CorruptState", never silently replaced). */
struct workspace *store_load(struct store *s, const char *default_name, struct error *err);
/* One line for the log about what store_load did beyond loading (a migration),
 * or NULL. Valid until the next store_load. */
const char *store_notice(const struct store *s);

/* Persists the rows ws recorded as changed (workspace_changes; every row when
 * workspace_changes_lost) in one transaction, then clears ws's changes.
 * -1 with err on failure: nothing was written, ws keeps its changes, and the
 * caller must roll its in-memory change back (e.g. store_load again). */
int store_commit(struct store *s, struct workspace *ws, struct error *err);

/* The generic form: rows of any kind. value NULL deletes the row (and its records). */
struct store_row {
	const char *kind;  /* "endpoints" */
	const char *key;   /* "ep1", "ep1/blue": no NUL, at most 1024 bytes */
	const char *value; /* JSON text, or NULL to delete */
};
int store_write(struct store *s, const struct store_row *rows, size_t n, struct error *err);
/* Calls fn for every row of kind, in key order; fn returns non-zero to stop. 0 or -1. */
typedef int (*store_row_fn)(void *ctx, const char *key, const char *value);
int store_rows(struct store *s, const char *kind, store_row_fn fn, void *ctx, struct error *err);

/* Appends one record to the log of (kind, key), durable on return; *seq gets its
 * number (1, 2, ... per key). 0 or -1. */
int store_append(struct store *s, const char *kind, const char *key, const char *value,
		 int64_t *seq, struct error *err);
/* Calls fn for each record of (kind, key) with seq > after, oldest first; fn
 * returns non-zero to stop. The count of calls, or -1. */
typedef int (*store_record_fn)(void *ctx, int64_t seq, const char *value);
long store_records(struct store *s, const char *kind, const char *key, int64_t after,
		   store_record_fn fn, void *ctx, struct error *err);
/* Deletes the records of (kind, key) with seq <= upto (INT64_MAX: all). 0 or -1. */
int store_records_drop(struct store *s, const char *kind, const char *key, int64_t upto,
		       struct error *err);

/* Row writes since store_open (rows put or deleted), for tests and statistics. */
uint64_t store_rows_written(const struct store *s);

/* Reads HOME/admin.key, creating it (mode 0600, 32 random bytes as base64url)
 * on first start. buf receives the key, NUL-terminated. */
int store_admin_key(struct store *s, char *buf, size_t len, struct error *err);

/* Writes len bytes to HOME/NAME atomically (a temporary in HOME/tmp, fsync,
 * rename, fsync of the home), mode as given. name is one path component. */
int store_write_file(struct store *s, const char *name, const void *data, size_t len, int mode,
		     struct error *err);

#endif
