/* Integration tests: the real spice-client-glib against our library, both
 * running on this process's default GMainContext.
 *
 *   test-spice-client                  GTest suite (see main())
 *   test-spice-client --link-only PORT [SECONDS]
 *                                      connect to 127.0.0.1:PORT, print
 *                                      "LINKED" once the main channel is up
 *                                      and the channels list arrived, then
 *                                      stay connected until stdin closes or
 *                                      SECONDS pass (used by qemu-query-spice.sh)
 *
 * Every wait is bounded (IT_WAIT_MS); no sleeps: waits iterate the context.
 * Shared helpers (waits, client wrapper, input instances): itest.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>
#include <spice-client.h>
#include <spice.h>

#include "core-loop.h"
#include "itest.h"

/* ---- server ---- */

static SpiceCoreInterface *core;

typedef struct Server {
    SpiceServer *s;
    int port;
} Server;

static void server_start(Server *srv, const char *ticket, int lifetime)
{
    srv->s = spice_server_new();
    srv->port = loop_free_port();
    g_assert_nonnull(srv->s);
    spice_server_set_addr(srv->s, "127.0.0.1", 0);
    spice_server_set_port(srv->s, srv->port);
    if (!ticket) {
        spice_server_set_noauth(srv->s);
    }
    g_assert_cmpint(spice_server_init(srv->s, core), ==, 0);
    if (ticket) {
        g_assert_cmpint(spice_server_set_ticket(srv->s, ticket, lifetime, 0, 0), ==, 0);
    }
    it_inputs_add(srv->s);
}

static void server_stop(Server *srv)
{
    /* detach like an embedder does before destroying */
    it_inputs_remove();
    spice_server_destroy(srv->s);
    srv->s = NULL;
    /* the server gave back every timer and watch it took */
    g_assert_cmpuint(embedder_core_live_count(core), ==, 0);
}

/* ---- client (itest.h's ItClient) ---- */

static int main_mouse_mode(ItClient *c)
{
    int mode = 0;
    if (c->main) {
        g_object_get(c->main, "mouse-mode", &mode, NULL);
    }
    return mode;
}

/* Refused links are logged as client bugs on purpose: not fatal here
 * (stricter than it_log_setup(), which also lets spice-gtk warnings by). */
static gboolean log_fatal_cb(const gchar *domain, GLogLevelFlags level, const gchar *msg,
                             gpointer data)
{
    return !(msg && (strstr(msg, "client bug:") || strstr(msg, "wrong or expired ticket")));
}

/* ---- tests ---- */

static void setup(void)
{
    /* GTest resets this handler for every test case */
    g_test_log_set_fatal_handler(log_fatal_cb, NULL);
}

static void test_plain_link(void)
{
    Server srv;
    ItClient c;
    setup();
    server_start(&srv, NULL, 0);
    it_client_connect(&c, srv.port, NULL);
    g_assert_true(WAIT_FOR(c.main_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
    /* the channels list names inputs (kbd + mouse are registered) */
    g_assert_true(WAIT_FOR(c.inputs_seen, IT_WAIT_MS));
    g_assert_true(WAIT_FOR(c.inputs_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
    g_assert_cmpint(c.channels_seen, ==, 1);
    g_assert_cmpint(it_num_clients(srv.s), ==, 1);
    /* server mouse mode: no tablet, no agent */
    g_assert_cmpint(main_mouse_mode(&c), ==, SPICE_MOUSE_MODE_SERVER);
    it_client_free(&c);
    g_assert_true(WAIT_FOR(it_num_clients(srv.s) == 0, IT_WAIT_MS));
    server_stop(&srv);
}

static void ticket_case(const char *server_ticket, int lifetime, const char *password,
                        bool expect_ok)
{
    Server srv;
    ItClient c;
    setup();
    server_start(&srv, server_ticket, lifetime);
    if (lifetime > 0) {
        /* let the ticket expire: the server compares whole seconds */
        time_t until = time(NULL) + lifetime + 1;
        WAIT_FOR(time(NULL) > until, (lifetime + 3) * 1000);
    }
    it_client_connect(&c, srv.port, password);
    g_assert_true(WAIT_FOR(c.main_event != 0, IT_WAIT_MS));
    if (expect_ok) {
        g_assert_cmpint(c.main_event, ==, SPICE_CHANNEL_OPENED);
    } else {
        g_assert_cmpint(c.main_event, ==, SPICE_CHANNEL_ERROR_AUTH);
        g_assert_cmpint(it_num_clients(srv.s), ==, 0);
    }
    it_client_free(&c);
    g_assert_true(WAIT_FOR(it_num_clients(srv.s) == 0, IT_WAIT_MS));
    server_stop(&srv);
}

static void test_ticket_right(void)
{
    ticket_case("s3cret", 0, "s3cret", true);
}

static void test_ticket_wrong(void)
{
    ticket_case("s3cret", 0, "wrong", false);
}

static void test_ticket_expired(void)
{
    ticket_case("s3cret", 1, "s3cret", false);
}

static bool scans_are(const uint8_t *want, size_t n)
{
    return it_scans->len == n && memcmp(it_scans->data, want, n) == 0;
}

static const ItMouseEvent *ev(guint i)
{
    return &g_array_index(it_mouse_events, ItMouseEvent, i);
}

static void connect_inputs(Server *srv, ItClient *c)
{
    server_start(srv, NULL, 0);
    it_client_connect(c, srv->port, NULL);
    g_assert_true(WAIT_FOR(c->inputs_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
}

static void test_keyboard(void)
{
    Server srv;
    ItClient c;
    setup();
    connect_inputs(&srv, &c);

    spice_inputs_channel_key_press(c.inputs, 0x1e);          /* 'a' */
    spice_inputs_channel_key_release(c.inputs, 0x1e);
    spice_inputs_channel_key_press(c.inputs, 0x11c);         /* keypad Enter (E0 1C) */
    spice_inputs_channel_key_release(c.inputs, 0x11c);
    /* the server has KEY_SCANCODE: this goes as one KEY_SCANCODE message */
    spice_inputs_channel_key_press_and_release(c.inputs, 0x148);  /* E0 48 up arrow */
    const uint8_t want[] = { 0x1e, 0x9e, 0xe0, 0x1c, 0xe0, 0x9c, 0xe0, 0x48, 0xe0, 0xc8 };
    g_assert_true(WAIT_FOR(it_scans->len >= sizeof(want), IT_WAIT_MS));
    if (!scans_are(want, sizeof(want))) {
        for (guint i = 0; i < it_scans->len; i++) {
            g_printerr("scan[%u] = 0x%02x\n", i, it_scans->data[i]);
        }
        g_assert_not_reached();
    }

    /* guest LEDs reach the client as its key-modifiers */
    it_guest_leds = SPICE_KEYBOARD_MODIFIER_FLAGS_CAPS_LOCK |
                    SPICE_KEYBOARD_MODIFIER_FLAGS_NUM_LOCK;
    spice_server_kbd_leds(&it_kbd, it_guest_leds);
    int mods = 0;
    g_assert_true(WAIT_FOR((g_object_get(c.inputs, "key-modifiers", &mods, NULL), mods == 6),
                           IT_WAIT_MS));

    /* a client lock state that differs from the guest's is synced by
     * tapping the lock key: scroll lock wanted on, caps lock wanted off */
    g_byte_array_set_size(it_scans, 0);
    spice_inputs_channel_set_key_locks(c.inputs, SPICE_INPUTS_SCROLL_LOCK | SPICE_INPUTS_NUM_LOCK);
    const uint8_t taps[] = { 0x46, 0xc6, 0x3a, 0xba };
    g_assert_true(WAIT_FOR(it_scans->len >= sizeof(taps), IT_WAIT_MS));
    g_assert_true(scans_are(taps, sizeof(taps)));

    it_client_free(&c);
    server_stop(&srv);
}

static void test_mouse_server_mode(void)
{
    Server srv;
    ItClient c;
    setup();
    connect_inputs(&srv, &c);
    g_assert_cmpint(main_mouse_mode(&c), ==, SPICE_MOUSE_MODE_SERVER);

    spice_inputs_channel_motion(c.inputs, 5, -3, 0);
    g_assert_true(WAIT_FOR(it_mouse_events->len >= 1, IT_WAIT_MS));
    g_assert_cmpint(ev(0)->kind, ==, 'm');
    g_assert_cmpint(ev(0)->dx, ==, 5);
    g_assert_cmpint(ev(0)->dy, ==, -3);
    g_assert_cmpint(ev(0)->dz, ==, 0);

    /* SPICE right (mask 4) is the interfaces' 2, middle (2) is their 4 */
    spice_inputs_channel_button_press(c.inputs, SPICE_MOUSE_BUTTON_RIGHT,
                                      SPICE_MOUSE_BUTTON_MASK_RIGHT);
    spice_inputs_channel_button_release(c.inputs, SPICE_MOUSE_BUTTON_RIGHT, 0);
    spice_inputs_channel_button_press(c.inputs, SPICE_MOUSE_BUTTON_MIDDLE,
                                      SPICE_MOUSE_BUTTON_MASK_MIDDLE);
    spice_inputs_channel_button_release(c.inputs, SPICE_MOUSE_BUTTON_MIDDLE, 0);
    /* wheel: a press of UP / DOWN becomes dz -1 / +1 */
    spice_inputs_channel_button_press(c.inputs, SPICE_MOUSE_BUTTON_UP, 0);
    spice_inputs_channel_button_release(c.inputs, SPICE_MOUSE_BUTTON_UP, 0);
    spice_inputs_channel_button_press(c.inputs, SPICE_MOUSE_BUTTON_DOWN, 0);
    spice_inputs_channel_button_release(c.inputs, SPICE_MOUSE_BUTTON_DOWN, 0);
    g_assert_true(WAIT_FOR(it_mouse_events->len >= 9, IT_WAIT_MS));
    static const struct { char kind; int dz; uint32_t buttons; } want[] = {
        { 'b', 0, 2 }, { 'b', 0, 0 }, { 'b', 0, 4 }, { 'b', 0, 0 },
        { 'm', -1, 0 }, { 'b', 0, 0 }, { 'm', 1, 0 }, { 'b', 0, 0 },
    };
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        g_assert_cmpint(ev(i + 1)->kind, ==, want[i].kind);
        g_assert_cmpint(ev(i + 1)->dz, ==, want[i].dz);
        g_assert_cmpuint(ev(i + 1)->buttons, ==, want[i].buttons);
    }

    /* more than 8 motions in a row only flow if the server acks every 4 */
    g_array_set_size(it_mouse_events, 0);
    for (int i = 0; i < 20; i++) {
        spice_inputs_channel_motion(c.inputs, 1, 1, 0);
        g_assert_true(WAIT_FOR(it_mouse_events->len >= (guint)i + 1, IT_WAIT_MS));
    }
    int sum = 0;
    for (guint i = 0; i < it_mouse_events->len; i++) {
        sum += ev(i)->dx;
    }
    g_assert_cmpint(sum, ==, 20);

    it_client_free(&c);
    server_stop(&srv);
}

static void test_tablet_client_mode(void)
{
    Server srv;
    ItClient c;
    setup();
    connect_inputs(&srv, &c);
    g_assert_cmpint(main_mouse_mode(&c), ==, SPICE_MOUSE_MODE_SERVER);

    /* a tablet with no QXL instance allows client mode; spice-gtk asks for
     * it as soon as it is offered */
    g_assert_cmpint(spice_server_add_interface(srv.s, &it_tablet.base), ==, 0);
    g_assert_true(WAIT_FOR(main_mouse_mode(&c) == SPICE_MOUSE_MODE_CLIENT, IT_WAIT_MS));

    spice_inputs_channel_position(c.inputs, 100, 200, 0, 0);
    g_assert_true(WAIT_FOR(it_mouse_events->len >= 1, IT_WAIT_MS));
    g_assert_cmpint(ev(0)->kind, ==, 'p');
    g_assert_cmpint(ev(0)->dx, ==, 100);
    g_assert_cmpint(ev(0)->dy, ==, 200);
    g_assert_cmpuint(ev(0)->buttons, ==, 0);

    spice_inputs_channel_button_press(c.inputs, SPICE_MOUSE_BUTTON_LEFT,
                                      SPICE_MOUSE_BUTTON_MASK_LEFT);
    spice_inputs_channel_button_press(c.inputs, SPICE_MOUSE_BUTTON_UP,
                                      SPICE_MOUSE_BUTTON_MASK_LEFT);
    g_assert_true(WAIT_FOR(it_mouse_events->len >= 3, IT_WAIT_MS));
    guint i = it_mouse_events->len - 2;
    g_assert_cmpint(ev(i)->kind, ==, 't');
    g_assert_cmpuint(ev(i)->buttons, ==, 1);
    g_assert_cmpint(ev(i + 1)->kind, ==, 'w');
    g_assert_cmpint(ev(i + 1)->dx, ==, -1);
    g_assert_cmpuint(ev(i + 1)->buttons, ==, 1);

    /* removing the tablet drops back to server mode */
    g_assert_cmpint(spice_server_remove_interface(&it_tablet.base), ==, 0);
    g_assert_true(WAIT_FOR(main_mouse_mode(&c) == SPICE_MOUSE_MODE_SERVER, IT_WAIT_MS));

    it_client_free(&c);
    server_stop(&srv);
}

static void test_connect_cycles(void)
{
    Server srv;
    setup();
    server_start(&srv, NULL, 0);
    for (int i = 0; i < 100; i++) {
        ItClient c;
        it_client_connect(&c, srv.port, NULL);
        g_assert_true(WAIT_FOR(c.main_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
        g_assert_true(WAIT_FOR(c.inputs_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
        it_client_free(&c);
        g_assert_true(WAIT_FOR(it_num_clients(srv.s) == 0, IT_WAIT_MS));
    }
    server_stop(&srv);
}

/* ---- --link-only mode ---- */

static gboolean stdin_closed_cb(gint fd, GIOCondition cond, gpointer data)
{
    char buf[64];
    if (read(fd, buf, sizeof(buf)) <= 0) {
        *(bool *)data = true;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static int link_only(int port, int seconds)
{
    ItClient c;
    bool done = false;
    it_client_connect(&c, port, NULL);
    if (!WAIT_FOR(c.main_event == SPICE_CHANNEL_OPENED && c.channels_seen > 0, IT_WAIT_MS)) {
        fprintf(stderr, "main channel did not come up (event %d)\n", c.main_event);
        return 1;
    }
    printf("LINKED %d\n", c.channels_seen);
    fflush(stdout);
    g_unix_fd_add(0, G_IO_IN | G_IO_HUP, stdin_closed_cb, &done);
    WAIT_FOR(done || c.main_event != SPICE_CHANNEL_OPENED, seconds * 1000);
    it_client_free(&c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--link-only") == 0) {
        int seconds = argc >= 4 ? atoi(argv[3]) : 30;
        return link_only(atoi(argv[2]), CLAMP(seconds, 1, 600));
    }
    g_test_init(&argc, &argv, NULL);
    core = embedder_core_new(g_main_context_default());
    g_test_add_func("/integration/plain-link", test_plain_link);
    g_test_add_func("/integration/ticket/right", test_ticket_right);
    g_test_add_func("/integration/ticket/wrong", test_ticket_wrong);
    g_test_add_func("/integration/ticket/expired", test_ticket_expired);
    g_test_add_func("/integration/inputs/keyboard", test_keyboard);
    g_test_add_func("/integration/inputs/mouse-server-mode", test_mouse_server_mode);
    g_test_add_func("/integration/inputs/tablet-client-mode", test_tablet_client_mode);
    g_test_add_func("/integration/connect-cycles", test_connect_cycles);
    int ret = g_test_run();
    embedder_core_free(core);
    return ret;
}
