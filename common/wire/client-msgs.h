/* Client-message demarshalling for the main and inputs channels.
 *
 * Each channel has a table of {type, min size, max size, parser}; the
 * parser turns a size-checked body into a typed struct. Channels only ever
 * see these structs, never raw bytes. A message whose type is not in the
 * table, or whose size is out of range, is rejected with an error naming
 * it: that is a client bug and the channel disconnects the client.
 *
 * Pure functions, no state: safe from any thread.
 */
#pragma once

#include "common/wire/msg-table.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <spice/enums.h>
#include <spice/vd_agent.h>

/* Largest AGENT_DATA body a client may send: one VDAgent chunk. */
#define WIRE_AGENT_DATA_MAX VD_AGENT_MAX_DATA_SIZE
/* Largest KEY_SCANCODE body: a few multi-byte scancodes at once. */
#define WIRE_SCANCODE_MAX 64
/* Bound on bodies of messages we accept and ignore (migration, quality). */
#define WIRE_IGNORED_MAX 1024

/* --- main channel (client -> server) --- */
typedef struct WireMainMsg {
    uint16_t type;                   /* SPICE_MSGC_MAIN_* */
    union {
        struct { uint64_t cache_size; } client_info;
        struct { uint16_t mode; } mouse_mode_request;  /* SPICE_MOUSE_MODE_* */
        struct { uint32_t num_tokens; } agent_start;
        struct { uint32_t num_tokens; } agent_token;
        /* points into the body passed to the parser (borrowed) */
        struct { const uint8_t *data; uint32_t size; } agent_data;
        struct { uint32_t src_version; } migrate_dst_do_seamless;
    } u;
} WireMainMsg;

/* --- inputs channel (client -> server) --- */
typedef struct WireInputsMsg {
    uint16_t type;                   /* SPICE_MSGC_INPUTS_* */
    union {
        struct { uint32_t code; } key;               /* KEY_DOWN / KEY_UP */
        struct { uint16_t modifiers; } key_modifiers;
        struct { const uint8_t *data; uint32_t size; } scancode;  /* borrowed */
        struct { int32_t dx, dy; uint16_t buttons; } motion;
        struct { uint32_t x, y; uint16_t buttons; uint8_t display_id; } position;
        struct { uint8_t button; uint16_t buttons; } button;  /* PRESS / RELEASE */
    } u;
} WireInputsMsg;


/* Parses one main-channel client message. On success *out is filled
 * (pointers in it borrow body). Any thread. */
WireParseResult wire_parse_main_msg(uint16_t type, const uint8_t *body, uint32_t size,
                                    WireMainMsg *out);

/* Parses one inputs-channel client message, as wire_parse_main_msg(). */
WireParseResult wire_parse_inputs_msg(uint16_t type, const uint8_t *body, uint32_t size,
                                      WireInputsMsg *out);
