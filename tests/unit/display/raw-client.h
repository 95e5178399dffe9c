/* The display channel against a raw client on a socketpair, for the unit
 * tests of tests/unit/display and tests/unit/stream.
 *
 * The test thread is both the worker (host_post runs jobs inline) and the
 * client: rh_pump() iterates the channel's GMainContext, then reads the
 * client's end of the socketpair, answers SET_ACK and ACKs, and hands the
 * messages to a TestClient decoder (draw-util.h), after an optional hook.
 * Surfaces 0 (RH_PRIMARY_W x RH_PRIMARY_H) and 1 (64x64) exist from
 * rh_init(); the pipe budget is RH_BUDGET. Every loop is bounded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "server/display/display-channel.h"
#include "tests/unit/display/draw-util.h"

#define RH_PRIMARY_W 256
#define RH_PRIMARY_H 192
#define RH_BUDGET (512u << 10)

/* Little-endian reads from wire bytes. */
static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* Sees each server message first; returns true when it consumed it (the
 * TestClient decoder then does not get it). */
typedef bool (*RawMessageHook)(uint16_t type, const uint8_t *body, uint32_t size);

typedef struct RawHarness {
    GMainContext *ctx;
    RedLoop *loop;
    RedsState *reds;
    RedChannel *dc;
    RedClient *client;
    RedCanvas *canvases[TEST_MAX_SURFACES];
    unsigned render_calls;
    unsigned caps_changed;
    int fd;                         /* the client's end; -1 once closed */
    GByteArray *in;
    TestClient tc;
    uint32_t ack_window, ack_count;
    size_t max_pipe;
    RawMessageHook on_message;      /* optional */
} RawHarness;

/* Creates reds (never initialised), the display channel with image
 * compression off (the decoder reads raw bitmaps only) and surfaces 0 and
 * 1. Test thread; free with rh_fini(). */
void rh_init(RawHarness *h);
/* Connects the socketpair client with MINI_HEADER and MONITORS_CONFIG plus
 * extra_caps (display channel caps), sends DISPLAY_INIT and checks the
 * initial messages. */
void rh_connect(RawHarness *h, uint32_t extra_caps);
/* Frees everything rh_init/rh_connect made. */
void rh_fini(RawHarness *h);
/* Sends one mini-header message (body at most 58 bytes) from the client. */
void rh_send(RawHarness *h, uint16_t type, const void *body, uint32_t size);
/* One pass: the server loop, then (if read_socket) whatever the socket
 * has. Returns bytes read. */
size_t rh_pump(RawHarness *h, bool read_socket);
/* Reads until nothing moves for a few passes (bounded); asserts it did. */
void rh_settle(RawHarness *h);
/* Renders d on the canvases (as the worker would), sends it, frees it. */
void rh_draw(RawHarness *h, TestDraw *d);
