/* names.c: the endpoint/deployment name rule, the asset name rule, versions. */
#include "state/names.h"

#include <ctype.h>
#include <string.h>

#include "state/resource.h"

static int is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
	return is_letter(c) || is_digit(c);
}

/* The reason NAME breaks the endpoint rule, or NULL when it is fine. */
static const char *name_problem(const char *name)
{
	size_t n;

	if (name == NULL || name[0] == '\0')
		return "is required";
	n = strnlen(name, RESOURCE_NAME_MAX + 1);
	if (n < 3)
		return "must be at least 3 characters";
	if (n > RESOURCE_NAME_MAX)
		return "must be at most 32 characters";
	if (!is_letter(name[0]))
		return "must start with a letter";
	for (size_t i = 1; i < n; i++) {
		char c = name[i];

		if (c == '-' && name[i - 1] == '-')
			return "must not contain two dashes in a row";
		if (c != '-' && !is_alnum(c))
			return "may contain only letters, digits and dashes";
	}
	if (name[n - 1] == '-')
		return "must not end with a dash";
	return NULL;
}

/* The reason S breaks "an alnum, then up to max-1 of alnum or extra". */
static const char *token_problem(const char *s, size_t max, const char *extra)
{
	size_t n;

	if (s == NULL || s[0] == '\0')
		return "is required";
	n = strnlen(s, max + 1);
	if (n > max)
		return "is too long";
	if (!is_alnum(s[0]))
		return "must start with a letter or digit";
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(s[i]) && strchr(extra, s[i]) == NULL)
			return "has a character that is not allowed";
	return NULL;
}

/* Prints at most a short, printable prefix of untrusted input. */
static void printable(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	for (; s != NULL && s[i] != '\0' && i + 1 < len && i < 40; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	buf[i] = '\0';
}

static int refuse(struct error *err, const char *field, const char *value, const char *why,
		  const char *rule)
{
	char shown[48];

	printable(value, shown, sizeof shown);
	return error_set(err, 400, "ValidationError", "%s '%s' %s (%s)", field, shown, why, rule);
}

int names_check(const char *name, const char *field, struct error *err)
{
	const char *why = name_problem(name);

	if (why == NULL)
		return 0;
	return refuse(err, field, name, why,
		      "3-32 characters: a letter, then letters, digits and single dashes, not "
		      "ending in a dash");
}

int names_check_asset(const char *name, const char *field, struct error *err)
{
	const char *why = token_problem(name, RESOURCE_ASSET_NAME_MAX, "-_");

	if (why == NULL)
		return 0;
	return refuse(err, field, name, why,
		      "1-255 characters: a letter or digit, then letters, digits, '-' and '_'");
}

int names_relative_inside(const char *p)
{
	const char *s = p;

	if (p == NULL || p[0] == '/' || p[0] == '\0')
		return 0;
	while (*s != '\0') {
		size_t n = strcspn(s, "/");

		if (n == 2 && s[0] == '.' && s[1] == '.')
			return 0;
		s += n;
		s += *s == '/';
	}
	return 1;
}

int names_check_version(const char *version, const char *field, struct error *err)
{
	const char *why = token_problem(version, RESOURCE_VERSION_MAX, "._-");

	if (why == NULL && strstr(version, "..") != NULL)
		why = "must not contain '..'";
	if (why == NULL)
		return 0;
	return refuse(err, field, version, why,
		      "1-64 characters: a letter or digit, then letters, digits, '.', '_' and "
		      "'-', never '..'");
}
