/* Display-channel client messages (client -> server), table-driven like
 * client-msgs.h: {type, min size, max size, parser}. A message outside the
 * table or its size bounds is a client bug (the channel disconnects).
 * The cursor channel has no channel-specific client messages.
 *
 * Pure functions, no state: safe from any thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/wire/client-msgs.h"

typedef struct WireDisplayMsg {
    uint16_t type;                   /* SPICE_MSGC_DISPLAY_* */
    union {
        struct {
            uint8_t pixmap_cache_id;
            int64_t pixmap_cache_size;          /* pixels */
            uint8_t glz_dictionary_id;
            int32_t glz_dictionary_window_size; /* pixels */
        } init;
        struct {
            uint32_t stream_id, unique_id, start_frame_mm_time, end_frame_mm_time;
            uint32_t num_frames, num_drops;
            int32_t last_frame_delay;
            uint32_t audio_delay;
        } stream_report;
        struct {
            uint8_t image_compression;          /* SPICE_IMAGE_COMPRESSION_* */
        } preferred_compression;
        struct {
            uint8_t num_codecs;
            const uint8_t *codecs;              /* borrowed from the body */
        } preferred_video_codec;
    } u;
} WireDisplayMsg;

/* Parses one display-channel client message. On success *out is filled
 * (pointers borrow body). Any thread. */
WireParseResult wire_parse_display_msg(uint16_t type, const uint8_t *body, uint32_t size,
                                       WireDisplayMsg *out);
