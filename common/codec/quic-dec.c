/* QUIC test decoder, following quic.c quic_decode_begin/quic_decode and the
 * uncompress_* functions of quic_tmpl.c: same model, same row segmentation,
 * same run handling. Bits are read through a 32-bit window that must always
 * lie inside the input (the client's reader fails the same way when it
 * needs a word past the end). Stricter than the client: a decoded symbol
 * outside the channel's range and a run past the end of the row are errors
 * instead of undefined behaviour. */
#include <string.h>
#include <glib.h>

#include "common/codec/quic-codec.h"
#include "common/codec/quic-tables.h"

typedef struct {
    uint32_t counters[8];
    unsigned bestcode;
} DBucket;

typedef struct {
    unsigned waitcnt, seed, wm_trigger, wmidx, wmileft;
    int melcstate, melclen;
    unsigned melcorder;
} DState;

typedef struct {
    DBucket buckets[8];
    uint8_t *corr;             /* corr[-1] valid */
} DChan;

typedef struct {
    const uint8_t *words;
    uint64_t nbits, pos;       /* the window is bits [pos, pos + 32) */
    const QuicFamily *fam;
    DChan ch[4];
    DState rgb, alpha;
    const char *err;
} Dec;

static uint32_t window(const Dec *d)
{
    uint64_t w = d->pos >> 5;
    unsigned off = d->pos & 31;
    uint64_t v = (uint64_t)codec_get_u32le(d->words + 4 * w) << 32;
    if (off) {
        v |= codec_get_u32le(d->words + 4 * (w + 1));
    }
    return (uint32_t)(v >> (32 - off));
}

static bool eat(Dec *d, unsigned n)
{
    d->pos += n;
    if (d->pos + 32 > d->nbits) {
        d->err = "quic: read past the end";
        return false;
    }
    return true;
}

static void state_init(DState *s)
{
    memset(s, 0, sizeof(*s));
    s->seed = 0xff;
    s->wmileft = QUIC_WMINEXT;
    s->wm_trigger = quic_wm_trigger(0);
    s->melcorder = 1;
}

static unsigned next_rand(DState *s)
{
    s->seed++;
    return quic_tabrand_chaos[s->seed & 0xff];
}

/* golomb_decoding + decode_eatbits */
static bool read_symbol(Dec *d, unsigned l, unsigned *val)
{
    const QuicFamily *f = d->fam;
    uint32_t bits = window(d);
    unsigned len, v;
    if (bits > f->not_gr_prefix_mask[l]) {
        unsigned zeros = (unsigned)__builtin_clz(bits);
        len = zeros + 1 + l;
        v = (zeros << l) | ((bits >> (32 - len)) & ((1u << l) - 1));
    } else {
        len = f->not_gr_len[l];
        v = f->n_gr[l] + ((bits >> (32 - len)) & ((1u << f->not_gr_suffix_len[l]) - 1));
    }
    if (v > f->mask) {
        d->err = "quic: symbol out of range";
        return false;
    }
    *val = v;
    return eat(d, len);
}

/* decode_state_run */
static bool read_run(Dec *d, DState *s, unsigned *out)
{
    unsigned run = 0;
    for (;;) {
        unsigned top = window(d) >> 24;
        unsigned ones = top == 0xff ? 8 : (unsigned)__builtin_clz(~top & 0xff) - 24;
        for (unsigned h = 0; h < ones; h++) {
            run += s->melcorder;
            if (s->melcstate < QUIC_MELCSTATES - 1) {
                s->melclen = quic_melc_J[++s->melcstate];
                s->melcorder = 1u << s->melclen;
            }
        }
        if (run > CODEC_MAX_PIXELS) {
            d->err = "quic: run too long";
            return false;
        }
        if (ones != 8) {
            if (!eat(d, ones + 1)) {
                return false;
            }
            break;
        }
        if (!eat(d, 8)) {
            return false;
        }
    }
    if (s->melclen) {
        run += window(d) >> (32 - s->melclen);
        if (!eat(d, (unsigned)s->melclen)) {
            return false;
        }
    }
    if (s->melcstate) {
        s->melclen = quic_melc_J[--s->melcstate];
        s->melcorder = 1u << s->melclen;
    }
    *out = run;
    return true;
}

static void model_update(Dec *d, DState *s, DBucket *b, unsigned v)
{
    const QuicFamily *f = d->fam;
    unsigned best = f->bpc - 1;
    uint32_t bestlen = (b->counters[best] += f->code_len[v][best]);
    for (unsigned l = f->bpc - 1; l-- > 0;) {
        uint32_t len = (b->counters[l] += f->code_len[v][l]);
        if (len < bestlen) {
            best = l;
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

/* channels c0..c0+n-1, rows as byte arrays per channel */
typedef struct {
    Dec *d;
    DState *s;
    int c0, n;
    uint8_t *cur[3];
    const uint8_t *prev[3];    /* NULL on row 0 */
} Rows;

static void upd(Rows *r, int idx)
{
    for (int c = 0; c < r->n; c++) {
        DChan *ch = &r->d->ch[r->c0 + c];
        model_update(r->d, r->s, &ch->buckets[r->d->fam->bucket_of[ch->corr[idx - 1]]],
                     ch->corr[idx]);
    }
}

static bool pix(Rows *r, int i)
{
    const QuicFamily *f = r->d->fam;
    for (int c = 0; c < r->n; c++) {
        DChan *ch = &r->d->ch[r->c0 + c];
        unsigned v;
        if (!read_symbol(r->d, ch->buckets[f->bucket_of[ch->corr[i - 1]]].bestcode, &v)) {
            return false;
        }
        ch->corr[i] = (uint8_t)v;
        unsigned pred;
        if (!r->prev[0]) {
            pred = i ? r->cur[c][i - 1] : 0;
        } else {
            pred = i ? (r->cur[c][i - 1] + r->prev[c][i]) >> 1 : r->prev[c][0];
        }
        r->cur[c][i] = (uint8_t)((f->l2u[v] + pred) & f->mask);
    }
    return true;
}

static bool eq(const Rows *r, const uint8_t *const *rows, int a, int b)
{
    for (int c = 0; c < r->n; c++) {
        if (rows[c][a] != rows[c][b]) {
            return false;
        }
    }
    return true;
}

static bool seg(Rows *r, int i, int end)
{
    DState *s = r->s;
    unsigned waitmask = (1u << s->wmidx) - 1;
    int stopidx, run_index = 0;
    bool rle = r->prev[0] != NULL;

    if (i == 0) {
        if (!pix(r, 0)) {
            return false;
        }
        if (s->waitcnt) {
            s->waitcnt--;
        } else {
            s->waitcnt = next_rand(s) & waitmask;
            upd(r, 0);
        }
        stopidx = ++i + (int)s->waitcnt;
    } else {
        stopidx = i + (int)s->waitcnt;
    }
    for (;;) {
        while (stopidx < end) {
            for (; i <= stopidx; i++) {
                if (rle && eq(r, r->prev, i - 1, i) && run_index != i && i > 2 &&
                    eq(r, (const uint8_t *const *)r->cur, i - 1, i - 2)) {
                    goto run;
                }
                if (!pix(r, i)) {
                    return false;
                }
            }
            upd(r, stopidx);
            stopidx = i + (int)(next_rand(s) & waitmask);
        }
        for (; i < end; i++) {
            if (rle && eq(r, r->prev, i - 1, i) && run_index != i && i > 2 &&
                eq(r, (const uint8_t *const *)r->cur, i - 1, i - 2)) {
                goto run;
            }
            if (!pix(r, i)) {
                return false;
            }
        }
        s->waitcnt = (unsigned)(stopidx - end);
        return true;
run:
        s->waitcnt = (unsigned)(stopidx - i);
        run_index = i;
        {
            unsigned len;
            if (!read_run(r->d, s, &len)) {
                return false;
            }
            if (len > (unsigned)(end - i)) {
                r->d->err = "quic: run past the end of the row";
                return false;
            }
            for (int e = i + (int)len; i < e; i++) {
                for (int c = 0; c < r->n; c++) {
                    r->cur[c][i] = r->cur[c][i - 1];
                }
            }
        }
        if (i == end) {
            return true;
        }
        stopidx = i + (int)s->waitcnt;
    }
}

static bool row(Rows *r, unsigned width)
{
    DState *s = r->s;
    unsigned pos = 0;
    while (QUIC_WMIMAX > s->wmidx && s->wmileft <= width) {
        if (s->wmileft) {
            if (!seg(r, (int)pos, (int)(pos + s->wmileft))) {
                return false;
            }
            pos += s->wmileft;
            width -= s->wmileft;
        }
        s->wmidx++;
        s->wm_trigger = quic_wm_trigger(s->wmidx);
        s->wmileft = QUIC_WMINEXT;
    }
    if (width) {
        if (!seg(r, (int)pos, (int)(pos + width))) {
            return false;
        }
        if (QUIC_WMIMAX > s->wmidx) {
            s->wmileft -= width;
        }
    }
    return true;
}

bool quic_decode(const uint8_t *data, size_t len, CodecPicture *pic, const char **err)
{
    Dec d = { .words = data, .nbits = (uint64_t)(len / 4) * 32 };
    memset(pic, 0, sizeof(*pic));
    if (d.nbits < 32) {
        *err = "quic: empty";
        return false;
    }
    uint32_t hdr[5];
    for (int k = 0; k < 5; k++) {
        hdr[k] = window(&d);
        if (!eat(&d, 32)) {
            *err = d.err;
            return false;
        }
    }
    if (hdr[0] != QUIC_MAGIC || hdr[1] != 0) {
        *err = "quic: bad magic or version";
        return false;
    }
    uint32_t type = hdr[2], width = hdr[3], height = hdr[4];
    if (type != QUIC_TYPE_RGB16 && type != QUIC_TYPE_RGB24 && type != QUIC_TYPE_RGB32 &&
        type != QUIC_TYPE_RGBA) {
        *err = "quic: image type not supported";
        return false;
    }
    if (width == 0 || height == 0 || (uint64_t)width * height > CODEC_MAX_PIXELS) {
        *err = "quic: bad size";
        return false;
    }
    int nch = type == QUIC_TYPE_RGBA ? 4 : 3;
    d.fam = quic_family(type == QUIC_TYPE_RGB16 ? 5 : 8);
    uint8_t *planes = g_malloc0((size_t)nch * width * height);
    uint8_t *corr = g_malloc0((size_t)nch * (width + 1));
    for (int c = 0; c < nch; c++) {
        d.ch[c].corr = corr + (size_t)c * (width + 1) + 1;
        for (int b = 0; b < 8; b++) {
            d.ch[c].buckets[b].bestcode = d.fam->bpc - 1;
        }
    }
    state_init(&d.rgb);
    state_init(&d.alpha);

    bool ok = true;
    for (uint32_t y = 0; y < height && ok; y++) {
        Rows rgb = { .d = &d, .s = &d.rgb, .c0 = 0, .n = 3 };
        for (int c = 0; c < nch; c++) {
            d.ch[c].corr[-1] = y ? d.ch[c].corr[0] : 0;
        }
        for (int c = 0; c < 3; c++) {
            uint8_t *plane = planes + (size_t)c * width * height;
            rgb.cur[c] = plane + (size_t)y * width;
            rgb.prev[c] = y ? plane + (size_t)(y - 1) * width : NULL;
        }
        ok = row(&rgb, width);
        if (ok && nch == 4) {
            uint8_t *plane = planes + (size_t)3 * width * height;
            Rows a = { .d = &d, .s = &d.alpha, .c0 = 3, .n = 1 };
            a.cur[0] = plane + (size_t)y * width;
            a.prev[0] = y ? plane + (size_t)(y - 1) * width : NULL;
            ok = row(&a, width);
        }
    }
    if (!ok) {
        *err = d.err;
        g_free(planes);
        g_free(corr);
        return false;
    }
    pic->width = width;
    pic->height = height;
    pic->has_alpha = nch == 4;
    pic->px = g_new(uint32_t, (size_t)width * height);
    size_t n = (size_t)width * height;
    for (size_t k = 0; k < n; k++) {
        uint32_t r = planes[k], g = planes[n + k], b = planes[2 * n + k];
        if (type == QUIC_TYPE_RGB16) {
            pic->px[k] = codec_rgb16_to_32((uint16_t)(r << 10 | g << 5 | b));
        } else {
            pic->px[k] = r << 16 | g << 8 | b | (nch == 4 ? (uint32_t)planes[3 * n + k] << 24 : 0);
        }
    }
    g_free(planes);
    g_free(corr);
    return true;
}
