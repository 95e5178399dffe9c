/* The emulated QXL device: memory, QXLInterface callbacks, IO ports.
 *
 * Locking: emu->lock guards the counters, the command tracking table, the
 * release list under construction (last_release/num_free_res, the release
 * ring's producer side) and the async IO state.  It is held only for short
 * bookkeeping, never across a call into the server, so a server that calls
 * back from inside spice_qxl_* cannot deadlock on it.  The command and
 * cursor rings need no lock: the guest alone produces, the server's worker
 * alone consumes, each side publishing with a barrier (ipc_ring.h).  The
 * release ring has one producer at a time (lock) and the guest as consumer.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <spice/barrier.h>
#include <spice/ipc_ring.h>

/* ipc_ring.h's item macros take addresses inside packed rings.  QXLRam is
 * page-aligned here and every ring element sits at its natural alignment. */
#pragma GCC diagnostic ignored "-Waddress-of-packed-member"

#include "tools/qxl-emu/qxl-emu-priv.h"

/* The QXLRam layout QEMU and the drivers agree on (spice-reference 7.1). */
G_STATIC_ASSERT(offsetof(QXLRam, cmd_ring) == 4108);
G_STATIC_ASSERT(offsetof(QXLRam, cursor_ring) == 4640);
G_STATIC_ASSERT(offsetof(QXLRam, release_ring) == 5172);
G_STATIC_ASSERT(offsetof(QXLRam, monitors_config) == 5340);
G_STATIC_ASSERT(sizeof(QXLReleaseInfoExt) == 16);

#define ROM_SIZE 8192u
#define PAGE 4096u
#define COOKIE_TAG 0x5eb0000000000000ull
#define COOKIE_PENDING 1
#define COOKIE_DONE 2

static QxlEmu *emu_from_qin(QXLInstance *qin)
{
    return (QxlEmu *)((char *)qin - offsetof(QxlEmu, qxl));
}

int64_t qxl_emu_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Records which thread runs worker callbacks; QEMU's device has no locks
 * around its release state and relies on there being exactly one. */
static void check_worker_thread(QxlEmu *emu)
{
    int tid = gettid();

    g_mutex_lock(&emu->lock);
    if (!emu->worker_tid) {
        emu->worker_tid = tid;
    } else if (emu->worker_tid != tid) {
        emu->stats.wrong_thread++;
    }
    g_mutex_unlock(&emu->lock);
}

void qxl_emu_send_events(QxlEmu *emu, uint32_t events)
{
    uint64_t one = 1;

    __atomic_fetch_or(&emu->ram_hdr->int_pending, events, __ATOMIC_SEQ_CST);
    if (!(events & __atomic_load_n(&emu->ram_hdr->int_mask, __ATOMIC_SEQ_CST))) {
        return;
    }
    /* The eventfd counter cannot overflow in practice; a short write would
     * only mean it is already readable. */
    if (write(emu->irq_fd, &one, sizeof(one)) < 0) {
        g_assert(errno == EAGAIN);
    }
    if (emu->irq_func) {
        emu->irq_func(emu->irq_opaque, events);
    }
}

/* ---- QXLInterface callbacks ------------------------------------------- */

static void iface_attached_worker(QXLInstance *qin)
{
    QxlEmu *emu = emu_from_qin(qin);

    g_mutex_lock(&emu->lock);
    emu->stats.attach_calls++;
    g_mutex_unlock(&emu->lock);
}

static void iface_set_compression_level(QXLInstance *qin, int level)
{
    QxlEmu *emu = emu_from_qin(qin);

    emu->rom->compression_level = (uint32_t)level;
    g_mutex_lock(&emu->lock);
    emu->stats.set_compression_level_calls++;
    g_mutex_unlock(&emu->lock);
}

static void iface_get_init_info(QXLInstance *qin, QXLDevInitInfo *info)
{
    QxlEmu *emu = emu_from_qin(qin);

    info->num_memslots_groups = 2;
    info->num_memslots = QXL_EMU_NUM_MEMSLOTS;
    info->memslot_gen_bits = QXL_EMU_MEMSLOT_GEN_BITS;
    info->memslot_id_bits = QXL_EMU_MEMSLOT_ID_BITS;
    info->internal_groupslot_id = 0;
    info->qxl_ram_size = emu->num_pages * PAGE;
    info->n_surfaces = emu->cfg.n_surfaces;
    g_mutex_lock(&emu->lock);
    emu->stats.get_init_info_calls++;
    g_mutex_unlock(&emu->lock);
}

/* Pops one command from `ring` like interface_get_command; `irq` is raised
 * when the guest asked to hear about free space. */
static int pop_command(QxlEmu *emu, QXLCommandRing *ring, uint32_t irq,
                       QXLCommandExt *ext)
{
    int notify;

    if (SPICE_RING_IS_EMPTY(ring)) {
        return 0;
    }
    /* The item was written before prod moved; read it after seeing prod. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    ext->cmd = *SPICE_RING_CONS_ITEM(ring);
    ext->group_id = QXL_EMU_GROUP_GUEST;
    ext->flags = 0;
    SPICE_RING_POP(ring, notify);
    if (notify) {
        qxl_emu_send_events(emu, irq);
    }
    return 1;
}

static int iface_get_command(QXLInstance *qin, QXLCommandExt *ext)
{
    QxlEmu *emu = emu_from_qin(qin);
    int got;

    check_worker_thread(emu);
    got = pop_command(emu, &emu->ram_hdr->cmd_ring, QXL_INTERRUPT_DISPLAY, ext);
    g_mutex_lock(&emu->lock);
    emu->stats.get_command_calls++;
    if (got) {
        emu->stats.cmds_fetched++;
        switch (ext->cmd.type) {
        case QXL_CMD_DRAW:
            emu->stats.draw_fetched++;
            break;
        case QXL_CMD_UPDATE:
            emu->stats.update_fetched++;
            break;
        case QXL_CMD_SURFACE:
            emu->stats.surface_fetched++;
            break;
        default:
            emu->stats.other_fetched++;
            break;
        }
    }
    g_mutex_unlock(&emu->lock);
    return got;
}

static int iface_req_cmd_notification(QXLInstance *qin)
{
    QxlEmu *emu = emu_from_qin(qin);
    int wait;

    check_worker_thread(emu);
    SPICE_RING_CONS_WAIT(&emu->ram_hdr->cmd_ring, wait);
    g_mutex_lock(&emu->lock);
    emu->stats.req_cmd_notification++;
    g_mutex_unlock(&emu->lock);
    return wait;
}

static int iface_get_cursor_command(QXLInstance *qin, QXLCommandExt *ext)
{
    QxlEmu *emu = emu_from_qin(qin);
    int got;

    check_worker_thread(emu);
    got = pop_command(emu, (QXLCommandRing *)&emu->ram_hdr->cursor_ring,
                      QXL_INTERRUPT_CURSOR, ext);
    if (got) {
        g_mutex_lock(&emu->lock);
        emu->stats.cursor_fetched++;
        g_mutex_unlock(&emu->lock);
    }
    return got;
}

static int iface_req_cursor_notification(QXLInstance *qin)
{
    QxlEmu *emu = emu_from_qin(qin);
    int wait;

    check_worker_thread(emu);
    SPICE_RING_CONS_WAIT(&emu->ram_hdr->cursor_ring, wait);
    g_mutex_lock(&emu->lock);
    emu->stats.req_cursor_notification++;
    g_mutex_unlock(&emu->lock);
    return wait;
}

/* qxl_push_free_res: publish the release list built in the ring's producer
 * slot.  Called with emu->lock held. */
static void push_free_res(QxlEmu *emu, bool flush)
{
    QXLReleaseRing *ring = &emu->ram_hdr->release_ring;
    int notify;

    if (ring->prod - ring->cons + 1 == ring->num_items) {
        return;     /* the guest has not consumed; keep growing the list */
    }
    if (!flush && emu->oom_running) {
        return;
    }
    if (!flush && emu->num_free_res < QXL_EMU_FREE_BUNCH) {
        return;
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    SPICE_RING_PUSH(ring, notify);
    emu->stats.release_ring_pushes++;
    *SPICE_RING_PROD_ITEM(ring) = 0;
    emu->num_free_res = 0;
    emu->last_release = NULL;
    if (notify) {
        qxl_emu_send_events(emu, QXL_INTERRUPT_DISPLAY);
    }
}

static void iface_release_resource(QXLInstance *qin, QXLReleaseInfoExt ext)
{
    QxlEmu *emu = emu_from_qin(qin);
    uint8_t *info = (uint8_t *)ext.info;
    QxlEmuTrack *track = NULL;
    uint64_t offset = 0;

    check_worker_thread(emu);
    g_mutex_lock(&emu->lock);
    if (ext.group_id == QXL_EMU_GROUP_GUEST && info >= emu->ram &&
        info + sizeof(QXLReleaseInfo) <= emu->ram + emu->ram_header_offset) {
        offset = (uint64_t)(info - emu->ram);
        track = g_hash_table_lookup(emu->tracked, GSIZE_TO_POINTER(offset));
    }
    if (!track) {
        emu->stats.releases_unknown++;
        g_mutex_unlock(&emu->lock);
        g_warning("qxl-emu: server bug: release of unknown resource %p group %u",
                  ext.info, ext.group_id);
        return;
    }
    if (track->state == QXL_EMU_TRACK_RELEASED) {
        emu->stats.releases_double++;
        g_mutex_unlock(&emu->lock);
        g_warning("qxl-emu: server bug: double release of command at 0x%" G_GINT64_MODIFIER "x",
                  offset);
        return;
    }
    if (ext.info->id != offset) {
        /* The server wrote into the guest's release info: treat as unknown. */
        emu->stats.releases_unknown++;
        g_mutex_unlock(&emu->lock);
        g_warning("qxl-emu: server bug: release info id changed at 0x%" G_GINT64_MODIFIER "x",
                  offset);
        return;
    }
    track->state = QXL_EMU_TRACK_RELEASED;
    emu->outstanding--;
    emu->stats.releases_ok++;

    /* QEMU's list: the first id goes into the ring's producer slot, later
     * ones hang off the previous info's `next` (which overlays its id). */
    uint64_t *head = SPICE_RING_PROD_ITEM(&emu->ram_hdr->release_ring);
    uint64_t id = ext.info->id;
    if (*head == 0) {
        ext.info->next = 0;
        *head = id;
    } else {
        emu->last_release->next = id;
        ext.info->next = 0;
    }
    emu->last_release = ext.info;
    emu->num_free_res++;
    push_free_res(emu, false);
    g_mutex_unlock(&emu->lock);
}

static void iface_notify_update(QXLInstance *qin, uint32_t update_id)
{
    QxlEmu *emu = emu_from_qin(qin);

    check_worker_thread(emu);
    g_mutex_lock(&emu->lock);
    emu->stats.notify_update_calls++;
    g_mutex_unlock(&emu->lock);
}

static int iface_flush_resources(QXLInstance *qin)
{
    QxlEmu *emu = emu_from_qin(qin);
    int ret;

    check_worker_thread(emu);
    g_mutex_lock(&emu->lock);
    ret = (int)emu->num_free_res;
    if (ret) {
        push_free_res(emu, true);
    }
    emu->stats.flush_resources_calls++;
    emu->stats.flush_resources_returned += (uint64_t)ret;
    g_mutex_unlock(&emu->lock);
    return ret;
}

static void iface_async_complete(QXLInstance *qin, uint64_t cookie)
{
    QxlEmu *emu = emu_from_qin(qin);
    uint64_t seq = cookie & ~COOKIE_TAG;
    bool ok = false;

    check_worker_thread(emu);
    g_mutex_lock(&emu->lock);
    if ((cookie & COOKIE_TAG) == COOKIE_TAG && seq < emu->cookie_state->len &&
        emu->cookie_state->data[seq] == COOKIE_PENDING) {
        emu->cookie_state->data[seq] = COOKIE_DONE;
        emu->stats.async_completed++;
        if (cookie != emu->current_cookie) {
            emu->stats.async_mismatch++;
        }
        emu->last_async_io = emu->current_async;
        emu->last_async_latency = qxl_emu_now_ns() - emu->async_t0;
        emu->current_async = QXL_EMU_IO_NONE;
        ok = true;
    } else {
        emu->stats.async_unknown++;
    }
    g_mutex_unlock(&emu->lock);
    if (!ok) {
        g_warning("qxl-emu: server bug: async_complete with unknown or completed cookie 0x%"
                  G_GINT64_MODIFIER "x", cookie);
        return;
    }
    qxl_emu_send_events(emu, QXL_INTERRUPT_IO_CMD);
}

static void iface_update_area_complete(QXLInstance *qin, uint32_t surface_id,
                                       QXLRect *rects, uint32_t n)
{
    QxlEmu *emu = emu_from_qin(qin);

    check_worker_thread(emu);
    g_mutex_lock(&emu->lock);
    emu->stats.update_area_complete_calls++;
    emu->stats.update_area_complete_rects += n;
    g_mutex_unlock(&emu->lock);
}

static void iface_set_client_capabilities(QXLInstance *qin, uint8_t present,
                                          uint8_t caps[SPICE_CAPABILITIES_SIZE])
{
    QxlEmu *emu = emu_from_qin(qin);

    check_worker_thread(emu);
    emu->rom->client_present = present;
    memcpy(emu->rom->client_capabilities, caps, sizeof(emu->rom->client_capabilities));
    g_mutex_lock(&emu->lock);
    emu->stats.set_client_capabilities_calls++;
    g_mutex_unlock(&emu->lock);
    qxl_emu_send_events(emu, QXL_INTERRUPT_CLIENT);
}

static int iface_client_monitors_config(QXLInstance *qin, VDAgentMonitorsConfig *cfg)
{
    QxlEmu *emu = emu_from_qin(qin);
    uint32_t mask = emu->ram_hdr->int_mask;

    g_mutex_lock(&emu->lock);
    emu->stats.client_monitors_config_calls++;
    g_mutex_unlock(&emu->lock);
    /* QEMU: only guests that unmask this interrupt support it. */
    if (mask == 0 || mask == ~0u || !(mask & QXL_INTERRUPT_CLIENT_MONITORS_CONFIG)) {
        return 0;
    }
    if (!cfg) {
        return 1;
    }
    uint32_t count = MIN(cfg->num_of_monitors,
                         G_N_ELEMENTS(emu->rom->client_monitors_config.heads));
    memset(&emu->rom->client_monitors_config, 0, sizeof(emu->rom->client_monitors_config));
    emu->rom->client_monitors_config.count = count;
    for (uint32_t i = 0; i < count; i++) {
        QXLURect *r = &emu->rom->client_monitors_config.heads[i];
        r->left = cfg->monitors[i].x;
        r->top = cfg->monitors[i].y;
        r->right = cfg->monitors[i].x + cfg->monitors[i].width;
        r->bottom = cfg->monitors[i].y + cfg->monitors[i].height;
    }
    qxl_emu_send_events(emu, QXL_INTERRUPT_CLIENT_MONITORS_CONFIG);
    return 1;
}

/* ---- device setup -------------------------------------------------------- */

void qxl_emu_config_default(QxlEmuConfig *cfg)
{
    cfg->ram_size = 64u << 20;
    cfg->vgamem_size = 16u << 20;
    cfg->vram_size = 64u << 20;
    cfg->n_surfaces = 1024;
}

/* init_qxl_rom + init_qxl_ram: the state after a device reset. */
static void reset_ram(QxlEmu *emu)
{
    QXLRam *ram = emu->ram_hdr;

    ram->magic = QXL_RAM_MAGIC;
    ram->int_pending = 0;
    ram->int_mask = 0;
    ram->update_surface = 0;
    ram->monitors_config = 0;
    SPICE_RING_INIT(&ram->cmd_ring);
    SPICE_RING_INIT(&ram->cursor_ring);
    SPICE_RING_INIT(&ram->release_ring);
    *SPICE_RING_PROD_ITEM(&ram->release_ring) = 0;
    emu->num_free_res = 0;
    emu->last_release = NULL;
}

QxlEmu *qxl_emu_new(const QxlEmuConfig *cfg, GError **error)
{
    uint32_t header = (sizeof(QXLRam) + PAGE - 1) & ~(PAGE - 1);

    if (cfg->ram_size % PAGE || cfg->vgamem_size % PAGE || cfg->vram_size % PAGE ||
        (uint64_t)cfg->vgamem_size + header + 16 * PAGE > cfg->ram_size) {
        g_set_error(error, QXL_EMU_ERROR, 3, "bad qxl-emu memory sizes");
        return NULL;
    }

    QxlEmu *emu = g_new0(QxlEmu, 1);
    emu->cfg = *cfg;
    emu->memfd = -1;
    emu->irq_fd = -1;
    g_mutex_init(&emu->lock);
    emu->tracked = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    emu->cookie_state = g_byte_array_new();
    emu->current_async = QXL_EMU_IO_NONE;

    emu->mem_size = (size_t)cfg->ram_size + cfg->vram_size + ROM_SIZE;
    emu->memfd = memfd_create("qxl-emu", MFD_CLOEXEC);
    if (emu->memfd < 0 || ftruncate(emu->memfd, (off_t)emu->mem_size) < 0) {
        g_set_error(error, QXL_EMU_ERROR, 4, "memfd: %s", g_strerror(errno));
        qxl_emu_free(emu);
        return NULL;
    }
    emu->mem = mmap(NULL, emu->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, emu->memfd, 0);
    if (emu->mem == MAP_FAILED) {
        emu->mem = NULL;
        g_set_error(error, QXL_EMU_ERROR, 4, "mmap: %s", g_strerror(errno));
        qxl_emu_free(emu);
        return NULL;
    }
    emu->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (emu->irq_fd < 0) {
        g_set_error(error, QXL_EMU_ERROR, 4, "eventfd: %s", g_strerror(errno));
        qxl_emu_free(emu);
        return NULL;
    }
    emu->ram = emu->mem;
    emu->vram = emu->mem + cfg->ram_size;
    emu->rom = (QXLRom *)(emu->vram + cfg->vram_size);
    emu->ram_header_offset = cfg->ram_size - header;
    emu->num_pages = (cfg->ram_size - header - cfg->vgamem_size) / PAGE;
    emu->ram_hdr = (QXLRam *)(emu->ram + emu->ram_header_offset);
    emu->ram_bar_phys = 0xf0000000ull;
    emu->vram_bar_phys = 0xf8000000ull;

    QXLRom *rom = emu->rom;
    rom->magic = QXL_ROM_MAGIC;
    rom->id = 0;
    rom->modes_offset = sizeof(QXLRom);
    rom->slot_gen_bits = QXL_EMU_MEMSLOT_GEN_BITS;
    rom->slot_id_bits = QXL_EMU_MEMSLOT_ID_BITS;
    rom->slots_start = 1;
    rom->slots_end = QXL_EMU_NUM_MEMSLOTS - 1;
    rom->n_surfaces = cfg->n_surfaces;
    rom->draw_area_offset = 0;
    rom->surface0_area_size = cfg->vgamem_size;
    rom->pages_offset = cfg->vgamem_size;
    rom->num_pages = emu->num_pages;
    rom->ram_header_offset = emu->ram_header_offset;
    reset_ram(emu);

    emu->iface = (QXLInterface){
        .base = {
            .type = SPICE_INTERFACE_QXL,
            .description = "qxl-emu gpu",
            .major_version = SPICE_INTERFACE_QXL_MAJOR,
            .minor_version = SPICE_INTERFACE_QXL_MINOR,
        },
        .attached_worker = iface_attached_worker,
        .set_compression_level = iface_set_compression_level,
        .get_init_info = iface_get_init_info,
        .get_command = iface_get_command,
        .req_cmd_notification = iface_req_cmd_notification,
        .release_resource = iface_release_resource,
        .get_cursor_command = iface_get_cursor_command,
        .req_cursor_notification = iface_req_cursor_notification,
        .notify_update = iface_notify_update,
        .flush_resources = iface_flush_resources,
        .async_complete = iface_async_complete,
        .update_area_complete = iface_update_area_complete,
        .set_client_capabilities = iface_set_client_capabilities,
        .client_monitors_config = iface_client_monitors_config,
    };
    emu->qxl.base.sif = &emu->iface.base;
    emu->qxl.id = 0;
    return emu;
}

/* qemu_spice_create_host_memslot: group 0, slot 0, the whole address space. */
static void add_host_memslot(QxlEmu *emu)
{
    QXLDevMemSlot slot = {
        .slot_group_id = QXL_EMU_GROUP_HOST,
        .slot_id = 0,
        .generation = 0,
        .virt_start = 0,
        .virt_end = ~(uintptr_t)0,
        .addr_delta = 0,
        .qxl_ram_size = ~0u,
    };
    emu->api->spice_qxl_add_memslot(&emu->qxl, &slot);
}

bool qxl_emu_attach(QxlEmu *emu, const SpiceServerApi *api, SpiceServer *server,
                    GError **error)
{
    emu->api = api;
    emu->server = server;
    if (api->spice_server_add_interface(server, &emu->qxl.base) != 0) {
        g_set_error(error, QXL_EMU_ERROR, 5, "%s: spice_server_add_interface(qxl) failed",
                    api->path);
        return false;
    }
    emu->attached = true;
    add_host_memslot(emu);
    return true;
}

void qxl_emu_detach(QxlEmu *emu)
{
    if (emu->attached) {
        emu->api->spice_server_remove_interface(&emu->qxl.base);
        emu->attached = false;
    }
}

void qxl_emu_free(QxlEmu *emu)
{
    if (!emu) {
        return;
    }
    g_assert(!emu->attached);
    if (emu->mem) {
        munmap(emu->mem, emu->mem_size);
    }
    if (emu->memfd >= 0) {
        close(emu->memfd);
    }
    if (emu->irq_fd >= 0) {
        close(emu->irq_fd);
    }
    g_hash_table_destroy(emu->tracked);
    g_byte_array_free(emu->cookie_state, TRUE);
    g_mutex_clear(&emu->lock);
    g_free(emu);
}

/* ---- IO ports ------------------------------------------------------------ */

static bool io_is_async(uint32_t port)
{
    switch (port) {
    case QXL_IO_UPDATE_AREA_ASYNC:
    case QXL_IO_MEMSLOT_ADD_ASYNC:
    case QXL_IO_CREATE_PRIMARY_ASYNC:
    case QXL_IO_DESTROY_PRIMARY_ASYNC:
    case QXL_IO_DESTROY_SURFACE_ASYNC:
    case QXL_IO_DESTROY_ALL_SURFACES_ASYNC:
    case QXL_IO_FLUSH_SURFACES_ASYNC:
    case QXL_IO_MONITORS_CONFIG_ASYNC:
        return true;
    default:
        return false;
    }
}

static void guest_bug(QxlEmu *emu, const char *what)
{
    g_mutex_lock(&emu->lock);
    emu->stats.guest_bugs++;
    g_mutex_unlock(&emu->lock);
    g_warning("qxl-emu: guest bug: %s", what);
    qxl_emu_send_events(emu, QXL_INTERRUPT_ERROR);
}

/* qxl_add_memslot: the guest wrote ram->mem_slot with BAR addresses. */
static bool memslot_from_guest(QxlEmu *emu, uint32_t slot_id, QXLDevMemSlot *slot)
{
    uint64_t start = emu->ram_hdr->mem_slot.mem_start;
    uint64_t end = emu->ram_hdr->mem_slot.mem_end;
    uint8_t *base;

    if (slot_id >= QXL_EMU_NUM_MEMSLOTS || start > end) {
        return false;
    }
    if (start >= emu->ram_bar_phys && end <= emu->ram_bar_phys + emu->cfg.ram_size) {
        base = emu->ram + (start - emu->ram_bar_phys);
    } else if (start >= emu->vram_bar_phys && end <= emu->vram_bar_phys + emu->cfg.vram_size) {
        base = emu->vram + (start - emu->vram_bar_phys);
    } else {
        return false;
    }
    *slot = (QXLDevMemSlot){
        .slot_group_id = QXL_EMU_GROUP_GUEST,
        .slot_id = slot_id,
        .generation = 0,
        .virt_start = (uintptr_t)base,
        .virt_end = (uintptr_t)base + (end - start),
        .addr_delta = (uintptr_t)base,
        .qxl_ram_size = emu->num_pages * PAGE,
    };
    emu->rom->slot_generation = 0;
    return true;
}

/* qxl_create_guest_primary: from ram->create_surface. */
static bool primary_from_guest(QxlEmu *emu, QXLDevSurfaceCreate *surface)
{
    QXLSurfaceCreate *sc = &emu->ram_hdr->create_surface;
    int64_t stride = sc->stride;

    if (sc->stride == INT32_MIN || (stride < 0 ? -stride : stride) * sc->height >
        emu->cfg.vgamem_size || (stride & 3)) {
        return false;
    }
    *surface = (QXLDevSurfaceCreate){
        .width = sc->width,
        .height = sc->height,
        .stride = sc->stride,
        .format = sc->format,
        .position = sc->position,
        .mouse_mode = 1,
        .flags = sc->flags,
        .type = sc->type,
        .mem = sc->mem,
        .group_id = QXL_EMU_GROUP_GUEST,
    };
    return true;
}

static void io_write_dispatch(QxlEmu *emu, uint32_t port, uint32_t val)
{
    const SpiceServerApi *api = emu->api;
    QXLInstance *qin = &emu->qxl;
    uint64_t cookie = 0;

    if (io_is_async(port)) {
        g_mutex_lock(&emu->lock);
        if (emu->current_async != QXL_EMU_IO_NONE) {
            g_mutex_unlock(&emu->lock);
            guest_bug(emu, "async IO started before the last one completed");
            qxl_emu_send_events(emu, QXL_INTERRUPT_IO_CMD);
            return;
        }
        guint seq = emu->cookie_state->len;
        guint8 pending = COOKIE_PENDING;
        g_byte_array_append(emu->cookie_state, &pending, 1);
        cookie = COOKIE_TAG | seq;
        emu->current_async = port;
        emu->current_cookie = cookie;
        emu->async_t0 = qxl_emu_now_ns();
        emu->stats.async_issued++;
        g_mutex_unlock(&emu->lock);
    }

    switch (port) {
    case QXL_IO_NOTIFY_CMD:
    case QXL_IO_NOTIFY_CURSOR:
        g_mutex_lock(&emu->lock);
        emu->stats.wakeups++;
        g_mutex_unlock(&emu->lock);
        api->spice_qxl_wakeup(qin);
        break;
    case QXL_IO_UPDATE_AREA:
    case QXL_IO_UPDATE_AREA_ASYNC: {
        QXLRect area = emu->ram_hdr->update_area;
        uint32_t surface_id = emu->ram_hdr->update_surface;
        if (port == QXL_IO_UPDATE_AREA) {
            api->spice_qxl_update_area(qin, surface_id, &area, NULL, 0, 0);
        } else {
            api->spice_qxl_update_area_async(qin, surface_id, &area, 0, cookie);
        }
        break;
    }
    case QXL_IO_NOTIFY_OOM:
        if (!SPICE_RING_IS_EMPTY(&emu->ram_hdr->release_ring)) {
            break;
        }
        g_mutex_lock(&emu->lock);
        emu->oom_running = true;
        emu->stats.oom_calls++;
        g_mutex_unlock(&emu->lock);
        api->spice_qxl_oom(qin);
        g_mutex_lock(&emu->lock);
        emu->oom_running = false;
        g_mutex_unlock(&emu->lock);
        break;
    case QXL_IO_RESET:
        api->spice_qxl_reset_cursor(qin);
        api->spice_qxl_reset_image_cache(qin);
        api->spice_qxl_destroy_surfaces(qin);
        api->spice_qxl_reset_memslots(qin);
        g_mutex_lock(&emu->lock);
        reset_ram(emu);
        g_mutex_unlock(&emu->lock);
        add_host_memslot(emu);
        break;
    case QXL_IO_MEMSLOT_ADD:
    case QXL_IO_MEMSLOT_ADD_ASYNC: {
        QXLDevMemSlot slot;
        if (!memslot_from_guest(emu, val, &slot)) {
            guest_bug(emu, "bad memslot");
            break;
        }
        if (port == QXL_IO_MEMSLOT_ADD) {
            api->spice_qxl_add_memslot(qin, &slot);
        } else {
            api->spice_qxl_add_memslot_async(qin, &slot, cookie);
        }
        break;
    }
    case QXL_IO_MEMSLOT_DEL:
        /* QEMU's quirk: it names the host group here. */
        api->spice_qxl_del_memslot(qin, QXL_EMU_GROUP_HOST, val);
        break;
    case QXL_IO_CREATE_PRIMARY:
    case QXL_IO_CREATE_PRIMARY_ASYNC: {
        QXLDevSurfaceCreate surface;
        if (!primary_from_guest(emu, &surface)) {
            guest_bug(emu, "primary larger than the framebuffer or misaligned stride");
            if (cookie) {
                /* QEMU leaves the IO pending; we complete it ourselves so the
                 * exactly-once accounting stays about the server. */
                g_mutex_lock(&emu->lock);
                emu->cookie_state->data[cookie & ~COOKIE_TAG] = COOKIE_DONE;
                emu->stats.async_issued--;
                emu->current_async = QXL_EMU_IO_NONE;
                g_mutex_unlock(&emu->lock);
            }
            break;
        }
        if (port == QXL_IO_CREATE_PRIMARY) {
            api->spice_qxl_create_primary_surface(qin, 0, &surface);
        } else {
            api->spice_qxl_create_primary_surface_async(qin, 0, &surface, cookie);
        }
        break;
    }
    case QXL_IO_DESTROY_PRIMARY:
        api->spice_qxl_destroy_primary_surface(qin, 0);
        api->spice_qxl_reset_cursor(qin);
        break;
    case QXL_IO_DESTROY_PRIMARY_ASYNC:
        api->spice_qxl_destroy_primary_surface_async(qin, 0, cookie);
        break;
    case QXL_IO_DESTROY_SURFACE_WAIT:
        api->spice_qxl_destroy_surface_wait(qin, val);
        break;
    case QXL_IO_DESTROY_SURFACE_ASYNC:
        api->spice_qxl_destroy_surface_async(qin, val, cookie);
        break;
    case QXL_IO_DESTROY_ALL_SURFACES:
        api->spice_qxl_destroy_surfaces(qin);
        break;
    case QXL_IO_DESTROY_ALL_SURFACES_ASYNC:
        api->spice_qxl_destroy_surfaces_async(qin, cookie);
        break;
    case QXL_IO_FLUSH_SURFACES_ASYNC:
        api->spice_qxl_flush_surfaces_async(qin, cookie);
        break;
    case QXL_IO_FLUSH_RELEASE: {
        QXLReleaseRing *ring = &emu->ram_hdr->release_ring;
        g_mutex_lock(&emu->lock);
        bool full = ring->prod - ring->cons + 1 == ring->num_items;
        if (!full) {
            push_free_res(emu, true);
        }
        g_mutex_unlock(&emu->lock);
        if (full) {
            guest_bug(emu, "flush release with a full release ring");
        }
        break;
    }
    case QXL_IO_MONITORS_CONFIG_ASYNC:
        api->spice_qxl_monitors_config_async(qin, emu->ram_hdr->monitors_config,
                                             QXL_EMU_GROUP_GUEST, cookie);
        break;
    default:
        guest_bug(emu, "unsupported IO port");
        break;
    }
}

void qxl_emu_io_write(QxlEmu *emu, uint32_t port, uint32_t val)
{
    int64_t t0 = qxl_emu_now_ns();

    io_write_dispatch(emu, port, val);
    /* How long the vCPU was held: a server must never make it wait on a
     * client (docs/bench.md, "Clients"). */
    int64_t dt = qxl_emu_now_ns() - t0;
    g_mutex_lock(&emu->lock);
    if ((uint64_t)dt > emu->stats.io_max_ns) {
        emu->stats.io_max_ns = (uint64_t)dt;
        emu->stats.io_max_port = port;
    }
    g_mutex_unlock(&emu->lock);
}

void qxl_emu_reset_io_max(QxlEmu *emu)
{
    g_mutex_lock(&emu->lock);
    emu->stats.io_max_ns = 0;
    emu->stats.io_max_port = QXL_EMU_IO_NONE;
    g_mutex_unlock(&emu->lock);
}

/* ---- accessors ----------------------------------------------------------- */

QXLInstance *qxl_emu_instance(QxlEmu *emu) { return &emu->qxl; }
uint8_t *qxl_emu_ram(QxlEmu *emu) { return emu->ram; }
uint8_t *qxl_emu_vram(QxlEmu *emu) { return emu->vram; }
QXLRam *qxl_emu_ram_header(QxlEmu *emu) { return emu->ram_hdr; }
QXLRom *qxl_emu_rom(QxlEmu *emu) { return emu->rom; }
const QxlEmuConfig *qxl_emu_config(QxlEmu *emu) { return &emu->cfg; }
int qxl_emu_irq_fd(QxlEmu *emu) { return emu->irq_fd; }

void qxl_emu_set_irq_hook(QxlEmu *emu, QxlEmuIrqFunc func, void *opaque)
{
    emu->irq_func = func;
    emu->irq_opaque = opaque;
}

uint32_t qxl_emu_take_irq(QxlEmu *emu)
{
    return __atomic_exchange_n(&emu->ram_hdr->int_pending, 0, __ATOMIC_SEQ_CST);
}

bool qxl_emu_async_pending(QxlEmu *emu)
{
    g_mutex_lock(&emu->lock);
    bool pending = emu->current_async != QXL_EMU_IO_NONE;
    g_mutex_unlock(&emu->lock);
    return pending;
}

void qxl_emu_async_last(QxlEmu *emu, uint32_t *io, int64_t *latency_ns)
{
    g_mutex_lock(&emu->lock);
    *io = emu->last_async_io;
    *latency_ns = emu->last_async_latency;
    g_mutex_unlock(&emu->lock);
}

void qxl_emu_get_stats(QxlEmu *emu, QxlEmuStats *out)
{
    g_mutex_lock(&emu->lock);
    *out = emu->stats;
    g_mutex_unlock(&emu->lock);
}

unsigned qxl_emu_outstanding(QxlEmu *emu)
{
    g_mutex_lock(&emu->lock);
    unsigned n = emu->outstanding;
    g_mutex_unlock(&emu->lock);
    return n;
}

int qxl_emu_worker_tid(QxlEmu *emu)
{
    g_mutex_lock(&emu->lock);
    int tid = emu->worker_tid;
    g_mutex_unlock(&emu->lock);
    return tid;
}

void qxl_emu_track_submit(QxlEmu *emu, uint64_t ram_offset, uint32_t cmd_type,
                          void *guest_data)
{
    QxlEmuTrack *track = g_new(QxlEmuTrack, 1);

    track->state = QXL_EMU_TRACK_SUBMITTED;
    track->cmd_type = cmd_type;
    track->guest_data = guest_data;
    g_mutex_lock(&emu->lock);
    /* The guest reuses memory only after collecting it: a live entry at the
     * same offset is our bug. */
    g_assert(!g_hash_table_contains(emu->tracked, GSIZE_TO_POINTER(ram_offset)));
    g_hash_table_insert(emu->tracked, GSIZE_TO_POINTER(ram_offset), track);
    emu->outstanding++;
    g_mutex_unlock(&emu->lock);
}

void *qxl_emu_track_collect(QxlEmu *emu, uint64_t id, uint64_t *next)
{
    void *data = NULL;

    *next = 0;
    g_mutex_lock(&emu->lock);
    QxlEmuTrack *track = g_hash_table_lookup(emu->tracked, GSIZE_TO_POINTER(id));
    if (track && track->state == QXL_EMU_TRACK_RELEASED) {
        *next = ((QXLReleaseInfo *)(emu->ram + id))->next;
        data = track->guest_data;
        g_hash_table_remove(emu->tracked, GSIZE_TO_POINTER(id));
    } else {
        emu->stats.collect_errors++;
    }
    g_mutex_unlock(&emu->lock);
    return data;
}
