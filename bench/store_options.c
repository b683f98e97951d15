/*
 * store_options.c: the two persistence designs of issue 7 item 12, measured alone
 * (no HTTP, no runtime): the latency of one durable single-row change in a workspace
 * of ROWS rows of about 600 bytes (an endpoint's JSON).
 *
 *   sqlite    SQLite in WAL mode, synchronous=FULL: one transaction per change
 *             (INSERT OR REPLACE of one row of a WITHOUT ROWID table keyed by kind+key)
 *   journal   an append-only file: one record appended and fdatasync()ed per change
 *             (compaction, which rewrites the live rows now and then, is not counted)
 *
 *   cc -O2 -o /tmp/store_options bench/store_options.c $(pkg-config --cflags --libs sqlite3)
 *   /tmp/store_options DIR [ROWS] [CHANGES]       # DIR on the disk the home would use
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *name, double *lat, int n)
{
	qsort(lat, (size_t)n, sizeof *lat, cmp);
	printf("%-8s median %.3f ms  p99 %.3f ms  max %.3f ms  (%d changes)\n", name, lat[n / 2],
	       lat[n * 99 / 100], lat[n - 1], n);
}

static void value(char *buf, size_t len, int i, int change)
{
	int n = snprintf(buf, len, "{\"name\":\"ep-%d\",\"change\":%d,\"pad\":\"", i, change);

	memset(buf + n, 'x', len - (size_t)n - 3);
	memcpy(buf + len - 3, "\"}", 3);
}

static int run_sqlite(const char *dir, int rows, int changes, double *lat)
{
	char path[4096], key[32], val[600];
	sqlite3 *db;
	sqlite3_stmt *put;

	snprintf(path, sizeof path, "%s/bench.db", dir);
	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE rows(kind TEXT, key TEXT, value TEXT, PRIMARY KEY(kind, key))"
			 " WITHOUT ROWID;",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO rows VALUES('endpoints', ?, ?)", -1,
			       &put, NULL) != SQLITE_OK)
		return fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db)), -1;
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (int i = 0; i < rows; i++) {
		snprintf(key, sizeof key, "ep-%d", i);
		value(val, sizeof val, i, 0);
		sqlite3_bind_text(put, 1, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(put, 2, val, -1, SQLITE_TRANSIENT);
		sqlite3_step(put);
		sqlite3_reset(put);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	for (int c = 0; c < changes; c++) {
		int i = rand() % (rows ? rows : 1);
		double t = now_ms();

		snprintf(key, sizeof key, "ep-%d", i);
		value(val, sizeof val, i, c + 1);
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		sqlite3_bind_text(put, 1, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(put, 2, val, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(put) != SQLITE_DONE ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			return fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db)), -1;
		sqlite3_reset(put);
		lat[c] = now_ms() - t;
	}
	sqlite3_finalize(put);
	sqlite3_close(db);
	return 0;
}

static int run_journal(const char *dir, int rows, int changes, double *lat)
{
	char path[4096], rec[640];
	int fd;

	snprintf(path, sizeof path, "%s/bench.journal", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (fd < 0)
		return perror(path), -1;
	for (int i = 0; i < rows; i++) {
		value(rec, 600, i, 0);
		if (write(fd, rec, strlen(rec)) < 0)
			return perror("write"), -1;
	}
	fsync(fd);
	for (int c = 0; c < changes; c++) {
		int i = rand() % (rows ? rows : 1);
		double t = now_ms();
		int n = snprintf(rec, sizeof rec, "put endpoints ep-%d ", i);

		value(rec + n, 600, i, c + 1);
		rec[n + 598] = '\n';
		if (write(fd, rec, (size_t)n + 599) < 0 || fdatasync(fd) < 0)
			return perror("append"), -1;
		lat[c] = now_ms() - t;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int rows = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5000;
	int changes = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 2000;
	double *lat;

	if (argc < 2 || changes < 1)
		return fprintf(stderr, "usage: %s DIR [ROWS] [CHANGES]\n", argv[0]), 2;
	lat = calloc((size_t)changes, sizeof *lat);
	printf("%d rows, %d single-row changes, each durable before the next\n", rows, changes);
	if (run_sqlite(argv[1], rows, changes, lat) == 0)
		report("sqlite", lat, changes);
	if (run_journal(argv[1], rows, changes, lat) == 0)
		report("journal", lat, changes);
	free(lat);
	return 0;
}
