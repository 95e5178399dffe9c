/* Guest driver side of qxl-emu; see guest.h.  Single-threaded (vCPU). */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <spice/barrier.h>
#include <spice/ipc_ring.h>

/* ipc_ring.h's item macros take addresses inside packed rings.  QXLRam is
 * page-aligned here and every ring element sits at its natural alignment. */
#pragma GCC diagnostic ignored "-Waddress-of-packed-member"

#include "tools/qxl-emu/alloc.h"
#include "tools/qxl-emu/guest.h"
#include "tools/qxl-emu/qxl-emu-priv.h"

#define MAX_ALLOCS 4
#define OOM_WAIT_US 20000       /* one NOTIFY_OOM round */

enum { BAR_RAM, BAR_VRAM };

typedef struct GuestAllocRef {
    uint8_t bar;
    uint64_t off, size;
} GuestAllocRef;

/* One submitted command and everything it keeps alive until released. */
typedef struct GuestCmd {
    uint64_t off;               /* the command (its QXLReleaseInfo) in RAM */
    uint32_t type;              /* QXL_CMD_* */
    unsigned n_allocs;
    GuestAllocRef allocs[MAX_ALLOCS];  /* [0] is the command itself */
    uint32_t surface_to_free;   /* create command: surface id freed on release */
} GuestCmd;

typedef struct GuestSource {
    GSource base;
    QxlGuest *g;
    gpointer fd_tag;
} GuestSource;

struct QxlGuest {
    QxlEmu *emu;                /* not owned */
    GMainContext *ctx;          /* ref held */
    GuestSource *source;        /* irq eventfd + wait deadline; owned */
    int64_t timeout_us;
    char *error;                /* first failure, owned */
    QxlAlloc mem;               /* command pages in RAM */
    QxlAlloc vram;              /* surfaces */
    uint32_t width, height;
    int32_t stride;
    bool primary;
    uint8_t *surface_used;      /* n_surfaces entries: 0 free, 1 in use (until released) */
    uint32_t next_surface;
    uint64_t monitors_off;      /* persistent QXLMonitorsConfig, 0 if none */
    uint64_t mem_limit;         /* bytes of command memory allowed, 0 = the whole bar */
    QxlGuestStats stats;
};

static bool fail(QxlGuest *g, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool fail(QxlGuest *g, const char *fmt, ...)
{
    va_list ap;

    if (!g->error) {
        va_start(ap, fmt);
        g->error = g_strdup_vprintf(fmt, ap);
        va_end(ap);
    }
    return false;
}

static QXLPHYSICAL phys(uint8_t bar, uint64_t off)
{
    uint64_t slot = bar == BAR_RAM ? QXL_EMU_SLOT_RAM : QXL_EMU_SLOT_VRAM;

    return (slot << (64 - QXL_EMU_MEMSLOT_ID_BITS)) | off;
}

static uint8_t *ram_ptr(QxlGuest *g, uint64_t off)
{
    return g->emu->ram + off;
}

/* ---- waiting ------------------------------------------------------------- */

static gboolean source_dispatch(GSource *base, GSourceFunc cb, gpointer data)
{
    GuestSource *src = (GuestSource *)base;
    uint64_t n;

    g_source_set_ready_time(base, -1);
    if (g_source_query_unix_fd(base, src->fd_tag) & G_IO_IN) {
        if (read(qxl_emu_irq_fd(src->g->emu), &n, sizeof(n)) == sizeof(n)) {
            src->g->stats.irqs++;
        }
        /* The guest re-checks ring and IO state itself; clearing the bits
         * plays the ISR + QXL_IO_UPDATE_IRQ. */
        qxl_emu_take_irq(src->g->emu);
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs source_funcs = {
    .dispatch = source_dispatch,
};

typedef bool (*WaitCond)(QxlGuest *g, void *arg);

/* Iterates the main context until cond() holds or `timeout_us` passes.
 * Wakeups come from the device interrupt eventfd, the deadline, or any
 * other source on the context (server timers and watches). */
static bool wait_for(QxlGuest *g, WaitCond cond, void *arg, int64_t timeout_us)
{
    int64_t deadline = g_get_monotonic_time() + timeout_us;

    while (!cond(g, arg)) {
        if (g_get_monotonic_time() >= deadline) {
            return false;
        }
        g_source_set_ready_time(&g->source->base, deadline);
        g_main_context_iteration(g->ctx, TRUE);
    }
    return true;
}

static bool cond_ring_has_space(QxlGuest *g, void *arg)
{
    QXLCommandRing *ring = arg;

    return !SPICE_RING_IS_FULL(ring);
}

static bool cond_rings_empty(QxlGuest *g, void *arg)
{
    return SPICE_RING_IS_EMPTY(&g->emu->ram_hdr->cmd_ring) &&
           SPICE_RING_IS_EMPTY(&g->emu->ram_hdr->cursor_ring);
}

static bool cond_release_ready(QxlGuest *g, void *arg)
{
    return !SPICE_RING_IS_EMPTY(&g->emu->ram_hdr->release_ring);
}

static bool cond_async_done(QxlGuest *g, void *arg)
{
    return !qxl_emu_async_pending(g->emu);
}

static bool cond_never(QxlGuest *g, void *arg)
{
    return false;
}

/* ---- releases and memory ------------------------------------------------- */

static void free_cmd(QxlGuest *g, GuestCmd *cmd)
{
    for (unsigned i = 0; i < cmd->n_allocs; i++) {
        GuestAllocRef *a = &cmd->allocs[i];
        qxl_alloc_put(a->bar == BAR_RAM ? &g->mem : &g->vram, a->off, a->size);
    }
    if (cmd->surface_to_free) {
        g->surface_used[cmd->surface_to_free] = 0;
    }
    g_free(cmd);
}

bool qxl_guest_collect(QxlGuest *g, unsigned *freed)
{
    QXLReleaseRing *ring = &g->emu->ram_hdr->release_ring;
    unsigned n = 0;
    int notify;

    while (!SPICE_RING_IS_EMPTY(ring)) {
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        uint64_t id = *SPICE_RING_CONS_ITEM(ring);
        SPICE_RING_POP(ring, notify);
        (void)notify;
        /* A chain is at most every tracked command; bound the walk. */
        for (unsigned guard = 0; id; guard++) {
            uint64_t next;
            GuestCmd *cmd = guard < (1u << 24) ? qxl_emu_track_collect(g->emu, id, &next) : NULL;
            if (!cmd) {
                if (freed) {
                    *freed = n;
                }
                return fail(g, "release ring names id 0x%" G_GINT64_MODIFIER "x the server "
                            "never released", id);
            }
            free_cmd(g, cmd);
            n++;
            id = next;
        }
    }
    g->stats.collected += n;
    if (freed) {
        *freed = n;
    }
    return true;
}

/* Reserves device memory, reclaiming like a driver under pressure: collect
 * the release ring, then ask the server (NOTIFY_OOM) and wait for releases,
 * until the guest timeout. */
static bool alloc_mem(QxlGuest *g, uint8_t bar, uint64_t size, GuestAllocRef *ref)
{
    QxlAlloc *a = bar == BAR_RAM ? &g->mem : &g->vram;
    int64_t deadline = g_get_monotonic_time() + g->timeout_us;
    bool asked = false;

    if (g->error) {
        return false;
    }
    if (size > a->size) {
        return fail(g, "allocation of %" G_GUINT64_FORMAT " bytes larger than the bar", size);
    }
    while ((bar == BAR_RAM && g->mem_limit && a->in_use + size > g->mem_limit) ||
           !qxl_alloc_get(a, size, &ref->off)) {
        unsigned freed;
        if (!qxl_guest_collect(g, &freed)) {
            return false;
        }
        if (freed) {
            continue;
        }
        if (g_get_monotonic_time() >= deadline) {
            return fail(g, "device memory exhausted: the server holds %u commands and "
                        "released none within %" G_GINT64_FORMAT " ms",
                        qxl_emu_outstanding(g->emu), g->timeout_us / 1000);
        }
        if (!asked) {
            g->stats.oom_rounds++;
            asked = true;
        }
        qxl_emu_io_write(g->emu, QXL_IO_NOTIFY_OOM, 0);
        int wait;
        SPICE_RING_CONS_WAIT(&g->emu->ram_hdr->release_ring, wait);
        if (wait) {
            wait_for(g, cond_release_ready, NULL, OOM_WAIT_US);
        }
    }
    ref->bar = bar;
    ref->size = size;
    g->stats.mem_peak = MAX(g->stats.mem_peak, g->mem.in_use);
    g->stats.vram_peak = MAX(g->stats.vram_peak, g->vram.in_use);
    return true;
}

/* Starts a command of `size` bytes in RAM whose first member is a
 * QXLReleaseInfo; zeroed, id set.  NULL on failure. */
static GuestCmd *cmd_new(QxlGuest *g, uint32_t type, uint64_t size, void **ptr)
{
    GuestCmd *cmd = g_new0(GuestCmd, 1);

    if (!alloc_mem(g, BAR_RAM, size, &cmd->allocs[0])) {
        g_free(cmd);
        return NULL;
    }
    cmd->n_allocs = 1;
    cmd->off = cmd->allocs[0].off;
    cmd->type = type;
    *ptr = ram_ptr(g, cmd->off);
    memset(*ptr, 0, size);
    ((QXLReleaseInfo *)*ptr)->id = cmd->off;
    return cmd;
}

/* Extra memory owned by `cmd` (images, clip lists, cursor shapes). */
static void *cmd_extra(QxlGuest *g, GuestCmd *cmd, uint8_t bar, uint64_t size,
                       QXLPHYSICAL *addr)
{
    g_assert(cmd->n_allocs < MAX_ALLOCS);
    GuestAllocRef *ref = &cmd->allocs[cmd->n_allocs];
    if (!alloc_mem(g, bar, size, ref)) {
        return NULL;
    }
    cmd->n_allocs++;
    *addr = phys(bar, ref->off);
    return (bar == BAR_RAM ? g->emu->ram : g->emu->vram) + ref->off;
}

static void cmd_abort(QxlGuest *g, GuestCmd *cmd)
{
    if (cmd) {
        cmd->surface_to_free = 0;
        free_cmd(g, cmd);
    }
}

/* Pushes the command on its ring, waiting (bounded) for space, and rings
 * the doorbell when the server asked for it. */
static bool cmd_submit(QxlGuest *g, GuestCmd *cmd, bool cursor)
{
    QXLCommandRing *ring = cursor ? (QXLCommandRing *)&g->emu->ram_hdr->cursor_ring
                                  : &g->emu->ram_hdr->cmd_ring;
    int wait, notify;

    SPICE_RING_PROD_WAIT(ring, wait);
    if (wait) {
        g->stats.ring_full_waits++;
        if (!wait_for(g, cond_ring_has_space, ring, g->timeout_us)) {
            cmd_abort(g, cmd);
            return fail(g, "%s ring stuck full for %" G_GINT64_FORMAT " ms: the server stopped "
                        "consuming", cursor ? "cursor" : "command", g->timeout_us / 1000);
        }
    }
    qxl_emu_track_submit(g->emu, cmd->off, cmd->type, cmd);
    QXLCommand *item = SPICE_RING_PROD_ITEM(ring);
    item->data = phys(BAR_RAM, cmd->off);
    item->type = cmd->type;
    item->padding = 0;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    SPICE_RING_PUSH(ring, notify);
    if (notify) {
        qxl_emu_io_write(g->emu, cursor ? QXL_IO_NOTIFY_CURSOR : QXL_IO_NOTIFY_CMD, 0);
    }
    return true;
}

/* ---- lifecycle ----------------------------------------------------------- */

QxlGuest *qxl_guest_new(QxlEmu *emu, GMainContext *ctx)
{
    QxlGuest *g = g_new0(QxlGuest, 1);

    g->emu = emu;
    g->ctx = g_main_context_ref(ctx);
    g->timeout_us = 10 * G_USEC_PER_SEC;
    qxl_alloc_init(&g->mem, emu->cfg.vgamem_size, emu->ram_header_offset - emu->cfg.vgamem_size);
    /* Offset 0 would read as "no surface"/"no id": start VRAM at 64. */
    qxl_alloc_init(&g->vram, QXL_ALLOC_ALIGN, emu->cfg.vram_size - QXL_ALLOC_ALIGN);
    g->surface_used = g_new0(uint8_t, emu->cfg.n_surfaces);
    g->next_surface = 1;

    g->source = (GuestSource *)g_source_new(&source_funcs, sizeof(GuestSource));
    g->source->g = g;
    g->source->fd_tag = g_source_add_unix_fd(&g->source->base, qxl_emu_irq_fd(emu), G_IO_IN);
    g_source_attach(&g->source->base, ctx);
    return g;
}

void qxl_guest_free(QxlGuest *g)
{
    if (!g) {
        return;
    }
    g_source_destroy(&g->source->base);
    g_source_unref(&g->source->base);
    g_main_context_unref(g->ctx);
    qxl_alloc_finish(&g->mem);
    qxl_alloc_finish(&g->vram);
    g_free(g->surface_used);
    g_free(g->error);
    g_free(g);
}

void qxl_guest_set_mem_limit(QxlGuest *g, uint64_t bytes)
{
    g->mem_limit = bytes;
}

void qxl_guest_set_timeout(QxlGuest *g, int64_t timeout_us)
{
    g->timeout_us = timeout_us;
}

const char *qxl_guest_error(QxlGuest *g)
{
    return g->error;
}

void qxl_guest_get_stats(QxlGuest *g, QxlGuestStats *out)
{
    *out = g->stats;
}

bool qxl_guest_init(QxlGuest *g)
{
    QXLRam *ram = g->emu->ram_hdr;

    ram->int_mask = QXL_INTERRUPT_DISPLAY | QXL_INTERRUPT_CURSOR | QXL_INTERRUPT_IO_CMD |
                    QXL_INTERRUPT_ERROR | QXL_INTERRUPT_CLIENT |
                    QXL_INTERRUPT_CLIENT_MONITORS_CONFIG;
    ram->mem_slot.mem_start = g->emu->ram_bar_phys;
    ram->mem_slot.mem_end = g->emu->ram_bar_phys + g->emu->cfg.ram_size;
    qxl_emu_io_write(g->emu, QXL_IO_MEMSLOT_ADD, QXL_EMU_SLOT_RAM);
    ram->mem_slot.mem_start = g->emu->vram_bar_phys;
    ram->mem_slot.mem_end = g->emu->vram_bar_phys + g->emu->cfg.vram_size;
    qxl_emu_io_write(g->emu, QXL_IO_MEMSLOT_ADD, QXL_EMU_SLOT_VRAM);
    return !g->error;
}

/* ---- primary and IO ------------------------------------------------------ */

bool qxl_guest_async_io(QxlGuest *g, uint32_t port, uint32_t val)
{
    if (g->error || !qxl_guest_async_wait(g, NULL)) {
        return false;
    }
    qxl_emu_io_write(g->emu, port, val);
    return true;
}

bool qxl_guest_async_wait(QxlGuest *g, int64_t *latency_ns)
{
    uint32_t io;
    int64_t lat;

    if (g->error) {
        return false;
    }
    if (!wait_for(g, cond_async_done, NULL, g->timeout_us)) {
        return fail(g, "async IO not completed within %" G_GINT64_FORMAT " ms",
                    g->timeout_us / 1000);
    }
    if (latency_ns) {
        qxl_emu_async_last(g->emu, &io, &lat);
        *latency_ns = lat;
    }
    return true;
}

void qxl_guest_io(QxlGuest *g, uint32_t port, uint32_t val)
{
    qxl_emu_io_write(g->emu, port, val);
}

bool qxl_guest_create_primary(QxlGuest *g, uint32_t width, uint32_t height,
                              bool negative_stride, bool async)
{
    QXLSurfaceCreate *sc = &g->emu->ram_hdr->create_surface;
    int32_t stride = (int32_t)width * 4;

    if (g->error || (uint64_t)stride * height > g->emu->cfg.vgamem_size) {
        return fail(g, "primary %ux%u does not fit the surface0 area", width, height);
    }
    if (!qxl_guest_async_wait(g, NULL)) {
        return false;
    }
    g->width = width;
    g->height = height;
    g->stride = negative_stride ? -stride : stride;
    *sc = (QXLSurfaceCreate){
        .width = width,
        .height = height,
        .stride = g->stride,
        .format = SPICE_SURFACE_FMT_32_xRGB,
        .position = 0,
        .mouse_mode = 0,
        .flags = 0,
        .type = 0,
        .mem = phys(BAR_RAM, 0),
    };
    g->primary = true;
    if (async) {
        return qxl_guest_async_io(g, QXL_IO_CREATE_PRIMARY_ASYNC, 0);
    }
    qxl_emu_io_write(g->emu, QXL_IO_CREATE_PRIMARY, 0);
    return !g->error;
}

bool qxl_guest_destroy_primary(QxlGuest *g, bool async)
{
    if (g->error) {
        return false;
    }
    g->primary = false;
    if (async) {
        return qxl_guest_async_io(g, QXL_IO_DESTROY_PRIMARY_ASYNC, 0);
    }
    if (!qxl_guest_async_wait(g, NULL)) {
        return false;
    }
    qxl_emu_io_write(g->emu, QXL_IO_DESTROY_PRIMARY, 0);
    return true;
}

uint32_t qxl_guest_width(QxlGuest *g) { return g->width; }
uint32_t qxl_guest_height(QxlGuest *g) { return g->height; }

const uint8_t *qxl_guest_primary_pixels(QxlGuest *g, int32_t *stride)
{
    *stride = g->stride;
    /* The server reads row 0 at mem - stride * (height - 1) when the
     * stride is negative: the top row sits at the highest address. */
    if (g->stride < 0 && g->height) {
        return g->emu->ram + (size_t)(-g->stride) * (g->height - 1);
    }
    return g->emu->ram;
}

bool qxl_guest_update_area(QxlGuest *g, uint32_t surface_id, const QXLRect *rect,
                           int64_t *latency_ns)
{
    if (g->error || !qxl_guest_async_wait(g, NULL)) {
        return false;
    }
    g->emu->ram_hdr->update_area = *rect;
    g->emu->ram_hdr->update_surface = surface_id;
    int64_t t0 = qxl_emu_now_ns();
    qxl_emu_io_write(g->emu, QXL_IO_UPDATE_AREA, 0);
    if (latency_ns) {
        *latency_ns = qxl_emu_now_ns() - t0;
    }
    return true;
}

bool qxl_guest_update_area_async(QxlGuest *g, uint32_t surface_id, const QXLRect *rect)
{
    if (g->error || !qxl_guest_async_wait(g, NULL)) {
        return false;
    }
    g->emu->ram_hdr->update_area = *rect;
    g->emu->ram_hdr->update_surface = surface_id;
    qxl_emu_io_write(g->emu, QXL_IO_UPDATE_AREA_ASYNC, 0);
    return true;
}

bool qxl_guest_monitors_config(QxlGuest *g)
{
    size_t size = sizeof(QXLMonitorsConfig) + sizeof(QXLHead);

    if (g->error || !qxl_guest_async_wait(g, NULL)) {
        return false;
    }
    if (!g->monitors_off) {
        GuestAllocRef ref;
        if (!alloc_mem(g, BAR_RAM, size, &ref)) {
            return false;
        }
        g->monitors_off = ref.off;
    }
    QXLMonitorsConfig *mc = (QXLMonitorsConfig *)ram_ptr(g, g->monitors_off);
    memset(mc, 0, size);
    mc->count = 1;
    mc->max_allowed = 1;
    mc->heads[0] = (QXLHead){ .id = 0, .surface_id = 0, .width = g->width, .height = g->height };
    g->emu->ram_hdr->monitors_config = phys(BAR_RAM, g->monitors_off);
    qxl_emu_io_write(g->emu, QXL_IO_MONITORS_CONFIG_ASYNC, 0);
    return true;
}

bool qxl_guest_wait_rings_empty(QxlGuest *g)
{
    QXLRam *ram = g->emu->ram_hdr;

    if (g->error) {
        return false;
    }
    /* Ask for the interrupt the device raises when cons reaches prod, i.e.
     * when the server takes the last command. */
    ram->cmd_ring.notify_on_cons = ram->cmd_ring.prod;
    ram->cursor_ring.notify_on_cons = ram->cursor_ring.prod;
    spice_mb();
    if (!wait_for(g, cond_rings_empty, NULL, g->timeout_us)) {
        return fail(g, "rings not drained within %" G_GINT64_FORMAT " ms",
                    g->timeout_us / 1000);
    }
    return true;
}

bool qxl_guest_idle(QxlGuest *g, int64_t us)
{
    if (g->error) {
        return false;
    }
    wait_for(g, cond_never, NULL, us);
    return qxl_guest_collect(g, NULL);
}

bool qxl_guest_flush_release(QxlGuest *g)
{
    /* Make room first: QEMU refuses (guest bug) to flush into a full ring. */
    if (!qxl_guest_collect(g, NULL)) {
        return false;
    }
    qxl_emu_io_write(g->emu, QXL_IO_FLUSH_RELEASE, 0);
    return qxl_guest_collect(g, NULL);
}

bool qxl_guest_teardown(QxlGuest *g)
{
    if (g->error || !qxl_guest_async_wait(g, NULL) || !qxl_guest_wait_rings_empty(g)) {
        return false;
    }
    qxl_emu_io_write(g->emu, QXL_IO_DESTROY_ALL_SURFACES, 0);
    if (g->primary) {
        /* After DESTROY_ALL_SURFACES the primary is gone too: only reset
         * the cursor, which QEMU's DESTROY_PRIMARY would have done. */
        g->emu->api->spice_qxl_reset_cursor(&g->emu->qxl);
        g->primary = false;
    }
    if (!qxl_guest_flush_release(g)) {
        return false;
    }
    if (g->monitors_off) {
        qxl_alloc_put(&g->mem, g->monitors_off, sizeof(QXLMonitorsConfig) + sizeof(QXLHead));
        g->monitors_off = 0;
    }
    return true;
}

/* ---- drawing commands ---------------------------------------------------- */

static QXLDrawable *drawable_new(QxlGuest *g, GuestCmd **cmd, uint32_t surface_id,
                                 uint8_t type, const QXLRect *bbox)
{
    QXLDrawable *d;

    if (g->error) {
        return NULL;
    }
    *cmd = cmd_new(g, QXL_CMD_DRAW, sizeof(QXLDrawable), (void **)&d);
    if (!*cmd) {
        return NULL;
    }
    d->surface_id = surface_id;
    d->effect = QXL_EFFECT_OPAQUE;
    d->type = type;
    d->bbox = *bbox;
    d->clip.type = SPICE_CLIP_TYPE_NONE;
    d->surfaces_dest[0] = d->surfaces_dest[1] = d->surfaces_dest[2] = -1;
    return d;
}

static bool draw_submit(QxlGuest *g, GuestCmd *cmd)
{
    if (!cmd_submit(g, cmd, false)) {
        return false;
    }
    g->stats.draws++;
    return true;
}

bool qxl_guest_fill(QxlGuest *g, uint32_t surface_id, const QXLRect *rect, uint32_t color)
{
    return qxl_guest_fill_clipped(g, surface_id, rect, color, NULL, 0, 0);
}

bool qxl_guest_fill_clipped(QxlGuest *g, uint32_t surface_id, const QXLRect *bbox,
                            uint32_t color, const QXLRect *clips, uint32_t n,
                            uint32_t chunks)
{
    GuestCmd *cmd;
    QXLDrawable *d = drawable_new(g, &cmd, surface_id, QXL_DRAW_FILL, bbox);

    if (!d) {
        return false;
    }
    d->u.fill.brush.type = SPICE_BRUSH_TYPE_SOLID;
    d->u.fill.brush.u.color = color;
    d->u.fill.rop_descriptor = SPICE_ROPD_OP_PUT;
    if (n) {
        chunks = CLAMP(chunks, 1, n);
        /* QXLClipRects carries the first chunk inline; the others follow it
         * in the same block, linked both ways. */
        uint64_t size = sizeof(QXLClipRects) + (uint64_t)n * sizeof(QXLRect) +
                        (chunks - 1) * sizeof(QXLDataChunk);
        QXLPHYSICAL base;
        QXLClipRects *cr = cmd_extra(g, cmd, BAR_RAM, size, &base);
        if (!cr) {
            cmd_abort(g, cmd);
            return false;
        }
        cr->num_rects = n;
        QXLDataChunk *chunk = &cr->chunk;
        QXLPHYSICAL chunk_addr = base + offsetof(QXLClipRects, chunk);
        QXLPHYSICAL prev = 0;
        uint32_t done = 0;
        for (uint32_t c = 0; c < chunks; c++) {
            uint32_t take = (n - done) / (chunks - c);
            chunk->data_size = take * sizeof(QXLRect);
            chunk->prev_chunk = prev;
            memcpy(chunk->data, clips + done, take * sizeof(QXLRect));
            done += take;
            QXLDataChunk *next = (QXLDataChunk *)(chunk->data + chunk->data_size);
            QXLPHYSICAL next_addr = chunk_addr + sizeof(QXLDataChunk) + chunk->data_size;
            chunk->next_chunk = c + 1 < chunks ? next_addr : 0;
            prev = chunk_addr;
            chunk = next;
            chunk_addr = next_addr;
        }
        d->clip.type = SPICE_CLIP_TYPE_RECTS;
        d->clip.data = base;
    }
    return draw_submit(g, cmd);
}

static uint32_t bitmap_bpp(uint8_t format)
{
    switch (format) {
    case SPICE_BITMAP_FMT_1BIT_LE:
    case SPICE_BITMAP_FMT_1BIT_BE:
        return 1;
    case SPICE_BITMAP_FMT_4BIT_LE:
    case SPICE_BITMAP_FMT_4BIT_BE:
        return 4;
    case SPICE_BITMAP_FMT_8BIT:
    case SPICE_BITMAP_FMT_8BIT_A:
        return 8;
    case SPICE_BITMAP_FMT_16BIT:
        return 16;
    case SPICE_BITMAP_FMT_24BIT:
        return 24;
    default:
        return 32;
    }
}

static uint32_t palette_entries(uint8_t format)
{
    switch (format) {
    case SPICE_BITMAP_FMT_1BIT_LE:
    case SPICE_BITMAP_FMT_1BIT_BE:
        return 2;
    case SPICE_BITMAP_FMT_4BIT_LE:
    case SPICE_BITMAP_FMT_4BIT_BE:
        return 16;
    case SPICE_BITMAP_FMT_8BIT:
        return 256;
    default:
        return 0;
    }
}

/* Pixels that look like UI content: bands and gradients with some noise,
 * a pure function of seed so equal image ids carry equal pixels. */
static void fill_pixels(uint8_t *dst, uint32_t stride, uint32_t rows, uint32_t row0,
                        uint32_t seed)
{
    for (uint32_t y = 0; y < rows; y++) {
        uint32_t s = seed * 2654435761u + (row0 + y) * 40503u;
        uint8_t *p = dst + (size_t)y * stride;
        for (uint32_t x = 0; x < stride; x++) {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            p[x] = (uint8_t)((x + (row0 + y) + seed) >> 3) ^ (uint8_t)(s & 0x0f);
        }
    }
}

bool qxl_guest_copy_bitmap(QxlGuest *g, uint32_t surface_id, const QXLRect *dst,
                           const QxlBitmapSpec *spec)
{
    uint32_t stride = ((spec->width * bitmap_bpp(spec->format) + 31) / 32) * 4;
    uint32_t n_pal = palette_entries(spec->format);
    uint32_t chunks = spec->direct ? 0 : CLAMP(spec->chunks, 1, MIN(8, spec->height));
    uint64_t data_size = (uint64_t)stride * spec->height;
    uint64_t pal_off = sizeof(QXLImage);
    uint64_t pal_size = n_pal ? sizeof(QXLPalette) + n_pal * sizeof(uint32_t) : 0;
    uint64_t data_off = (pal_off + pal_size + 7) & ~7ull;
    uint64_t size = data_off + data_size + chunks * sizeof(QXLDataChunk);
    GuestCmd *cmd;
    QXLPHYSICAL base;

    if (spec->width == 0 || spec->height == 0) {
        return fail(g, "empty bitmap");
    }
    QXLDrawable *d = drawable_new(g, &cmd, surface_id, QXL_DRAW_COPY, dst);
    if (!d) {
        return false;
    }
    uint8_t *img_mem = cmd_extra(g, cmd, BAR_RAM, size, &base);
    if (!img_mem) {
        cmd_abort(g, cmd);
        return false;
    }
    QXLImage *img = (QXLImage *)img_mem;
    memset(img, 0, sizeof(*img));
    img->descriptor.id = spec->image_id;
    img->descriptor.type = SPICE_IMAGE_TYPE_BITMAP;
    img->descriptor.flags = spec->cache ? QXL_IMAGE_CACHE : 0;
    img->descriptor.width = spec->width;
    img->descriptor.height = spec->height;
    img->bitmap.format = spec->format;
    img->bitmap.flags = (spec->top_down ? QXL_BITMAP_TOP_DOWN : 0) |
                        (spec->direct ? QXL_BITMAP_DIRECT : 0);
    img->bitmap.x = spec->width;
    img->bitmap.y = spec->height;
    img->bitmap.stride = stride;
    if (n_pal) {
        QXLPalette *pal = (QXLPalette *)(img_mem + pal_off);
        pal->unique = 0;
        pal->num_ents = (uint16_t)n_pal;
        for (uint32_t i = 0; i < n_pal; i++) {
            pal->ents[i] = (i * 0x010305u + spec->seed) & 0xffffff;
        }
        img->bitmap.palette = base + pal_off;
    }
    if (spec->direct) {
        fill_pixels(img_mem + data_off, stride, spec->height, 0, spec->seed);
        img->bitmap.data = base + data_off;
    } else {
        uint64_t off = data_off;
        uint32_t row = 0;
        QXLPHYSICAL prev = 0;
        img->bitmap.data = base + data_off;
        for (uint32_t c = 0; c < chunks; c++) {
            uint32_t rows = (spec->height - row) / (chunks - c);
            QXLDataChunk *chunk = (QXLDataChunk *)(img_mem + off);
            chunk->data_size = rows * stride;
            chunk->prev_chunk = prev;
            fill_pixels(chunk->data, stride, rows, row, spec->seed);
            uint64_t next_off = off + sizeof(QXLDataChunk) + chunk->data_size;
            chunk->next_chunk = c + 1 < chunks ? base + next_off : 0;
            prev = base + off;
            off = next_off;
            row += rows;
        }
    }
    d->u.copy.src_bitmap = base;
    d->u.copy.src_area = (QXLRect){ .top = 0, .left = 0,
                                    .bottom = (int32_t)spec->height,
                                    .right = (int32_t)spec->width };
    d->u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    d->u.copy.scale_mode = SPICE_IMAGE_SCALE_MODE_NEAREST;
    return draw_submit(g, cmd);
}

bool qxl_guest_copy_bits(QxlGuest *g, uint32_t surface_id, const QXLRect *dst,
                         int32_t src_x, int32_t src_y)
{
    GuestCmd *cmd;
    QXLDrawable *d = drawable_new(g, &cmd, surface_id, QXL_COPY_BITS, dst);

    if (!d) {
        return false;
    }
    d->u.copy_bits.src_pos.x = src_x;
    d->u.copy_bits.src_pos.y = src_y;
    return draw_submit(g, cmd);
}

bool qxl_guest_copy_surface(QxlGuest *g, uint32_t dst_surface, const QXLRect *dst,
                            uint32_t src_surface, const QXLRect *src)
{
    GuestCmd *cmd;
    QXLPHYSICAL addr;
    QXLDrawable *d = drawable_new(g, &cmd, dst_surface, QXL_DRAW_COPY, dst);

    if (!d) {
        return false;
    }
    QXLImage *img = cmd_extra(g, cmd, BAR_RAM, sizeof(QXLImage), &addr);
    if (!img) {
        cmd_abort(g, cmd);
        return false;
    }
    memset(img, 0, sizeof(*img));
    img->descriptor.type = SPICE_IMAGE_TYPE_SURFACE;
    img->descriptor.width = (uint32_t)(src->right - src->left);
    img->descriptor.height = (uint32_t)(src->bottom - src->top);
    img->surface_image.surface_id = src_surface;
    d->surfaces_dest[0] = (int32_t)src_surface;
    d->surfaces_rects[0] = *src;
    d->u.copy.src_bitmap = addr;
    d->u.copy.src_area = *src;
    d->u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    d->u.copy.scale_mode = SPICE_IMAGE_SCALE_MODE_NEAREST;
    return draw_submit(g, cmd);
}

bool qxl_guest_update_cmd(QxlGuest *g, uint32_t surface_id, const QXLRect *rect,
                          uint32_t update_id)
{
    QXLUpdateCmd *u;
    GuestCmd *cmd = g->error ? NULL : cmd_new(g, QXL_CMD_UPDATE, sizeof(*u), (void **)&u);

    if (!cmd) {
        return false;
    }
    u->area = *rect;
    u->update_id = update_id;
    u->surface_id = surface_id;
    if (!cmd_submit(g, cmd, false)) {
        return false;
    }
    g->stats.update_cmds++;
    return true;
}

/* ---- surfaces ------------------------------------------------------------ */

uint32_t qxl_guest_surface_new(QxlGuest *g, uint32_t width, uint32_t height)
{
    uint32_t n = g->emu->cfg.n_surfaces;
    uint32_t id = 0;
    QXLSurfaceCmd *sc;
    QXLPHYSICAL addr;

    if (g->error) {
        return 0;
    }
    for (uint32_t i = 0; i < n - 1 && !id; i++) {
        uint32_t cand = 1 + (g->next_surface - 1 + i) % (n - 1);
        if (!g->surface_used[cand]) {
            id = cand;
        }
    }
    if (!id) {
        return 0;
    }
    GuestCmd *cmd = cmd_new(g, QXL_CMD_SURFACE, sizeof(*sc), (void **)&sc);
    if (!cmd) {
        return 0;
    }
    uint32_t stride = width * 4;
    uint8_t *mem = cmd_extra(g, cmd, BAR_VRAM, (uint64_t)stride * height, &addr);
    if (!mem) {
        cmd_abort(g, cmd);
        return 0;
    }
    memset(mem, 0, (size_t)stride * height);
    sc->surface_id = id;
    sc->type = QXL_SURFACE_CMD_CREATE;
    sc->flags = 0;
    sc->u.surface_create = (QXLSurface){
        .format = SPICE_SURFACE_FMT_32_xRGB,
        .width = width,
        .height = height,
        .stride = (int32_t)stride,
        .data = addr,
    };
    /* The id (and its VRAM) is reusable once the server releases this
     * create command, which it does when the surface is gone. */
    cmd->surface_to_free = id;
    g->surface_used[id] = 1;
    g->next_surface = id + 1;
    if (!cmd_submit(g, cmd, false)) {
        return 0;
    }
    g->stats.surface_cmds++;
    return id;
}

bool qxl_guest_surface_destroy(QxlGuest *g, uint32_t surface_id)
{
    QXLSurfaceCmd *sc;
    GuestCmd *cmd = g->error ? NULL : cmd_new(g, QXL_CMD_SURFACE, sizeof(*sc), (void **)&sc);

    if (!cmd) {
        return false;
    }
    sc->surface_id = surface_id;
    sc->type = QXL_SURFACE_CMD_DESTROY;
    if (!cmd_submit(g, cmd, false)) {
        return false;
    }
    g->stats.surface_cmds++;
    return true;
}

/* ---- cursor -------------------------------------------------------------- */

static bool cursor_submit(QxlGuest *g, GuestCmd *cmd)
{
    if (!cmd_submit(g, cmd, true)) {
        return false;
    }
    g->stats.cursor_cmds++;
    return true;
}

bool qxl_guest_cursor_set(QxlGuest *g, int16_t x, int16_t y, uint16_t type,
                          uint16_t width, uint16_t height, uint64_t unique)
{
    QXLCursorCmd *cc;
    QXLPHYSICAL addr;
    uint32_t data_size = type == SPICE_CURSOR_TYPE_MONO
                             ? 2u * height * ((width + 7u) / 8u)
                             : (uint32_t)width * height * 4u;
    GuestCmd *cmd = g->error ? NULL : cmd_new(g, QXL_CMD_CURSOR, sizeof(*cc), (void **)&cc);

    if (!cmd) {
        return false;
    }
    QXLCursor *cur = cmd_extra(g, cmd, BAR_RAM, sizeof(QXLCursor) + data_size, &addr);
    if (!cur) {
        cmd_abort(g, cmd);
        return false;
    }
    memset(cur, 0, sizeof(*cur));
    cur->header.unique = unique;
    cur->header.type = type;
    cur->header.width = width;
    cur->header.height = height;
    cur->header.hot_spot_x = width / 2;
    cur->header.hot_spot_y = height / 2;
    cur->data_size = data_size;
    cur->chunk.data_size = data_size;
    fill_pixels(cur->chunk.data, data_size, 1, 0, (uint32_t)unique);
    cc->type = QXL_CURSOR_SET;
    cc->u.set.position.x = x;
    cc->u.set.position.y = y;
    cc->u.set.visible = 1;
    cc->u.set.shape = addr;
    return cursor_submit(g, cmd);
}

bool qxl_guest_cursor_move(QxlGuest *g, int16_t x, int16_t y)
{
    QXLCursorCmd *cc;
    GuestCmd *cmd = g->error ? NULL : cmd_new(g, QXL_CMD_CURSOR, sizeof(*cc), (void **)&cc);

    if (!cmd) {
        return false;
    }
    cc->type = QXL_CURSOR_MOVE;
    cc->u.position.x = x;
    cc->u.position.y = y;
    return cursor_submit(g, cmd);
}

bool qxl_guest_cursor_hide(QxlGuest *g)
{
    QXLCursorCmd *cc;
    GuestCmd *cmd = g->error ? NULL : cmd_new(g, QXL_CMD_CURSOR, sizeof(*cc), (void **)&cc);

    if (!cmd) {
        return false;
    }
    cc->type = QXL_CURSOR_HIDE;
    return cursor_submit(g, cmd);
}
