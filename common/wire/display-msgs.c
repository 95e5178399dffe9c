/* Table-driven parser for display-channel client messages (display-msgs.h).
 * Sizes from spice.proto: INIT 14, STREAM_REPORT 32, PREFERRED_COMPRESSION
 * 1, GL_DRAW_DONE 0, PREFERRED_VIDEO_CODEC_TYPE 1 + n. */
#include "common/wire/display-msgs.h"

#include <glib.h>
#include <string.h>

#include <spice/enums.h>

#include "common/wire/reader.h"

typedef bool (*DisplayParseFunc)(WireReader *r, WireDisplayMsg *m);

typedef struct DisplayMsgDesc {
    uint16_t type;
    uint32_t min_size, max_size;
    DisplayParseFunc parse;          /* NULL: no fields */
    const char *name;
} DisplayMsgDesc;

static bool parse_init(WireReader *r, WireDisplayMsg *m)
{
    m->u.init.pixmap_cache_id = wire_get_u8(r);
    m->u.init.pixmap_cache_size = (int64_t)wire_get_u64(r);
    m->u.init.glz_dictionary_id = wire_get_u8(r);
    m->u.init.glz_dictionary_window_size = (int32_t)wire_get_u32(r);
    return r->ok;
}

static bool parse_stream_report(WireReader *r, WireDisplayMsg *m)
{
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

static bool parse_preferred_compression(WireReader *r, WireDisplayMsg *m)
{
    m->u.preferred_compression.image_compression = wire_get_u8(r);
    return r->ok;
}

static bool parse_preferred_video_codec(WireReader *r, WireDisplayMsg *m)
{
    m->u.preferred_video_codec.num_codecs = wire_get_u8(r);
    /* the count must describe exactly the rest of the body */
    if (wire_remaining(r) != m->u.preferred_video_codec.num_codecs) {
        return false;
    }
    m->u.preferred_video_codec.codecs = wire_get_bytes(r, m->u.preferred_video_codec.num_codecs);
    return r->ok;
}

static const DisplayMsgDesc display_table[] = {
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
    WireParseResult res = { false, "unknown", "unknown message type" };

    memset(out, 0, sizeof(*out));
    out->type = type;
    for (size_t i = 0; i < G_N_ELEMENTS(display_table); i++) {
        const DisplayMsgDesc *d = &display_table[i];
        if (d->type != type) {
            continue;
        }
        res.name = d->name;
        if (size < d->min_size) {
            res.error = "message too short";
            return res;
        }
        if (size > d->max_size) {
            res.error = "message too long";
            return res;
        }
        if (size > 0 && body == NULL) {
            res.error = "missing body";
            return res;
        }
        WireReader r;
        wire_reader_init(&r, body, size);
        if (d->parse && !d->parse(&r, out)) {
            res.error = "malformed body";
            return res;
        }
        res.ok = true;
        res.error = NULL;
        return res;
    }
    return res;
}
