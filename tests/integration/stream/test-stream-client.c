/* Video streams against the real spice-client-glib.
 *
 * The harness is tests/integration/display's: the test plays the QXL
 * worker on a thread with its own GMainContext, the server and the client
 * run on this thread's default context. A region of the primary changes at
 * 30 fps for 2 s: it must become a stream (STREAM_CREATE, MJPEG frames,
 * client reports), the client's primary must show the frames within a
 * PSNR bound while they play (waited for on a condition, bounded), and once the frames stop and the stream
 * times out, the client's primary must equal the server canvas exactly
 * (the lossless upgrade). Every wait is bounded; no sleeps (pacing waits
 * iterate the main loop until a timer fires). */
#include <math.h>
#include <string.h>

#include "tests/integration/display/display-harness.h"
#include "tests/unit/stream/stream-util.h"

#define SX 40
#define SY 30
#define SW 192
#define SH 144
#define FPS 30
/* Bound for the client to show the last frame (keeps the stream live). */
#define PSNR_WAIT_MS 10000u

typedef struct FrameJob {
    int n;
    bool text;
} FrameJob;

static void frame_job(void *data)
{
    FrameJob *j = data;
    harness_draw(j->text ? stream_test_text_frame(SX, SY, SW, SH, j->n)
                         : stream_test_video_frame(SX, SY, SW, SH, j->n));
}

static void fill_job(void *data)
{
    /* something covering part of the video: a clip update before it */
    harness_draw(test_draw_fill(0, SX + 10, SY + 10, 30, 20, 0xff8000));
}

typedef struct StatsJob {
    uint32_t live;                  /* channel streams */
    uint32_t active;                /* client agents */
    uint64_t frames_sent, reports, bytes;
    int quality;
} StatsJob;

static void stats_job(void *data)
{
    StatsJob *j = data;
    DisplayChannel *dc = (DisplayChannel *)W.dc;
    memset(j, 0, sizeof(*j));
    j->live = dc->streams.n_live;
    for (GList *l = W.dc->clients; l; l = l->next) {
        DisplayChannelClient *dcc = l->data;
        for (uint32_t i = 0; i < STREAM_MAX; i++) {
            StreamAgent *a = &dcc->agents[i];
            j->active += a->active;
            j->frames_sent += a->rate.frames_sent;
            j->reports += a->rate.reports;
            j->bytes += a->rate.bytes_sent;
            j->quality = MAX(j->quality, a->rate.quality);
        }
    }
}

static StatsJob stats(void)
{
    StatsJob j;
    on_worker(stats_job, &j);
    return j;
}

/* Iterates the main loop (client and server) for ms. */
static void pump(unsigned ms)
{
    WAIT_FOR(false, ms);
}

/* PSNR (dB, RGB) of the client's primary against snap inside the stream
 * rectangle; INFINITY when identical, -1 without a primary. */
static double stream_psnr(const SnapJob *snap)
{
    return primary_psnr_rect(snap, SX, SY, SW, SH);
}

/* Waits (bounded) until the server has no live stream. */
static bool wait_streams_gone(unsigned ms)
{
    for (unsigned waited = 0; waited < ms; waited += 50) {
        if (stats().live == 0) {
            return true;
        }
        pump(50);
    }
    return stats().live == 0;
}

static void configure(SpiceServer *server)
{
    /* the default, said explicitly: text-like updates must not stream */
    g_assert_cmpint(spice_server_set_streaming_video(server, SPICE_STREAM_VIDEO_FILTER), ==, 0);
}

static void test_stream_client(void)
{
    g_setenv(DISPLAY_ENV_PIPE_BUDGET, G_STRINGIFY(1048576), TRUE);
    harness_start(configure);
    SurfaceJob primary = { .id = 0, .w = 320, .h = 240, .color = 0x204060, .primary = true };
    on_worker(surface_job, &primary);
    harness_connect();
    expect_converged("initial picture");

    /* text-like updates at video rate: FILTER keeps them lossless */
    for (int n = 0; n < FPS; n++) {
        FrameJob fj = { n, true };
        on_worker(frame_job, &fj);
        pump(1000 / FPS);
    }
    StatsJob st = stats();
    g_assert_cmpuint(st.live, ==, 0);
    g_assert_cmpuint(st.frames_sent, ==, 0);
    expect_converged("text at video rate");

    /* a video region at 30 fps for 2 s */
    double min_psnr = INFINITY, last_psnr = -1;
    bool lossy_seen = false;
    uint32_t max_active = 0;
    for (int n = 0; n < 2 * FPS; n++) {
        FrameJob fj = { n, false };
        on_worker(frame_job, &fj);
        if (n == STREAM_START_FRAMES + 10) {
            on_worker(fill_job, NULL);
        }
        pump(1000 / FPS);
        if (n % 10 == 9) {
            max_active = MAX(max_active, stats().active);
        }
    }
    /* the frames show on the client, lossy but close. A loaded machine
     * may take a while to decode and show the last frame: the wait redraws
     * that same frame at the video rate, so the stream stays live (no
     * timeout, no lossless upgrade) and the snapshot stays what the
     * client must converge to, with a generous bound. */
    SnapJob snap = { 0 };
    on_worker(snap_job, &snap);
    bool close = false;
    for (unsigned waited = 0; waited < PSNR_WAIT_MS; waited += 1000 / FPS) {
        last_psnr = stream_psnr(&snap);
        if (last_psnr >= 30.0 && last_psnr < INFINITY) {
            close = true;
            break;
        }
        FrameJob again = { 2 * FPS - 1, false };
        on_worker(frame_job, &again);
        pump(1000 / FPS);
    }
    st = stats();
    g_test_message("streaming: %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
                   " bytes, %" G_GUINT64_FORMAT " reports, quality %d, last psnr %.1f dB",
                   st.frames_sent, st.bytes, st.reports, st.quality, last_psnr);
    lossy_seen = last_psnr < INFINITY;
    min_psnr = last_psnr;
    g_assert_true(close);
    g_assert_cmpfloat(min_psnr, >=, 30.0);
    g_assert_true(lossy_seen);                      /* a JPEG frame, not a lossless copy */
    g_assert_cmpuint(max_active, ==, 1);            /* one stream on the client */
    g_assert_cmpuint(st.live, ==, 1);
    g_assert_cmpuint(st.frames_sent, >=, 2 * FPS - STREAM_START_FRAMES - 10);
    g_assert_cmpuint(st.reports, >=, 1);            /* STREAM_ACTIVATE_REPORT took */
    g_free(snap.pixels);

    /* frames stop: the stream times out and the area goes lossless */
    g_assert_true(wait_streams_gone(STREAM_TIMEOUT_MS * 4));
    g_assert_cmpuint(stats().active, ==, 0);
    expect_converged("after the stream ended");

    /* a second run streams again (ids are reused), then the primary goes
     * away under it */
    for (int n = 0; n < (int)STREAM_START_FRAMES + 10; n++) {
        FrameJob fj = { n, false };
        on_worker(frame_job, &fj);
        pump(1000 / FPS);
    }
    g_assert_cmpuint(stats().live, ==, 1);
    g_assert_true(wait_streams_gone(STREAM_TIMEOUT_MS * 4));
    expect_converged("after the second stream");

    harness_stop();
    g_unsetenv(DISPLAY_ENV_PIPE_BUDGET);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/stream/spice-gtk", test_stream_client);
    return g_test_run();
}
