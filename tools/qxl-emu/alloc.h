/* First-fit range allocator for device memory (a guest driver's heap).
 *
 * Hands out offsets inside [base, base + size), aligned to QXL_ALLOC_ALIGN,
 * and merges neighbours on free.  The bookkeeping lives in host memory;
 * device memory itself is never touched.  Single-threaded: the guest side
 * (bench main thread) owns it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#define QXL_ALLOC_ALIGN 64u

typedef struct QxlAlloc {
    GArray *free;           /* QxlAllocExtent sorted by offset; owned */
    uint64_t base, size;
    uint64_t in_use;        /* bytes, rounded */
    uint64_t peak;          /* bytes */
} QxlAlloc;

/* Starts an allocator over [base, base + size); base must be aligned. */
void qxl_alloc_init(QxlAlloc *a, uint64_t base, uint64_t size);
/* Frees the bookkeeping.  Outstanding ranges are simply forgotten. */
void qxl_alloc_finish(QxlAlloc *a);
/* Reserves `size` bytes (> 0); false when no free extent is large enough. */
bool qxl_alloc_get(QxlAlloc *a, uint64_t size, uint64_t *offset);
/* Returns a range obtained from qxl_alloc_get() with the same size. */
void qxl_alloc_put(QxlAlloc *a, uint64_t offset, uint64_t size);
