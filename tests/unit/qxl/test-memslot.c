/* Memslot translation edge cases: exact slot end, one past, generation, slot
 * and group ids, overflow, deletion and the QEMU group-0 delete quirk. */
#include <glib.h>
#include <string.h>
#include "server/qxl/memslot.h"

typedef struct {
    MemSlotTable *t;
    uint8_t *buf;
    uint64_t start;
} Fix;

#define BUF_SIZE 4096u
#define GUEST 0x200000u

static void fix_init(Fix *x)
{
    x->t = memslot_table_new(2, 8, 8, 8, 0, NULL);
    g_assert_nonnull(x->t);
    x->buf = g_malloc0(BUF_SIZE);
    x->start = (uintptr_t)x->buf;
    g_assert_cmpint(memslot_add(x->t, 1, 2, 5, x->start, x->start + BUF_SIZE, x->start - GUEST),
                    ==, MEMSLOT_OK);
}

static void fix_fini(Fix *x)
{
    memslot_table_free(x->t);
    g_free(x->buf);
}

static QXLPHYSICAL addr(Fix *x, uint32_t slot, uint32_t gen, uint64_t off)
{
    return memslot_make_addr(x->t, slot, gen, GUEST + off);
}

static void test_table_geometry(void)
{
    const char *err = NULL;
    g_assert_null(memslot_table_new(0, 8, 8, 8, 0, &err));
    g_assert_nonnull(err);
    g_assert_null(memslot_table_new(2, 0, 8, 8, 0, &err));
    g_assert_null(memslot_table_new(2, 8, 32, 32, 0, &err));
    g_assert_null(memslot_table_new(2, 8, 8, 8, 2, &err));
    MemSlotTable *t = memslot_table_new(1, 1, 0, 0, 0, &err);
    g_assert_nonnull(t);
    g_assert_cmphex(t->offset_mask, ==, ~UINT64_C(0));
    memslot_table_free(t);
    memslot_table_free(NULL);
}

static void test_translate_basic(void)
{
    Fix x;
    fix_init(&x);
    MemSlotError e;
    uint8_t *p = memslot_get_virt(x.t, 1, addr(&x, 2, 5, 100), 10, &e);
    g_assert_true(p == x.buf + 100);
    g_assert_cmpint(e, ==, MEMSLOT_OK);
    /* The exact end is valid; one byte more is not (CVE-2019-3813 style). */
    g_assert_true(memslot_get_virt(x.t, 1, addr(&x, 2, 5, 0), BUF_SIZE, &e) == x.buf);
    g_assert_true(memslot_get_virt(x.t, 1, addr(&x, 2, 5, BUF_SIZE - 4), 4, &e) ==
                  x.buf + BUF_SIZE - 4);
    g_assert_null(memslot_get_virt(x.t, 1, addr(&x, 2, 5, BUF_SIZE - 4), 5, &e));
    g_assert_cmpint(e, ==, MEMSLOT_ERR_OUT_OF_RANGE);
    g_assert_null(memslot_get_virt(x.t, 1, addr(&x, 2, 5, 0), BUF_SIZE + 1, &e));
    /* Zero bytes at the end pointer itself: in range, nothing to touch. */
    g_assert_nonnull(memslot_get_virt(x.t, 1, addr(&x, 2, 5, BUF_SIZE), 0, &e));
    g_assert_null(memslot_get_virt(x.t, 1, addr(&x, 2, 5, BUF_SIZE + 1), 0, &e));
    /* Below the slot start. */
    g_assert_null(memslot_get_virt(x.t, 1, memslot_make_addr(x.t, 2, 5, GUEST - 1), 1, &e));
    g_assert_cmpint(e, ==, MEMSLOT_ERR_OUT_OF_RANGE);
    g_assert_cmpuint(memslot_max_size(x.t, 1, addr(&x, 2, 5, 96), &e), ==, BUF_SIZE - 96);
    fix_fini(&x);
}

static void test_translate_bad_ids(void)
{
    Fix x;
    fix_init(&x);
    MemSlotError e;
    g_assert_null(memslot_get_virt(x.t, 1, addr(&x, 2, 6, 0), 1, &e));
    g_assert_cmpint(e, ==, MEMSLOT_ERR_GENERATION);
    g_assert_null(memslot_get_virt(x.t, 1, addr(&x, 3, 5, 0), 1, &e));
    g_assert_cmpint(e, ==, MEMSLOT_ERR_UNUSED_SLOT);
    /* slot id == num_slots: the off-by-one that used to read past the array. */
    g_assert_null(memslot_get_virt(x.t, 1, addr(&x, 8, 5, 0), 1, &e));
    g_assert_cmpint(e, ==, MEMSLOT_ERR_BAD_SLOT);
    g_assert_null(memslot_get_virt(x.t, 1, addr(&x, 255, 5, 0), 1, &e));
    g_assert_cmpint(e, ==, MEMSLOT_ERR_BAD_SLOT);
    g_assert_null(memslot_get_virt(x.t, 2, addr(&x, 2, 5, 0), 1, &e));
    g_assert_cmpint(e, ==, MEMSLOT_ERR_BAD_GROUP);
    g_assert_null(memslot_get_virt(x.t, 0, addr(&x, 2, 5, 0), 1, &e));
    g_assert_cmpint(e, ==, MEMSLOT_ERR_UNUSED_SLOT);
    g_assert_cmpstr(memslot_strerror(MEMSLOT_ERR_GENERATION), ==, "wrong memslot generation");
    fix_fini(&x);
}

static void test_translate_overflow(void)
{
    Fix x;
    fix_init(&x);
    MemSlotError e;
    g_assert_null(memslot_get_virt(x.t, 1, addr(&x, 2, 5, 16), SIZE_MAX, &e));
    g_assert_cmpint(e, ==, MEMSLOT_ERR_OUT_OF_RANGE);
    g_assert_null(memslot_get_virt(x.t, 1, addr(&x, 2, 5, 0x0000ffffffffffffULL - GUEST), 1, &e));
    /* A host slot spanning everything (QEMU group 0): sizes that wrap fail. */
    g_assert_cmpint(memslot_add(x.t, 0, 0, 0, 0, UINT64_MAX, 0), ==, MEMSLOT_OK);
    uintptr_t hp = (uintptr_t)x.buf;
    g_assert_true(memslot_get_virt(x.t, 0, hp, 16, &e) == x.buf);
    g_assert_null(memslot_get_virt(x.t, 0, 0, 1, &e));
    g_assert_cmpint(e, ==, MEMSLOT_ERR_NULL);
    /* Offsets only have 48 bits with 8+8 id/gen bits: the high bits of a
     * host pointer select slot/generation and are checked. */
    g_assert_null(memslot_get_virt(x.t, 0, UINT64_C(0xffff000000000010), 1, &e));
    /* addr_add must not carry into the generation bits. */
    QXLPHYSICAL out;
    g_assert_false(memslot_addr_add(x.t, memslot_make_addr(x.t, 2, 5, x.t->offset_mask), 1, &out));
    g_assert_true(memslot_addr_add(x.t, addr(&x, 2, 5, 10), 6, &out));
    g_assert_cmphex(out, ==, addr(&x, 2, 5, 16));
    fix_fini(&x);
}

static void test_add_del_reset(void)
{
    Fix x;
    fix_init(&x);
    MemSlotError e;
    g_assert_cmpint(memslot_add(x.t, 1, 8, 0, 0, 1, 0), ==, MEMSLOT_ERR_BAD_SLOT);
    g_assert_cmpint(memslot_add(x.t, 2, 0, 0, 0, 1, 0), ==, MEMSLOT_ERR_BAD_GROUP);
    g_assert_cmpint(memslot_add(x.t, 1, 3, 0, 10, 5, 0), ==, MEMSLOT_ERR_BAD_ARGS);
    g_assert_cmpint(memslot_add(x.t, 1, 3, 256, 0, 5, 0), ==, MEMSLOT_ERR_BAD_ARGS);
    /* QEMU's QXL_IO_MEMSLOT_DEL comes as group 0: the guest slot stays. */
    g_assert_cmpint(memslot_del(x.t, 0, 2), ==, MEMSLOT_OK);
    g_assert_nonnull(memslot_get_virt(x.t, 1, addr(&x, 2, 5, 0), 1, &e));
    g_assert_cmpint(memslot_del(x.t, 1, 2), ==, MEMSLOT_OK);
    g_assert_null(memslot_get_virt(x.t, 1, addr(&x, 2, 5, 0), 1, &e));
    g_assert_cmpint(e, ==, MEMSLOT_ERR_UNUSED_SLOT);
    g_assert_cmpint(memslot_del(x.t, 1, 9), ==, MEMSLOT_ERR_BAD_SLOT);
    /* Re-add with a new generation: old addresses die. */
    g_assert_cmpint(memslot_add(x.t, 1, 2, 6, x.start, x.start + BUF_SIZE, x.start - GUEST), ==,
                    MEMSLOT_OK);
    g_assert_null(memslot_get_virt(x.t, 1, addr(&x, 2, 5, 0), 1, &e));
    g_assert_nonnull(memslot_get_virt(x.t, 1, addr(&x, 2, 6, 0), 1, &e));
    memslot_reset(x.t);
    g_assert_null(memslot_get_virt(x.t, 1, addr(&x, 2, 6, 0), 1, &e));
    g_assert_cmpint(e, ==, MEMSLOT_ERR_UNUSED_SLOT);
    fix_fini(&x);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qxl/memslot/geometry", test_table_geometry);
    g_test_add_func("/qxl/memslot/translate", test_translate_basic);
    g_test_add_func("/qxl/memslot/bad-ids", test_translate_bad_ids);
    g_test_add_func("/qxl/memslot/overflow", test_translate_overflow);
    g_test_add_func("/qxl/memslot/add-del-reset", test_add_del_reset);
    return g_test_run();
}
