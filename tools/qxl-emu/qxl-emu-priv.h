/* qxl-emu internals shared by device.c and guest.c.  Not for other users. */
#pragma once

#include "tools/qxl-emu/qxl-emu.h"

enum {
    QXL_EMU_TRACK_SUBMITTED = 1,    /* pushed, owned by the server */
    QXL_EMU_TRACK_RELEASED = 2,     /* released, in the release list/ring */
};

typedef struct QxlEmuTrack {
    uint8_t state;
    uint32_t cmd_type;
    void *guest_data;       /* the guest side's record; not owned */
} QxlEmuTrack;

struct QxlEmu {
    QXLInstance qxl;            /* handed to the server; callbacks map back with container_of */
    QXLInterface iface;
    QxlEmuConfig cfg;
    const SpiceServerApi *api;  /* not owned */
    SpiceServer *server;        /* not owned */
    bool attached;

    int memfd;                  /* owned */
    uint8_t *mem;               /* whole shared mapping, mem_size bytes */
    size_t mem_size;
    uint8_t *ram;               /* RAM bar: surface0 area, pages, QXLRam */
    uint8_t *vram;              /* VRAM bar */
    QXLRom *rom;
    QXLRam *ram_hdr;
    uint32_t ram_header_offset; /* bytes into RAM */
    uint32_t num_pages;         /* command pages after surface0 */
    uint64_t ram_bar_phys;      /* fake guest-physical BAR addresses */
    uint64_t vram_bar_phys;

    int irq_fd;                 /* eventfd, owned */
    QxlEmuIrqFunc irq_func;
    void *irq_opaque;

    /* Everything below is guarded by lock. */
    GMutex lock;
    QxlEmuStats stats;
    GHashTable *tracked;        /* RAM offset of a command -> QxlEmuTrack (owned) */
    unsigned outstanding;       /* tracked entries in SUBMITTED state */
    QXLReleaseInfo *last_release; /* tail of the release list being built */
    uint32_t num_free_res;      /* entries in that list */
    bool oom_running;
    uint32_t current_async;     /* QXL_IO_* in flight or QXL_EMU_IO_NONE */
    uint64_t current_cookie;
    int64_t async_t0;           /* ns, CLOCK_MONOTONIC */
    GByteArray *cookie_state;   /* indexed by cookie sequence: 0 none, 1 pending, 2 done */
    uint32_t last_async_io;
    int64_t last_async_latency; /* ns */
    int worker_tid;             /* first thread seen in a worker callback */
};

/* Raises interrupt bits like qxl_send_events().  Any thread. */
void qxl_emu_send_events(QxlEmu *emu, uint32_t events);

/* Monotonic clock in ns. */
int64_t qxl_emu_now_ns(void);
