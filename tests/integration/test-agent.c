/* The vdagent route with spice-client-glib and the fake vdagent char
 * device of fake-agent.c:
 *   /agent/route     agent-connected, client ANNOUNCE_CAPABILITIES reaches
 *                    the device, device caps and clipboard grabs reach the
 *                    client, more messages than the token window in both
 *                    directions (device stalled meanwhile) arrive in order,
 *                    client disconnect tells the device
 *   /agent/mouse     agent mouse: client mode offered, positions and
 *                    buttons reach the device as VD_AGENT_MOUSE_STATE
 *   /agent/removal   removing the device -> agent-connected false (and
 *                    server mouse mode); adding it back -> true again
 * Every wait is bounded; no sleeps. */
#include <string.h>

#include <spice/vd_agent.h>

#include "core-loop.h"
#include "fake-agent.h"
#include "itest.h"

/* More than the server's client token window (10) and batch (5). */
#define BURST 30

static SpiceCoreInterface *core;

static FakeAgent agent;

/* ---- server and client ---- */

typedef struct Fixture {
    SpiceServer *s;
    ItClient c;
    GArray *grabs;                   /* guint32 first type of each grab seen */
    guint grab_selection;
} Fixture;

static gboolean grab_cb(SpiceMainChannel *main, guint selection, gpointer types, guint ntypes,
                        gpointer data)
{
    Fixture *f = data;
    f->grab_selection = selection;
    if (ntypes > 0) {
        guint32 t;
        memcpy(&t, types, sizeof(t));
        g_array_append_val(f->grabs, t);
    }
    return TRUE;
}

static bool agent_connected(Fixture *f)
{
    gboolean on = FALSE;
    if (f->c.main) {
        g_object_get(f->c.main, "agent-connected", &on, NULL);
    }
    return on;
}

static int agent_caps0(Fixture *f)
{
    int caps = 0;
    if (f->c.main) {
        g_object_get(f->c.main, "agent-caps-0", &caps, NULL);
    }
    return caps;
}

static int mouse_mode(Fixture *f)
{
    int mode = 0;
    if (f->c.main) {
        g_object_get(f->c.main, "mouse-mode", &mode, NULL);
    }
    return mode;
}

static void fixture_start(Fixture *f, bool agent_first)
{
    it_log_setup();
    fake_agent_reset(&agent);
    memset(f, 0, sizeof(*f));
    f->grabs = g_array_new(FALSE, FALSE, sizeof(guint32));
    int port = loop_free_port();
    f->s = it_server_new(port);
    spice_server_set_agent_mouse(f->s, 1);
    g_assert_cmpint(spice_server_init(f->s, core), ==, 0);
    it_inputs_add(f->s);
    if (agent_first) {
        g_assert_cmpint(spice_server_add_interface(f->s, &agent.sin.base), ==, 0);
    }
    it_client_connect(&f->c, port, NULL);
    g_assert_true(WAIT_FOR(f->c.main_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
    g_signal_connect(f->c.main, "main-clipboard-selection-grab", G_CALLBACK(grab_cb), f);
    if (!agent_first) {
        g_assert_false(agent_connected(f));
        g_assert_cmpint(spice_server_add_interface(f->s, &agent.sin.base), ==, 0);
    }
    g_assert_true(WAIT_FOR(agent_connected(f), IT_WAIT_MS));
    g_assert_cmpint(agent.state, ==, 1);
    /* spice-gtk announces its caps (asking for ours) once the agent is up */
    g_assert_true(WAIT_FOR(fake_agent_count(&agent, VDP_CLIENT_PORT,
                                            VD_AGENT_ANNOUNCE_CAPABILITIES) >= 1, IT_WAIT_MS));
    FakeAgentMsg *ann = fake_agent_nth(&agent, VDP_CLIENT_PORT, VD_AGENT_ANNOUNCE_CAPABILITIES, 0);
    g_assert_cmpuint(ann->data->len, >=, sizeof(VDAgentAnnounceCapabilities) + 4);
    VDAgentAnnounceCapabilities caps;
    memcpy(&caps, ann->data->data, sizeof(caps));
    g_assert_cmpuint(caps.request, ==, 1);
}

static void fixture_stop(Fixture *f, bool agent_attached)
{
    if (agent_attached) {
        guint before = fake_agent_count(&agent, VDP_SERVER_PORT, VD_AGENT_CLIENT_DISCONNECTED);
        it_client_free(&f->c);
        /* the device hears that the client went */
        g_assert_true(WAIT_FOR(fake_agent_count(&agent, VDP_SERVER_PORT,
                                                VD_AGENT_CLIENT_DISCONNECTED) > before,
                               IT_WAIT_MS));
        g_assert_cmpint(spice_server_remove_interface(&agent.sin.base), ==, 0);
    } else {
        it_client_free(&f->c);
    }
    g_assert_true(WAIT_FOR(it_num_clients(f->s) == 0, IT_WAIT_MS));
    it_inputs_remove();
    spice_server_destroy(f->s);
    g_assert_cmpuint(embedder_core_live_count(core), ==, 0);
    g_assert_cmpuint(agent.bad_chunks, ==, 0);
    /* the client never overran its tokens */
    g_assert_cmpuint(it_log_count("without a token", NULL), ==, 0);
    g_array_free(f->grabs, TRUE);
}

static void announce_device_caps(Fixture *f)
{
    uint8_t buf[sizeof(VDAgentAnnounceCapabilities) + 4] = { 0 };
    VDAgentAnnounceCapabilities *caps = (VDAgentAnnounceCapabilities *)buf;
    uint32_t word = 1u << VD_AGENT_CAP_MOUSE_STATE | 1u << VD_AGENT_CAP_CLIPBOARD_BY_DEMAND |
                    1u << VD_AGENT_CAP_CLIPBOARD_SELECTION;
    caps->request = 0;
    memcpy(buf + sizeof(*caps), &word, 4);
    fake_agent_send(&agent, VD_AGENT_ANNOUNCE_CAPABILITIES, buf, sizeof(buf));
    g_assert_true(WAIT_FOR((uint32_t)agent_caps0(f) == word, IT_WAIT_MS));
}

/* Runs every source that is ready now, a bounded number of times: lets
 * the client and server exchange whatever they can without waiting. */
static void drain_ready(void)
{
    for (int i = 0; i < 10000 && g_main_context_iteration(NULL, FALSE); i++) {
    }
}

static void test_route(void)
{
    Fixture f;
    fixture_start(&f, true);
    announce_device_caps(&f);

    /* device -> client: one grab, then a burst past any token window */
    uint8_t grab[8] = { VD_AGENT_CLIPBOARD_SELECTION_PRIMARY, 0, 0, 0 };
    uint32_t t = VD_AGENT_CLIPBOARD_UTF8_TEXT;
    memcpy(grab + 4, &t, 4);
    fake_agent_send(&agent, VD_AGENT_CLIPBOARD_GRAB, grab, sizeof(grab));
    g_assert_true(WAIT_FOR(f.grabs->len == 1, IT_WAIT_MS));
    g_assert_cmpuint(f.grab_selection, ==, VD_AGENT_CLIPBOARD_SELECTION_PRIMARY);
    g_assert_cmpuint(g_array_index(f.grabs, guint32, 0), ==, VD_AGENT_CLIPBOARD_UTF8_TEXT);
    for (uint32_t i = 0; i < BURST; i++) {
        uint32_t ti = 1000 + i;
        memcpy(grab + 4, &ti, 4);
        fake_agent_send(&agent, VD_AGENT_CLIPBOARD_GRAB, grab, sizeof(grab));
    }
    g_assert_true(WAIT_FOR(f.grabs->len == 1 + BURST, IT_WAIT_MS));
    for (uint32_t i = 0; i < BURST; i++) {
        g_assert_cmpuint(g_array_index(f.grabs, guint32, 1 + i), ==, 1000 + i);
    }

    /* client -> device with the device stalled: the client may only have
     * its token window in flight, nothing is lost, and once the device
     * takes data again everything arrives in order */
    guint before = fake_agent_count(&agent, VDP_CLIENT_PORT, VD_AGENT_CLIPBOARD_GRAB);
    agent.blocked = true;
    for (uint32_t i = 0; i < BURST; i++) {
        guint32 ti = 2000 + i;
        spice_main_channel_clipboard_selection_grab(f.c.main,
                                                    VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD,
                                                    &ti, 1);
    }
    drain_ready();
    g_assert_cmpuint(fake_agent_count(&agent, VDP_CLIENT_PORT, VD_AGENT_CLIPBOARD_GRAB), ==,
                     before);
    g_assert_cmpint(f.c.main_event, ==, SPICE_CHANNEL_OPENED);
    agent.blocked = false;
    spice_server_char_device_wakeup(&agent.sin);
    g_assert_true(WAIT_FOR(fake_agent_count(&agent, VDP_CLIENT_PORT, VD_AGENT_CLIPBOARD_GRAB) ==
                           before + BURST, IT_WAIT_MS));
    for (uint32_t i = 0; i < BURST; i++) {
        FakeAgentMsg *m = fake_agent_nth(&agent, VDP_CLIENT_PORT, VD_AGENT_CLIPBOARD_GRAB,
                                         before + i);
        g_assert_cmpuint(m->data->len, ==, 8);
        g_assert_cmpuint(m->data->data[0], ==, VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD);
        guint32 ti;
        memcpy(&ti, m->data->data + 4, 4);
        g_assert_cmpuint(ti, ==, 2000 + i);
    }
    fixture_stop(&f, true);
}

static void test_mouse(void)
{
    Fixture f;
    fixture_start(&f, false);
    announce_device_caps(&f);
    /* agent mouse + agent: spice-gtk asks for client mode and gets it */
    g_assert_true(WAIT_FOR(mouse_mode(&f) == SPICE_MOUSE_MODE_CLIENT, IT_WAIT_MS));
    g_assert_true(WAIT_FOR(f.c.inputs_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));

    spice_inputs_channel_position(f.c.inputs, 300, 400, 0, 0);
    g_assert_true(WAIT_FOR(fake_agent_count(&agent, VDP_SERVER_PORT, VD_AGENT_MOUSE_STATE) >= 1,
                           IT_WAIT_MS));
    FakeAgentMsg *m = fake_agent_nth(&agent, VDP_SERVER_PORT, VD_AGENT_MOUSE_STATE, 0);
    VDAgentMouseState ms;
    g_assert_cmpuint(m->data->len, ==, sizeof(ms));
    memcpy(&ms, m->data->data, sizeof(ms));
    g_assert_cmpuint(ms.x, ==, 300);
    g_assert_cmpuint(ms.y, ==, 400);
    g_assert_cmpuint(ms.buttons, ==, 0);
    g_assert_cmpuint(ms.display_id, ==, 0);

    spice_inputs_channel_button_press(f.c.inputs, SPICE_MOUSE_BUTTON_LEFT,
                                      SPICE_MOUSE_BUTTON_MASK_LEFT);
    g_assert_true(WAIT_FOR(fake_agent_count(&agent, VDP_SERVER_PORT, VD_AGENT_MOUSE_STATE) >= 2,
                           IT_WAIT_MS));
    m = fake_agent_nth(&agent, VDP_SERVER_PORT, VD_AGENT_MOUSE_STATE,
                       fake_agent_count(&agent, VDP_SERVER_PORT, VD_AGENT_MOUSE_STATE) - 1);
    memcpy(&ms, m->data->data, sizeof(ms));
    g_assert_cmpuint(ms.x, ==, 300);
    g_assert_cmpuint(ms.buttons, ==, VD_AGENT_LBUTTON_MASK);
    /* nothing went to the relative mouse */
    g_assert_cmpuint(it_mouse_events->len, ==, 0);
    fixture_stop(&f, true);
}

static void test_removal(void)
{
    Fixture f;
    fixture_start(&f, true);
    g_assert_true(WAIT_FOR(mouse_mode(&f) == SPICE_MOUSE_MODE_CLIENT, IT_WAIT_MS));

    g_assert_cmpint(spice_server_remove_interface(&agent.sin.base), ==, 0);
    g_assert_true(WAIT_FOR(!agent_connected(&f), IT_WAIT_MS));
    /* no agent, no tablet: back to server mode */
    g_assert_true(WAIT_FOR(mouse_mode(&f) == SPICE_MOUSE_MODE_SERVER, IT_WAIT_MS));

    /* and back: AGENT_CONNECTED_TOKENS, a fresh announce from the client */
    guint announces = fake_agent_count(&agent, VDP_CLIENT_PORT, VD_AGENT_ANNOUNCE_CAPABILITIES);
    agent.state = -1;
    g_assert_cmpint(spice_server_add_interface(f.s, &agent.sin.base), ==, 0);
    g_assert_true(WAIT_FOR(agent_connected(&f), IT_WAIT_MS));
    g_assert_cmpint(agent.state, ==, 1);
    g_assert_true(WAIT_FOR(fake_agent_count(&agent, VDP_CLIENT_PORT,
                                            VD_AGENT_ANNOUNCE_CAPABILITIES) > announces,
                           IT_WAIT_MS));
    fixture_stop(&f, true);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    core = embedder_core_new(g_main_context_default());
    fake_agent_init(&agent);
    g_test_add_func("/agent/route", test_route);
    g_test_add_func("/agent/mouse", test_mouse);
    g_test_add_func("/agent/removal", test_removal);
    int ret = g_test_run();
    embedder_core_free(core);
    fake_agent_clear(&agent);
    return ret;
}
