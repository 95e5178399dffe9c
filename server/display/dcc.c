/* One display client: the start sequence, the pipe policy and damage.
 *
 * Modes (docs/display.md has the diagram):
 *   WAIT_INIT  SET_ACK sent; nothing else until DISPLAY_INIT.
 *   DRAW       each guest drawable is queued as a draw operation.
 *              A drawable the pipe cannot take in time (over half the
 *              budget, 4096 items, or more than DCC_DRAIN_BOUND_MS of
 *              queue at the client's measured drain rate), or that reads
 *              damaged pixels of another surface, becomes damage instead;
 *              the draws already queued stay. Damage is the set of pixels
 *              the client may hold wrong: draws sent meanwhile keep it
 *              exact (an opaque draw removes its area, COPY_BITS moves it).
 *   DAMAGE     a catch-up: queued draws drain, every drawable becomes
 *              damage, then the damage goes out band by band as images
 *              read from the canvas at marshal time; back to DRAW when
 *              none is left, or when this catch-up has sent the area it
 *              started with and the guest drew meanwhile.
 * A catch-up starts when the client has drained its pipe, when the bytes
 * of the drawables turned into damage would pay for it, when the guest
 * has been quiet for DCC_CATCHUP_QUIET_MS, or DCC_CATCHUP_MAX_DELAY_MS
 * after the previous one: a lagging client is refreshed as often as its
 * damage is worth it, and converges once the guest pauses.
 * The worker never waits for a client in any mode.
 */
#include "server/display/dcc.h"

#include <string.h>
#include <spice/protocol.h>

#include "common/wire/display-msgs.h"
#include "server/core/log.h"

/* Most items a pipe holds in DRAW mode (bounds per-item overhead too). */
#define DCC_MAX_PIPE_ITEMS 4096u
/* Most time the queued draws may take the client to drain, at its
 * measured rate. Longer queues are more lag before the client sees the
 * present; shorter ones turn more drawables into damage, which costs
 * ~4 bytes a pixel uncompressed against tens of bytes per fill. 200 ms is
 * about where added lag becomes noticeable in interactive use, and covers
 * a full 4096-item queue for a client drawing >= 20k fills/s. */
#define DCC_DRAIN_BOUND_MS 200
/* Drain samples cover at least this much backlogged time; older ones
 * weigh less with a time constant of DCC_DRAIN_TAU_MS. Below
 * DCC_DRAIN_KNOWN_MS of measured backlog the rate counts as unknown (the
 * byte and item limits alone apply). */
#define DCC_DRAIN_SAMPLE_MS 20
#define DCC_DRAIN_TAU_MS 500
#define DCC_DRAIN_KNOWN_MS 10
/* A catch-up at least this often while damage is pending (staleness
 * bound of a lagging client's picture), and once the guest drew nothing
 * for DCC_CATCHUP_QUIET_MS (convergence when it pauses). */
#define DCC_CATCHUP_MAX_DELAY_MS 1000
#define DCC_CATCHUP_QUIET_MS 50
/* Wire bytes of a draw besides its copied data (header, box, clip type,
 * brush, rop, mask): what a drawable turned into damage saves at least. */
#define DCC_DRAW_WIRE_BASE 48
/* A client that took no message while this many drawables were refused
 * counts as stalled, whatever the clock says: its queued draws become
 * damage. */
#define DCC_STALL_REJECTS 4096
/* A damage box made of few one-colour rectangles goes as that many
 * DRAW_FILLs in one LIST, when they cost at most 1/DCC_FILLS_MAX_SHARE of
 * its raw pixels and the client handles them within DCC_FILLS_MAX_MS at
 * its measured rate (a client slow per message gets the image). */
#define DCC_FILLS_MAX_SHARE 2
#define DCC_FILLS_MAX_MS 80
#define DCC_FILLS_MAX 4096
/* A box that is not few enough rectangles as a whole is tried in strips
 * of at least this many rows, at most DCC_FILL_MAX_STRIPS of them. */
#define DCC_FILL_STRIP_ROWS 32
#define DCC_FILL_MAX_STRIPS 64
/* Wire bytes of one DRAW_FILL sub-message of a LIST, no clip, no mask. */
#define DCC_FILL_SUB_BYTES 47
/* Charged per queued draw item besides op->bytes (the item itself). */
#define DCC_DRAW_ITEM_OVERHEAD 32

size_t dcc_queued_bytes(const DisplayChannelClient *dcc)
{
    const RedChannelClient *rcc = &dcc->base;
    size_t out = rcc->out_pos < rcc->out.len ? rcc->out.len : 0;
    return rcc->pipe_bytes + out;
}

/* Half the budget for queued operations, half for one damage band in
 * flight: together they stay under the budget. */
size_t dcc_ops_limit(const DisplayChannelClient *dcc)
{
    return dcc->base.channel->pipe_budget / 2;
}

bool dcc_has_surface(const DisplayChannelClient *dcc, uint32_t id)
{
    return g_hash_table_contains(dcc->client_surfaces, GUINT_TO_POINTER(id));
}

static bool dcc_format_supported(const DisplayChannelClient *dcc, uint32_t format, bool primary)
{
    switch (format) {
    case SPICE_SURFACE_FMT_32_xRGB:
    case SPICE_SURFACE_FMT_32_ARGB:
    case SPICE_SURFACE_FMT_16_555:
    case SPICE_SURFACE_FMT_16_565:
        return true;
    case SPICE_SURFACE_FMT_8_A:
        return !primary && red_channel_client_has_cap(&dcc->base, SPICE_DISPLAY_CAP_A8_SURFACE);
    default:
        return false;
    }
}

/* ---- damage ---- */

static pixman_region32_t *damage_get(DisplayChannelClient *dcc, uint32_t id, bool create)
{
    pixman_region32_t *r = g_hash_table_lookup(dcc->damage, GUINT_TO_POINTER(id));
    if (!r && create) {
        r = g_new(pixman_region32_t, 1);
        pixman_region32_init(r);
        g_hash_table_insert(dcc->damage, GUINT_TO_POINTER(id), r);
    }
    return r;
}

static void damage_free(gpointer p)
{
    pixman_region32_fini(p);
    g_free(p);
}

static void damage_add(DisplayChannelClient *dcc, uint32_t id, const pixman_region32_t *region)
{
    if (!dcc_has_surface(dcc, id) || !pixman_region32_not_empty(region)) {
        return;
    }
    pixman_region32_t *r = damage_get(dcc, id, true);
    pixman_region32_union(r, r, region);
    if (dcc->pace.damage_since_ms < 0) {
        dcc->pace.damage_since_ms = dcc->dc->stream_clock();
    }
}

static bool damage_any(DisplayChannelClient *dcc)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, dcc->damage);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        if (pixman_region32_not_empty(value)) {
            return true;
        }
    }
    return false;
}

static int64_t region_area(pixman_region32_t *r)
{
    int n = 0;
    const pixman_box32_t *b = pixman_region32_rectangles(r, &n);
    int64_t a = 0;
    for (int i = 0; i < n; i++) {
        a += (int64_t)(b[i].x2 - b[i].x1) * (b[i].y2 - b[i].y1);
    }
    return a;
}

static int64_t damage_area(DisplayChannelClient *dcc)
{
    GHashTableIter it;
    gpointer value;
    int64_t a = 0;
    g_hash_table_iter_init(&it, dcc->damage);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        a += region_area(value);
    }
    return a;
}

static void damage_add_surface(DisplayChannelClient *dcc, uint32_t id, uint32_t w, uint32_t h)
{
    pixman_region32_t all;
    pixman_region32_init_rect(&all, 0, 0, w, h);
    damage_add(dcc, id, &all);
    pixman_region32_fini(&all);
}

static void draw_to_damage(DisplayChannelClient *dcc, const DisplayDrawOp *op);

static bool drop_draw_pred(RedPipeItem *item, void *opaque)
{
    DisplayChannelClient *dcc = opaque;
    if (item->kind != DCC_ITEM_DRAW) {
        return false;
    }
    draw_to_damage(dcc, dcc_draw_item_op(item));
    return true;
}

/* Starts the pipe over: if nothing is queued, the drained handler runs now
 * (otherwise it runs when the pipe empties). */
static void dcc_kick(DisplayChannelClient *dcc)
{
    if (g_queue_is_empty(&dcc->base.pipe) && !red_channel_client_is_blocked(&dcc->base)) {
        dcc_on_pipe_drained(&dcc->base);
    }
}

void dcc_add_damage(DisplayChannelClient *dcc, uint32_t surface_id,
                    const pixman_region32_t *region)
{
    damage_add(dcc, surface_id, region);
}

void dcc_push_damage(DisplayChannelClient *dcc)
{
    dcc_kick(dcc);
}

static void dcc_enter_damage(DisplayChannelClient *dcc)
{
    if (dcc->mode == DCC_DRAW) {
        red_debug("display client %p: behind, dropping queued draws", (void *)dcc);
    }
    dcc->mode = DCC_DAMAGE;
    dcc->pace.catchup_started = false;
    red_channel_client_pipe_drop(&dcc->base, drop_draw_pred, dcc);
}

/* ---- drain rate and catch-up pacing ----
 *
 * The drain rate is measured only while the pipe holds something (then
 * the client, not the guest, sets the pace): items and charged bytes that
 * left the pipe (rcc->serial, rcc->pipe_bytes_out) over that time, as
 * sums that decay with backlogged time. With the ack window, items leave
 * the pipe as fast as the client handles messages; with a full socket, as
 * fast as it reads bytes. */

static int64_t pace_now(DisplayChannelClient *dcc)
{
    return dcc->dc->stream_clock();
}

/* Adds the backlog from t0_ms to now as a sample; starts the next one. */
static void drain_sample(DisplayChannelClient *dcc, int64_t now)
{
    DccPace *p = &dcc->pace;
    RedChannelClient *rcc = &dcc->base;
    int64_t dt = MAX(now - p->t0_ms, (int64_t)1);
    double keep = (double)DCC_DRAIN_TAU_MS / (double)(DCC_DRAIN_TAU_MS + dt);

    p->items = p->items * keep + (double)(rcc->serial - p->serial0);
    p->bytes = p->bytes * keep + (double)(rcc->pipe_bytes_out - p->bytes0);
    p->span_ms = p->span_ms * keep + (double)dt;
    p->t0_ms = now;
    p->serial0 = rcc->serial;
    p->bytes0 = rcc->pipe_bytes_out;
}

/* Estimated ms for the client to drain n items of b charged bytes: 0
 * while the rate is unknown, huge for a client that drained nothing. */
static double drain_ms(const DccPace *p, double n, double b)
{
    if (p->span_ms < DCC_DRAIN_KNOWN_MS) {
        return 0;
    }
    double by_items = n * p->span_ms / MAX(p->items, 1e-6);
    double by_bytes = b * p->span_ms / MAX(p->bytes, 1e-6);
    return MAX(by_items, by_bytes);
}

/* Bound on the credit either way (bytes). */
static int64_t pace_credit_max(const DisplayChannelClient *dcc)
{
    return (int64_t)dcc->base.channel->pipe_budget * 4;
}

/* Wire bytes per pixel of the damage images sent so far (raw 32-bit
 * until there is a measurement). */
static double band_bpp(const DccPace *p)
{
    return p->band_px > 0 ? p->band_bytes / p->band_px : 4.0;
}

static void band_note(DisplayChannelClient *dcc, size_t bytes, int64_t px)
{
    DccPace *p = &dcc->pace;
    if (!dcc->start_pending) {
        /* paid from what the drawables it replaces would have cost; a
         * debt delays the next catch-up */
        p->credit = MAX(p->credit - (int64_t)bytes, -pace_credit_max(dcc));
    }
    if (p->band_px > 1e8) {
        p->band_px /= 2;
        p->band_bytes /= 2;
    }
    p->band_px += (double)px;
    p->band_bytes += (double)bytes;
}

/* What a drawable turned into damage would have cost as a draw, at
 * least: its fixed fields plus the data it carries (clip rectangles,
 * glyphs, images as copied). Unknown (no op) counts the fixed part. */
static int64_t draw_cost(const DisplayDrawOp *op)
{
    return DCC_DRAW_WIRE_BASE + (op ? (int64_t)(op->bytes - sizeof(*op)) : 0);
}

static void pace_credit(DisplayChannelClient *dcc, const DisplayDrawOp *op)
{
    DccPace *p = &dcc->pace;
    /* bounded: a long lag must not buy back-to-back catch-ups later */
    p->credit = MIN(p->credit + draw_cost(op), pace_credit_max(dcc));
}

/* A queued draw the client will not get: its pixels become damage, and
 * what it would have cost pays toward the catch-up. */
static void draw_to_damage(DisplayChannelClient *dcc, const DisplayDrawOp *op)
{
    damage_add(dcc, op->surface_id, &op->region);
    pace_credit(dcc, op);
    dcc->drops++;
}

/* Damage area in pixels, re-measured at most every DCC_DRAIN_SAMPLE_MS
 * (regions of many rectangles are not summed per drawable). */
static int64_t damage_px(DisplayChannelClient *dcc, int64_t now, bool fresh)
{
    DccPace *p = &dcc->pace;
    if (fresh || p->px_est < 0 || now - p->px_est_ms >= DCC_DRAIN_SAMPLE_MS) {
        p->px_est = damage_area(dcc);
        p->px_est_ms = now;
    }
    return p->px_est;
}

/* Whether pending damage should go out now (DRAW mode, client busy). */
static bool catchup_due(DisplayChannelClient *dcc, int64_t now)
{
    DccPace *p = &dcc->pace;
    if (dcc->start_pending || now - p->damage_since_ms >= DCC_CATCHUP_MAX_DELAY_MS ||
        now - p->last_draw_ms >= DCC_CATCHUP_QUIET_MS) {
        return true;
    }
    /* the drawables it replaces paid for it */
    return (double)p->credit >= (double)damage_px(dcc, now, false) * band_bpp(p);
}

static void pace_arm(DisplayChannelClient *dcc)
{
    DccPace *p = &dcc->pace;
    if (!p->timer_armed && p->timer) {
        p->timer_armed = true;
        red_timer_start(p->timer, DCC_CATCHUP_QUIET_MS);
    }
}

/* DRAW -> DAMAGE without dropping queued draws: they drain first, then
 * the bands go (dcc_on_pipe_drained). */
static void catchup_mark(DisplayChannelClient *dcc, int64_t now)
{
    DccPace *p = &dcc->pace;
    dcc->mode = DCC_DAMAGE;
    p->t0_ms = -1;                  /* the rate is measured on draws only */
    p->catchup_started = false;
    p->damage_since_ms = now;       /* the next deadline counts from here */
    p->catchups++;
}

static void catchup_begin(DisplayChannelClient *dcc, int64_t now)
{
    catchup_mark(dcc, now);
    dcc_kick(dcc);
}

static void pace_timer_cb(void *opaque)
{
    DisplayChannelClient *dcc = opaque;
    DccPace *p = &dcc->pace;
    int64_t now = pace_now(dcc);

    p->timer_armed = false;
    if (dcc->mode != DCC_DRAW) {
        return;                     /* a catch-up is under way */
    }
    if (!damage_any(dcc)) {
        p->damage_since_ms = -1;
        return;
    }
    if (catchup_due(dcc, now)) {
        catchup_begin(dcc, now);
    } else {
        pace_arm(dcc);
    }
}

typedef struct {
    DisplayChannelClient *dcc;
    guint pos, cut;
} TrimCtx;

static bool trim_pred(RedPipeItem *item, void *opaque)
{
    TrimCtx *t = opaque;
    if (t->pos++ < t->cut || item->kind != DCC_ITEM_DRAW) {
        return false;
    }
    draw_to_damage(t->dcc, dcc_draw_item_op(item));
    t->dcc->pace.trimmed++;
    return true;
}

/* The client got slower than when its queued draws were admitted: the
 * draws beyond DCC_DRAIN_BOUND_MS of drain become damage. Dropping a tail
 * keeps the damage exact (the kept draws are a prefix of what was sent). */
static void trim_queue(DisplayChannelClient *dcc)
{
    RedChannelClient *rcc = &dcc->base;
    const DccPace *p = &dcc->pace;
    if (drain_ms(p, g_queue_get_length(&rcc->pipe), (double)rcc->pipe_bytes) <=
        2 * DCC_DRAIN_BOUND_MS) {
        return;
    }
    TrimCtx t = { dcc, 0, 0 };
    double n = 0, b = 0;
    for (GList *l = rcc->pipe.head; l; l = l->next, t.cut++) {
        RedPipeItem *item = l->data;
        n += 1;
        b += (double)item->size;
        if (drain_ms(p, n, b) > DCC_DRAIN_BOUND_MS) {
            break;
        }
    }
    red_channel_client_pipe_drop(rcc, trim_pred, &t);
}

/* Whether one more item, with the pipe then holding `bytes` charged
 * bytes, drains within DCC_DRAIN_BOUND_MS. An empty pipe always takes one:
 * the client is idle, and draining it is what measures the rate again
 * after a stall. */
static bool drain_fits(const DisplayChannelClient *dcc, guint queued, double bytes)
{
    return queued == 0 || drain_ms(&dcc->pace, queued + 1.0, bytes) <= DCC_DRAIN_BOUND_MS;
}

bool dcc_wants_draw(const DisplayChannelClient *dcc)
{
    const RedChannelClient *rcc = &dcc->base;
    guint n = g_queue_get_length((GQueue *)&rcc->pipe);
    return dcc->mode == DCC_DRAW && n < DCC_MAX_PIPE_ITEMS &&
           dcc_queued_bytes(dcc) < dcc_ops_limit(dcc) &&
           drain_fits(dcc, n, (double)rcc->pipe_bytes);
}

/* A drawable was refused while the pipe holds something: a client that
 * takes nothing for DCC_STALL_REJECTS of them is stalled. */
static void stall_check(DisplayChannelClient *dcc)
{
    DccPace *p = &dcc->pace;
    RedChannelClient *rcc = &dcc->base;
    if (g_queue_is_empty(&rcc->pipe) || rcc->serial != p->stall_serial) {
        p->stall_serial = rcc->serial;
        p->stall_rejects = 0;
        return;
    }
    if (++p->stall_rejects < DCC_STALL_REJECTS) {
        return;
    }
    p->stall_rejects = 0;
    /* (the rate itself falls with the time samples that see nothing
     * leave; a client busy with one large image is not zeroed) */
    red_channel_client_pipe_drop(rcc, drop_draw_pred, dcc);
}

/* Per drawable: measures the drain rate while the pipe is backlogged with
 * draws (DRAW mode: catch-up images drain at another pace, and the
 * estimate bounds queues of draws). */
static void drain_observe(DisplayChannelClient *dcc, int64_t now)
{
    DccPace *p = &dcc->pace;
    RedChannelClient *rcc = &dcc->base;
    if (g_queue_is_empty(&rcc->pipe) || dcc->mode != DCC_DRAW) {
        p->t0_ms = -1;
        return;
    }
    if (p->t0_ms < 0) {
        /* from when the client, not an empty ack window or socket
         * buffer, limits the flow: refilling those is not draining */
        if (!red_channel_client_is_blocked(rcc)) {
            return;
        }
        p->t0_ms = now;
        p->serial0 = rcc->serial;
        p->bytes0 = rcc->pipe_bytes_out;
        return;
    }
    if (now - p->t0_ms >= DCC_DRAIN_SAMPLE_MS) {
        drain_sample(dcc, now);
        trim_queue(dcc);
    }
}

/* Whether surface `id`'s pending damage (the pixels the client may hold
 * wrong) is read by op as a source. Destination reads need no check: every
 * draw computes a pixel from that pixel alone, so a wrong pixel stays
 * wrong (still damaged) and a right one stays right. */
static bool op_reads_damage(DisplayChannelClient *dcc, const DisplayDrawOp *op)
{
    for (uint32_t i = 0; i < op->n_src_surfaces; i++) {
        pixman_region32_t *r = damage_get(dcc, op->src_surfaces[i], false);
        if (r && pixman_region32_not_empty(r)) {
            return true;
        }
    }
    return false;
}

/* Whether op sets every pixel of its region from its own data alone. */
static bool op_overwrites(const DisplayDrawOp *op)
{
    const WireDraw *d = &op->draw;
    switch (d->type) {
    case SPICE_MSG_DISPLAY_DRAW_FILL:
        return d->u.fill.rop_descriptor == SPICE_ROPD_OP_PUT && !d->u.fill.mask.bitmap;
    case SPICE_MSG_DISPLAY_DRAW_OPAQUE:
        return d->u.opaque.rop_descriptor == SPICE_ROPD_OP_PUT && !d->u.opaque.mask.bitmap;
    case SPICE_MSG_DISPLAY_DRAW_COPY:
        return d->u.copy.rop_descriptor == SPICE_ROPD_OP_PUT && !d->u.copy.mask.bitmap;
    case SPICE_MSG_DISPLAY_DRAW_BLACKNESS:
    case SPICE_MSG_DISPLAY_DRAW_WHITENESS:
        return !d->u.whiteness.mask.bitmap;
    default:
        return false;
    }
}

/* op goes to the client while damage is pending: the pixels it sets from
 * its own data are right on the client now; COPY_BITS carries the damage
 * of its source area to its destination. */
static void damage_apply_draw(DisplayChannelClient *dcc, const DisplayDrawOp *op)
{
    pixman_region32_t *d = damage_get(dcc, op->surface_id, false);
    if (!d || !pixman_region32_not_empty(d)) {
        return;
    }
    if (op->draw.type == SPICE_MSG_DISPLAY_COPY_BITS) {
        int dx = op->draw.u.copy_bits_src.x - op->draw.box.left;
        int dy = op->draw.u.copy_bits_src.y - op->draw.box.top;
        pixman_region32_t moved;
        pixman_region32_init(&moved);
        pixman_region32_copy(&moved, (pixman_region32_t *)&op->region);
        pixman_region32_translate(&moved, dx, dy);
        pixman_region32_intersect(&moved, &moved, d);
        pixman_region32_translate(&moved, -dx, -dy);
        pixman_region32_subtract(d, d, (pixman_region32_t *)&op->region);
        pixman_region32_union(d, d, &moved);
        pixman_region32_fini(&moved);
    } else if (op_overwrites(op)) {
        pixman_region32_subtract(d, d, (pixman_region32_t *)&op->region);
    }
}

/* Whether the pipe takes op now: under the byte and item limits, and
 * drained by the client within DCC_DRAIN_BOUND_MS. */
static bool pipe_admits(DisplayChannelClient *dcc, const DisplayDrawOp *op)
{
    RedChannelClient *rcc = &dcc->base;
    guint n = g_queue_get_length(&rcc->pipe);
    return dcc_queued_bytes(dcc) + op->bytes <= dcc_ops_limit(dcc) && n < DCC_MAX_PIPE_ITEMS &&
           drain_fits(dcc, n, (double)(rcc->pipe_bytes + op->bytes + DCC_DRAW_ITEM_OVERHEAD));
}

/* ---- simple messages ---- */

static void send_body(DisplayChannelClient *dcc, uint16_t type, WireWriter *w)
{
    red_channel_client_send_raw(&dcc->base, type, w->data, w->len);
    wire_writer_clear(w);
}

static void send_surface_create(DisplayChannelClient *dcc, uint32_t id, const DisplaySurfaceInfo *s)
{
    WireWriter w;
    wire_writer_init(&w);
    wire_display_surface_create(&w, id, s->width, s->height, s->format,
                                s->primary ? SPICE_SURFACE_FLAGS_PRIMARY : 0);
    send_body(dcc, SPICE_MSG_DISPLAY_SURFACE_CREATE, &w);
}

static void send_monitors_config(DisplayChannelClient *dcc)
{
    DisplayChannel *dc = dcc->dc;
    WireHead heads[DISPLAY_MAX_HEADS];
    uint16_t n = 0;

    if (!red_channel_client_has_cap(&dcc->base, SPICE_DISPLAY_CAP_MONITORS_CONFIG)) {
        return;
    }
    if (dc->guest_heads_set) {
        for (uint32_t i = 0; i < dc->n_heads; i++) {
            const DisplayHead *h = &dc->heads[i];
            if (h->width == 0 || h->height == 0) {
                continue;
            }
            heads[n++] = (WireHead){ h->id, h->surface_id, h->width, h->height, h->x, h->y,
                                     h->flags };
        }
    } else {
        DisplaySurfaceInfo *p = g_hash_table_lookup(dc->surfaces, GUINT_TO_POINTER(0));
        if (p && p->live) {
            heads[n++] = (WireHead){ 0, 0, p->width, p->height, 0, 0, 0 };
        }
    }
    if (n == 0) {
        return;                     /* spice-gtk ignores an empty config */
    }
    WireWriter w;
    wire_writer_init(&w);
    wire_display_monitors_config(&w, heads, n, (uint16_t)MAX(dc->max_allowed, 1u));
    send_body(dcc, SPICE_MSG_DISPLAY_MONITORS_CONFIG, &w);
}

/* INVAL_ALL_PIXMAPS: the cache model is emptied when it is sent. */
static uint16_t inval_all_marshal(RedChannelClient *rcc, RedPipeItem *item, WireWriter *w)
{
    DisplayChannelClient *dcc = (DisplayChannelClient *)rcc;
    pixmap_cache_reset(&dcc->cache, dcc->cache.capacity);
    wire_display_inval_all_pixmaps(w);
    return SPICE_MSG_DISPLAY_INVAL_ALL_PIXMAPS;
}

static const RedPipeItemOps inval_all_ops = { .marshal = inval_all_marshal };

void dcc_reset_cache(DisplayChannelClient *dcc)
{
    if (dcc->mode == DCC_WAIT_INIT) {
        return;
    }
    RedPipeItem *item = g_new0(RedPipeItem, 1);
    item->ops = &inval_all_ops;
    item->size = sizeof(*item);
    red_channel_client_pipe_add(&dcc->base, item);
}

/* ---- damage bands ---- */

/* A band of damage goes out as at most DCC_DAMAGE_MAX_RECTS images, one
 * per box of its plan (dcc_damage_plan). Each item carries its box; at marshal
 * time it sends the current pixels of what is still damaged inside it. */
typedef struct DamageItem {
    RedPipeItem base;
    uint32_t surface_id;
    pixman_box32_t box;
} DamageItem;

/* How many fills a damage box of raw_bytes may become for this client. */
static unsigned fills_allowed(const DisplayChannelClient *dcc, size_t raw_bytes)
{
    const DccPace *p = &dcc->pace;
    if (p->span_ms < DCC_DRAIN_KNOWN_MS || p->items <= 0) {
        return 0;                   /* rate unknown: the image */
    }
    double by_time = p->items / p->span_ms * DCC_FILLS_MAX_MS;
    double by_bytes = (double)raw_bytes / DCC_FILLS_MAX_SHARE / DCC_FILL_SUB_BYTES;
    return (unsigned)MIN(MIN(by_time, by_bytes), (double)DCC_FILLS_MAX);
}

/* Writes a DRAW_COPY of rows of pixels (top-left at x, y), encoded
 * losslessly when the client's encoders take it. */
static void write_image_draw(DisplayChannelClient *dcc, WireWriter *w, WireDraw *d,
                             const uint8_t *pixels, uint32_t width, uint32_t height,
                             uint32_t stride, uint8_t format, int32_t x, int32_t y)
{
    WireImage img, sent;
    RedEncOutput enc;
    memset(&img, 0, sizeof(img));
    memset(&enc, 0, sizeof(enc));
    img.type = SPICE_IMAGE_TYPE_BITMAP;
    img.width = width;
    img.height = height;
    img.u.bitmap.format = format;
    img.u.bitmap.flags = SPICE_BITMAP_FLAGS_TOP_DOWN;
    img.u.bitmap.stride = stride;
    img.u.bitmap.data = (uint8_t *)pixels;
    /* Catch-up, first picture and upgrades must be exact: lossless only.
     * Encoded here, at marshal time, so GLZ is safe (dcc-encode.c). */
    if (!dcc_encode_image(dcc, &img, false, &sent, &enc)) {
        sent = img;
    }
    d->type = SPICE_MSG_DISPLAY_DRAW_COPY;
    d->box = (WireRect){ x, y, x + (int32_t)width, y + (int32_t)height };
    d->u.copy.src = &sent;
    d->u.copy.src_area = (WireRect){ 0, 0, (int32_t)width, (int32_t)height };
    d->u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    d->u.copy.scale_mode = SPICE_IMAGE_SCALE_MODE_NEAREST;
    wire_display_draw(w, d);
    red_encoder_output_clear(&enc);
}

static void write_fill_sub(WireWriter *w, WireList *l, WireDraw *d, const SolidRect *r)
{
    memset(&d->u, 0, sizeof(d->u));
    d->type = SPICE_MSG_DISPLAY_DRAW_FILL;
    d->box = (WireRect){ r->x1, r->y1, r->x2, r->y2 };
    d->u.fill.brush.type = SPICE_BRUSH_TYPE_SOLID;
    d->u.fill.brush.color = r->color;
    d->u.fill.rop_descriptor = SPICE_ROPD_OP_PUT;
    wire_list_sub_begin(w, l, SPICE_MSG_DISPLAY_DRAW_FILL);
    wire_display_draw(w, d);
    wire_list_sub_end(w, l);
}

/* Writes a damage box (32-bit rows) as one LIST: the whole box as its
 * one-colour rectangles' fills if they fit `budget`, else strip by strip
 * of DCC_FILL_STRIP_ROWS rows, each strip as fills while they fit what is
 * left of the budget and cost at most 1/DCC_FILLS_MAX_SHARE of its pixels,
 * the others (adjacent ones joined) as images; budget bounds the parts.
 * Returns 0 with nothing written when no part would go as fills or the
 * parts exceed the budget. */
static uint16_t damage_as_fills(DisplayChannelClient *dcc, WireWriter *w, WireDraw *d,
                                const uint8_t *pixels, uint32_t width, uint32_t height,
                                uint32_t stride, uint8_t format, const pixman_box32_t *box,
                                unsigned budget)
{
    GArray *rects = g_array_new(FALSE, FALSE, sizeof(SolidRect));
    uint32_t strip = height, n_strips = 1;
    int parts[DCC_FILL_MAX_STRIPS];     /* rects of each strip, -1: image */
    unsigned used = 0, fill_parts = 0, subs = 0;

    if (dcc_solid_rects(pixels, width, height, stride, box->x1, box->y1, budget, rects)) {
        parts[0] = (int)rects->len;
        used = subs = rects->len;
        fill_parts = 1;
    } else {
        g_array_set_size(rects, 0);
        strip = MAX((height + DCC_FILL_MAX_STRIPS - 1) / DCC_FILL_MAX_STRIPS,
                    (uint32_t)DCC_FILL_STRIP_ROWS);
        n_strips = (height + strip - 1) / strip;
        for (uint32_t i = 0; i < n_strips; i++) {
            uint32_t y = i * strip, h = MIN(strip, height - y);
            size_t cap = MIN((size_t)(budget - used),
                             (size_t)stride * h / DCC_FILLS_MAX_SHARE / DCC_FILL_SUB_BYTES);
            guint before = rects->len;
            if (cap >= 1 && dcc_solid_rects(pixels + (size_t)y * stride, width, h, stride, box->x1,
                                        box->y1 + (int32_t)y, before + (unsigned)cap, rects)) {
                parts[i] = (int)(rects->len - before);
                used += (unsigned)parts[i];
                subs += (unsigned)parts[i];
                fill_parts++;
            } else {
                g_array_set_size(rects, before);
                parts[i] = -1;
                subs += i == 0 || parts[i - 1] >= 0;    /* joined with an image above */
            }
        }
    }
    /* every part is a message the client handles (a client slow per
     * message gets one image) */
    if (fill_parts == 0 || subs > budget || subs > G_MAXUINT16) {
        g_array_free(rects, TRUE);
        return 0;
    }
    WireList l;
    wire_list_begin(w, &l, (uint16_t)subs);
    guint k = 0;
    for (uint32_t i = 0; i < n_strips;) {
        if (parts[i] >= 0) {
            for (int j = 0; j < parts[i]; j++) {
                write_fill_sub(w, &l, d, &g_array_index(rects, SolidRect, k++));
            }
            i++;
            continue;
        }
        uint32_t e = i + 1;
        while (e < n_strips && parts[e] < 0) {
            e++;
        }
        uint32_t y = i * strip, h = MIN(e * strip, height) - y;
        memset(&d->u, 0, sizeof(d->u));
        wire_list_sub_begin(w, &l, SPICE_MSG_DISPLAY_DRAW_COPY);
        write_image_draw(dcc, w, d, pixels + (size_t)y * stride, width, h, stride, format,
                         box->x1, box->y1 + (int32_t)y);
        wire_list_sub_end(w, &l);
        i = e;
    }
    g_array_free(rects, TRUE);
    return SPICE_MSG_LIST;
}

static uint16_t damage_marshal(RedChannelClient *rcc, RedPipeItem *base, WireWriter *w)
{
    DisplayChannelClient *dcc = (DisplayChannelClient *)rcc;
    DisplayChannel *dc = dcc->dc;
    DamageItem *item = (DamageItem *)base;
    uint32_t id = item->surface_id;
    pixman_region32_t *damage = damage_get(dcc, id, false);
    RedCanvas *canvas = dc->host.get_canvas(dc->host.opaque, id);
    pixman_region32_t part;
    size_t start = w->len;

    /* Only what is still damaged in the box: earlier boxes of the band may
     * have covered some of it. Pixels outside the damage are the same on
     * the client as on the (rendered) canvas. */
    pixman_region32_init(&part);
    if (damage && canvas && dcc_has_surface(dcc, id)) {
        pixman_region32_intersect_rect(&part, damage, item->box.x1, item->box.y1,
                                       (unsigned)(item->box.x2 - item->box.x1),
                                       (unsigned)(item->box.y2 - item->box.y1));
        pixman_region32_intersect_rect(&part, &part, 0, 0,
                                       (unsigned)red_canvas_get_width(canvas),
                                       (unsigned)red_canvas_get_height(canvas));
    }
    if (!pixman_region32_not_empty(&part)) {
        /* Nothing left to send: an empty INVAL_LIST keeps the message
         * stream valid (a marshal always writes one message). */
        pixman_region32_fini(&part);
        wire_display_inval_list(w, NULL, 0);
        return SPICE_MSG_DISPLAY_INVAL_LIST;
    }

    pixman_box32_t box = *pixman_region32_extents(&part);
    pixman_region32_fini(&part);
    pixman_region32_t box_region;
    pixman_region32_init_rect(&box_region, box.x1, box.y1, (unsigned)(box.x2 - box.x1),
                              (unsigned)(box.y2 - box.y1));
    pixman_region32_subtract(damage, damage, &box_region);
    /* The whole box goes out: make all of it current. */
    dc->host.render_region(dc->host.opaque, id, &box_region);
    /* render_region may have replaced the canvas (it may not, but be safe) */
    canvas = dc->host.get_canvas(dc->host.opaque, id);
    g_assert(canvas);

    unsigned bpp;
    uint8_t format = dcc_bitmap_format_for(red_canvas_get_format(canvas), &bpp);
    uint32_t width = (uint32_t)(box.x2 - box.x1), height = (uint32_t)(box.y2 - box.y1);
    uint32_t stride = (uint32_t)(((size_t)width * bpp + 3) & ~(size_t)3);
    uint8_t *pixels = dcc_read_pixels(canvas, &box, stride);

    WireDraw d;
    memset(&d, 0, sizeof(d));
    d.surface_id = id;
    d.box = (WireRect){ box.x1, box.y1, box.x2, box.y2 };
    d.clip.type = SPICE_CLIP_TYPE_NONE;
    uint32_t color;
    if (red_canvas_get_format(canvas) == SPICE_SURFACE_FMT_32_xRGB &&
        dcc_box_is_solid(pixels, width, height, stride, &color)) {
        /* one colour (a cleared or filled area): a fill says it in a few
         * bytes, whatever the image compression */
        d.type = SPICE_MSG_DISPLAY_DRAW_FILL;
        d.u.fill.brush.type = SPICE_BRUSH_TYPE_SOLID;
        d.u.fill.brush.color = color;
        d.u.fill.rop_descriptor = SPICE_ROPD_OP_PUT;
        wire_display_draw(w, &d);
        band_note(dcc, w->len - start, (int64_t)width * height);
        g_free(pixels);
        dcc_lossy_subtract(dcc, id, &box_region);
        pixman_region32_fini(&box_region);
        dcc->damage_rects++;
        return SPICE_MSG_DISPLAY_DRAW_FILL;
    }
    unsigned max_fills = red_canvas_get_format(canvas) == SPICE_SURFACE_FMT_32_xRGB
                             ? fills_allowed(dcc, (size_t)stride * height) : 0;
    uint16_t type = 0;
    if (max_fills >= 2) {
        /* One-colour areas (filled boxes, cleared surfaces): their fills
         * cost far less than the pixels. */
        type = damage_as_fills(dcc, w, &d, pixels, width, height, stride, format, &box,
                               max_fills);
    }
    if (!type) {
        write_image_draw(dcc, w, &d, pixels, width, height, stride, format, box.x1, box.y1);
        type = SPICE_MSG_DISPLAY_DRAW_COPY;
    }
    band_note(dcc, w->len - start, (int64_t)width * height);
    g_free(pixels);
    dcc_lossy_subtract(dcc, id, &box_region);
    pixman_region32_fini(&box_region);
    dcc->damage_rects++;
    return type;
}

static const RedPipeItemOps damage_item_ops = { .marshal = damage_marshal };

/* Queues the next band of surface id's damage as its planned boxes
 * (*px: their pixels). False when the surface has nothing to send (its
 * damage is then cleared). */
static bool queue_damage_band(DisplayChannelClient *dcc, uint32_t id, int64_t *px)
{
    DisplayChannel *dc = dcc->dc;
    pixman_region32_t *damage = damage_get(dcc, id, false);
    RedCanvas *canvas = dc->host.get_canvas(dc->host.opaque, id);

    if (!damage) {
        return false;
    }
    if (canvas && dcc_has_surface(dcc, id)) {
        pixman_region32_intersect_rect(damage, damage, 0, 0,
                                       (unsigned)red_canvas_get_width(canvas),
                                       (unsigned)red_canvas_get_height(canvas));
    } else {
        /* our items for a gone surface are dropped with it */
        pixman_region32_clear(damage);
    }
    if (!pixman_region32_not_empty(damage)) {
        return false;
    }
    unsigned bpp;
    dcc_bitmap_format_for(red_canvas_get_format(canvas), &bpp);
    /* At most half the budget of pixels per band: rows of the extents. */
    const pixman_box32_t *ext = pixman_region32_extents(damage);
    size_t row_bytes = (size_t)(ext->x2 - ext->x1) * bpp;
    size_t band_bytes = dcc->base.channel->pipe_budget / 2;
    int rows = (int)MIN((size_t)(ext->y2 - ext->y1), MAX((size_t)1, band_bytes / row_bytes));
    pixman_region32_t band;
    pixman_region32_init(&band);
    pixman_region32_intersect_rect(&band, damage, ext->x1, ext->y1,
                                   (unsigned)(ext->x2 - ext->x1), (unsigned)rows);
    pixman_box32_t boxes[DCC_DAMAGE_PLAN_BOXES];
    int n = dcc_damage_plan(&band, bpp, boxes);
    pixman_region32_fini(&band);
    *px = 0;
    for (int i = 0; i < n; i++) {
        *px += dcc_box_area(&boxes[i]);
        DamageItem *item = g_new0(DamageItem, 1);
        item->base.ops = &damage_item_ops;
        item->base.kind = DCC_ITEM_DAMAGE;
        /* charged what the image will occupy once marshalled */
        item->base.size = sizeof(*item) + (size_t)dcc_box_area(&boxes[i]) * bpp;
        item->surface_id = id;
        item->box = boxes[i];
        red_channel_client_pipe_add(&dcc->base, &item->base);
    }
    dcc->damage_bands++;
    return true;
}

typedef struct {
    uint32_t id;
    bool found;
} PickDamage;

static void pick_damage(gpointer key, gpointer value, gpointer data)
{
    PickDamage *p = data;
    uint32_t id = GPOINTER_TO_UINT(key);
    if (pixman_region32_not_empty(value) && (!p->found || id < p->id)) {
        p->id = id;
        p->found = true;
    }
}

void dcc_on_pipe_drained(RedChannelClient *rcc)
{
    DisplayChannelClient *dcc = (DisplayChannelClient *)rcc;
    DccPace *p = &dcc->pace;

    if (dcc->mode == DCC_WAIT_INIT) {
        return;
    }
    int64_t now = pace_now(dcc);
    if (p->t0_ms >= 0) {
        /* the backlog lasted until now */
        drain_sample(dcc, now);
        p->t0_ms = -1;
    }
    if (dcc->mode == DCC_DRAW) {
        if (!damage_any(dcc)) {
            p->damage_since_ms = -1;
            goto clean;
        }
        /* The client drained its draws: it has time to spare for the
         * damage when the guest draws less than it takes (nothing became
         * damage since the last catch-up) or the credit pays for it;
         * otherwise the draws refused meanwhile would make this a catch-up
         * per drained pipe (the timer and the credit decide). */
        if (p->refused != p->refused0 && p->credit < 0 && !dcc->start_pending) {
            pace_arm(dcc);
            return;
        }
        catchup_mark(dcc, now);
    }
    if (!p->catchup_started) {
        p->catchup_started = true;
        p->catchup_px_left = damage_px(dcc, now, true);
        p->catchup_draws0 = p->draws;
    } else if (p->catchup_px_left <= 0 && p->draws != p->catchup_draws0 && !dcc->start_pending) {
        /* This catch-up sent the area it started with and the guest drew
         * meanwhile: the newer damage waits for its own catch-up, the
         * client gets draws again until then. */
        dcc->mode = DCC_DRAW;
        p->refused0 = p->refused;
        pace_arm(dcc);
        return;
    }
    for (;;) {
        PickDamage pick = { 0, false };
        g_hash_table_foreach(dcc->damage, pick_damage, &pick);
        if (!pick.found) {
            break;
        }
        /* a surface with nothing sendable had its damage cleared: next */
        int64_t px = 0;
        if (queue_damage_band(dcc, pick.id, &px)) {
            p->catchup_px_left -= px;
            return;
        }
    }
    p->damage_since_ms = -1;
    p->refused0 = p->refused;
clean:
    dcc->mode = DCC_DRAW;
    if (dcc->start_pending && dcc_has_surface(dcc, 0)) {
        /* The picture is complete: tell the client it may show it. */
        dcc->start_pending = false;
        send_monitors_config(dcc);
        red_channel_client_send_raw(rcc, SPICE_MSG_DISPLAY_MARK, NULL, 0);
    }
}

/* ---- events ---- */

void dcc_surface_create(DisplayChannelClient *dcc, uint32_t id, const DisplaySurfaceInfo *s,
                        bool cleared)
{
    if (dcc->mode == DCC_WAIT_INIT || !dcc_format_supported(dcc, s->format, s->primary)) {
        return;
    }
    g_hash_table_add(dcc->client_surfaces, GUINT_TO_POINTER(id));
    send_surface_create(dcc, id, s);
    if (!cleared) {
        /* The memory already holds a picture (KEEP_DATA, loadvm); the
         * client's new surface is zeros (spice-gtk allocates it cleared,
         * after our SURFACE_DESTROY of the old one): send it as damage. */
        damage_add_surface(dcc, id, s->width, s->height);
        /* later draws may read it (as a source): they wait as damage */
        dcc_enter_damage(dcc);
    }
    if (s->primary) {
        /* spice-gtk needs a MARK after each new primary. After a cleared
         * one it goes at once, as upstream does; otherwise (or while the
         * first picture is still on its way) once the damage is out. */
        if (cleared && !dcc->start_pending) {
            /* a guest that sets its own heads sends them for the new mode
             * (upstream skips its interim config for such drivers too) */
            if (!dcc->dc->guest_heads_set) {
                send_monitors_config(dcc);
            }
            red_channel_client_send_raw(&dcc->base, SPICE_MSG_DISPLAY_MARK, NULL, 0);
        } else {
            dcc->start_pending = true;
        }
    }
    dcc_kick(dcc);
}

static bool drop_damage_pred(RedPipeItem *item, void *opaque)
{
    return item->kind == DCC_ITEM_DAMAGE &&
           ((DamageItem *)item)->surface_id == GPOINTER_TO_UINT(opaque);
}

static bool drop_dead_draw_pred(RedPipeItem *item, void *opaque)
{
    return item->kind == DCC_ITEM_DRAW &&
           dcc_draw_item_op(item)->surface_id == GPOINTER_TO_UINT(opaque);
}

/* Whether a queued draw reads surface id as a source. */
static bool pipe_reads_surface(DisplayChannelClient *dcc, uint32_t id)
{
    /* from the tail: a reader is usually the last thing queued */
    for (GList *l = dcc->base.pipe.tail; l; l = l->prev) {
        RedPipeItem *item = l->data;
        if (item->kind != DCC_ITEM_DRAW) {
            continue;
        }
        const DisplayDrawOp *op = dcc_draw_item_op(item);
        for (uint32_t i = 0; i < op->n_src_surfaces; i++) {
            if (op->src_surfaces[i] == id) {
                return true;
            }
        }
    }
    return false;
}

void dcc_surface_destroy(DisplayChannelClient *dcc, uint32_t id)
{
    if (!dcc_has_surface(dcc, id)) {
        return;
    }
    /* Queued draws onto it would paint a surface about to go: drop them,
     * unless a queued draw reads it (then they must go first). */
    if (!pipe_reads_surface(dcc, id)) {
        red_channel_client_pipe_drop(&dcc->base, drop_dead_draw_pred, GUINT_TO_POINTER(id));
    }
    red_channel_client_pipe_drop(&dcc->base, drop_damage_pred, GUINT_TO_POINTER(id));
    g_hash_table_remove(dcc->damage, GUINT_TO_POINTER(id));
    dcc_lossy_surface_gone(dcc, id);
    g_hash_table_remove(dcc->client_surfaces, GUINT_TO_POINTER(id));
    WireWriter w;
    wire_writer_init(&w);
    wire_display_surface_destroy(&w, id);
    send_body(dcc, SPICE_MSG_DISPLAY_SURFACE_DESTROY, &w);
    dcc_kick(dcc);
}

static bool op_sendable(DisplayChannelClient *dcc, const DisplayDrawOp *op)
{
    for (uint32_t i = 0; i < op->n_src_surfaces; i++) {
        if (!dcc_has_surface(dcc, op->src_surfaces[i])) {
            return false;
        }
    }
    if (op->draw.type == SPICE_MSG_DISPLAY_DRAW_COMPOSITE &&
        !red_channel_client_has_cap(&dcc->base, SPICE_DISPLAY_CAP_COMPOSITE)) {
        return false;
    }
    return true;
}

void dcc_draw(DisplayChannelClient *dcc, DisplayDrawOp *op, uint32_t surface_id,
              const pixman_region32_t *region)
{
    if (dcc->mode == DCC_WAIT_INIT || !dcc_has_surface(dcc, surface_id)) {
        return;
    }
    DccPace *p = &dcc->pace;
    int64_t now = pace_now(dcc);
    p->draws++;
    p->last_draw_ms = now;
    drain_observe(dcc, now);
    if (dcc->mode == DCC_DRAW && op && op_sendable(dcc, op) &&
        (p->damage_since_ms < 0 || !op_reads_damage(dcc, op)) && pipe_admits(dcc, op)) {
        if (p->damage_since_ms >= 0) {
            damage_apply_draw(dcc, op);
        }
        dcc_queue_draw_op(dcc, op);
        return;
    }
    /* The queued draws stay (they drain within the bound); this one is
     * sent later as part of an image of the area. */
    damage_add(dcc, surface_id, region);
    pace_credit(dcc, op);
    p->refused++;
    stall_check(dcc);
    if (dcc->mode == DCC_DRAW) {
        if (catchup_due(dcc, now)) {
            catchup_begin(dcc, now);
            return;
        }
        pace_arm(dcc);
    }
    dcc_kick(dcc);
}

void dcc_monitors_config(DisplayChannelClient *dcc)
{
    if (dcc->mode != DCC_WAIT_INIT && !dcc->start_pending) {
        send_monitors_config(dcc);
    }
}

/* ---- lifecycle and client messages ---- */

static void init_timeout_cb(void *opaque)
{
    DisplayChannelClient *dcc = opaque;
    red_client_bug("display client sent no DISPLAY_INIT within %u ms", DISPLAY_INIT_TIMEOUT_MS);
    red_channel_client_disconnect(&dcc->base);
}

void dcc_on_connect(DisplayChannelClient *dcc)
{
    dcc->dc = display_channel_from(dcc->base.channel);
    dcc->mode = DCC_WAIT_INIT;
    dcc->client_surfaces = g_hash_table_new(g_direct_hash, g_direct_equal);
    dcc->damage = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, damage_free);
    dcc->evicted = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    pixmap_cache_init(&dcc->cache);
    dcc->evicted_palettes = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    palette_cache_init(&dcc->palettes);
    dcc->image_compression = dcc->dc->image_compression;
    dcc_lossy_init(dcc);
    dcc_streams_init(dcc);
    dcc->init_timer = red_timer_add(dcc->base.channel->loop, init_timeout_cb, dcc);
    dcc->pace.t0_ms = -1;
    dcc->pace.damage_since_ms = -1;
    dcc->pace.px_est = -1;
    dcc->pace.timer = red_timer_add(dcc->base.channel->loop, pace_timer_cb, dcc);
    red_timer_start(dcc->init_timer, DISPLAY_INIT_TIMEOUT_MS);
}

void dcc_on_disconnect(RedChannelClient *rcc)
{
    DisplayChannelClient *dcc = (DisplayChannelClient *)rcc;
    red_timer_remove(dcc->init_timer);
    dcc->init_timer = NULL;
    red_timer_remove(dcc->pace.timer);
    dcc->pace.timer = NULL;
    g_clear_pointer(&dcc->client_surfaces, g_hash_table_destroy);
    g_clear_pointer(&dcc->damage, g_hash_table_destroy);
    g_clear_pointer(&dcc->evicted, g_array_unref);
    pixmap_cache_fini(&dcc->cache);
    g_clear_pointer(&dcc->evicted_palettes, g_array_unref);
    palette_cache_fini(&dcc->palettes);
    dcc_encoders_stop(dcc);
    dcc_streams_fini(dcc);
}

static gint surface_order(gconstpointer a, gconstpointer b)
{
    uint32_t x = GPOINTER_TO_UINT(a), y = GPOINTER_TO_UINT(b);
    return x < y ? -1 : x > y;
}

static void dcc_start(DisplayChannelClient *dcc, const WireDisplayMsg *m)
{
    DisplayChannel *dc = dcc->dc;
    int64_t size = m->u.init.pixmap_cache_size;
    /* spice-gtk has one image cache per session, shared by the display
     * channels of all QXL devices and announced whole to each of them: each
     * channel gets an equal share, so together they stay within it. */
    RedsState *reds = dcc->base.channel->reds;
    int channels = reds ? g_atomic_int_get(&reds->display_channels) : 1;
    size /= MAX(channels, 1);

    red_timer_remove(dcc->init_timer);
    dcc->init_timer = NULL;
    pixmap_cache_reset(&dcc->cache, CLAMP(size, 0, PIXMAP_CACHE_MAX_PIXELS));
    dcc_encoders_start(dcc, m->u.init.glz_dictionary_window_size);
    dcc->mode = DCC_DAMAGE;
    dcc->start_pending = true;

    red_channel_client_send_raw(&dcc->base, SPICE_MSG_DISPLAY_INVAL_ALL_PALETTES, NULL, 0);
    palette_cache_reset(&dcc->palettes);
    /* Surfaces in id order (the primary, 0, first); their pictures follow
     * as damage once these are out. */
    GList *ids = g_list_sort(g_hash_table_get_keys(dc->surfaces), surface_order);
    for (GList *l = ids; l; l = l->next) {
        uint32_t id = GPOINTER_TO_UINT(l->data);
        DisplaySurfaceInfo *s = g_hash_table_lookup(dc->surfaces, l->data);
        if (!s->live || !dcc_format_supported(dcc, s->format, s->primary)) {
            continue;
        }
        g_hash_table_add(dcc->client_surfaces, GUINT_TO_POINTER(id));
        send_surface_create(dcc, id, s);
        damage_add_surface(dcc, id, s->width, s->height);
    }
    g_list_free(ids);
    dcc_kick(dcc);
}

bool dcc_handle_message(RedChannelClient *rcc, uint16_t type, uint32_t size, const uint8_t *body)
{
    DisplayChannelClient *dcc = (DisplayChannelClient *)rcc;
    WireDisplayMsg m;
    WireParseResult res = wire_parse_display_msg(type, body, size, &m);

    if (!res.ok) {
        red_client_bug("display channel: %s (%u, %u bytes): %s", res.name, type, size, res.error);
        return false;
    }
    switch (type) {
    case SPICE_MSGC_DISPLAY_INIT:
        if (dcc->mode != DCC_WAIT_INIT) {
            red_client_bug("display channel: second DISPLAY_INIT");
            return false;
        }
        dcc_start(dcc, &m);
        return true;
    case SPICE_MSGC_DISPLAY_PREFERRED_COMPRESSION: {
        /* We advertise PREF_COMPRESSION: the client's choice holds for
         * this client until the server's setting changes again. */
        uint8_t c = m.u.preferred_compression.image_compression;
        if (c <= SPICE_IMAGE_COMPRESSION_INVALID || c >= SPICE_IMAGE_COMPRESSION_ENUM_END) {
            red_client_bug("display channel: preferred compression %u unknown, ignored", c);
            return true;
        }
        dcc->image_compression = (SpiceImageCompression)c;
        dcc_encoders_update(dcc);
        return true;
    }
    case SPICE_MSGC_DISPLAY_STREAM_REPORT:
        dcc_stream_report(dcc, &m);
        return true;
    case SPICE_MSGC_DISPLAY_PREFERRED_VIDEO_CODEC_TYPE:
        /* MJPEG is our only codec: a client that lists it (or lists
         * nothing we know) gets MJPEG either way. */
        return true;
    case SPICE_MSGC_DISPLAY_GL_DRAW_DONE:
        /* No GL scanout is ever started. */
        return true;
    default:
        return true;
    }
}
