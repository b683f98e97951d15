/*
 * request.h: request bodies for the Test screen and the bench key: the
 * files of the demo directory's requests/ (demo.h), and which one fits an
 * endpoint. Any thread (no shared state).
 */
#ifndef UI_CONSOLE_REQUEST_H
#define UI_CONSOLE_REQUEST_H

#define REQUEST_MAX_FILES 32
#define REQUEST_BODY_MAX (1024 * 1024)

struct request_files {
	char path[REQUEST_MAX_FILES][512];
	int n;
};

/* The .json files of DEMO_DIR/requests, sorted by name (n = 0 when there are none). */
void request_list(struct request_files *f);
/* The index of the file named like the endpoint (its stem is a prefix of
 * the endpoint's name: churn.json for churn-ep), else 0. */
int request_for_endpoint(const struct request_files *f, const char *ep);
/* A whole body (heap, NUL-terminated, at most REQUEST_BODY_MAX), or NULL
 * with errno set: never a cut body. */
char *request_read(const char *path);

#endif
