/* Messages from the embedder's threads (server/api/qxl.c, red-qxl.c) to a
 * QXL render worker, carried by the dispatcher (server/qxl/dispatcher.h).
 *
 * Every payload is plain data: ids, rects, cookies, QXLPHYSICAL addresses
 * and copies of the embedder's structs, never a pointer into embedder
 * memory. The few internal pointers (RedLink, RedChannelClient) belong to
 * the server itself and are marked.
 *
 * "call" = the sender waits for the worker (WORKER_MSG_* marked sync);
 * "post" = returns at once. An async request carries `async` + `cookie` and
 * the worker calls async_complete(cookie) exactly once when done.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <spice/qxl_dev.h>

#include "spice.h"

typedef enum WorkerMsgType {
    WORKER_MSG_WAKEUP,              /* post */
    WORKER_MSG_OOM,                 /* post */
    WORKER_MSG_START,               /* post */
    WORKER_MSG_STOP,                /* call */
    WORKER_MSG_UPDATE_AREA,         /* call (reply: rects) or post (async) */
    WORKER_MSG_ADD_MEMSLOT,         /* call or post (async) */
    WORKER_MSG_DEL_MEMSLOT,         /* post */
    WORKER_MSG_RESET_MEMSLOTS,      /* post */
    WORKER_MSG_DESTROY_SURFACES,    /* call or post (async) */
    WORKER_MSG_CREATE_PRIMARY,      /* call or post (async) */
    WORKER_MSG_DESTROY_PRIMARY,     /* call or post (async) */
    WORKER_MSG_DESTROY_SURFACE_WAIT,/* call or post (async) */
    WORKER_MSG_FLUSH_SURFACES,      /* post (async) */
    WORKER_MSG_RESET_IMAGE_CACHE,   /* call */
    WORKER_MSG_RESET_CURSOR,        /* call */
    WORKER_MSG_LOADVM_COMMANDS,     /* call, payload = WorkerMsgLoadvm + cmds */
    WORKER_MSG_MONITORS_CONFIG,     /* post (async) */
    WORKER_MSG_DRIVER_UNLOAD,       /* post */
    WORKER_MSG_SET_DEVICE_INFO,     /* post */
    WORKER_MSG_SET_MAX_MONITORS,    /* post */
    WORKER_MSG_GL_DRAW,             /* post (async) */
    WORKER_MSG_CONFIG_CHANGED,      /* post */
    WORKER_MSG_MOUSE_MODE,          /* post */
    WORKER_MSG_CLOSE_CHANNELS,      /* call */
    WORKER_MSG_RUN_FUNC,            /* post, payload = WorkerMsgRunFunc */
    WORKER_MSG_QUIT,                /* call */
    WORKER_MSG_COUNT
} WorkerMsgType;

/* WORKER_MSG_CONFIG_CHANGED: the server's encoding settings, by value. */
typedef struct WorkerMsgConfig {
    int32_t image_compression;      /* SpiceImageCompression */
    int32_t jpeg_state;             /* spice_wan_compression_t */
    int32_t zlib_glz_state;         /* spice_wan_compression_t */
    int32_t streaming_video;        /* SPICE_STREAM_VIDEO_* */
} WorkerMsgConfig;

/* Common header of the async-capable requests. */
typedef struct WorkerMsgAsync {
    bool async;
    uint64_t cookie;                /* embedder's, returned unchanged */
} WorkerMsgAsync;

typedef struct WorkerMsgUpdateArea {
    WorkerMsgAsync a;
    uint32_t surface_id;
    QXLRect area;
    uint32_t clear_dirty_region;
    uint32_t num_dirty_rects;       /* sync: QXLRect entries in the reply */
} WorkerMsgUpdateArea;

typedef struct WorkerMsgMemslot {
    WorkerMsgAsync a;
    QXLDevMemSlot slot;             /* copy */
} WorkerMsgMemslot;

typedef struct WorkerMsgDelMemslot {
    uint32_t group_id, slot_id;
} WorkerMsgDelMemslot;

typedef struct WorkerMsgSurface {
    WorkerMsgAsync a;
    uint32_t surface_id;
    QXLDevSurfaceCreate create;     /* CREATE_PRIMARY only: copy */
} WorkerMsgSurface;

typedef struct WorkerMsgLoadvm {
    uint32_t count;                 /* QXLCommandExt entries following */
    QXLCommandExt cmds[];
} WorkerMsgLoadvm;

typedef struct WorkerMsgMonitorsConfig {
    WorkerMsgAsync a;
    QXLPHYSICAL addr;
    int32_t group_id;
} WorkerMsgMonitorsConfig;

#define WORKER_DEVICE_ADDRESS_MAX 256

typedef struct WorkerMsgDeviceInfo {
    char device_address[WORKER_DEVICE_ADDRESS_MAX]; /* NUL-terminated copy */
    uint32_t display_id_start, display_id_count;
} WorkerMsgDeviceInfo;

typedef struct WorkerMsgU32 {
    uint32_t value;
} WorkerMsgU32;

/* A server-internal function to run on the worker (channel hand-over from
 * the main loop). */
typedef struct WorkerMsgRunFunc {
    void (*func)(void *data);
    void *data;
} WorkerMsgRunFunc;

/* Implemented in server/qxl/red-qxl.c. Any embedder thread: hands a message
 * to qxl's worker, waiting for it when `wait` (reply filled then). Returns
 * false, doing nothing but a log line, when the instance has no worker (not
 * added, or already removed); an async cookie is then never completed,
 * since the device may not be called back from the embedder's thread. */
bool red_qxl_dispatch(QXLInstance *qxl, WorkerMsgType type, const void *payload, size_t size,
                      bool wait, void *reply, size_t reply_size);
