/* WireWriter: a growable little-endian byte buffer for building SPICE
 * messages. Pointer fields in spice.proto are u32 offsets from the start of
 * the message body; reserve them with wire_put_ptr() and fill them with
 * wire_fix_ptr() once the target is written. Single-threaded.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <glib.h>

typedef struct WireWriter {
    uint8_t *data;      /* owned */
    size_t len;         /* bytes written */
    size_t cap;
    size_t base;        /* offset of the message body (pointer origin) */
} WireWriter;

void wire_writer_init(WireWriter *w);
void wire_writer_reset(WireWriter *w);   /* len = 0, keeps memory */
void wire_writer_clear(WireWriter *w);   /* frees memory */
/* Makes room for n more bytes and returns where they go (len advanced). */
uint8_t *wire_put_space(WireWriter *w, size_t n);

static inline void wire_put_bytes(WireWriter *w, const void *p, size_t n)
{
    if (n) {
        memcpy(wire_put_space(w, n), p, n);
    }
}
static inline void wire_put_u8(WireWriter *w, uint8_t v)
{
    *wire_put_space(w, 1) = v;
}
static inline void wire_put_u16(WireWriter *w, uint16_t v)
{
    uint8_t *p = wire_put_space(w, 2);
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void wire_put_u32(WireWriter *w, uint32_t v)
{
    uint8_t *p = wire_put_space(w, 4);
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}
static inline void wire_put_u64(WireWriter *w, uint64_t v)
{
    uint8_t *p = wire_put_space(w, 8);
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}
static inline void wire_put_i32(WireWriter *w, int32_t v)
{
    wire_put_u32(w, (uint32_t)v);
}
/* Writes a placeholder u32 offset; returns its position for wire_fix_ptr. */
static inline size_t wire_put_ptr(WireWriter *w)
{
    size_t at = w->len;
    wire_put_u32(w, 0);
    return at;
}
/* Points the offset at `at` to the current end of the buffer. */
void wire_fix_ptr(WireWriter *w, size_t at);
/* Overwrites a u32 written earlier. */
void wire_set_u32(WireWriter *w, size_t at, uint32_t v);
