/* QUIC encoder.
 *
 * The model (contexts, bucket statistics, pseudo-random update points,
 * wait-mask schedule, run-length states) must evolve exactly as the
 * client's decoder evolves it, so the control flow of a row segment mirrors
 * quic_tmpl.c. What differs is how the work is done: each row is split once
 * into per-channel byte rows (so RGB16/24/32 share one code path), codes and
 * lengths come from precomputed tables, and bits go through a 64-bit
 * accumulator. The per-channel context rows persist across rows on purpose:
 * run pixels leave them untouched and the next pixel's context is whatever
 * the row above left there, exactly as in the decoder. */
#include <string.h>
#include <glib.h>

#include "common/codec/quic-codec.h"
#include "common/codec/quic-tables.h"

typedef struct {
    uint32_t counters[8];
    uint32_t bestcode;
} QBucket;

typedef struct {
    uint32_t waitcnt, seed, wm_trigger, wmidx, wmileft;
    int melcstate, melclen;
    uint32_t melcorder;
} QState;

typedef struct {
    QBucket buckets[8];
    uint8_t *corr;              /* points one past the start of corr_buf: corr[-1] is valid */
    uint8_t *corr_buf;          /* owned */
    uint8_t *rows[2];           /* owned: this and the previous row of the channel */
} QChan;

struct QuicEncoder {
    QChan ch[4];                /* r, g, b, alpha */
    QState rgb, alpha;
    uint32_t width_cap;
    const QuicFamily *fam;
    /* bit writer */
    CodecBuf *out;
    uint64_t acc;
    unsigned nbits;
};

QuicEncoder *quic_encoder_new(void)
{
    return g_new0(QuicEncoder, 1);
}

void quic_encoder_free(QuicEncoder *enc)
{
    if (!enc) {
        return;
    }
    for (int c = 0; c < 4; c++) {
        g_free(enc->ch[c].corr_buf);
        g_free(enc->ch[c].rows[0]);
        g_free(enc->ch[c].rows[1]);
    }
    g_free(enc);
}

bool quic_can_encode(const CodecImage *img)
{
    return codec_image_valid(img) && img->fmt != SPICE_BITMAP_FMT_8BIT;
}

static inline void put_word(QuicEncoder *e, uint32_t w)
{
    CodecBuf *b = e->out;
    if (b->cap - b->len < 4) {
        codec_buf_reserve(b, 4);
    }
    codec_put_u32le(b->data + b->len, w);
    b->len += 4;
}

static inline void put_bits(QuicEncoder *e, uint32_t code, unsigned len)
{
    e->acc = (e->acc << len) | code;
    e->nbits += len;
    if (e->nbits >= 32) {
        e->nbits -= 32;
        put_word(e, (uint32_t)(e->acc >> e->nbits));
    }
}

static void put_ones(QuicEncoder *e, unsigned n)
{
    for (; n >= 16; n -= 16) {
        put_bits(e, 0xffff, 16);
    }
    if (n) {
        put_bits(e, (1u << n) - 1, n);
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

static inline uint32_t tabrand(QState *s)
{
    return quic_tabrand_chaos[++s->seed & (QUIC_TABRAND_SIZE - 1)];
}

static void put_run(QuicEncoder *e, QState *s, uint32_t runlen)
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
    put_ones(e, hits);
    put_bits(e, runlen, (unsigned)s->melclen + 1);
    if (s->melcstate) {
        s->melclen = quic_melc_J[--s->melcstate];
        s->melcorder = 1u << s->melclen;
    }
}

static inline void update_bucket(const QuicFamily *f, const QState *s, QBucket *b, unsigned v)
{
    unsigned best = f->bpc - 1;
    uint32_t bestlen = (b->counters[best] += f->code_len[v][best]);
    for (int l = (int)f->bpc - 2; l >= 0; l--) {
        uint32_t len = (b->counters[l] += f->code_len[v][l]);
        if (len < bestlen) {
            best = (unsigned)l;
            bestlen = len;
        }
    }
    b->bestcode = best;
    if (bestlen > s->wm_trigger) {
        for (unsigned l = 0; l < f->bpc; l++) {
            b->counters[l] >>= 1;
        }
    }
}

typedef struct {
    QuicEncoder *e;
    QState *s;
    QChan *ch;                  /* first channel of the group */
    int nch;                    /* 3 (RGB) or 1 (alpha) */
    const uint8_t *cur[3], *prev[3];  /* prev NULL on the first row */
} Group;

static inline void update_model(Group *g, int idx)
{
    const QuicFamily *f = g->e->fam;
    for (int c = 0; c < g->nch; c++) {
        QChan *ch = &g->ch[c];
        update_bucket(f, g->s, &ch->buckets[f->bucket_of[ch->corr[idx - 1]]], ch->corr[idx]);
    }
}

static inline void code_pixel(Group *g, int i)
{
    const QuicFamily *f = g->e->fam;
    for (int c = 0; c < g->nch; c++) {
        QChan *ch = &g->ch[c];
        const uint8_t *cur = g->cur[c], *prev = g->prev[c];
        unsigned pred;
        if (prev == NULL) {
            pred = i ? cur[i - 1] : 0;
        } else {
            pred = i ? (cur[i - 1] + prev[i]) >> 1 : prev[0];
        }
        unsigned v = f->u2l[(cur[i] - pred) & f->mask];
        ch->corr[i] = (uint8_t)v;
        unsigned l = ch->buckets[f->bucket_of[ch->corr[i - 1]]].bestcode;
        put_bits(g->e, f->code[v][l], f->code_len[v][l]);
    }
}

static inline bool same_pixel(const Group *g, const uint8_t *const *rows, int a, int b)
{
    for (int c = 0; c < g->nch; c++) {
        if (rows[c][a] != rows[c][b]) {
            return false;
        }
    }
    return true;
}

/* One row segment [i, end) coded with one wait mask (compress_row_seg /
 * compress_row0_seg). */
static void code_segment(Group *g, int i, int end, uint32_t waitmask)
{
    QState *s = g->s;
    bool rle = g->prev[0] != NULL;
    int stopidx;
    int run_index = 0;

    if (i == 0) {
        code_pixel(g, 0);
        if (s->waitcnt) {
            s->waitcnt--;
        } else {
            s->waitcnt = tabrand(s) & waitmask;
            update_model(g, 0);
        }
        stopidx = ++i + (int)s->waitcnt;
    } else {
        stopidx = i + (int)s->waitcnt;
    }
    for (;;) {
        while (stopidx < end) {
            for (; i <= stopidx; i++) {
                if (rle && run_index != i && i > 2 && same_pixel(g, g->prev, i - 1, i) &&
                    same_pixel(g, g->cur, i - 1, i - 2)) {
                    goto do_run;
                }
                code_pixel(g, i);
            }
            update_model(g, stopidx);
            stopidx = i + (int)(tabrand(s) & waitmask);
        }
        for (; i < end; i++) {
            if (rle && run_index != i && i > 2 && same_pixel(g, g->prev, i - 1, i) &&
                same_pixel(g, g->cur, i - 1, i - 2)) {
                goto do_run;
            }
            code_pixel(g, i);
        }
        s->waitcnt = (uint32_t)(stopidx - end);
        return;

do_run:
        run_index = i;
        s->waitcnt = (uint32_t)(stopidx - i);
        {
            uint32_t run = 0;
            while (same_pixel(g, g->cur, i, i - 1)) {
                run++;
                if (++i == end) {
                    put_run(g->e, s, run);
                    return;
                }
            }
            put_run(g->e, s, run);
        }
        stopidx = i + (int)s->waitcnt;
    }
}

/* A whole row: segments split where the wait-mask index steps up. */
static void code_row(Group *g, uint32_t width)
{
    QState *s = g->s;
    uint32_t pos = 0;

    while (QUIC_WMIMAX > s->wmidx && s->wmileft <= width) {
        if (s->wmileft) {
            code_segment(g, (int)pos, (int)(pos + s->wmileft), (1u << s->wmidx) - 1);
            width -= s->wmileft;
            pos += s->wmileft;
        }
        s->wmidx++;
        s->wm_trigger = quic_wm_trigger(s->wmidx);
        s->wmileft = QUIC_WMINEXT;
    }
    if (width) {
        code_segment(g, (int)pos, (int)(pos + width), (1u << s->wmidx) - 1);
        if (QUIC_WMIMAX > s->wmidx) {
            s->wmileft -= width;
        }
    }
}

static void split_row(const CodecImage *img, const uint8_t *s, uint8_t *r, uint8_t *g,
                      uint8_t *b, uint8_t *a)
{
    uint32_t w = img->width;
    switch (img->fmt) {
    case SPICE_BITMAP_FMT_16BIT:
        for (uint32_t x = 0; x < w; x++) {
            uint32_t v = s[2 * x] | s[2 * x + 1] << 8;
            r[x] = (uint8_t)((v >> 10) & 0x1f);
            g[x] = (uint8_t)((v >> 5) & 0x1f);
            b[x] = (uint8_t)(v & 0x1f);
        }
        break;
    case SPICE_BITMAP_FMT_24BIT:
        for (uint32_t x = 0; x < w; x++) {
            b[x] = s[3 * x];
            g[x] = s[3 * x + 1];
            r[x] = s[3 * x + 2];
        }
        break;
    default:
        for (uint32_t x = 0; x < w; x++) {
            b[x] = s[4 * x];
            g[x] = s[4 * x + 1];
            r[x] = s[4 * x + 2];
        }
        if (a) {
            for (uint32_t x = 0; x < w; x++) {
                a[x] = s[4 * x + 3];
            }
        }
        break;
    }
}

static void channels_reset(QuicEncoder *e, int nch, uint32_t width)
{
    if (e->width_cap < width) {
        for (int c = 0; c < 4; c++) {
            g_free(e->ch[c].corr_buf);
            g_free(e->ch[c].rows[0]);
            g_free(e->ch[c].rows[1]);
            e->ch[c].corr_buf = g_malloc0(width + 1);
            e->ch[c].corr = e->ch[c].corr_buf + 1;
            e->ch[c].rows[0] = g_malloc(width);
            e->ch[c].rows[1] = g_malloc(width);
        }
        e->width_cap = width;
    }
    for (int c = 0; c < nch; c++) {
        memset(e->ch[c].buckets, 0, sizeof(e->ch[c].buckets));
        for (int b = 0; b < 8; b++) {
            e->ch[c].buckets[b].bestcode = e->fam->bpc - 1;
        }
    }
    state_reset(&e->rgb);
    state_reset(&e->alpha);
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

    e->fam = quic_family(type == QUIC_TYPE_RGB16 ? 5 : 8);
    channels_reset(e, has_alpha ? 4 : 3, img->width);
    e->out = out;
    e->acc = 0;
    e->nbits = 0;
    codec_buf_reserve(out, 20 + (size_t)img->width * img->height);
    put_word(e, QUIC_MAGIC);
    put_word(e, 0);                 /* version 0.0 */
    put_word(e, type);
    put_word(e, img->width);
    put_word(e, img->height);

    Group rgb = { .e = e, .s = &e->rgb, .ch = &e->ch[0], .nch = 3 };
    Group alpha = { .e = e, .s = &e->alpha, .ch = &e->ch[3], .nch = 1 };
    for (uint32_t y = 0; y < img->height; y++) {
        int cur = y & 1;
        split_row(img, codec_image_top_row(img, y), e->ch[0].rows[cur], e->ch[1].rows[cur],
                  e->ch[2].rows[cur], has_alpha ? e->ch[3].rows[cur] : NULL);
        for (int c = 0; c < 4; c++) {
            /* the row's first context is the previous row's first value */
            e->ch[c].corr[-1] = y ? e->ch[c].corr[0] : 0;
        }
        for (int c = 0; c < 3; c++) {
            rgb.cur[c] = e->ch[c].rows[cur];
            rgb.prev[c] = y ? e->ch[c].rows[!cur] : NULL;
        }
        code_row(&rgb, img->width);
        if (has_alpha) {
            alpha.cur[0] = e->ch[3].rows[cur];
            alpha.prev[0] = y ? e->ch[3].rows[!cur] : NULL;
            code_row(&alpha, img->width);
        }
    }
    if (e->nbits) {
        put_word(e, (uint32_t)(e->acc << (32 - e->nbits)));
    }
    /* the decoder looks one word ahead of the last bit it uses */
    put_word(e, 0);
    e->out = NULL;
    return true;
}
