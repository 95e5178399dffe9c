/* consumer.c: an embedder built against Debian's upstream headers and
 * linked against our libspice-server.so.1.
 *
 * It does what every embedder does first: create a server on a free
 * loopback port without authentication, start it with a GMainContext
 * core, register keyboard, mouse and tablet, then link a main channel
 * over plain TCP the way spice-gtk does and check the server's
 * SpiceLinkHeader + SpiceLinkReply. Finally it destroys the server and
 * checks that every timer and watch it took from the core was removed.
 * Bounded by a 10 s deadline on the loop; no sleeps.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>
#include <spice.h>
#include <spice/protocol.h>

#include "core-loop.h"
/* glib and sockets only: keeps this file on Debian's headers (relative
 * path: the repository root is not on this target's include path) */
#include "../integration/loop-util.h"

#define DEADLINE_S 10

/* ---- input devices that must never be called in this test ---- */

static void kbd_push(SpiceKbdInstance *sin, uint8_t frag) { g_assert_not_reached(); }
static uint8_t kbd_leds(SpiceKbdInstance *sin) { return 0; }
static void mouse_motion(SpiceMouseInstance *sin, int dx, int dy, int dz, uint32_t b) { g_assert_not_reached(); }
static void mouse_buttons(SpiceMouseInstance *sin, uint32_t b) { g_assert_not_reached(); }
static void tablet_size(SpiceTabletInstance *sin, int w, int h) { }
static void tablet_position(SpiceTabletInstance *sin, int x, int y, uint32_t b) { g_assert_not_reached(); }
static void tablet_wheel(SpiceTabletInstance *sin, int m, uint32_t b) { g_assert_not_reached(); }
static void tablet_buttons(SpiceTabletInstance *sin, uint32_t b) { g_assert_not_reached(); }

static const SpiceKbdInterface kbd_iface = {
    .base = { SPICE_INTERFACE_KEYBOARD, "abi consumer keyboard",
              SPICE_INTERFACE_KEYBOARD_MAJOR, SPICE_INTERFACE_KEYBOARD_MINOR },
    .push_scan_freg = kbd_push,
    .get_leds = kbd_leds,
};
static const SpiceMouseInterface mouse_iface = {
    .base = { SPICE_INTERFACE_MOUSE, "abi consumer mouse",
              SPICE_INTERFACE_MOUSE_MAJOR, SPICE_INTERFACE_MOUSE_MINOR },
    .motion = mouse_motion,
    .buttons = mouse_buttons,
};
static const SpiceTabletInterface tablet_iface = {
    .base = { SPICE_INTERFACE_TABLET, "abi consumer tablet",
              SPICE_INTERFACE_TABLET_MAJOR, SPICE_INTERFACE_TABLET_MINOR },
    .set_logical_size = tablet_size,
    .position = tablet_position,
    .wheel = tablet_wheel,
    .buttons = tablet_buttons,
};

/* ---- helpers ---- */

static int connect_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {
        .sin_family = AF_INET,
        .sin_port = htons(port),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };

    g_assert_cmpint(fd, >=, 0);
    /* The listening socket exists once spice_server_init returned, so a
     * blocking connect completes from the kernel's backlog. */
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(fcntl(fd, F_SETFL, O_NONBLOCK), ==, 0);
    return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
    /* A 38-byte message always fits an empty socket buffer. */
    g_assert_cmpint(send(fd, buf, len, MSG_NOSIGNAL), ==, (ssize_t)len);
}

/* Bytes received from the server, until `want` is known and reached. */
typedef struct Reply {
    uint8_t buf[4096];
    size_t have;
    size_t want;
    gboolean closed;
    gboolean timed_out;
} Reply;

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
    Reply *r = data;
    ssize_t n = recv(fd, r->buf + r->have, r->want - r->have, 0);

    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        r->closed = TRUE;
        return G_SOURCE_REMOVE;
    }
    if (n > 0) {
        r->have += (size_t)n;
    }
    if (r->have == sizeof(SpiceLinkHeader) && r->want == sizeof(SpiceLinkHeader)) {
        const SpiceLinkHeader *h = (const SpiceLinkHeader *)r->buf;
        uint32_t size = GUINT32_FROM_LE(h->size);
        /* Only read the body when the header is sane; a bogus size fails
         * the checks in main() instead of overrunning buf. */
        if (size <= sizeof(r->buf) - sizeof(SpiceLinkHeader)) {
            r->want += size;
        }
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_deadline(gpointer data)
{
    ((Reply *)data)->timed_out = TRUE;
    return G_SOURCE_REMOVE;
}

int main(void)
{
    GMainContext *ctx = g_main_context_new();
    SpiceCoreInterface *core = embedder_core_new(ctx);
    g_assert_nonnull(core);
    g_assert_cmpstr(core->base.type, ==, SPICE_INTERFACE_CORE);

    int port = loop_free_port();
    SpiceServer *server = spice_server_new();
    g_assert_nonnull(server);
    spice_server_set_addr(server, "127.0.0.1", 0);
    g_assert_cmpint(spice_server_set_port(server, port), ==, 0);
    g_assert_cmpint(spice_server_set_noauth(server), ==, 0);
    g_assert_cmpint(spice_server_init(server, core), ==, 0);

    SpiceKbdInstance kbd = { .base.sif = &kbd_iface.base };
    SpiceMouseInstance mouse = { .base.sif = &mouse_iface.base };
    SpiceTabletInstance tablet = { .base.sif = &tablet_iface.base };
    g_assert_cmpint(spice_server_add_interface(server, &kbd.base), ==, 0);
    g_assert_cmpint(spice_server_add_interface(server, &mouse.base), ==, 0);
    g_assert_cmpint(spice_server_add_interface(server, &tablet.base), ==, 0);

    /* Link message for the main channel, as spice-gtk sends it: header,
     * SpiceLinkMess, then one common-caps word. */
    struct __attribute__((packed)) {
        SpiceLinkHeader header;
        SpiceLinkMess mess;
        uint32_t common_caps;
    } link = {
        .header = {
            .magic = GUINT32_TO_LE(SPICE_MAGIC),
            .major_version = GUINT32_TO_LE(SPICE_VERSION_MAJOR),
            .minor_version = GUINT32_TO_LE(SPICE_VERSION_MINOR),
            .size = GUINT32_TO_LE(sizeof(SpiceLinkMess) + sizeof(uint32_t)),
        },
        .mess = {
            .connection_id = 0,
            .channel_type = SPICE_CHANNEL_MAIN,
            .channel_id = 0,
            .num_common_caps = GUINT32_TO_LE(1),
            .num_channel_caps = 0,
            .caps_offset = GUINT32_TO_LE(sizeof(SpiceLinkMess)),
        },
        .common_caps = GUINT32_TO_LE((1u << SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION) |
                                     (1u << SPICE_COMMON_CAP_AUTH_SPICE) |
                                     (1u << SPICE_COMMON_CAP_MINI_HEADER)),
    };
    G_STATIC_ASSERT(sizeof(link) == 16 + 18 + 4);

    int fd = connect_loopback(port);
    send_all(fd, &link, sizeof(link));

    Reply reply = { .want = sizeof(SpiceLinkHeader) };
    GSource *watch = g_unix_fd_source_new(fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(watch, G_SOURCE_FUNC(on_readable), &reply, NULL);
    g_source_attach(watch, ctx);
    GSource *deadline = g_timeout_source_new_seconds(DEADLINE_S);
    g_source_set_callback(deadline, on_deadline, &reply, NULL);
    g_source_attach(deadline, ctx);

    while (reply.have < reply.want && !reply.closed && !reply.timed_out) {
        g_main_context_iteration(ctx, TRUE);
    }
    g_source_destroy(watch);
    g_source_unref(watch);
    g_source_destroy(deadline);
    g_source_unref(deadline);

    g_assert_false(reply.timed_out);
    g_assert_cmpuint(reply.have, >=, sizeof(SpiceLinkHeader));
    const SpiceLinkHeader *h = (const SpiceLinkHeader *)reply.buf;
    g_assert_cmphex(GUINT32_FROM_LE(h->magic), ==, SPICE_MAGIC);
    g_assert_cmpuint(GUINT32_FROM_LE(h->major_version), ==, SPICE_VERSION_MAJOR);
    uint32_t size = GUINT32_FROM_LE(h->size);
    g_assert_cmpuint(size, >=, sizeof(SpiceLinkReply));
    g_assert_cmpuint(size, <=, sizeof(reply.buf) - sizeof(SpiceLinkHeader));
    g_assert_cmpuint(reply.have, ==, sizeof(SpiceLinkHeader) + size);

    const SpiceLinkReply *r = (const SpiceLinkReply *)(reply.buf + sizeof(SpiceLinkHeader));
    g_assert_cmpuint(GUINT32_FROM_LE(r->error), ==, SPICE_LINK_ERR_OK);
    uint64_t ncaps = (uint64_t)GUINT32_FROM_LE(r->num_common_caps) +
                     GUINT32_FROM_LE(r->num_channel_caps);
    uint32_t caps_offset = GUINT32_FROM_LE(r->caps_offset);
    g_assert_cmpuint(caps_offset, >=, sizeof(SpiceLinkReply));
    g_assert_cmpuint(caps_offset + 4 * ncaps, <=, size);
    /* The public key is a DER SubjectPublicKeyInfo: starts with SEQUENCE. */
    g_assert_cmphex(r->pub_key[0], ==, 0x30);
    printf("link reply: %u bytes, %u common + %u channel caps\n", size,
           GUINT32_FROM_LE(r->num_common_caps), GUINT32_FROM_LE(r->num_channel_caps));

    close(fd);
    /* Let the server notice the close before it is torn down. */
    for (int i = 0; i < 100 && g_main_context_iteration(ctx, FALSE); i++) {
    }

    spice_server_remove_interface(&tablet.base);
    spice_server_remove_interface(&mouse.base);
    spice_server_remove_interface(&kbd.base);
    spice_server_destroy(server);
    g_assert_cmpuint(embedder_core_live_count(core), ==, 0);
    embedder_core_free(core);
    g_main_context_unref(ctx);
    return 0;
}
