/* WireReader: bounds-checked little-endian reads from a received message.
 * Every read fails softly: once a read runs past the end, `ok` turns false
 * and later reads return 0, so a parser checks `ok` once at the end. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct WireReader {
    const uint8_t *data;
    size_t len;
    size_t pos;
    bool ok;
} WireReader;

static inline void wire_reader_init(WireReader *r, const void *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->ok = true;
}

static inline const uint8_t *wire_get_bytes(WireReader *r, size_t n)
{
    static const uint8_t empty[1];
    if (!r->ok || n > r->len - r->pos) {
        r->ok = false;
        return NULL;
    }
    if (!r->data) {
        return empty;   /* n == 0 on an empty message: no arithmetic on NULL */
    }
    const uint8_t *p = r->data + r->pos;
    r->pos += n;
    return p;
}

static inline uint8_t wire_get_u8(WireReader *r)
{
    const uint8_t *p = wire_get_bytes(r, 1);
    return p ? p[0] : 0;
}

static inline uint16_t wire_get_u16(WireReader *r)
{
    const uint8_t *p = wire_get_bytes(r, 2);
    return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

static inline uint32_t wire_get_u32(WireReader *r)
{
    const uint8_t *p = wire_get_bytes(r, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

static inline uint64_t wire_get_u64(WireReader *r)
{
    uint64_t lo = wire_get_u32(r);
    uint64_t hi = wire_get_u32(r);
    return lo | hi << 32;
}

static inline size_t wire_remaining(const WireReader *r)
{
    return r->ok ? r->len - r->pos : 0;
}
