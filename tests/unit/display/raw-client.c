/* The display channel against a raw socketpair client: see raw-client.h. */
#include "tests/unit/display/raw-client.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spice/protocol.h>

#include "server/display/dcc.h"
#include "server/net/link.h"
#include "server/net/stream.h"

static void host_post(void *opaque, void (*func)(void *data), void *data)
{
    func(data);                     /* the test thread is the worker */
}

static void host_render(void *opaque, uint32_t id, const pixman_region32_t *region)
{
    ((RawHarness *)opaque)->render_calls++;
}

static RedCanvas *host_canvas(void *opaque, uint32_t id)
{
    RawHarness *h = opaque;
    return id < TEST_MAX_SURFACES ? h->canvases[id] : NULL;
}

static void host_caps(void *opaque)
{
    ((RawHarness *)opaque)->caps_changed++;
}

void rh_send(RawHarness *h, uint16_t type, const void *body, uint32_t size)
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

static void client_message(RawHarness *h, uint16_t type, const uint8_t *body, uint32_t size)
{
    if (type == SPICE_MSG_SET_ACK) {
        h->ack_window = rd32(body + 4);
        h->ack_count = h->ack_window;
        rh_send(h, SPICE_MSGC_ACK_SYNC, body, 4);
        return;
    }
    if (!h->on_message || !h->on_message(type, body, size)) {
        test_client_handle(&h->tc, type, body, size);
    }
    if (h->ack_window && --h->ack_count == 0) {
        rh_send(h, SPICE_MSGC_ACK, NULL, 0);
        h->ack_count = h->ack_window;
    }
}

size_t rh_pump(RawHarness *h, bool read_socket)
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

void rh_settle(RawHarness *h)
{
    int quiet = 0;
    for (int i = 0; i < 20000 && quiet < 5; i++) {
        size_t got = rh_pump(h, true);
        quiet = (got == 0 && display_channel_pipe_bytes(h->dc) == 0) ? quiet + 1 : 0;
    }
    g_assert_cmpint(quiet, >=, 5);
}

void rh_init(RawHarness *h)
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
    g_assert_cmpuint(display_channel_pipe_budget(h->dc), ==, RH_BUDGET);
    h->canvases[0] = red_canvas_create(SPICE_SURFACE_FMT_32_xRGB, RH_PRIMARY_W, RH_PRIMARY_H,
                                       NULL);
    h->canvases[1] = red_canvas_create(SPICE_SURFACE_FMT_32_xRGB, 64, 64, NULL);
    display_channel_surface_create(h->dc, 0, RH_PRIMARY_W, RH_PRIMARY_H,
                                   SPICE_SURFACE_FMT_32_xRGB, true);
    display_channel_surface_create(h->dc, 1, 64, 64, SPICE_SURFACE_FMT_32_xRGB, false);
}

void rh_connect(RawHarness *h, uint32_t extra_caps)
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
    link->channel_caps[0] = (1u << SPICE_DISPLAY_CAP_MONITORS_CONFIG) | extra_caps;
    h->dc->ops->connect(h->dc, h->client, link);
    g_assert_nonnull(h->dc->clients);
    g_assert_cmpuint(h->caps_changed, ==, 1);
    rh_pump(h, true);
    g_assert_cmpuint(h->ack_window, ==, RED_CHANNEL_ACK_WINDOW);
    /* DISPLAY_INIT: cache id 1, 4096 pixels (small: evictions happen),
     * glz id 1 and window */
    uint8_t init[14] = { 1, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0x10, 0 };
    rh_send(h, SPICE_MSGC_DISPLAY_INIT, init, sizeof(init));
    rh_settle(h);
    g_assert_false(h->tc.error);
    g_assert_cmpuint(h->tc.counts[SPICE_MSG_DISPLAY_MARK], ==, 1);
    g_assert_cmpuint(h->tc.counts[SPICE_MSG_DISPLAY_MONITORS_CONFIG], ==, 1);
    g_assert_cmpuint(h->tc.counts[SPICE_MSG_DISPLAY_INVAL_ALL_PALETTES], ==, 1);
    g_assert_cmpuint(h->tc.counts[SPICE_MSG_DISPLAY_SURFACE_CREATE], ==, 2);
}

void rh_fini(RawHarness *h)
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

void rh_draw(RawHarness *h, TestDraw *d)
{
    test_draw_render(d, h->canvases);
    display_channel_draw(h->dc, &d->red, NULL);
    test_draw_free(d);
}
