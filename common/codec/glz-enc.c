/* GLZ dictionary and encoder.
 *
 * The dictionary keeps, per image still in the client's window, a copy of
 * its pixels as 32-bit keys (0x00RRGGBB, what the client's RGB pass holds)
 * plus the alpha bytes of RGBA images. Pixels get global positions that only
 * grow, so one hash table of positions serves every image: a candidate older
 * than the window head is stale, anything else is found by a binary search
 * over the (few) images. Locking: `lock` covers everything in the struct;
 * glz_encode holds it for the whole image so ids, window and hash move
 * together. */
#include <string.h>
#include <glib.h>

#include "common/codec/glz-codec.h"
#include "common/codec/lz-codec.h"
#include "common/codec/lz-core.h"

#define GLZ_HASH_BITS 16
#define GLZ_MAX_OFS ((1u << 25) - 1)       /* pixel offset field: 25 bits */
/* Keys in the long hash: on flat screen content few key pairs exist, so the
 * pair hash points at the latest of many equal pairs; a window of 8 keys
 * that contains some detail finds its copy in an earlier frame. */
#define GLZ_LONG 8
#define GLZ_LONG_HASH_BITS 14          /* small enough to stay in cache */

typedef struct {
    uint64_t id;
    uint64_t gbase;            /* global position of pixel 0 */
    uint32_t n;                /* pixels */
    uint32_t *keys;            /* owned */
    uint8_t *alpha;            /* owned, RGBA images only */
} GlzImg;

struct GlzDictionary {
    gint ref;
    GMutex lock;
    uint32_t window;           /* pixels */
    GlzImg *imgs;              /* owned ring, oldest at head */
    uint32_t head, count, cap;
    uint64_t pixels;           /* sum of n over the ring */
    uint64_t next_id, next_gbase;
    uint64_t *htab;            /* owned: RGB pass, global position + 1 (0 = empty) */
    uint64_t *atab;            /* owned: alpha pass */
    uint64_t *ltab;            /* owned: RGB pass, windows of GLZ_LONG keys */
};

GlzDictionary *glz_dictionary_new(uint32_t window_pixels)
{
    GlzDictionary *d = g_new0(GlzDictionary, 1);
    d->ref = 1;
    g_mutex_init(&d->lock);
    d->window = MIN(window_pixels, GLZ_MAX_WINDOW_PIXELS);
    d->cap = 16;
    d->imgs = g_new0(GlzImg, d->cap);
    d->htab = g_new0(uint64_t, 1u << GLZ_HASH_BITS);
    d->atab = g_new0(uint64_t, 1u << GLZ_HASH_BITS);
    d->ltab = g_new0(uint64_t, 1u << GLZ_LONG_HASH_BITS);
    return d;
}

GlzDictionary *glz_dictionary_ref(GlzDictionary *d)
{
    g_atomic_int_inc(&d->ref);
    return d;
}

static GlzImg *img_at(GlzDictionary *d, uint32_t k)
{
    return &d->imgs[(d->head + k) % d->cap];
}

static void evict_oldest(GlzDictionary *d)
{
    GlzImg *im = img_at(d, 0);
    d->pixels -= im->n;
    g_free(im->keys);
    g_free(im->alpha);
    memset(im, 0, sizeof(*im));
    d->head = (d->head + 1) % d->cap;
    d->count--;
}

void glz_dictionary_unref(GlzDictionary *d)
{
    if (!d || !g_atomic_int_dec_and_test(&d->ref)) {
        return;
    }
    while (d->count) {
        evict_oldest(d);
    }
    g_free(d->imgs);
    g_free(d->htab);
    g_free(d->atab);
    g_free(d->ltab);
    g_mutex_clear(&d->lock);
    g_free(d);
}

void glz_dictionary_reset(GlzDictionary *d)
{
    g_mutex_lock(&d->lock);
    while (d->count) {
        evict_oldest(d);
    }
    /* positions keep growing, so old hash entries fall below any future head */
    g_mutex_unlock(&d->lock);
}

uint32_t glz_dictionary_window(const GlzDictionary *d)
{
    return d->window;
}

uint64_t glz_dictionary_next_id(GlzDictionary *d)
{
    g_mutex_lock(&d->lock);
    uint64_t id = d->next_id;
    g_mutex_unlock(&d->lock);
    return id;
}

bool glz_can_encode(const GlzDictionary *d, const CodecImage *img)
{
    return d && codec_image_valid(img) && img->fmt != SPICE_BITMAP_FMT_8BIT &&
           (uint64_t)img->width * img->height < d->window;
}

/* The image holding global position g (which is >= the window head). */
static GlzImg *find_img(GlzDictionary *d, uint64_t g)
{
    uint32_t lo = 0, hi = d->count;
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (img_at(d, mid)->gbase <= g) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    GlzImg *im = img_at(d, lo);
    return g - im->gbase < im->n ? im : NULL;
}

/* All eight keys (sparse detail may sit in any of them), multiplied
 * independently so the products overlap in the pipeline. */
static inline uint32_t hash_long(const uint32_t *k, uint32_t i)
{
    uint32_t h = ((k[i] * 0x9e3779b1u) ^ (k[i + 1] * 0x85ebca77u)) +
                 ((k[i + 2] * 0xc2b2ae3du) ^ (k[i + 3] * 0x27d4eb2fu)) +
                 ((k[i + 4] * 0x165667b1u) ^ (k[i + 5] * 0xd3a2646cu)) +
                 ((k[i + 6] * 0xfd7046c5u) ^ (k[i + 7] * 0xb55a4f09u));
    return h >> (32 - GLZ_LONG_HASH_BITS);
}

/* The match writer of lz_core_pass: a 4-bit offset nibble in the control
 * byte, then the rest of the offset and the image distance in the short
 * (offset < 2^12) or long form. */
static void glz_put_match(CodecBuf *out, uint32_t len, LzLit kind, const LzRef *ref)
{
    uint64_t image_dist = ref->image_dist;
    uint32_t ofs = image_dist ? ref->ofs : ref->dist - 1;
    bool long_ofs = ofs >= (1u << 12);

    lz_core_put_len(out, len, kind, (uint8_t)((long_ofs ? 0x10 : 0) | (ofs & 0xf)), 8);
    codec_buf_put_u8(out, (uint8_t)(ofs >> 4));
    if (!long_ofs) {
        unsigned nb = image_dist < (1u << 6) ? 0 : image_dist < (1u << 14) ? 1 :
                      image_dist < (1u << 22) ? 2 : 3;
        codec_buf_put_u8(out, (uint8_t)(nb << 6 | (image_dist & 0x3f)));
        for (unsigned i = 0; i < nb; i++) {
            codec_buf_put_u8(out, (uint8_t)(image_dist >> (6 + 8 * i)));
        }
    } else {
        bool very_long = ofs >= (1u << 17);
        unsigned nb = image_dist == 0 ? 0 : image_dist < (1u << 8) ? 1 :
                      image_dist < (1u << 16) ? 2 : 3;
        codec_buf_put_u8(out, (uint8_t)(nb << 6 | (very_long ? 0x20 : 0) | ((ofs >> 12) & 0x1f)));
        for (unsigned i = 0; i < nb; i++) {
            codec_buf_put_u8(out, (uint8_t)(image_dist >> (8 * i)));
        }
        if (very_long) {
            codec_buf_put_u8(out, (uint8_t)(ofs >> 17));
        }
    }
}

/* Length of the match at position i of `cur` against the candidate global
 * position cand (+ 1; 0 = empty), 0 if unusable. */
static uint32_t try_candidate(GlzDictionary *d, GlzImg *cur, const uint32_t *k, uint32_t i,
                              uint64_t cand, uint64_t head, LzLit kind, GlzImg **ref_out,
                              uint32_t *idx_out)
{
    uint64_t g = cur->gbase + i;
    uint32_t n = cur->n, len = 0;
    if (cand <= head || cand - 1 >= g) {
        return 0;
    }
    cand--;
    GlzImg *ref = cand >= cur->gbase ? cur : find_img(d, cand);
    if (!ref) {
        return 0;
    }
    uint32_t idx = (uint32_t)(cand - ref->gbase);
    if (ref == cur) {
        if (i - idx - 1 <= GLZ_MAX_OFS) {
            len = lz_core_match_len(k + idx, k + i, n - i);
        }
    } else if (idx <= GLZ_MAX_OFS && cur->id - ref->id < (1u << 22)) {
        /* a reference may not run past the end of its image */
        uint32_t lim = MIN(n - i, ref->n - idx);
        if (kind != LZ_LIT_BYTE) {
            len = lz_core_match_len(ref->keys + idx, k + i, lim);
        } else if (ref->alpha) {
            while (len < lim && ref->alpha[idx + len] == k[i + len]) {
                len++;
            }
        }
    }
    *ref_out = ref;
    *idx_out = idx;
    return len;
}

/* One pass's state for the probe hook. */
typedef struct {
    GlzDictionary *d;
    GlzImg *cur;
    uint64_t *tab;             /* the pair (four alpha bytes) hash of this pass */
    uint64_t head;             /* global position of the window's first pixel */
    LzLit kind;                /* LZ_LIT_BYTE: the alpha pass */
} GlzPass;

/* The probe of lz_core_pass: the long hash first (RGB), then the pair hash
 * unless the long one already gave GLZ_LONG keys; the longer match wins. */
G_ALWAYS_INLINE static inline uint32_t glz_probe(void *ctx, const uint32_t *k, uint32_t i,
                                                 uint32_t n, LzRef *out_ref)
{
    GlzPass *p = ctx;
    GlzImg *cur = p->cur;
    bool bytes = p->kind == LZ_LIT_BYTE;
    uint64_t g = cur->gbase + i;
    GlzImg *ref = NULL;
    uint32_t idx = 0, len = 0;

    if (!bytes && i + GLZ_LONG <= n) {
        uint64_t *slot = &p->d->ltab[hash_long(k, i)];
        len = try_candidate(p->d, cur, k, i, *slot, p->head, p->kind, &ref, &idx);
        *slot = g + 1;
    }
    uint64_t *slot = &p->tab[lz_core_hash_at(k, i, bytes, GLZ_HASH_BITS)];
    if (len < GLZ_LONG) {
        GlzImg *ref2 = NULL;
        uint32_t idx2 = 0;
        uint32_t len2 = try_candidate(p->d, cur, k, i, *slot, p->head, p->kind, &ref2, &idx2);
        if (len2 > len) {
            len = len2, ref = ref2, idx = idx2;
        }
    }
    *slot = g + 1;
    if (len < lz_core_min_len(p->kind)) {
        return 0;
    }
    if (ref == cur) {
        out_ref->dist = i - idx;
    } else {
        out_ref->image_dist = cur->id - ref->id;
        out_ref->ofs = idx;
    }
    return len;
}

/* One pass (RGB keys or alpha bytes as keys) of image `cur`. */
static void glz_pass(GlzDictionary *d, GlzImg *cur, const uint32_t *k, LzLit kind,
                     uint64_t *tab, CodecBuf *out)
{
    GlzPass pass = { .d = d, .cur = cur, .tab = tab, .head = img_at(d, 0)->gbase, .kind = kind };
    /* one instance per kind, so the hash and literal choices are constants */
    switch (kind) {
    case LZ_LIT_RGB:
        lz_core_pass(k, cur->n, LZ_LIT_RGB, true, glz_probe, glz_put_match, &pass, out);
        break;
    case LZ_LIT_RGB16:
        lz_core_pass(k, cur->n, LZ_LIT_RGB16, true, glz_probe, glz_put_match, &pass, out);
        break;
    case LZ_LIT_BYTE:
        lz_core_pass(k, cur->n, LZ_LIT_BYTE, true, glz_probe, glz_put_match, &pass, out);
        break;
    }
}

bool glz_encode(GlzDictionary *d, const CodecImage *img, CodecBuf *out)
{
    if (!glz_can_encode(d, img)) {
        return false;
    }
    uint32_t n = img->width * img->height;
    uint32_t type, bpp;
    LzLit kind = LZ_LIT_RGB;
    switch (img->fmt) {
    case SPICE_BITMAP_FMT_16BIT:
        type = LZ_TYPE_RGB16, bpp = 2, kind = LZ_LIT_RGB16;
        break;
    case SPICE_BITMAP_FMT_24BIT:
        type = LZ_TYPE_RGB24, bpp = 3;
        break;
    case SPICE_BITMAP_FMT_32BIT:
        type = LZ_TYPE_RGB32, bpp = 4;
        break;
    default:
        type = LZ_TYPE_RGBA, bpp = 4;
        break;
    }
    /* copy before taking the lock: the dictionary owns its pixels */
    uint32_t *keys = g_new(uint32_t, n);
    uint8_t *alpha = type == LZ_TYPE_RGBA ? g_new(uint8_t, n) : NULL;
    lz_image_keys(img, keys, alpha);

    g_mutex_lock(&d->lock);
    while (d->count && d->pixels + n > d->window) {
        evict_oldest(d);
    }
    if (d->count == d->cap) {
        GlzImg *grown = g_new0(GlzImg, d->cap * 2);
        for (uint32_t k = 0; k < d->count; k++) {
            grown[k] = *img_at(d, k);
        }
        g_free(d->imgs);
        d->imgs = grown;
        d->head = 0;
        d->cap *= 2;
    }
    GlzImg *cur = img_at(d, d->count);
    *cur = (GlzImg){ .id = d->next_id++, .gbase = d->next_gbase, .n = n,
                     .keys = keys, .alpha = alpha };
    d->next_gbase += n;
    d->count++;
    d->pixels += n;

    codec_buf_put_u32be(out, LZ_MAGIC);
    codec_buf_put_u32be(out, LZ_VERSION);
    codec_buf_put_u8(out, (uint8_t)(type | (img->top_down ? 1u << 4 : 0)));
    codec_buf_put_u32be(out, img->width);
    codec_buf_put_u32be(out, img->height);
    codec_buf_put_u32be(out, img->width * bpp);
    codec_buf_put_u32be(out, (uint32_t)(cur->id >> 32));
    codec_buf_put_u32be(out, (uint32_t)cur->id);
    codec_buf_put_u32be(out, (uint32_t)(cur->id - img_at(d, 0)->id));

    codec_buf_reserve(out, (size_t)n);
    glz_pass(d, cur, keys, kind, d->htab, out);
    if (alpha) {
        /* the alpha pass matches on alpha bytes widened to keys */
        uint32_t *ak = g_new(uint32_t, n);
        for (uint32_t k = 0; k < n; k++) {
            ak[k] = alpha[k];
        }
        glz_pass(d, cur, ak, LZ_LIT_BYTE, d->atab, out);
        g_free(ak);
    }
    g_mutex_unlock(&d->lock);
    return true;
}
