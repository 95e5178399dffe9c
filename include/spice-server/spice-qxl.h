/* spice-qxl.h: the QXL display device interface.
 *
 * The device emulator (QEMU's qxl, our tools/qxl-emu) registers a
 * QXLInstance; the server's worker thread for that instance then pulls
 * commands through the QXLInterface callbacks, and the device drives the
 * worker with the spice_qxl_*() calls below. The *_async variants return
 * at once and report completion through QXLInterface.async_complete with
 * the given cookie; the other calls return when the work is done.
 */
#ifndef SPICE_QXL_H_
#define SPICE_QXL_H_

#if !defined(SPICE_H_INSIDE) && !defined(SPICE_SERVER_INTERNAL)
#error "Only spice.h can be included directly (the library itself builds with -DSPICE_SERVER_INTERNAL)."
#endif

#include "spice-core.h"

SPICE_BEGIN_DECLS

/* Bytes of client capability bits passed to set_client_capabilities():
 * the size of the matching field of the QXL ROM. */
#ifndef SPICE_CAPABILITIES_SIZE
#define SPICE_CAPABILITIES_SIZE (sizeof(((QXLRom*)0)->client_capabilities))
#endif

#define SPICE_INTERFACE_QXL "qxl"
#define SPICE_INTERFACE_QXL_MAJOR 3
#define SPICE_INTERFACE_QXL_MINOR 3

typedef struct QXLInterface QXLInterface;
typedef struct QXLInstance QXLInstance;
typedef struct QXLState QXLState;
typedef struct QXLWorker QXLWorker;
typedef struct QXLDevMemSlot QXLDevMemSlot;
typedef struct QXLDevSurfaceCreate QXLDevSurfaceCreate;

/* ---- device -> server ---- */

/* New commands are on a ring (after req_*_notification asked for it). */
void spice_qxl_wakeup(QXLInstance *instance);
/* The guest ran out of device memory: release what can be released. */
void spice_qxl_oom(QXLInstance *instance);
/* Old per-device start/stop; use spice_server_vm_start/stop. */
void spice_qxl_start(QXLInstance *instance) SPICE_GNUC_DEPRECATED;
void spice_qxl_stop(QXLInstance *instance) SPICE_GNUC_DEPRECATED;
/* Renders pending drawing inside area, then reports the dirty rectangles. */
void spice_qxl_update_area(QXLInstance *instance, uint32_t surface_id,
                   struct QXLRect *area, struct QXLRect *dirty_rects,
                   uint32_t num_dirty_rects, uint32_t clear_dirty_region);
void spice_qxl_add_memslot(QXLInstance *instance, QXLDevMemSlot *slot);
void spice_qxl_del_memslot(QXLInstance *instance, uint32_t slot_group_id, uint32_t slot_id);
void spice_qxl_reset_memslots(QXLInstance *instance);
void spice_qxl_destroy_surfaces(QXLInstance *instance);
void spice_qxl_destroy_primary_surface(QXLInstance *instance, uint32_t surface_id);
void spice_qxl_create_primary_surface(QXLInstance *instance, uint32_t surface_id,
                               QXLDevSurfaceCreate *surface);
void spice_qxl_reset_image_cache(QXLInstance *instance);
void spice_qxl_reset_cursor(QXLInstance *instance);
void spice_qxl_destroy_surface_wait(QXLInstance *instance, uint32_t surface_id);
/* Replays commands saved across a migration (count entries of ext). */
void spice_qxl_loadvm_commands(QXLInstance *instance, struct QXLCommandExt *ext, uint32_t count);

/* Asynchronous forms: completion goes to async_complete(cookie). */
void spice_qxl_update_area_async(QXLInstance *instance, uint32_t surface_id, QXLRect *qxl_area,
                                 uint32_t clear_dirty_region, uint64_t cookie);
void spice_qxl_add_memslot_async(QXLInstance *instance, QXLDevMemSlot *slot, uint64_t cookie);
void spice_qxl_destroy_surfaces_async(QXLInstance *instance, uint64_t cookie);
void spice_qxl_destroy_primary_surface_async(QXLInstance *instance, uint32_t surface_id, uint64_t cookie);
void spice_qxl_create_primary_surface_async(QXLInstance *instance, uint32_t surface_id,
                                QXLDevSurfaceCreate *surface, uint64_t cookie);
void spice_qxl_destroy_surface_async(QXLInstance *instance, uint32_t surface_id, uint64_t cookie);
/* Renders every surface to guest memory (guest suspend, mode switch). */
void spice_qxl_flush_surfaces_async(QXLInstance *instance, uint64_t cookie);
/* monitors_config: guest address of a QXLMonitorsConfig in slot group group_id. */
void spice_qxl_monitors_config_async(QXLInstance *instance, QXLPHYSICAL monitors_config,
                                     int group_id, uint64_t cookie);
/* The guest driver went away: fall back to the primary surface only. */
void spice_qxl_driver_unload(QXLInstance *instance);
/* Superseded by spice_qxl_set_device_info(). */
void spice_qxl_set_max_monitors(QXLInstance *instance,
                                unsigned int max_monitors) SPICE_GNUC_DEPRECATED;

/* GL scanout: fd is a dma-buf (ownership passes to the server). */
void spice_qxl_gl_scanout(QXLInstance *qxl,
                          int fd,
                          uint32_t width, uint32_t height,
                          uint32_t stride, uint32_t format,
                          int y_0_top);
void spice_qxl_gl_draw_async(QXLInstance *qxl,
                             uint32_t x, uint32_t y,
                             uint32_t w, uint32_t h,
                             uint64_t cookie);

/* Names the hardware behind this instance and which display ids it owns.
 *
 * device_address: "pci/DDDD/SS.F/.../SS.F" in hex (domain, then slot.function
 * of every bridge on the way, the last pair being the graphics device).
 * Monitor n of this instance is device display id
 * device_display_id_start + n, for n < device_display_id_count. A
 * multi-head QXL uses start 0 and count = heads; one-instance-per-head
 * devices (virtio-gpu) give each instance its own start and count 1. */
void spice_qxl_set_device_info(QXLInstance *instance,
                               const char *device_address,
                               uint32_t device_display_id_start,
                               uint32_t device_display_id_count);

/* ---- structures shared with the device ---- */

/* Filled by the device in get_init_info(). */
typedef struct QXLDevInitInfo {
    uint32_t num_memslots_groups;
    uint32_t num_memslots;
    uint8_t memslot_gen_bits;      /* bits of a QXLPHYSICAL holding the generation */
    uint8_t memslot_id_bits;       /* bits holding the slot id */
    uint32_t qxl_ram_size;         /* bytes */
    uint8_t internal_groupslot_id;
    uint32_t n_surfaces;
} QXLDevInitInfo;

/* A window of guest memory mapped into the embedder's address space. */
struct QXLDevMemSlot {
    uint32_t slot_group_id;
    uint32_t slot_id;
    uint32_t generation;
    uintptr_t virt_start;          /* host address of the first byte */
    uintptr_t virt_end;            /* host address one past the last byte */
    uint64_t addr_delta;           /* guest physical = host virtual - delta */
    uint32_t qxl_ram_size;
};

/* Primary surface description (QXLSurfaceCreate as seen by the device). */
struct QXLDevSurfaceCreate {
    uint32_t width;
    uint32_t height;
    int32_t stride;                /* negative: bottom-up rows */
    uint32_t format;               /* SPICE_SURFACE_FMT_* */
    uint32_t position;
    uint32_t mouse_mode;
    uint32_t flags;
    uint32_t type;
    uint64_t mem;                  /* guest address of the pixels */
    uint32_t group_id;             /* memslot group of mem */
};

/* Callbacks from the server. Unless noted they run on the instance's
 * worker thread, never on the embedder's main loop. */
struct QXLInterface {
    SpiceBaseInterface base;

    /* Called once while the instance is being added; the two-argument
     * spelling is the historical one and shares the slot. The server passes
     * the instance itself as the second argument, so either prototype works.
     * __extension__ keeps -std=c99 -pedantic builds quiet about the unnamed
     * union; it changes nothing else. */
#if defined(__GNUC__) && !defined(__cplusplus)
    __extension__
#endif
    union {
        void (*attached_worker)(QXLInstance *qin);
        void (*attache_worker)(QXLInstance *qin, QXLWorker *qxl_worker) SPICE_GNUC_DEPRECATED;
    };
    void (*set_compression_level)(QXLInstance *qin, int level);
    void (*set_mm_time)(QXLInstance *qin, uint32_t mm_time) SPICE_GNUC_DEPRECATED;

    void (*get_init_info)(QXLInstance *qin, QXLDevInitInfo *info);

    /* Non-blocking: 1 and *cmd filled if a command was taken, else 0. */
    int (*get_command)(QXLInstance *qin, struct QXLCommandExt *cmd);
    /* Arms a spice_qxl_wakeup() for the next command. Returns 0 (and arms
     * nothing) when commands are already waiting, so the server polls again. */
    int (*req_cmd_notification)(QXLInstance *qin);
    /* Gives a command's resources back to the guest (by value). */
    void (*release_resource)(QXLInstance *qin, struct QXLReleaseInfoExt release_info);
    int (*get_cursor_command)(QXLInstance *qin, struct QXLCommandExt *cmd);
    int (*req_cursor_notification)(QXLInstance *qin);
    void (*notify_update)(QXLInstance *qin, uint32_t update_id);
    int (*flush_resources)(QXLInstance *qin);
    void (*async_complete)(QXLInstance *qin, uint64_t cookie);
    void (*update_area_complete)(QXLInstance *qin, uint32_t surface_id,
                                 struct QXLRect *updated_rects,
                                 uint32_t num_updated_rects);
    /* Interface minor >= 2. */
    void (*set_client_capabilities)(QXLInstance *qin,
                                    uint8_t client_present,
                                    uint8_t caps[SPICE_CAPABILITIES_SIZE]);
    /* Interface minor >= 3. Returns 1 when the device handles monitor
     * configs, 0 otherwise; a NULL monitors_config only asks that question. */
    int (*client_monitors_config)(QXLInstance *qin,
                                  VDAgentMonitorsConfig *monitors_config);
};

struct QXLInstance {
    SpiceBaseInstance  base;
    int                id;      /* >= 0, unique per server */
    QXLState           *st;     /* server-private */
};

SPICE_END_DECLS

#endif /* SPICE_QXL_H_ */
