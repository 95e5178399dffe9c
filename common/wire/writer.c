#include "common/wire/writer.h"

void wire_writer_init(WireWriter *w)
{
    memset(w, 0, sizeof(*w));
}

void wire_writer_reset(WireWriter *w)
{
    w->len = 0;
    w->base = 0;
}

void wire_writer_clear(WireWriter *w)
{
    g_free(w->data);
    memset(w, 0, sizeof(*w));
}

uint8_t *wire_put_space(WireWriter *w, size_t n)
{
    if (n > SIZE_MAX - w->len) {
        g_error("wire writer overflow");   /* our bug: callers bound sizes */
    }
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n) {
            cap *= 2;
        }
        w->data = g_realloc(w->data, cap);
        w->cap = cap;
    }
    uint8_t *p = w->data + w->len;
    w->len += n;
    return p;
}

void wire_set_u32(WireWriter *w, size_t at, uint32_t v)
{
    g_assert(at + 4 <= w->len);
    for (int i = 0; i < 4; i++) {
        w->data[at + i] = (uint8_t)(v >> (8 * i));
    }
}

void wire_fix_ptr(WireWriter *w, size_t at)
{
    g_assert(w->len >= w->base);
    wire_set_u32(w, at, (uint32_t)(w->len - w->base));
}
