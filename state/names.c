/* names.c: Azure's resource-name rule and positive-integer versions. */
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

/* The reason NAME breaks the rule, or NULL when it is fine. */
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
		if (c != '-' && !is_letter(c) && !is_digit(c))
			return "may contain only letters, digits and dashes";
	}
	if (name[n - 1] == '-')
		return "must not end with a dash";
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

int names_check(const char *name, const char *field, struct error *err)
{
	const char *why = name_problem(name);
	char shown[48];

	if (why == NULL)
		return 0;
	printable(name, shown, sizeof shown);
	return error_set(err, 400, "ValidationError",
			 "%s '%s' %s (3-32 characters: a letter, then letters, digits and "
			 "single dashes, not ending in a dash)",
			 field, shown, why);
}

int names_check_version(const char *version, const char *field, struct error *err)
{
	char shown[48];
	size_t n;

	if (version == NULL || version[0] == '\0')
		return error_set(err, 400, "ValidationError", "%s is required", field);
	n = strnlen(version, RESOURCE_VERSION_MAX + 1);
	printable(version, shown, sizeof shown);
	if (n > RESOURCE_VERSION_MAX)
		return error_set(err, 400, "ValidationError", "%s '%s' must be at most %d digits",
				 field, shown, RESOURCE_VERSION_MAX);
	for (size_t i = 0; i < n; i++)
		if (!is_digit(version[i]))
			return error_set(err, 400, "ValidationError",
					 "%s '%s' must be a positive integer", field, shown);
	if (version[0] == '0')
		return error_set(err, 400, "ValidationError",
				 "%s '%s' must be a positive integer without leading zeros", field,
				 shown);
	return 0;
}
