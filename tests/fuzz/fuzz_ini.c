/*
 * fuzz_ini: the two ini readers, profiles (api/profile.c over inih, from a
 * file) and themes (ui/console/theme.c, from text). The first byte picks
 * which. A rejected profile file names a line; a theme never has more
 * problems than it can list.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/profile.h"
#include "ui/console/theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void profiles(const uint8_t *data, size_t size)
{
	static char path[64];
	static struct profile_set set;
	struct error err;
	FILE *f;

	if (path[0] == '\0')
		snprintf(path, sizeof path, "/tmp/mldeck-fuzz-ini-%ld", (long)getpid());
	f = fopen(path, "wb");
	if (f == NULL)
		return;
	fwrite(data, 1, size, f);
	fclose(f);
	memset(&set, 0, sizeof set);
	if (profile_load(&set, path, &err) < 0 && err.message[0] == '\0')
		abort();
	if (set.count > PROFILE_MAX)
		abort();
}

static void theme(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct theme_problems pr;
	struct theme t;

	if (text == NULL)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&pr, 0, sizeof pr);
	theme_init_default(&t);
	theme_parse(text, &t, &pr);
	if (pr.count < 0 || pr.count > THEME_MAX_PROBLEMS)
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		profiles(data + 1, size - 1);
	else
		theme(data + 1, size - 1);
	return 0;
}
