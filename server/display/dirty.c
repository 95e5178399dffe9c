/* RedDirty: see dirty.h. */
#include "server/display/dirty.h"

#include <stdbool.h>
#include <string.h>
#include <glib.h>

void red_dirty_init(RedDirty *d)
{
    memset(d, 0, sizeof(*d));
    pixman_region32_init(&d->region);
}

void red_dirty_fini(RedDirty *d)
{
    pixman_region32_fini(&d->region);
    g_free(d->boxes);
    memset(d, 0, sizeof(*d));
}

static void merge(RedDirty *d)
{
    if (!d->n_boxes) {
        return;
    }
    pixman_region32_t batch;
    pixman_region32_init_rects(&batch, d->boxes, (int)d->n_boxes);
    pixman_region32_union(&d->region, &d->region, &batch);
    pixman_region32_fini(&batch);
    d->n_boxes = 0;
}

static bool box_covers(const pixman_box32_t *outer, const pixman_box32_t *inner)
{
    return outer->x1 <= inner->x1 && outer->y1 <= inner->y1 && outer->x2 >= inner->x2 &&
           outer->y2 >= inner->y2;
}

void red_dirty_add(RedDirty *d, const pixman_region32_t *region)
{
    int n = 0;
    pixman_box32_t *b = pixman_region32_rectangles((pixman_region32_t *)region, &n);
    if (n <= 0) {
        return;
    }
    const pixman_box32_t *e = &region->extents;
    /* Nothing new when the merged region already holds it (checked while
     * that region is small: the test walks its rectangles). */
    if (pixman_region32_n_rects(&d->region) <= 16 &&
        pixman_region32_contains_rectangle(&d->region, (pixman_box32_t *)e) ==
            PIXMAN_REGION_IN) {
        return;
    }
    /* One rectangle over everything dirty so far (a full-screen copy)
     * replaces it all. */
    if (n == 1 && (!pixman_region32_not_empty(&d->region) || box_covers(e, &d->region.extents)) &&
        (!d->n_boxes || box_covers(e, &d->boxes_ext))) {
        pixman_region32_reset(&d->region, (pixman_box32_t *)e);
        d->n_boxes = 0;
        return;
    }
    if (d->n_boxes + (uint32_t)n > RED_DIRTY_BATCH) {
        merge(d);
        if ((uint32_t)n > RED_DIRTY_BATCH) {
            pixman_region32_union(&d->region, &d->region, (pixman_region32_t *)region);
            return;
        }
    }
    if (d->n_boxes + (uint32_t)n > d->cap_boxes) {
        d->cap_boxes = MAX(MAX(d->cap_boxes * 2, 64u), d->n_boxes + (uint32_t)n);
        d->boxes = g_renew(pixman_box32_t, d->boxes, d->cap_boxes);
    }
    if (!d->n_boxes) {
        d->boxes_ext = *e;
    } else {
        d->boxes_ext.x1 = MIN(d->boxes_ext.x1, e->x1);
        d->boxes_ext.y1 = MIN(d->boxes_ext.y1, e->y1);
        d->boxes_ext.x2 = MAX(d->boxes_ext.x2, e->x2);
        d->boxes_ext.y2 = MAX(d->boxes_ext.y2, e->y2);
    }
    memcpy(d->boxes + d->n_boxes, b, (size_t)n * sizeof(*b));
    d->n_boxes += (uint32_t)n;
}

pixman_region32_t *red_dirty_get(RedDirty *d)
{
    merge(d);
    return &d->region;
}

void red_dirty_clear(RedDirty *d)
{
    d->n_boxes = 0;
    pixman_region32_clear(&d->region);
}
