/* profile.c: reading config.ini with inih, selecting a profile, `profile use`. */
#include "api/profile.h"
#include "state/file.h"
#include "state/store.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROFILE_FILE_MAX (1 << 20) /* config files past 1 MiB are refused */

/* Parser state handed to the inih callback. */
struct profile_parse {
	struct profile_set *set;
	char msg[400]; /* the first error, without the line number */
};

/* One key of a [profile NAME] section: where it goes and how it is checked. */
struct profile_key {
	const char *name;
	size_t offset;
	size_t size;
	int (*check)(const char *value, char *msg, size_t len);
};

static int profile_check_backend(const char *v, char *msg, size_t len)
{
	if (strcmp(v, "local") == 0 || strcmp(v, "azureml") == 0)
		return 0;
	snprintf(msg, len, "backend must be local or azureml, not \"%s\"", v);
	return -1;
}

int profile_url_is_ssh(const char *url)
{
	return strncmp(url, "ssh://", 6) == 0;
}

int profile_readonly(const struct profile *p, int flag)
{
	return flag || (p != NULL && p->readonly);
}

/* ssh://[user@]host[:port][/]: the form OpenSSH takes as a destination. Only
 * plain characters, so nothing reaches ssh that it could read as an option. */
static int profile_ssh_url_ok(const char *v)
{
	static const char plain[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	const char *h = v + 6, *at = strchr(h, '@');
	size_t n;

	if (at != NULL) {
		n = (size_t)(at - h);
		if (n == 0 || strspn(h, plain) != n || h[0] == '-')
			return 0;
		h = at + 1;
	}
	if (h[0] == '[') {
		n = strspn(h + 1, "0123456789abcdefABCDEF:.");
		if (n == 0 || h[1 + n] != ']')
			return 0;
		h += n + 2;
	} else {
		n = strspn(h, plain);
		if (n == 0 || h[0] == '-')
			return 0;
		h += n;
	}
	if (h[0] == ':') {
		n = strspn(h + 1, "0123456789");
		if (n == 0 || n > 5 || strtol(h + 1, NULL, 10) > 65535)
			return 0;
		h += n + 1;
	}
	return strcmp(h, "") == 0 || strcmp(h, "/") == 0;
}

static int profile_check_url(const char *v, char *msg, size_t len)
{
	if (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0)
		return 0;
	if (profile_url_is_ssh(v) && profile_ssh_url_ok(v))
		return 0;
	if (profile_url_is_ssh(v))
		snprintf(msg, len, "url must be ssh://[user@]host[:port], not \"%s\"", v);
	else
		snprintf(msg, len, "url must start with http://, https:// or ssh://, not \"%s\"",
			 v);
	return -1;
}

static int profile_check_any(const char *v, char *msg, size_t len)
{
	(void)v;
	(void)msg;
	(void)len;
	return 0;
}

#define PROFILE_FIELD(f) offsetof(struct profile, f), sizeof(((struct profile *)0)->f)
static const struct profile_key profile_keys[] = {
    {"backend", PROFILE_FIELD(backend), profile_check_backend},
    {"url", PROFILE_FIELD(url), profile_check_url},
    {"home", PROFILE_FIELD(home), profile_check_any},
    {"admin_key_file", PROFILE_FIELD(admin_key_file), profile_check_any},
    {"ca_file", PROFILE_FIELD(ca_file), profile_check_any},
    {"workspace", PROFILE_FIELD(workspace), profile_check_any},
    {"subscription", PROFILE_FIELD(subscription), profile_check_any},
    {"resource_group", PROFILE_FIELD(resource_group), profile_check_any},
    {"theme", PROFILE_FIELD(theme), profile_check_any},
    {"tenant", PROFILE_FIELD(tenant), profile_check_any},
    {"connect_to", PROFILE_FIELD(connect_to), profile_check_any},
    {"remote_mldeck", PROFILE_FIELD(remote_mldeck), profile_check_any},
};

/* Profile names: 1-63 of letters, digits, '-', '_' and '.'. */
static int profile_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= PROFILE_NAME_MAX)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static int profile_bool(const char *v, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

int profile_config_path(char *buf, size_t len)
{
	const char *v = getenv("XDG_CONFIG_HOME");
	int n;

	if (v != NULL && v[0] == '/')
		n = snprintf(buf, len, "%s/mldeck/config.ini", v);
	else if ((v = getenv("HOME")) != NULL && v[0] != '\0')
		n = snprintf(buf, len, "%s/.config/mldeck/config.ini", v);
	else
		return -1;
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void profile_defaults(struct profile *p, const char *name)
{
	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->backend, sizeof p->backend, "local");
	snprintf(p->url, sizeof p->url, "http://127.0.0.1:5800");
	snprintf(p->workspace, sizeof p->workspace, "local");
	p->embedded = -1; /* unset: decided in profile_finish */
}

/* The profile of that name in the set, created on first mention. */
static struct profile *profile_slot(struct profile_set *set, const char *name, char *msg,
				    size_t len)
{
	for (size_t i = 0; i < set->count; i++)
		if (strcmp(set->items[i].name, name) == 0)
			return &set->items[i];
	if (set->count >= PROFILE_MAX) {
		snprintf(msg, len, "too many profiles (at most %d)", PROFILE_MAX);
		return NULL;
	}
	profile_defaults(&set->items[set->count], name);
	return &set->items[set->count++];
}

/* "unknown key" with every key a profile knows, from the table. */
static void profile_unknown_key(const char *key, char *msg, size_t len)
{
	size_t n = (size_t)snprintf(msg, len, "unknown key \"%s\" in a profile (known: ", key);

	for (size_t i = 0; i < sizeof profile_keys / sizeof profile_keys[0] && n < len; i++)
		n += (size_t)snprintf(msg + n, len - n, "%s, ", profile_keys[i].name);
	if (n < len)
		snprintf(msg + n, len - n, "readonly, embedded)");
}

static int profile_set_key(struct profile *p, const char *key, const char *value, char *msg,
			   size_t len)
{
	if (strcmp(key, "readonly") == 0 || strcmp(key, "embedded") == 0) {
		if (profile_bool(value, key[0] == 'r' ? &p->readonly : &p->embedded) == 0)
			return 0;
		snprintf(msg, len, "%s must be true or false, not \"%s\"", key, value);
		return -1;
	}
	for (size_t i = 0; i < sizeof profile_keys / sizeof profile_keys[0]; i++) {
		const struct profile_key *k = &profile_keys[i];
		if (strcmp(k->name, key) != 0)
			continue;
		if (k->check(value, msg, len) < 0)
			return -1;
		if (strlen(value) >= k->size) {
			snprintf(msg, len, "%s is too long (at most %zu characters)", key,
				 k->size - 1);
			return -1;
		}
		snprintf((char *)p + k->offset, k->size, "%s", value);
		return 0;
	}
	profile_unknown_key(key, msg, len);
	return -1;
}

static int profile_mldeck_key(struct profile_set *set, const char *key, const char *value,
			      char *msg, size_t len)
{
	if (strcmp(key, "default_profile") != 0) {
		snprintf(msg, len, "unknown key \"%s\" in [mldeck] (known: default_profile)", key);
		return -1;
	}
	if (!profile_name_ok(value)) {
		snprintf(msg, len, "default_profile \"%s\" is not a valid profile name", value);
		return -1;
	}
	snprintf(set->default_profile, sizeof set->default_profile, "%s", value);
	return 0;
}

/* inih callback: 1 to go on, 0 to record an error on this line. */
static int profile_handler(void *user, const char *section, const char *key, const char *value)
{
	struct profile_parse *pp = user;
	char msg[sizeof pp->msg] = "";
	int rc;

	if (strcmp(section, "mldeck") == 0) {
		rc = profile_mldeck_key(pp->set, key, value, msg, sizeof msg);
	} else if (strncmp(section, "profile ", 8) == 0) {
		const char *name = section + 8;
		while (*name == ' ')
			name++;
		struct profile *p = NULL;
		if (!profile_name_ok(name))
			snprintf(msg, sizeof msg,
				 "bad profile name \"%s\" (letters, digits, - _ .)", name);
		else
			p = profile_slot(pp->set, name, msg, sizeof msg);
		rc = p != NULL ? profile_set_key(p, key, value, msg, sizeof msg) : -1;
	} else {
		snprintf(msg, sizeof msg,
			 "unknown section [%s] (expected [mldeck] or [profile NAME])", section);
		rc = -1;
	}
	if (rc < 0 && pp->msg[0] == '\0')
		snprintf(pp->msg, sizeof pp->msg, "%s", msg);
	return rc < 0 ? 0 : 1;
}

/* "~/x" -> "$HOME/x" in place (left alone when it would not fit). */
static void profile_expand_tilde(char *path, size_t len)
{
	const char *home = getenv("HOME");
	char buf[PROFILE_PATH_MAX];

	if (strncmp(path, "~/", 2) != 0 || home == NULL || home[0] == '\0')
		return;
	int n = snprintf(buf, sizeof buf, "%s%s", home, path + 1);
	if (n > 0 && (size_t)n < len && (size_t)n < sizeof buf)
		memcpy(path, buf, (size_t)n + 1);
}

/* Adds the built-in "local" unless the file defined one; fills default homes. */
static void profile_finish(struct profile_set *set)
{
	char home[PROFILE_PATH_MAX] = "";

	if (profile_find(set, "local") == NULL && set->count < PROFILE_MAX) {
		memmove(&set->items[1], &set->items[0], set->count * sizeof set->items[0]);
		profile_defaults(&set->items[0], "local");
		set->items[0].builtin = 1;
		set->count++;
	}
	store_default_home(home, sizeof home);
	for (size_t i = 0; i < set->count; i++) {
		struct profile *p = &set->items[i];
		profile_expand_tilde(p->admin_key_file, sizeof p->admin_key_file);
		profile_expand_tilde(p->ca_file, sizeof p->ca_file);
		/* only "local" (built in, or redefined in the file) by default */
		if (p->embedded < 0)
			p->embedded =
			    strcmp(p->name, "local") == 0 && strcmp(p->backend, "local") == 0;
		if (profile_url_is_ssh(p->url))
			continue; /* home is on the remote host: its ~, its default */
		profile_expand_tilde(p->home, sizeof p->home);
		if (strcmp(p->backend, "local") == 0 && p->home[0] == '\0')
			snprintf(p->home, sizeof p->home, "%s", home);
	}
}

int profile_load(struct profile_set *set, const char *path, struct error *err)
{
	struct profile_parse pp = {set, ""};

	memset(set, 0, sizeof *set);
	if (path != NULL)
		snprintf(set->path, sizeof set->path, "%s", path);
	else if (profile_config_path(set->path, sizeof set->path) < 0)
		set->path[0] = '\0';
	struct stat st;
	if (set->path[0] != '\0' && stat(set->path, &st) == 0) {
		set->file_exists = 1;
		if (st.st_size > PROFILE_FILE_MAX)
			return error_set(err, 400, "BadConfig", "%s: file is over 1 MiB",
					 set->path);
		int line = ini_parse(set->path, profile_handler, &pp);
		if (line == -1)
			return error_set(err, 400, "BadConfig", "%s: cannot open: %s", set->path,
					 strerror(errno));
		if (line < 0)
			return error_set(err, 500, "NoMemory", "%s: out of memory", set->path);
		if (line > 0)
			return error_set(err, 400, "BadConfig", "%s:%d: %s", set->path, line,
					 pp.msg[0] ? pp.msg
						   : "syntax error (expected key = value)");
	}
	profile_finish(set);
	return 0;
}

const struct profile *profile_find(const struct profile_set *set, const char *name)
{
	for (size_t i = 0; i < set->count; i++)
		if (strcmp(set->items[i].name, name) == 0)
			return &set->items[i];
	return NULL;
}

const struct profile *profile_select(const struct profile_set *set, const char *requested,
				     struct error *err)
{
	const char *name = requested;
	const char *from = "--profile";

	if (name == NULL || name[0] == '\0') {
		name = getenv("MLDECK_PROFILE");
		from = "MLDECK_PROFILE";
	}
	if (name == NULL || name[0] == '\0') {
		name = set->default_profile;
		from = "default_profile";
	}
	if (name == NULL || name[0] == '\0')
		name = "local";
	const struct profile *p = profile_find(set, name);
	if (p == NULL)
		error_set(err, 404, "NotFound", "no profile \"%s\" (from %s) in %s", name, from,
			  set->path[0] ? set->path : "the configuration");
	return p;
}

/* Reads a whole (small) file; *data NULL and 0 when it does not exist. */
static int profile_read_file(const char *path, char **data, size_t *len, struct error *err)
{
	*len = 0;
	*data = file_read(path, PROFILE_FILE_MAX, len);
	if (*data != NULL || errno == ENOENT)
		return 0;
	if (errno == EFBIG)
		return error_set(err, 400, "BadConfig", "%s: cannot read (or over 1 MiB)", path);
	return error_set(err, 400, "BadConfig", "%s: cannot open: %s", path, strerror(errno));
}

static int profile_write_atomic(const char *path, const char *data, size_t len, struct error *err)
{
	if (file_write_atomic(path, data, len, 0644) < 0)
		return error_set(err, 400, "BadConfig", "cannot write %s: %s", path,
				 strerror(errno));
	return 0;
}

/* Appends n bytes to a buffer sized by the caller to always fit. */
static void profile_put(char *out, size_t *o, const char *s, size_t n)
{
	memcpy(out + *o, s, n);
	*o += n;
}

/* Is this line "default_profile = ..." (any spacing)? */
static int profile_is_default_line(const char *line, size_t n)
{
	static const char key[] = "default_profile";
	size_t i = 0;

	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (n - i < sizeof key - 1 || strncmp(line + i, key, sizeof key - 1) != 0)
		return 0;
	i += sizeof key - 1;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i < n && (line[i] == '=' || line[i] == ':');
}

/* The section a "[...]" line opens, or NULL (name copied into buf). */
static const char *profile_section_of(const char *line, size_t n, char *buf, size_t len)
{
	size_t i = 0;

	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= n || line[i] != '[')
		return NULL;
	const char *end = memchr(line + i, ']', n - i);
	if (end == NULL)
		return NULL;
	snprintf(buf, len, "%.*s", (int)(end - line - i - 1), line + i + 1);
	return buf;
}

/* The rewritten text: default_profile replaced or added in [mldeck]. */
static char *profile_rewrite(const char *in, size_t len, const char *name, size_t *out_len)
{
	char setting[PROFILE_NAME_MAX + 32], sec[128];
	int sn = snprintf(setting, sizeof setting, "default_profile = %s\n", name);
	char *out = malloc(len + 2 * (size_t)sn + 16);
	size_t o = 0;
	int in_mldeck = 0, done = 0, seen = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(in + i, '\n', len - i);
		size_t n = nl != NULL ? (size_t)(nl - (in + i)) + 1 : len - i;
		const char *s = profile_section_of(in + i, n, sec, sizeof sec);
		if (s != NULL) {
			if (in_mldeck && !done)
				profile_put(out, &o, setting, (size_t)sn), done = 1;
			in_mldeck = strcmp(s, "mldeck") == 0;
			seen |= in_mldeck;
		}
		if (in_mldeck && !done && profile_is_default_line(in + i, n)) {
			profile_put(out, &o, setting, (size_t)sn);
			done = 1;
		} else {
			profile_put(out, &o, in + i, n);
			if (nl == NULL && n > 0)
				profile_put(out, &o, "\n", 1);
		}
		i += n;
	}
	if (in_mldeck && !done)
		profile_put(out, &o, setting, (size_t)sn), done = 1;
	if (!seen) {
		/* No [mldeck] section: put one first, so it is easy to find. */
		size_t head = 9 + (size_t)sn + (len > 0 ? 1 : 0);
		memmove(out + head, out, o);
		memcpy(out, "[mldeck]\n", 9);
		memcpy(out + 9, setting, (size_t)sn);
		if (len > 0)
			out[9 + sn] = '\n';
		o += head;
	}
	*out_len = o;
	return out;
}

int profile_use(const char *path, const char *name, struct error *err)
{
	struct profile_set *set = calloc(1, sizeof *set);
	char *data = NULL, *out = NULL;
	size_t len = 0, out_len = 0;
	int rc = -1;

	if (set == NULL)
		return error_set(err, 500, "NoMemory", "out of memory");
	if (profile_load(set, path, err) < 0)
		goto out;
	if (set->path[0] == '\0') {
		error_set(err, 400, "BadConfig",
			  "no configuration path (set HOME or XDG_CONFIG_HOME)");
		goto out;
	}
	if (profile_find(set, name) == NULL) {
		error_set(err, 404, "NotFound", "no profile \"%s\" in %s", name, set->path);
		goto out;
	}
	if (profile_read_file(set->path, &data, &len, err) < 0)
		goto out;
	out = profile_rewrite(data != NULL ? data : "", len, name, &out_len);
	if (out == NULL) {
		error_set(err, 500, "NoMemory", "out of memory");
		goto out;
	}
	rc = profile_write_atomic(set->path, out, out_len, err);
out:
	free(out);
	free(data);
	free(set);
	return rc;
}
