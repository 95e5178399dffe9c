/* spice-char.h: byte-stream devices (guest agent, smartcard, usbredir,
 * named ports). Callbacks run on the embedder's main-loop thread. */
#ifndef SPICE_CHAR_H_
#define SPICE_CHAR_H_

#if !defined(SPICE_H_INSIDE) && !defined(SPICE_SERVER_INTERNAL)
#error "Only spice.h can be included directly (the library itself builds with -DSPICE_SERVER_INTERNAL)."
#endif

#include "spice-core.h"

SPICE_BEGIN_DECLS

#define SPICE_INTERFACE_CHAR_DEVICE "char_device"
#define SPICE_INTERFACE_CHAR_DEVICE_MAJOR 1
#define SPICE_INTERFACE_CHAR_DEVICE_MINOR 3
typedef struct SpiceCharDeviceInterface SpiceCharDeviceInterface;
typedef struct SpiceCharDeviceInstance SpiceCharDeviceInstance;
typedef struct SpiceCharDeviceState SpiceCharDeviceState;

typedef enum {
    /* The device calls spice_server_char_device_wakeup() when it can take
     * more bytes, so the server need not retry writes on a timer. */
    SPICE_CHAR_DEVICE_NOTIFY_WRITABLE = 1 << 0,
} spice_char_device_flags;

struct SpiceCharDeviceInterface {
    SpiceBaseInterface base;

    /* connected 1 = a client uses the device, 0 = none (or the server
     * gave up on it). */
    void (*state)(SpiceCharDeviceInstance *sin, int connected);
    /* Non-blocking. Returns bytes accepted (possibly 0) or < 0 on error;
     * errno carries no meaning afterwards. */
    int (*write)(SpiceCharDeviceInstance *sin, const uint8_t *buf, int len);
    /* Non-blocking. Returns bytes stored into buf (0: nothing pending) or
     * < 0 on error. */
    int (*read)(SpiceCharDeviceInstance *sin, uint8_t *buf, int len);
    /* Port open/close notifications (SPICE_PORT_EVENT_*). */
    void (*event)(SpiceCharDeviceInstance *sin, uint8_t event);
    spice_char_device_flags flags;
};

struct SpiceCharDeviceInstance {
    SpiceBaseInstance base;
    const char* subtype;        /* "vdagent", "smartcard", "usbredir", "port" */
    SpiceCharDeviceState *st;   /* server-private */
    const char* portname;       /* for subtype "port" */
};

/* The device has data to read, or room to write. */
void spice_server_char_device_wakeup(SpiceCharDeviceInstance *sin);
void spice_server_port_event(SpiceCharDeviceInstance *sin, uint8_t event);
/* NULL-terminated static list of the subtypes add_interface accepts.
 * Not const-qualified for historical reasons; do not modify it. */
const char** spice_server_char_device_recognized_subtypes(void);

SPICE_END_DECLS

#endif /* SPICE_CHAR_H_ */
