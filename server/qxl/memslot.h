/* Memslots: the one gate from a guest address (QXLPHYSICAL) to host memory.
 *
 * A QXLPHYSICAL packs three fields, from the top bit down: slot id
 * (id_bits), generation (gen_bits), offset (the rest). A slot maps the
 * offsets onto host memory: host = offset + addr_delta, and the result must
 * lie in [virt_start, virt_end) together with the size the caller wants to
 * touch. Slots live in groups; QEMU uses group 0 for its own host-pointer
 * commands (one slot spanning the whole address space) and group 1 for the
 * guest's BAR memory.
 *
 * Every failure returns NULL plus a MemSlotError; nothing here aborts on
 * guest input. Asserts guard only our own bugs (NULL table).
 *
 * Threading: a MemSlotTable is owned by the worker thread; add/del/reset and
 * translations all run there (the dispatcher forwards the embedder's calls).
 * No lock.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <spice/qxl_dev.h>

typedef enum MemSlotError {
    MEMSLOT_OK = 0,
    MEMSLOT_ERR_BAD_GROUP,      /* group id >= num_groups */
    MEMSLOT_ERR_BAD_SLOT,       /* slot id >= num_slots */
    MEMSLOT_ERR_UNUSED_SLOT,    /* slot not added (or deleted) */
    MEMSLOT_ERR_GENERATION,     /* address generation != slot generation */
    MEMSLOT_ERR_OUT_OF_RANGE,   /* [host, host+size) not inside the slot */
    MEMSLOT_ERR_NULL,           /* address translates to host NULL */
    MEMSLOT_ERR_BAD_ARGS,       /* add: inverted range or generation too wide */
} MemSlotError;

typedef struct MemSlot {
    bool used;
    uint32_t generation;
    uint64_t virt_start;        /* host address, inclusive */
    uint64_t virt_end;          /* host address, exclusive */
    uint64_t addr_delta;        /* host = offset + addr_delta (mod 2^64) */
} MemSlot;

typedef struct MemSlotTable {
    uint32_t num_groups;
    uint32_t num_slots;
    uint8_t gen_bits;
    uint8_t id_bits;
    uint8_t internal_group;     /* QXLDevInitInfo.internal_groupslot_id */
    uint64_t offset_mask;       /* low bits of a QXLPHYSICAL holding the offset */
    MemSlot *slots;             /* owned, num_groups * num_slots, freed in memslot_table_free() */
} MemSlotTable;

/* Largest table we accept from QXLDevInitInfo (QEMU uses 2 x 8). */
#define MEMSLOT_MAX_GROUPS 256u
#define MEMSLOT_MAX_SLOTS 256u

/* Creates an empty table from the device's QXLDevInitInfo fields. Returns
 * NULL (and sets *err to a static description) when the geometry is
 * unusable: zero or too many groups/slots, id_bits + gen_bits >= 64, or
 * slot ids that do not fit id_bits. Worker thread; caller owns the result,
 * free with memslot_table_free(). */
MemSlotTable *memslot_table_new(uint32_t num_groups, uint32_t num_slots,
                                uint8_t gen_bits, uint8_t id_bits,
                                uint8_t internal_group, const char **err);

/* Frees the table; NULL is fine. Worker thread. */
void memslot_table_free(MemSlotTable *table);

/* Adds (or replaces) slot (group_id, slot_id) mapping guest offsets to host
 * [virt_start, virt_end) with host = offset + addr_delta. Fails on a bad
 * group/slot id, virt_start > virt_end, or a generation that does not fit
 * gen_bits (such a slot could never be addressed). Worker thread. */
MemSlotError memslot_add(MemSlotTable *table, uint32_t group_id, uint32_t slot_id,
                         uint32_t generation, uint64_t virt_start, uint64_t virt_end,
                         uint64_t addr_delta);

/* Deletes exactly slot (group_id, slot_id). QEMU quirk: QXL_IO_MEMSLOT_DEL
 * arrives as spice_qxl_del_memslot(group 0, id), so for a guest slot (group
 * 1) this deletes an unused host-group entry and the guest slot stays mapped
 * until it is re-added or the table is reset. Upstream behaves the same and
 * it is safe: QEMU keeps the BAR mapped for the device's lifetime. Worker
 * thread. */
MemSlotError memslot_del(MemSlotTable *table, uint32_t group_id, uint32_t slot_id);

/* Deletes every slot of every group. Worker thread. */
void memslot_reset(MemSlotTable *table);

/* Translates addr in group_id to a host pointer to `size` bytes, checking
 * slot id, generation and that [host, host+size) lies inside the slot
 * (exact end: host + size == virt_end is the last valid range). Returns NULL
 * on failure with *err set (err may be NULL). The pointer is guest memory:
 * the guest may change it at any time, copy before validating. Worker
 * thread. */
void *memslot_get_virt(const MemSlotTable *table, uint32_t group_id, QXLPHYSICAL addr,
                       size_t size, MemSlotError *err);

/* Bytes addressable from addr to the end of its slot (0 with *err set when
 * addr itself is invalid). Used for NUL-terminated guest strings. Worker
 * thread. */
uint64_t memslot_max_size(const MemSlotTable *table, uint32_t group_id, QXLPHYSICAL addr,
                          MemSlotError *err);

/* Computes addr + delta without carrying out of the offset bits into the
 * generation/slot fields (which would silently address another slot).
 * Returns false on such overflow. Any thread (pure). */
bool memslot_addr_add(const MemSlotTable *table, QXLPHYSICAL addr, uint64_t delta,
                      QXLPHYSICAL *out);

/* Slot id encoded in addr (may be out of range; translation checks). Pure. */
uint32_t memslot_addr_slot_id(const MemSlotTable *table, QXLPHYSICAL addr);

/* Builds a QXLPHYSICAL from its fields (tests, fake devices). Pure. */
QXLPHYSICAL memslot_make_addr(const MemSlotTable *table, uint32_t slot_id,
                              uint32_t generation, uint64_t offset);

/* Static English text for an error code. Any thread. */
const char *memslot_strerror(MemSlotError err);
