/* RedDirty: the dirty region of a surface (what was rendered since the
 * guest last cleared it), grown by one addition per rendered drawable.
 *
 * A pixman union per addition costs O(rectangles in the region), which
 * made update_area-heavy work quadratic once text lines left hundreds of
 * glyph-band rectangles dirty. Additions are collected as boxes and merged
 * in one pixman_region32_init_rects + union when the region is read or a
 * batch is full; pixman regions are canonical (y-x banded, coalesced), so
 * the rectangles read back are exactly those a union per addition gives.
 *
 * Threading: the owner's (the worker thread).
 */
#pragma once

#include <stdint.h>
#include <pixman.h>

typedef struct RedDirty {
    pixman_region32_t region;       /* merged part */
    pixman_box32_t *boxes;          /* owned: added, not yet merged */
    uint32_t n_boxes, cap_boxes;
    pixman_box32_t boxes_ext;       /* extents of boxes[0 .. n_boxes) */
} RedDirty;

/* Boxes waiting before a merge is forced (bounds memory and sort size). */
#define RED_DIRTY_BATCH 8192u

void red_dirty_init(RedDirty *d);
/* Frees everything (d may be initialised again). */
void red_dirty_fini(RedDirty *d);
/* Adds region (not kept) to d. */
void red_dirty_add(RedDirty *d, const pixman_region32_t *region);
/* The whole dirty region, merged (borrowed, valid until the next call). */
pixman_region32_t *red_dirty_get(RedDirty *d);
/* Empties d, keeping its buffer for reuse. */
void red_dirty_clear(RedDirty *d);
