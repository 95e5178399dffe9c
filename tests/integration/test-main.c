/* Main channel session features against real and raw clients:
 *   /main/ping/spice-gtk      the PING after MAIN_INIT is echoed by
 *                             spice-gtk and the server measures the trip
 *   /main/ping/periodic       a raw client answers the net test's three
 *                             PINGs, then gets the next one within the
 *                             interval, not at once
 *   /main/notify              NOTIFY reaches a raw client (spice-gtk only
 *                             logs it): the insecure-keyboard warning
 *   /main/name-uuid           spice_server_set_name/set_uuid reach
 *                             SpiceSession "name"/"uuid"
 * Every wait is bounded; no sleeps. */
#include <string.h>

#include <spice/protocol.h>

#include "core-loop.h"
#include "itest.h"

/* server/main/main-channel.h MAIN_PING_INTERVAL_MS; the wait below allows
 * this much plus slack. */
#define PING_INTERVAL_MS 15000

static SpiceCoreInterface *core;

static void server_free(SpiceServer *s)
{
    spice_server_destroy(s);
    g_assert_cmpuint(embedder_core_live_count(core), ==, 0);
}

static void test_ping_spice_gtk(void)
{
    it_log_setup();
    int port = loop_free_port();
    SpiceServer *s = it_server_new(port);
    g_assert_cmpint(spice_server_init(s, core), ==, 0);

    ItClient c;
    it_client_connect(&c, port, NULL);
    g_assert_true(WAIT_FOR(c.main_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
    /* spice-gtk echoes the PING; the server logs the measured trip */
    g_assert_true(WAIT_FOR(it_log_count("main: session", "round trip", NULL) >= 1,
                           IT_WAIT_MS));
    g_assert_cmpuint(it_log_count("not awaited", NULL), ==, 0);
    it_client_free(&c);
    g_assert_true(WAIT_FOR(it_num_clients(s) == 0, IT_WAIT_MS));
    server_free(s);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_ping_periodic(void)
{
    it_log_setup();
    int port = loop_free_port();
    SpiceServer *s = it_server_new(port);
    g_assert_cmpint(spice_server_init(s, core), ==, 0);

    ItRaw r;
    GByteArray *body = g_byte_array_new();
    g_assert_true(it_raw_main(&r, port));
    /* On TCP the net test comes first: three PINGs with consecutive ids,
     * the last padded with 256000 bytes; each is echoed (id + timestamp). */
    uint32_t first_id = 0;
    for (int i = 0; i < 3; i++) {
        g_assert_true(it_raw_recv_type(&r, SPICE_MSG_PING, body, IT_WAIT_MS));
        g_assert_cmpuint(body->len, ==, 12 + (i == 2 ? 256000 : 0));
        if (i == 0) {
            first_id = le32(body->data);
        }
        g_assert_cmpuint(le32(body->data), ==, first_id + (uint32_t)i);
        g_assert_true(it_raw_send_msg(&r, SPICE_MSGC_PONG, body->data, 12));
    }
    g_assert_true(WAIT_FOR(it_log_count("main: session", "net test", NULL) >= 1, IT_WAIT_MS));
    first_id += 2;

    int64_t start = g_get_monotonic_time();
    g_assert_true(it_raw_recv_type(&r, SPICE_MSG_PING, body, PING_INTERVAL_MS + 5000));
    int64_t waited_ms = (g_get_monotonic_time() - start) / 1000;
    g_assert_cmpuint(le32(body->data), ==, first_id + 1);
    /* periodic, not back to back */
    g_assert_cmpint(waited_ms, >=, PING_INTERVAL_MS / 2);
    g_assert_true(it_raw_send_msg(&r, SPICE_MSGC_PONG, body->data, 12));
    g_assert_true(WAIT_FOR(it_log_count("round trip", "(PONG", NULL) >= 1, IT_WAIT_MS));

    /* a PONG nobody asked for is ignored, not fatal */
    g_assert_true(it_raw_send_msg(&r, SPICE_MSGC_PONG, body->data, 12));
    g_assert_true(WAIT_FOR(it_log_count("not awaited", NULL) >= 1, IT_WAIT_MS));
    g_assert_cmpint(it_num_clients(s), ==, 1);

    it_raw_close(&r);
    g_assert_true(WAIT_FOR(it_num_clients(s) == 0, IT_WAIT_MS));
    g_byte_array_free(body, TRUE);
    server_free(s);
}

static void test_notify(void)
{
    it_log_setup();
    int port = loop_free_port();
    SpiceServer *s = it_server_new(port);
    g_assert_cmpint(spice_server_init(s, core), ==, 0);
    it_inputs_add(s);

    ItRaw m, in;
    GByteArray *body = g_byte_array_new();
    g_assert_true(it_raw_main(&m, port));
    g_assert_cmpint(it_raw_link(&in, port, m.connection_id, SPICE_CHANNEL_INPUTS, 0, "", NULL, 0),
                    ==, SPICE_LINK_ERR_OK);
    /* inputs over plain TCP: the session's main channel is warned */
    g_assert_true(it_raw_recv_type(&m, SPICE_MSG_NOTIFY, body, IT_WAIT_MS));
    g_assert_cmpuint(body->len, >=, 24);
    uint32_t severity = le32(body->data + 8);
    uint32_t visibility = le32(body->data + 12);
    uint32_t len = le32(body->data + 20);
    g_assert_cmpuint(severity, ==, SPICE_NOTIFY_SEVERITY_WARN);
    g_assert_cmpuint(visibility, ==, SPICE_NOTIFY_VISIBILITY_HIGH);
    g_assert_cmpuint(body->len, ==, 24 + len + 1);
    g_assert_cmpint(memcmp(body->data + 24, "keyboard channel is insecure", len), ==, 0);
    g_assert_cmpuint(strlen("keyboard channel is insecure"), ==, len);
    g_assert_cmpuint(body->data[24 + len], ==, 0);

    /* the inputs channel itself works: INPUTS_INIT came */
    g_assert_true(it_raw_recv_type(&in, SPICE_MSG_INPUTS_INIT, body, IT_WAIT_MS));

    it_raw_close(&in);
    it_raw_close(&m);
    g_assert_true(WAIT_FOR(it_num_clients(s) == 0, IT_WAIT_MS));
    g_byte_array_free(body, TRUE);
    it_inputs_remove();
    server_free(s);
}

static void test_name_uuid(void)
{
    static const uint8_t uuid[16] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                                      0x0f, 0xed, 0xcb, 0xa9, 0x87, 0x65, 0x43, 0x21 };
    it_log_setup();
    int port = loop_free_port();
    SpiceServer *s = it_server_new(port);
    spice_server_set_name(s, "gaps-test-vm");
    spice_server_set_uuid(s, uuid);
    g_assert_cmpint(spice_server_init(s, core), ==, 0);

    ItClient c;
    it_client_connect(&c, port, NULL);
    g_assert_true(WAIT_FOR(c.main_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
    char *name = NULL;
    g_assert_true(WAIT_FOR((g_free(name), g_object_get(c.session, "name", &name, NULL),
                            name != NULL), IT_WAIT_MS));
    g_assert_cmpstr(name, ==, "gaps-test-vm");
    g_free(name);
    const uint8_t *got = NULL;
    g_assert_true(WAIT_FOR((g_object_get(c.session, "uuid", &got, NULL),
                            got && memcmp(got, uuid, 16) == 0), IT_WAIT_MS));
    it_client_free(&c);
    g_assert_true(WAIT_FOR(it_num_clients(s) == 0, IT_WAIT_MS));
    server_free(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    core = embedder_core_new(g_main_context_default());
    g_test_add_func("/main/ping/spice-gtk", test_ping_spice_gtk);
    g_test_add_func("/main/ping/periodic", test_ping_periodic);
    g_test_add_func("/main/notify", test_notify);
    g_test_add_func("/main/name-uuid", test_name_uuid);
    int ret = g_test_run();
    embedder_core_free(core);
    return ret;
}
