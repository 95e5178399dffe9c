/* Video streams in the display channel against a raw client on a
 * socketpair (the harness of tests/unit/display): the stream message
 * sequence, JPEG frames the client can decode, clip updates, the timeout
 * with its lossless upgrade, and a client without MJPEG getting ordinary
 * draws; streams whose raw frames exceed half the pipe budget, with a
 * reading and a stalled client. The stream clock is injected; the timeout
 * waits for the stream timer (at most ~1 s, bounded). */
#include <string.h>
#include <glib.h>
#include <spice/protocol.h>

#include "common/codec/jpeg-codec.h"
#include "server/display/dcc.h"
#include "server/display/display-channel.h"
#include "tests/unit/display/draw-util.h"
#include "tests/unit/display/raw-client.h"
#include "tests/unit/stream/stream-util.h"

static int64_t fake_now;

static int64_t fake_clock(void)
{
    return fake_now;
}

typedef struct StreamSeen {
    unsigned creates, datas, sized, clips, destroys, reports_activated;
    uint32_t create_flags, create_codec, last_id;
    uint32_t last_mm_time;
    bool bad_jpeg;
    uint32_t jpeg_w, jpeg_h;
} StreamSeen;

static StreamSeen seen;

static bool stream_message(uint16_t type, const uint8_t *body, uint32_t size)
{
    switch (type) {
    case SPICE_MSG_DISPLAY_STREAM_CREATE:
        seen.creates++;
        seen.last_id = rd32(body + 4);
        seen.create_flags = body[8];
        seen.create_codec = body[9];
        return true;
    case SPICE_MSG_DISPLAY_STREAM_DATA: {
        seen.datas++;
        seen.last_mm_time = rd32(body + 4);
        uint32_t n = rd32(body + 8);
        CodecPicture pic;
        const char *err = NULL;
        if (n + 12 != size || !jpeg_decode(body + 12, n, &pic, &err)) {
            seen.bad_jpeg = true;
            return true;
        }
        seen.jpeg_w = pic.width;
        seen.jpeg_h = pic.height;
        codec_picture_clear(&pic);
        return true;
    }
    case SPICE_MSG_DISPLAY_STREAM_DATA_SIZED:
        seen.sized++;
        return true;
    case SPICE_MSG_DISPLAY_STREAM_CLIP:
        seen.clips++;
        return true;
    case SPICE_MSG_DISPLAY_STREAM_DESTROY:
        seen.destroys++;
        return true;
    case SPICE_MSG_DISPLAY_STREAM_ACTIVATE_REPORT:
        seen.reports_activated++;
        return true;
    default:
        return false;
    }
}
/* ---- channel against a decoding client on a socketpair (raw-client.h) ---- */

/* The raw harness with the stream messages counted here and the stream
 * clock injected. */
static void harness_init(RawHarness *h)
{
    rh_init(h);
    h->on_message = stream_message;
    display_channel_set_stream_clock(h->dc, fake_clock);
}

#define VX 16
#define VY 16
#define VW 128
#define VH 96

/* n video frames, 33 ms apart on the fake clock, reading as we go. */
static void play(RawHarness *h, int first, int n)
{
    for (int i = first; i < first + n; i++) {
        fake_now += 33;
        rh_draw(h, stream_test_video_frame(VX, VY, VW, VH, i));
        rh_pump(h, true);
    }
}

/* Waits (bounded) for the stream timer to end the stream. */
static void wait_timeout(RawHarness *h)
{
    fake_now += STREAM_TIMEOUT_MS + 1;
    unsigned destroys = seen.destroys;
    for (int i = 0; i < 200 && seen.destroys == destroys; i++) {
        g_main_context_iteration(h->ctx, TRUE);     /* the timer: <= 1 s */
        rh_pump(h, true);
    }
    g_assert_cmpuint(seen.destroys, ==, destroys + 1);
}

static void test_stream_sequence(void)
{
    RawHarness h;
    memset(&seen, 0, sizeof(seen));
    fake_now = 100000;
    harness_init(&h);
    /* no MULTI_CODEC: an old client, MJPEG implied */
    rh_connect(&h, 1u << SPICE_DISPLAY_CAP_STREAM_REPORT);
    g_assert_cmpuint(((DisplayChannel *)h.dc)->streams.mode, ==, SPICE_STREAM_VIDEO_FILTER);

    play(&h, 0, STREAM_START_FRAMES - 1);
    rh_settle(&h);
    g_assert_cmpuint(seen.creates, ==, 0);           /* 19 frames: ordinary copies */
    play(&h, STREAM_START_FRAMES - 1, 11);
    rh_settle(&h);
    g_assert_cmpuint(seen.creates, ==, 1);
    g_assert_cmpuint(seen.create_flags, ==, SPICE_STREAM_FLAGS_TOP_DOWN);
    g_assert_cmpuint(seen.create_codec, ==, SPICE_VIDEO_CODEC_TYPE_MJPEG);
    g_assert_cmpuint(seen.last_id, <, STREAM_MAX);
    g_assert_cmpuint(seen.reports_activated, ==, 1);
    g_assert_cmpuint(seen.datas, >=, 8);
    g_assert_false(seen.bad_jpeg);
    g_assert_cmpuint(seen.jpeg_w, ==, VW);
    g_assert_cmpuint(seen.jpeg_h, ==, VH);
    g_assert_cmpuint(seen.last_mm_time, !=, 0);

    /* something drawn over part of the video: the clip shrinks first */
    unsigned clips = seen.clips;
    rh_draw(&h, test_draw_fill(0, VX + 8, VY + 8, 20, 20, 0xff0000));
    rh_settle(&h);
    g_assert_cmpuint(seen.clips, ==, clips + 1);
    play(&h, 30, 3);                                 /* frames paint it all again */
    rh_settle(&h);
    g_assert_cmpuint(seen.clips, ==, clips + 2);

    /* a report from the client reaches the controller */
    DisplayChannelClient *dcc = h.dc->clients->data;
    StreamAgent *a = &dcc->agents[seen.last_id];
    g_assert_true(a->active);
    uint32_t rep[8] = { seen.last_id, a->report_id, 1, 2, 5, 0, 10, UINT32_MAX };
    rh_send(&h, SPICE_MSGC_DISPLAY_STREAM_REPORT, rep, sizeof(rep));
    rh_settle(&h);
    g_assert_cmpuint(a->rate.reports, ==, 1);

    /* frames stop: STREAM_DESTROY, then the area as lossless images */
    wait_timeout(&h);
    rh_settle(&h);
    g_assert_false(a->active);
    g_assert_false(h.tc.error);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);

    /* the client says it cannot play a stream: ordinary draws from then on */
    play(&h, 40, STREAM_START_FRAMES + 2);
    rh_settle(&h);
    g_assert_cmpuint(seen.creates, ==, 2);
    uint32_t refuse[8] = { seen.last_id, 0, 0, 0, 0, UINT32_MAX, 0, UINT32_MAX };
    rh_send(&h, SPICE_MSGC_DISPLAY_STREAM_REPORT, refuse, sizeof(refuse));
    rh_settle(&h);
    g_assert_cmpuint(seen.destroys, ==, 2);
    unsigned datas = seen.datas;
    play(&h, 70, 5);
    rh_settle(&h);
    g_assert_cmpuint(seen.datas, ==, datas);
    g_assert_false(h.tc.error);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);
    rh_fini(&h);
}

static void test_no_mjpeg_client(void)
{
    RawHarness h;
    memset(&seen, 0, sizeof(seen));
    fake_now = 100000;
    harness_init(&h);
    /* MULTI_CODEC without CODEC_MJPEG: this client plays no MJPEG */
    rh_connect(&h, 1u << SPICE_DISPLAY_CAP_MULTI_CODEC);
    play(&h, 0, 40);
    rh_settle(&h);
    g_assert_cmpuint(((DisplayChannel *)h.dc)->streams.n_live, ==, 1);
    g_assert_cmpuint(seen.creates, ==, 0);
    g_assert_cmpuint(seen.datas, ==, 0);
    g_assert_false(h.tc.error);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);
    rh_fini(&h);
}

static void test_streaming_off(void)
{
    RawHarness h;
    memset(&seen, 0, sizeof(seen));
    fake_now = 100000;
    harness_init(&h);
    rh_connect(&h, 0);
    play(&h, 0, 40);
    rh_settle(&h);
    g_assert_cmpuint(seen.creates, ==, 1);
    /* switching streaming off ends the stream with an upgrade */
    display_channel_set_streaming_video(h.dc, SPICE_STREAM_VIDEO_OFF);
    rh_settle(&h);
    g_assert_cmpuint(seen.destroys, ==, 1);
    play(&h, 40, 40);
    rh_settle(&h);
    g_assert_cmpuint(seen.creates, ==, 1);
    g_assert_false(h.tc.error);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);
    /* the primary going away ends streams first */
    display_channel_set_streaming_video(h.dc, SPICE_STREAM_VIDEO_ALL);
    play(&h, 80, 30);
    rh_settle(&h);
    g_assert_cmpuint(seen.creates, ==, 2);
    display_channel_surface_destroy(h.dc, 0);
    rh_settle(&h);
    g_assert_cmpuint(seen.destroys, ==, 2);
    g_assert_cmpuint(((DisplayChannel *)h.dc)->streams.n_live, ==, 0);
    rh_fini(&h);
}

/* ---- the pipe budget (docs/streams.md) ---- */

/* n full-primary video frames, 33 ms apart, reading as we go (or not). */
static void play_full(RawHarness *h, int first, int n, bool read)
{
    for (int i = first; i < first + n; i++) {
        fake_now += 33;
        rh_draw(h, stream_test_video_frame(0, 0, RH_PRIMARY_W, RH_PRIMARY_H, i));
        rh_pump(h, read);
    }
}

static unsigned frames_in_pipe(const DisplayChannelClient *dcc)
{
    unsigned n = 0;
    for (GList *l = dcc->base.pipe.head; l; l = l->next) {
        n += ((RedPipeItem *)l->data)->kind == DCC_ITEM_STREAM_FRAME;
    }
    return n;
}

/* Lowers the budget so one raw frame of the whole primary is larger than
 * the operation limit (half the budget). */
static void small_budget(RawHarness *h)
{
    h->dc->pipe_budget = DISPLAY_MIN_PIPE_BUDGET;
    g_assert_cmpuint((size_t)RH_PRIMARY_W * RH_PRIMARY_H * 4, >, DISPLAY_MIN_PIPE_BUDGET / 2);
}

/* A stream whose raw frames are larger than half the pipe budget still
 * sends its frames (they are charged their JPEG size, and one always
 * fits), and ends with the exact picture. */
static void test_large_stream_delivers(void)
{
    RawHarness h;
    memset(&seen, 0, sizeof(seen));
    fake_now = 100000;
    harness_init(&h);
    small_budget(&h);
    rh_connect(&h, 1u << SPICE_DISPLAY_CAP_STREAM_REPORT);
    uint64_t early0, copied0, early1, copied1;
    stream_frame_counts(&early0, &copied0);
    play_full(&h, 0, STREAM_START_FRAMES + 30, true);
    rh_settle(&h);
    g_assert_cmpuint(seen.creates, ==, 1);
    g_assert_cmpuint(seen.datas, >=, 20);
    /* a client that keeps up gets frames encoded straight from the
     * drawable: no frame was copied */
    stream_frame_counts(&early1, &copied1);
    g_assert_cmpuint(early1 - early0, >=, 20);
    g_assert_cmpuint(copied1, ==, copied0);
    g_assert_false(seen.bad_jpeg);
    g_assert_cmpuint(seen.jpeg_w, ==, RH_PRIMARY_W);
    g_assert_cmpuint(seen.jpeg_h, ==, RH_PRIMARY_H);
    DisplayChannelClient *dcc = h.dc->clients->data;
    StreamAgent *a = &dcc->agents[seen.last_id];
    /* the charge follows the frames sent: far below the raw copy */
    size_t charge = stream_rate_expected_bytes(&a->rate, (uint64_t)RH_PRIMARY_W * RH_PRIMARY_H);
    g_assert_cmpuint(a->rate.last_frame_bytes, >, 0);
    g_assert_cmpuint(charge, <, (size_t)RH_PRIMARY_W * RH_PRIMARY_H);
    wait_timeout(&h);
    rh_settle(&h);
    g_assert_false(h.tc.error);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);
    rh_fini(&h);
}

/* A client that stops reading: at most STREAM_MAX_QUEUED_FRAMES frames of
 * the stream wait in its pipe (the newest replace the oldest), the pipe's
 * charge stays under the operation limit plus one frame, and once it reads
 * again frames flow and the picture ends exact. */
static void test_stalled_client_bounded(void)
{
    RawHarness h;
    memset(&seen, 0, sizeof(seen));
    fake_now = 100000;
    harness_init(&h);
    small_budget(&h);
    rh_connect(&h, 1u << SPICE_DISPLAY_CAP_STREAM_REPORT);
    play_full(&h, 0, STREAM_START_FRAMES + 5, true);
    rh_settle(&h);
    g_assert_cmpuint(seen.creates, ==, 1);
    DisplayChannelClient *dcc = h.dc->clients->data;
    StreamAgent *a = &dcc->agents[seen.last_id];
    uint64_t drops = a->rate.drops_total;
    size_t limit = DISPLAY_MIN_PIPE_BUDGET / 2;
    size_t max_bytes = 0;
    unsigned max_frames = 0;

    for (int i = 0; i < 300; i++) {
        play_full(&h, 100 + i, 1, false);
        g_assert_true(a->active);
        g_assert_cmpuint(a->queued, <=, STREAM_MAX_QUEUED_FRAMES);
        g_assert_cmpuint(a->queued, ==, frames_in_pipe(dcc));
        max_frames = MAX(max_frames, frames_in_pipe(dcc));
        max_bytes = MAX(max_bytes, dcc_queued_bytes(dcc));
        g_assert_cmpuint(g_queue_get_length(&dcc->base.pipe), <=, 8);
    }
    size_t frame_charge = stream_rate_expected_bytes(&a->rate,
                                                     (uint64_t)RH_PRIMARY_W * RH_PRIMARY_H);
    g_assert_cmpuint(max_frames, ==, STREAM_MAX_QUEUED_FRAMES);
    g_assert_cmpuint(max_bytes, <=, limit + frame_charge + 4096);
    g_assert_cmpuint(a->rate.drops_total, >, drops);        /* stale frames were replaced */
    /* frames behind another waiting one are copied (they may be replaced
     * before they are sent: no encode is wasted on them) */
    uint64_t early, copied;
    stream_frame_counts(&early, &copied);
    g_assert_cmpuint(copied, >, 0);

    unsigned datas = seen.datas;
    play_full(&h, 500, 10, true);
    rh_settle(&h);
    g_assert_cmpuint(seen.datas, >, datas);
    g_assert_false(seen.bad_jpeg);
    wait_timeout(&h);
    rh_settle(&h);
    g_assert_false(h.tc.error);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);
    rh_fini(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/stream/channel/sequence", test_stream_sequence);
    g_test_add_func("/stream/channel/no-mjpeg", test_no_mjpeg_client);
    g_test_add_func("/stream/channel/off-and-surface-destroy", test_streaming_off);
    g_test_add_func("/stream/channel/large-stream-delivers", test_large_stream_delivers);
    g_test_add_func("/stream/channel/stalled-client-bounded", test_stalled_client_bounded);
    return g_test_run();
}
