/* The main channel (type 1, id 0): session setup (MAIN_INIT, NAME/UUID,
 * CHANNELS_LIST), mouse-mode negotiation, the link measurement (net test)
 * and the client side of the vdagent route. One per server, created by reds_init() and freed through
 * its ops->destroy.
 *
 * Threading: everything here runs on the main loop (reds->loop).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "server/core/reds.h"

typedef struct RedAgent RedAgent;
typedef struct RedChannelClient RedChannelClient;

/* Tokens the server grants each client for AGENT_DATA messages to the
 * agent (upstream's REDS_AGENT_WINDOW_SIZE). */
#define MAIN_AGENT_CLIENT_TOKENS 10
/* Returned tokens are batched until this many are due (or the agent's
 * write queue drains). */
#define MAIN_AGENT_TOKEN_BATCH 5

/* Interval between idle PINGs on each main channel client (upstream's
 * idle ping interval). On TCP/TLS the net test (net-test.h: three PINGs,
 * the last padded) follows MAIN_INIT at once; its figure is published on
 * the session (red_client_get_bitrate / red_client_is_low_bandwidth in
 * server/channel/channel.h). */
#define MAIN_PING_INTERVAL_MS 15000
/* Longest NOTIFY text sent; longer texts are cut. */
#define MAIN_NOTIFY_MAX_TEXT 1024

/* Main loop: creates the main channel on reds->loop (not registered; the
 * caller registers it). Owned by reds; freed by its ops->destroy. */
RedChannel *main_channel_new(RedsState *reds);

/* Main loop: tells every main client that has sent ATTACH_CHANNELS about a
 * channel registered after that, as a one-entry CHANNELS_LIST. */
void main_channel_announce_channel(RedsState *reds, RedChannel *channel);

/* Main loop: the vdagent char device appeared (call after setting
 * reds->vdagent) or went away (call after clearing it). Resets the agent
 * route, updates the mouse mode and sends AGENT_CONNECTED(_TOKENS) or
 * AGENT_DISCONNECTED to the clients. */
void main_channel_agent_state(RedsState *reds, bool connected);

/* Main loop: sends MOUSE_MODE {supported, current} from reds state to every
 * main client. */
void main_channel_push_mouse_mode(RedsState *reds);

/* Main loop: sends a NOTIFY {severity SPICE_NOTIFY_SEVERITY_*, visibility
 * SPICE_NOTIFY_VISIBILITY_*, text} to the main channel of client, or of
 * every client when client is NULL. text is copied (cut at
 * MAIN_NOTIFY_MAX_TEXT bytes). */
void main_channel_notify(RedsState *reds, RedClient *client, uint32_t severity,
                         uint32_t visibility, const char *text);

/* Main loop: the agent route owned by the main channel (borrowed; NULL
 * before main_channel_new). */
RedAgent *main_channel_get_agent(RedsState *reds);

/* --- used by the agent route (server/chardev/agent.c) --- */

/* Main loop: true when every client that started the agent can take one
 * more AGENT_DATA message (has tokens). */
bool main_channel_agent_can_send(RedsState *reds);
/* Main loop: sends one AGENT_DATA chunk (<= VD_AGENT_MAX_DATA_SIZE bytes) to
 * every client that started the agent, spending one of its tokens. */
void main_channel_agent_send(RedsState *reds, const uint8_t *data, uint32_t len);
/* Main loop: one AGENT_DATA message of rcc (a main channel client) was
 * consumed; returns its token (batched). rcc may be NULL (no-op). */
void main_channel_agent_token_return(RedChannelClient *rcc);
/* Main loop: flushes batched tokens of every client (the agent's write
 * queue drained). */
void main_channel_agent_tokens_flush(RedsState *reds);
