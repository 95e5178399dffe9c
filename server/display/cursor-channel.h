/* The cursor channel (SPICE channel type 4) of one QXL instance: the guest
 * cursor (shape, position, visibility, trail) for cursor clients, with a
 * per-client shape cache.
 *
 * The channel keeps its own copy of the current cursor (so a client that
 * connects gets INIT with it) and coalesces per client: a queued SET is
 * replaced by a later SET, queued MOVEs by a later MOVE, so a client that
 * does not read holds at most a handful of items whatever the guest does.
 *
 * Threading: cursor_channel_new() on any thread before the worker runs;
 * everything else on the worker thread. post_to_worker is called from the
 * main loop (connect, request_disconnect).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "server/channel/channel.h"
#include "server/qxl/qxl-cmd.h"

typedef struct CursorChannelHost {
    void *opaque;
    /* Main loop: run func(data) on the worker thread soon, exactly once. */
    void (*post_to_worker)(void *opaque, void (*func)(void *data), void *data);
} CursorChannelHost;

/* Shapes a client's cursor cache holds (upstream's CLIENT_CURSOR_CACHE_SIZE). */
#define CURSOR_CACHE_SIZE 256u

/* Creates the channel (not registered). host is copied. Caller owns it. */
RedChannel *cursor_channel_new(RedsState *reds, RedLoop *worker_loop, uint8_t id,
                               const CursorChannelHost *host);
/* Disconnects every client and frees. NULL is fine. Worker thread. */
void cursor_channel_free(RedChannel *channel);
bool cursor_channel_is(const RedChannel *channel);

/* ---- guest cursor events (worker thread); nothing is kept from cmd ---- */

/* Dispatches a parsed cursor command by type (SET/MOVE/HIDE/TRAIL). */
void cursor_channel_process_cmd(RedChannel *cc, const RedCursorCmd *cmd);
/* QXL_CURSOR_SET: position, visibility and shape (copied). */
void cursor_channel_set(RedChannel *cc, const RedCursorCmd *cmd);
void cursor_channel_move(RedChannel *cc, RedPoint16 position);
void cursor_channel_hide(RedChannel *cc);
void cursor_channel_trail(RedChannel *cc, uint16_t length, uint16_t frequency);
/* The cursor is gone (primary destroyed, device reset): clients get
 * INVAL_ALL, RESET and a fresh INIT without a cursor. */
void cursor_channel_reset(RedChannel *cc);
/* SPICE_MOUSE_MODE_SERVER or _CLIENT: in client mode guest moves are not
 * forwarded (the client draws its own pointer position). */
void cursor_channel_set_mouse_mode(RedChannel *cc, uint32_t mode);
/* Bytes queued for all clients. */
size_t cursor_channel_pipe_bytes(RedChannel *cc);
