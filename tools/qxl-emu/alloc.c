/* First-fit range allocator; see alloc.h. */
#include "tools/qxl-emu/alloc.h"

typedef struct QxlAllocExtent {
    uint64_t off, len;
} QxlAllocExtent;

static uint64_t round_up(uint64_t size)
{
    return (size + QXL_ALLOC_ALIGN - 1) & ~(uint64_t)(QXL_ALLOC_ALIGN - 1);
}

void qxl_alloc_init(QxlAlloc *a, uint64_t base, uint64_t size)
{
    QxlAllocExtent all = { base, size & ~(uint64_t)(QXL_ALLOC_ALIGN - 1) };

    g_assert((base % QXL_ALLOC_ALIGN) == 0);
    a->free = g_array_new(FALSE, FALSE, sizeof(QxlAllocExtent));
    g_array_append_val(a->free, all);
    a->base = base;
    a->size = all.len;
    a->in_use = a->peak = 0;
}

void qxl_alloc_finish(QxlAlloc *a)
{
    if (a->free) {
        g_array_free(a->free, TRUE);
        a->free = NULL;
    }
}

bool qxl_alloc_get(QxlAlloc *a, uint64_t size, uint64_t *offset)
{
    size = round_up(size ? size : 1);
    for (guint i = 0; i < a->free->len; i++) {
        QxlAllocExtent *e = &g_array_index(a->free, QxlAllocExtent, i);
        if (e->len < size) {
            continue;
        }
        *offset = e->off;
        e->off += size;
        e->len -= size;
        if (e->len == 0) {
            g_array_remove_index(a->free, i);
        }
        a->in_use += size;
        a->peak = MAX(a->peak, a->in_use);
        return true;
    }
    return false;
}

void qxl_alloc_put(QxlAlloc *a, uint64_t offset, uint64_t size)
{
    guint lo = 0, hi = a->free->len;

    size = round_up(size ? size : 1);
    g_assert(offset >= a->base && offset + size <= a->base + a->size);
    g_assert(a->in_use >= size);
    a->in_use -= size;

    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        if (g_array_index(a->free, QxlAllocExtent, mid).off < offset) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    /* lo is the first extent after the freed range. */
    QxlAllocExtent *prev = lo > 0 ? &g_array_index(a->free, QxlAllocExtent, lo - 1) : NULL;
    QxlAllocExtent *next = lo < a->free->len ? &g_array_index(a->free, QxlAllocExtent, lo) : NULL;

    /* An overlap means a double free: our bug. */
    g_assert(!prev || prev->off + prev->len <= offset);
    g_assert(!next || offset + size <= next->off);

    bool join_prev = prev && prev->off + prev->len == offset;
    bool join_next = next && offset + size == next->off;
    if (join_prev && join_next) {
        prev->len += size + next->len;
        g_array_remove_index(a->free, lo);
    } else if (join_prev) {
        prev->len += size;
    } else if (join_next) {
        next->off = offset;
        next->len += size;
    } else {
        QxlAllocExtent e = { offset, size };
        g_array_insert_val(a->free, lo, e);
    }
}
