/*
 * test_server: the HTTP layer's listening sockets. After server_stop the TCP
 * port is free again (the console stops and restarts its embedded runtime on
 * the same port) and the Unix socket is gone; while it runs the Unix socket
 * is 0600 and answers like TCP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "runtime/server.h"

static void answer(void *ctx, const struct server_request *rq, struct server_response *rs)
{
	(void)ctx;
	(void)rq;
	server_reply_json(rs, 200, strdup("{}"));
}

/* 0 when a fresh socket can bind 127.0.0.1:port. */
static int bind_port(unsigned short port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int rc;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	close(fd);
	return rc;
}

/* The first line of an answer to GET / on the Unix socket at path. */
static void unix_status_line(const char *path, char *buf, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ssize_t n;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
}

static void test_stop_frees_the_port_and_the_socket(void **state)
{
	char dir[] = "/tmp/mldeck-test-server-XXXXXX", sock[64], line[64];
	struct server_options o = {.host = "127.0.0.1", .handler = answer, .threads = 1};
	struct error err = {0};
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof sock, "%s/s.sock", dir);
	o.spool_dir = dir;
	o.unix_path = sock;
	for (int round = 0; round < 2; round++) {
		struct server *s = server_start(&o, &err);
		assert_non_null(s);
		assert_string_equal(server_unix_path(s), sock);
		assert_int_equal(lstat(sock, &st), 0);
		assert_true(S_ISSOCK(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0600);
		unix_status_line(sock, line, sizeof line);
		assert_string_equal(line + 8, " 200 OK");
		unsigned short port = server_port(s);
		server_stop(s);
		assert_int_equal(bind_port(port), 0);
		assert_int_equal(lstat(sock, &st), -1);
		o.port = port; /* the next round takes the very same port again */
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stop_frees_the_port_and_the_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
