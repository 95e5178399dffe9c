/* A fake QXL device memory for parser tests, the fuzz target and its corpus
 * generator: one heap buffer registered as memslot FAKE_SLOT of group
 * FAKE_GROUP (QEMU's geometry: 2 groups x 8 slots, 8 id + 8 generation
 * bits), plus builders that write guest structs into it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "server/qxl/parse.h"

#define FAKE_GROUP 1u
#define FAKE_SLOT 1u
#define FAKE_GEN 3u
#define FAKE_GUEST_BASE UINT64_C(0x100000)  /* guest "physical" address of mem[0] */
#define FAKE_N_SURFACES 16u

typedef struct FakeQxl {
    uint8_t *mem;               /* owned unless created over a caller buffer */
    bool own_mem;
    size_t size, used;
    MemSlotTable *slots;        /* owned */
    RedParseCtx ctx;
} FakeQxl;

/* Zeroed buffer of `size` bytes registered as the slot. */
void fake_qxl_init(FakeQxl *f, size_t size);
/* Registers a caller's buffer (not copied, not freed). */
void fake_qxl_init_over(FakeQxl *f, uint8_t *mem, size_t size);
void fake_qxl_finish(FakeQxl *f);

/* Guest address of a host pointer inside mem (or one past it). */
QXLPHYSICAL fake_phys(const FakeQxl *f, const void *host);
/* Zeroed, 8-aligned allocation; aborts the test if out of room. */
void *fake_alloc(FakeQxl *f, size_t n, QXLPHYSICAL *phys);

/* A chunk list holding `size` bytes of `data` split in `nchunks` pieces;
 * returns the first chunk header's address. */
QXLPHYSICAL fake_chunks(FakeQxl *f, const void *data, size_t size, unsigned nchunks);
/* Fills the inline first chunk `first` (already inside mem) so that it plus
 * nchunks-1 more chunks hold data. The first chunk's data is written right
 * after `first`, so allocate room for it: use fake_alloc_inline(). */
void *fake_alloc_inline(FakeQxl *f, size_t head, size_t data_size, QXLPHYSICAL *phys);

QXLPHYSICAL fake_palette(FakeQxl *f, unsigned num_ents);
/* A BITMAP image with a pattern of pixels; direct = QXL_BITMAP_DIRECT. */
QXLPHYSICAL fake_bitmap(FakeQxl *f, uint8_t format, uint32_t w, uint32_t h, uint32_t stride,
                        unsigned nchunks, bool direct, QXLPHYSICAL palette);
QXLPHYSICAL fake_surface_image(FakeQxl *f, uint32_t surface_id);
QXLPHYSICAL fake_quic_image(FakeQxl *f, uint32_t w, uint32_t h, size_t data_size,
                            unsigned nchunks);
/* A native drawable with bbox (0,0)-(16,16), no clip, surface 0, no deps. */
QXLDrawable *fake_drawable(FakeQxl *f, uint8_t type, QXLPHYSICAL *phys);
QXLPHYSICAL fake_clip_rects(FakeQxl *f, unsigned n, unsigned nchunks);
/* Path with nseg segments of 3 points each. */
QXLPHYSICAL fake_path(FakeQxl *f, unsigned nseg);
/* String with n A8 glyphs of 3x2. */
QXLPHYSICAL fake_string(FakeQxl *f, unsigned n);
QXLPHYSICAL fake_cursor_cmd_set(FakeQxl *f, uint16_t w, uint16_t h, unsigned nchunks);
QXLPHYSICAL fake_surface_create(FakeQxl *f, uint32_t id, uint32_t w, uint32_t h, int32_t stride,
                                uint32_t format, QXLSurfaceCmd **cmd);
QXLPHYSICAL fake_update_cmd(FakeQxl *f, uint32_t surface_id);
QXLPHYSICAL fake_message(FakeQxl *f, const char *text);
/* A QXLMonitorsConfig with `count` heads side by side (64x48 each, surface
 * 0), max_allowed = count; *cfg (optional) gets its host pointer. */
QXLPHYSICAL fake_monitors_config(FakeQxl *f, unsigned count, QXLMonitorsConfig **cfg);

/* FakeFuzzHeader.cmd_type of a monitors config (QXL_IO_MONITORS_CONFIG_ASYNC
 * data, not a ring command): no QXL_CMD_* uses this value. */
#define FAKE_FUZZ_MONITORS_CONFIG 0xf0u

/* Fuzz input layout: a FakeFuzzHeader, then the device memory. */
typedef struct FakeFuzzHeader {
    uint8_t cmd_type;           /* QXL_CMD_* or FAKE_FUZZ_MONITORS_CONFIG */
    uint8_t flags;              /* QXLCommandExt.flags */
    uint8_t reserved[2];
    uint32_t offset;            /* command offset in the memory, little endian */
} FakeFuzzHeader;
