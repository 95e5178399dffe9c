/* Video streams in the display channel against a raw client on a
 * socketpair (the harness of tests/unit/display): the stream message
 * sequence, JPEG frames the client can decode, clip updates, the timeout
 * with its lossless upgrade, and a client without MJPEG getting ordinary
 * draws. The stream clock is injected; the timeout waits for the stream
 * timer (at most ~1 s, bounded). */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib.h>
#include <spice/protocol.h>

#include "common/codec/jpeg-codec.h"
#include "server/display/dcc.h"
#include "server/display/display-channel.h"
#include "server/net/link.h"
#include "server/net/stream.h"
#include "tests/unit/display/draw-util.h"
#include "tests/unit/stream/stream-util.h"

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

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
/* ---- channel against a decoding client on a socketpair ---- */

#define PRIMARY_W 256
#define PRIMARY_H 192
#define BUDGET (512u << 10)

typedef struct Harness {
    GMainContext *ctx;
    RedLoop *loop;
    RedsState *reds;
    RedChannel *dc;
    RedClient *client;
    RedCanvas *canvases[TEST_MAX_SURFACES];
    unsigned render_calls;
    unsigned caps_changed;
    int fd;                         /* the client's end */
    GByteArray *in;
    TestClient tc;
    uint32_t ack_window, ack_count;
    size_t max_pipe;
} Harness;

static void host_post(void *opaque, void (*func)(void *data), void *data)
{
    func(data);                     /* the test thread is the worker */
}

static void host_render(void *opaque, uint32_t id, const pixman_region32_t *region)
{
    ((Harness *)opaque)->render_calls++;
}

static RedCanvas *host_canvas(void *opaque, uint32_t id)
{
    Harness *h = opaque;
    return id < TEST_MAX_SURFACES ? h->canvases[id] : NULL;
}

static void host_caps(void *opaque)
{
    ((Harness *)opaque)->caps_changed++;
}

static void client_send(Harness *h, uint16_t type, const void *body, uint32_t size)
{
    uint8_t buf[64];
    g_assert_cmpuint(size + 6, <=, sizeof(buf));
    buf[0] = (uint8_t)type;
    buf[1] = (uint8_t)(type >> 8);
    for (int i = 0; i < 4; i++) {
        buf[2 + i] = (uint8_t)(size >> (8 * i));
    }
    if (size) {
        memcpy(buf + 6, body, size);
    }
    g_assert_cmpint(write(h->fd, buf, size + 6), ==, (ssize_t)(size + 6));
}

static void client_message(Harness *h, uint16_t type, const uint8_t *body, uint32_t size)
{
    if (type == SPICE_MSG_SET_ACK) {
        h->ack_window = rd32(body + 4);
        h->ack_count = h->ack_window;
        client_send(h, SPICE_MSGC_ACK_SYNC, body, 4);
        return;
    }
    if (!stream_message(type, body, size)) {
        test_client_handle(&h->tc, type, body, size);
    }
    if (h->ack_window && --h->ack_count == 0) {
        client_send(h, SPICE_MSGC_ACK, NULL, 0);
        h->ack_count = h->ack_window;
    }
}

/* One pass: the server loop, then (if reading) whatever the socket has.
 * Returns bytes read. */
static size_t pump(Harness *h, bool read_socket)
{
    size_t got = 0;
    for (int i = 0; i < 4 && g_main_context_iteration(h->ctx, FALSE); i++) {
    }
    size_t pipe = display_channel_pipe_bytes(h->dc);
    h->max_pipe = MAX(h->max_pipe, pipe);
    if (!read_socket) {
        return 0;
    }
    uint8_t buf[65536];
    ssize_t n;
    while ((n = recv(h->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        g_byte_array_append(h->in, buf, (guint)n);
        got += (size_t)n;
    }
    size_t pos = 0;
    while (h->in->len - pos >= 6) {
        const uint8_t *p = h->in->data + pos;
        uint32_t size = rd32(p + 2);
        if (h->in->len - pos - 6 < size) {
            break;
        }
        client_message(h, rd16(p), p + 6, size);
        pos += 6 + size;
    }
    g_byte_array_remove_range(h->in, 0, (guint)pos);
    return got;
}

/* Reads until nothing moves for a few passes (bounded). */
static void settle(Harness *h)
{
    int quiet = 0;
    for (int i = 0; i < 20000 && quiet < 5; i++) {
        size_t got = pump(h, true);
        quiet = (got == 0 && display_channel_pipe_bytes(h->dc) == 0) ? quiet + 1 : 0;
    }
    g_assert_cmpint(quiet, >=, 5);
}

static void harness_init(Harness *h)
{
    memset(h, 0, sizeof(*h));
    g_setenv(DISPLAY_ENV_PIPE_BUDGET, G_STRINGIFY(524288), TRUE);
    h->ctx = g_main_context_new();
    h->loop = red_loop_new_glib(h->ctx);
    h->reds = reds_new();
    h->reds->main_thread = g_thread_self();
    h->in = g_byte_array_new();
    test_client_init(&h->tc);
    DisplayChannelHost host = { h, host_post, host_render, host_canvas, host_caps };
    /* the test client decodes raw bitmaps only (encoded images: the
     * integration tests with spice-client-glib) */
    h->reds->cfg.image_compression = SPICE_IMAGE_COMPRESSION_OFF;
    h->dc = display_channel_new(h->reds, h->loop, 0, &host);
    g_assert_cmpuint(display_channel_pipe_budget(h->dc), ==, BUDGET);
    h->canvases[0] = red_canvas_create(SPICE_SURFACE_FMT_32_xRGB, PRIMARY_W, PRIMARY_H, NULL);
    h->canvases[1] = red_canvas_create(SPICE_SURFACE_FMT_32_xRGB, 64, 64, NULL);
    display_channel_surface_create(h->dc, 0, PRIMARY_W, PRIMARY_H, SPICE_SURFACE_FMT_32_xRGB,
                                   true);
    display_channel_surface_create(h->dc, 1, 64, 64, SPICE_SURFACE_FMT_32_xRGB, false);
    display_channel_set_stream_clock(h->dc, fake_clock);
}

static void harness_connect(Harness *h, uint32_t caps)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), ==, 0);
    int small = 16384;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    h->fd = sv[1];
    h->client = red_client_new(h->reds, 1);
    RedLink *link = g_new0(RedLink, 1);
    link->stream = red_stream_new_plain(sv[0]);
    link->channel_type = SPICE_CHANNEL_DISPLAY;
    link->num_common_caps = 1;
    link->common_caps = g_new0(uint32_t, 1);
    link->common_caps[0] = 1u << SPICE_COMMON_CAP_MINI_HEADER;
    link->num_channel_caps = 1;
    link->channel_caps = g_new0(uint32_t, 1);
    link->channel_caps[0] = (1u << SPICE_DISPLAY_CAP_MONITORS_CONFIG) | caps;
    h->dc->ops->connect(h->dc, h->client, link);
    g_assert_nonnull(h->dc->clients);
    g_assert_cmpuint(h->caps_changed, ==, 1);
    pump(h, true);
    g_assert_cmpuint(h->ack_window, ==, RED_CHANNEL_ACK_WINDOW);
    /* DISPLAY_INIT: cache id 1, 4096 pixels (small: evictions happen),
     * glz id 1 and window */
    uint8_t init[14] = { 1, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0x10, 0 };
    client_send(h, SPICE_MSGC_DISPLAY_INIT, init, sizeof(init));
    settle(h);
    g_assert_false(h->tc.error);
    g_assert_cmpuint(h->tc.counts[SPICE_MSG_DISPLAY_MARK], ==, 1);
    g_assert_cmpuint(h->tc.counts[SPICE_MSG_DISPLAY_MONITORS_CONFIG], ==, 1);
    g_assert_cmpuint(h->tc.counts[SPICE_MSG_DISPLAY_INVAL_ALL_PALETTES], ==, 1);
    g_assert_cmpuint(h->tc.counts[SPICE_MSG_DISPLAY_SURFACE_CREATE], ==, 2);
}

static void harness_fini(Harness *h)
{
    display_channel_free(h->dc);
    if (h->client) {
        red_client_unref(h->client);
    }
    for (int i = 0; i < TEST_MAX_SURFACES; i++) {
        red_canvas_destroy(h->canvases[i]);
    }
    if (h->fd > 0) {
        close(h->fd);
    }
    test_client_fini(&h->tc);
    g_byte_array_free(h->in, TRUE);
    /* the reds object was never initialised: free what reds_new made */
    reds_destroy(h->reds);
    red_loop_free(h->loop);
    g_main_context_unref(h->ctx);
    g_unsetenv(DISPLAY_ENV_PIPE_BUDGET);
}

static void draw(Harness *h, TestDraw *d)
{
    test_draw_render(d, h->canvases);
    display_channel_draw(h->dc, &d->red, NULL);
    test_draw_free(d);
}


#define VX 16
#define VY 16
#define VW 128
#define VH 96

/* n video frames, 33 ms apart on the fake clock, reading as we go. */
static void play(Harness *h, int first, int n)
{
    for (int i = first; i < first + n; i++) {
        fake_now += 33;
        draw(h, stream_test_video_frame(VX, VY, VW, VH, i));
        pump(h, true);
    }
}

/* Waits (bounded) for the stream timer to end the stream. */
static void wait_timeout(Harness *h)
{
    fake_now += STREAM_TIMEOUT_MS + 1;
    unsigned destroys = seen.destroys;
    for (int i = 0; i < 200 && seen.destroys == destroys; i++) {
        g_main_context_iteration(h->ctx, TRUE);     /* the timer: <= 1 s */
        pump(h, true);
    }
    g_assert_cmpuint(seen.destroys, ==, destroys + 1);
}

static void test_stream_sequence(void)
{
    Harness h;
    memset(&seen, 0, sizeof(seen));
    fake_now = 100000;
    harness_init(&h);
    /* no MULTI_CODEC: an old client, MJPEG implied */
    harness_connect(&h, 1u << SPICE_DISPLAY_CAP_STREAM_REPORT);
    g_assert_cmpuint(((DisplayChannel *)h.dc)->streams.mode, ==, SPICE_STREAM_VIDEO_FILTER);

    play(&h, 0, STREAM_START_FRAMES - 1);
    settle(&h);
    g_assert_cmpuint(seen.creates, ==, 0);           /* 19 frames: ordinary copies */
    play(&h, STREAM_START_FRAMES - 1, 11);
    settle(&h);
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
    draw(&h, test_draw_fill(0, VX + 8, VY + 8, 20, 20, 0xff0000));
    settle(&h);
    g_assert_cmpuint(seen.clips, ==, clips + 1);
    play(&h, 30, 3);                                 /* frames paint it all again */
    settle(&h);
    g_assert_cmpuint(seen.clips, ==, clips + 2);

    /* a report from the client reaches the controller */
    DisplayChannelClient *dcc = h.dc->clients->data;
    StreamAgent *a = &dcc->agents[seen.last_id];
    g_assert_true(a->active);
    uint32_t rep[8] = { seen.last_id, a->report_id, 1, 2, 5, 0, 10, UINT32_MAX };
    client_send(&h, SPICE_MSGC_DISPLAY_STREAM_REPORT, rep, sizeof(rep));
    settle(&h);
    g_assert_cmpuint(a->rate.reports, ==, 1);

    /* frames stop: STREAM_DESTROY, then the area as lossless images */
    wait_timeout(&h);
    settle(&h);
    g_assert_false(a->active);
    g_assert_false(h.tc.error);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);

    /* the client says it cannot play a stream: ordinary draws from then on */
    play(&h, 40, STREAM_START_FRAMES + 2);
    settle(&h);
    g_assert_cmpuint(seen.creates, ==, 2);
    uint32_t refuse[8] = { seen.last_id, 0, 0, 0, 0, UINT32_MAX, 0, UINT32_MAX };
    client_send(&h, SPICE_MSGC_DISPLAY_STREAM_REPORT, refuse, sizeof(refuse));
    settle(&h);
    g_assert_cmpuint(seen.destroys, ==, 2);
    unsigned datas = seen.datas;
    play(&h, 70, 5);
    settle(&h);
    g_assert_cmpuint(seen.datas, ==, datas);
    g_assert_false(h.tc.error);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);
    harness_fini(&h);
}

static void test_no_mjpeg_client(void)
{
    Harness h;
    memset(&seen, 0, sizeof(seen));
    fake_now = 100000;
    harness_init(&h);
    /* MULTI_CODEC without CODEC_MJPEG: this client plays no MJPEG */
    harness_connect(&h, 1u << SPICE_DISPLAY_CAP_MULTI_CODEC);
    play(&h, 0, 40);
    settle(&h);
    g_assert_cmpuint(((DisplayChannel *)h.dc)->streams.n_live, ==, 1);
    g_assert_cmpuint(seen.creates, ==, 0);
    g_assert_cmpuint(seen.datas, ==, 0);
    g_assert_false(h.tc.error);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);
    harness_fini(&h);
}

static void test_streaming_off(void)
{
    Harness h;
    memset(&seen, 0, sizeof(seen));
    fake_now = 100000;
    harness_init(&h);
    harness_connect(&h, 0);
    play(&h, 0, 40);
    settle(&h);
    g_assert_cmpuint(seen.creates, ==, 1);
    /* switching streaming off ends the stream with an upgrade */
    display_channel_set_streaming_video(h.dc, SPICE_STREAM_VIDEO_OFF);
    settle(&h);
    g_assert_cmpuint(seen.destroys, ==, 1);
    play(&h, 40, 40);
    settle(&h);
    g_assert_cmpuint(seen.creates, ==, 1);
    g_assert_false(h.tc.error);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);
    /* the primary going away ends streams first */
    display_channel_set_streaming_video(h.dc, SPICE_STREAM_VIDEO_ALL);
    play(&h, 80, 30);
    settle(&h);
    g_assert_cmpuint(seen.creates, ==, 2);
    display_channel_surface_destroy(h.dc, 0);
    settle(&h);
    g_assert_cmpuint(seen.destroys, ==, 2);
    g_assert_cmpuint(((DisplayChannel *)h.dc)->streams.n_live, ==, 0);
    harness_fini(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/stream/channel/sequence", test_stream_sequence);
    g_test_add_func("/stream/channel/no-mjpeg", test_no_mjpeg_client);
    g_test_add_func("/stream/channel/off-and-surface-destroy", test_streaming_off);
    return g_test_run();
}
