/* The QXL instance seen from the main loop (contract: red-qxl.h) and the
 * sender side of its dispatcher (red_qxl_dispatch, used by server/api/qxl.c).
 *
 * Threading: red_qxl_init/destroy/start/stop/... run on the main loop;
 * red_qxl_dispatch runs on any embedder thread (QEMU vCPU threads). The
 * QXLState is written only by init/destroy; other threads only read it.
 */
#include "server/qxl/red-qxl.h"

#include <string.h>

#include "server/channel/channel.h"
#include "server/core/log.h"
#include "server/display/worker.h"
#include "server/display/worker-msg.h"

struct QXLState {
    RedsState *reds;                /* not owned */
    RedWorker *worker;              /* owned */
    Dispatcher *dispatcher;         /* the worker's */
    uint32_t ram_size;              /* from get_init_info */
    bool running;                   /* main loop's view of the VM state */
    bool registered;                /* channels registered with reds */
};

bool red_qxl_init(RedsState *reds, QXLInstance *qxl, GError **err)
{
    g_return_val_if_fail(qxl && !qxl->st, false);
    const QXLInterface *qif = (const QXLInterface *)qxl->base.sif;
    if (!qif || !qif->get_init_info || !qif->get_command || !qif->req_cmd_notification ||
        !qif->release_resource || !qif->get_cursor_command || !qif->req_cursor_notification ||
        !qif->notify_update || !qif->flush_resources || !qif->async_complete ||
        !qif->update_area_complete) {
        g_set_error(err, RED_WORKER_ERROR, 0,
                    "qxl-%d: QXLInterface lacks a required callback", qxl->id);
        return false;
    }

    QXLDevInitInfo info;
    memset(&info, 0, sizeof(info));
    qif->get_init_info(qxl, &info);

    RedWorker *worker = red_worker_new(reds, qxl, &info, err);
    if (!worker) {
        return false;
    }
    QXLState *st = g_new0(QXLState, 1);
    st->reds = reds;
    st->worker = worker;
    st->dispatcher = red_worker_get_dispatcher(worker);
    st->ram_size = info.qxl_ram_size;
    qxl->st = st;

    if (!red_worker_start_thread(worker, err)) {
        qxl->st = NULL;
        red_worker_free(worker);
        g_free(st);
        return false;
    }
    if (reds) {
        reds_register_channel(reds, red_worker_get_display_channel(worker));
        reds_register_channel(reds, red_worker_get_cursor_channel(worker));
        st->registered = true;
    }

    /* Both prototypes share the slot; the instance as second argument suits
     * either (QEMU >= 0.15 headers use attached_worker). */
    if (qif->attache_worker) {
        G_GNUC_BEGIN_IGNORE_DEPRECATIONS
        qif->attache_worker(qxl, (QXLWorker *)qxl);
        G_GNUC_END_IGNORE_DEPRECATIONS
    }
    if (qif->set_compression_level) {
        int level = reds && reds->cfg.image_compression == SPICE_IMAGE_COMPRESSION_OFF ? 0 : 9;
        qif->set_compression_level(qxl, level);
    }
    if (reds && reds->vm_running) {
        red_qxl_start(qxl);
    }
    return true;
}

void red_qxl_destroy(QXLInstance *qxl)
{
    if (!qxl || !qxl->st) {
        return;
    }
    QXLState *st = qxl->st;
    /* Clients first (on the worker), then the registry, then the thread. */
    dispatcher_call(st->dispatcher, WORKER_MSG_CLOSE_CHANNELS, NULL, 0, NULL, 0);
    if (st->registered) {
        reds_unregister_channel(st->reds, red_worker_get_display_channel(st->worker));
        reds_unregister_channel(st->reds, red_worker_get_cursor_channel(st->worker));
    }
    red_worker_free(st->worker);
    qxl->st = NULL;
    g_free(st);
}

void red_qxl_start(QXLInstance *qxl)
{
    if (!qxl || !qxl->st) {
        return;
    }
    qxl->st->running = true;
    dispatcher_post(qxl->st->dispatcher, WORKER_MSG_START, NULL, 0);
}

void red_qxl_stop(QXLInstance *qxl)
{
    if (!qxl || !qxl->st) {
        return;
    }
    qxl->st->running = false;
    dispatcher_call(qxl->st->dispatcher, WORKER_MSG_STOP, NULL, 0, NULL, 0);
}

uint32_t red_qxl_get_ram_size(QXLInstance *qxl)
{
    return qxl && qxl->st ? qxl->st->ram_size : 0;
}

void red_qxl_on_config_changed(QXLInstance *qxl)
{
    if (qxl && qxl->st) {
        const RedsConfig *cfg = &qxl->st->reds->cfg;
        WorkerMsgConfig m = {
            .image_compression = cfg->image_compression,
            .jpeg_state = cfg->jpeg_state,
            .zlib_glz_state = cfg->zlib_glz_state,
            .streaming_video = cfg->streaming_video,
        };
        dispatcher_post(qxl->st->dispatcher, WORKER_MSG_CONFIG_CHANGED, &m, sizeof(m));
    }
}

void red_qxl_set_mouse_mode(QXLInstance *qxl, uint32_t mode)
{
    if (qxl && qxl->st) {
        WorkerMsgU32 m = { .value = mode };
        dispatcher_post(qxl->st->dispatcher, WORKER_MSG_MOUSE_MODE, &m, sizeof(m));
    }
}

bool red_qxl_dispatch(QXLInstance *qxl, WorkerMsgType type, const void *payload, size_t size,
                      bool wait, void *reply, size_t reply_size)
{
    if (!qxl || !qxl->st) {
        red_log_limited_("embedder bug: ", "qxl request %u for an instance the server does not know", type);
        return false;
    }
    if (wait) {
        dispatcher_call(qxl->st->dispatcher, type, payload, size, reply, reply_size);
    } else {
        dispatcher_post(qxl->st->dispatcher, type, payload, size);
    }
    return true;
}
