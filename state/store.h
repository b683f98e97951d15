/*
 * store.h: the crash-safe home of one runtime ($MLDECK_HOME).
 *
 * Layout: HOME/state.json (the workspace document, see codec.h), HOME/lock
 * (fcntl lock held while open), HOME/admin.key (0600), HOME/models/NAME/V/...
 * (artifacts, see artifact.h), HOME/tmp/ (uploads in progress), HOME/logs/.
 *
 * store_save writes state.json.tmp, fsyncs it, renames it over state.json and
 * fsyncs the directory: after it returns 0 the state survives kill -9 and power
 * loss; a crash at any point leaves either the old or the new file whole.
 * Single writer: the lock makes a second runtime on the same home fail.
 */
#ifndef STATE_STORE_H
#define STATE_STORE_H

#include <sys/types.h>

#include "state/error.h"
#include "state/workspace.h"

struct store;

/* The default home: $MLDECK_HOME, else $XDG_DATA_HOME/mldeck (when absolute, as
 * the XDG spec asks), else $HOME/.local/share/mldeck. 0, or -1 when none can be
 * formed or it does not fit. The runtime and every client agree through this. */
int store_default_home(char *buf, size_t len);

/* Creates HOME (0700) and its subfolders if needed and takes the lock.
 * NULL with a message in err (e.g. "another mldeck runtime (pid N) is using HOME"). */
struct store *store_open(const char *home, struct error *err);
void store_close(struct store *s); /* releases the lock; NULL is a no-op */
const char *store_home(const struct store *s);

/* Loads state.json, or a new empty workspace named default_name when absent.
 * A corrupt file is an error (never silently replaced). */
struct workspace *store_load(struct store *s, const char *default_name, struct error *err);
int store_save(struct store *s, const struct workspace *ws, struct error *err);

/* Reads HOME/admin.key, creating it (mode 0600, 32 random bytes as base64url)
 * on first start. buf receives the key, NUL-terminated. */
int store_admin_key(struct store *s, char *buf, size_t len, struct error *err);

/* mkdir -p: missing parents 0700, the last component with mode. 0 or -1
 * (errno). */
int store_mkdirs(const char *path, mode_t mode);

/* Writes len bytes to path atomically (tmp + fsync + rename + fsync dir). */
int store_write_atomic(const char *path, const void *data, size_t len, int mode,
		       struct error *err);

#endif
