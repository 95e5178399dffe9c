/* The inputs channel (type 3, id 0): keyboard scancodes and lock
 * modifiers, relative mouse (server mode) and absolute position (client
 * mode) routed to the embedder's keyboard, mouse and tablet instances or
 * to the guest agent.
 *
 * Threading: main loop only.
 */
#pragma once

#include <stdint.h>

#include "server/core/reds.h"

/* Main loop: creates the inputs channel on reds->loop (the caller
 * registers it, when the first keyboard/mouse/tablet is added). Owned by
 * reds; freed by its ops->destroy. */
RedChannel *inputs_channel_new(RedsState *reds);

/* Main loop: spice_server_kbd_leds(): records leds (SPICE_KEYBOARD_MODIFIER_
 * FLAGS_*) in reds->kbd_leds and sends KEY_MODIFIERS to every inputs
 * client. No-op for the clients if the channel does not exist yet. */
void inputs_channel_push_leds(RedsState *reds, uint8_t leds);

/* Converts a SPICE button mask (SPICE_MOUSE_BUTTON_MASK_*) to the bit
 * layout of SpiceMouseInterface/SpiceTabletInterface (middle and right
 * swapped, side/extra shifted up, wheel bits dropped). Pure. */
uint32_t inputs_buttons_to_local(uint32_t spice_mask);
