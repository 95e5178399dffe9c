/* Link measurement (the main channel's net test, server/main/net-test.h)
 * and WAN "auto" for jpeg / zlib-glz:
 *   /wan/arithmetic     the rate formula, the low-bandwidth threshold and the
 *                       PONG state machine with an injected clock
 *   /wan/loopback       spice-gtk on loopback is measured fast: with
 *                       jpeg=auto a photo arrives lossless (QUIC, not JPEG)
 *   /wan/throttled      spice-gtk behind a proxy that carries the main
 *                       channel at ~256 KB/s is measured low bandwidth: with
 *                       jpeg=auto a photo arrives as JPEG, with zlib-glz=auto
 *                       a GLZ image as ZLIB_GLZ, display gets the wide ack
 *                       window
 *   /wan/unix           over a unix socket no net test runs (no padded PING
 *                       on the wire, nothing measured) and photos stay lossless
 *   /wan/no-pong        a raw client sees PINGs of 0, 0 and 256000 padding
 *                       bytes; bad PONGs (unknown id, out of order, forged
 *                       timestamp) are ignored with a log line; a client that
 *                       never answers changes nothing and its session ends
 *                       cleanly (LeakSanitizer checks the rest)
 *   /wan/fast-pongs     a raw client answering all three at once is not low
 *                       bandwidth
 * The server and spice-gtk run on the test thread's default context, the
 * display harness's fake worker on its own thread. Every wait is bounded;
 * the proxy is paced by a loop timer, no sleeps. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <spice/protocol.h>

#include "core-loop.h"
#include "itest.h"
#include "server/channel/channel.h"
#include "server/main/net-test.h"
#include "tests/integration/display/display-harness.h"

#define PHOTO_W 160
#define PHOTO_H 120
#define JPEG_MIN_PSNR 30.0

/* ---- the arithmetic ---- */

static void test_arithmetic(void)
{
    /* 256000 bytes in 204.8 ms = 10,000,000 bit/s: below 10 Mibit/s */
    g_assert_cmpuint(net_test_bitrate(NET_TEST_RATE_BYTES, 1000, 1000 + 204800), ==, 10000000);
    /* the threshold is 10 * 1024 * 1024 bit/s: 256000 B take 195312.5 us */
    uint64_t fast = net_test_bitrate(NET_TEST_RATE_BYTES, 0, 195312);
    uint64_t slow = net_test_bitrate(NET_TEST_RATE_BYTES, 0, 195313);
    g_assert_cmpuint(fast, >=, RED_CLIENT_LOW_BANDWIDTH_BPS);
    g_assert_cmpuint(slow, <, RED_CLIENT_LOW_BANDWIDTH_BPS);
    /* no time to carry the padding: no figure; an absurdly slow one is >= 1 */
    g_assert_cmpuint(net_test_bitrate(NET_TEST_RATE_BYTES, 500, 500), ==, 0);
    g_assert_cmpuint(net_test_bitrate(NET_TEST_RATE_BYTES, 500, 400), ==, 0);
    g_assert_cmpuint(net_test_bitrate(NET_TEST_RATE_BYTES, -1, 400), ==, 0);
    g_assert_cmpuint(net_test_bitrate(1, 0, INT64_MAX), ==, 1);

    RedClient *client = red_client_new(NULL, 1);
    g_assert_false(red_client_is_low_bandwidth(client));      /* unmeasured */
    g_assert_cmpuint(red_client_get_bitrate(client), ==, 0);
    red_client_set_link(client, slow, 300);
    g_assert_true(red_client_is_low_bandwidth(client));
    g_assert_cmpint(red_client_get_latency_us(client), ==, 300);
    red_client_set_link(client, fast, 300);
    g_assert_false(red_client_is_low_bandwidth(client));
    red_client_unref(client);

    /* ids skip 0 */
    NetTest t;
    g_assert_cmpuint(net_test_start(&t, UINT32_MAX), ==, 3);
    g_assert_cmpuint(net_test_ping_id(&t, 0), ==, UINT32_MAX);
    g_assert_cmpuint(net_test_ping_id(&t, 1), ==, 1);
    g_assert_cmpuint(net_test_ping_id(&t, 2), ==, 2);
    g_assert_cmpuint(net_test_ping_padding(0), ==, 0);
    g_assert_cmpuint(net_test_ping_padding(1), ==, 0);
    g_assert_cmpuint(net_test_ping_padding(2), ==, NET_TEST_RATE_BYTES);

    net_test_start(&t, 10);
    /* a PONG for a PING not marshalled yet (guessed id) */
    g_assert_cmpint(net_test_on_pong(&t, 10, 0, 50), ==, NET_TEST_PONG_REFUSED);
    net_test_on_sent(&t, 10, 1000);
    net_test_on_sent(&t, 11, 1001);
    net_test_on_sent(&t, 12, 1002);
    net_test_on_sent(&t, 99, 1003);                           /* not ours: ignored */
    g_assert_cmpint(net_test_on_pong(&t, 99, 1003, 1100), ==, NET_TEST_PONG_NOT_OURS);
    g_assert_cmpint(net_test_on_pong(&t, 12, 1002, 1100), ==, NET_TEST_PONG_REFUSED); /* order */
    g_assert_cmpint(net_test_on_pong(&t, 10, 999, 1100), ==, NET_TEST_PONG_REFUSED);  /* forged */
    g_assert_cmpint(t.stage, ==, NET_TEST_WARMUP);
    g_assert_cmpint(net_test_on_pong(&t, 10, 1000, 1500), ==, NET_TEST_PONG_NEXT);
    g_assert_cmpint(net_test_on_pong(&t, 10, 1000, 1500), ==, NET_TEST_PONG_REFUSED); /* twice */
    g_assert_cmpint(net_test_on_pong(&t, 11, 1001, 1301), ==, NET_TEST_PONG_NEXT);
    g_assert_cmpint(t.latency_us, ==, 300);                   /* the smaller trip */
    g_assert_cmpint(net_test_on_pong(&t, 12, 1002, 1002 + 300 + 204800), ==,
                    NET_TEST_PONG_FINISHED);
    g_assert_cmpint(t.stage, ==, NET_TEST_DONE);
    g_assert_cmpuint(t.bitrate, ==, 10000000);
    g_assert_cmpint(net_test_on_pong(&t, 12, 1002, 300000), ==, NET_TEST_PONG_REFUSED);

    /* the rate PING back no later than the latency: no figure */
    net_test_start(&t, 1);
    net_test_on_sent(&t, 1, 100);
    net_test_on_sent(&t, 2, 100);
    net_test_on_sent(&t, 3, 150);
    g_assert_cmpint(net_test_on_pong(&t, 1, 100, 200), ==, NET_TEST_PONG_NEXT);
    g_assert_cmpint(net_test_on_pong(&t, 2, 100, 200), ==, NET_TEST_PONG_NEXT);
    g_assert_cmpint(net_test_on_pong(&t, 3, 150, 240), ==, NET_TEST_PONG_FINISHED);
    g_assert_cmpint(t.stage, ==, NET_TEST_UNUSABLE);
    g_assert_cmpuint(t.bitrate, ==, 0);

    /* a test that never started owns no id */
    memset(&t, 0, sizeof(t));
    g_assert_cmpint(net_test_on_pong(&t, 0, 0, 10), ==, NET_TEST_PONG_NOT_OURS);
}

/* ---- a throttling loopback proxy ---- */

/* Every PROXY_TICK_MS the proxy moves what it can both ways; on the first
 * connection it accepts (spice-gtk's main channel) at most
 * PROXY_SLOW_PER_TICK bytes server->client: 512 B / 2 ms = 256 KB/s at
 * best, ~2 Mbit/s, so the 256000-byte PING takes about a second. */
#define PROXY_TICK_MS 2
#define PROXY_SLOW_PER_TICK 512
#define PROXY_BUF (64 * 1024)

typedef struct ProxyConn {
    int cfd, sfd;                    /* client side, server side */
    GByteArray *to_server, *to_client;
    bool slow;
} ProxyConn;

typedef struct Proxy {
    int lfd;
    int port, server_port;
    guint tick;
    GPtrArray *conns;                /* ProxyConn*, owned */
    unsigned accepted;
    uint64_t slow_bytes;             /* carried on the slow connection */
} Proxy;

static void conn_free(gpointer p)
{
    ProxyConn *c = p;
    close(c->cfd);
    close(c->sfd);
    g_byte_array_free(c->to_server, TRUE);
    g_byte_array_free(c->to_client, TRUE);
    g_free(c);
}

static bool would_block(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Moves src -> buf -> dst, at most *budget bytes to dst; false once either
 * side is closed. */
static bool pump(int src, int dst, GByteArray *buf, size_t *budget)
{
    uint8_t tmp[16384];
    for (int round = 0; round < 64; round++) {
        bool moved = false;
        if (buf->len < PROXY_BUF) {
            ssize_t k = recv(src, tmp, MIN(sizeof(tmp), PROXY_BUF - buf->len), MSG_DONTWAIT);
            if (k == 0 || (k < 0 && !would_block())) {
                return false;
            }
            if (k > 0) {
                g_byte_array_append(buf, tmp, (guint)k);
                moved = true;
            }
        }
        size_t n = MIN((size_t)buf->len, *budget);
        if (n > 0) {
            ssize_t w = send(dst, buf->data, n, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w < 0 && !would_block()) {
                return false;
            }
            if (w > 0) {
                g_byte_array_remove_range(buf, 0, (guint)w);
                *budget -= (size_t)w;
                moved = true;
            }
        }
        if (!moved) {
            break;
        }
    }
    return true;
}

static int connect_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    g_assert_cmpint(fd, >=, 0);
    /* loopback connects complete at once */
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(fcntl(fd, F_SETFL, O_NONBLOCK), ==, 0);
    return fd;
}

static gboolean proxy_tick(gpointer data)
{
    Proxy *p = data;
    int fd;
    while ((fd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        ProxyConn *c = g_new0(ProxyConn, 1);
        c->cfd = fd;
        c->sfd = connect_loopback(p->server_port);
        c->to_server = g_byte_array_new();
        c->to_client = g_byte_array_new();
        c->slow = p->accepted++ == 0;
        g_ptr_array_add(p->conns, c);
    }
    for (guint i = 0; i < p->conns->len;) {
        ProxyConn *c = p->conns->pdata[i];
        size_t up = SIZE_MAX, down = c->slow ? PROXY_SLOW_PER_TICK : SIZE_MAX;
        bool open = pump(c->cfd, c->sfd, c->to_server, &up) &&
                    pump(c->sfd, c->cfd, c->to_client, &down);
        if (c->slow) {
            p->slow_bytes += PROXY_SLOW_PER_TICK - down;
        }
        if (open) {
            i++;
        } else {
            g_ptr_array_remove_index(p->conns, i);
        }
    }
    return G_SOURCE_CONTINUE;
}

static Proxy *proxy_new(int server_port)
{
    Proxy *p = g_new0(Proxy, 1);
    p->server_port = server_port;
    p->port = loop_free_port();
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p->port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int one = 1;
    g_assert_cmpint(setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), ==, 0);
    g_assert_cmpint(bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(p->lfd, 8), ==, 0);
    p->conns = g_ptr_array_new_with_free_func(conn_free);
    p->tick = g_timeout_add(PROXY_TICK_MS, proxy_tick, p);
    return p;
}

static void proxy_free(Proxy *p)
{
    g_source_remove(p->tick);
    g_ptr_array_free(p->conns, TRUE);
    close(p->lfd);
    g_free(p);
}

/* ---- server side state (main loop = this thread) ---- */

static RedsState *H_reds;

static RedClient *the_session(void)
{
    return H_reds && H_reds->clients ? H_reds->clients->data : NULL;
}

static bool measured(void)
{
    RedClient *c = the_session();
    return c && red_client_get_bitrate(c) > 0;
}

/* ---- display side (worker thread) ---- */

typedef struct Stats {
    uint64_t images[RED_CODEC_COUNT];
    uint32_t ack_window;
} Stats;

static void stats_job(void *data)
{
    Stats *st = data;
    g_assert_nonnull(W.dc->clients);
    DisplayChannelClient *dcc = W.dc->clients->data;
    memcpy(st->images, dcc->enc_images, sizeof(st->images));
    st->ack_window = dcc->base.ack_window;
}

static Stats stats(void)
{
    Stats st;
    on_worker(stats_job, &st);
    return st;
}

typedef struct PictureJob {
    int x, y, w, h;
    uint32_t seed;
    bool photo;                      /* photographic, else text-like */
} PictureJob;

/* Worker thread: a 32-bit bitmap copied to (x, y): smooth colour fields with
 * a little noise (graduality high: QUIC, or JPEG when lossy and WAN on), or
 * dark strokes on a light background (graduality low: GLZ / ZLIB_GLZ). */
static void picture_job(void *data)
{
    PictureJob *j = data;
    TestDraw *d = test_draw_copy_bitmap(0, j->x, j->y, j->w, j->h, j->seed, 0,
                                        SPICE_BITMAP_FMT_32BIT, true);
    RedBitmap *b = &d->image.u.bitmap;
    GRand *r = g_rand_new_with_seed(j->seed);
    for (int y = 0; y < j->h; y++) {
        uint32_t *row = (uint32_t *)(void *)(d->pixels + (size_t)y * b->stride);
        for (int x = 0; x < j->w; x++) {
            uint32_t v;
            if (j->photo) {
                int rr = 128 + (int)(100 * sin(x / 17.0 + j->seed));
                int gg = 128 + (int)(100 * cos(y / 13.0));
                int bb = ((x + y) / 3 + g_rand_int_range(r, 0, 4)) & 0xff;
                v = (uint32_t)rr << 16 | (uint32_t)gg << 8 | (uint32_t)bb;
            } else {
                uint32_t cell = (uint32_t)(x / 8) * 7919u + (uint32_t)(y / 12) * 104729u + j->seed;
                bool ink = y % 12 >= 2 && y % 12 < 10 && x % 8 < 6 &&
                           (((cell * 2654435761u) >> ((x % 8 + (y % 12) * 3) % 32)) & 1);
                v = ink ? 0x101018 : 0xf0f0e8;
            }
            row[x] = v;
        }
    }
    g_rand_free(r);
    harness_draw(d);
}

static void draw_picture(int x, int y, int w, int h, uint32_t seed, bool photo)
{
    PictureJob j = { x, y, w, h, seed, photo };
    on_worker(picture_job, &j);
}

static spice_wan_compression_t wan_jpeg, wan_zlib;

static void configure_tcp(SpiceServer *server)
{
    g_assert_cmpint(spice_server_set_image_compression(server, SPICE_IMAGE_COMPRESSION_AUTO_GLZ),
                    ==, 0);
    g_assert_cmpint(spice_server_set_jpeg_compression(server, wan_jpeg), ==, 0);
    g_assert_cmpint(spice_server_set_zlib_glz_compression(server, wan_zlib), ==, 0);
    g_assert_cmpint(spice_server_set_streaming_video(server, SPICE_STREAM_VIDEO_OFF), ==, 0);
}

static void start_primary(void)
{
    SurfaceJob primary = { 0, 320, 240, 0x204060, true, false };
    on_worker(surface_job, &primary);
}

/* ---- /wan/loopback ---- */

static void test_loopback(void)
{
    wan_jpeg = SPICE_WAN_COMPRESSION_AUTO;
    wan_zlib = SPICE_WAN_COMPRESSION_AUTO;
    H_reds = harness_start(configure_tcp);
    start_primary();
    harness_connect();
    g_assert_true(WAIT_FOR(measured(), WAIT_MS));
    RedClient *session = the_session();
    g_test_message("loopback: %" G_GUINT64_FORMAT " bit/s, latency %" G_GINT64_FORMAT " us",
                   red_client_get_bitrate(session), red_client_get_latency_us(session));
    /* 256000 bytes over loopback take far less than the 195 ms that would
     * make 10 Mibit/s */
    g_assert_false(red_client_is_low_bandwidth(session));
    g_assert_cmpuint(session->main_rcc->bytes_sent, >, NET_TEST_RATE_BYTES);
    expect_converged("initial picture");

    Stats before = stats();
    g_assert_cmpuint(before.ack_window, ==, RED_CHANNEL_ACK_WINDOW);
    draw_picture(20, 30, PHOTO_W, PHOTO_H, 7, true);
    draw_picture(40, 100, 200, 96, 3, false);
    expect_converged("photo and text, lossless");
    Stats after = stats();
    g_assert_cmpuint(after.images[RED_CODEC_JPEG], ==, before.images[RED_CODEC_JPEG]);
    g_assert_cmpuint(after.images[RED_CODEC_QUIC], >, before.images[RED_CODEC_QUIC]);
    g_assert_cmpuint(after.images[RED_CODEC_ZLIB_GLZ], ==, 0);
    g_assert_cmpuint(after.images[RED_CODEC_GLZ], >, before.images[RED_CODEC_GLZ]);
    harness_stop();
    H_reds = NULL;
}

/* ---- /wan/throttled ---- */

static bool psnr_ok(const SnapJob *snap, double *db)
{
    *db = primary_psnr(snap);
    return *db >= JPEG_MIN_PSNR;
}

static void test_throttled(void)
{
    wan_jpeg = SPICE_WAN_COMPRESSION_AUTO;
    wan_zlib = SPICE_WAN_COMPRESSION_AUTO;
    H_reds = harness_start(configure_tcp);
    Proxy *proxy = proxy_new(H_reds->cfg.port);
    char port[16];
    snprintf(port, sizeof(port), "%d", proxy->port);
    g_object_set(C.session, "port", port, NULL);
    start_primary();
    int64_t t0 = g_get_monotonic_time();
    harness_connect();
    /* spice-gtk answers the rate PING before it reads CHANNELS_LIST, so the
     * figure is in before the display channel links */
    g_assert_true(WAIT_FOR(measured(), WAIT_MS));
    RedClient *session = the_session();
    g_test_message("throttled: %" G_GUINT64_FORMAT " bit/s, latency %" G_GINT64_FORMAT
                   " us, connected after %" G_GINT64_FORMAT " ms",
                   red_client_get_bitrate(session), red_client_get_latency_us(session),
                   (g_get_monotonic_time() - t0) / 1000);
    g_assert_true(red_client_is_low_bandwidth(session));
    g_assert_cmpuint(proxy->slow_bytes, >=, NET_TEST_RATE_BYTES);
    expect_converged("initial picture");

    Stats before = stats();
    g_assert_cmpuint(before.ack_window, ==, RED_CHANNEL_ACK_WINDOW_WIDE);
    draw_picture(20, 30, PHOTO_W, PHOTO_H, 7, true);
    SnapJob snap = { 0 };
    on_worker(snap_job, &snap);
    double db = -1;
    if (!WAIT_FOR(psnr_ok(&snap, &db), WAIT_MS)) {
        g_error("throttled: PSNR %.1f dB below %.1f", db, JPEG_MIN_PSNR);
    }
    g_free(snap.pixels);
    Stats mid = stats();
    g_assert_cmpuint(mid.images[RED_CODEC_JPEG], >, before.images[RED_CODEC_JPEG]);

    draw_picture(40, 100, 200, 96, 3, false);
    g_assert_true(WAIT_FOR(stats().images[RED_CODEC_ZLIB_GLZ] > mid.images[RED_CODEC_ZLIB_GLZ],
                           WAIT_MS));
    /* the JPEG area is upgraded to lossless later; the text is exact now */
    on_worker(snap_job, &snap);
    g_assert_true(WAIT_FOR(primary_psnr_rect(&snap, 40, 100, 200, 96) == INFINITY, WAIT_MS));
    g_free(snap.pixels);
    harness_stop();
    proxy_free(proxy);
    H_reds = NULL;
}

/* ---- /wan/unix ---- */

static char *unix_path;

static void configure_unix(SpiceServer *server)
{
    configure_tcp(server);
    spice_server_set_addr(server, unix_path, SPICE_ADDR_FLAG_UNIX_ONLY);
}

static void test_unix(void)
{
    GError *error = NULL;
    char *dir = g_dir_make_tmp("spice-wan-XXXXXX", &error);
    g_assert_no_error(error);
    unix_path = g_build_filename(dir, "spice.sock", NULL);
    wan_jpeg = SPICE_WAN_COMPRESSION_AUTO;
    wan_zlib = SPICE_WAN_COMPRESSION_AUTO;
    H_reds = harness_start(configure_unix);
    g_object_set(C.session, "unix-path", unix_path, NULL);
    start_primary();
    harness_connect();
    expect_converged("initial picture");
    RedClient *session = the_session();
    g_assert_nonnull(session);
    /* no padded PING went out, and nothing was measured */
    g_assert_cmpuint(session->main_rcc->bytes_sent, <, NET_TEST_RATE_BYTES);
    g_assert_cmpuint(red_client_get_bitrate(session), ==, 0);
    g_assert_false(red_client_is_low_bandwidth(session));

    Stats before = stats();
    draw_picture(20, 30, PHOTO_W, PHOTO_H, 11, true);
    expect_converged("photo, lossless");
    Stats after = stats();
    g_assert_cmpuint(after.images[RED_CODEC_JPEG], ==, before.images[RED_CODEC_JPEG]);
    g_assert_cmpuint(after.images[RED_CODEC_QUIC], >, before.images[RED_CODEC_QUIC]);
    harness_stop();
    H_reds = NULL;
    g_unlink(unix_path);
    g_rmdir(dir);
    g_clear_pointer(&unix_path, g_free);
    g_free(dir);
}

/* ---- /wan/no-pong, /wan/fast-pongs: raw main channel ---- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

typedef struct RawPing {
    uint8_t head[12];                /* id u32, timestamp u64: what a PONG echoes */
    uint32_t padding;
} RawPing;

/* Reads the three PINGs of the net test and checks their shape. */
static void read_net_test(ItRaw *r, RawPing pings[3])
{
    GByteArray *body = g_byte_array_new();
    for (int i = 0; i < 3; i++) {
        g_assert_true(it_raw_recv_type(r, SPICE_MSG_PING, body, IT_WAIT_MS));
        g_assert_cmpuint(body->len, >=, 12);
        memcpy(pings[i].head, body->data, 12);
        pings[i].padding = body->len - 12;
        for (guint k = 12; k < body->len; k++) {
            g_assert_cmpuint(body->data[k], ==, 0);
        }
    }
    g_byte_array_free(body, TRUE);
    g_assert_cmpuint(pings[0].padding, ==, 0);
    g_assert_cmpuint(pings[1].padding, ==, 0);
    g_assert_cmpuint(pings[2].padding, ==, NET_TEST_RATE_BYTES);
    g_assert_cmpuint(le32(pings[1].head), ==, le32(pings[0].head) + 1);
    g_assert_cmpuint(le32(pings[2].head), ==, le32(pings[1].head) + 1);
}

static SpiceCoreInterface *raw_core;

static SpiceServer *raw_server(int port)
{
    it_log_setup();
    raw_core = embedder_core_new(NULL);
    SpiceServer *s = it_server_new(port);
    g_assert_cmpint(spice_server_set_jpeg_compression(s, SPICE_WAN_COMPRESSION_AUTO), ==, 0);
    g_assert_cmpint(spice_server_init(s, raw_core), ==, 0);
    H_reds = s;
    return s;
}

static void raw_server_free(SpiceServer *s)
{
    spice_server_destroy(s);
    g_assert_cmpuint(embedder_core_live_count(raw_core), ==, 0);
    embedder_core_free(raw_core);
    raw_core = NULL;
    H_reds = NULL;
}

/* A raw-client server with one raw main channel linked and its three
 * net-test PINGs read (not answered). */
static SpiceServer *raw_server_with_net_test(ItRaw *r, RawPing pings[3])
{
    int port = loop_free_port();
    SpiceServer *s = raw_server(port);
    g_assert_true(it_raw_main(r, port));
    read_net_test(r, pings);
    return s;
}

static void test_no_pong(void)
{
    ItRaw r;
    RawPing pings[3];
    SpiceServer *s = raw_server_with_net_test(&r, pings);
    g_assert_cmpint(it_num_clients(s), ==, 1);
    g_assert_cmpuint(red_client_get_bitrate(the_session()), ==, 0);

    /* an id nobody sent */
    uint8_t bogus[12] = { 0xad, 0xde, 0, 0 };
    g_assert_true(it_raw_send_msg(&r, SPICE_MSGC_PONG, bogus, sizeof(bogus)));
    g_assert_true(WAIT_FOR(it_log_count("client bug", "not awaited", NULL) >= 1, IT_WAIT_MS));
    /* the rate PONG before the latency one */
    g_assert_true(it_raw_send_msg(&r, SPICE_MSGC_PONG, pings[2].head, 12));
    g_assert_true(WAIT_FOR(it_log_count("client bug", "net test", NULL) >= 1, IT_WAIT_MS));
    /* the warm-up PONG with a made-up timestamp */
    uint8_t forged[12];
    memcpy(forged, pings[0].head, 12);
    forged[4] ^= 0x40;
    g_assert_true(it_raw_send_msg(&r, SPICE_MSGC_PONG, forged, sizeof(forged)));
    g_assert_true(WAIT_FOR(it_log_count("client bug", "net test", NULL) >= 2, IT_WAIT_MS));

    /* ignored, the connection stays, nothing measured; and then the client
     * never answers: the server does not wait for it */
    g_assert_cmpint(it_num_clients(s), ==, 1);
    RedClient *session = the_session();
    g_assert_cmpuint(red_client_get_bitrate(session), ==, 0);
    g_assert_false(red_client_is_low_bandwidth(session));
    g_assert_cmpuint(it_log_count("net test:", NULL), ==, 0);

    it_raw_close(&r);
    g_assert_true(WAIT_FOR(it_num_clients(s) == 0, IT_WAIT_MS));
    raw_server_free(s);
}

static void test_fast_pongs(void)
{
    ItRaw r;
    RawPing pings[3];
    SpiceServer *s = raw_server_with_net_test(&r, pings);
    /* all three answered only after the padding was read: the rate PONG
     * comes back as fast as the others, so there is either no usable
     * figure or a very high one; never low bandwidth */
    for (int i = 0; i < 3; i++) {
        g_assert_true(it_raw_send_msg(&r, SPICE_MSGC_PONG, pings[i].head, 12));
    }
    g_assert_true(WAIT_FOR(it_log_count("net test unusable", NULL) +
                           it_log_count("net test:", NULL) >= 1, IT_WAIT_MS));
    g_assert_cmpuint(it_log_count("client bug", NULL), ==, 0);
    g_assert_cmpuint(it_log_count("net test unusable", NULL) + it_log_count("net test:", NULL),
                     ==, 1);
    g_assert_false(red_client_is_low_bandwidth(the_session()));
    it_raw_close(&r);
    g_assert_true(WAIT_FOR(it_num_clients(s) == 0, IT_WAIT_MS));
    raw_server_free(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/wan/arithmetic", test_arithmetic);
    g_test_add_func("/wan/loopback", test_loopback);
    g_test_add_func("/wan/throttled", test_throttled);
    g_test_add_func("/wan/unix", test_unix);
    g_test_add_func("/wan/no-pong", test_no_pong);
    g_test_add_func("/wan/fast-pongs", test_fast_pongs);
    return g_test_run();
}
