/* request.c: request bodies from the demo directory's requests/. */
#include "ui/console/request.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/file.h"
#include "ui/console/demo.h"

static int request_cmp(const void *x, const void *y)
{
	return strcmp(x, y);
}

void request_list(struct request_files *f)
{
	char dir[PATH_MAX], sub[PATH_MAX];
	DIR *d;
	struct dirent *de;

	f->n = 0;
	if (demo_dir(dir, sizeof dir) < 0)
		return;
	snprintf(sub, sizeof sub, "%.4000s/requests", dir);
	d = opendir(sub);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && f->n < REQUEST_MAX_FILES) {
		size_t l = strlen(de->d_name);

		if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
			snprintf(f->path[f->n++], sizeof f->path[0], "%.400s/%.100s", sub,
				 de->d_name);
	}
	closedir(d);
	qsort(f->path, (size_t)f->n, sizeof f->path[0], request_cmp);
}

int request_for_endpoint(const struct request_files *f, const char *ep)
{
	for (int i = 0; i < f->n; i++) {
		const char *base = strrchr(f->path[i], '/');
		size_t n;

		base = base ? base + 1 : f->path[i];
		n = strlen(base) - 5;
		if (n > 0 && strncmp(ep, base, n) == 0)
			return i;
	}
	return 0;
}

char *request_read(const char *path)
{
	size_t n;

	return file_read(path, REQUEST_BODY_MAX, &n);
}
