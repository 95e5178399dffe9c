/* Unit tests for the main/inputs client-message tables: every accepted
 * type parses its fields little-endian, and wrong sizes or unknown types
 * are rejected with a name. */
#include <glib.h>
#include <string.h>

#include "common/wire/client-msgs.h"

static void test_main_fields(void)
{
    WireMainMsg m;
    const uint8_t info[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    WireParseResult r = wire_parse_main_msg(SPICE_MSGC_MAIN_CLIENT_INFO, info, 8, &m);
    g_assert_true(r.ok);
    g_assert_cmphex(m.u.client_info.cache_size, ==, 0x0807060504030201ull);

    const uint8_t mode[2] = { SPICE_MOUSE_MODE_CLIENT, 0 };
    r = wire_parse_main_msg(SPICE_MSGC_MAIN_MOUSE_MODE_REQUEST, mode, 2, &m);
    g_assert_true(r.ok);
    g_assert_cmpuint(m.u.mouse_mode_request.mode, ==, SPICE_MOUSE_MODE_CLIENT);

    const uint8_t tok[4] = { 0xff, 0xff, 0xff, 0xff };
    r = wire_parse_main_msg(SPICE_MSGC_MAIN_AGENT_START, tok, 4, &m);
    g_assert_true(r.ok);
    g_assert_cmphex(m.u.agent_start.num_tokens, ==, 0xffffffffu);
    const uint8_t tok2[4] = { 5, 0, 0, 0 };
    r = wire_parse_main_msg(SPICE_MSGC_MAIN_AGENT_TOKEN, tok2, 4, &m);
    g_assert_true(r.ok);
    g_assert_cmpuint(m.u.agent_token.num_tokens, ==, 5);

    uint8_t data[WIRE_AGENT_DATA_MAX + 1];
    memset(data, 0xab, sizeof(data));
    r = wire_parse_main_msg(SPICE_MSGC_MAIN_AGENT_DATA, data, WIRE_AGENT_DATA_MAX, &m);
    g_assert_true(r.ok);
    g_assert_true(m.u.agent_data.data == data);
    g_assert_cmpuint(m.u.agent_data.size, ==, WIRE_AGENT_DATA_MAX);
    r = wire_parse_main_msg(SPICE_MSGC_MAIN_AGENT_DATA, data, WIRE_AGENT_DATA_MAX + 1, &m);
    g_assert_false(r.ok);
    g_assert_cmpstr(r.name, ==, "MAIN_AGENT_DATA");
    g_assert_cmpstr(r.error, ==, "message too long");

    r = wire_parse_main_msg(SPICE_MSGC_MAIN_ATTACH_CHANNELS, NULL, 0, &m);
    g_assert_true(r.ok);
    g_assert_cmpuint(m.type, ==, SPICE_MSGC_MAIN_ATTACH_CHANNELS);
    /* migration messages are accepted and ignored */
    r = wire_parse_main_msg(SPICE_MSGC_MAIN_MIGRATE_END, NULL, 0, &m);
    g_assert_true(r.ok);
    r = wire_parse_main_msg(SPICE_MSGC_MAIN_MIGRATE_CONNECTED_SEAMLESS, NULL, 0, &m);
    g_assert_true(r.ok);
}

static void test_main_rejects(void)
{
    WireMainMsg m;
    uint8_t buf[16] = { 0 };
    WireParseResult r = wire_parse_main_msg(SPICE_MSGC_MAIN_CLIENT_INFO, buf, 7, &m);
    g_assert_false(r.ok);
    g_assert_cmpstr(r.name, ==, "MAIN_CLIENT_INFO");
    g_assert_cmpstr(r.error, ==, "message too short");
    r = wire_parse_main_msg(SPICE_MSGC_MAIN_ATTACH_CHANNELS, buf, 1, &m);
    g_assert_false(r.ok);
    r = wire_parse_main_msg(SPICE_MSGC_MAIN_MOUSE_MODE_REQUEST, buf, 3, &m);
    g_assert_false(r.ok);
    r = wire_parse_main_msg(200, buf, 0, &m);
    g_assert_false(r.ok);
    g_assert_cmpstr(r.name, ==, "unknown");
    g_assert_cmpstr(r.error, ==, "unknown message type");
    r = wire_parse_main_msg(SPICE_MSGC_MAIN_AGENT_TOKEN, NULL, 4, &m);
    g_assert_false(r.ok);
    /* an inputs-only type is not a main type */
    r = wire_parse_main_msg(SPICE_MSGC_INPUTS_MOUSE_PRESS, buf, 3, &m);
    g_assert_false(r.ok);
}

static void test_inputs_fields(void)
{
    WireInputsMsg m;
    const uint8_t key[4] = { 0xe0, 0x1c, 0, 0 };
    WireParseResult r = wire_parse_inputs_msg(SPICE_MSGC_INPUTS_KEY_DOWN, key, 4, &m);
    g_assert_true(r.ok);
    g_assert_cmphex(m.u.key.code, ==, 0x1ce0);
    r = wire_parse_inputs_msg(SPICE_MSGC_INPUTS_KEY_UP, key, 4, &m);
    g_assert_true(r.ok);
    g_assert_cmpuint(m.type, ==, SPICE_MSGC_INPUTS_KEY_UP);

    const uint8_t mods[2] = { 6, 0 };
    r = wire_parse_inputs_msg(SPICE_MSGC_INPUTS_KEY_MODIFIERS, mods, 2, &m);
    g_assert_true(r.ok);
    g_assert_cmpuint(m.u.key_modifiers.modifiers, ==, 6);

    const uint8_t motion[10] = { 0xfb, 0xff, 0xff, 0xff, 7, 0, 0, 0, 5, 0 };
    r = wire_parse_inputs_msg(SPICE_MSGC_INPUTS_MOUSE_MOTION, motion, 10, &m);
    g_assert_true(r.ok);
    g_assert_cmpint(m.u.motion.dx, ==, -5);
    g_assert_cmpint(m.u.motion.dy, ==, 7);
    g_assert_cmpuint(m.u.motion.buttons, ==, 5);

    const uint8_t pos[11] = { 0x10, 0x01, 0, 0, 0x20, 0, 0, 0, 1, 0, 2 };
    r = wire_parse_inputs_msg(SPICE_MSGC_INPUTS_MOUSE_POSITION, pos, 11, &m);
    g_assert_true(r.ok);
    g_assert_cmpuint(m.u.position.x, ==, 0x110);
    g_assert_cmpuint(m.u.position.y, ==, 0x20);
    g_assert_cmpuint(m.u.position.buttons, ==, 1);
    g_assert_cmpuint(m.u.position.display_id, ==, 2);

    const uint8_t press[3] = { SPICE_MOUSE_BUTTON_UP, 8, 0 };
    r = wire_parse_inputs_msg(SPICE_MSGC_INPUTS_MOUSE_PRESS, press, 3, &m);
    g_assert_true(r.ok);
    g_assert_cmpuint(m.u.button.button, ==, SPICE_MOUSE_BUTTON_UP);
    g_assert_cmpuint(m.u.button.buttons, ==, 8);
    r = wire_parse_inputs_msg(SPICE_MSGC_INPUTS_MOUSE_RELEASE, press, 3, &m);
    g_assert_true(r.ok);

    const uint8_t sc[3] = { 0xe0, 0x48, 0xe0 };
    r = wire_parse_inputs_msg(SPICE_MSGC_INPUTS_KEY_SCANCODE, sc, 3, &m);
    g_assert_true(r.ok);
    g_assert_cmpuint(m.u.scancode.size, ==, 3);
    g_assert_true(m.u.scancode.data == sc);
}

static void test_inputs_rejects(void)
{
    WireInputsMsg m;
    uint8_t buf[WIRE_SCANCODE_MAX + 1] = { 0 };
    static const struct { uint16_t type; uint32_t bad; const char *name; } cases[] = {
        { SPICE_MSGC_INPUTS_KEY_DOWN, 3, "INPUTS_KEY_DOWN" },
        { SPICE_MSGC_INPUTS_KEY_UP, 5, "INPUTS_KEY_UP" },
        { SPICE_MSGC_INPUTS_KEY_MODIFIERS, 1, "INPUTS_KEY_MODIFIERS" },
        { SPICE_MSGC_INPUTS_KEY_SCANCODE, WIRE_SCANCODE_MAX + 1, "INPUTS_KEY_SCANCODE" },
        { SPICE_MSGC_INPUTS_MOUSE_MOTION, 9, "INPUTS_MOUSE_MOTION" },
        { SPICE_MSGC_INPUTS_MOUSE_POSITION, 12, "INPUTS_MOUSE_POSITION" },
        { SPICE_MSGC_INPUTS_MOUSE_PRESS, 2, "INPUTS_MOUSE_PRESS" },
        { SPICE_MSGC_INPUTS_MOUSE_RELEASE, 0, "INPUTS_MOUSE_RELEASE" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        WireParseResult r = wire_parse_inputs_msg(cases[i].type, buf, cases[i].bad, &m);
        g_assert_false(r.ok);
        g_assert_cmpstr(r.name, ==, cases[i].name);
        g_assert_nonnull(r.error);
    }
    WireParseResult r = wire_parse_inputs_msg(105, buf, 0, &m);
    g_assert_false(r.ok);
    g_assert_cmpstr(r.name, ==, "unknown");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/wire/client-msgs/main-fields", test_main_fields);
    g_test_add_func("/wire/client-msgs/main-rejects", test_main_rejects);
    g_test_add_func("/wire/client-msgs/inputs-fields", test_inputs_fields);
    g_test_add_func("/wire/client-msgs/inputs-rejects", test_inputs_rejects);
    return g_test_run();
}
