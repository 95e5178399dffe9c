/* Memslots: guest address translation, see memslot.h. */
#include "server/qxl/memslot.h"

#include <assert.h>
#include <glib.h>
#include <string.h>

MemSlotTable *memslot_table_new(uint32_t num_groups, uint32_t num_slots,
                                uint8_t gen_bits, uint8_t id_bits,
                                uint8_t internal_group, const char **err)
{
    const char *dummy;
    if (!err) {
        err = &dummy;
    }
    if (num_groups == 0 || num_groups > MEMSLOT_MAX_GROUPS) {
        *err = "number of memslot groups out of range";
        return NULL;
    }
    if (num_slots == 0 || num_slots > MEMSLOT_MAX_SLOTS) {
        *err = "number of memslots out of range";
        return NULL;
    }
    /* The offset needs at least one bit, and shifts by 64 are undefined. */
    if ((unsigned)gen_bits + id_bits >= 64 || gen_bits > 32) {
        *err = "memslot id + generation bits leave no offset";
        return NULL;
    }
    if (internal_group >= num_groups) {
        *err = "internal memslot group out of range";
        return NULL;
    }
    MemSlotTable *t = g_new0(MemSlotTable, 1);
    t->num_groups = num_groups;
    t->num_slots = num_slots;
    t->gen_bits = gen_bits;
    t->id_bits = id_bits;
    t->internal_group = internal_group;
    t->offset_mask = ~UINT64_C(0) >> (gen_bits + id_bits);
    t->slots = g_new0(MemSlot, (size_t)num_groups * num_slots);
    *err = NULL;
    return t;
}

void memslot_table_free(MemSlotTable *table)
{
    if (!table) {
        return;
    }
    g_free(table->slots);
    g_free(table);
}

static MemSlot *slot_at(const MemSlotTable *t, uint32_t group_id, uint32_t slot_id,
                        MemSlotError *err)
{
    if (group_id >= t->num_groups) {
        *err = MEMSLOT_ERR_BAD_GROUP;
        return NULL;
    }
    /* CVE-2019-3813 was a '>' here: slot_id == num_slots is one past the end. */
    if (slot_id >= t->num_slots) {
        *err = MEMSLOT_ERR_BAD_SLOT;
        return NULL;
    }
    return &t->slots[(size_t)group_id * t->num_slots + slot_id];
}

MemSlotError memslot_add(MemSlotTable *table, uint32_t group_id, uint32_t slot_id,
                         uint32_t generation, uint64_t virt_start, uint64_t virt_end,
                         uint64_t addr_delta)
{
    assert(table);
    MemSlotError err = MEMSLOT_OK;
    MemSlot *s = slot_at(table, group_id, slot_id, &err);
    if (!s) {
        return err;
    }
    if (virt_start > virt_end) {
        return MEMSLOT_ERR_BAD_ARGS;
    }
    if (table->gen_bits < 32 && (generation >> table->gen_bits) != 0) {
        return MEMSLOT_ERR_BAD_ARGS;
    }
    s->used = true;
    s->generation = generation;
    s->virt_start = virt_start;
    s->virt_end = virt_end;
    s->addr_delta = addr_delta;
    return MEMSLOT_OK;
}

MemSlotError memslot_del(MemSlotTable *table, uint32_t group_id, uint32_t slot_id)
{
    assert(table);
    MemSlotError err = MEMSLOT_OK;
    MemSlot *s = slot_at(table, group_id, slot_id, &err);
    if (!s) {
        return err;
    }
    *s = (MemSlot){0};
    return MEMSLOT_OK;
}

void memslot_reset(MemSlotTable *table)
{
    assert(table);
    memset(table->slots, 0, sizeof(MemSlot) * (size_t)table->num_groups * table->num_slots);
}

uint32_t memslot_addr_slot_id(const MemSlotTable *t, QXLPHYSICAL addr)
{
    if (t->id_bits == 0) {
        return 0;
    }
    return (uint32_t)(addr >> (64 - t->id_bits));
}

static uint32_t addr_generation(const MemSlotTable *t, QXLPHYSICAL addr)
{
    if (t->gen_bits == 0) {
        return 0;
    }
    uint64_t v = addr >> (64 - t->id_bits - t->gen_bits);
    return (uint32_t)(v & ((UINT64_C(1) << t->gen_bits) - 1));
}

QXLPHYSICAL memslot_make_addr(const MemSlotTable *t, uint32_t slot_id, uint32_t generation,
                              uint64_t offset)
{
    QXLPHYSICAL a = offset & t->offset_mask;
    if (t->gen_bits) {
        uint64_t g = generation & ((UINT64_C(1) << t->gen_bits) - 1);
        a |= g << (64 - t->id_bits - t->gen_bits);
    }
    if (t->id_bits) {
        a |= (uint64_t)slot_id << (64 - t->id_bits);
    }
    return a;
}

bool memslot_addr_add(const MemSlotTable *t, QXLPHYSICAL addr, uint64_t delta,
                      QXLPHYSICAL *out)
{
    uint64_t off = addr & t->offset_mask;
    if (delta > t->offset_mask - off) {
        return false;
    }
    *out = (addr & ~t->offset_mask) | (off + delta);
    return true;
}

/* Resolves addr to its slot and host address (without a size check). */
static const MemSlot *resolve(const MemSlotTable *t, uint32_t group_id, QXLPHYSICAL addr,
                              uint64_t *host, MemSlotError *err)
{
    const MemSlot *s = slot_at(t, group_id, memslot_addr_slot_id(t, addr), err);
    if (!s) {
        return NULL;
    }
    if (!s->used) {
        *err = MEMSLOT_ERR_UNUSED_SLOT;
        return NULL;
    }
    if (addr_generation(t, addr) != s->generation) {
        *err = MEMSLOT_ERR_GENERATION;
        return NULL;
    }
    /* Wrapping is intended: QEMU's delta is virt_start - guest_start. */
    *host = (addr & t->offset_mask) + s->addr_delta;
    if (*host < s->virt_start || *host > s->virt_end) {
        *err = MEMSLOT_ERR_OUT_OF_RANGE;
        return NULL;
    }
    if (*host == 0) {
        *err = MEMSLOT_ERR_NULL;
        return NULL;
    }
    return s;
}

void *memslot_get_virt(const MemSlotTable *table, uint32_t group_id, QXLPHYSICAL addr,
                       size_t size, MemSlotError *err)
{
    assert(table);
    MemSlotError dummy;
    if (!err) {
        err = &dummy;
    }
    uint64_t host;
    const MemSlot *s = resolve(table, group_id, addr, &host, err);
    if (!s) {
        return NULL;
    }
    /* host <= virt_end holds here, so the subtraction cannot wrap; comparing
     * against the remaining room avoids overflowing host + size. */
    if ((uint64_t)size > s->virt_end - host) {
        *err = MEMSLOT_ERR_OUT_OF_RANGE;
        return NULL;
    }
    if (host > UINTPTR_MAX) {
        *err = MEMSLOT_ERR_OUT_OF_RANGE;
        return NULL;
    }
    *err = MEMSLOT_OK;
    return (void *)(uintptr_t)host;
}

uint64_t memslot_max_size(const MemSlotTable *table, uint32_t group_id, QXLPHYSICAL addr,
                          MemSlotError *err)
{
    assert(table);
    MemSlotError dummy;
    if (!err) {
        err = &dummy;
    }
    uint64_t host;
    const MemSlot *s = resolve(table, group_id, addr, &host, err);
    if (!s) {
        return 0;
    }
    *err = MEMSLOT_OK;
    return s->virt_end - host;
}

const char *memslot_strerror(MemSlotError err)
{
    switch (err) {
    case MEMSLOT_OK: return "no error";
    case MEMSLOT_ERR_BAD_GROUP: return "memslot group id out of range";
    case MEMSLOT_ERR_BAD_SLOT: return "memslot id out of range";
    case MEMSLOT_ERR_UNUSED_SLOT: return "memslot not in use";
    case MEMSLOT_ERR_GENERATION: return "wrong memslot generation";
    case MEMSLOT_ERR_OUT_OF_RANGE: return "address range outside its memslot";
    case MEMSLOT_ERR_NULL: return "address translates to NULL";
    case MEMSLOT_ERR_BAD_ARGS: return "invalid memslot range or generation";
    }
    return "unknown memslot error";
}
