/* Bounds-checked big-endian byte reader shared by the LZ-family decoders:
 * a read past the end returns 0 and sets `bad`, so a decoder checks once. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const uint8_t *p, *end;
    bool bad;
} BeReader;

static inline uint32_t rd8(BeReader *r)
{
    if (r->p >= r->end) {
        r->bad = true;
        return 0;
    }
    return *r->p++;
}

static inline uint32_t rd32(BeReader *r)
{
    uint32_t v = rd8(r) << 24;
    v |= rd8(r) << 16;
    v |= rd8(r) << 8;
    return v | rd8(r);
}
