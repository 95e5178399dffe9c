/* QUIC encoder.
 *
 * The model (contexts, bucket statistics, pseudo-random update points,
 * wait-mask schedule, run-length states) must evolve exactly as the
 * client's decoder evolves it, so the control flow of a row segment mirrors
 * quic_tmpl.c. What differs is how the work is done: a row is a run of
 * 32-bit 0xAARRGGBB words (32BIT/RGBA rows are read in place, RGB16/24 rows
 * are widened once), so one code path serves every format and the run test
 * is one masked compare; the row coder is instantiated per channel group,
 * first row or not, and bits per channel, so the inner loop has no
 * format branches; codes and lengths come from one packed table; bits go
 * through a 64-bit accumulator held in locals and stored 32 bits at a time
 * into output reserved once per row. The per-channel context rows persist
 * across rows on purpose: run pixels leave them untouched and the next
 * pixel's context is whatever the row above left there, exactly as in the
 * decoder. */
#include <string.h>
#include <glib.h>

#include "common/codec/quic-codec.h"
#include "common/codec/quic-tables.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

typedef struct {
    uint32_t counters[8];
    const uint32_t *codeword;   /* the family's codeword row of the best code */
} QBucket;

typedef struct {
    uint32_t waitcnt, seed, wm_trigger, wmidx, wmileft;
    int melcstate, melclen;
    uint32_t melcorder;
} QState;

/* Channel slots: 0 r, 1 g, 2 b, 3 alpha (the coding order within a pixel). */
struct QuicEncoder {
    QBucket buckets[4][8];      /* per slot */
    QBucket *ctx_bucket[4][256]; /* per slot: context -> its bucket in ctx_fam */
    const QuicFamily *ctx_fam;
    QState rgb, alpha;
    uint8_t *corr;              /* corr[4 * x + slot]; points 4 bytes into corr_buf so x = -1 is valid */
    uint8_t *corr_buf;          /* owned */
    uint32_t *rows[2];          /* owned: widened RGB16/24 rows, 0x00RRGGBB */
    uint32_t width_cap;
    const QuicFamily *fam;
    uint64_t acc;               /* bits not yet stored: the low nbits */
    unsigned nbits;
};

/* The bit writer's working copy, kept in locals for a row. */
typedef struct {
    uint64_t acc;
    unsigned nbits;
    uint8_t *wp;                /* next output word; room reserved per row */
} BitW;

QuicEncoder *quic_encoder_new(void)
{
    return g_new0(QuicEncoder, 1);
}

void quic_encoder_free(QuicEncoder *enc)
{
    if (!enc) {
        return;
    }
    g_free(enc->corr_buf);
    g_free(enc->rows[0]);
    g_free(enc->rows[1]);
    g_free(enc);
}

bool quic_can_encode(const CodecImage *img)
{
    return codec_image_valid(img) && img->fmt != SPICE_BITMAP_FMT_8BIT;
}

ALWAYS_INLINE void bw_put(BitW *w, uint32_t code, unsigned len)
{
    w->acc = (w->acc << len) | code;
    w->nbits += len;
    if (w->nbits >= 32) {
        w->nbits -= 32;
        uint32_t word = GUINT32_TO_LE((uint32_t)(w->acc >> w->nbits));
        memcpy(w->wp, &word, 4);
        w->wp += 4;
    }
}

static void bw_put_ones(BitW *w, unsigned n)
{
    for (; n >= 16; n -= 16) {
        bw_put(w, 0xffff, 16);
    }
    if (n) {
        bw_put(w, (1u << n) - 1, n);
    }
}

static void state_reset(QState *s)
{
    memset(s, 0, sizeof(*s));
    s->seed = QUIC_TABRAND_SIZE - 1;
    s->wmileft = QUIC_WMINEXT;
    s->wm_trigger = quic_wm_trigger(0);
    s->melcorder = 1;
}

ALWAYS_INLINE uint32_t tabrand(QState *s)
{
    return quic_tabrand_chaos[++s->seed & (QUIC_TABRAND_SIZE - 1)];
}

static void put_run(BitW *w, QState *s, uint32_t runlen)
{
    unsigned hits = 0;
    while (runlen >= s->melcorder) {
        hits++;
        runlen -= s->melcorder;
        if (s->melcstate < QUIC_MELCSTATES - 1) {
            s->melclen = quic_melc_J[++s->melcstate];
            s->melcorder = 1u << s->melclen;
        }
    }
    bw_put_ones(w, hits);
    bw_put(w, runlen, (unsigned)s->melclen + 1);
    if (s->melcstate) {
        s->melclen = quic_melc_J[--s->melcstate];
        s->melcorder = 1u << s->melclen;
    }
}

ALWAYS_INLINE void update_bucket(const QuicFamily *f, const QState *s, QBucket *b, unsigned v,
                                 const unsigned bpc)
{
    const uint8_t *len = f->code_len[v];
    unsigned best = bpc - 1;
    uint32_t bestlen = (b->counters[best] += len[best]);
    for (int l = (int)bpc - 2; l >= 0; l--) {
        uint32_t n = (b->counters[l] += len[l]);
        if (n < bestlen) {
            best = (unsigned)l;
            bestlen = n;
        }
    }
    b->codeword = f->codeword[best];
    if (bestlen > s->wm_trigger) {
        for (unsigned l = 0; l < bpc; l++) {
            b->counters[l] >>= 1;
        }
    }
}

ALWAYS_INLINE uint32_t px_at(const uint8_t *row, int i)
{
    uint32_t v;
    memcpy(&v, row + 4 * (size_t)i, 4);
    return GUINT32_FROM_LE(v);
}


ALWAYS_INLINE void update_model(QuicEncoder *e, QState *s, int idx, const int slot0,
                                const int nch, const unsigned bpc)
{
    const QuicFamily *f = e->fam;
    const uint8_t *corr = e->corr;
    for (int k = 0; k < nch; k++) {
        int slot = slot0 + k;
        update_bucket(f, s, e->ctx_bucket[slot][corr[4 * idx - 4 + slot]], corr[4 * idx + slot],
                      bpc);
    }
}

/* Byte of a slot's value in a little-endian row word. */
#define SLOT_BYTE(slot) ((slot) == 3 ? 3 : 2 - (slot))

/* Codes one channel of pixel i (i > 0 unless first) against its prediction. */
ALWAYS_INLINE void code_channel(QuicEncoder *e, const QuicFamily *f, uint8_t *corr, BitW *w,
                                const uint8_t *cur, const uint8_t *prev, int i, const int slot,
                                const bool row0, const bool first, const unsigned bpc)
{
    const int byte = SLOT_BYTE(slot);
    unsigned pred;
    if (first) {
        pred = row0 ? 0 : prev[byte];
    } else if (row0) {
        pred = cur[4 * i - 4 + byte];
    } else {
        pred = (cur[4 * i - 4 + byte] + prev[4 * i + byte]) >> 1;
    }
    unsigned v = f->u2l[(cur[4 * i + byte] - pred) & ((1u << bpc) - 1)];
    unsigned ctx = corr[4 * i - 4 + slot];
    corr[4 * i + slot] = (uint8_t)v;
    uint32_t cw = e->ctx_bucket[slot][ctx]->codeword[v];
    bw_put(w, cw >> 5, cw & 31);
}

/* Codes the channels of pixel i in slot order. */
ALWAYS_INLINE void code_pixel(QuicEncoder *e, const QuicFamily *f, uint8_t *corr, BitW *w,
                              const uint8_t *cur, const uint8_t *prev, int i, const int slot0,
                              const int nch, const bool row0, const bool first,
                              const unsigned bpc)
{
    code_channel(e, f, corr, w, cur, prev, i, slot0, row0, first, bpc);
    if (nch == 3) {
        code_channel(e, f, corr, w, cur, prev, i, slot0 + 1, row0, first, bpc);
        code_channel(e, f, corr, w, cur, prev, i, slot0 + 2, row0, first, bpc);
    }
}

/* One row segment [i, end) coded with one wait mask (compress_row_seg /
 * compress_row0_seg). */
ALWAYS_INLINE void code_segment(QuicEncoder *e, QState *s, BitW *w, const uint8_t *cur,
                                const uint8_t *prev, int i, int end, uint32_t waitmask,
                                const int slot0, const int nch, const bool row0,
                                const unsigned bpc)
{
    const uint32_t m = nch == 3 ? 0x00ffffffu : 0xff000000u;
    const QuicFamily *f = e->fam;
    uint8_t *corr = e->corr;
    int stopidx;
    int run_index = 0;

    if (i == 0) {
        code_pixel(e, f, corr, w, cur, prev, 0, slot0, nch, row0, true, bpc);
        if (s->waitcnt) {
            s->waitcnt--;
        } else {
            s->waitcnt = tabrand(s) & waitmask;
            update_model(e, s, 0, slot0, nch, bpc);
        }
        stopidx = ++i + (int)s->waitcnt;
    } else {
        stopidx = i + (int)s->waitcnt;
    }
    for (;;) {
        /* A run starts at i (not right after the previous run) when the
         * pixel above repeats its left neighbour and the two pixels to the
         * left are equal: the decoder's test, cheapest part first. */
#define RUN_STARTS(i) (!row0 && ((px_at(prev, (i) - 1) ^ px_at(prev, (i))) & m) == 0 && \
                       (i) > 2 && run_index != (i) && \
                       ((px_at(cur, (i) - 1) ^ px_at(cur, (i) - 2)) & m) == 0)
        while (stopidx < end) {
            for (; i <= stopidx; i++) {
                if (RUN_STARTS(i)) {
                    goto do_run;
                }
                code_pixel(e, f, corr, w, cur, prev, i, slot0, nch, row0, false, bpc);
            }
            update_model(e, s, stopidx, slot0, nch, bpc);
            stopidx = i + (int)(tabrand(s) & waitmask);
        }
        for (; i < end; i++) {
            if (RUN_STARTS(i)) {
                goto do_run;
            }
            code_pixel(e, f, corr, w, cur, prev, i, slot0, nch, row0, false, bpc);
        }
#undef RUN_STARTS
        s->waitcnt = (uint32_t)(stopidx - end);
        return;

do_run:
        run_index = i;
        s->waitcnt = (uint32_t)(stopidx - i);
        {
            uint32_t run = 0;
            uint32_t last = px_at(cur, i - 1) & m;
            while ((px_at(cur, i) & m) == last) {
                run++;
                if (++i == end) {
                    put_run(w, s, run);
                    return;
                }
            }
            put_run(w, s, run);
        }
        stopidx = i + (int)s->waitcnt;
    }
}

/* A whole row: segments split where the wait-mask index steps up. */
ALWAYS_INLINE void code_row(QuicEncoder *e, QState *s, BitW *w, const uint8_t *cur,
                            const uint8_t *prev, uint32_t width, const int slot0, const int nch,
                            const bool row0, const unsigned bpc)
{
    uint32_t pos = 0;

    while (QUIC_WMIMAX > s->wmidx && s->wmileft <= width) {
        if (s->wmileft) {
            code_segment(e, s, w, cur, prev, (int)pos, (int)(pos + s->wmileft),
                         (1u << s->wmidx) - 1, slot0, nch, row0, bpc);
            width -= s->wmileft;
            pos += s->wmileft;
        }
        s->wmidx++;
        s->wm_trigger = quic_wm_trigger(s->wmidx);
        s->wmileft = QUIC_WMINEXT;
    }
    if (width) {
        code_segment(e, s, w, cur, prev, (int)pos, (int)(pos + width), (1u << s->wmidx) - 1,
                     slot0, nch, row0, bpc);
        if (QUIC_WMIMAX > s->wmidx) {
            s->wmileft -= width;
        }
    }
}

typedef void RowCoder(QuicEncoder *e, QState *s, BitW *w, const uint8_t *cur,
                      const uint8_t *prev, uint32_t width);

#define ROW_CODER(name, slot0, nch, row0, bpc) \
    static void name(QuicEncoder *e, QState *s, BitW *w, const uint8_t *cur, \
                     const uint8_t *prev, uint32_t width) \
    { \
        code_row(e, s, w, cur, prev, width, slot0, nch, row0, bpc); \
    }
ROW_CODER(code_rgb8_row0, 0, 3, true, 8)
ROW_CODER(code_rgb8_row, 0, 3, false, 8)
ROW_CODER(code_rgb5_row0, 0, 3, true, 5)
ROW_CODER(code_rgb5_row, 0, 3, false, 5)
ROW_CODER(code_alpha_row0, 3, 1, true, 8)
ROW_CODER(code_alpha_row, 3, 1, false, 8)

/* Widens an RGB16/24 row to 0x00RRGGBB words (5-bit fields for RGB16). */
static void widen_row(const CodecImage *img, const uint8_t *s, uint32_t *d)
{
    uint32_t w = img->width;
    if (img->fmt == SPICE_BITMAP_FMT_16BIT) {
        for (uint32_t x = 0; x < w; x++) {
            uint32_t v = s[2 * x] | s[2 * x + 1] << 8;
            d[x] = GUINT32_TO_LE((v & 0x7c00) << 6 | (v & 0x03e0) << 3 | (v & 0x1f));
        }
    } else {
        for (uint32_t x = 0; x < w; x++) {
            d[x] = GUINT32_TO_LE((uint32_t)s[3 * x] | (uint32_t)s[3 * x + 1] << 8 |
                                 (uint32_t)s[3 * x + 2] << 16);
        }
    }
}

static void encoder_reset(QuicEncoder *e, uint32_t width)
{
    if (e->width_cap < width) {
        g_free(e->corr_buf);
        g_free(e->rows[0]);
        g_free(e->rows[1]);
        e->corr_buf = g_malloc0(4 * ((size_t)width + 1));
        e->corr = e->corr_buf + 4;
        e->rows[0] = g_new(uint32_t, width);
        e->rows[1] = g_new(uint32_t, width);
        e->width_cap = width;
    }
    for (int c = 0; c < 4; c++) {
        memset(e->buckets[c], 0, sizeof(e->buckets[c]));
        for (int b = 0; b < 8; b++) {
            e->buckets[c][b].codeword = e->fam->codeword[e->fam->bpc - 1];
        }
    }
    if (e->ctx_fam != e->fam) {
        for (int c = 0; c < 4; c++) {
            for (int ctx = 0; ctx < 256; ctx++) {
                e->ctx_bucket[c][ctx] = &e->buckets[c][e->fam->bucket_of[ctx]];
            }
        }
        e->ctx_fam = e->fam;
    }
    state_reset(&e->rgb);
    state_reset(&e->alpha);
    e->acc = 0;
    e->nbits = 0;
}

bool quic_encode(QuicEncoder *e, const CodecImage *img, CodecBuf *out)
{
    if (!quic_can_encode(img)) {
        return false;
    }
    uint32_t type = img->fmt == SPICE_BITMAP_FMT_16BIT ? QUIC_TYPE_RGB16 :
                    img->fmt == SPICE_BITMAP_FMT_24BIT ? QUIC_TYPE_RGB24 :
                    img->fmt == SPICE_BITMAP_FMT_32BIT ? QUIC_TYPE_RGB32 : QUIC_TYPE_RGBA;
    bool has_alpha = type == QUIC_TYPE_RGBA;
    bool widen = type == QUIC_TYPE_RGB16 || type == QUIC_TYPE_RGB24;
    uint32_t width = img->width;

    e->fam = quic_family(type == QUIC_TYPE_RGB16 ? 5 : 8);
    encoder_reset(e, width);
    codec_buf_reserve(out, 20 + (size_t)width * img->height);
    codec_buf_put_u32le(out, QUIC_MAGIC);
    codec_buf_put_u32le(out, 0);                 /* version 0.0 */
    codec_buf_put_u32le(out, type);
    codec_buf_put_u32le(out, width);
    codec_buf_put_u32le(out, img->height);

    RowCoder *rgb_row0 = type == QUIC_TYPE_RGB16 ? code_rgb5_row0 : code_rgb8_row0;
    RowCoder *rgb_row = type == QUIC_TYPE_RGB16 ? code_rgb5_row : code_rgb8_row;
    BitW w = { .acc = e->acc, .nbits = e->nbits };
    const uint8_t *prev = NULL;
    for (uint32_t y = 0; y < img->height; y++) {
        const uint8_t *cur = codec_image_top_row(img, y);
        if (widen) {
            widen_row(img, cur, e->rows[y & 1]);
            cur = (const uint8_t *)e->rows[y & 1];
        }
        /* the row's first context is the previous row's first value */
        for (int c = 0; c < 4; c++) {
            e->corr[c - 4] = y ? e->corr[c] : 0;
        }
        /* worst case: every coded pixel costs nch codewords of QUIC_MAXCLEN
         * bits plus a run terminator of at most 16 bits (a run is followed
         * by a coded pixel or a segment end), and every run pixel one bit:
         * 136 bits a pixel for RGB and alpha, plus a few segments a row */
        codec_buf_reserve(out, 20 * (size_t)width + 64);
        w.wp = out->data + out->len;
        if (y == 0) {
            rgb_row0(e, &e->rgb, &w, cur, NULL, width);
            if (has_alpha) {
                code_alpha_row0(e, &e->alpha, &w, cur, NULL, width);
            }
        } else {
            rgb_row(e, &e->rgb, &w, cur, prev, width);
            if (has_alpha) {
                code_alpha_row(e, &e->alpha, &w, cur, prev, width);
            }
        }
        out->len = (size_t)(w.wp - out->data);
        prev = cur;
    }
    if (w.nbits) {
        codec_buf_put_u32le(out, (uint32_t)(w.acc << (32 - w.nbits)));
    }
    /* the decoder looks one word ahead of the last bit it uses */
    codec_buf_put_u32le(out, 0);
    e->acc = 0;
    e->nbits = 0;
    return true;
}
