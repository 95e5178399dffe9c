/* The drawable tree of each surface: pending drawables in z-order, with
 * occlusion and dependencies between surfaces.
 *
 * Invariants (worker thread only):
 * - s->pending holds the drawables of s not yet rendered, oldest first;
 *   w->pending holds all of them in arrival order, so its head is always
 *   the head of its own surface's list. Rendering always takes a prefix of
 *   a surface's list, so z-order is kept.
 * - A pending drawable never waits on stale input: when it is added, the
 *   pending drawables of the surfaces it reads are rendered (inside what it
 *   reads), and when a drawable is added to a surface, pending readers of
 *   that surface on other surfaces are rendered first.
 * - Occlusion: d->visible is what of d's output could still be seen: its
 *   region minus what later opaque drawables overwrite before any pending
 *   drawable in between reads it. A drawable whose visible region becomes
 *   empty is dropped unrendered (and released at once).
 */
#include "server/display/worker-private.h"

#include <string.h>

#include "server/core/log.h"
#include "server/display/display-channel.h"

static pixman_box32_t rect_to_box(const RedRect *r)
{
    return (pixman_box32_t){ r->left, r->top, r->right, r->bottom };
}

static bool box_intersect(pixman_box32_t *a, const pixman_box32_t *b)
{
    a->x1 = MAX(a->x1, b->x1);
    a->y1 = MAX(a->y1, b->y1);
    a->x2 = MIN(a->x2, b->x2);
    a->y2 = MIN(a->y2, b->y2);
    return a->x1 < a->x2 && a->y1 < a->y2;
}

static pixman_box32_t surface_box(const RedSurface *s)
{
    return (pixman_box32_t){ 0, 0, (int32_t)s->width, (int32_t)s->height };
}

/* ---- what a drawable reads ---- */

typedef struct DepCollector {
    Drawable *d;
    RedWorker *w;
    bool ok;
} DepCollector;

static void add_read(DepCollector *c, uint32_t surface_id, const pixman_box32_t *rect)
{
    if (!c->ok) {
        return;
    }
    RedSurface *src = surface_get_live(c->w, surface_id);
    if (!src) {
        red_guest_bug("drawable reads missing surface %u", surface_id);
        c->ok = false;
        return;
    }
    pixman_box32_t b = rect ? *rect : surface_box(src);
    pixman_box32_t sb = surface_box(src);
    if (!box_intersect(&b, &sb)) {
        return;
    }
    Drawable *d = c->d;
    if (surface_id == d->surface_id) {
        pixman_region32_union_rect(&d->self_read, &d->self_read, b.x1, b.y1,
                                   (unsigned)(b.x2 - b.x1), (unsigned)(b.y2 - b.y1));
        return;
    }
    for (uint32_t i = 0; i < d->n_deps; i++) {
        if (d->deps[i].surface_id == surface_id) {
            pixman_box32_t *e = &d->deps[i].rect;
            e->x1 = MIN(e->x1, b.x1);
            e->y1 = MIN(e->y1, b.y1);
            e->x2 = MAX(e->x2, b.x2);
            e->y2 = MAX(e->y2, b.y2);
            return;
        }
    }
    if (d->n_deps == DRAWABLE_MAX_DEPS) {
        red_guest_bug("drawable reads more than %u surfaces", DRAWABLE_MAX_DEPS);
        c->ok = false;
        return;
    }
    d->deps[d->n_deps].surface_id = surface_id;
    d->deps[d->n_deps].rect = b;
    d->n_deps++;
    surface_ref(src);
}

static void add_image(DepCollector *c, const RedImage *img, const RedRect *area)
{
    if (!img) {
        return;
    }
    if (img->type == SPICE_IMAGE_TYPE_SURFACE) {
        pixman_box32_t b;
        if (area) {
            b = rect_to_box(area);
        }
        add_read(c, img->u.surface_id, area ? &b : NULL);
    } else if (img->type == SPICE_IMAGE_TYPE_BITMAP) {
        c->d->bytes += img->u.bitmap.data_size;
    } else if (img->type == SPICE_IMAGE_TYPE_QUIC) {
        c->d->bytes += img->u.quic.data_size;
    }
}

static void add_brush(DepCollector *c, const RedBrush *b)
{
    if (b->type == SPICE_BRUSH_TYPE_PATTERN) {
        add_image(c, b->u.pattern.pat, NULL);
    }
}

static void add_mask(DepCollector *c, const RedQMask *m)
{
    add_image(c, m->bitmap, NULL);
}

/* Fills d->opaque, d->self_read, d->deps and d->bytes. Returns false for a
 * guest bug (already logged). */
static bool collect_reads(RedWorker *w, Drawable *d)
{
    const RedDrawable *r = d->red;
    DepCollector c = { .d = d, .w = w, .ok = true };

    for (int i = 0; i < 3; i++) {
        if (r->surfaces_dest[i] >= 0) {
            pixman_box32_t b = rect_to_box(&r->surfaces_rects[i]);
            add_read(&c, (uint32_t)r->surfaces_dest[i], &b);
        }
    }
    bool opaque = false;
    switch (r->type) {
    case QXL_DRAW_FILL:
        add_brush(&c, &r->u.fill.brush);
        add_mask(&c, &r->u.fill.mask);
        opaque = r->u.fill.rop_descriptor == SPICE_ROPD_OP_PUT && !r->u.fill.mask.bitmap &&
                 r->u.fill.brush.type != SPICE_BRUSH_TYPE_NONE;
        break;
    case QXL_DRAW_OPAQUE:
        add_image(&c, r->u.opaque.src_bitmap, &r->u.opaque.src_area);
        add_brush(&c, &r->u.opaque.brush);
        add_mask(&c, &r->u.opaque.mask);
        opaque = !r->u.opaque.mask.bitmap;
        break;
    case QXL_DRAW_COPY:
    case QXL_DRAW_BLEND:
        add_image(&c, r->u.copy.src_bitmap, &r->u.copy.src_area);
        add_mask(&c, &r->u.copy.mask);
        opaque = r->u.copy.rop_descriptor == SPICE_ROPD_OP_PUT && !r->u.copy.mask.bitmap;
        break;
    case QXL_DRAW_TRANSPARENT:
        add_image(&c, r->u.transparent.src_bitmap, &r->u.transparent.src_area);
        break;
    case QXL_DRAW_ALPHA_BLEND:
        add_image(&c, r->u.alpha_blend.src_bitmap, &r->u.alpha_blend.src_area);
        break;
    case QXL_COPY_BITS: {
        /* Reads its own surface at src_pos, shaped like its region. */
        pixman_region32_t src;
        pixman_region32_init(&src);
        pixman_region32_copy(&src, &d->region);
        pixman_region32_translate(&src, r->u.copy_bits.src_pos.x - r->bbox.left,
                                  r->u.copy_bits.src_pos.y - r->bbox.top);
        pixman_region32_union(&d->self_read, &d->self_read, &src);
        pixman_region32_fini(&src);
        opaque = true;
        break;
    }
    case QXL_DRAW_ROP3:
        add_image(&c, r->u.rop3.src_bitmap, &r->u.rop3.src_area);
        add_brush(&c, &r->u.rop3.brush);
        add_mask(&c, &r->u.rop3.mask);
        break;
    case QXL_DRAW_STROKE:
        add_brush(&c, &r->u.stroke.brush);
        break;
    case QXL_DRAW_TEXT:
        add_brush(&c, &r->u.text.fore_brush);
        add_brush(&c, &r->u.text.back_brush);
        break;
    case QXL_DRAW_BLACKNESS:
    case QXL_DRAW_WHITENESS:
        add_mask(&c, &r->u.blackness.mask);
        opaque = !r->u.blackness.mask.bitmap;
        break;
    case QXL_DRAW_INVERS:
        add_mask(&c, &r->u.invers.mask);
        break;
    case QXL_DRAW_COMPOSITE:
        add_image(&c, r->u.composite.src_bitmap, NULL);
        add_image(&c, r->u.composite.mask_bitmap, NULL);
        break;
    case QXL_DRAW_NOP:
        opaque = false;
        break;
    default:
        red_guest_bug("draw type %u", r->type);
        c.ok = false;
        break;
    }
    d->opaque = opaque;
    if (!opaque) {
        pixman_region32_union(&d->self_read, &d->self_read, &d->region);
    }
    return c.ok;
}

/* ---- lifetime ---- */

void drawable_unref(Drawable *d)
{
    if (!d || --d->refs > 0) {
        return;
    }
    RedWorker *w = d->worker;
    g_assert(!d->surface_link && !d->global_link);
    worker_release(w, d->red->release);
    red_drawable_unref(d->red);
    for (uint32_t i = 0; i < d->n_deps; i++) {
        surface_unref(w, &w->surfaces[d->deps[i].surface_id]);
    }
    surface_unref(w, &w->surfaces[d->surface_id]);
    pixman_region32_fini(&d->region);
    pixman_region32_fini(&d->visible);
    pixman_region32_fini(&d->self_read);
    g_free(d);
}

/* Takes d out of every list (it stays referenced by the caller). */
static void take_out(RedWorker *w, Drawable *d)
{
    RedSurface *s = &w->surfaces[d->surface_id];
    g_queue_delete_link(&s->pending, d->surface_link);
    d->surface_link = NULL;
    g_queue_delete_link(&w->pending, d->global_link);
    d->global_link = NULL;
    g_assert(w->pending_bytes >= d->bytes);
    w->pending_bytes -= d->bytes;
    for (uint32_t i = 0; i < d->n_deps; i++) {
        RedSurface *src = &w->surfaces[d->deps[i].surface_id];
        src->readers = g_list_remove(src->readers, d);
    }
}

static void render_one(RedWorker *w, Drawable *d)
{
    take_out(w, d);
    if (render_drawable(w, d)) {
        RedSurface *s = &w->surfaces[d->surface_id];
        red_dirty_add(&s->dirty, &d->region);
    }
    w->stats.rendered++;
    drawable_unref(d);
}

static void drop_one(RedWorker *w, Drawable *d)
{
    take_out(w, d);
    w->stats.dropped++;
    drawable_unref(d);
}

/* ---- rendering ---- */

void tree_render_until(RedWorker *w, RedSurface *s, Drawable *last)
{
    if (!last) {
        return;
    }
    g_assert(last->surface_id == s->id && last->surface_link);
    Drawable *d;
    do {
        d = g_queue_peek_head(&s->pending);
        render_one(w, d);
    } while (d != last);
}

void tree_render_area(RedWorker *w, RedSurface *s, const pixman_box32_t *area)
{
    pixman_box32_t b = *area;
    pixman_box32_t sb = surface_box(s);
    if (!box_intersect(&b, &sb)) {
        return;
    }
    for (GList *l = s->pending.tail; l; l = l->prev) {
        Drawable *d = l->data;
        if (pixman_region32_contains_rectangle(&d->region, &b) != PIXMAN_REGION_OUT) {
            tree_render_until(w, s, d);
            return;
        }
    }
}

void worker_render_region(RedWorker *w, uint32_t surface_id, const pixman_region32_t *region)
{
    RedSurface *s = surface_get_live(w, surface_id);
    if (!s || !pixman_region32_not_empty((pixman_region32_t *)region)) {
        return;
    }
    for (GList *l = s->pending.tail; l; l = l->prev) {
        Drawable *d = l->data;
        pixman_region32_t inter;
        pixman_region32_init(&inter);
        pixman_region32_intersect(&inter, &d->region, (pixman_region32_t *)region);
        bool hit = pixman_region32_not_empty(&inter);
        pixman_region32_fini(&inter);
        if (hit) {
            tree_render_until(w, s, d);
            return;
        }
    }
}

RedCanvas *worker_get_canvas(RedWorker *w, uint32_t surface_id)
{
    RedSurface *s = surface_get_live(w, surface_id);
    return s ? s->canvas : NULL;
}

void tree_render_all(RedWorker *w)
{
    Drawable *d;
    while ((d = g_queue_peek_head(&w->pending))) {
        tree_render_until(w, &w->surfaces[d->surface_id], d);
    }
}

static bool reads_in(const Drawable *d, uint32_t surface_id, const pixman_region32_t *area)
{
    for (uint32_t i = 0; i < d->n_deps; i++) {
        if (d->deps[i].surface_id != surface_id) {
            continue;
        }
        if (!area) {
            return true;
        }
        pixman_box32_t b = d->deps[i].rect;
        if (pixman_region32_contains_rectangle((pixman_region32_t *)area, &b) !=
            PIXMAN_REGION_OUT) {
            return true;
        }
    }
    return false;
}

void tree_render_readers(RedWorker *w, RedSurface *s, const pixman_region32_t *area)
{
    /* Each render changes the lists: rescan from the start every time. The
     * reader list only shrinks, so this ends. */
    bool again = true;
    while (again) {
        again = false;
        for (GList *l = s->readers; l; l = l->next) {
            Drawable *x = l->data;
            if (reads_in(x, s->id, area)) {
                tree_render_until(w, &w->surfaces[x->surface_id], x);
                again = true;
                break;
            }
        }
    }
}

void tree_drop_surface(RedWorker *w, RedSurface *s)
{
    Drawable *d;
    while ((d = g_queue_peek_tail(&s->pending))) {
        drop_one(w, d);
    }
}

void tree_enforce_bound(RedWorker *w)
{
    Drawable *d;
    while ((d = g_queue_peek_head(&w->pending)) &&
           (g_queue_get_length(&w->pending) > w->max_pending ||
            w->pending_bytes > w->max_pending_bytes)) {
        w->stats.forced++;
        tree_render_until(w, &w->surfaces[d->surface_id], d);
    }
}

/* ---- adding ---- */

/* n was just queued and is opaque: take what it covers out of the visible
 * regions of older drawables on its surface, minus what pending drawables
 * in between read. */
/* Whether two regions' extents overlap: a subtraction between regions
 * whose extents do not overlap changes nothing. */
static bool extents_overlap(const pixman_region32_t *a, const pixman_region32_t *b)
{
    return a->extents.x1 < b->extents.x2 && b->extents.x1 < a->extents.x2 &&
           a->extents.y1 < b->extents.y2 && b->extents.y1 < a->extents.y2;
}

static void occlude(RedWorker *w, Drawable *n)
{
    pixman_region32_t cover;
    pixman_region32_init(&cover);
    pixman_region32_copy(&cover, &n->region);
    /* n reads before it writes (COPY_BITS): those pixels stay needed. */
    pixman_region32_subtract(&cover, &cover, &n->self_read);
    GList *l = n->surface_link->prev;
    /* The walk goes over every older drawable while anything is left to
     * cover: skip the pixman calls where extents show they do nothing. */
    while (l && pixman_region32_not_empty(&cover)) {
        Drawable *x = l->data;
        GList *prev = l->prev;
        if (extents_overlap(&x->visible, &cover)) {
            pixman_region32_subtract(&x->visible, &x->visible, &cover);
            if (!pixman_region32_not_empty(&x->visible)) {
                drop_one(w, x);
                l = prev;
                continue;
            }
        }
        if (extents_overlap(&x->self_read, &cover)) {
            pixman_region32_subtract(&cover, &cover, &x->self_read);
        }
        l = prev;
    }
    pixman_region32_fini(&cover);
}

void tree_add_drawable(RedWorker *w, RedDrawable *red)
{
    RedSurface *s = surface_get_live(w, red->surface_id);
    if (!s) {
        red_guest_bug("drawable for missing surface %u", red->surface_id);
        w->stats.rejected++;
        worker_release(w, red->release);
        red_drawable_unref(red);
        return;
    }
    Drawable *d = g_new0(Drawable, 1);
    d->refs = 1;
    d->worker = w;
    d->red = red;
    d->surface_id = s->id;
    d->bytes = sizeof(*d) + sizeof(*red);
    surface_ref(s);
    pixman_region32_init(&d->self_read);
    pixman_region32_init(&d->visible);

    pixman_box32_t bbox = rect_to_box(&red->bbox);
    pixman_box32_t sb = surface_box(s);
    if (!box_intersect(&bbox, &sb)) {
        bbox = (pixman_box32_t){ 0, 0, 0, 0 };
    }
    render_clip_region(&red->clip, &bbox, &d->region);
    pixman_region32_copy(&d->visible, &d->region);

    if (!collect_reads(w, d)) {
        w->stats.rejected++;
        drawable_unref(d);
        return;
    }
    if (red->type == QXL_DRAW_NOP || !pixman_region32_not_empty(&d->region)) {
        /* Nothing to draw: release at once. */
        drawable_unref(d);
        return;
    }
    /* Inputs first: what d reads on other surfaces must be current. */
    for (uint32_t i = 0; i < d->n_deps; i++) {
        tree_render_area(w, &w->surfaces[d->deps[i].surface_id], &d->deps[i].rect);
    }
    /* Readers of s must not see d's pixels. */
    tree_render_readers(w, s, &d->region);
    /* Clients get the drawing itself, before it can be rendered or dropped. */
    display_channel_draw(w->display_channel, red, &d->region);

    g_queue_push_tail(&s->pending, d);
    d->surface_link = s->pending.tail;
    g_queue_push_tail(&w->pending, d);
    d->global_link = w->pending.tail;
    w->pending_bytes += d->bytes;
    for (uint32_t i = 0; i < d->n_deps; i++) {
        RedSurface *src = &w->surfaces[d->deps[i].surface_id];
        src->readers = g_list_prepend(src->readers, d);
    }
    if (d->opaque) {
        occlude(w, d);
    }
}
