/* Malformed channel messages from raw clients that linked properly (RSA
 * ticket done with OpenSSL in itest.c): an unknown type, a truncated body,
 * an oversized size, garbage, on main and on inputs. Each must close only
 * that connection, log a "client bug:" line about it, and leave the server
 * serving: a spice-client-glib session connected throughout keeps working
 * and a new well-behaved client links afterwards.
 * Every wait is bounded; no sleeps. */
#include <string.h>

#include <spice/protocol.h>

#include "core-loop.h"
#include "itest.h"

static SpiceCoreInterface *core;

typedef struct BadCase {
    const char *name;
    uint8_t channel;                 /* SPICE_CHANNEL_MAIN or _INPUTS */
    uint16_t type;
    uint32_t claimed_size;           /* size in the header */
    uint32_t sent_size;              /* body bytes actually sent */
    bool garbage;                    /* send 64 pseudo-random bytes instead */
    const char *log_hint;            /* expected in the log line */
} BadCase;

static const BadCase cases[] = {
    { "main unknown type", SPICE_CHANNEL_MAIN, 999, 4, 4, false, "main channel" },
    { "main truncated MOUSE_MODE_REQUEST", SPICE_CHANNEL_MAIN,
      SPICE_MSGC_MAIN_MOUSE_MODE_REQUEST, 1, 1, false, "main channel" },
    { "main oversized", SPICE_CHANNEL_MAIN, SPICE_MSGC_MAIN_AGENT_DATA, 0x7fffffff, 0, false,
      "exceeds" },
    { "main unknown base message", SPICE_CHANNEL_MAIN, 50, 0, 0, false, "base message" },
    { "main garbage", SPICE_CHANNEL_MAIN, 0, 0, 0, true, "client bug:" },
    { "inputs unknown type", SPICE_CHANNEL_INPUTS, 150, 0, 0, false, "inputs channel" },
    { "inputs truncated KEY_DOWN", SPICE_CHANNEL_INPUTS, SPICE_MSGC_INPUTS_KEY_DOWN, 2, 2, false,
      "inputs channel" },
    { "inputs oversized", SPICE_CHANNEL_INPUTS, SPICE_MSGC_INPUTS_KEY_SCANCODE, 1u << 30, 0,
      false, "exceeds" },
    { "inputs garbage", SPICE_CHANNEL_INPUTS, 0, 0, 0, true, "client bug:" },
};

static void run_case(SpiceServer *s, int port, const BadCase *bc, uint32_t seed)
{
    ItRaw m, in, *bad;
    g_test_message("case: %s", bc->name);
    int clients = it_num_clients(s);
    g_assert_true(it_raw_main(&m, port));
    g_assert_true(WAIT_FOR(it_num_clients(s) == clients + 1, IT_WAIT_MS));
    bad = &m;
    if (bc->channel == SPICE_CHANNEL_INPUTS) {
        g_assert_cmpint(it_raw_link(&in, port, m.connection_id, SPICE_CHANNEL_INPUTS, 0, "",
                                    NULL, 0), ==, SPICE_LINK_ERR_OK);
        bad = &in;
    }
    guint bugs = it_log_count("client bug:", bc->log_hint, NULL);

    if (bc->garbage) {
        GRand *rand = g_rand_new_with_seed(seed);
        uint8_t junk[64];
        for (size_t i = 0; i < sizeof(junk); i++) {
            junk[i] = (uint8_t)g_rand_int(rand);
        }
        /* a type the channel would accept can never come with a size the
         * channel accepts: make the size field huge */
        junk[5] = 0xff;
        g_rand_free(rand);
        g_assert_true(it_raw_send(bad, junk, sizeof(junk)));
    } else {
        uint8_t body[16] = { 0 };
        uint8_t hdr[6] = { (uint8_t)bc->type, (uint8_t)(bc->type >> 8),
                           (uint8_t)bc->claimed_size, (uint8_t)(bc->claimed_size >> 8),
                           (uint8_t)(bc->claimed_size >> 16), (uint8_t)(bc->claimed_size >> 24) };
        g_assert_cmpuint(bc->sent_size, <=, sizeof(body));
        g_assert_true(it_raw_send(bad, hdr, sizeof(hdr)));
        if (bc->sent_size) {
            g_assert_true(it_raw_send(bad, body, bc->sent_size));
        }
    }
    /* that connection goes, with a line about the client */
    g_assert_true(it_raw_wait_closed(bad, IT_WAIT_MS));
    g_assert_true(WAIT_FOR(it_log_count("client bug:", bc->log_hint, NULL) > bugs,
                           IT_WAIT_MS));
    if (bad == &in) {
        /* only the inputs connection: the session's main channel stays */
        g_assert_cmpint(it_num_clients(s), ==, clients + 1);
        GByteArray *body = g_byte_array_new();
        uint8_t req[2] = { SPICE_MOUSE_MODE_SERVER, 0 };
        g_assert_true(it_raw_send_msg(&m, SPICE_MSGC_MAIN_MOUSE_MODE_REQUEST, req, 2));
        g_assert_true(it_raw_send_msg(&m, SPICE_MSGC_MAIN_ATTACH_CHANNELS, NULL, 0));
        g_assert_true(it_raw_recv_type(&m, SPICE_MSG_MAIN_CHANNELS_LIST, body, IT_WAIT_MS));
        g_byte_array_free(body, TRUE);
        it_raw_close(&in);
    }
    it_raw_close(&m);
    g_assert_true(WAIT_FOR(it_num_clients(s) == clients, IT_WAIT_MS));
}

static void test_malformed(void)
{
    it_log_setup();
    int port = loop_free_port();
    SpiceServer *s = it_server_new(port);
    g_assert_cmpint(spice_server_init(s, core), ==, 0);
    it_inputs_add(s);

    /* a well-behaved session that lives through all of it */
    ItClient good;
    it_client_connect(&good, port, NULL);
    g_assert_true(WAIT_FOR(good.inputs_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        run_case(s, port, &cases[i], 0x5eed0000u + i);
    }
    /* few enough that the per-call-site log limit (10 per 5 s) still lets
     * every line through */
    for (uint32_t seed = 1; seed <= 5; seed++) {
        BadCase g = { "main garbage (seeded)", SPICE_CHANNEL_MAIN, 0, 0, 0, true, "client bug:" };
        run_case(s, port, &g, seed);
    }

    /* the first session never noticed */
    g_assert_cmpint(good.main_event, ==, SPICE_CHANNEL_OPENED);
    g_assert_cmpint(good.inputs_event, ==, SPICE_CHANNEL_OPENED);
    spice_inputs_channel_key_press(good.inputs, 0x1e);
    spice_inputs_channel_key_release(good.inputs, 0x1e);
    g_assert_true(WAIT_FOR(it_scans->len >= 2, IT_WAIT_MS));
    g_assert_cmpuint(it_scans->data[0], ==, 0x1e);
    g_assert_cmpuint(it_scans->data[1], ==, 0x9e);

    /* and a new one links and works */
    ItClient next;
    it_client_connect(&next, port, NULL);
    g_assert_true(WAIT_FOR(next.inputs_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
    spice_inputs_channel_key_press(next.inputs, 0x30);
    g_assert_true(WAIT_FOR(it_scans->len >= 3, IT_WAIT_MS));
    g_assert_cmpuint(it_scans->data[2], ==, 0x30);

    it_client_free(&next);
    it_client_free(&good);
    g_assert_true(WAIT_FOR(it_num_clients(s) == 0, IT_WAIT_MS));
    it_inputs_remove();
    spice_server_destroy(s);
    g_assert_cmpuint(embedder_core_live_count(core), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    core = embedder_core_new(g_main_context_default());
    g_test_add_func("/malformed/channels", test_malformed);
    int ret = g_test_run();
    embedder_core_free(core);
    return ret;
}
