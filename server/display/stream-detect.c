/* Stream detection: which guest drawables are frames of a video.
 *
 * A candidate is a plain image copy (COPY, OP_PUT, no mask, an RGB bitmap)
 * onto the primary. Candidates with the same destination and source size
 * arriving less than STREAM_DETECT_MAX_GAP_MS apart form a chain in the
 * trace; STREAM_START_FRAMES of them (in FILTER mode, enough of them
 * photographic) start a stream. Later candidates join a live stream when
 * they have its destination, or grow it at most STREAM_MAX_GROWTH times,
 * within STREAM_CONTINUE_MAX_GAP_MS. A stream without frames for
 * STREAM_TIMEOUT_MS expires. All times are passed in, so tests replay
 * sequences without a clock. */
#include "server/display/stream.h"

#include <string.h>
#include <glib.h>
#include <spice/enums.h>
#include <spice/qxl_dev.h>

#include "server/encode/encoder.h"

void stream_detector_init(StreamDetector *d, int mode)
{
    memset(d, 0, sizeof(*d));
    d->mode = mode;
    for (uint32_t i = 0; i < STREAM_MAX; i++) {
        d->streams[i].id = i;
    }
}

static uint64_t rect_area(const RedRect *r)
{
    return (uint64_t)(r->right - r->left) * (uint64_t)(r->bottom - r->top);
}

static bool rect_equal(const RedRect *a, const RedRect *b)
{
    return a->left == b->left && a->top == b->top && a->right == b->right &&
           a->bottom == b->bottom;
}

static bool rect_contains(const RedRect *outer, const RedRect *inner)
{
    return outer->left <= inner->left && outer->top <= inner->top &&
           outer->right >= inner->right && outer->bottom >= inner->bottom;
}

bool stream_source_image(const RedDrawable *red, CodecImage *img)
{
    if (red->type != QXL_DRAW_COPY || !red->u.copy.src_bitmap ||
        red->u.copy.src_bitmap->type != SPICE_IMAGE_TYPE_BITMAP) {
        return false;
    }
    const RedBitmap *b = &red->u.copy.src_bitmap->u.bitmap;
    const RedRect *a = &red->u.copy.src_area;
    unsigned bpp = codec_fmt_bpp(b->format);
    if (bpp == 0 || b->format == SPICE_BITMAP_FMT_8BIT || a->left < 0 || a->top < 0 ||
        a->right <= a->left || a->bottom <= a->top || (uint32_t)a->right > b->width ||
        (uint32_t)a->bottom > b->height) {
        return false;
    }
    size_t size = 0;
    const uint8_t *data = red_bitmap_get_data(b, &size);
    bool top_down = b->flags & SPICE_BITMAP_FLAGS_TOP_DOWN;
    /* first memory row of the area: its top row if top-down, else its bottom row */
    uint32_t mem_row = top_down ? (uint32_t)a->top : b->height - (uint32_t)a->bottom;
    memset(img, 0, sizeof(*img));
    img->fmt = b->format;
    img->width = (uint32_t)(a->right - a->left);
    img->height = (uint32_t)(a->bottom - a->top);
    img->stride = b->stride;
    img->data = data + (size_t)mem_row * b->stride + (size_t)a->left * bpp;
    img->top_down = top_down;
    return codec_image_valid(img);
}

bool stream_candidate_from(const StreamDetector *d, const RedDrawable *red, StreamCandidate *c)
{
    if (d->mode != SPICE_STREAM_VIDEO_ALL && d->mode != SPICE_STREAM_VIDEO_FILTER) {
        return false;
    }
    if (red->surface_id != 0 || red->type != QXL_DRAW_COPY || red->self_bitmap ||
        red->effect != QXL_EFFECT_OPAQUE || red->u.copy.rop_descriptor != SPICE_ROPD_OP_PUT ||
        red->u.copy.mask.bitmap) {
        return false;
    }
    CodecImage img;
    if (!stream_source_image(red, &img) || red->bbox.right <= red->bbox.left ||
        red->bbox.bottom <= red->bbox.top) {
        return false;
    }
    c->dest = red->bbox;
    c->src_w = img.width;
    c->src_h = img.height;
    c->gradual = true;
    if (d->mode == SPICE_STREAM_VIDEO_FILTER) {
        if ((uint64_t)img.width * img.height < STREAM_MIN_AREA) {
            return false;
        }
        /* Text and flat UI sample as LOW: such copies only count as
         * frames, never as the photographic ones a stream needs. */
        c->gradual = red_encode_graduality(&img) != RED_ENC_GRAD_LOW;
    }
    return true;
}

static void stream_measure_fps(Stream *s, int64_t now_ms)
{
    s->fps_window_frames++;
    int64_t span = now_ms - s->fps_window_ms;
    if (span >= 1000) {
        uint32_t fps = (uint32_t)((s->fps_window_frames * 1000 + (uint64_t)span / 2) /
                                  (uint64_t)span);
        s->input_fps = CLAMP(fps, 1u, STREAM_FPS_MAX);
        s->fps_window_ms = now_ms;
        s->fps_window_frames = 0;
    }
}

static Stream *stream_start(StreamDetector *d, const StreamCandidate *c, const StreamTrace *t,
                            int64_t now_ms)
{
    for (uint32_t i = 0; i < STREAM_MAX; i++) {
        Stream *s = &d->streams[i];
        if (s->live) {
            continue;
        }
        s->live = true;
        s->dest = c->dest;
        s->src_w = c->src_w;
        s->src_h = c->src_h;
        s->start_ms = now_ms;
        s->last_ms = now_ms;
        s->frames = 1;
        s->generation = ++d->generations;
        /* the detection run gives the first rate estimate */
        int64_t span = now_ms - t->first_ms;
        uint32_t fps = STREAM_DEFAULT_FPS;
        if (span > 0) {
            fps = (uint32_t)(((uint64_t)(t->frames - 1) * 1000 + (uint64_t)span / 2) /
                             (uint64_t)span);
        }
        s->input_fps = CLAMP(fps, 1u, STREAM_FPS_MAX);
        s->fps_window_ms = now_ms;
        s->fps_window_frames = 0;
        d->n_live++;
        return s;
    }
    return NULL;                    /* all ids busy: stays ordinary drawing */
}

StreamFeed stream_detector_feed(StreamDetector *d, const StreamCandidate *c, int64_t now_ms,
                                Stream **out)
{
    *out = NULL;
    for (uint32_t i = 0; i < STREAM_MAX && d->n_live; i++) {
        Stream *s = &d->streams[i];
        if (!s->live || now_ms - s->last_ms > STREAM_CONTINUE_MAX_GAP_MS) {
            continue;
        }
        StreamFeed kind;
        if (rect_equal(&c->dest, &s->dest) && c->src_w == s->src_w && c->src_h == s->src_h) {
            kind = STREAM_FEED_CONTINUED;
        } else if (rect_contains(&c->dest, &s->dest) &&
                   rect_area(&c->dest) <= STREAM_MAX_GROWTH * rect_area(&s->dest)) {
            kind = STREAM_FEED_RESIZED;
            s->dest = c->dest;
            s->src_w = c->src_w;
            s->src_h = c->src_h;
        } else {
            continue;
        }
        s->last_ms = now_ms;
        s->frames++;
        stream_measure_fps(s, now_ms);
        *out = s;
        return kind;
    }

    for (uint32_t i = 0; i < STREAM_TRACE_SLOTS; i++) {
        StreamTrace *t = &d->trace[i];
        if (!t->used || now_ms - t->last_ms > STREAM_DETECT_MAX_GAP_MS ||
            now_ms < t->last_ms || !rect_equal(&t->dest, &c->dest) || t->src_w != c->src_w ||
            t->src_h != c->src_h) {
            continue;
        }
        t->frames++;
        t->last_ms = now_ms;
        if (c->gradual) {
            if (t->frames - t->last_gradual > STREAM_RESET_FRAMES) {
                /* a long flat run before this: count from here */
                t->frames = 1;
                t->gradual_frames = 0;
                t->first_ms = now_ms;
            }
            t->gradual_frames++;
            t->last_gradual = t->frames;
        }
        if (t->frames >= STREAM_START_FRAMES &&
            (uint64_t)t->gradual_frames * 100 >= (uint64_t)STREAM_GRADUAL_MIN_PERCENT * t->frames) {
            Stream *s = stream_start(d, c, t, now_ms);
            if (s) {
                memset(t, 0, sizeof(*t));
                *out = s;
                return STREAM_FEED_STARTED;
            }
        }
        return STREAM_FEED_NONE;
    }

    StreamTrace *t = &d->trace[d->next_trace++ % STREAM_TRACE_SLOTS];
    *t = (StreamTrace){ .used = true, .dest = c->dest, .src_w = c->src_w, .src_h = c->src_h,
                        .first_ms = now_ms, .last_ms = now_ms, .frames = 1,
                        .gradual_frames = c->gradual ? 1 : 0, .last_gradual = c->gradual ? 1 : 0 };
    return STREAM_FEED_NONE;
}

void stream_detector_end(StreamDetector *d, Stream *s)
{
    g_assert(s->live && d->n_live > 0);
    s->live = false;
    d->n_live--;
}

Stream *stream_detector_expired(StreamDetector *d, int64_t now_ms)
{
    for (uint32_t i = 0; i < STREAM_MAX && d->n_live; i++) {
        Stream *s = &d->streams[i];
        if (s->live && now_ms - s->last_ms >= STREAM_TIMEOUT_MS) {
            return s;
        }
    }
    return NULL;
}

int64_t stream_detector_next_deadline(const StreamDetector *d, int64_t now_ms)
{
    int64_t best = -1;
    for (uint32_t i = 0; i < STREAM_MAX && d->n_live; i++) {
        const Stream *s = &d->streams[i];
        if (!s->live) {
            continue;
        }
        int64_t left = MAX(s->last_ms + STREAM_TIMEOUT_MS - now_ms, (int64_t)0);
        if (best < 0 || left < best) {
            best = left;
        }
    }
    return best;
}
