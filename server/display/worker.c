/* The QXL render worker: thread, dispatcher messages, ring polling and
 * command routing. Surfaces live in surface.c, the drawable tree in tree.c.
 *
 * Threading: red_worker_new/start_thread/free run on the main loop; every
 * other function here runs on the worker thread, the only thread that calls
 * the device's QXLInterface callbacks after initialisation.
 */
#include "server/display/worker-private.h"

#include <stdlib.h>
#include <string.h>

#include "server/core/log.h"
#include "server/display/cursor-channel.h"
#include "server/display/display-channel.h"

static void worker_poll(RedWorker *w);

static uint64_t env_u64(const char *name, uint64_t def, uint64_t min, uint64_t max)
{
    const char *s = g_getenv(name);
    if (!s || !*s) {
        return def;
    }
    char *end = NULL;
    guint64 v = g_ascii_strtoull(s, &end, 10);
    if (!end || *end || v < min || v > max) {
        red_config_error("%s=%s ignored (expected %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT ")",
                         name, s, min, max);
        return def;
    }
    return v;
}

void worker_release(RedWorker *w, QXLReleaseInfoExt release)
{
    if (!release.info) {
        return;
    }
    w->stats.releases++;
    w->qif->release_resource(w->qxl, release);
}

static void log_parse_error(GError *err)
{
    const char *m = err ? err->message : "unparsable command";
    if (g_str_has_prefix(m, "guest bug: ")) {
        m += strlen("guest bug: ");
    }
    red_guest_bug("%s", m);
}

/* ---- cursor ---- */

static void cursor_reset(RedWorker *w)
{
    if (w->cursor.current) {
        worker_release(w, w->cursor.current->release);
        red_cursor_cmd_free(w->cursor.current);
        w->cursor.current = NULL;
    }
    w->cursor.visible = false;
}

static void handle_cursor_cmd(RedWorker *w, RedCursorCmd *cmd)
{
    cursor_channel_process_cmd(w->cursor_channel, cmd);
    switch (cmd->type) {
    case QXL_CURSOR_SET:
        /* The shape stays referenced by clients until replaced, as upstream
         * keeps the SET command: release the previous one now. */
        cursor_reset(w);
        w->cursor.current = cmd;
        w->cursor.visible = cmd->u.set.visible;
        w->cursor.position = cmd->u.set.position;
        return;
    case QXL_CURSOR_MOVE:
        w->cursor.visible = true;
        w->cursor.position = cmd->u.position;
        break;
    case QXL_CURSOR_HIDE:
        w->cursor.visible = false;
        break;
    case QXL_CURSOR_TRAIL:
        w->cursor.trail_length = cmd->u.trail.length;
        w->cursor.trail_frequency = cmd->u.trail.frequency;
        break;
    default:
        red_guest_bug("unknown cursor command %u", cmd->type);
        break;
    }
    worker_release(w, cmd->release);
    red_cursor_cmd_free(cmd);
}

/* ---- commands ---- */

static void handle_update_cmd(RedWorker *w, RedUpdateCmd *u)
{
    RedSurface *s = surface_get_live(w, u->surface_id);
    if (!s) {
        red_guest_bug("update of missing surface %u", u->surface_id);
        w->stats.rejected++;
    } else {
        pixman_box32_t area = { u->area.left, u->area.top, u->area.right, u->area.bottom };
        tree_render_area(w, s, &area);
        w->qif->notify_update(w->qxl, u->update_id);
    }
    worker_release(w, u->release);
}

/* Processes one command from the display ring (or a loadvm list). */
static void process_display_cmd(RedWorker *w, const QXLCommandExt *ext, bool loadvm)
{
    RedCommand cmd;
    QXLReleaseInfoExt rel = { 0 };
    GError *err = NULL;

    w->stats.commands++;
    if (!red_parse_command(&w->parse_ctx, ext, &cmd, &rel, &err)) {
        log_parse_error(err);
        g_clear_error(&err);
        w->stats.rejected++;
        worker_release(w, rel);
        return;
    }
    switch (cmd.type) {
    case QXL_CMD_NOP:
        break;
    case QXL_CMD_DRAW:
        if (loadvm) {
            red_guest_bug("drawable in loadvm commands");
            w->stats.rejected++;
            worker_release(w, cmd.u.draw->release);
            break;
        }
        tree_add_drawable(w, cmd.u.draw);
        cmd.u.draw = NULL;
        cmd.type = QXL_CMD_NOP;
        break;
    case QXL_CMD_UPDATE:
        handle_update_cmd(w, cmd.u.update);
        break;
    case QXL_CMD_MESSAGE:
        red_info("qxl-%d guest message: %s", w->qxl->id, cmd.u.message->text);
        worker_release(w, cmd.u.message->release);
        break;
    case QXL_CMD_SURFACE:
        worker_handle_surface_cmd(w, cmd.u.surface, loadvm);
        break;
    case QXL_CMD_CURSOR:
        if (loadvm) {
            handle_cursor_cmd(w, cmd.u.cursor);
            cmd.u.cursor = NULL;
            cmd.type = QXL_CMD_NOP;
        } else {
            red_guest_bug("cursor command on the display ring");
            w->stats.rejected++;
            worker_release(w, cmd.u.cursor->release);
        }
        break;
    default:
        red_guest_bug("command type %u", cmd.type);
        worker_release(w, rel);
        break;
    }
    red_command_clear(&cmd);
}

static void process_cursor_cmd(RedWorker *w, const QXLCommandExt *ext)
{
    QXLReleaseInfoExt rel = { 0 };
    GError *err = NULL;

    w->stats.cursor_commands++;
    if (ext->cmd.type != QXL_CMD_CURSOR) {
        /* Parse anyway so the release pointer is found and returned. */
        RedCommand cmd;
        if (red_parse_command(&w->parse_ctx, ext, &cmd, &rel, &err)) {
            red_command_clear(&cmd);
        }
        g_clear_error(&err);
        red_guest_bug("command type %u on the cursor ring", ext->cmd.type);
        w->stats.rejected++;
        worker_release(w, rel);
        return;
    }
    RedCursorCmd *c = red_parse_cursor_cmd(&w->parse_ctx, ext->group_id, ext->cmd.data,
                                           &rel, &err);
    if (!c) {
        log_parse_error(err);
        g_clear_error(&err);
        w->stats.rejected++;
        worker_release(w, rel);
        return;
    }
    handle_cursor_cmd(w, c);
}

/* Takes up to max commands from one ring; *empty tells whether the ring
 * ran dry. */
static unsigned process_ring(RedWorker *w, bool cursor, unsigned max, bool *empty)
{
    unsigned n = 0;
    *empty = false;
    while (n < max && w->running) {
        QXLCommandExt ext;
        memset(&ext, 0, sizeof(ext));
        int got = cursor ? w->qif->get_cursor_command(w->qxl, &ext)
                         : w->qif->get_command(w->qxl, &ext);
        if (!got) {
            *empty = true;
            break;
        }
        if (cursor) {
            w->cursor_waiting = false;
            process_cursor_cmd(w, &ext);
        } else {
            w->display_waiting = false;
            process_display_cmd(w, &ext, false);
        }
        n++;
    }
    if (!w->running) {
        *empty = true;
    }
    return n;
}

unsigned worker_drain_display(RedWorker *w, unsigned max)
{
    bool empty;
    unsigned n = process_ring(w, false, max, &empty);
    tree_enforce_bound(w);
    return n;
}

static void drain_rings(RedWorker *w)
{
    bool empty;
    worker_drain_display(w, RED_WORKER_DRAIN_MAX);
    process_ring(w, true, RED_WORKER_DRAIN_MAX, &empty);
}

/* One ring just ran dry: ask the device to ring the doorbell on its next
 * push. Returns true when armed (nothing to do until spice_qxl_wakeup),
 * false when commands arrived meanwhile (poll again at once).
 *
 * Arming at once rather than polling again later: a guest that fills the
 * 32-entry ring faster than a poll period then waits for free space without
 * ringing, so a timed retry leaves both sides idle (it capped throughput
 * at a few thousand drawables per second in spice-bench). */
static bool ring_arm(RedWorker *w, bool cursor)
{
    bool *waiting = cursor ? &w->cursor_waiting : &w->display_waiting;
    if (*waiting) {
        return true;
    }
    int armed = cursor ? w->qif->req_cursor_notification(w->qxl)
                       : w->qif->req_cmd_notification(w->qxl);
    *waiting = armed != 0;
    return *waiting;
}

static void worker_poll(RedWorker *w)
{
    if (!w->running) {
        return;
    }
    bool disp_empty, cur_empty;
    process_ring(w, false, RED_WORKER_CMD_BATCH, &disp_empty);
    process_ring(w, true, RED_WORKER_CMD_BATCH, &cur_empty);
    tree_enforce_bound(w);

    bool disp_idle = disp_empty && ring_arm(w, false);
    bool cur_idle = cur_empty && ring_arm(w, true);
    if (disp_idle && cur_idle) {
        red_timer_cancel(w->poll_timer);
    } else {
        red_timer_start(w->poll_timer, 0);
    }
}

static void poll_timer_cb(void *opaque)
{
    worker_poll(opaque);
}

/* ---- dispatcher messages ---- */

static void async_done(RedWorker *w, const WorkerMsgAsync *a)
{
    if (a->async) {
        w->qif->async_complete(w->qxl, a->cookie);
    }
}

/* Writes the surface's dirty region into rects (at most n entries): when it
 * has more rectangles than that, the first entry is the region's extents
 * so nothing dirty is lost. Unused entries are zeroed (QEMU stops at the
 * first empty one). Returns the number written. */
static uint32_t dirty_to_rects(RedSurface *s, QXLRect *rects, uint32_t n, bool clear)
{
    pixman_region32_t *dirty = red_dirty_get(&s->dirty);
    int nr = 0;
    pixman_box32_t *boxes = pixman_region32_rectangles(dirty, &nr);
    uint32_t out = 0;
    if (n) {
        memset(rects, 0, sizeof(QXLRect) * n);
    }
    if ((uint32_t)nr <= n) {
        for (int i = 0; i < nr; i++) {
            rects[i] = (QXLRect){ .top = boxes[i].y1, .left = boxes[i].x1,
                                  .bottom = boxes[i].y2, .right = boxes[i].x2 };
        }
        out = (uint32_t)nr;
    } else if (n) {
        pixman_box32_t *e = pixman_region32_extents(dirty);
        rects[0] = (QXLRect){ .top = e->y1, .left = e->x1, .bottom = e->y2, .right = e->x2 };
        out = 1;
    }
    if (clear) {
        red_dirty_clear(&s->dirty);
    }
    return out;
}

static void handle_update_area(RedWorker *w, const WorkerMsgUpdateArea *m, QXLRect *reply,
                               size_t reply_size)
{
    drain_rings(w);
    RedSurface *s = surface_get_live(w, m->surface_id);
    if (!s) {
        red_guest_bug("update_area of missing surface %u", m->surface_id);
        async_done(w, &m->a);
        return;
    }
    pixman_box32_t area = { m->area.left, m->area.top, m->area.right, m->area.bottom };
    tree_render_area(w, s, &area);
    if (m->a.async) {
        int nr = pixman_region32_n_rects(red_dirty_get(&s->dirty));
        uint32_t n = (uint32_t)MAX(nr, 1);
        QXLRect *rects = g_new0(QXLRect, n);
        uint32_t got = dirty_to_rects(s, rects, n, m->clear_dirty_region);
        w->qif->update_area_complete(w->qxl, m->surface_id, rects, got);
        g_free(rects);
        async_done(w, &m->a);
    } else {
        uint32_t n = (uint32_t)MIN(m->num_dirty_rects, reply_size / sizeof(QXLRect));
        dirty_to_rects(s, reply, n, m->clear_dirty_region);
    }
}

static void handle_add_memslot(RedWorker *w, const WorkerMsgMemslot *m)
{
    const QXLDevMemSlot *s = &m->slot;
    MemSlotError e = memslot_add(w->slots, s->slot_group_id, s->slot_id, s->generation,
                                 s->virt_start, s->virt_end, s->addr_delta);
    if (e != MEMSLOT_OK) {
        red_guest_bug("add_memslot group %u slot %u: %s", s->slot_group_id, s->slot_id,
                      memslot_strerror(e));
    }
    async_done(w, &m->a);
}

static void handle_create_primary(RedWorker *w, const WorkerMsgSurface *m)
{
    const QXLDevSurfaceCreate *c = &m->create;
    if (m->surface_id != 0) {
        red_guest_bug("create_primary_surface with id %u", m->surface_id);
        async_done(w, &m->a);
        return;
    }
    RedPrimaryRequest req = {
        .width = c->width, .height = c->height, .stride = c->stride, .format = c->format,
        .position = c->position, .mouse_mode = c->mouse_mode, .flags = c->flags,
        .type = c->type, .mem = c->mem, .group_id = c->group_id,
    };
    RedPrimarySurface p;
    GError *err = NULL;
    if (!red_parse_primary(&w->parse_ctx, &req, &p, &err)) {
        log_parse_error(err);
        g_clear_error(&err);
    } else {
        QXLReleaseInfoExt none = { 0 };
        surface_create(w, 0, p.width, p.height, p.stride, p.format, p.mem, p.mem_size,
                       p.flags & QXL_SURF_FLAG_KEEP_DATA, true, none);
    }
    async_done(w, &m->a);
}

static void handle_destroy_primary(RedWorker *w, const WorkerMsgSurface *m)
{
    RedSurface *s = surface_get_live(w, 0);
    if (m->surface_id != 0 || !s || !s->primary) {
        red_guest_bug("destroy_primary_surface(%u) without a primary", m->surface_id);
    } else {
        drain_rings(w);
        QXLReleaseInfoExt none = { 0 };
        surface_destroy(w, s, none);
        /* As upstream: the cursor goes with the primary. */
        cursor_reset(w);
    }
    async_done(w, &m->a);
}

static void handle_destroy_surface_wait(RedWorker *w, const WorkerMsgSurface *m)
{
    if (m->surface_id >= w->n_surfaces) {
        red_guest_bug("destroy_surface_wait(%u): no such surface", m->surface_id);
        async_done(w, &m->a);
        return;
    }
    /* The guest's destroy command is normally still on the ring. */
    drain_rings(w);
    RedSurface *s = &w->surfaces[m->surface_id];
    if (s->refs) {
        tree_render_readers(w, s, NULL);
        if (s->live) {
            tree_render_until(w, s, g_queue_peek_tail(&s->pending));
        } else {
            tree_drop_surface(w, s);
        }
    }
    w->qif->flush_resources(w->qxl);
    async_done(w, &m->a);
}

static void handle_destroy_surfaces(RedWorker *w, const WorkerMsgAsync *a)
{
    drain_rings(w);
    surfaces_destroy_all(w);
    cursor_reset(w);
    async_done(w, a);
}

static void handle_flush_surfaces(RedWorker *w, const WorkerMsgAsync *a)
{
    drain_rings(w);
    tree_render_all(w);
    async_done(w, a);
}

static void handle_oom(RedWorker *w)
{
    worker_drain_display(w, RED_WORKER_DRAIN_MAX);
    tree_render_all(w);
    w->qif->flush_resources(w->qxl);
}

static void handle_loadvm(RedWorker *w, const WorkerMsgLoadvm *m, size_t size)
{
    uint32_t count = m->count;
    if (size < sizeof(*m) || (size - sizeof(*m)) / sizeof(QXLCommandExt) < count) {
        g_assert_not_reached();
    }
    for (uint32_t i = 0; i < count; i++) {
        const QXLCommandExt *ext = &m->cmds[i];
        if (ext->cmd.type == QXL_CMD_CURSOR) {
            process_cursor_cmd(w, ext);
        } else {
            process_display_cmd(w, ext, true);
        }
    }
}

static void handle_stop(RedWorker *w)
{
    if (!w->running) {
        return;
    }
    /* Savevm and migration read the surfaces from guest memory: render
     * everything pending before reporting the stop. */
    tree_render_all(w);
    w->running = false;
    red_timer_cancel(w->poll_timer);
}

static void handle_start(RedWorker *w)
{
    if (w->running) {
        return;
    }
    w->running = true;
    w->display_waiting = w->cursor_waiting = false;
}

/* Releases everything the worker holds (worker thread, before exit). */
static void worker_shutdown(RedWorker *w)
{
    /* No ring is read from here on. */
    w->running = false;
    worker_channels_close(w);
    surfaces_destroy_all(w);
    cursor_reset(w);
    red_timer_remove(w->poll_timer);
    w->poll_timer = NULL;
    red_watch_remove(w->dispatcher_watch);
    w->dispatcher_watch = NULL;
    g_main_loop_quit(w->main_loop);
}

static void handle_message(void *opaque, uint32_t type, void *payload, size_t size,
                           void *reply, size_t reply_size)
{
    RedWorker *w = opaque;
    switch ((WorkerMsgType)type) {
    case WORKER_MSG_WAKEUP:
        /* The rings are polled after the batch (dispatcher_watch_cb). */
        w->display_waiting = w->cursor_waiting = false;
        break;
    case WORKER_MSG_OOM:
        handle_oom(w);
        break;
    case WORKER_MSG_START:
        handle_start(w);
        break;
    case WORKER_MSG_STOP:
        handle_stop(w);
        break;
    case WORKER_MSG_UPDATE_AREA:
        handle_update_area(w, payload, reply, reply_size);
        break;
    case WORKER_MSG_ADD_MEMSLOT:
        handle_add_memslot(w, payload);
        break;
    case WORKER_MSG_DEL_MEMSLOT: {
        const WorkerMsgDelMemslot *m = payload;
        MemSlotError e = memslot_del(w->slots, m->group_id, m->slot_id);
        if (e != MEMSLOT_OK) {
            red_guest_bug("del_memslot group %u slot %u: %s", m->group_id, m->slot_id,
                          memslot_strerror(e));
        }
        break;
    }
    case WORKER_MSG_RESET_MEMSLOTS:
        memslot_reset(w->slots);
        break;
    case WORKER_MSG_DESTROY_SURFACES:
        handle_destroy_surfaces(w, payload);
        break;
    case WORKER_MSG_CREATE_PRIMARY:
        handle_create_primary(w, payload);
        break;
    case WORKER_MSG_DESTROY_PRIMARY:
        handle_destroy_primary(w, payload);
        break;
    case WORKER_MSG_DESTROY_SURFACE_WAIT:
        handle_destroy_surface_wait(w, payload);
        break;
    case WORKER_MSG_FLUSH_SURFACES:
        handle_flush_surfaces(w, payload);
        break;
    case WORKER_MSG_RESET_IMAGE_CACHE:
        /* Rendering keeps no image cache; the clients' pixmap caches are
         * emptied. */
        display_channel_reset(w->display_channel);
        break;
    case WORKER_MSG_RESET_CURSOR:
        cursor_reset(w);
        cursor_channel_reset(w->cursor_channel);
        break;
    case WORKER_MSG_LOADVM_COMMANDS:
        handle_loadvm(w, payload, size);
        break;
    case WORKER_MSG_MONITORS_CONFIG: {
        const WorkerMsgMonitorsConfig *m = payload;
        worker_monitors_config(w, m->addr, m->group_id);
        async_done(w, &m->a);
        break;
    }
    case WORKER_MSG_DRIVER_UNLOAD:
        w->driver_unloaded = true;
        g_clear_pointer(&w->monitors_config, g_free);
        break;
    case WORKER_MSG_SET_DEVICE_INFO: {
        const WorkerMsgDeviceInfo *m = payload;
        memcpy(w->device_address, m->device_address, sizeof(w->device_address));
        w->device_address[sizeof(w->device_address) - 1] = '\0';
        w->display_id_start = m->display_id_start;
        w->display_id_count = m->display_id_count;
        break;
    }
    case WORKER_MSG_SET_MAX_MONITORS: {
        const WorkerMsgU32 *m = payload;
        w->max_monitors = MAX(m->value, 1u);
        break;
    }
    case WORKER_MSG_GL_DRAW:
        /* No GL scanout support: complete so the device is not stuck. */
        async_done(w, payload);
        break;
    case WORKER_MSG_CONFIG_CHANGED: {
        const WorkerMsgConfig *m = payload;
        display_channel_set_streaming_video(w->display_channel, m->streaming_video);
        display_channel_set_compression(w->display_channel, m->image_compression, m->jpeg_state,
                                        m->zlib_glz_state);
        break;
    }
    case WORKER_MSG_MOUSE_MODE: {
        const WorkerMsgU32 *m = payload;
        w->mouse_mode = m->value;
        cursor_channel_set_mouse_mode(w->cursor_channel, m->value);
        break;
    }
    case WORKER_MSG_CLOSE_CHANNELS:
        worker_channels_close(w);
        break;
    case WORKER_MSG_RUN_FUNC: {
        const WorkerMsgRunFunc *m = payload;
        m->func(m->data);
        break;
    }
    case WORKER_MSG_QUIT:
        worker_shutdown(w);
        break;
    case WORKER_MSG_COUNT:
    default:
        g_assert_not_reached();
    }
}

static void dispatcher_watch_cb(int fd, int event, void *opaque)
{
    (void)fd;
    (void)event;
    RedWorker *w = opaque;
    dispatcher_dispatch(w->dispatcher);
    /* A handler may have drained a ring (update_area, destroy_surface_wait,
     * ...), leaving it empty but not armed, or a wakeup came: poll now so
     * the worker never sleeps on an unarmed ring. */
    if (w->running && (!w->display_waiting || !w->cursor_waiting)) {
        worker_poll(w);
    }
}

static gpointer worker_thread(gpointer opaque)
{
    RedWorker *w = opaque;
    g_main_context_push_thread_default(w->ctx);
    dispatcher_set_receiver(w->dispatcher);
    w->dispatcher_watch = red_watch_add(w->loop, dispatcher_get_fd(w->dispatcher),
                                        RED_WATCH_READ, dispatcher_watch_cb, w);
    w->poll_timer = red_timer_add(w->loop, poll_timer_cb, w);
    g_main_loop_run(w->main_loop);
    g_main_context_pop_thread_default(w->ctx);
    return NULL;
}

RedWorker *red_worker_new(RedsState *reds, QXLInstance *qxl, const QXLDevInitInfo *info,
                          GError **err)
{
    const char *why = NULL;
    MemSlotTable *slots = memslot_table_new(info->num_memslots_groups, info->num_memslots,
                                            info->memslot_gen_bits, info->memslot_id_bits,
                                            info->internal_groupslot_id, &why);
    if (!slots) {
        g_set_error(err, RED_WORKER_ERROR, 0,
                    "qxl-%d: unusable memslot geometry: %s", qxl->id, why);
        return NULL;
    }
    RedWorker *w = g_new0(RedWorker, 1);
    w->reds = reds;
    w->qxl = qxl;
    w->qif = (const QXLInterface *)qxl->base.sif;
    w->info = *info;
    w->n_surfaces = CLAMP(info->n_surfaces, 1u, RED_WORKER_MAX_SURFACES);
    w->slots = slots;
    w->parse_ctx.slots = slots;
    w->parse_ctx.n_surfaces = w->n_surfaces;
    w->max_pending = (uint32_t)env_u64(RED_WORKER_ENV_MAX_PENDING,
                                       RED_WORKER_DEFAULT_MAX_PENDING, 1, 1u << 20);
    w->max_pending_bytes = (size_t)env_u64(RED_WORKER_ENV_MAX_PENDING_BYTES,
                                           RED_WORKER_DEFAULT_MAX_PENDING_BYTES,
                                           1u << 16, UINT64_C(1) << 34);
    w->max_monitors = RED_WORKER_MAX_MONITORS;
    g_queue_init(&w->pending);
    surfaces_init(w);
    w->dispatcher = dispatcher_new(handle_message, w);
    if (!w->dispatcher) {
        g_set_error(err, RED_WORKER_ERROR, 1, "qxl-%d: no eventfd", qxl->id);
        red_worker_free(w);
        return NULL;
    }
    w->ctx = g_main_context_new();
    w->main_loop = g_main_loop_new(w->ctx, FALSE);
    w->loop = red_loop_new_glib(w->ctx);
    worker_channels_create(w);
    return w;
}

bool red_worker_start_thread(RedWorker *w, GError **err)
{
    char name[32];
    g_snprintf(name, sizeof(name), "spice-qxl-%d", w->qxl->id);
    w->thread = g_thread_try_new(name, worker_thread, w, err);
    return w->thread != NULL;
}

void red_worker_free(RedWorker *w)
{
    if (!w) {
        return;
    }
    if (w->thread) {
        dispatcher_call(w->dispatcher, WORKER_MSG_QUIT, NULL, 0, NULL, 0);
        g_thread_join(w->thread);
        w->thread = NULL;
    }
    worker_channels_destroy(w);
    surfaces_fini(w);
    cursor_reset(w);
    g_free(w->monitors_config);
    red_loop_free(w->loop);
    if (w->main_loop) {
        g_main_loop_unref(w->main_loop);
    }
    if (w->ctx) {
        g_main_context_unref(w->ctx);
    }
    dispatcher_free(w->dispatcher);
    memslot_table_free(w->slots);
    g_free(w);
}

Dispatcher *red_worker_get_dispatcher(RedWorker *w)
{
    return w->dispatcher;
}

RedChannel *red_worker_get_display_channel(RedWorker *w)
{
    return w->display_channel;
}

RedChannel *red_worker_get_cursor_channel(RedWorker *w)
{
    return w->cursor_channel;
}

void red_worker_post_func(RedWorker *w, void (*func)(void *data), void *data)
{
    WorkerMsgRunFunc m = { .func = func, .data = data };
    dispatcher_post(w->dispatcher, WORKER_MSG_RUN_FUNC, &m, sizeof(m));
}
