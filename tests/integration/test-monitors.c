/* Client monitor layouts (VD_AGENT_MONITORS_CONFIG from spice-client-glib)
 * routed to the QXL device's QXLInterface.client_monitors_config, with a
 * minimal QXL device (this file; the VM is never started, so the worker
 * asks it for no commands) and the fake vdagent char device of
 * fake-agent.c (nothing queued to read), as test-agent.c uses it:
 *   /monitors/device   the device takes the layout (returns 1): it gets
 *                      exactly the client's heads (sizes, depth, positions,
 *                      USE_POS flag) and the guest agent gets nothing (a
 *                      second layout, declined, is the only one it sees)
 *   /monitors/agent    the device declines (returns 0): it was offered the
 *                      same heads, and the message then goes to the agent
 *                      unchanged (VD_AGENT_MONITORS_CONFIG on the client port)
 * Every wait is bounded; no sleeps. */
#include <string.h>

#include <spice/vd_agent.h>

#include "core-loop.h"
#include "fake-agent.h"
#include "itest.h"

static SpiceCoreInterface *core;

/* The layout the client asks for: index, w, h, x, y. */
static const struct {
    int id, w, h, x, y;
} HEADS[] = { { 0, 1280, 800, 0, 0 }, { 1, 1024, 768, 1280, 100 }, { 2, 800, 600, 300, 800 } };
#define N_HEADS G_N_ELEMENTS(HEADS)

/* ---- the QXL device ---- */

static int qxl_handles;              /* what client_monitors_config answers */
static GPtrArray *qxl_configs;       /* GByteArray copies of each config offered */
static guint qxl_null_calls;

static size_t config_size(const VDAgentMonitorsConfig *mc)
{
    return sizeof(*mc) + (size_t)mc->num_of_monitors * sizeof(VDAgentMonConfig);
}

static void qxl_attach(QXLInstance *qin, QXLWorker *w)
{
}

static void qxl_set_compression_level(QXLInstance *qin, int level)
{
}

static void qxl_get_init_info(QXLInstance *qin, QXLDevInitInfo *info)
{
    memset(info, 0, sizeof(*info));
    info->num_memslots_groups = 2;
    info->num_memslots = 8;
    info->memslot_gen_bits = 8;
    info->memslot_id_bits = 8;
    info->n_surfaces = 16;
}

static int qxl_get_command(QXLInstance *qin, QXLCommandExt *cmd)
{
    return 0;
}

static int qxl_req_notification(QXLInstance *qin)
{
    return 1;
}

static void qxl_release_resource(QXLInstance *qin, QXLReleaseInfoExt rel)
{
}

static void qxl_notify_update(QXLInstance *qin, uint32_t update_id)
{
}

static int qxl_flush_resources(QXLInstance *qin)
{
    return 0;
}

static void qxl_async_complete(QXLInstance *qin, uint64_t cookie)
{
}

static void qxl_update_area_complete(QXLInstance *qin, uint32_t surface_id, QXLRect *rects,
                                     uint32_t n)
{
}

/* Main thread (the test's): records what the server offers. */
static int qxl_client_monitors_config(QXLInstance *qin, VDAgentMonitorsConfig *mc)
{
    if (mc == NULL) {
        qxl_null_calls++;
        return qxl_handles;
    }
    GByteArray *copy = g_byte_array_new();
    g_byte_array_append(copy, (const guint8 *)mc, (guint)config_size(mc));
    g_ptr_array_add(qxl_configs, copy);
    return qxl_handles;
}

static QXLInterface qxl_iface = {
    .base = { SPICE_INTERFACE_QXL, "fake qxl (monitors)", SPICE_INTERFACE_QXL_MAJOR,
              SPICE_INTERFACE_QXL_MINOR },
    .set_compression_level = qxl_set_compression_level,
    .get_init_info = qxl_get_init_info,
    .get_command = qxl_get_command,
    .req_cmd_notification = qxl_req_notification,
    .release_resource = qxl_release_resource,
    .get_cursor_command = qxl_get_command,
    .req_cursor_notification = qxl_req_notification,
    .notify_update = qxl_notify_update,
    .flush_resources = qxl_flush_resources,
    .async_complete = qxl_async_complete,
    .update_area_complete = qxl_update_area_complete,
    .client_monitors_config = qxl_client_monitors_config,
};

static QXLInstance qxl_sin = { .base.sif = &qxl_iface.base, .id = 0 };

static FakeAgent agent;

static void byte_array_free(gpointer p)
{
    g_byte_array_free(p, TRUE);
}

static void state_reset(int handles)
{
    if (!qxl_configs) {
        qxl_configs = g_ptr_array_new_with_free_func(byte_array_free);
    }
    fake_agent_reset(&agent);
    g_ptr_array_set_size(qxl_configs, 0);
    qxl_handles = handles;
    qxl_null_calls = 0;
}

/* ---- the test ---- */

/* Client layouts the guest agent got. */
static guint agent_monitors(void)
{
    return fake_agent_count(&agent, VDP_CLIENT_PORT, VD_AGENT_MONITORS_CONFIG);
}

static bool agent_connected(ItClient *c)
{
    gboolean on = FALSE;
    if (c->main) {
        g_object_get(c->main, "agent-connected", &on, NULL);
    }
    return on;
}

/* Asserts that cfg (a VDAgentMonitorsConfig) holds exactly HEADS; with
 * whole_msg, cfg is the whole agent message, which also carries the
 * PHYSICAL_SIZE flag's VDAgentMonitorMM per head (spice-gtk 0.42 sends
 * them), else the part the server hands the device (heads only). */
static void assert_heads(const GByteArray *cfg, bool whole_msg)
{
    VDAgentMonitorsConfig mc;
    size_t heads_len = sizeof(mc) + N_HEADS * sizeof(VDAgentMonConfig);
    memcpy(&mc, cfg->data, sizeof(mc));
    g_assert_cmpuint(mc.num_of_monitors, ==, N_HEADS);
    g_assert_true(mc.flags & VD_AGENT_CONFIG_MONITORS_FLAG_USE_POS);
    bool mm = mc.flags & VD_AGENT_CONFIG_MONITORS_FLAG_PHYSICAL_SIZE;
    g_assert_cmpuint(cfg->len, ==,
                     heads_len + (whole_msg && mm ? N_HEADS * sizeof(VDAgentMonitorMM) : 0));
    for (guint i = 0; i < N_HEADS; i++) {
        VDAgentMonConfig m;
        memcpy(&m, cfg->data + sizeof(mc) + i * sizeof(m), sizeof(m));
        g_assert_cmpuint(m.width, ==, HEADS[i].w);
        g_assert_cmpuint(m.height, ==, HEADS[i].h);
        g_assert_cmpuint(m.depth, ==, 32);
        g_assert_cmpint(m.x, ==, HEADS[i].x);
        g_assert_cmpint(m.y, ==, HEADS[i].y);
    }
}

/* Runs every source that is ready now, a bounded number of times. */
static void drain_ready(void)
{
    for (int i = 0; i < 10000 && g_main_context_iteration(NULL, FALSE); i++) {
    }
}

static void run(int handles)
{
    it_log_setup();
    state_reset(handles);
    int port = loop_free_port();
    SpiceServer *s = it_server_new(port);
    g_assert_cmpint(spice_server_init(s, core), ==, 0);
    g_assert_cmpint(spice_server_add_interface(s, &qxl_sin.base), ==, 0);
    g_assert_cmpint(spice_server_add_interface(s, &agent.sin.base), ==, 0);

    ItClient c;
    it_client_connect(&c, port, NULL);
    g_assert_true(WAIT_FOR(c.main_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
    g_assert_true(WAIT_FOR(agent_connected(&c), IT_WAIT_MS));
    g_assert_cmpint(agent.state, ==, 1);
    /* spice-gtk announces its caps once the agent is up: the route works */
    g_assert_true(WAIT_FOR(fake_agent_count(&agent, VDP_CLIENT_PORT, FAKE_AGENT_ANY_TYPE) >= 1,
                           IT_WAIT_MS));

    /* Positions as given: sent (USE_POS), not packed left to right. */
    g_object_set(c.main, "disable-display-align", TRUE, "disable-display-position", FALSE, NULL);
    for (guint i = 0; i < N_HEADS; i++) {
        spice_main_channel_update_display_enabled(c.main, HEADS[i].id, TRUE, FALSE);
        spice_main_channel_update_display(c.main, HEADS[i].id, HEADS[i].x, HEADS[i].y,
                                          HEADS[i].w, HEADS[i].h, FALSE);
    }
    g_assert_true(spice_main_channel_send_monitor_config(c.main));

    g_assert_true(WAIT_FOR(qxl_configs->len >= 1, IT_WAIT_MS));
    assert_heads(g_ptr_array_index(qxl_configs, 0), false);
    if (handles) {
        /* Taken by the device. The route keeps order, so once a second
         * layout that the device declines reaches the agent, the agent
         * has seen everything sent before it: only that one. */
        qxl_handles = 0;
        g_assert_true(spice_main_channel_send_monitor_config(c.main));
        g_assert_true(WAIT_FOR(agent_monitors() >= 1, IT_WAIT_MS));
        g_assert_cmpuint(qxl_configs->len, ==, 2);
        assert_heads(g_ptr_array_index(qxl_configs, 1), false);
    } else {
        g_assert_true(WAIT_FOR(agent_monitors() >= 1, IT_WAIT_MS));
        g_assert_cmpuint(qxl_configs->len, ==, 1);
    }
    drain_ready();
    g_assert_cmpuint(agent_monitors(), ==, 1);
    GByteArray *got = fake_agent_nth(&agent, VDP_CLIENT_PORT, VD_AGENT_MONITORS_CONFIG, 0)->data;
    assert_heads(got, true);
    /* the agent gets the client's message unchanged: the heads are what
     * the device was offered */
    GByteArray *offered = g_ptr_array_index(qxl_configs, qxl_configs->len - 1);
    g_assert_cmpmem(got->data, offered->len, offered->data, offered->len);
    /* the server never asks with a NULL config (QEMU would answer "I
     * handle them" without a layout) */
    g_assert_cmpuint(qxl_null_calls, ==, 0);

    it_client_free(&c);
    g_assert_true(WAIT_FOR(it_num_clients(s) == 0, IT_WAIT_MS));
    g_assert_cmpint(spice_server_remove_interface(&agent.sin.base), ==, 0);
    g_assert_cmpint(spice_server_remove_interface(&qxl_sin.base), ==, 0);
    spice_server_destroy(s);
    g_assert_cmpuint(embedder_core_live_count(core), ==, 0);
    g_assert_cmpuint(it_log_count("client bug", NULL), ==, 0);
    g_assert_cmpuint(agent.bad_chunks, ==, 0);
}

static void test_device(void)
{
    run(1);
}

static void test_agent(void)
{
    run(0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    qxl_iface.attache_worker = qxl_attach;
    G_GNUC_END_IGNORE_DEPRECATIONS
    core = embedder_core_new(g_main_context_default());
    fake_agent_init(&agent);
    g_test_add_func("/monitors/device", test_device);
    g_test_add_func("/monitors/agent", test_agent);
    int ret = g_test_run();
    embedder_core_free(core);
    fake_agent_clear(&agent);
    if (qxl_configs) {
        g_ptr_array_free(qxl_configs, TRUE);
    }
    return ret;
}
