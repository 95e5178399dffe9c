/* Shared helpers of the integration tests: bounded waits on the default
 * GMainContext (loop-util.h: WAIT_FOR, loop_free_port), log capture of the
 * server's "Spice" domain, a spice-client-glib session wrapper, input
 * instances that record what arrives, and a raw SPICE client that speaks the
 * link handshake (RSA-OAEP ticket) and mini-header messages itself.
 *
 * Threading: everything runs on the test's one thread, which also runs the
 * server (tools/embedder/core-loop.h over the default context). Every wait
 * iterates that context, so the server makes progress while we wait. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <spice-client.h>
#include <spice.h>

#include "loop-util.h"

/* Bound on any single wait. */
#define IT_WAIT_MS 10000

/* Installs the "Spice" log capture (each message is kept; warnings are
 * printed too) and a GTest fatal handler that tolerates "client bug:" and
 * "config:" lines, which the tests provoke on purpose. Call at the start
 * of every test case (GTest resets the fatal handler per case). */
void it_log_setup(void);
/* Number of captured messages containing every one of the given substrings
 * (NULL-terminated list). */
guint it_log_count(const char *first, ...) G_GNUC_NULL_TERMINATED;
void it_log_clear(void);

/* A server on 127.0.0.1:port without authentication, not initialised yet
 * (set more options, then spice_server_init). Caller owns it. */
SpiceServer *it_server_new(int port);

/* The deprecated getter is the only public way to count sessions. */
int it_num_clients(SpiceServer *s);

/* ---- spice-client-glib session ---- */

typedef struct ItClient {
    SpiceSession *session;
    SpiceMainChannel *main;          /* borrowed from the session */
    SpiceInputsChannel *inputs;
    int main_event;                  /* last SpiceChannelEvent on main */
    int inputs_event;
    int inputs_opened;               /* times inputs reached OPENED */
    bool connect_inputs;             /* connect inputs when listed */
    bool inputs_seen;                /* the channels list named inputs */
    int channels_seen;               /* channels listed besides main */
} ItClient;

/* Prepares a session (not connected); set properties on c->session, then
 * call it_client_start(). */
void it_client_init(ItClient *c);
void it_client_start(ItClient *c);
/* it_client_init, then host 127.0.0.1, port and (if not NULL) password,
 * then it_client_start. */
void it_client_connect(ItClient *c, int port, const char *password);
/* Disconnects, waits for the channels to go, frees the session. */
void it_client_free(ItClient *c);

/* ---- raw client (mini header, noauth or ticket) ---- */

typedef struct ItRaw {
    int fd;                          /* non-blocking; -1 = closed */
    uint32_t connection_id;          /* main: from MAIN_INIT */
} ItRaw;

/* Connects to 127.0.0.1:port and links (type, id) with the password
 * ("" when the server has noauth). Advertises MINI_HEADER and the given
 * channel caps (may be 0/NULL). Returns the SpiceLinkErr result, or -1
 * on an I/O failure. On OK the stream is ready for messages. */
int it_raw_link(ItRaw *r, int port, uint32_t connection_id, uint8_t type, uint8_t id,
                const char *password, const uint32_t *caps, uint32_t num_caps);
/* Sends raw bytes (blocking on a full socket only in short bursts). */
bool it_raw_send(ItRaw *r, const void *data, size_t len);
/* Sends one mini-header message. */
bool it_raw_send_msg(ItRaw *r, uint16_t type, const void *body, uint32_t len);
/* Receives one mini-header message into *body (replaced); false on close
 * or timeout. */
bool it_raw_recv_msg(ItRaw *r, uint16_t *type, GByteArray *body, int timeout_ms);
/* Receives messages until one of `type` arrives (others are skipped). */
bool it_raw_recv_type(ItRaw *r, uint16_t type, GByteArray *body, int timeout_ms);
/* True once the server closed the connection within timeout_ms (data
 * still arriving is discarded). */
bool it_raw_wait_closed(ItRaw *r, int timeout_ms);
void it_raw_close(ItRaw *r);
/* Links a raw main channel and reads MAIN_INIT (sets connection_id). */
bool it_raw_main(ItRaw *r, int port);

/* ---- input instances that record what arrives ---- */

extern GByteArray *it_scans;         /* push_scan_freg bytes; created on demand */
extern GArray *it_mouse_events;      /* ItMouseEvent, mouse and tablet */
extern uint8_t it_guest_leds;        /* what it_kbd's get_leds answers */
extern SpiceKbdInstance it_kbd;
extern SpiceMouseInstance it_mouse;
extern SpiceTabletInstance it_tablet;  /* not added by it_inputs_add */

typedef struct ItMouseEvent {
    char kind;                       /* 'm' motion, 'b' buttons, 'p' tablet position
                                      * (x, y in dx, dy), 'w' tablet wheel (motion in
                                      * dx), 't' tablet buttons */
    int dx, dy, dz;
    uint32_t buttons;
} ItMouseEvent;

/* Adds it_kbd and it_mouse to s (clearing the records and it_guest_leds);
 * remove with it_inputs_remove() before spice_server_destroy. */
void it_inputs_add(SpiceServer *s);
void it_inputs_remove(void);
