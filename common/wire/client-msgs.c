/* Table-driven parsers for main and inputs client messages (see
 * client-msgs.h). The tables hold the wire sizes from spice.proto; a
 * parser runs only on a body whose size is already within its bounds, so
 * it reads fixed fields without further checks (the WireReader still
 * guards every read). */
#include "common/wire/client-msgs.h"

#include <glib.h>
#include <string.h>

#include "common/wire/reader.h"


/* --- main --- */

static bool parse_client_info(WireReader *r, void *out)
{
    WireMainMsg *m = out;
    m->u.client_info.cache_size = wire_get_u64(r);
    return r->ok;
}

static bool parse_mouse_mode_request(WireReader *r, void *out)
{
    WireMainMsg *m = out;
    m->u.mouse_mode_request.mode = wire_get_u16(r);
    return r->ok;
}

static bool parse_agent_start(WireReader *r, void *out)
{
    WireMainMsg *m = out;
    m->u.agent_start.num_tokens = wire_get_u32(r);
    return r->ok;
}

static bool parse_agent_token(WireReader *r, void *out)
{
    WireMainMsg *m = out;
    m->u.agent_token.num_tokens = wire_get_u32(r);
    return r->ok;
}

static bool parse_agent_data(WireReader *r, void *out)
{
    WireMainMsg *m = out;
    m->u.agent_data.size = (uint32_t)wire_remaining(r);
    m->u.agent_data.data = wire_get_bytes(r, m->u.agent_data.size);
    return r->ok;
}

static bool parse_migrate_dst_do_seamless(WireReader *r, void *out)
{
    WireMainMsg *m = out;
    m->u.migrate_dst_do_seamless.src_version = wire_get_u32(r);
    return r->ok;
}

static const WireMsgDesc main_table[] = {
    { SPICE_MSGC_MAIN_CLIENT_INFO, 8, 8, parse_client_info, "MAIN_CLIENT_INFO" },
    { SPICE_MSGC_MAIN_MIGRATE_CONNECTED, 0, WIRE_IGNORED_MAX, NULL, "MAIN_MIGRATE_CONNECTED" },
    { SPICE_MSGC_MAIN_MIGRATE_CONNECT_ERROR, 0, WIRE_IGNORED_MAX, NULL,
      "MAIN_MIGRATE_CONNECT_ERROR" },
    { SPICE_MSGC_MAIN_ATTACH_CHANNELS, 0, 0, NULL, "MAIN_ATTACH_CHANNELS" },
    { SPICE_MSGC_MAIN_MOUSE_MODE_REQUEST, 2, 2, parse_mouse_mode_request,
      "MAIN_MOUSE_MODE_REQUEST" },
    { SPICE_MSGC_MAIN_AGENT_START, 4, 4, parse_agent_start, "MAIN_AGENT_START" },
    { SPICE_MSGC_MAIN_AGENT_DATA, 0, WIRE_AGENT_DATA_MAX, parse_agent_data, "MAIN_AGENT_DATA" },
    { SPICE_MSGC_MAIN_AGENT_TOKEN, 4, 4, parse_agent_token, "MAIN_AGENT_TOKEN" },
    { SPICE_MSGC_MAIN_MIGRATE_END, 0, WIRE_IGNORED_MAX, NULL, "MAIN_MIGRATE_END" },
    { SPICE_MSGC_MAIN_MIGRATE_DST_DO_SEAMLESS, 4, 4, parse_migrate_dst_do_seamless,
      "MAIN_MIGRATE_DST_DO_SEAMLESS" },
    { SPICE_MSGC_MAIN_MIGRATE_CONNECTED_SEAMLESS, 0, WIRE_IGNORED_MAX, NULL,
      "MAIN_MIGRATE_CONNECTED_SEAMLESS" },
    { SPICE_MSGC_MAIN_QUALITY_INDICATOR, 0, WIRE_IGNORED_MAX, NULL, "MAIN_QUALITY_INDICATOR" },
};

/* --- inputs --- */

static bool parse_key(WireReader *r, void *out)
{
    WireInputsMsg *m = out;
    m->u.key.code = wire_get_u32(r);
    return r->ok;
}

static bool parse_key_modifiers(WireReader *r, void *out)
{
    WireInputsMsg *m = out;
    m->u.key_modifiers.modifiers = wire_get_u16(r);
    return r->ok;
}

static bool parse_scancode(WireReader *r, void *out)
{
    WireInputsMsg *m = out;
    m->u.scancode.size = (uint32_t)wire_remaining(r);
    m->u.scancode.data = wire_get_bytes(r, m->u.scancode.size);
    return r->ok;
}

static bool parse_motion(WireReader *r, void *out)
{
    WireInputsMsg *m = out;
    m->u.motion.dx = (int32_t)wire_get_u32(r);
    m->u.motion.dy = (int32_t)wire_get_u32(r);
    m->u.motion.buttons = wire_get_u16(r);
    return r->ok;
}

static bool parse_position(WireReader *r, void *out)
{
    WireInputsMsg *m = out;
    m->u.position.x = wire_get_u32(r);
    m->u.position.y = wire_get_u32(r);
    m->u.position.buttons = wire_get_u16(r);
    m->u.position.display_id = wire_get_u8(r);
    return r->ok;
}

static bool parse_button(WireReader *r, void *out)
{
    WireInputsMsg *m = out;
    m->u.button.button = wire_get_u8(r);
    m->u.button.buttons = wire_get_u16(r);
    return r->ok;
}

static const WireMsgDesc inputs_table[] = {
    { SPICE_MSGC_INPUTS_KEY_DOWN, 4, 4, parse_key, "INPUTS_KEY_DOWN" },
    { SPICE_MSGC_INPUTS_KEY_UP, 4, 4, parse_key, "INPUTS_KEY_UP" },
    { SPICE_MSGC_INPUTS_KEY_MODIFIERS, 2, 2, parse_key_modifiers, "INPUTS_KEY_MODIFIERS" },
    { SPICE_MSGC_INPUTS_KEY_SCANCODE, 0, WIRE_SCANCODE_MAX, parse_scancode,
      "INPUTS_KEY_SCANCODE" },
    { SPICE_MSGC_INPUTS_MOUSE_MOTION, 10, 10, parse_motion, "INPUTS_MOUSE_MOTION" },
    { SPICE_MSGC_INPUTS_MOUSE_POSITION, 11, 11, parse_position, "INPUTS_MOUSE_POSITION" },
    { SPICE_MSGC_INPUTS_MOUSE_PRESS, 3, 3, parse_button, "INPUTS_MOUSE_PRESS" },
    { SPICE_MSGC_INPUTS_MOUSE_RELEASE, 3, 3, parse_button, "INPUTS_MOUSE_RELEASE" },
};

WireParseResult wire_parse_main_msg(uint16_t type, const uint8_t *body, uint32_t size,
                                    WireMainMsg *out)
{
    memset(out, 0, sizeof(*out));
    out->type = type;
    return wire_parse_table(main_table, G_N_ELEMENTS(main_table), type, body, size, out);
}

WireParseResult wire_parse_inputs_msg(uint16_t type, const uint8_t *body, uint32_t size,
                                      WireInputsMsg *out)
{
    memset(out, 0, sizeof(*out));
    out->type = type;
    return wire_parse_table(inputs_table, G_N_ELEMENTS(inputs_table), type, body, size, out);
}
