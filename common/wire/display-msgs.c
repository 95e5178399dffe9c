/* Table-driven parser for display-channel client messages (display-msgs.h).
 * Sizes from spice.proto: INIT 14, STREAM_REPORT 32, PREFERRED_COMPRESSION
 * 1, GL_DRAW_DONE 0, PREFERRED_VIDEO_CODEC_TYPE 1 + n. */
#include "common/wire/display-msgs.h"

#include <glib.h>
#include <string.h>

#include <spice/enums.h>

#include "common/wire/reader.h"

static bool parse_init(WireReader *r, void *out)
{
    WireDisplayMsg *m = out;
    m->u.init.pixmap_cache_id = wire_get_u8(r);
    m->u.init.pixmap_cache_size = (int64_t)wire_get_u64(r);
    m->u.init.glz_dictionary_id = wire_get_u8(r);
    m->u.init.glz_dictionary_window_size = (int32_t)wire_get_u32(r);
    return r->ok;
}

static bool parse_stream_report(WireReader *r, void *out)
{
    WireDisplayMsg *m = out;
    m->u.stream_report.stream_id = wire_get_u32(r);
    m->u.stream_report.unique_id = wire_get_u32(r);
    m->u.stream_report.start_frame_mm_time = wire_get_u32(r);
    m->u.stream_report.end_frame_mm_time = wire_get_u32(r);
    m->u.stream_report.num_frames = wire_get_u32(r);
    m->u.stream_report.num_drops = wire_get_u32(r);
    m->u.stream_report.last_frame_delay = (int32_t)wire_get_u32(r);
    m->u.stream_report.audio_delay = wire_get_u32(r);
    return r->ok;
}

static bool parse_preferred_compression(WireReader *r, void *out)
{
    WireDisplayMsg *m = out;
    m->u.preferred_compression.image_compression = wire_get_u8(r);
    return r->ok;
}

static bool parse_preferred_video_codec(WireReader *r, void *out)
{
    WireDisplayMsg *m = out;
    m->u.preferred_video_codec.num_codecs = wire_get_u8(r);
    /* the count must describe exactly the rest of the body */
    if (wire_remaining(r) != m->u.preferred_video_codec.num_codecs) {
        return false;
    }
    m->u.preferred_video_codec.codecs = wire_get_bytes(r, m->u.preferred_video_codec.num_codecs);
    return r->ok;
}

static const WireMsgDesc display_table[] = {
    { SPICE_MSGC_DISPLAY_INIT, 14, 14, parse_init, "DISPLAY_INIT" },
    { SPICE_MSGC_DISPLAY_STREAM_REPORT, 32, 32, parse_stream_report, "DISPLAY_STREAM_REPORT" },
    { SPICE_MSGC_DISPLAY_PREFERRED_COMPRESSION, 1, 1, parse_preferred_compression,
      "DISPLAY_PREFERRED_COMPRESSION" },
    { SPICE_MSGC_DISPLAY_GL_DRAW_DONE, 0, 0, NULL, "DISPLAY_GL_DRAW_DONE" },
    { SPICE_MSGC_DISPLAY_PREFERRED_VIDEO_CODEC_TYPE, 1, 256, parse_preferred_video_codec,
      "DISPLAY_PREFERRED_VIDEO_CODEC_TYPE" },
};

WireParseResult wire_parse_display_msg(uint16_t type, const uint8_t *body, uint32_t size,
                                       WireDisplayMsg *out)
{
    memset(out, 0, sizeof(*out));
    out->type = type;
    return wire_parse_table(display_table, G_N_ELEMENTS(display_table), type, body, size, out);
}
