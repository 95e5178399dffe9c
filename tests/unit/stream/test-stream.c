/* Video streams: detection over synthetic drawable sequences (explicit
 * times, no clock), the rate controller, and the byte layouts of the
 * stream messages. */
#include <string.h>
#include <glib.h>
#include <spice/enums.h>
#include <spice/protocol.h>

#include "common/wire/display-marshal.h"
#include "common/wire/reader.h"
#include "server/display/stream.h"
#include "tests/unit/stream/stream-util.h"

/* Feeds n frames (make(i)) every gap_ms from t0; returns the index of the
 * frame that started a stream, or -1. */
static int feed_sequence(StreamDetector *d, TestDraw *(*make)(int, int, int, int, int), int w,
                         int h, int n, int64_t t0, int gap_ms, Stream **started)
{
    int start = -1;
    for (int i = 0; i < n; i++) {
        TestDraw *td = make(10, 20, w, h, i);
        StreamCandidate c;
        if (stream_candidate_from(d, &td->red, &c)) {
            Stream *s = NULL;
            StreamFeed f = stream_detector_feed(d, &c, t0 + (int64_t)i * gap_ms, &s);
            if (f == STREAM_FEED_STARTED && start < 0) {
                start = i;
                *started = s;
            }
        }
        test_draw_free(td);
    }
    return start;
}

static void test_detect_video(void)
{
    const int modes[] = { SPICE_STREAM_VIDEO_ALL, SPICE_STREAM_VIDEO_FILTER };
    for (unsigned m = 0; m < G_N_ELEMENTS(modes); m++) {
        StreamDetector d;
        Stream *s = NULL;
        stream_detector_init(&d, modes[m]);
        int start = feed_sequence(&d, stream_test_video_frame, 160, 120, 40, 1000, 33, &s);
        /* the 20th frame of the run starts it */
        g_assert_cmpint(start, ==, (int)STREAM_START_FRAMES - 1);
        g_assert_nonnull(s);
        g_assert_true(s->live);
        g_assert_cmpuint(s->id, <, STREAM_MAX);
        g_assert_cmpint(s->dest.left, ==, 10);
        g_assert_cmpint(s->dest.bottom, ==, 140);
        g_assert_cmpuint(s->src_w, ==, 160);
        g_assert_cmpuint(s->input_fps, >=, 29);
        g_assert_cmpuint(s->input_fps, <=, 31);
        g_assert_cmpuint(d.n_live, ==, 1);
        g_assert_cmpuint(s->frames, ==, 21);    /* 20 more frames joined it */
        int64_t last = 1000 + 39 * 33;
        g_assert_cmpint(s->last_ms, ==, last);
        /* timeout: not before STREAM_TIMEOUT_MS without frames */
        g_assert_null(stream_detector_expired(&d, last + STREAM_TIMEOUT_MS - 1));
        g_assert_cmpint(stream_detector_next_deadline(&d, last), ==, STREAM_TIMEOUT_MS);
        g_assert_true(stream_detector_expired(&d, last + STREAM_TIMEOUT_MS) == s);
        stream_detector_end(&d, s);
        g_assert_cmpuint(d.n_live, ==, 0);
        g_assert_cmpint(stream_detector_next_deadline(&d, last), ==, -1);
    }
}

static void test_detect_static_and_slow(void)
{
    StreamDetector d;
    Stream *s = NULL;
    stream_detector_init(&d, SPICE_STREAM_VIDEO_ALL);
    /* the same box redrawn twice a second is not video */
    g_assert_cmpint(feed_sequence(&d, stream_test_video_frame, 160, 120, 60, 0, 500, &s), ==, -1);
    /* a gap just over the detection limit in the middle restarts the count */
    stream_detector_init(&d, SPICE_STREAM_VIDEO_ALL);
    g_assert_cmpint(feed_sequence(&d, stream_test_video_frame, 160, 120, 15, 0, 33, &s), ==, -1);
    g_assert_cmpint(feed_sequence(&d, stream_test_video_frame, 160, 120, 15,
                                  14 * 33 + STREAM_DETECT_MAX_GAP_MS + 1, 33, &s), ==, -1);
    g_assert_cmpuint(d.n_live, ==, 0);
    /* a single static image: one frame, never a stream */
    stream_detector_init(&d, SPICE_STREAM_VIDEO_ALL);
    g_assert_cmpint(feed_sequence(&d, stream_test_video_frame, 160, 120, 1, 0, 33, &s), ==, -1);
}

static void test_detect_text_filter(void)
{
    StreamDetector d;
    Stream *s = NULL;
    /* FILTER: fast but flat text-like updates never start a stream */
    stream_detector_init(&d, SPICE_STREAM_VIDEO_FILTER);
    g_assert_cmpint(feed_sequence(&d, stream_test_text_frame, 160, 120, 200, 0, 20, &s), ==, -1);
    g_assert_cmpuint(d.n_live, ==, 0);
    /* ALL streams them */
    stream_detector_init(&d, SPICE_STREAM_VIDEO_ALL);
    g_assert_cmpint(feed_sequence(&d, stream_test_text_frame, 160, 120, 40, 0, 20, &s), ==,
                    (int)STREAM_START_FRAMES - 1);
    /* FILTER: too small; ALL: fine */
    stream_detector_init(&d, SPICE_STREAM_VIDEO_FILTER);
    g_assert_cmpint(feed_sequence(&d, stream_test_video_frame, 64, 64, 40, 0, 33, &s), ==, -1);
    stream_detector_init(&d, SPICE_STREAM_VIDEO_ALL);
    g_assert_cmpint(feed_sequence(&d, stream_test_video_frame, 64, 64, 40, 0, 33, &s), ==,
                    (int)STREAM_START_FRAMES - 1);
    /* OFF: nothing is even a candidate */
    stream_detector_init(&d, SPICE_STREAM_VIDEO_OFF);
    TestDraw *td = stream_test_video_frame(0, 0, 160, 120, 0);
    StreamCandidate c;
    g_assert_false(stream_candidate_from(&d, &td->red, &c));
    /* nor, in ALL, copies with rop tricks, masks or on other surfaces */
    stream_detector_init(&d, SPICE_STREAM_VIDEO_ALL);
    g_assert_true(stream_candidate_from(&d, &td->red, &c));
    td->red.u.copy.rop_descriptor = SPICE_ROPD_OP_XOR;
    g_assert_false(stream_candidate_from(&d, &td->red, &c));
    td->red.u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    td->red.surface_id = 1;
    g_assert_false(stream_candidate_from(&d, &td->red, &c));
    td->red.surface_id = 0;
    td->red.type = QXL_DRAW_BLEND;
    g_assert_false(stream_candidate_from(&d, &td->red, &c));
    test_draw_free(td);
}

static void test_detect_continue_resize_many(void)
{
    StreamDetector d;
    Stream *s = NULL;
    stream_detector_init(&d, SPICE_STREAM_VIDEO_ALL);
    g_assert_cmpint(feed_sequence(&d, stream_test_video_frame, 160, 120, 20, 0, 33, &s), ==, 19);
    int64_t t = 19 * 33;
    uint32_t gen = s->generation;
    /* a live stream tolerates gaps up to a second */
    StreamCandidate c = { .dest = { 10, 20, 170, 140 }, .src_w = 160, .src_h = 120,
                          .gradual = true };
    Stream *got = NULL;
    g_assert_cmpint(stream_detector_feed(&d, &c, t + 900, &got), ==, STREAM_FEED_CONTINUED);
    g_assert_true(got == s);
    /* a frame growing the box (up to twice the area) stays in it */
    c.dest = (RedRect){ 10, 20, 200, 160 };
    c.src_w = 190;
    c.src_h = 140;
    g_assert_cmpint(stream_detector_feed(&d, &c, t + 930, &got), ==, STREAM_FEED_RESIZED);
    g_assert_true(got == s);
    g_assert_cmpint(s->dest.right, ==, 200);
    /* a much bigger one does not */
    c.dest = (RedRect){ 0, 0, 400, 400 };
    g_assert_cmpint(stream_detector_feed(&d, &c, t + 960, &got), ==, STREAM_FEED_NONE);
    stream_detector_end(&d, s);

    /* STREAM_MAX streams at once, distinct ids; one more stays ordinary */
    stream_detector_init(&d, SPICE_STREAM_VIDEO_ALL);
    bool seen[STREAM_MAX] = { false };
    for (uint32_t k = 0; k <= STREAM_MAX; k++) {
        StreamCandidate ck = { .dest = { (int)k * 10, 0, (int)k * 10 + 8, 8 }, .src_w = 8,
                               .src_h = 8, .gradual = true };
        StreamFeed f = STREAM_FEED_NONE;
        for (uint32_t i = 0; i < STREAM_START_FRAMES; i++) {
            f = stream_detector_feed(&d, &ck, (int64_t)k * 10000 + i * 10, &got);
        }
        if (k < STREAM_MAX) {
            g_assert_cmpint(f, ==, STREAM_FEED_STARTED);
            g_assert_false(seen[got->id]);
            seen[got->id] = true;
        } else {
            g_assert_cmpint(f, ==, STREAM_FEED_NONE);
        }
    }
    g_assert_cmpuint(d.n_live, ==, STREAM_MAX);
    g_assert_cmpuint(gen, >, 0);
}

static void test_rate_controller(void)
{
    StreamRate r;
    int64_t t = 0;
    stream_rate_init(&r, 30, true, t);
    g_assert_cmpint(r.quality, ==, STREAM_QUALITY_START);
    g_assert_cmpuint(r.fps, ==, 30);
    g_assert_cmpuint(r.margin_ms, ==, STREAM_MARGIN_START_MS);

    /* drops: quality steps down to its floor, one step per cooldown */
    int q = r.quality;
    t += STREAM_ADJUST_COOLDOWN_MS;
    stream_rate_on_report(&r, 5, 2, 10, t);
    g_assert_cmpint(r.quality, ==, q - STREAM_QUALITY_STEP);
    stream_rate_on_report(&r, 5, 2, 10, t + 1);     /* within the cooldown */
    g_assert_cmpint(r.quality, ==, q - STREAM_QUALITY_STEP);
    for (int i = 0; i < 20; i++) {
        t += STREAM_ADJUST_COOLDOWN_MS;
        stream_rate_on_report(&r, 5, 3, 10, t);
    }
    g_assert_cmpint(r.quality, ==, STREAM_QUALITY_MIN);
    /* then the frame rate, down to its floor */
    g_assert_cmpuint(r.fps, ==, STREAM_FPS_MIN);
    g_assert_false(stream_rate_may_send(&r, t, t + 100));
    g_assert_true(stream_rate_may_send(&r, t, t + 200));
    g_assert_true(stream_rate_may_send(&r, -1, t));

    /* clean reports: fps comes back to the source rate first, then quality */
    for (int i = 0; i < 200 && r.fps < 30; i++) {
        t += STREAM_ADJUST_COOLDOWN_MS;
        stream_rate_on_report(&r, 5, 0, 10, t);
    }
    g_assert_cmpuint(r.fps, ==, 30);
    g_assert_cmpint(r.quality, ==, STREAM_QUALITY_MIN);
    for (int i = 0; i < 200; i++) {
        t += STREAM_ADJUST_COOLDOWN_MS;
        stream_rate_on_report(&r, 5, 0, 10, t);
    }
    g_assert_cmpint(r.quality, ==, STREAM_QUALITY_MAX);
    g_assert_cmpuint(r.fps, ==, 30);
    g_assert_true(stream_rate_may_send(&r, t, t + 1));     /* full rate: no pacing */

    /* a server-side drop (pipe full) lowers at once, without a report */
    t += STREAM_ADJUST_COOLDOWN_MS;
    stream_rate_on_server_drop(&r, t);
    g_assert_cmpint(r.quality, ==, STREAM_QUALITY_MAX - STREAM_QUALITY_STEP);
    g_assert_cmpuint(r.drops_total, ==, 1);

    /* late frames widen the margin (bounded), roomy ones narrow it */
    for (int i = 0; i < 40; i++) {
        stream_rate_on_report(&r, 5, 0, -5, t);
    }
    g_assert_cmpuint(r.margin_ms, ==, STREAM_MARGIN_MAX_MS);
    for (int i = 0; i < 400; i++) {
        stream_rate_on_report(&r, 5, 0, 1000, t);
    }
    g_assert_cmpuint(r.margin_ms, ==, STREAM_MARGIN_MIN_MS);

    /* a source slower than our rate caps it */
    stream_rate_set_source_fps(&r, 12);
    g_assert_cmpuint(r.fps, ==, 12);

    /* no client reports: the server judges each second itself */
    stream_rate_init(&r, 30, false, 0);
    stream_rate_on_server_drop(&r, STREAM_ADJUST_COOLDOWN_MS);
    q = r.quality;
    for (int64_t ms = 0; ms < 20000; ms += 33) {
        stream_rate_on_sent(&r, 1000, 64 * 64, STREAM_ADJUST_COOLDOWN_MS + ms);
    }
    g_assert_cmpint(r.quality, >, q);
    g_assert_cmpuint(r.frames_sent, >, 600);
}

/* A measured link: the starting point fits it (quality first, then the
 * frame rate); no measurement or a fast link changes nothing. */
static void test_rate_fit_link(void)
{
    StreamRate r;
    uint64_t px = 800 * 600;
    stream_rate_init(&r, 30, true, 0);
    stream_rate_fit_link(&r, 0, px);
    g_assert_cmpint(r.quality, ==, STREAM_QUALITY_START);
    stream_rate_fit_link(&r, 10000000000ull, px);           /* 10 Gbit/s */
    g_assert_cmpint(r.quality, ==, STREAM_QUALITY_START);
    g_assert_cmpuint(r.fps, ==, 30);
    /* 10 Mbit/s, 70% usable: 875 KB/s, 29.2 KB per frame at 30 fps;
     * 800x600 is expected at 49.0 KB at 80, 37.8 KB at 70, 28.0 KB at 60:
     * quality 60, full rate */
    stream_rate_fit_link(&r, 10000000, px);
    g_assert_cmpint(r.quality, ==, 60);
    g_assert_cmpuint(r.fps, ==, 30);
    /* 1 Mbit/s: quality at its floor and a lower frame rate */
    stream_rate_init(&r, 30, true, 0);
    stream_rate_fit_link(&r, 1000000, px);
    g_assert_cmpint(r.quality, ==, STREAM_QUALITY_MIN);
    g_assert_cmpuint(r.fps, <, 30);
    g_assert_cmpuint(r.fps, >=, STREAM_FPS_MIN);
    /* never raises */
    stream_rate_init(&r, 30, true, 0);
    r.quality = 50;
    stream_rate_fit_link(&r, 10000000000ull, px);
    g_assert_cmpint(r.quality, ==, 50);
}

/* Frames skipped while the client is behind: no news before the stream's
 * first frame, then one step per episode (until a frame is sent). */
static void test_rate_behind(void)
{
    StreamRate r;
    int64_t t = 0;
    stream_rate_init(&r, 30, true, t);
    for (int i = 0; i < 10; i++) {
        t += STREAM_ADJUST_COOLDOWN_MS;
        stream_rate_on_behind(&r, t);
    }
    g_assert_cmpint(r.quality, ==, STREAM_QUALITY_START);
    g_assert_cmpuint(r.lowers, ==, 0);
    g_assert_cmpuint(r.behind_total, ==, 10);
    stream_rate_on_sent(&r, 1000, 64 * 64, t);
    for (int i = 0; i < 10; i++) {
        t += STREAM_ADJUST_COOLDOWN_MS;
        stream_rate_on_behind(&r, t);
    }
    g_assert_cmpint(r.quality, ==, STREAM_QUALITY_START - STREAM_QUALITY_STEP);
    g_assert_cmpuint(r.lowers, ==, 1);
    g_assert_cmpuint(r.drops_total, ==, 1);
    stream_rate_on_sent(&r, 1000, 64 * 64, t);
    t += STREAM_ADJUST_COOLDOWN_MS;
    stream_rate_on_behind(&r, t);
    g_assert_cmpuint(r.lowers, ==, 2);
}

/* The benchmark knob: a pinned quality never moves; drops and clean
 * reports move only the frame rate. The environment variable is read as
 * a number 1..100, anything else means "not pinned". */
static void test_rate_pinned(void)
{
    StreamRate r;
    int64_t t = 0;
    stream_rate_init(&r, 30, true, t);
    stream_rate_pin_quality(&r, 67);
    g_assert_cmpint(r.quality, ==, 67);
    for (int i = 0; i < 20; i++) {
        t += STREAM_ADJUST_COOLDOWN_MS;
        stream_rate_on_server_drop(&r, t);
    }
    g_assert_cmpint(r.quality, ==, 67);
    g_assert_cmpuint(r.fps, ==, STREAM_FPS_MIN);
    for (int i = 0; i < 200; i++) {
        t += STREAM_ADJUST_COOLDOWN_MS;
        stream_rate_on_report(&r, 5, 0, 10, t);
    }
    g_assert_cmpint(r.quality, ==, 67);
    g_assert_cmpuint(r.fps, ==, 30);

    static const struct {
        const char *v;
        int q;
    } env[] = { { "80", 80 }, { "1", 1 }, { "100", 100 }, { "0", 0 }, { "101", 0 },
                { "8x", 0 }, { "", 0 }, { "-5", 0 } };
    for (size_t i = 0; i < G_N_ELEMENTS(env); i++) {
        g_setenv(STREAM_ENV_BENCH_QUALITY, env[i].v, TRUE);
        g_assert_cmpint(stream_rate_bench_quality(), ==, env[i].q);
    }
    g_unsetenv(STREAM_ENV_BENCH_QUALITY);
    g_assert_cmpint(stream_rate_bench_quality(), ==, 0);
}

/* What a waiting frame is charged: a quality bound before any frame was
 * sent, then the last frame's JPEG size scaled to the new frame's area. */
static void test_rate_expected_bytes(void)
{
    StreamRate r;
    stream_rate_init(&r, 30, true, 0);
    uint64_t px = 1600 * 900;
    size_t first = stream_rate_expected_bytes(&r, px);
    g_assert_cmpuint(first, ==, px * STREAM_QUALITY_START / STREAM_FIRST_FRAME_QUALITY_DIVISOR +
                                    STREAM_FRAME_HEADER_BYTES);
    g_assert_cmpuint(first, <, px);                     /* a quarter of the raw copy at most */
    stream_rate_on_sent(&r, 100000, px, 0);
    g_assert_cmpuint(stream_rate_expected_bytes(&r, px), ==,
                     100000 * 9 / 8 + STREAM_FRAME_HEADER_BYTES);
    g_assert_cmpuint(stream_rate_expected_bytes(&r, px * 2), ==,
                     100000 * 9 / 8 * 2 + STREAM_FRAME_HEADER_BYTES);
}

/* ---- byte layouts ---- */

static void expect_bytes(const WireWriter *w, const uint8_t *want, size_t n)
{
    g_assert_cmpuint(w->len, ==, n);
    g_assert_cmpmem(w->data, w->len, want, n);
}

#define LE32(v) (uint8_t)(v), (uint8_t)((v) >> 8), (uint8_t)((v) >> 16), (uint8_t)((uint32_t)(v) >> 24)

static void test_marshal(void)
{
    WireWriter w;
    wire_writer_init(&w);

    WireRect rects[2] = { { 1, 2, 3, 4 }, { 5, 6, 7, 8 } };
    WireStreamCreate c = { .surface_id = 0, .id = 7, .flags = SPICE_STREAM_FLAGS_TOP_DOWN,
                           .codec_type = SPICE_VIDEO_CODEC_TYPE_MJPEG, .stamp = 0,
                           .stream_width = 160, .stream_height = 120, .src_width = 160,
                           .src_height = 120, .dest = { 10, 20, 170, 140 },
                           .clip = { SPICE_CLIP_TYPE_RECTS, 2, rects } };
    wire_display_stream_create(&w, &c);
    const uint8_t create[] = {
        LE32(0), LE32(7), 1, 1, LE32(0), LE32(0),
        LE32(160), LE32(120), LE32(160), LE32(120),
        LE32(20), LE32(10), LE32(140), LE32(170),           /* top, left, bottom, right */
        1, LE32(2), LE32(2), LE32(1), LE32(4), LE32(3), LE32(6), LE32(5), LE32(8), LE32(7),
    };
    expect_bytes(&w, create, sizeof(create));
    g_assert_cmpuint(sizeof(create), ==, 51 + 4 + 32);

    wire_writer_reset(&w);
    c.clip = (WireClip){ SPICE_CLIP_TYPE_NONE, 0, NULL };
    wire_display_stream_create(&w, &c);
    g_assert_cmpuint(w.len, ==, 51);                /* fixed part + clip type */

    wire_writer_reset(&w);
    const uint8_t jpeg[3] = { 0xff, 0xd8, 0xff };
    wire_display_stream_data(&w, 7, 123456, jpeg, 3);
    const uint8_t data[] = { LE32(7), LE32(123456), LE32(3), 0xff, 0xd8, 0xff };
    expect_bytes(&w, data, sizeof(data));

    wire_writer_reset(&w);
    WireRect dest = { 10, 20, 200, 160 };
    wire_display_stream_data_sized(&w, 7, 99, 190, 140, &dest, jpeg, 3);
    const uint8_t sized[] = { LE32(7), LE32(99), LE32(190), LE32(140),
                              LE32(20), LE32(10), LE32(160), LE32(200),
                              LE32(3), 0xff, 0xd8, 0xff };
    expect_bytes(&w, sized, sizeof(sized));

    wire_writer_reset(&w);
    WireClip clip = { SPICE_CLIP_TYPE_RECTS, 0, NULL };    /* hides the stream */
    wire_display_stream_clip(&w, 7, &clip);
    const uint8_t clipb[] = { LE32(7), 1, LE32(0) };
    expect_bytes(&w, clipb, sizeof(clipb));

    wire_writer_reset(&w);
    wire_display_stream_destroy(&w, 7);
    const uint8_t destroy[] = { LE32(7) };
    expect_bytes(&w, destroy, sizeof(destroy));

    wire_writer_reset(&w);
    wire_display_stream_activate_report(&w, 7, 0xdeadbeef, 5, 1000);
    const uint8_t act[] = { LE32(7), LE32(0xdeadbeef), LE32(5), LE32(1000) };
    expect_bytes(&w, act, sizeof(act));

    wire_writer_clear(&w);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/stream/detect/video", test_detect_video);
    g_test_add_func("/stream/detect/static-and-slow", test_detect_static_and_slow);
    g_test_add_func("/stream/detect/text-filter-off", test_detect_text_filter);
    g_test_add_func("/stream/detect/continue-resize-many", test_detect_continue_resize_many);
    g_test_add_func("/stream/rate", test_rate_controller);
    g_test_add_func("/stream/rate/expected-bytes", test_rate_expected_bytes);
    g_test_add_func("/stream/rate/pinned", test_rate_pinned);
    g_test_add_func("/stream/rate/behind", test_rate_behind);
    g_test_add_func("/stream/rate/fit-link", test_rate_fit_link);
    g_test_add_func("/stream/marshal", test_marshal);
    return g_test_run();
}
