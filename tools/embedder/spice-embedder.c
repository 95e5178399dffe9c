/* spice-embedder: the shortest complete use of the libspice-server API.
 *
 *   spice-embedder [-p PORT] [-a ADDR] [-t SECONDS]
 *
 * Starts a server without authentication on ADDR:PORT (default
 * 127.0.0.1:5930), registers a keyboard, a mouse and a tablet that print
 * what a client sends, and runs the event loop for SECONDS (default 10,
 * at most 3600). Connect with: remote-viewer spice://127.0.0.1:5930
 */
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>
#include <spice.h>

#include "core-loop.h"

/* ---- keyboard ---- */

static void kbd_push_scan(SpiceKbdInstance *sin, uint8_t frag)
{
    printf("key: scan byte 0x%02x\n", frag);
}

static uint8_t kbd_get_leds(SpiceKbdInstance *sin)
{
    return 0;
}

static const SpiceKbdInterface kbd_iface = {
    .base = {
        .type = SPICE_INTERFACE_KEYBOARD,
        .description = "spice-embedder keyboard",
        .major_version = SPICE_INTERFACE_KEYBOARD_MAJOR,
        .minor_version = SPICE_INTERFACE_KEYBOARD_MINOR,
    },
    .push_scan_freg = kbd_push_scan,
    .get_leds = kbd_get_leds,
};

/* ---- relative mouse (server mouse mode) ---- */

static void mouse_motion(SpiceMouseInstance *sin, int dx, int dy, int dz, uint32_t buttons)
{
    printf("mouse: move %+d %+d wheel %+d buttons 0x%x\n", dx, dy, dz, buttons);
}

static void mouse_buttons(SpiceMouseInstance *sin, uint32_t buttons)
{
    printf("mouse: buttons 0x%x\n", buttons);
}

static const SpiceMouseInterface mouse_iface = {
    .base = {
        .type = SPICE_INTERFACE_MOUSE,
        .description = "spice-embedder mouse",
        .major_version = SPICE_INTERFACE_MOUSE_MAJOR,
        .minor_version = SPICE_INTERFACE_MOUSE_MINOR,
    },
    .motion = mouse_motion,
    .buttons = mouse_buttons,
};

/* ---- absolute pointer (client mouse mode) ---- */

static void tablet_set_logical_size(SpiceTabletInstance *sin, int width, int height)
{
    printf("tablet: logical size %dx%d\n", width, height);
}

static void tablet_position(SpiceTabletInstance *sin, int x, int y, uint32_t buttons)
{
    printf("tablet: at %d,%d buttons 0x%x\n", x, y, buttons);
}

static void tablet_wheel(SpiceTabletInstance *sin, int motion, uint32_t buttons)
{
    printf("tablet: wheel %+d buttons 0x%x\n", motion, buttons);
}

static void tablet_buttons(SpiceTabletInstance *sin, uint32_t buttons)
{
    printf("tablet: buttons 0x%x\n", buttons);
}

static const SpiceTabletInterface tablet_iface = {
    .base = {
        .type = SPICE_INTERFACE_TABLET,
        .description = "spice-embedder tablet",
        .major_version = SPICE_INTERFACE_TABLET_MAJOR,
        .minor_version = SPICE_INTERFACE_TABLET_MINOR,
    },
    .set_logical_size = tablet_set_logical_size,
    .position = tablet_position,
    .wheel = tablet_wheel,
    .buttons = tablet_buttons,
};

/* ---- connection events ---- */

static void on_channel_event(int event, SpiceChannelEventInfo *info, void *user_data)
{
    static const char *const names[] = { "?", "connected", "initialized", "disconnected" };

    printf("channel type %d id %d: %s%s\n", info->type, info->id,
           names[event >= 1 && event <= 3 ? event : 0],
           (info->flags & SPICE_CHANNEL_EVENT_FLAG_TLS) ? " (TLS)" : "");
}

static gboolean on_deadline(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    int port = 5930;
    int seconds = 10;
    const char *addr = "127.0.0.1";

    for (int i = 1; i + 1 < argc; i += 2) {
        if (g_str_equal(argv[i], "-p")) {
            port = atoi(argv[i + 1]);
        } else if (g_str_equal(argv[i], "-a")) {
            addr = argv[i + 1];
        } else if (g_str_equal(argv[i], "-t")) {
            seconds = atoi(argv[i + 1]);
        } else {
            break;
        }
    }
    if (argc % 2 == 0 || port <= 0 || port > 65535 || seconds <= 0 || seconds > 3600) {
        fprintf(stderr, "usage: %s [-p PORT 1-65535] [-a ADDR] [-t SECONDS 1-3600]\n", argv[0]);
        return 2;
    }

    GMainContext *ctx = g_main_context_new();
    SpiceCoreInterface *core = embedder_core_new(ctx);
    embedder_core_set_channel_event(core, on_channel_event, NULL);

    SpiceServer *server = spice_server_new();
    spice_server_set_addr(server, addr, 0);
    spice_server_set_port(server, port);
    spice_server_set_noauth(server);
    if (!server || spice_server_init(server, core) != 0) {
        fprintf(stderr, "cannot start the server on %s:%d\n", addr, port);
        return 1;
    }

    /* Instances must outlive their registration: static storage here. */
    static SpiceKbdInstance kbd = { .base.sif = &kbd_iface.base };
    static SpiceMouseInstance mouse = { .base.sif = &mouse_iface.base };
    static SpiceTabletInstance tablet = { .base.sif = &tablet_iface.base };
    if (spice_server_add_interface(server, &kbd.base) != 0 ||
        spice_server_add_interface(server, &mouse.base) != 0 ||
        spice_server_add_interface(server, &tablet.base) != 0) {
        fprintf(stderr, "the server refused an input interface\n");
        return 1;
    }
    spice_server_vm_start(server);
    printf("listening on spice://%s:%d for %d s\n", addr, port, seconds);
    fflush(stdout);

    gboolean done = FALSE;
    GSource *deadline = g_timeout_source_new_seconds((guint)seconds);
    g_source_set_callback(deadline, on_deadline, &done, NULL);
    g_source_attach(deadline, ctx);
    while (!done) {
        g_main_context_iteration(ctx, TRUE);
        fflush(stdout);
    }
    g_source_unref(deadline);

    spice_server_remove_interface(&tablet.base);
    spice_server_remove_interface(&mouse.base);
    spice_server_remove_interface(&kbd.base);
    spice_server_destroy(server);
    embedder_core_free(core);
    g_main_context_unref(ctx);
    return 0;
}
