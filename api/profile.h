/*
 * profile.h: connection profiles from $XDG_CONFIG_HOME/mldeck/config.ini
 * (else ~/.config/mldeck/config.ini), parsed with inih. docs/profiles.md.
 *
 *   [mldeck]
 *   default_profile = NAME
 *   [profile NAME]
 *   backend = local | azureml
 *   url = http://... | https://... | ssh://[user@]host[:port]
 *   home, admin_key_file, workspace, subscription, resource_group, theme,
 *   remote_mldeck
 *   tenant (Entra ID tenant for `mldeck login` and the Azure CLI)
 *   ca_file (PEM CAs to trust instead of the system's, e.g. a TLS-inspecting
 *            proxy or `mldeck serve --tls`'s certificate; MLDECK_CA_FILE wins)
 *   connect_to (curl --connect-to rules "HOST:PORT:ADDR:PORT[,...]")
 *   readonly = true | false
 *   embedded = true | false   (may the console start the runtime in-process;
 *                              default: true for "local" only)
 *
 * On an ssh:// profile `home` is the runtime's home on the remote host (""
 * = the remote's default) and `remote_mldeck` the mldeck command there
 * (default "mldeck", found on the remote PATH); see api/transport.h.
 * A built-in profile "local" (backend local, url http://127.0.0.1:5800, the
 * runtime's default home, workspace local) is always present unless the file
 * defines its own. A profile_set is plain data: load it on one thread, then
 * read it from any. Errors name FILE:LINE and what is wrong.
 */
#ifndef API_PROFILE_H
#define API_PROFILE_H

#include <stddef.h>

#include "state/error.h"

#define PROFILE_NAME_MAX 64
#define PROFILE_PATH_MAX 1024
#define PROFILE_MAX 64

struct profile {
	char name[PROFILE_NAME_MAX];
	char backend[16]; /* "local" or "azureml" */
	char url[512];
	char home[PROFILE_PATH_MAX];	       /* local: runtime home ("" = default) */
	char admin_key_file[PROFILE_PATH_MAX]; /* "" = HOME/admin.key */
	char ca_file[PROFILE_PATH_MAX];        /* PEM bundle to trust for https ("" = system) */
	char workspace[PROFILE_NAME_MAX];
	char subscription[PROFILE_NAME_MAX];
	char resource_group[96];
	char theme[PROFILE_NAME_MAX];
	char tenant[PROFILE_NAME_MAX];	       /* azureml: Entra ID tenant */
	char connect_to[512];		       /* curl --connect-to rules */
	char remote_mldeck[PROFILE_PATH_MAX]; /* ssh://: the mldeck command there */
	int readonly;
	int embedded; /* the console may start the runtime in-process at url and home */
	int builtin;  /* 1 for the built-in "local" */
};

struct profile_set {
	char path[PROFILE_PATH_MAX]; /* the config file read (may not exist) */
	int file_exists;
	char default_profile[PROFILE_NAME_MAX]; /* "" when the file names none */
	struct profile items[PROFILE_MAX];
	size_t count;
};

/* 1 when url is an ssh:// URL (the profile is reached by api/transport.h). */
int profile_url_is_ssh(const char *url);
/* Is this profile read-only? The one answer both faces use: the --readonly
 * flag (flag != 0) or the profile's `readonly = true`. p may be NULL. */
int profile_readonly(const struct profile *p, int flag);

/* The config file path: $XDG_CONFIG_HOME/mldeck/config.ini, else
 * $HOME/.config/mldeck/config.ini. -1 when neither variable is usable. */
int profile_config_path(char *buf, size_t len);
/* The default home of a local profile is store_default_home() (state/store.h). */

/* Loads path (NULL: profile_config_path) into *set. A missing file is not an
 * error (only the built-in "local"). -1 with "FILE:LINE: reason" in err. */
int profile_load(struct profile_set *set, const char *path, struct error *err);
/* The profile called name, or NULL. */
const struct profile *profile_find(const struct profile_set *set, const char *name);
/* Selection: requested (--profile), else $MLDECK_PROFILE, else the file's
 * default_profile, else "local". NULL with a 404 naming the profile. */
const struct profile *profile_select(const struct profile_set *set, const char *requested,
				     struct error *err);
/* Rewrites [mldeck] default_profile = name in path (NULL: the default path),
 * creating file and directory if needed, preserving every other line.
 * Atomic (temp file + rename). The name must exist in the file or be "local". */
int profile_use(const char *path, const char *name, struct error *err);

#endif
