/* The vdagent route: bytes between main-channel clients and the guest's
 * vdagent char device (SpiceCharDeviceInstance subtype "vdagent").
 *
 * Client -> guest: each AGENT_DATA body is a piece of a VDAgentMessage
 * stream; it is filtered (clipboard / file transfer when disabled, monitor
 * configs offered to the QXL device first), wrapped in VDIChunkHeader
 * {port = VDP_CLIENT_PORT} and written with sif->write. A client may have
 * at most MAIN_AGENT_CLIENT_TOKENS messages outstanding, so the write queue
 * is bounded; a token goes back once its message is written.
 * Guest -> client: sif->read() yields VDIChunkHeader + payload; client-port
 * payloads go out as AGENT_DATA while every agent client has tokens (else
 * reading pauses until AGENT_TOKEN arrives).
 *
 * Threading: main loop only. One RedAgent per server, owned by the main
 * channel.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "server/core/reds.h"

typedef struct RedAgent RedAgent;
typedef struct RedChannelClient RedChannelClient;

/* Bound on a client monitors-config message reassembled for the QXL
 * device (a VDAgentMessage body). */
#define RED_AGENT_MONITORS_CONFIG_MAX (64 * 1024)
/* Bound on bytes queued for the device beyond the client token window
 * (server-originated messages: mouse state, client-disconnected). */
#define RED_AGENT_SERVER_QUEUE_MAX (16 * 1024)

/* Main loop: a route for reds (owned by the caller, free with
 * red_agent_free()). */
RedAgent *red_agent_new(RedsState *reds);
void red_agent_free(RedAgent *agent);

/* Main loop: reds->vdagent was set (attach) or cleared (detach). Resets
 * the read/write state; attach calls sif->state(sin, 1) and starts reading. */
void red_agent_attach(RedAgent *agent);
void red_agent_detach(RedAgent *agent);
/* True while a vdagent device is attached. */
bool red_agent_attached(const RedAgent *agent);

/* Main loop: one AGENT_DATA body from rcc. Returns false on a client bug
 * (protocol error or token overrun): the caller disconnects rcc. */
bool red_agent_client_data(RedAgent *agent, RedChannelClient *rcc,
                           const uint8_t *data, uint32_t size);
/* Main loop: rcc (which had started the agent) is going away: its queued
 * data is dropped and the guest agent is told the client disconnected. */
void red_agent_client_gone(RedAgent *agent, RedChannelClient *rcc);

/* Main loop: retry writing and reading (device wakeup, tokens returned). */
void red_agent_wakeup(RedAgent *agent);

/* Main loop: client-mode absolute mouse for the agent (VD_AGENT_MOUSE_STATE
 * on the server port). Only the newest pending state is kept. */
void red_agent_mouse_state(RedAgent *agent, uint32_t x, uint32_t y, uint32_t buttons,
                           uint8_t display_id);

/* Main loop: a button change in client mode: sends the last position with
 * the new SPICE button mask. */
void red_agent_mouse_buttons(RedAgent *agent, uint32_t buttons);

/* Main loop: spice_server_char_device_wakeup() for the vdagent instance
 * (other instances are ignored here). */
void reds_agent_wakeup(RedsState *reds, SpiceCharDeviceInstance *sin);
