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
 * Every wait is bounded (WAIT_MS); no sleeps: waits iterate the context. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>
#include <spice-client.h>
#include <spice.h>

#include "core-loop.h"

#define WAIT_MS 10000

/* ---- bounded waiting ---- */

static gboolean wait_timeout_cb(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

#define WAIT_FOR(cond, ms) ({                                             \
        bool timed_out_ = false;                                          \
        guint id_ = g_timeout_add((ms), wait_timeout_cb, &timed_out_);    \
        while (!(cond) && !timed_out_) {                                  \
            g_main_context_iteration(NULL, TRUE);                         \
        }                                                                 \
        if (!timed_out_) {                                                \
            g_source_remove(id_);                                         \
        }                                                                 \
        (cond);                                                           \
    })

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &len), ==, 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* ---- input devices that record what arrives ---- */

typedef struct MouseEvent {
    char kind;                       /* 'm' motion, 'b' buttons, 'p' position, 'w' wheel, 't' tablet buttons */
    int a, b, c;
    uint32_t buttons;
} MouseEvent;

static GByteArray *scans;            /* push_scan_freg bytes */
static GArray *mouse_events;         /* MouseEvent */
static uint8_t guest_leds;

static void kbd_push_scan(SpiceKbdInstance *sin, uint8_t frag)
{
    g_byte_array_append(scans, &frag, 1);
}

static uint8_t kbd_get_leds(SpiceKbdInstance *sin)
{
    return guest_leds;
}

static const SpiceKbdInterface kbd_iface = {
    .base = { SPICE_INTERFACE_KEYBOARD, "test keyboard", SPICE_INTERFACE_KEYBOARD_MAJOR,
              SPICE_INTERFACE_KEYBOARD_MINOR },
    .push_scan_freg = kbd_push_scan,
    .get_leds = kbd_get_leds,
};

static void record(char kind, int a, int b, int c, uint32_t buttons)
{
    MouseEvent e = { kind, a, b, c, buttons };
    g_array_append_val(mouse_events, e);
}

static void mouse_motion(SpiceMouseInstance *sin, int dx, int dy, int dz, uint32_t buttons)
{
    record('m', dx, dy, dz, buttons);
}

static void mouse_buttons(SpiceMouseInstance *sin, uint32_t buttons)
{
    record('b', 0, 0, 0, buttons);
}

static const SpiceMouseInterface mouse_iface = {
    .base = { SPICE_INTERFACE_MOUSE, "test mouse", SPICE_INTERFACE_MOUSE_MAJOR,
              SPICE_INTERFACE_MOUSE_MINOR },
    .motion = mouse_motion,
    .buttons = mouse_buttons,
};

static void tablet_set_logical_size(SpiceTabletInstance *sin, int w, int h)
{
}

static void tablet_position(SpiceTabletInstance *sin, int x, int y, uint32_t buttons)
{
    record('p', x, y, 0, buttons);
}

static void tablet_wheel(SpiceTabletInstance *sin, int motion, uint32_t buttons)
{
    record('w', motion, 0, 0, buttons);
}

static void tablet_buttons(SpiceTabletInstance *sin, uint32_t buttons)
{
    record('t', 0, 0, 0, buttons);
}

static const SpiceTabletInterface tablet_iface = {
    .base = { SPICE_INTERFACE_TABLET, "test tablet", SPICE_INTERFACE_TABLET_MAJOR,
              SPICE_INTERFACE_TABLET_MINOR },
    .set_logical_size = tablet_set_logical_size,
    .position = tablet_position,
    .wheel = tablet_wheel,
    .buttons = tablet_buttons,
};

static SpiceKbdInstance kbd_sin = { .base.sif = &kbd_iface.base };
static SpiceMouseInstance mouse_sin = { .base.sif = &mouse_iface.base };
static SpiceTabletInstance tablet_sin = { .base.sif = &tablet_iface.base };

/* ---- server ---- */

static SpiceCoreInterface *core;

typedef struct Server {
    SpiceServer *s;
    int port;
} Server;

static void server_start(Server *srv, const char *ticket, int lifetime)
{
    srv->s = spice_server_new();
    srv->port = free_port();
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
    g_assert_cmpint(spice_server_add_interface(srv->s, &kbd_sin.base), ==, 0);
    g_assert_cmpint(spice_server_add_interface(srv->s, &mouse_sin.base), ==, 0);
    g_byte_array_set_size(scans, 0);
    g_array_set_size(mouse_events, 0);
    guest_leds = 0;
}

static void server_stop(Server *srv)
{
    /* detach like an embedder does before destroying */
    g_assert_cmpint(spice_server_remove_interface(&mouse_sin.base), ==, 0);
    g_assert_cmpint(spice_server_remove_interface(&kbd_sin.base), ==, 0);
    spice_server_destroy(srv->s);
    srv->s = NULL;
    /* the server gave back every timer and watch it took */
    g_assert_cmpuint(embedder_core_live_count(core), ==, 0);
}

/* ---- client ---- */

typedef struct Client {
    SpiceSession *session;
    SpiceMainChannel *main;          /* borrowed from the session */
    SpiceInputsChannel *inputs;
    int main_event;                  /* last SpiceChannelEvent on main */
    int inputs_event;
    bool inputs_seen;                /* CHANNELS_LIST listed inputs */
    int channels_seen;
} Client;

static void main_event_cb(SpiceChannel *ch, SpiceChannelEvent ev, gpointer data)
{
    ((Client *)data)->main_event = ev;
}

static void inputs_event_cb(SpiceChannel *ch, SpiceChannelEvent ev, gpointer data)
{
    ((Client *)data)->inputs_event = ev;
}

static void channel_new_cb(SpiceSession *s, SpiceChannel *ch, gpointer data)
{
    Client *c = data;
    if (SPICE_IS_MAIN_CHANNEL(ch)) {
        c->main = SPICE_MAIN_CHANNEL(ch);
        g_signal_connect(ch, "channel-event", G_CALLBACK(main_event_cb), c);
        return;
    }
    c->channels_seen++;
    if (SPICE_IS_INPUTS_CHANNEL(ch)) {
        c->inputs = SPICE_INPUTS_CHANNEL(ch);
        c->inputs_seen = true;
        g_signal_connect(ch, "channel-event", G_CALLBACK(inputs_event_cb), c);
        spice_channel_connect(ch);
    }
}

static void channel_destroy_cb(SpiceSession *s, SpiceChannel *ch, gpointer data)
{
    Client *c = data;
    g_signal_handlers_disconnect_by_data(ch, c);
    if ((gpointer)ch == (gpointer)c->main) {
        c->main = NULL;
    }
    if ((gpointer)ch == (gpointer)c->inputs) {
        c->inputs = NULL;
    }
}

static void client_connect(Client *c, int port, const char *password)
{
    char portstr[16];
    memset(c, 0, sizeof(*c));
    snprintf(portstr, sizeof(portstr), "%d", port);
    c->session = spice_session_new();
    g_object_set(c->session, "host", "127.0.0.1", "port", portstr, NULL);
    if (password) {
        g_object_set(c->session, "password", password, NULL);
    }
    g_signal_connect(c->session, "channel-new", G_CALLBACK(channel_new_cb), c);
    g_signal_connect(c->session, "channel-destroy", G_CALLBACK(channel_destroy_cb), c);
    g_assert_true(spice_session_connect(c->session));
}

static void client_free(Client *c)
{
    spice_session_disconnect(c->session);
    /* channels are torn down from idle callbacks */
    WAIT_FOR(c->main == NULL && c->inputs == NULL, WAIT_MS);
    g_signal_handlers_disconnect_by_data(c->session, c);
    g_object_unref(c->session);
    c->session = NULL;
}

static int main_mouse_mode(Client *c)
{
    int mode = 0;
    if (c->main) {
        g_object_get(c->main, "mouse-mode", &mode, NULL);
    }
    return mode;
}

/* The deprecated getter is the only public way to count sessions. */
static int num_clients(SpiceServer *s)
{
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    return spice_server_get_num_clients(s);
    G_GNUC_END_IGNORE_DEPRECATIONS
}

/* Refused links are logged as client bugs on purpose: not fatal here. */
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
    scans = g_byte_array_new();
    mouse_events = g_array_new(FALSE, TRUE, sizeof(MouseEvent));
}

static void teardown(void)
{
    g_byte_array_free(scans, TRUE);
    g_array_free(mouse_events, TRUE);
}

static void test_plain_link(void)
{
    Server srv;
    Client c;
    setup();
    server_start(&srv, NULL, 0);
    client_connect(&c, srv.port, NULL);
    g_assert_true(WAIT_FOR(c.main_event == SPICE_CHANNEL_OPENED, WAIT_MS));
    /* the channels list names inputs (kbd + mouse are registered) */
    g_assert_true(WAIT_FOR(c.inputs_seen, WAIT_MS));
    g_assert_true(WAIT_FOR(c.inputs_event == SPICE_CHANNEL_OPENED, WAIT_MS));
    g_assert_cmpint(c.channels_seen, ==, 1);
    g_assert_cmpint(num_clients(srv.s), ==, 1);
    /* server mouse mode: no tablet, no agent */
    g_assert_cmpint(main_mouse_mode(&c), ==, SPICE_MOUSE_MODE_SERVER);
    client_free(&c);
    g_assert_true(WAIT_FOR(num_clients(srv.s) == 0, WAIT_MS));
    server_stop(&srv);
    teardown();
}

static void ticket_case(const char *server_ticket, int lifetime, const char *password,
                        bool expect_ok)
{
    Server srv;
    Client c;
    setup();
    server_start(&srv, server_ticket, lifetime);
    if (lifetime > 0) {
        /* let the ticket expire: the server compares whole seconds */
        time_t until = time(NULL) + lifetime + 1;
        WAIT_FOR(time(NULL) > until, (lifetime + 3) * 1000);
    }
    client_connect(&c, srv.port, password);
    g_assert_true(WAIT_FOR(c.main_event != 0, WAIT_MS));
    if (expect_ok) {
        g_assert_cmpint(c.main_event, ==, SPICE_CHANNEL_OPENED);
    } else {
        g_assert_cmpint(c.main_event, ==, SPICE_CHANNEL_ERROR_AUTH);
        g_assert_cmpint(num_clients(srv.s), ==, 0);
    }
    client_free(&c);
    g_assert_true(WAIT_FOR(num_clients(srv.s) == 0, WAIT_MS));
    server_stop(&srv);
    teardown();
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
    return scans->len == n && memcmp(scans->data, want, n) == 0;
}

static const MouseEvent *ev(guint i)
{
    return &g_array_index(mouse_events, MouseEvent, i);
}

static void connect_inputs(Server *srv, Client *c)
{
    server_start(srv, NULL, 0);
    client_connect(c, srv->port, NULL);
    g_assert_true(WAIT_FOR(c->inputs_event == SPICE_CHANNEL_OPENED, WAIT_MS));
}

static void test_keyboard(void)
{
    Server srv;
    Client c;
    setup();
    connect_inputs(&srv, &c);

    spice_inputs_channel_key_press(c.inputs, 0x1e);          /* 'a' */
    spice_inputs_channel_key_release(c.inputs, 0x1e);
    spice_inputs_channel_key_press(c.inputs, 0x11c);         /* keypad Enter (E0 1C) */
    spice_inputs_channel_key_release(c.inputs, 0x11c);
    /* the server has KEY_SCANCODE: this goes as one KEY_SCANCODE message */
    spice_inputs_channel_key_press_and_release(c.inputs, 0x148);  /* E0 48 up arrow */
    const uint8_t want[] = { 0x1e, 0x9e, 0xe0, 0x1c, 0xe0, 0x9c, 0xe0, 0x48, 0xe0, 0xc8 };
    g_assert_true(WAIT_FOR(scans->len >= sizeof(want), WAIT_MS));
    if (!scans_are(want, sizeof(want))) {
        for (guint i = 0; i < scans->len; i++) {
            g_printerr("scan[%u] = 0x%02x\n", i, scans->data[i]);
        }
        g_assert_not_reached();
    }

    /* guest LEDs reach the client as its key-modifiers */
    guest_leds = SPICE_KEYBOARD_MODIFIER_FLAGS_CAPS_LOCK | SPICE_KEYBOARD_MODIFIER_FLAGS_NUM_LOCK;
    spice_server_kbd_leds(&kbd_sin, guest_leds);
    int mods = 0;
    g_assert_true(WAIT_FOR((g_object_get(c.inputs, "key-modifiers", &mods, NULL), mods == 6),
                           WAIT_MS));

    /* a client lock state that differs from the guest's is synced by
     * tapping the lock key: scroll lock wanted on, caps lock wanted off */
    g_byte_array_set_size(scans, 0);
    spice_inputs_channel_set_key_locks(c.inputs, SPICE_INPUTS_SCROLL_LOCK | SPICE_INPUTS_NUM_LOCK);
    const uint8_t taps[] = { 0x46, 0xc6, 0x3a, 0xba };
    g_assert_true(WAIT_FOR(scans->len >= sizeof(taps), WAIT_MS));
    g_assert_true(scans_are(taps, sizeof(taps)));

    client_free(&c);
    server_stop(&srv);
    teardown();
}

static void test_mouse_server_mode(void)
{
    Server srv;
    Client c;
    setup();
    connect_inputs(&srv, &c);
    g_assert_cmpint(main_mouse_mode(&c), ==, SPICE_MOUSE_MODE_SERVER);

    spice_inputs_channel_motion(c.inputs, 5, -3, 0);
    g_assert_true(WAIT_FOR(mouse_events->len >= 1, WAIT_MS));
    g_assert_cmpint(ev(0)->kind, ==, 'm');
    g_assert_cmpint(ev(0)->a, ==, 5);
    g_assert_cmpint(ev(0)->b, ==, -3);
    g_assert_cmpint(ev(0)->c, ==, 0);

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
    g_assert_true(WAIT_FOR(mouse_events->len >= 9, WAIT_MS));
    static const struct { char kind; int dz; uint32_t buttons; } want[] = {
        { 'b', 0, 2 }, { 'b', 0, 0 }, { 'b', 0, 4 }, { 'b', 0, 0 },
        { 'm', -1, 0 }, { 'b', 0, 0 }, { 'm', 1, 0 }, { 'b', 0, 0 },
    };
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        g_assert_cmpint(ev(i + 1)->kind, ==, want[i].kind);
        g_assert_cmpint(ev(i + 1)->c, ==, want[i].dz);
        g_assert_cmpuint(ev(i + 1)->buttons, ==, want[i].buttons);
    }

    /* more than 8 motions in a row only flow if the server acks every 4 */
    g_array_set_size(mouse_events, 0);
    for (int i = 0; i < 20; i++) {
        spice_inputs_channel_motion(c.inputs, 1, 1, 0);
        g_assert_true(WAIT_FOR(mouse_events->len >= (guint)i + 1, WAIT_MS));
    }
    int sum = 0;
    for (guint i = 0; i < mouse_events->len; i++) {
        sum += ev(i)->a;
    }
    g_assert_cmpint(sum, ==, 20);

    client_free(&c);
    server_stop(&srv);
    teardown();
}

static void test_tablet_client_mode(void)
{
    Server srv;
    Client c;
    setup();
    connect_inputs(&srv, &c);
    g_assert_cmpint(main_mouse_mode(&c), ==, SPICE_MOUSE_MODE_SERVER);

    /* a tablet with no QXL instance allows client mode; spice-gtk asks for
     * it as soon as it is offered */
    g_assert_cmpint(spice_server_add_interface(srv.s, &tablet_sin.base), ==, 0);
    g_assert_true(WAIT_FOR(main_mouse_mode(&c) == SPICE_MOUSE_MODE_CLIENT, WAIT_MS));

    spice_inputs_channel_position(c.inputs, 100, 200, 0, 0);
    g_assert_true(WAIT_FOR(mouse_events->len >= 1, WAIT_MS));
    g_assert_cmpint(ev(0)->kind, ==, 'p');
    g_assert_cmpint(ev(0)->a, ==, 100);
    g_assert_cmpint(ev(0)->b, ==, 200);
    g_assert_cmpuint(ev(0)->buttons, ==, 0);

    spice_inputs_channel_button_press(c.inputs, SPICE_MOUSE_BUTTON_LEFT,
                                      SPICE_MOUSE_BUTTON_MASK_LEFT);
    spice_inputs_channel_button_press(c.inputs, SPICE_MOUSE_BUTTON_UP,
                                      SPICE_MOUSE_BUTTON_MASK_LEFT);
    g_assert_true(WAIT_FOR(mouse_events->len >= 3, WAIT_MS));
    guint i = mouse_events->len - 2;
    g_assert_cmpint(ev(i)->kind, ==, 't');
    g_assert_cmpuint(ev(i)->buttons, ==, 1);
    g_assert_cmpint(ev(i + 1)->kind, ==, 'w');
    g_assert_cmpint(ev(i + 1)->a, ==, -1);
    g_assert_cmpuint(ev(i + 1)->buttons, ==, 1);

    /* removing the tablet drops back to server mode */
    g_assert_cmpint(spice_server_remove_interface(&tablet_sin.base), ==, 0);
    g_assert_true(WAIT_FOR(main_mouse_mode(&c) == SPICE_MOUSE_MODE_SERVER, WAIT_MS));

    client_free(&c);
    server_stop(&srv);
    teardown();
}

static void test_connect_cycles(void)
{
    Server srv;
    setup();
    server_start(&srv, NULL, 0);
    for (int i = 0; i < 100; i++) {
        Client c;
        client_connect(&c, srv.port, NULL);
        g_assert_true(WAIT_FOR(c.main_event == SPICE_CHANNEL_OPENED, WAIT_MS));
        g_assert_true(WAIT_FOR(c.inputs_event == SPICE_CHANNEL_OPENED, WAIT_MS));
        client_free(&c);
        g_assert_true(WAIT_FOR(num_clients(srv.s) == 0, WAIT_MS));
    }
    server_stop(&srv);
    teardown();
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
    Client c;
    bool done = false;
    client_connect(&c, port, NULL);
    if (!WAIT_FOR(c.main_event == SPICE_CHANNEL_OPENED && c.channels_seen > 0, WAIT_MS)) {
        fprintf(stderr, "main channel did not come up (event %d)\n", c.main_event);
        return 1;
    }
    printf("LINKED %d\n", c.channels_seen);
    fflush(stdout);
    g_unix_fd_add(0, G_IO_IN | G_IO_HUP, stdin_closed_cb, &done);
    WAIT_FOR(done || c.main_event != SPICE_CHANNEL_OPENED, seconds * 1000);
    client_free(&c);
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
