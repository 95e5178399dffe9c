/* Fake QXL device for the worker tests; see fake-device.h.
 *
 * Locking: FakeDev.lock guards the queues, the tracking tables and the
 * counters; cond is broadcast on every release and completion. The server's
 * wakeup is called without the lock (it only posts a message).
 */
#include "fake-device.h"

#include <string.h>
#include <sys/mman.h>

#include "core-loop.h"

static FakeDev *dev_of(QXLInstance *qin)
{
    return (FakeDev *)qin;
}

/* Called with lock held: counts callbacks made outside the worker. */
static void check_thread(FakeDev *d)
{
    if (!d->worker) {
        d->worker = g_thread_self();
    } else if (d->worker != g_thread_self()) {
        d->wrong_thread++;
    }
}

static void cb_attach(QXLInstance *qin, QXLWorker *w)
{
    (void)qin;
    (void)w;
}

static void cb_set_compression_level(QXLInstance *qin, int level)
{
    (void)qin;
    (void)level;
}

static void cb_get_init_info(QXLInstance *qin, QXLDevInitInfo *info)
{
    FakeDev *d = dev_of(qin);
    memset(info, 0, sizeof(*info));
    info->num_memslots_groups = 2;
    info->num_memslots = 8;
    info->memslot_gen_bits = 8;
    info->memslot_id_bits = 8;
    info->qxl_ram_size = (uint32_t)d->size;
    info->internal_groupslot_id = 0;
    info->n_surfaces = d->n_surfaces;
}

static int pop(FakeDev *d, GQueue *q, QXLCommandExt *out)
{
    g_mutex_lock(&d->lock);
    check_thread(d);
    QXLCommandExt *e = g_queue_pop_head(q);
    g_mutex_unlock(&d->lock);
    if (!e) {
        return 0;
    }
    *out = *e;
    g_free(e);
    return 1;
}

static int cb_get_command(QXLInstance *qin, QXLCommandExt *cmd)
{
    FakeDev *d = dev_of(qin);
    return pop(d, &d->cmds, cmd);
}

static int cb_get_cursor_command(QXLInstance *qin, QXLCommandExt *cmd)
{
    FakeDev *d = dev_of(qin);
    return pop(d, &d->cursor_cmds, cmd);
}

static int req_notification(FakeDev *d, GQueue *q, bool *flag)
{
    g_mutex_lock(&d->lock);
    check_thread(d);
    d->req_notifications++;
    int empty = g_queue_is_empty(q);
    *flag = empty;
    g_mutex_unlock(&d->lock);
    return empty;
}

static int cb_req_cmd_notification(QXLInstance *qin)
{
    FakeDev *d = dev_of(qin);
    return req_notification(d, &d->cmds, &d->notify_cmd);
}

static int cb_req_cursor_notification(QXLInstance *qin)
{
    FakeDev *d = dev_of(qin);
    return req_notification(d, &d->cursor_cmds, &d->notify_cursor);
}

static void cb_release_resource(QXLInstance *qin, QXLReleaseInfoExt rel)
{
    FakeDev *d = dev_of(qin);
    g_mutex_lock(&d->lock);
    check_thread(d);
    uint8_t *p = (uint8_t *)rel.info;
    uint64_t id = 0;
    if (p < d->mem || p + sizeof(QXLReleaseInfo) > d->mem + d->size) {
        d->bad_releases++;
    } else if ((id = rel.info->id) == 0 || id >= FAKE_MAX_TRACKED || d->state[id] != 1 ||
               d->group_of[id] != rel.group_id) {
        d->bad_releases++;
    } else {
        d->state[id] = 2;
        d->released++;
        d->unflushed++;
    }
    g_cond_broadcast(&d->cond);
    g_mutex_unlock(&d->lock);
}

static void cb_notify_update(QXLInstance *qin, uint32_t update_id)
{
    FakeDev *d = dev_of(qin);
    g_mutex_lock(&d->lock);
    check_thread(d);
    g_array_append_val(d->notified_updates, update_id);
    g_cond_broadcast(&d->cond);
    g_mutex_unlock(&d->lock);
}

static int cb_flush_resources(QXLInstance *qin)
{
    FakeDev *d = dev_of(qin);
    g_mutex_lock(&d->lock);
    check_thread(d);
    d->flush_calls++;
    int n = (int)d->unflushed;
    d->unflushed = 0;
    g_mutex_unlock(&d->lock);
    return n;
}

static void cb_async_complete(QXLInstance *qin, uint64_t cookie)
{
    FakeDev *d = dev_of(qin);
    g_mutex_lock(&d->lock);
    check_thread(d);
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(d->cookies, &cookie));
    uint64_t *key = g_memdup2(&cookie, sizeof(cookie));
    g_hash_table_replace(d->cookies, key, GUINT_TO_POINTER(n + 1));
    d->completions++;
    g_cond_broadcast(&d->cond);
    g_mutex_unlock(&d->lock);
}

static void cb_update_area_complete(QXLInstance *qin, uint32_t surface_id, QXLRect *rects,
                                    uint32_t n)
{
    FakeDev *d = dev_of(qin);
    g_mutex_lock(&d->lock);
    check_thread(d);
    d->update_area_completes++;
    d->last_update_surface = surface_id;
    d->last_n_rects = MIN(n, G_N_ELEMENTS(d->last_rects));
    memcpy(d->last_rects, rects, d->last_n_rects * sizeof(QXLRect));
    g_mutex_unlock(&d->lock);
}

FakeDev *fake_dev_new(uint32_t n_surfaces, size_t size)
{
    FakeDev *d = g_new0(FakeDev, 1);
    d->n_surfaces = n_surfaces;
    d->size = size;
    d->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    g_assert(d->mem != MAP_FAILED);
    d->used = 64;               /* keep offset 0 unused: a NULL-looking address */
    d->next_id = 1;
    g_mutex_init(&d->lock);
    g_cond_init(&d->cond);
    g_queue_init(&d->cmds);
    g_queue_init(&d->cursor_cmds);
    d->cookies = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    d->notified_updates = g_array_new(FALSE, FALSE, sizeof(uint32_t));

    d->qif.base.type = SPICE_INTERFACE_QXL;
    d->qif.base.description = "fake qxl";
    d->qif.base.major_version = SPICE_INTERFACE_QXL_MAJOR;
    d->qif.base.minor_version = SPICE_INTERFACE_QXL_MINOR;
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    d->qif.attache_worker = cb_attach;
    G_GNUC_END_IGNORE_DEPRECATIONS
    d->qif.set_compression_level = cb_set_compression_level;
    d->qif.get_init_info = cb_get_init_info;
    d->qif.get_command = cb_get_command;
    d->qif.req_cmd_notification = cb_req_cmd_notification;
    d->qif.release_resource = cb_release_resource;
    d->qif.get_cursor_command = cb_get_cursor_command;
    d->qif.req_cursor_notification = cb_req_cursor_notification;
    d->qif.notify_update = cb_notify_update;
    d->qif.flush_resources = cb_flush_resources;
    d->qif.async_complete = cb_async_complete;
    d->qif.update_area_complete = cb_update_area_complete;
    d->qxl.base.sif = &d->qif.base;
    d->qxl.id = 0;

    d->ctx = g_main_context_new();
    d->core = embedder_core_new(d->ctx);
    d->server = spice_server_new();
    spice_server_set_noauth(d->server);
    g_assert_cmpint(spice_server_init(d->server, d->core), ==, 0);
    g_assert_cmpint(spice_server_add_interface(d->server, &d->qxl.base), ==, 0);
    spice_server_vm_start(d->server);

    QXLDevMemSlot slot = {
        .slot_group_id = FAKE_GROUP, .slot_id = FAKE_SLOT, .generation = 0,
        .virt_start = (uintptr_t)d->mem, .virt_end = (uintptr_t)d->mem + size,
        .addr_delta = (uintptr_t)d->mem, .qxl_ram_size = (uint32_t)size,
    };
    spice_qxl_add_memslot(&d->qxl, &slot);
    return d;
}

void fake_dev_free(FakeDev *d)
{
    spice_server_remove_interface(&d->qxl.base);
    spice_server_destroy(d->server);
    embedder_core_free(d->core);
    g_main_context_unref(d->ctx);
    QXLCommandExt *e;
    while ((e = g_queue_pop_head(&d->cmds))) {
        g_free(e);
    }
    while ((e = g_queue_pop_head(&d->cursor_cmds))) {
        g_free(e);
    }
    g_hash_table_unref(d->cookies);
    g_array_unref(d->notified_updates);
    munmap(d->mem, d->size);
    g_cond_clear(&d->cond);
    g_mutex_clear(&d->lock);
    g_free(d);
}

QXLPHYSICAL fake_phys(FakeDev *d, const void *host)
{
    uint64_t off = (uint64_t)((const uint8_t *)host - d->mem);
    return ((uint64_t)FAKE_SLOT << 56) | off;
}

void *fake_alloc(FakeDev *d, size_t n, QXLPHYSICAL *phys)
{
    size_t at = (d->used + 7) & ~(size_t)7;
    g_assert_cmpuint(at + n, <=, d->size);
    d->used = at + n;
    memset(d->mem + at, 0, n);
    if (phys) {
        *phys = fake_phys(d, d->mem + at);
    }
    return d->mem + at;
}

void fake_track(FakeDev *d, QXLReleaseInfo *info)
{
    g_mutex_lock(&d->lock);
    g_assert_cmpuint(d->next_id, <, FAKE_MAX_TRACKED);
    uint32_t id = d->next_id++;
    d->state[id] = 1;
    d->group_of[id] = FAKE_GROUP;
    d->submitted++;
    g_mutex_unlock(&d->lock);
    info->id = id;
}

void fake_push(FakeDev *d, bool cursor, QXLPHYSICAL addr, uint32_t type)
{
    QXLCommandExt *e = g_new0(QXLCommandExt, 1);
    e->cmd.data = addr;
    e->cmd.type = type;
    e->group_id = FAKE_GROUP;
    g_mutex_lock(&d->lock);
    g_queue_push_tail(cursor ? &d->cursor_cmds : &d->cmds, e);
    bool *flag = cursor ? &d->notify_cursor : &d->notify_cmd;
    bool wake = *flag;
    *flag = false;
    g_mutex_unlock(&d->lock);
    if (wake) {
        spice_qxl_wakeup(&d->qxl);
    }
}

bool fake_wait_all_released(FakeDev *d)
{
    gint64 end = g_get_monotonic_time() + FAKE_WAIT_US;
    g_mutex_lock(&d->lock);
    while (d->released < d->submitted) {
        if (!g_cond_wait_until(&d->cond, &d->lock, end)) {
            break;
        }
    }
    bool ok = d->released == d->submitted;
    g_mutex_unlock(&d->lock);
    return ok;
}

unsigned fake_wait_cookie(FakeDev *d, uint64_t cookie)
{
    gint64 end = g_get_monotonic_time() + FAKE_WAIT_US;
    g_mutex_lock(&d->lock);
    guint n;
    while (!(n = GPOINTER_TO_UINT(g_hash_table_lookup(d->cookies, &cookie)))) {
        if (!g_cond_wait_until(&d->cond, &d->lock, end)) {
            break;
        }
    }
    g_mutex_unlock(&d->lock);
    return n;
}

uint64_t fake_outstanding(FakeDev *d)
{
    g_mutex_lock(&d->lock);
    uint64_t n = d->submitted - d->released;
    g_mutex_unlock(&d->lock);
    return n;
}

uint8_t *fake_create_primary(FakeDev *d, uint32_t w, uint32_t h, bool bottom_up,
                             int32_t *stride_out)
{
    QXLPHYSICAL phys;
    uint8_t *mem = fake_alloc(d, (size_t)w * h * 4, &phys);
    int32_t stride = (int32_t)w * 4;
    QXLDevSurfaceCreate c = {
        .width = w, .height = h, .stride = bottom_up ? -stride : stride,
        .format = SPICE_SURFACE_FMT_32_xRGB, .mouse_mode = 1, .mem = phys,
        .group_id = FAKE_GROUP,
    };
    spice_qxl_create_primary_surface(&d->qxl, 0, &c);
    *stride_out = c.stride;
    return bottom_up ? mem + (size_t)(h - 1) * (size_t)stride : mem;
}

QXLDrawable *fake_drawable(FakeDev *d, uint32_t surface_id, uint8_t type,
                           int32_t l, int32_t t, int32_t r, int32_t b, QXLPHYSICAL *phys)
{
    QXLDrawable *dr = fake_alloc(d, sizeof(*dr), phys);
    fake_track(d, &dr->release_info);
    dr->surface_id = surface_id;
    dr->effect = QXL_EFFECT_OPAQUE;
    dr->type = type;
    dr->bbox = (QXLRect){ .top = t, .left = l, .bottom = b, .right = r };
    dr->clip.type = SPICE_CLIP_TYPE_NONE;
    for (int i = 0; i < 3; i++) {
        dr->surfaces_dest[i] = -1;
    }
    return dr;
}

QXLPHYSICAL fake_image(FakeDev *d, uint32_t w, uint32_t h, const uint32_t *pixels)
{
    QXLPHYSICAL phys, data;
    QXLImage *img = fake_alloc(d, sizeof(QXLImageDescriptor) + sizeof(QXLBitmap), &phys);
    uint32_t *px = fake_alloc(d, (size_t)w * h * 4, &data);
    memcpy(px, pixels, (size_t)w * h * 4);
    img->descriptor.type = SPICE_IMAGE_TYPE_BITMAP;
    img->descriptor.width = w;
    img->descriptor.height = h;
    img->bitmap.format = SPICE_BITMAP_FMT_32BIT;
    img->bitmap.flags = QXL_BITMAP_DIRECT | QXL_BITMAP_TOP_DOWN;
    img->bitmap.x = w;
    img->bitmap.y = h;
    img->bitmap.stride = w * 4;
    img->bitmap.data = data;
    return phys;
}

QXLPHYSICAL fake_surface_image(FakeDev *d, uint32_t surface_id)
{
    QXLPHYSICAL phys;
    QXLImage *img = fake_alloc(d, sizeof(QXLImageDescriptor) + sizeof(QXLSurfaceId), &phys);
    img->descriptor.type = SPICE_IMAGE_TYPE_SURFACE;
    img->surface_image.surface_id = surface_id;
    return phys;
}

QXLPHYSICAL fake_surface_create(FakeDev *d, uint32_t id, uint32_t w, uint32_t h, uint8_t **mem)
{
    QXLPHYSICAL phys, data;
    QXLSurfaceCmd *c = fake_alloc(d, sizeof(*c), &phys);
    fake_track(d, &c->release_info);
    *mem = fake_alloc(d, (size_t)w * h * 4, &data);
    c->surface_id = id;
    c->type = QXL_SURFACE_CMD_CREATE;
    c->u.surface_create.format = SPICE_SURFACE_FMT_32_xRGB;
    c->u.surface_create.width = w;
    c->u.surface_create.height = h;
    c->u.surface_create.stride = (int32_t)w * 4;
    c->u.surface_create.data = data;
    return phys;
}

QXLPHYSICAL fake_surface_destroy(FakeDev *d, uint32_t id)
{
    QXLPHYSICAL phys;
    QXLSurfaceCmd *c = fake_alloc(d, sizeof(*c), &phys);
    fake_track(d, &c->release_info);
    c->surface_id = id;
    c->type = QXL_SURFACE_CMD_DESTROY;
    return phys;
}

QXLPHYSICAL fake_update_cmd(FakeDev *d, uint32_t surface_id, QXLRect area, uint32_t update_id)
{
    QXLPHYSICAL phys;
    QXLUpdateCmd *c = fake_alloc(d, sizeof(*c), &phys);
    fake_track(d, &c->release_info);
    c->surface_id = surface_id;
    c->area = area;
    c->update_id = update_id;
    return phys;
}

QXLPHYSICAL fake_cursor_cmd(FakeDev *d, uint8_t type)
{
    QXLPHYSICAL phys, shape_phys;
    QXLCursorCmd *c = fake_alloc(d, sizeof(*c), &phys);
    fake_track(d, &c->release_info);
    c->type = type;
    if (type == QXL_CURSOR_SET) {
        /* 2x2 ALPHA cursor: header + 16 bytes of pixels in one chunk. */
        QXLCursor *cur = fake_alloc(d, sizeof(QXLCursor) + 16, &shape_phys);
        cur->header.type = SPICE_CURSOR_TYPE_ALPHA;
        cur->header.width = 2;
        cur->header.height = 2;
        cur->data_size = 16;
        cur->chunk.data_size = 16;
        c->u.set.shape = shape_phys;
        c->u.set.visible = 1;
    } else if (type == QXL_CURSOR_MOVE) {
        c->u.position.x = 5;
        c->u.position.y = 6;
    }
    return phys;
}

QXLPHYSICAL fake_clip(FakeDev *d, const QXLRect *rects, uint32_t n)
{
    QXLPHYSICAL phys;
    QXLClipRects *c = fake_alloc(d, sizeof(*c) + n * sizeof(QXLRect), &phys);
    c->num_rects = n;
    c->chunk.data_size = n * (uint32_t)sizeof(QXLRect);
    memcpy(c->chunk.data, rects, n * sizeof(QXLRect));
    return phys;
}
