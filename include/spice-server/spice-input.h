/* spice-input.h: keyboard, mouse and tablet devices.
 *
 * The server calls these callbacks from the embedder's main-loop thread
 * when input arrives from the client's inputs channel. */
#ifndef SPICE_INPUT_H_
#define SPICE_INPUT_H_

#if !defined(SPICE_H_INSIDE) && !defined(SPICE_SERVER_INTERNAL)
#error "Only spice.h can be included directly (the library itself builds with -DSPICE_SERVER_INTERNAL)."
#endif

#include "spice-core.h"

SPICE_BEGIN_DECLS

/* ---- keyboard ---- */

#define SPICE_INTERFACE_KEYBOARD "keyboard"
#define SPICE_INTERFACE_KEYBOARD_MAJOR 1
#define SPICE_INTERFACE_KEYBOARD_MINOR 1
typedef struct SpiceKbdInterface SpiceKbdInterface;
typedef struct SpiceKbdInstance SpiceKbdInstance;
typedef struct SpiceKbdState SpiceKbdState;

struct SpiceKbdInterface {
    SpiceBaseInterface base;

    /* One byte of a PC scan code sequence (0xe0 prefixes included). */
    void (*push_scan_freg)(SpiceKbdInstance *sin, uint8_t frag);
    /* Current LED state: bit 0 scroll, 1 num, 2 caps lock. */
    uint8_t (*get_leds)(SpiceKbdInstance *sin);
};

struct SpiceKbdInstance {
    SpiceBaseInstance base;
    SpiceKbdState     *st;      /* server-private */
};

/* Tells connected clients the guest's LED state changed. */
int spice_server_kbd_leds(SpiceKbdInstance *sin, int leds);

/* ---- relative mouse ---- */

#define SPICE_INTERFACE_MOUSE "mouse"
#define SPICE_INTERFACE_MOUSE_MAJOR 1
#define SPICE_INTERFACE_MOUSE_MINOR 1
typedef struct SpiceMouseInterface SpiceMouseInterface;
typedef struct SpiceMouseInstance SpiceMouseInstance;
typedef struct SpiceMouseState SpiceMouseState;

struct SpiceMouseInterface {
    SpiceBaseInterface base;

    /* dz is the wheel; buttons_state is a bit per pressed button. */
    void (*motion)(SpiceMouseInstance *sin, int dx, int dy, int dz,
                   uint32_t buttons_state);
    void (*buttons)(SpiceMouseInstance *sin, uint32_t buttons_state);
};

struct SpiceMouseInstance {
    SpiceBaseInstance base;
    SpiceMouseState   *st;      /* server-private */
};

/* ---- absolute pointer ---- */

#define SPICE_INTERFACE_TABLET "tablet"
#define SPICE_INTERFACE_TABLET_MAJOR 1
#define SPICE_INTERFACE_TABLET_MINOR 1
typedef struct SpiceTabletInterface SpiceTabletInterface;
typedef struct SpiceTabletInstance SpiceTabletInstance;
typedef struct SpiceTabletState SpiceTabletState;

struct SpiceTabletInterface {
    SpiceBaseInterface base;

    /* Size of the coordinate space used by position(). */
    void (*set_logical_size)(SpiceTabletInstance* tablet, int width, int height);
    void (*position)(SpiceTabletInstance* tablet, int x, int y, uint32_t buttons_state);
    void (*wheel)(SpiceTabletInstance* tablet, int wheel_moution, uint32_t buttons_state);
    void (*buttons)(SpiceTabletInstance* tablet, uint32_t buttons_state);
};

struct SpiceTabletInstance {
    SpiceBaseInstance base;
    SpiceTabletState  *st;      /* server-private */
};

SPICE_END_DECLS

#endif /* SPICE_INPUT_H_ */
