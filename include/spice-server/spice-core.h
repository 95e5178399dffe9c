/* spice-core.h: the interface/instance base types and the event-loop
 * interface ("core") the embedder hands to spice_server_init().
 *
 * Every interface the embedder registers starts with SpiceBaseInterface
 * (its type string and version); every instance starts with
 * SpiceBaseInstance pointing at that interface. The server keeps its own
 * per-instance state in the instance's `st` member.
 */
#ifndef SPICE_CORE_H_
#define SPICE_CORE_H_

#if !defined(SPICE_H_INSIDE) && !defined(SPICE_SERVER_INTERNAL)
#error "Only spice.h can be included directly (the library itself builds with -DSPICE_SERVER_INTERNAL)."
#endif

#include <stdint.h>
#ifdef _WIN32
#include <winsock2.h>
#include <windows.h>
typedef int socklen_t;
#else
#include <sys/socket.h>
#endif
#include <spice/macros.h>
#include <spice/qxl_dev.h>
#include <spice/vd_agent.h>

/* The library implements its own deprecated entry points; silence the
 * attribute for its build only. */
#ifdef SPICE_SERVER_INTERNAL
#undef SPICE_GNUC_DEPRECATED
#define SPICE_GNUC_DEPRECATED
#endif

SPICE_BEGIN_DECLS

typedef struct SpiceBaseInterface SpiceBaseInterface;
typedef struct SpiceBaseInstance SpiceBaseInstance;

struct SpiceBaseInterface {
    const char *type;          /* SPICE_INTERFACE_* string, compared exactly */
    const char *description;   /* free text for logs */
    uint32_t major_version;    /* must equal the server's */
    uint32_t minor_version;    /* must not exceed the server's */
};

struct SpiceBaseInstance {
    const SpiceBaseInterface *sif;  /* the embedder's interface, not owned */
};

/* ---- core: timers, fd watches and connection events ---- */

#define SPICE_INTERFACE_CORE "core"
#define SPICE_INTERFACE_CORE_MAJOR 1
#define SPICE_INTERFACE_CORE_MINOR 3
typedef struct SpiceCoreInterface SpiceCoreInterface;

/* watch_add / watch_update_mask event bits */
#define SPICE_WATCH_EVENT_READ  (1 << 0)
#define SPICE_WATCH_EVENT_WRITE (1 << 1)

/* channel_event() event codes */
#define SPICE_CHANNEL_EVENT_CONNECTED     1
#define SPICE_CHANNEL_EVENT_INITIALIZED   2
#define SPICE_CHANNEL_EVENT_DISCONNECTED  3

/* SpiceChannelEventInfo.flags bits */
#define SPICE_CHANNEL_EVENT_FLAG_TLS      (1 << 0)
#define SPICE_CHANNEL_EVENT_FLAG_ADDR_EXT (1 << 1)

/* Opaque to the server: whatever the embedder's loop allocates. */
typedef struct SpiceWatch SpiceWatch;
typedef void (*SpiceWatchFunc)(int fd, int event, void *opaque);

typedef struct SpiceTimer SpiceTimer;
typedef void (*SpiceTimerFunc)(void *opaque);

/* Describes one channel connection. The server allocates one per
 * connection and keeps it valid from CONNECTED until the DISCONNECTED
 * event has been delivered (embedders keep the pointer meanwhile). */
typedef struct SpiceChannelEventInfo {
    int connection_id;
    int type;                  /* SPICE_CHANNEL_* */
    int id;
    int flags;                 /* SPICE_CHANNEL_EVENT_FLAG_* */
    /* Legacy address fields, too small for IPv6; use the _ext ones. */
    struct sockaddr laddr SPICE_GNUC_DEPRECATED;
    struct sockaddr paddr SPICE_GNUC_DEPRECATED;
    socklen_t llen SPICE_GNUC_DEPRECATED;
    socklen_t plen SPICE_GNUC_DEPRECATED;
    /* Valid when flags has SPICE_CHANNEL_EVENT_FLAG_ADDR_EXT. */
    struct sockaddr_storage laddr_ext;  /* local end */
    struct sockaddr_storage paddr_ext;  /* peer end */
    socklen_t llen_ext, plen_ext;
} SpiceChannelEventInfo;

/* The server calls these only from the thread that runs the embedder's
 * main loop. Timers are one-shot: timer_start arms (or re-arms) them. */
struct SpiceCoreInterface {
    SpiceBaseInterface base;

    SpiceTimer *(*timer_add)(SpiceTimerFunc func, void *opaque);
    void (*timer_start)(SpiceTimer *timer, uint32_t ms);
    void (*timer_cancel)(SpiceTimer *timer);
    void (*timer_remove)(SpiceTimer *timer);

    SpiceWatch *(*watch_add)(int fd, int event_mask, SpiceWatchFunc func, void *opaque);
    void (*watch_update_mask)(SpiceWatch *watch, int event_mask);
    void (*watch_remove)(SpiceWatch *watch);

    /* Optional (may be NULL). event is SPICE_CHANNEL_EVENT_*. */
    void (*channel_event)(int event, SpiceChannelEventInfo *info);
};

SPICE_END_DECLS

#endif /* SPICE_CORE_H_ */
