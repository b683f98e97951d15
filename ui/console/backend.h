/*
 * backend.h: the console's connection to the selected profile's backend:
 * the embedded runtime where the profile allows one, the credential, and
 * the fetch pool every load goes through (a->fetch). The console stays up
 * whatever happens; the header says what did. Console thread only.
 */
#ifndef UI_CONSOLE_BACKEND_H
#define UI_CONSOLE_BACKEND_H

#include "ui/console/app.h"

#define BACKEND_TIMEOUT_MS 10000 /* every request's */
/* ARM limits reads (a bucket of 250 per subscription and principal, refilled
 * slowly): on an azureml profile lists reload at most this often, and
 * Azure Monitor (one-minute grain) is asked once a minute per endpoint. */
#define BACKEND_AZURE_LIST_MS 10000
#define BACKEND_AZURE_METRICS_MS 60000

/* Disconnects, then connects to profile p (a->prof becomes a copy). 0, or
 * -1 with a->state and the message line saying why. */
int backend_connect(struct app *a, const struct profile *p);
/* Stops what the console started for the backend (bench, demo load,
 * pending calls, embedded runtime) and forgets the credential. */
void backend_disconnect(struct app *a);
/* backend_disconnect, and the wake pipe closed (quit). */
void backend_free(struct app *a);
/* a->list_every_ms for the profile: twice the refresh period, at least 2 s,
 * at least BACKEND_AZURE_LIST_MS on Azure. */
void backend_periods(struct app *a);
/* ":profile NAME", Enter on a profile: connects to it, applies its theme
 * (unless --theme), shows its Endpoints. 0, or -1 (message set). */
int backend_switch(struct app *a, const char *name);

/* ssh:// profiles: once the tunnel is up, and anew at each reconnection,
 * the fetch pool is (re)made from its connection info and the screen
 * reloads. Cheap; call it every turn of the loop. */
void backend_tick(struct app *a);
/* The tunnel's state for the header when it is not connected
 * ("reconnecting (attempt 3 in 2 s: REASON)"): 1, or 0 when there is no
 * tunnel or it is connected. */
int backend_tunnel_state(struct app *a, char *buf, size_t len);
/* Readable when the tunnel's state changed (the loop polls it, so a tunnel
 * that comes up is used at once); backend_tick drains it. -1 when none. */
int backend_wake_fd(struct app *a);
/* `r`: a tunnel that is down or waiting tries again now. */
void backend_retry(struct app *a);
/* Reads config.ini again (":reload", or when it changed on disk): the
 * profile list, and the current profile's settings: read-only and theme
 * apply in place, a new URL, backend, home, key file or workspace
 * reconnects. A broken file leaves everything as it was and the message
 * line says why. says: report success too. 0, or -1. */
int backend_reload(struct app *a, int says);
/* 1 when config.ini changed on disk since it was last read (then it is
 * read again); the first call only takes note. */
int backend_config_changed(struct app *a);

#endif
