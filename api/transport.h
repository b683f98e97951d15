/*
 * transport.h: how a profile's backend is reached, and the state of that way.
 *
 * http:// and https:// profiles are reached directly: their transport is
 * CONNECTED from the start and never changes (whether the server answers is
 * the client's business). ssh://[user@]host[:port] profiles are reached as
 * Docker reaches DOCKER_HOST=ssh://: a supervisor thread runs the system
 * OpenSSH client (the `ssh` on PATH, so the user's ssh config, agent,
 * known_hosts and ProxyJump apply; BatchMode, so it never prompts; host keys
 * are always checked) as
 *
 *   1. one ControlMaster connection:  ssh -M -S DIR/ctl -N DEST
 *   2. over it, the credential:       ssh -S DIR/ctl DEST
 *                                         REMOTE_MLDECK serve --connect-info [--home H]
 *      which prints the remote runtime's Unix socket and admin key;
 *   3. over it, the forward:          ssh -S DIR/ctl -O forward
 *                                         -L DIR/api.sock:REMOTE_SOCKET DEST
 *   4. GET /healthz through DIR/api.sock.
 *
 * When the remote socket is known beforehand (the profile's home is an
 * absolute path, or an earlier connection of this transport learned it) no
 * remote command runs: the master forwards at once (ssh -M ... -L
 * DIR/api.sock:REMOTE_SOCKET) and the credential comes through the socket
 * (GET /v1/connect-info, which the runtime answers to its own user only).
 * The remote command, which starts the user's login shell there, is then
 * only the fallback (a runtime without that route, another socket).
 *
 * DIR is private (0700) under $XDG_RUNTIME_DIR/mldeck, else /tmp/mldeck-UID;
 * the sockets are 0600; no TCP port is ever chosen locally. Every request of
 * every client then goes through DIR/api.sock (curl's CURLOPT_UNIX_SOCKET_PATH),
 * whose path stays the same across reconnections.
 *
 * States (enum transport_state):
 *   CONNECTING    before the first success; attempt counts the tries, reason
 *                 says why the last one failed (empty on the first)
 *   CONNECTED     steps 1-4 done; generation counts the successes
 *   RECONNECTING  the connection dropped (ssh exited, the runtime stopped
 *                 answering...): attempt n, reason, retry_in_ms until the next
 *                 try; backoff 0.5 s doubling to 30 s
 *   DOWN          a failure retrying cannot fix (host key, authentication,
 *                 no ssh here, no mldeck there): reason says which, in ssh's
 *                 or the remote's words; transport_retry tries again
 *
 * The ssh processes run in their own process group, with a parent-death
 * signal: they die with the thread that started them, so with mldeck even on
 * kill -9 (a dead run's DIR is removed by the next transport_open).
 * transport_close stops them and removes DIR.
 *
 * Threads: transport_open and transport_close on one thread; every other
 * function from any thread. The notify hook runs on the supervisor thread
 * after each state change, without locks held: it must not block and may
 * call only transport_status.
 */
#ifndef API_TRANSPORT_H
#define API_TRANSPORT_H

#include <stdio.h>

#include "api/client.h"
#include "api/connect.h"
#include "api/profile.h"
#include "state/error.h"

enum transport_state {
	TRANSPORT_CONNECTING,
	TRANSPORT_CONNECTED,
	TRANSPORT_RECONNECTING,
	TRANSPORT_DOWN,
};

/* The steps of a connection over ssh, timed in transport_status.took_ms. */
enum transport_step {
	TRANSPORT_STEP_SSH,	   /* ssh's own connection: until the master is up */
	TRANSPORT_STEP_CREDENTIAL, /* the remote runtime's socket and key */
	TRANSPORT_STEP_FORWARD,	   /* the local socket forwarded to it */
	TRANSPORT_STEP_ANSWER,	   /* the runtime answers through it */
	TRANSPORT_STEPS
};

struct transport_status {
	enum transport_state state;
	int tunnel;		  /* 1: ssh://; 0: direct (always CONNECTED) */
	int attempt;		  /* CONNECTING/RECONNECTING: the try running or next */
	int trying;		  /* CONNECTING/RECONNECTING: 1 while a try runs */
	long retry_in_ms;	  /* CONNECTING/RECONNECTING, not trying: until the next try */
	unsigned long generation; /* successful connections so far */
	unsigned long seq;	  /* bumps at every change (transport_wait_change) */
	char reason[256];	  /* why the last try failed or the link dropped */
	/* CONNECTED over ssh: what each step of the last connection took, in
	 * ms (-1: not run); via_socket 1 when the credential came through the
	 * forwarded socket, with no remote command */
	long took_ms[TRANSPORT_STEPS];
	int via_socket;
	char target[512];	  /* the URL, e.g. "ssh://me@edge:2222" */
};

typedef void (*transport_notify_fn)(void *ctx, const struct transport_status *st);

/* Starts reaching profile p (its URL, or MLDECK_URL): at once for a direct
 * profile, in the background for ssh://. Never blocks on the network. notify
 * may be NULL. NULL with err when the profile cannot work at all (ssh:// with
 * backend azureml, no private directory). The profile is copied. */
struct transport *transport_open(const struct profile *p, transport_notify_fn notify,
				 void *notify_ctx, struct error *err);
/* Stops ssh, removes the sockets and DIR, joins the thread. NULL: no-op. */
void transport_close(struct transport *t);

/* A snapshot of the state. */
void transport_status(struct transport *t, struct transport_status *out);
/* "connecting", "connected", "reconnecting", "down". */
const char *transport_state_name(enum transport_state s);
/* One line for people: "connected", "reconnecting (attempt 3 in 2 s: REASON)". */
void transport_describe(const struct transport_status *st, char *buf, size_t len);
/* CONNECTED over ssh: where the time went, "412 ms: ssh 163, credential 207,
 * forward 6, answer 1" ("" otherwise). */
void transport_describe_steps(const struct transport_status *st, char *buf, size_t len);
/* Blocks until CONNECTED (0), or -1 with the reason in err as soon as a try
 * fails or the state is DOWN, or after timeout_ms. For one-shot callers (the
 * CLI). */
int transport_wait(struct transport *t, long timeout_ms, struct error *err);
/* Blocks until the status seq differs from seq, or timeout_ms passes; fills
 * *out either way. 1 when it changed, 0 on timeout. */
int transport_wait_change(struct transport *t, unsigned long seq, long timeout_ms,
			  struct transport_status *out);
/* ssh's own words about the last failure (the tail of its output, e.g. the
 * whole host key warning) into buf; "" when none. */
void transport_detail(struct transport *t, char *buf, size_t len);
/* DOWN or waiting to reconnect: try again now (backoff reset). */
void transport_retry(struct transport *t);

/* Where the clients it makes write -v's trace (NULL: nowhere). Call before
 * the first transport_client. */
void transport_set_trace(struct transport *t, FILE *trace);
/* How to reach the backend now (base URL, workspace path, credential,
 * socket): 0, or -1 with the reason when not CONNECTED. An azureml
 * profile's token source (info->cred) is one per transport, shared by every
 * client made from it, so its tokens are fetched once. */
int transport_info(struct transport *t, struct connect_info *out, struct error *err);
/* transport_info + client_new: a client of the caller's (client_free). It
 * keeps working across reconnections (same socket); after one, take a new
 * client if the credential may have changed (generation). */
struct client *transport_client(struct transport *t, long timeout_ms, struct error *err);

#endif
