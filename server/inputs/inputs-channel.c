/* Inputs channel: validated client input events delivered to the
 * embedder's input instances (see inputs-channel.h). Main loop only. */
#include "server/inputs/inputs-channel.h"

#include "common/wire/client-msgs.h"
#include "server/channel/channel.h"
#include "server/chardev/agent.h"
#include "server/core/log.h"
#include "server/main/main-channel.h"

/* PC scancodes (set 1) of the lock keys, pressed and released to bring the
 * guest's lock state in line with the client's. */
#define SCAN_SCROLL_LOCK 0x46
#define SCAN_NUM_LOCK 0x45
#define SCAN_CAPS_LOCK 0x3a
#define SCAN_RELEASE 0x80

typedef struct InputsChannelClient {
    RedChannelClient base;
    uint32_t motion_count;           /* MOTION/POSITION since the last ack */
} InputsChannelClient;

uint32_t inputs_buttons_to_local(uint32_t m)
{
    return (m & SPICE_MOUSE_BUTTON_MASK_LEFT) |
           ((m & SPICE_MOUSE_BUTTON_MASK_MIDDLE) << 1) |
           ((m & SPICE_MOUSE_BUTTON_MASK_RIGHT) >> 1) |
           ((m & (SPICE_MOUSE_BUTTON_MASK_SIDE | SPICE_MOUSE_BUTTON_MASK_EXTRA)) << 1);
}

static void send_modifiers(RedChannelClient *rcc, uint16_t type, uint8_t leds)
{
    uint8_t body[2] = { leds & SPICE_KEYBOARD_MODIFIER_FLAGS_MASK, 0 };
    red_channel_client_send_raw(rcc, type, body, sizeof(body));
}

static void push_scan(RedsState *reds, uint8_t code)
{
    if (!reds->kbd) {
        return;
    }
    const SpiceKbdInterface *sif = (const SpiceKbdInterface *)reds->kbd->base.sif;
    sif->push_scan_freg(reds->kbd, code);
}

static uint8_t kbd_leds(RedsState *reds)
{
    if (!reds->kbd) {
        return reds->kbd_leds;
    }
    const SpiceKbdInterface *sif = (const SpiceKbdInterface *)reds->kbd->base.sif;
    return sif->get_leds ? sif->get_leds(reds->kbd) : reds->kbd_leds;
}

static void sync_modifiers(RedsState *reds, uint16_t wanted)
{
    static const struct { uint8_t flag, scan; } locks[] = {
        { SPICE_KEYBOARD_MODIFIER_FLAGS_SCROLL_LOCK, SCAN_SCROLL_LOCK },
        { SPICE_KEYBOARD_MODIFIER_FLAGS_NUM_LOCK, SCAN_NUM_LOCK },
        { SPICE_KEYBOARD_MODIFIER_FLAGS_CAPS_LOCK, SCAN_CAPS_LOCK },
    };
    if (!reds->kbd) {
        return;
    }
    uint8_t leds = kbd_leds(reds);
    for (size_t i = 0; i < G_N_ELEMENTS(locks); i++) {
        if ((wanted ^ leds) & locks[i].flag) {
            push_scan(reds, locks[i].scan);
            push_scan(reds, locks[i].scan | SCAN_RELEASE);
        }
    }
}

static bool agent_mouse_active(RedsState *reds)
{
    return reds->cfg.agent_mouse && reds->vdagent;
}

static void mouse_motion(RedsState *reds, int dx, int dy, int dz, uint32_t buttons)
{
    if (!reds->mouse) {
        return;
    }
    const SpiceMouseInterface *sif = (const SpiceMouseInterface *)reds->mouse->base.sif;
    sif->motion(reds->mouse, dx, dy, dz, inputs_buttons_to_local(buttons));
}

static void mouse_buttons(RedsState *reds, uint32_t buttons)
{
    if (!reds->mouse) {
        return;
    }
    const SpiceMouseInterface *sif = (const SpiceMouseInterface *)reds->mouse->base.sif;
    sif->buttons(reds->mouse, inputs_buttons_to_local(buttons));
}

static const SpiceTabletInterface *tablet_sif(RedsState *reds)
{
    return reds->tablet ? (const SpiceTabletInterface *)reds->tablet->base.sif : NULL;
}

static void count_motion(RedChannelClient *rcc)
{
    InputsChannelClient *icc = (InputsChannelClient *)rcc;
    if (++icc->motion_count % SPICE_INPUT_MOTION_ACK_BUNCH == 0) {
        red_channel_client_send_raw(rcc, SPICE_MSG_INPUTS_MOUSE_MOTION_ACK, NULL, 0);
    }
}

/* PRESS and RELEASE: the wheel travels as a press of UP/DOWN. */
static void handle_button(RedsState *reds, bool press, uint8_t button, uint16_t buttons)
{
    int dz = 0;
    if (press && button == SPICE_MOUSE_BUTTON_UP) {
        dz = -1;
    } else if (press && button == SPICE_MOUSE_BUTTON_DOWN) {
        dz = 1;
    }
    if (reds->mouse_mode == SPICE_MOUSE_MODE_CLIENT) {
        const SpiceTabletInterface *tsif = tablet_sif(reds);
        if (agent_mouse_active(reds)) {
            RedAgent *agent = main_channel_get_agent(reds);
            uint32_t b = buttons;
            if (dz < 0) {
                b |= SPICE_MOUSE_BUTTON_MASK_UP;
            } else if (dz > 0) {
                b |= SPICE_MOUSE_BUTTON_MASK_DOWN;
            }
            red_agent_mouse_buttons(agent, b);
        } else if (tsif) {
            if (dz) {
                tsif->wheel(reds->tablet, dz, inputs_buttons_to_local(buttons));
            } else {
                tsif->buttons(reds->tablet, inputs_buttons_to_local(buttons));
            }
        }
        return;
    }
    if (dz) {
        mouse_motion(reds, 0, 0, dz, buttons);
    } else {
        mouse_buttons(reds, buttons);
    }
}

static bool inputs_handle_message(RedChannelClient *rcc, uint16_t type, uint32_t size,
                                  const uint8_t *body)
{
    RedsState *reds = rcc->channel->reds;
    WireInputsMsg msg;
    WireParseResult res = wire_parse_inputs_msg(type, body, size, &msg);

    if (!res.ok) {
        red_client_bug("inputs channel: %s (type %u, %u bytes): %s", res.name, type, size,
                       res.error);
        return false;
    }
    switch (type) {
    case SPICE_MSGC_INPUTS_KEY_DOWN:
    case SPICE_MSGC_INPUTS_KEY_UP:
        for (int i = 0; i < 4; i++) {
            uint8_t b = (uint8_t)(msg.u.key.code >> (8 * i));
            if (b == 0) {
                break;
            }
            push_scan(reds, b);
        }
        break;
    case SPICE_MSGC_INPUTS_KEY_SCANCODE:
        for (uint32_t i = 0; i < msg.u.scancode.size; i++) {
            push_scan(reds, msg.u.scancode.data[i]);
        }
        break;
    case SPICE_MSGC_INPUTS_KEY_MODIFIERS:
        sync_modifiers(reds, msg.u.key_modifiers.modifiers);
        break;
    case SPICE_MSGC_INPUTS_MOUSE_MOTION:
        count_motion(rcc);
        if (reds->mouse_mode == SPICE_MOUSE_MODE_SERVER) {
            mouse_motion(reds, msg.u.motion.dx, msg.u.motion.dy, 0, msg.u.motion.buttons);
        }
        break;
    case SPICE_MSGC_INPUTS_MOUSE_POSITION:
        count_motion(rcc);
        if (reds->mouse_mode != SPICE_MOUSE_MODE_CLIENT) {
            break;
        }
        if (agent_mouse_active(reds)) {
            red_agent_mouse_state(main_channel_get_agent(reds), msg.u.position.x,
                                  msg.u.position.y, msg.u.position.buttons,
                                  msg.u.position.display_id);
        } else if (tablet_sif(reds)) {
            tablet_sif(reds)->position(reds->tablet, (int)msg.u.position.x,
                                       (int)msg.u.position.y,
                                       inputs_buttons_to_local(msg.u.position.buttons));
        }
        break;
    case SPICE_MSGC_INPUTS_MOUSE_PRESS:
    case SPICE_MSGC_INPUTS_MOUSE_RELEASE:
        handle_button(reds, type == SPICE_MSGC_INPUTS_MOUSE_PRESS, msg.u.button.button,
                      msg.u.button.buttons);
        break;
    default:
        g_assert_not_reached();      /* the table admits only the cases above */
    }
    return true;
}

static void inputs_connect(RedChannel *channel, RedClient *client, RedLink *link)
{
    bool secure = link->stream && link->stream->is_tls;
    RedChannelClient *rcc = red_channel_client_new(channel, client, link);
    if (!rcc) {
        return;
    }
    if (!secure) {
        /* as upstream: keystrokes in the clear are worth telling the user */
        main_channel_notify(channel->reds, client, SPICE_NOTIFY_SEVERITY_WARN,
                            SPICE_NOTIFY_VISIBILITY_HIGH, "keyboard channel is insecure");
    }
    send_modifiers(rcc, SPICE_MSG_INPUTS_INIT, kbd_leds(channel->reds));
}

static void inputs_destroy(RedChannel *channel)
{
    g_free(channel);
}

static const RedChannelOps inputs_channel_ops = {
    .connect = inputs_connect,
    .handle_message = inputs_handle_message,
    .destroy = inputs_destroy,
};

RedChannel *inputs_channel_new(RedsState *reds)
{
    RedChannel *ch = g_new0(RedChannel, 1);
    red_channel_init(ch, reds, SPICE_CHANNEL_INPUTS, 0, reds->loop, &inputs_channel_ops,
                     sizeof(InputsChannelClient));
    ch->max_message_size = WIRE_SCANCODE_MAX;
    red_channel_set_cap(ch, SPICE_INPUTS_CAP_KEY_SCANCODE);
    return ch;
}

void inputs_channel_push_leds(RedsState *reds, uint8_t leds)
{
    reds->kbd_leds = leds;
    RedChannel *ch = reds_find_channel(reds, SPICE_CHANNEL_INPUTS, 0);
    if (!ch) {
        return;
    }
    for (GList *l = ch->clients; l; l = l->next) {
        send_modifiers(l->data, SPICE_MSG_INPUTS_KEY_MODIFIERS, leds);
    }
}
