/* pyenv.c: image -> interpreter, and the conda file's dependencies (pyenv.h). */
#include "runtime/pyenv.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <ini.h>

#include "state/yaml.h"

#define CHECK_TIMEOUT_MS 30000
#define OUTPUT_MAX (256 * 1024)
#define DEPS_MAX 512

extern char **environ;

/* ---- the interpreter ---------------------------------------------------- */

struct image_map {
	const char *image;
	char section[512]; /* the current [image "..."] pattern, or "" outside one */
	int in_image;
	char python[PATH_MAX];
	int found;
};

static int image_entry(void *user, const char *section, const char *name, const char *value)
{
	struct image_map *m = user;
	char pattern[512];
	size_t n;

	if (strncmp(section, "image \"", 7) != 0)
		return 1; /* other sections belong to others */
	n = strlen(section + 7);
	if (n == 0 || section[7 + n - 1] != '"' || n - 1 >= sizeof pattern)
		return 0;
	memcpy(pattern, section + 7, n - 1);
	pattern[n - 1] = '\0';
	if (strcmp(name, "python") != 0)
		return 0;
	if (value[0] != '/')
		return 0;
	if (!m->found && fnmatch(pattern, m->image, 0) == 0) {
		snprintf(m->python, sizeof m->python, "%s", value);
		m->found = 1;
	}
	return 1;
}

int pyenv_interpreter(const char *home, const char *image, char *buf, size_t len,
		      struct error *err)
{
	struct image_map m;
	char path[PATH_MAX];
	int line;

	memset(&m, 0, sizeof m);
	m.image = image != NULL ? image : "";
	if (snprintf(path, sizeof path, "%s/runtime.ini", home) >= (int)sizeof path)
		return error_set(err, 500, "InternalError", "home path too long");
	line = ini_parse(path, image_entry, &m);
	if (line > 0)
		return error_set(err, 400, "ConfigError",
				 "%s line %d: expected [image \"PATTERN\"] sections with python = "
				 "/absolute/path",
				 path, line);
	snprintf(buf, len, "%s", m.found ? m.python : PYENV_DEFAULT_PYTHON);
	return 0;
}

/* ---- the conda file ----------------------------------------------------- */

/* A requirement: a name and an optional pin ("1.19.4"). */
struct dep {
	char name[128];
	char pin[64];
	const char *source; /* "conda" or "pip" */
};

struct report {
	engine_log_fn log;
	void *ctx;
};

static void say(const struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const struct report *r, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (r->log != NULL)
		r->log(r->ctx, line);
}

static int provided(const char *name)
{
	static const char *const ours[] = {"python",	"pip", "setuptools", "wheel",
					   "azureml-defaults", "azureml-inference-server-http"};

	for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
		if (strcasecmp(name, ours[i]) == 0)
			return 1;
	return 0;
}

/* Splits "channel::name[extras]==1.0" (pip: ==, ~=, >=; conda: =) into d.
 * 0, or -1 when it is not a package requirement (an option, a URL). */
static int dep_parse(const char *spec, const char *source, struct dep *d)
{
	const char *s = strstr(spec, "::") != NULL ? strstr(spec, "::") + 2 : spec;
	size_t n = strcspn(s, "[=<>!~ ;@");

	memset(d, 0, sizeof *d);
	d->source = source;
	if (n == 0 || n >= sizeof d->name || s[0] == '-' || strstr(s, "://") != NULL)
		return -1;
	memcpy(d->name, s, n);
	for (s += n; *s == '[' || *s == ' ';)
		s = *s == '[' && strchr(s, ']') != NULL ? strchr(s, ']') + 1 : s + 1;
	if (s[0] == '=' && s[1] == '=')
		s += 2;
	else if (s[0] == '=')
		s += 1;
	else
		return 0; /* no pin, or a range: presence only */
	n = strcspn(s, " ;,=*");
	if (n < sizeof d->pin && s[n] != '*')
		memcpy(d->pin, s, n);
	return 0;
}

/* The conda file's dependencies into deps; the python pin into python. */
static int deps_of(const cJSON *doc, struct dep *deps, size_t *n, char *python, size_t plen,
		   const struct report *r)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "dependencies"), *it, *p;

	*n = 0;
	cJSON_ArrayForEach(it, list)
	{
		const cJSON *pip = cJSON_GetObjectItemCaseSensitive(it, "pip");
		struct dep d;

		if (cJSON_IsString(it)) {
			if (dep_parse(it->valuestring, "conda", &d) < 0)
				say(r, "[environment] not checked: %s", it->valuestring);
			else if (strcasecmp(d.name, "python") == 0)
				snprintf(python, plen, "%s", d.pin);
			else if (!provided(d.name) && *n < DEPS_MAX)
				deps[(*n)++] = d;
			continue;
		}
		cJSON_ArrayForEach(p, pip)
		{
			if (!cJSON_IsString(p) || dep_parse(p->valuestring, "pip", &d) < 0)
				say(r, "[environment] not checked: %s",
				    cJSON_IsString(p) ? p->valuestring : "(not text)");
			else if (!provided(d.name) && *n < DEPS_MAX)
				deps[(*n)++] = d;
		}
	}
	return list == NULL || cJSON_IsArray(list) ? 0 : -1;
}

/* ---- asking the interpreter --------------------------------------------- */

static const char check_script[] =
	"import json, sys, importlib.util\n"
	"try:\n"
	"    import importlib.metadata as md\n"
	"except ImportError:\n"
	"    md = None\n"
	"out = {'python': '%d.%d' % sys.version_info[:2], 'found': {}}\n"
	"for name in json.load(sys.stdin):\n"
	"    v = None\n"
	"    try:\n"
	"        v = md.version(name) if md else None\n"
	"    except Exception:\n"
	"        pass\n"
	"    if v is None:\n"
	"        try:\n"
	"            if importlib.util.find_spec(name.replace('-', '_').lower()):\n"
	"                v = ''\n"
	"        except Exception:\n"
	"            pass\n"
	"    out['found'][name] = v\n"
	"print(json.dumps(out))\n";

static int spawn_check(const char *python, int in[2], int out[2], pid_t *pid)
{
	char *argv[] = {(char *)python, (char *)"-I", (char *)"-c", (char *)check_script, NULL};
	posix_spawn_file_actions_t fa;
	int rc;

	/* a socket for its stdin: send() with MSG_NOSIGNAL cannot raise SIGPIPE */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(pid, python, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	if (rc != 0) {
		close(in[1]);
		close(out[0]);
		errno = rc;
		return -1;
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads fd to EOF (bounded, with a deadline) into a heap string. */
static char *read_all(int fd, int64_t deadline)
{
	char *buf = malloc(OUTPUT_MAX + 1);
	size_t n = 0;

	while (buf != NULL && n < OUTPUT_MAX) {
		struct pollfd p = {fd, POLLIN, 0};
		int64_t left = deadline - now_ms();
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		r = read(fd, buf + n, OUTPUT_MAX - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			buf[n] = '\0';
			return buf;
		}
		n += (size_t)r;
	}
	free(buf);
	return NULL;
}

/* Runs the check script; the parsed answer, or NULL with err. */
static cJSON *ask(const char *python, const struct dep *deps, size_t n, struct error *err)
{
	cJSON *names = cJSON_CreateArray(), *answer = NULL;
	int in[2], out[2], status = 0;
	char *req, *text;
	pid_t pid;

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(names, cJSON_CreateString(deps[i].name));
	req = cJSON_PrintUnformatted(names);
	cJSON_Delete(names);
	if (req == NULL || spawn_check(python, in, out, &pid) < 0) {
		error_set(err, 400, "EnvironmentError", "cannot run %s: %s", python,
			  req == NULL ? "out of memory" : strerror(errno));
		free(req);
		return NULL;
	}
	if (send(in[1], req, strlen(req), MSG_NOSIGNAL) < 0) {
		/* the child died early: its exit status says more below */
	}
	close(in[1]);
	free(req);
	text = read_all(out[0], now_ms() + CHECK_TIMEOUT_MS);
	close(out[0]);
	if (text == NULL)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (text != NULL && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		answer = cJSON_Parse(text);
	free(text);
	if (answer == NULL)
		error_set(err, 400, "EnvironmentError",
			  "%s could not check the environment's packages (is it a Python 3.8+ "
			  "interpreter?)",
			  python);
	return answer;
}

/* Logs warnings; appends each missing package to missing. */
static void judge(const struct dep *deps, size_t n, const cJSON *answer, const char *python_pin,
		  char *missing, size_t mlen, const struct report *r)
{
	const cJSON *found = cJSON_GetObjectItemCaseSensitive(answer, "found");
	const cJSON *py = cJSON_GetObjectItemCaseSensitive(answer, "python");
	size_t m = 0;

	if (python_pin[0] && cJSON_IsString(py) &&
	    strncmp(python_pin, py->valuestring, strlen(py->valuestring)) != 0)
		say(r, "[environment] warning: the conda file asks for python %s; the interpreter "
		       "is %s",
		    python_pin, py->valuestring);
	for (size_t i = 0; i < n; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(found, deps[i].name);

		if (!cJSON_IsString(v)) {
			say(r, "[environment] missing: %s (%s)", deps[i].name, deps[i].source);
			if (m < mlen)
				m += (size_t)snprintf(missing + m, mlen - m, "%s%s (%s)",
						      m ? ", " : "", deps[i].name, deps[i].source);
		} else if (deps[i].pin[0] && v->valuestring[0] &&
			   strcmp(deps[i].pin, v->valuestring) != 0) {
			say(r, "[environment] warning: %s %s asked for, %s installed", deps[i].name,
			    deps[i].pin, v->valuestring);
		} else {
			say(r, "[environment] found: %s %s", deps[i].name, v->valuestring);
		}
	}
}

int pyenv_check(const char *python, const char *conda_text, engine_log_fn log, void *ctx,
		struct error *err)
{
	struct report r = {log, ctx};
	struct dep *deps = calloc(DEPS_MAX, sizeof *deps);
	char pin[64] = "", missing[1024] = "";
	cJSON *doc = NULL, *answer = NULL;
	size_t n = 0;
	int rc = -1;

	if (deps == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	doc = conda_text[0] == '{' ? cJSON_Parse(conda_text)
				   : yaml_to_json(conda_text, strlen(conda_text), err);
	if (doc == NULL || deps_of(doc, deps, &n, pin, sizeof pin, &r) < 0) {
		error_set(err, 400, "EnvironmentError",
			  "the environment's condaFile is not a conda environment file");
		goto out;
	}
	say(&r, "[environment] checking %zu package(s) of the conda file in %s", n, python);
	if ((answer = ask(python, deps, n, err)) == NULL)
		goto out;
	judge(deps, n, answer, pin, missing, sizeof missing, &r);
	if (missing[0] != '\0')
		error_set(err, 400, "EnvironmentError",
			  "the environment's conda file asks for packages %s does not have: %s. "
			  "Install them for that interpreter, or map the image to one that has "
			  "them in runtime.ini ([image \"PATTERN\"] python = PATH)",
			  python, missing);
	else
		rc = 0;
out:
	cJSON_Delete(doc);
	cJSON_Delete(answer);
	free(deps);
	return rc;
}
