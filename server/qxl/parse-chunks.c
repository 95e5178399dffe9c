/* QXLDataChunk lists: walked with bounded length and size, loops rejected,
 * each chunk header copied once. */
#include "server/qxl/parse-internal.h"

#include <string.h>

/* Lists up to this many chunks are checked for loops by a linear scan;
 * longer ones switch to a hash set. */
#define LINEAR_LOOP_CHECK 32u

static bool seen_before(const ParseChunks *c, GHashTable *seen, const void *hdr)
{
    if (seen) {
        return g_hash_table_contains(seen, hdr);
    }
    /* v[i].data - sizeof(QXLDataChunk) is each chunk's header. */
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->v[i].data - sizeof(QXLDataChunk) == (const uint8_t *)hdr) {
            return true;
        }
    }
    return false;
}

static bool add_chunk(ParseState *st, ParseChunks *c, GHashTable **seen, uint32_t *cap,
                      const void *hdr, const uint8_t *data, uint32_t size, const char *what)
{
    if (seen_before(c, *seen, hdr)) {
        return parse_fail(st, RED_PARSE_ERROR_INVALID, "%s: data chunk list loops", what);
    }
    if (c->n >= RED_QXL_MAX_CHUNKS) {
        return parse_fail(st, RED_PARSE_ERROR_LIMIT, "%s: more than %u data chunks", what,
                          RED_QXL_MAX_CHUNKS);
    }
    if (size > RED_QXL_MAX_DATA_SIZE - c->total) {
        return parse_fail(st, RED_PARSE_ERROR_LIMIT, "%s: data chunks exceed %u bytes", what,
                          RED_QXL_MAX_DATA_SIZE);
    }
    if (c->n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        c->v = g_renew(ParseChunk, c->v, *cap);
    }
    c->v[c->n++] = (ParseChunk){ .data = data, .size = size };
    c->total += size;
    if (*seen) {
        g_hash_table_add(*seen, (gpointer)hdr);
    } else if (c->n > LINEAR_LOOP_CHECK) {
        *seen = g_hash_table_new(NULL, NULL);
        for (uint32_t i = 0; i < c->n; i++) {
            g_hash_table_add(*seen, (gpointer)(c->v[i].data - sizeof(QXLDataChunk)));
        }
    }
    return true;
}

bool parse_chunks_from_header(ParseState *st, const QXLDataChunk *first, QXLPHYSICAL first_addr,
                              ParseChunks *out, const char *what)
{
    *out = (ParseChunks){0};
    GHashTable *seen = NULL;
    uint32_t cap = 0;
    QXLDataChunk hdr = *first;
    QXLPHYSICAL hdr_addr = first_addr;
    bool ok = false;

    for (;;) {
        /* Pin header and data together: the loop check keys on the header's
         * host address and the data must follow it in the same slot. */
        uint64_t span = sizeof(QXLDataChunk) + (uint64_t)hdr.data_size;
        if (hdr.data_size > RED_QXL_MAX_DATA_SIZE) {
            parse_fail(st, RED_PARSE_ERROR_LIMIT, "%s: chunk of %u bytes exceeds %u", what,
                       hdr.data_size, RED_QXL_MAX_DATA_SIZE);
            goto out;
        }
        const uint8_t *p = parse_pin(st, hdr_addr, span, what);
        if (!p) {
            goto out;
        }
        if (!add_chunk(st, out, &seen, &cap, p, p + sizeof(QXLDataChunk), hdr.data_size, what)) {
            goto out;
        }
        if (hdr.next_chunk == 0) {
            break;
        }
        hdr_addr = hdr.next_chunk;
        if (!parse_fetch(st, hdr_addr, &hdr, sizeof(hdr), what)) {
            goto out;
        }
    }
    if (out->total > RED_QXL_MAX_CMD_DATA - st->chunk_bytes) {
        parse_fail(st, RED_PARSE_ERROR_LIMIT, "%s: command data exceeds %" G_GUINT64_FORMAT
                   " bytes", what, (guint64)RED_QXL_MAX_CMD_DATA);
        goto out;
    }
    st->chunk_bytes += out->total;
    ok = true;
out:
    if (seen) {
        g_hash_table_destroy(seen);
    }
    if (!ok) {
        parse_chunks_clear(out);
    }
    return ok;
}

bool parse_chunks_at(ParseState *st, QXLPHYSICAL addr, ParseChunks *out, const char *what)
{
    QXLDataChunk hdr;
    *out = (ParseChunks){0};
    if (!parse_fetch(st, addr, &hdr, sizeof(hdr), what)) {
        return false;
    }
    return parse_chunks_from_header(st, &hdr, addr, out, what);
}

uint8_t *parse_chunks_gather_n(const ParseChunks *c, uint64_t max)
{
    size_t want = (size_t)MIN(max, c->total);
    uint8_t *buf = g_malloc(want ? want : 1);
    size_t off = 0;
    for (uint32_t i = 0; i < c->n && off < want; i++) {
        size_t n = MIN((size_t)c->v[i].size, want - off);
        memcpy(buf + off, c->v[i].data, n);
        off += n;
    }
    g_assert(off == want);
    return buf;
}

uint8_t *parse_chunks_gather(const ParseChunks *c)
{
    return parse_chunks_gather_n(c, c->total);
}

void parse_chunks_clear(ParseChunks *c)
{
    g_free(c->v);
    *c = (ParseChunks){0};
}
