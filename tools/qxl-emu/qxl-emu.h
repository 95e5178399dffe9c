/* qxl-emu: a QXL PCI device emulated in-process, as QEMU's hw/display/qxl.c
 * presents it to libspice-server, plus the guest driver side that feeds it.
 *
 * Device side (this header): device memory in one memfd-backed shared
 * mapping (RAM bar with surface0 area, command pages and QXLRam at its end;
 * VRAM bar for off-screen surfaces; ROM), the QXLInterface callbacks with
 * QEMU's semantics (release list batching, one async IO at a time, interrupt
 * bits), IO-port writes mapped to spice_qxl_* calls, and accounting that
 * checks the server: every command released exactly once, every async IO
 * completed exactly once, worker callbacks from one thread.
 * Guest side: see guest.h.
 *
 * Threads: the "vCPU" thread (the one calling qxl_emu_io_write() and the
 * guest API, normally also the embedder main loop) and the server's worker
 * thread (calling the QXLInterface callbacks).  See device.c for locking.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <spice.h>

#include "tools/qxl-emu/server-api.h"

/* QEMU's values (include/ui/spice-display.h, hw/display/qxl.c). */
#define QXL_EMU_NUM_MEMSLOTS 8
#define QXL_EMU_MEMSLOT_GEN_BITS 8
#define QXL_EMU_MEMSLOT_ID_BITS 8
#define QXL_EMU_GROUP_HOST 0
#define QXL_EMU_GROUP_GUEST 1
#define QXL_EMU_SLOT_RAM 1      /* rom->slots_start: the guest's main slot */
#define QXL_EMU_SLOT_VRAM 2     /* the guest's surfaces slot */
#define QXL_EMU_FREE_BUNCH 32   /* QXL_FREE_BUNCH_SIZE */
#define QXL_EMU_IO_NONE 0xffffffffu  /* no async IO in flight */

typedef struct QxlEmu QxlEmu;

typedef struct QxlEmuConfig {
    uint32_t ram_size;      /* RAM bar (bytes, multiple of 4096); QEMU default 64 MiB */
    uint32_t vgamem_size;   /* surface0 area at the start of RAM; QEMU default 16 MiB */
    uint32_t vram_size;     /* VRAM bar for surfaces; QEMU default 64 MiB */
    uint32_t n_surfaces;    /* QEMU default 1024 */
} QxlEmuConfig;

/* Everything the device counted.  Snapshot with qxl_emu_get_stats(). */
typedef struct QxlEmuStats {
    uint64_t get_command_calls, cmds_fetched;
    uint64_t draw_fetched, update_fetched, surface_fetched, other_fetched;
    uint64_t cursor_fetched;
    uint64_t req_cmd_notification, req_cursor_notification;
    uint64_t wakeups;                   /* spice_qxl_wakeup() issued by NOTIFY_CMD/CURSOR */
    uint64_t releases_ok;               /* first release of a submitted command */
    uint64_t releases_double;           /* release of a command already released */
    uint64_t releases_unknown;          /* info pointer not a live submitted command */
    uint64_t release_ring_pushes;
    uint64_t flush_resources_calls, flush_resources_returned;
    uint64_t async_issued, async_completed;
    uint64_t async_unknown;             /* unknown or already completed cookie */
    uint64_t async_mismatch;            /* cookie of another IO than the one in flight */
    uint64_t update_area_complete_calls, update_area_complete_rects;
    uint64_t notify_update_calls;
    uint64_t set_client_capabilities_calls, client_monitors_config_calls;
    uint64_t attach_calls, get_init_info_calls, set_compression_level_calls;
    uint64_t wrong_thread;              /* worker callbacks from a second thread */
    uint64_t guest_bugs;                /* device-detected guest errors (ours, as guest) */
    uint64_t oom_calls;                 /* spice_qxl_oom() issued */
    uint64_t collect_errors;            /* guest popped an id the server never released */
    uint64_t io_max_ns;                 /* longest qxl_emu_io_write (the vCPU blocked in the server) */
    uint32_t io_max_port;               /* its QXL_IO_*, QXL_EMU_IO_NONE before any */
} QxlEmuStats;

/* Fills QEMU's defaults. */
void qxl_emu_config_default(QxlEmuConfig *cfg);

/* Creates the device memory and initialises ROM and RAM like QEMU's reset.
 * Returns NULL with `error` set on failure.  Caller owns the result. */
QxlEmu *qxl_emu_new(const QxlEmuConfig *cfg, GError **error);

/* Plugs the device into `server` (spice_server_add_interface with the QXL
 * instance, id 0) and adds QEMU's host memslot (group 0, slot 0).  `api`
 * must outlive the device.  vCPU/main thread. */
bool qxl_emu_attach(QxlEmu *emu, const SpiceServerApi *api, SpiceServer *server,
                    GError **error);

/* spice_server_remove_interface.  vCPU/main thread. */
void qxl_emu_detach(QxlEmu *emu);

/* Frees the device; detach first.  Accepts NULL. */
void qxl_emu_free(QxlEmu *emu);

/* The QXLInstance handed to the server (base.sif -> our QXLInterface). */
QXLInstance *qxl_emu_instance(QxlEmu *emu);

/* A guest write to the QXL IO port `port` (QXL_IO_*) with value `val`, as
 * QEMU's ioport_write maps it onto spice_qxl_*.  Sync IOs block until the
 * server returns.  vCPU thread. */
void qxl_emu_io_write(QxlEmu *emu, uint32_t port, uint32_t val);

/* Restarts stats.io_max_ns / io_max_port (the longest IO write) so a
 * measured window sees only its own calls.  vCPU thread. */
void qxl_emu_reset_io_max(QxlEmu *emu);

/* True while an async IO waits for async_complete.  Any thread. */
bool qxl_emu_async_pending(QxlEmu *emu);

/* Issue-to-completion time of the last completed async IO and its port.
 * Any thread. */
void qxl_emu_async_last(QxlEmu *emu, uint32_t *io, int64_t *latency_ns);

/* An eventfd that becomes readable whenever the device raises an interrupt
 * enabled in ram->int_mask.  Owned by the device. */
int qxl_emu_irq_fd(QxlEmu *emu);

/* Interrupts as callbacks: `func(opaque, events)` is called in the raising
 * thread (usually the worker) for every enabled interrupt, after the eventfd
 * is signalled.  Pass NULL to remove. */
typedef void (*QxlEmuIrqFunc)(void *opaque, uint32_t events);
void qxl_emu_set_irq_hook(QxlEmu *emu, QxlEmuIrqFunc func, void *opaque);

/* Reads and clears int_pending (the guest ISR).  vCPU thread. */
uint32_t qxl_emu_take_irq(QxlEmu *emu);

/* Copies the counters.  Any thread. */
void qxl_emu_get_stats(QxlEmu *emu, QxlEmuStats *out);

/* Commands submitted and not released by the server yet.  Any thread. */
unsigned qxl_emu_outstanding(QxlEmu *emu);

/* Tid of the first thread that ran a worker-only callback (0 before any);
 * callbacks from other threads are counted in stats.wrong_thread.  Any
 * thread. */
int qxl_emu_worker_tid(QxlEmu *emu);

/* Device memory for the guest side and for tests that inspect pixels. */
uint8_t *qxl_emu_ram(QxlEmu *emu);          /* RAM bar base */
uint8_t *qxl_emu_vram(QxlEmu *emu);         /* VRAM bar base */
QXLRam *qxl_emu_ram_header(QxlEmu *emu);
QXLRom *qxl_emu_rom(QxlEmu *emu);
const QxlEmuConfig *qxl_emu_config(QxlEmu *emu);

/* Release accounting, used by the guest side.  `track_submit` registers a
 * command at `ram_offset` (its QXLReleaseInfo; the id written there must
 * equal ram_offset) before it is pushed; `guest_data` comes back from
 * `track_collect` when the guest pops that id from the release ring.
 * track_collect also returns the next id of the chain from the release info
 * and returns NULL (counting collect_errors) for ids the server never
 * released.  vCPU thread. */
void qxl_emu_track_submit(QxlEmu *emu, uint64_t ram_offset, uint32_t cmd_type,
                          void *guest_data);
void *qxl_emu_track_collect(QxlEmu *emu, uint64_t id, uint64_t *next);
