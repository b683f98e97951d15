/* test_conns.c: a connection handed from one owner to another (the server's
 * fast lane to libmicrohttpd) keeps its guard entry: its age and place in
 * line, never shed in transit, dropped untouched when the hand-over fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <poll.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/conns.h"

struct pair {
	int ours, theirs; /* ours is what the guard watches; theirs sees a shutdown */
};

static struct sockaddr_in peer_addr(void)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static struct pair pair_new(void)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	return (struct pair){sv[0], sv[1]};
}

static void pair_close(struct pair p)
{
	close(p.ours);
	close(p.theirs);
}

/* 1 when the guard shut our end down (the other end reads EOF at once). */
static int was_shed(struct pair p)
{
	struct pollfd pfd = {p.theirs, POLLIN, 0};
	char c;

	return poll(&pfd, 1, 0) == 1 && recv(p.theirs, &c, 1, MSG_DONTWAIT) == 0;
}

static unsigned long held(struct conns *g)
{
	struct conns_stats st;

	conns_get_stats(g, &st);
	return st.open;
}

static void test_a_handed_over_connection_keeps_its_place_in_line(void **state)
{
	struct conns_limits lim = {.max = 16, .per_peer = 2};
	struct conns *g = conns_new(&lim, NULL);
	struct sockaddr_in sa = peer_addr();
	struct pair a = pair_new(), b = pair_new(), c = pair_new();
	struct conns_entry *ea, *eb, *ec;

	(void)state;
	ea = conns_open(g, a.ours, (struct sockaddr *)&sa);
	eb = conns_open(g, b.ours, (struct sockaddr *)&sa);
	conns_hand_over(g, ea);
	assert_ptr_equal(conns_adopt(g, a.ours, (struct sockaddr *)&sa), ea); /* the same entry */
	assert_int_equal(held(g), 2);
	/* a third from the peer: the oldest waiter (a, handed over after b was
	 * opened but older) makes room */
	ec = conns_open(g, c.ours, (struct sockaddr *)&sa);
	assert_true(was_shed(a));
	assert_false(was_shed(b));
	assert_false(was_shed(c));
	conns_close(g, ea);
	conns_close(g, eb);
	conns_close(g, ec);
	conns_free(g);
	pair_close(a);
	pair_close(b);
	pair_close(c);
}

static void test_a_connection_in_transit_is_shut_by_its_new_owner(void **state)
{
	struct conns_limits lim = {.max = 16, .per_peer = 1};
	struct conns *g = conns_new(&lim, NULL);
	struct sockaddr_in sa = peer_addr();
	struct pair a = pair_new(), b = pair_new();
	struct conns_entry *ea, *eb;

	(void)state;
	ea = conns_open(g, a.ours, (struct sockaddr *)&sa);
	conns_hand_over(g, ea);
	/* it makes room like any waiter (a flood of hand-overs must not lock
	 * newcomers out), but its descriptor is not touched in transit ... */
	eb = conns_open(g, b.ours, (struct sockaddr *)&sa);
	assert_false(was_shed(b));
	assert_false(was_shed(a));
	assert_int_equal(held(g), 1);
	/* ... the new owner, adopting it, shuts it */
	assert_ptr_equal(conns_adopt(g, a.ours, (struct sockaddr *)&sa), ea);
	assert_true(was_shed(a));
	assert_int_equal(conns_headers_done(ea), -1);
	conns_close(g, ea);
	conns_close(g, eb);
	conns_free(g);
	pair_close(a);
	pair_close(b);
}

static void test_a_failed_hand_over_is_dropped_untouched(void **state)
{
	struct conns_limits lim = {.max = 16, .per_peer = 16};
	struct conns *g = conns_new(&lim, NULL);
	struct sockaddr_in sa = peer_addr();
	struct pair a = pair_new(), b = pair_new();
	struct conns_entry *ea, *eb, *again;

	(void)state;
	/* refused by the new owner: taken back, nothing opened in its place */
	ea = conns_open(g, a.ours, (struct sockaddr *)&sa);
	conns_hand_over(g, ea);
	conns_take_back(g, a.ours);
	assert_int_equal(held(g), 0);
	conns_take_back(g, a.ours); /* nothing left to take: no-op */
	assert_int_equal(held(g), 0);
	assert_false(was_shed(a));
	/* never adopted, and its descriptor number comes back with a new
	 * connection: the stale entry goes, the new one is counted once */
	eb = conns_open(g, b.ours, (struct sockaddr *)&sa);
	conns_hand_over(g, eb);
	again = conns_open(g, b.ours, (struct sockaddr *)&sa);
	assert_int_equal(held(g), 1);
	assert_false(was_shed(b));
	/* and adoption then finds nothing handed: a new entry */
	conns_close(g, again);
	conns_free(g);
	pair_close(a);
	pair_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_handed_over_connection_keeps_its_place_in_line),
		cmocka_unit_test(test_a_connection_in_transit_is_shut_by_its_new_owner),
		cmocka_unit_test(test_a_failed_hand_over_is_dropped_untouched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
