/* Video streams in the display channel (docs/streams.md).
 *
 * Every drawable passes display_streams_draw() before it is sent:
 *  - a frame of a live stream (stream-detect.c) becomes, for each client
 *    that can play MJPEG, a frame item sharing one StreamFrame: encoded at
 *    once from the drawable when every client that took it keeps up (no
 *    older frame waiting) at one quality, else copied and encoded when
 *    the item reaches the socket, at the quality of that client's
 *    controller (stream-rate.c); stamped with the client's "now" plus a
 *    small margin. At most
 *    STREAM_MAX_QUEUED_FRAMES frames of a stream wait in a pipe; an older
 *    one is dropped for a newer one. A waiting frame is charged its
 *    expected JPEG size; one always fits, a second only under the
 *    operation limit. Clients that cannot play it get the drawable as an
 *    ordinary draw.
 *  - any other drawable on the primary that covers part of a stream is cut
 *    out of that stream's clip first (STREAM_CLIP before the draw), so a
 *    frame the client shows late never paints over it.
 *  - a drawable that reads primary pixels a stream painted (COPY_BITS or a
 *    SURFACE source) would spread lossy pixels: the stream ends, and the
 *    drawable goes as damage (read from the lossless canvas).
 * A stream ends when its frames stop for STREAM_TIMEOUT_MS, when the
 * client refuses it, or when surface 0 goes. At the end every pixel a
 * frame may have painted goes to the client's damage, which the display
 * client sends as lossless images read from the canvas (the upgrade).
 */
#include "server/display/dcc.h"

#include <stdatomic.h>
#include <string.h>
#include <spice/protocol.h>
#include <spice/qxl_dev.h>

#include "common/codec/jpeg-codec.h"
#include "server/core/log.h"
#include "server/core/mm-time.h"

/* ---- frames ---- */

/* A frame of a stream, shared by the pipes of all clients (refcounted,
 * worker thread). It starts borrowing the drawable's pixels; before
 * display_streams_draw returns it is settled (stream_frame_settle): when
 * every client that queued it waits for no other frame of the stream and
 * wants one quality, it is encoded at once from the drawable and keeps
 * only the JPEG (no copy: the common case of a client keeping up);
 * otherwise the pixels are copied and encoded when an item reaches the
 * socket, and the JPEG of the last quality asked for is kept so clients
 * at the same quality share one encode. A frame no client queued costs
 * nothing. */
typedef struct StreamFrame {
    int refs;
    CodecImage img;                 /* the pixels: borrowed, owned (top-down,
                                     * packed) or gone (data NULL, jpeg only) */
    bool owned;                     /* img.data is ours to free */
    uint32_t width, height;         /* the frame's size */
    RedRect dest;                   /* the drawable's bbox */
    pixman_region32_t region;       /* pixels it paints */
    int jpeg_quality;               /* of jpeg, 0 = none */
    CodecBuf jpeg;
    int want_quality;               /* settling: the one quality queued at, -1 = several */
    bool want_copy;                 /* settling: some client has older frames waiting */
} StreamFrame;

static StreamFrame *stream_frame_borrow(const RedDrawable *red, const pixman_region32_t *region)
{
    CodecImage src;
    if (!stream_source_image(red, &src)) {
        return NULL;
    }
    StreamFrame *f = g_new0(StreamFrame, 1);
    f->refs = 1;
    f->img = src;
    f->width = src.width;
    f->height = src.height;
    f->dest = red->bbox;
    pixman_region32_init(&f->region);
    pixman_region32_copy(&f->region, region);
    return f;
}

/* Copies borrowed pixels into memory of the frame's own. */
static void stream_frame_own(StreamFrame *f)
{
    if (f->owned || !f->img.data) {
        return;
    }
    size_t row = (size_t)f->img.width * codec_fmt_bpp(f->img.fmt);
    uint8_t *data = g_malloc(row * f->img.height);
    for (uint32_t y = 0; y < f->img.height; y++) {
        memcpy(data + row * y, codec_image_top_row(&f->img, y), row);
    }
    f->img.data = data;
    f->img.stride = row;
    f->img.top_down = true;
    f->owned = true;
}

static void stream_frame_unref(StreamFrame *f)
{
    if (!f || --f->refs > 0) {
        return;
    }
    if (f->owned) {
        g_free((void *)f->img.data);
    }
    codec_buf_clear(&f->jpeg);
    pixman_region32_fini(&f->region);
    g_free(f);
}

static uint64_t frame_pixels(const StreamFrame *f)
{
    return (uint64_t)f->width * f->height;
}

/* The JPEG of f at quality (cached for the next client at the same one).
 * A frame that kept only its JPEG sends that one, whatever the quality
 * now (a quality change applies from the next frame). */
static bool stream_frame_encode(StreamFrame *f, int quality)
{
    if (f->jpeg_quality == quality || (!f->img.data && f->jpeg_quality)) {
        return true;
    }
    if (!f->img.data) {
        return false;
    }
    f->jpeg.len = 0;
    f->jpeg_quality = 0;
    if (!jpeg_encode(&f->img, quality, &f->jpeg)) {
        return false;
    }
    f->jpeg_quality = quality;
    return true;
}

/* A client queued f at quality, with `waiting` frames of the stream
 * (this one included) in its pipe. */
static void stream_frame_note_queued(StreamFrame *f, int quality, uint32_t waiting)
{
    if (f->refs == 1) {
        f->want_quality = quality;  /* the first client to queue it */
    } else if (f->want_quality != quality) {
        f->want_quality = -1;
    }
    f->want_copy |= waiting > 1;
}

static atomic_uint_fast64_t frames_encoded_at_arrival, frames_copied;

void stream_frame_counts(uint64_t *encoded_at_arrival, uint64_t *copied)
{
    *encoded_at_arrival = atomic_load(&frames_encoded_at_arrival);
    *copied = atomic_load(&frames_copied);
}

/* Before the drawable goes: no borrowed pixel may outlive this call. */
static void stream_frame_settle(StreamFrame *f)
{
    if (f->owned || f->refs == 1) {
        return;                     /* nobody queued it: nothing to keep */
    }
    if (!f->want_copy && f->want_quality > 0 && stream_frame_encode(f, f->want_quality)) {
        f->img.data = NULL;         /* the JPEG is all any client will need */
        atomic_fetch_add(&frames_encoded_at_arrival, 1);
        return;
    }
    stream_frame_own(f);
    atomic_fetch_add(&frames_copied, 1);
}

/* ---- helpers ---- */

static int64_t default_clock_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

static WireRect wire_rect(const RedRect *r)
{
    return (WireRect){ r->left, r->top, r->right, r->bottom };
}

/* The client's clip for region inside dest: NONE when it is all of dest.
 * rects receives up to max rects (the caller frees *heap if set). */
static WireClip region_to_clip(const pixman_region32_t *region, const RedRect *dest,
                               WireRect **heap)
{
    WireClip clip = { .type = SPICE_CLIP_TYPE_NONE };
    int n = 0;
    const pixman_box32_t *b = pixman_region32_rectangles((pixman_region32_t *)region, &n);
    *heap = NULL;
    if (n == 1 && b[0].x1 == dest->left && b[0].y1 == dest->top && b[0].x2 == dest->right &&
        b[0].y2 == dest->bottom) {
        return clip;
    }
    WireRect *rects = g_new(WireRect, MAX(n, 1));
    for (int i = 0; i < n; i++) {
        rects[i] = (WireRect){ b[i].x1, b[i].y1, b[i].x2, b[i].y2 };
    }
    clip.type = SPICE_CLIP_TYPE_RECTS;
    clip.num_rects = (uint32_t)n;
    clip.rects = rects;
    *heap = rects;
    return clip;
}

static bool dcc_has_mjpeg(const DisplayChannelClient *dcc)
{
    const RedChannelClient *rcc = &dcc->base;
    return red_channel_client_has_cap(rcc, SPICE_DISPLAY_CAP_CODEC_MJPEG) ||
           !red_channel_client_has_cap(rcc, SPICE_DISPLAY_CAP_MULTI_CODEC);
}

static bool dcc_can_stream(const DisplayChannelClient *dcc, const Stream *s)
{
    const StreamAgent *a = &dcc->agents[s->id];
    return dcc_has_mjpeg(dcc) && !(a->refused && a->generation == s->generation);
}

/* ---- small pipe items ---- */

typedef struct StreamMsgItem {
    RedPipeItem base;
    uint16_t type;
    WireWriter body;                /* owned, marshalled when queued */
} StreamMsgItem;

static uint16_t stream_msg_marshal(RedChannelClient *rcc, RedPipeItem *base, WireWriter *w)
{
    StreamMsgItem *item = (StreamMsgItem *)base;
    wire_put_bytes(w, item->body.data, item->body.len);
    return item->type;
}

static void stream_msg_free(RedPipeItem *base)
{
    StreamMsgItem *item = (StreamMsgItem *)base;
    wire_writer_clear(&item->body);
    g_free(item);
}

static const RedPipeItemOps stream_msg_ops = {
    .marshal = stream_msg_marshal,
    .free = stream_msg_free,
};

/* Queues a message whose body the caller wrote into *w (taken over). */
static void queue_msg(DisplayChannelClient *dcc, uint16_t type, WireWriter *w)
{
    StreamMsgItem *item = g_new0(StreamMsgItem, 1);
    item->base.ops = &stream_msg_ops;
    item->base.size = sizeof(*item) + w->len;
    item->type = type;
    item->body = *w;
    red_channel_client_pipe_add(&dcc->base, &item->base);
}

static void queue_clip(DisplayChannelClient *dcc, uint32_t id, StreamAgent *a)
{
    WireRect *heap;
    WireClip clip = region_to_clip(&a->clip, &a->dest, &heap);
    WireWriter w;
    wire_writer_init(&w);
    wire_display_stream_clip(&w, id, &clip);
    g_free(heap);
    queue_msg(dcc, SPICE_MSG_DISPLAY_STREAM_CLIP, &w);
}

/* ---- frame items ---- */

typedef struct FrameItem {
    RedPipeItem base;
    StreamFrame *frame;             /* one reference */
    uint32_t stream_id;
    uint32_t generation;
} FrameItem;

static uint16_t frame_marshal(RedChannelClient *rcc, RedPipeItem *base, WireWriter *w)
{
    DisplayChannelClient *dcc = (DisplayChannelClient *)rcc;
    FrameItem *item = (FrameItem *)base;
    StreamAgent *a = &dcc->agents[item->stream_id];
    StreamFrame *f = item->frame;

    /* an agent's frames leave the pipe before its STREAM_DESTROY */
    g_assert(a->active && a->generation == item->generation && a->queued > 0);
    a->queued--;
    if (!stream_frame_encode(f, a->rate.quality)) {
        /* libjpeg ran out of memory: never send a broken JPEG (spice-gtk
         * exits on decode errors); an empty INVAL_LIST keeps the stream of
         * messages valid and the upgrade at the end repairs the pixels */
        wire_display_inval_list(w, NULL, 0);
        return SPICE_MSG_DISPLAY_INVAL_LIST;
    }
    /* the client's clock now, plus the margin the controller allows */
    uint32_t stamp = red_mm_time_now() - RED_MM_TIME_CLIENT_DELTA_MS + a->rate.margin_ms;
    if (a->last_stamp && (int32_t)(stamp - a->last_stamp) < 0) {
        stamp = a->last_stamp;      /* spice-gtk resets a stream going back in time */
    }
    if (stamp == 0) {
        stamp = 1;                  /* 0 means "no time" to spice-gtk */
    }
    a->last_stamp = stamp;
    int64_t now = dcc->dc->stream_clock();
    if (f->width == a->width && f->height == a->height &&
        memcmp(&f->dest, &a->dest, sizeof(f->dest)) == 0) {
        wire_display_stream_data(w, item->stream_id, stamp, f->jpeg.data, (uint32_t)f->jpeg.len);
        stream_rate_on_sent(&a->rate, f->jpeg.len, frame_pixels(f), now);
        return SPICE_MSG_DISPLAY_STREAM_DATA;
    }
    WireRect dest = wire_rect(&f->dest);
    wire_display_stream_data_sized(w, item->stream_id, stamp, f->width, f->height, &dest,
                                   f->jpeg.data, (uint32_t)f->jpeg.len);
    stream_rate_on_sent(&a->rate, f->jpeg.len, frame_pixels(f), now);
    return SPICE_MSG_DISPLAY_STREAM_DATA_SIZED;
}

static void frame_free(RedPipeItem *base)
{
    FrameItem *item = (FrameItem *)base;
    stream_frame_unref(item->frame);
    g_free(item);
}

static const RedPipeItemOps frame_item_ops = {
    .marshal = frame_marshal,
    .free = frame_free,
};

typedef struct FrameDrop {
    DisplayChannelClient *dcc;
    uint32_t stream_id;
    bool only_first;
    unsigned dropped;
} FrameDrop;

static bool frame_drop_pred(RedPipeItem *item, void *opaque)
{
    FrameDrop *d = opaque;
    if (item->ops != &frame_item_ops || ((FrameItem *)item)->stream_id != d->stream_id ||
        (d->only_first && d->dropped)) {
        return false;
    }
    d->dropped++;
    d->dcc->agents[d->stream_id].queued--;
    return true;
}

static unsigned drop_frames(DisplayChannelClient *dcc, uint32_t id, bool only_first)
{
    FrameDrop d = { dcc, id, only_first, 0 };
    red_channel_client_pipe_drop(&dcc->base, frame_drop_pred, &d);
    return d.dropped;
}

/* ---- agents ---- */

static void agent_reset(StreamAgent *a)
{
    a->active = false;
    a->queued = 0;
    a->report_id = 0;
    a->last_stamp = 0;
    a->last_queued_ms = -1;
    pixman_region32_clear(&a->clip);
    pixman_region32_clear(&a->lossy);
}

void dcc_streams_init(DisplayChannelClient *dcc)
{
    dcc->agents = g_new0(StreamAgent, STREAM_MAX);
    for (uint32_t i = 0; i < STREAM_MAX; i++) {
        pixman_region32_init(&dcc->agents[i].clip);
        pixman_region32_init(&dcc->agents[i].lossy);
        dcc->agents[i].last_queued_ms = -1;
    }
}

void dcc_streams_fini(DisplayChannelClient *dcc)
{
    if (!dcc->agents) {
        return;
    }
    for (uint32_t i = 0; i < STREAM_MAX; i++) {
        pixman_region32_fini(&dcc->agents[i].clip);
        pixman_region32_fini(&dcc->agents[i].lossy);
    }
    g_clear_pointer(&dcc->agents, g_free);
}

/* Ends the client's side of stream id: its queued frames go, then
 * STREAM_DESTROY; with upgrade, every pixel it may have painted becomes
 * damage (lossless images from the canvas). */
static void agent_end(DisplayChannelClient *dcc, uint32_t id, bool upgrade)
{
    StreamAgent *a = &dcc->agents[id];
    if (!a->active) {
        return;
    }
    drop_frames(dcc, id, false);
    WireWriter w;
    wire_writer_init(&w);
    wire_display_stream_destroy(&w, id);
    queue_msg(dcc, SPICE_MSG_DISPLAY_STREAM_DESTROY, &w);
    red_debug("display client %p: stream %u ended after %" G_GUINT64_FORMAT " frames (%"
              G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT " drops of which %" G_GUINT64_FORMAT
              " while behind, %" G_GUINT64_FORMAT " skips, %" G_GUINT64_FORMAT " lowers, %"
              G_GUINT64_FORMAT " raises, quality %d, %u fps)",
              (void *)dcc, id, a->rate.frames_sent, a->rate.bytes_sent, a->rate.drops_total,
              a->rate.behind_total, a->rate.skips_total, a->rate.lowers, a->rate.raises,
              a->rate.quality, a->rate.fps);
    if (upgrade && pixman_region32_not_empty(&a->lossy)) {
        dcc_add_damage(dcc, 0, &a->lossy);
        dcc_push_damage(dcc);
    }
    agent_reset(a);
}

static void agent_start(DisplayChannelClient *dcc, const Stream *s, const StreamFrame *f,
                        int64_t now)
{
    StreamAgent *a = &dcc->agents[s->id];
    agent_reset(a);
    a->active = true;
    a->refused = false;
    a->generation = s->generation;
    a->dest = f->dest;
    a->width = f->width;
    a->height = f->height;
    pixman_region32_copy(&a->clip, &f->region);
    bool reports = red_channel_client_has_cap(&dcc->base, SPICE_DISPLAY_CAP_STREAM_REPORT);
    stream_rate_init(&a->rate, s->input_fps, reports, now);
    if (dcc->base.client) {
        /* a slow link measured by the main channel's net test starts
         * the stream where it fits instead of dropping its way there */
        stream_rate_fit_link(&a->rate, red_client_get_bitrate(dcc->base.client),
                             (uint64_t)f->width * f->height);
    }
    int pinned = stream_rate_bench_quality();
    if (pinned) {
        stream_rate_pin_quality(&a->rate, pinned);
    }

    WireRect *heap;
    WireStreamCreate c = {
        .surface_id = 0,
        .id = s->id,
        /* frames are always encoded top row first */
        .flags = SPICE_STREAM_FLAGS_TOP_DOWN,
        .codec_type = SPICE_VIDEO_CODEC_TYPE_MJPEG,
        .stamp = 0,
        .stream_width = a->width,
        .stream_height = a->height,
        .src_width = a->width,
        .src_height = a->height,
        .dest = wire_rect(&a->dest),
    };
    c.clip = region_to_clip(&a->clip, &a->dest, &heap);
    WireWriter w;
    wire_writer_init(&w);
    wire_display_stream_create(&w, &c);
    g_free(heap);
    queue_msg(dcc, SPICE_MSG_DISPLAY_STREAM_CREATE, &w);

    if (reports) {
        a->report_id = g_random_int() | 1u;     /* 0 is what "no such stream" reports carry */
        wire_writer_init(&w);
        wire_display_stream_activate_report(&w, s->id, a->report_id, STREAM_REPORT_WINDOW,
                                            STREAM_REPORT_TIMEOUT_MS);
        queue_msg(dcc, SPICE_MSG_DISPLAY_STREAM_ACTIVATE_REPORT, &w);
    }
}

/* One frame of stream s for one client that can play it. */
static void agent_frame(DisplayChannelClient *dcc, const Stream *s, StreamFrame *f, int64_t now)
{
    StreamAgent *a = &dcc->agents[s->id];
    bool sized = red_channel_client_has_cap(&dcc->base, SPICE_DISPLAY_CAP_SIZED_STREAM);

    if (a->active && a->generation != s->generation) {
        agent_end(dcc, s->id, true);    /* a leftover of an older stream with this id */
    }
    if (a->active && !sized &&
        (f->width != a->width || f->height != a->height ||
         memcmp(&f->dest, &a->dest, sizeof(f->dest)) != 0)) {
        /* STREAM_DATA cannot change size: start the stream over */
        agent_end(dcc, s->id, true);
    }
    if (!a->active) {
        agent_start(dcc, s, f, now);
    } else if (!pixman_region32_equal(&a->clip, &f->region)) {
        pixman_region32_copy(&a->clip, &f->region);
        queue_clip(dcc, s->id, a);
    }
    pixman_region32_union(&a->lossy, &a->lossy, &f->region);

    if (dcc->mode != DCC_DRAW) {
        /* behind: the frame is skipped (its pixels are in lossy, so the
         * next frame or the upgrade repairs them) */
        stream_rate_on_behind(&a->rate, now);
        return;
    }
    if (!stream_rate_may_send(&a->rate, a->last_queued_ms, now)) {
        a->rate.skips_total++;
        return;
    }
    if (a->queued >= STREAM_MAX_QUEUED_FRAMES) {
        /* the oldest waiting frame is stale now: the newest replaces it */
        drop_frames(dcc, s->id, true);
        stream_rate_on_server_drop(&a->rate, now);
    }
    /* A waiting frame is charged what it will put on the wire (its JPEG,
     * estimated), not its raw copy: the copy is shared by every client and
     * bounded by STREAM_MAX_QUEUED_FRAMES. The first waiting frame of a
     * stream always goes in, however large, or a stream whose JPEG is
     * near half the budget would never send a frame; a second one only
     * when it fits under the operation limit. */
    size_t charge = stream_rate_expected_bytes(&a->rate, frame_pixels(f));
    if (a->queued > 0 && dcc_queued_bytes(dcc) + charge > dcc_ops_limit(dcc)) {
        stream_rate_on_server_drop(&a->rate, now);
        return;
    }
    FrameItem *item = g_new0(FrameItem, 1);
    item->base.ops = &frame_item_ops;
    item->base.kind = DCC_ITEM_STREAM_FRAME;
    item->base.size = sizeof(*item) + charge;
    item->frame = f;
    a->queued++;
    stream_frame_note_queued(f, a->rate.quality, a->queued);
    f->refs++;
    item->stream_id = s->id;
    item->generation = s->generation;
    a->last_queued_ms = now;
    red_channel_client_pipe_add(&dcc->base, &item->base);
}

/* ---- channel ---- */

#define FOR_EACH_DCC(dc, dcc)                                                   \
    for (GList *l_ = (dc)->base.clients, *n_ = l_ ? l_->next : NULL; l_;        \
         l_ = n_, n_ = l_ ? l_->next : NULL)                                    \
        for (DisplayChannelClient *dcc = l_->data; dcc; dcc = NULL)

static bool dcc_takes_stream(const DisplayChannelClient *dcc)
{
    return dcc->mode != DCC_WAIT_INIT && dcc_has_surface(dcc, 0);
}

static void stream_end(DisplayChannel *dc, Stream *s, bool upgrade)
{
    FOR_EACH_DCC(dc, dcc) {
        if (dcc->agents[s->id].generation == s->generation) {
            agent_end(dcc, s->id, upgrade);
        }
    }
    stream_detector_end(&dc->streams, s);
}

static void stream_timer_arm(DisplayChannel *dc, int64_t now);

static void stream_timer_cb(void *opaque)
{
    DisplayChannel *dc = opaque;
    int64_t now = dc->stream_clock();
    Stream *s;
    while ((s = stream_detector_expired(&dc->streams, now))) {
        stream_end(dc, s, true);
    }
    stream_timer_arm(dc, now);
}

static void stream_timer_arm(DisplayChannel *dc, int64_t now)
{
    int64_t left = stream_detector_next_deadline(&dc->streams, now);
    if (left < 0) {
        return;
    }
    if (!dc->stream_timer) {
        dc->stream_timer = red_timer_add(dc->base.loop, stream_timer_cb, dc);
    }
    /* +1: expiry is checked with >=, so wake just after the deadline */
    red_timer_start(dc->stream_timer, (uint32_t)MIN(left + 1, (int64_t)STREAM_TIMEOUT_MS));
}

void display_streams_init(DisplayChannel *dc)
{
    int mode = dc->base.reds ? dc->base.reds->cfg.streaming_video : SPICE_STREAM_VIDEO_FILTER;
    stream_detector_init(&dc->streams, mode);
    dc->stream_clock = default_clock_ms;
}

void display_streams_fini(DisplayChannel *dc)
{
    red_timer_remove(dc->stream_timer);
    dc->stream_timer = NULL;
}

void display_streams_stop_all(DisplayChannel *dc)
{
    for (uint32_t i = 0; i < STREAM_MAX; i++) {
        if (dc->streams.streams[i].live) {
            stream_end(dc, &dc->streams.streams[i], true);
        }
    }
}

void display_streams_surface_destroy(DisplayChannel *dc, uint32_t surface_id)
{
    if (surface_id != 0) {
        return;
    }
    for (uint32_t i = 0; i < STREAM_MAX; i++) {
        if (dc->streams.streams[i].live) {
            stream_end(dc, &dc->streams.streams[i], false);
        }
    }
}

/* The primary area red reads outside its own destination, if any. */
static bool reads_primary(const RedDrawable *red, RedRect *area)
{
    if (red->type == QXL_COPY_BITS) {
        if (red->surface_id != 0) {
            return false;
        }
        const RedPoint *p = &red->u.copy_bits.src_pos;
        *area = (RedRect){ p->x, p->y, p->x + (red->bbox.right - red->bbox.left),
                           p->y + (red->bbox.bottom - red->bbox.top) };
        return true;
    }
    const RedImage *src = NULL;
    const RedRect *src_area = NULL;
    switch (red->type) {
    case QXL_DRAW_OPAQUE:
        src = red->u.opaque.src_bitmap;
        src_area = &red->u.opaque.src_area;
        break;
    case QXL_DRAW_COPY:
    case QXL_DRAW_BLEND: {
        const RedCopy *c = red->type == QXL_DRAW_COPY ? &red->u.copy : &red->u.blend;
        src = c->src_bitmap;
        src_area = &c->src_area;
        break;
    }
    case QXL_DRAW_ROP3:
        src = red->u.rop3.src_bitmap;
        src_area = &red->u.rop3.src_area;
        break;
    case QXL_DRAW_TRANSPARENT:
        src = red->u.transparent.src_bitmap;
        src_area = &red->u.transparent.src_area;
        break;
    case QXL_DRAW_ALPHA_BLEND:
        src = red->u.alpha_blend.src_bitmap;
        src_area = &red->u.alpha_blend.src_area;
        break;
    case QXL_DRAW_COMPOSITE:
        if (red->u.composite.src_bitmap &&
            red->u.composite.src_bitmap->type == SPICE_IMAGE_TYPE_SURFACE &&
            red->u.composite.src_bitmap->u.surface_id == 0) {
            *area = (RedRect){ INT32_MIN / 2, INT32_MIN / 2, INT32_MAX / 2, INT32_MAX / 2 };
            return true;
        }
        return false;
    default:
        return false;
    }
    if (!src || src->type != SPICE_IMAGE_TYPE_SURFACE || src->u.surface_id != 0) {
        return false;
    }
    *area = *src_area;
    return true;
}

/* A drawable that is not a frame: cut it out of the clips of the streams
 * it covers; end the streams whose lossy pixels it reads. */
static StreamDrawResult other_drawable(DisplayChannel *dc, const RedDrawable *red,
                                       const pixman_region32_t *region)
{
    StreamDrawResult res = STREAM_DRAW_ORDINARY;
    RedRect read;
    if (reads_primary(red, &read)) {
        for (uint32_t i = 0; i < STREAM_MAX && dc->streams.n_live; i++) {
            Stream *s = &dc->streams.streams[i];
            if (!s->live) {
                continue;
            }
            bool hit = false;
            FOR_EACH_DCC(dc, dcc) {
                StreamAgent *a = &dcc->agents[i];
                pixman_box32_t box = { read.left, read.top, read.right, read.bottom };
                hit |= a->active && a->generation == s->generation &&
                       pixman_region32_contains_rectangle(&a->lossy, &box) != PIXMAN_REGION_OUT;
            }
            if (hit) {
                stream_end(dc, s, true);
                res = STREAM_DRAW_AS_DAMAGE;
            }
        }
    }
    if (red->surface_id != 0) {
        return res;
    }
    FOR_EACH_DCC(dc, dcc) {
        for (uint32_t i = 0; i < STREAM_MAX; i++) {
            StreamAgent *a = &dcc->agents[i];
            if (!a->active || !pixman_region32_not_empty(&a->clip)) {
                continue;
            }
            pixman_region32_t cut;
            pixman_region32_init(&cut);
            pixman_region32_intersect(&cut, &a->clip, (pixman_region32_t *)region);
            if (pixman_region32_not_empty(&cut)) {
                pixman_region32_subtract(&a->clip, &a->clip, (pixman_region32_t *)region);
                queue_clip(dcc, i, a);
            }
            pixman_region32_fini(&cut);
        }
    }
    return res;
}

StreamDrawResult display_streams_draw(DisplayChannel *dc, const RedDrawable *red,
                                      const pixman_region32_t *region)
{
    StreamCandidate cand;
    Stream *s = NULL;
    int64_t now = dc->stream_clock();

    if (stream_candidate_from(&dc->streams, red, &cand)) {
        StreamFeed kind = stream_detector_feed(&dc->streams, &cand, now, &s);
        if (kind == STREAM_FEED_STARTED) {
            red_debug("display: stream %u starts, %ux%u at (%d,%d), %u fps", s->id, s->src_w,
                      s->src_h, s->dest.left, s->dest.top, s->input_fps);
            stream_timer_arm(dc, now);
        }
    }
    if (!s) {
        return dc->streams.n_live ? other_drawable(dc, red, region) : STREAM_DRAW_ORDINARY;
    }

    StreamFrame *f = stream_frame_borrow(red, region);
    g_assert(f);                    /* the candidate check read the same source */
    bool need_op = false;
    FOR_EACH_DCC(dc, dcc) {
        if (dcc_takes_stream(dcc) && dcc_can_stream(dcc, s)) {
            StreamAgent *a = &dcc->agents[s->id];
            if (a->active && a->generation == s->generation) {
                stream_rate_set_source_fps(&a->rate, s->input_fps);
            }
            agent_frame(dcc, s, f, now);
        } else {
            need_op |= dcc->mode == DCC_DRAW;
        }
    }
    DisplayDrawOp *op = need_op ? display_draw_op_new(red, region) : NULL;
    FOR_EACH_DCC(dc, dcc) {
        if (!(dcc_takes_stream(dcc) && dcc_can_stream(dcc, s))) {
            dcc_draw(dcc, op, red->surface_id, region);
        }
    }
    display_draw_op_unref(op);
    stream_frame_settle(f);
    stream_frame_unref(f);
    return STREAM_DRAW_DONE;
}

void dcc_stream_report(DisplayChannelClient *dcc, const WireDisplayMsg *m)
{
    uint32_t id = m->u.stream_report.stream_id;
    if (id >= STREAM_MAX || !dcc->agents[id].active) {
        return;                     /* a report can cross our STREAM_DESTROY */
    }
    StreamAgent *a = &dcc->agents[id];
    int64_t now = dcc->dc->stream_clock();
    if (m->u.stream_report.num_frames == 0 && m->u.stream_report.num_drops == UINT32_MAX) {
        /* spice-gtk's "no such stream / cannot decode": stop streaming to
         * it; its frames go as ordinary drawing from now on */
        red_debug("display client %p: refuses stream %u", (void *)dcc, id);
        uint32_t generation = a->generation;
        agent_end(dcc, id, true);
        a->refused = true;
        a->generation = generation;
        return;
    }
    if (m->u.stream_report.unique_id != a->report_id) {
        return;                     /* about an older stream with this id */
    }
    stream_rate_on_report(&a->rate, m->u.stream_report.num_frames, m->u.stream_report.num_drops,
                          m->u.stream_report.last_frame_delay, now);
}
