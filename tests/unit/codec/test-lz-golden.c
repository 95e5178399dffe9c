/* The LZ and GLZ encoders' output for fixed sets of seeded images, folded
 * into one checksum per group, recorded from the encoders as they were
 * before their shared match-search core was factored out (2026-11-22,
 * a9a4469). Any refactoring must keep the streams byte for byte. Run with an
 * argument "print" to show the table for the current encoders.
 *
 * Groups: LZ over every kind x bitmap format (8-bit palette included) x
 * size x stride padding x row order, one encoder throughout (its hash table
 * is never cleared); LZ alpha planes; random LZ cases; GLZ sequences per
 * kind through one dictionary (scrolled, partly changed frames in mixed
 * formats, so references cross images, formats and row orders); GLZ with
 * long offsets, far image distances, a small evicting window, a reset and
 * ring growth; random GLZ cases. */
#include "tests/unit/codec/codec-test-util.h"
#include "common/codec/glz-codec.h"
#include "common/codec/lz-codec.h"

typedef struct {
    const char *name;
    uint64_t hash;
    size_t bytes;
} Golden;

/* recorded with "print" before the refactoring */
static const Golden golden[] = {
    { "text", 0xe4a824a426a85824ull, 773581u },
    { "ui", 0x023aa15ec194b4adull, 16442u },
    { "photo", 0x9adc306e926d9ff6ull, 2958448u },
    { "gradient", 0x5d1f718184c65a5bull, 3692963u },
    { "noise", 0xb615928f149b4e19ull, 4556874u },
    { "few-colours", 0x68e6203e6058b03dull, 1351003u },
    { "lz-alpha", 0xf6144c9e44007a28ull, 360996u },
    { "lz-random", 0xf4025009328d011bull, 3158232u },
    { "glz-text", 0x8b46fec51785657eull, 69853u },
    { "glz-ui", 0x6053e72ab8aeb237ull, 60823u },
    { "glz-photo", 0x46734594ba66f5f6ull, 96271u },
    { "glz-gradient", 0x71bcfccb75ae2657ull, 93845u },
    { "glz-noise", 0xa2d11096792ada36ull, 107719u },
    { "glz-few-colours", 0xb1ae6943f0088ff8ull, 81896u },
    { "glz-long", 0xf7c23b69abad1e3full, 188294u },
    { "glz-far", 0xe8b28706def5670dull, 867638u },
    { "glz-evict-reset", 0x3be96645cee4c5a9ull, 50516u },
    { "glz-random", 0x791f8f08011c7c75ull, 2972130u },
};

typedef struct {
    uint64_t h;
    size_t bytes;
    unsigned images;
} Sum;

static void sum_init(Sum *s)
{
    *s = (Sum){ .h = 0xcbf29ce484222325ull };
}

static void sum_fold(Sum *s, const CodecBuf *out)
{
    uint8_t len_le[4];
    codec_put_u32le(len_le, (uint32_t)out->len);
    for (size_t i = 0; i < 4; i++) {
        s->h = (s->h ^ len_le[i]) * 0x100000001b3ull;
    }
    for (size_t i = 0; i < out->len; i++) {
        s->h = (s->h ^ out->data[i]) * 0x100000001b3ull;
    }
    s->bytes += out->len;
    s->images++;
}

static const uint8_t lz_fmts[] = {
    SPICE_BITMAP_FMT_8BIT, SPICE_BITMAP_FMT_16BIT, SPICE_BITMAP_FMT_24BIT,
    SPICE_BITMAP_FMT_32BIT, SPICE_BITMAP_FMT_RGBA,
};

/* sizes crossing the 13-bit near distance, the far limit (73725 pixels)
 * and GLZ's 2^12 / 2^17 offset steps */
static const uint32_t sizes[][2] = {
    { 1, 1 }, { 3, 7 }, { 2100, 3 }, { 257, 61 }, { 640, 48 }, { 400, 300 },
};

static void lz_one(LzEncoder *enc, Rng *r, const Case *c, bool alpha_only, Sum *s)
{
    uint32_t pal[256];
    uint8_t *buf;
    uint32_t *master = make_master(r, c->kind, c->w, c->h);
    CodecImage img = make_image(r, master, c->w, c->h, c->fmt, c->pad, c->top_down, &buf, pal);
    CodecBuf out = { 0 };
    if (alpha_only) {
        g_assert_true(lz_encode_alpha(enc, &img, &out));
    } else {
        g_assert_true(lz_encode(enc, &img, &out));
    }
    sum_fold(s, &out);
    codec_buf_clear(&out);
    g_free(buf);
    g_free(master);
}

static void glz_one(GlzDictionary *d, Rng *r, const uint32_t *master, const Case *c, Sum *s)
{
    uint32_t pal[256];
    uint8_t *buf;
    CodecImage img = make_image(r, master, c->w, c->h, c->fmt, c->pad, c->top_down, &buf, pal);
    CodecBuf out = { 0 };
    g_assert_true(glz_encode(d, &img, &out));
    sum_fold(s, &out);
    codec_buf_clear(&out);
    g_free(buf);
}

/* A screen-like GLZ sequence of one kind: the master scrolled up by a few
 * rows per frame, a band of new rows, formats, padding and row order
 * cycling. */
static void glz_sequence(GlzDictionary *d, Rng *r, int kind, uint32_t w, uint32_t h, int frames,
                         Sum *s)
{
    uint32_t *master = make_master(r, kind, w, h);
    for (int f = 0; f < frames; f++) {
        uint32_t shift = (uint32_t)(f % 4) + 1;
        if (shift < h) {
            memmove(master, master + (size_t)shift * w, (size_t)(h - shift) * w * 4);
        }
        for (uint32_t y = shift < h ? h - shift : 0; y < h; y++) {
            for (uint32_t x = 0; x < w; x++) {
                master[(size_t)y * w + x] = rng_next(r) % 3 ? master[(size_t)(y * 7 / 8) * w + x]
                                                            : rng_next(r);
            }
        }
        Case c = { .w = w, .h = h, .kind = kind, .fmt = rgb_fmts[(unsigned)f % 4],
                   .pad = (unsigned)f % 3 == 1 ? 5 : 0, .top_down = (f / 2) & 1 };
        glz_one(d, r, master, &c, s);
    }
    g_free(master);
}

static void run_groups(Sum *sums, const char **names, size_t *ngroups)
{
    size_t g = 0;
    Rng r = { 20261122 };

    LzEncoder *lz = lz_encoder_new();
    for (int k = 0; k < KIND_COUNT; k++) {
        names[g] = kind_names[k];
        sum_init(&sums[g]);
        for (size_t f = 0; f < G_N_ELEMENTS(lz_fmts); f++) {
            for (size_t z = 0; z < G_N_ELEMENTS(sizes); z++) {
                for (int td = 0; td < 2; td++) {
                    Case c = { .w = sizes[z][0], .h = sizes[z][1], .kind = k, .fmt = lz_fmts[f],
                               .pad = (z + (size_t)td) % 3 == 0 ? 0 : z % 2 ? 3 : 7,
                               .top_down = td };
                    lz_one(lz, &r, &c, false, &sums[g]);
                }
            }
        }
        g++;
    }
    names[g] = "lz-alpha";
    sum_init(&sums[g]);
    for (int k = 0; k < KIND_COUNT; k++) {
        for (size_t z = 0; z < G_N_ELEMENTS(sizes); z++) {
            Case c = { .w = sizes[z][0], .h = sizes[z][1], .kind = k,
                       .fmt = SPICE_BITMAP_FMT_RGBA, .pad = z & 1 ? 4 : 0, .top_down = k & 1 };
            lz_one(lz, &r, &c, true, &sums[g]);
        }
    }
    g++;
    names[g] = "lz-random";
    sum_init(&sums[g]);
    for (int i = 0; i < 300; i++) {
        Case c = random_case(&r, lz_fmts, G_N_ELEMENTS(lz_fmts), 300, 160);
        lz_one(lz, &r, &c, (i % 5) == 4 && c.fmt == SPICE_BITMAP_FMT_RGBA, &sums[g]);
    }
    g++;
    lz_encoder_free(lz);

    GlzDictionary *d = glz_dictionary_new(1u << 22);
    for (int k = 0; k < KIND_COUNT; k++) {
        static char glz_names[KIND_COUNT][32];
        snprintf(glz_names[k], sizeof(glz_names[k]), "glz-%s", kind_names[k]);
        names[g] = glz_names[k];
        sum_init(&sums[g]);
        glz_sequence(d, &r, k, 97, 61, 12, &sums[g]);
        glz_sequence(d, &r, k, 2100, 3, 4, &sums[g]);
        glz_sequence(d, &r, k, 1, 5, 3, &sums[g]);
        g++;
    }
    /* offsets >= 2^17 inside an image and into older images */
    names[g] = "glz-long";
    sum_init(&sums[g]);
    glz_sequence(d, &r, KIND_TEXT, 512, 300, 4, &sums[g]);
    glz_sequence(d, &r, KIND_UI, 400, 300, 3, &sums[g]);
    g++;
    /* many small images referring far back: image distances past 2^6, and
     * the dictionary's ring growing past its first capacity */
    names[g] = "glz-far";
    sum_init(&sums[g]);
    {
        uint32_t *first = make_master(&r, KIND_TEXT, 40, 30);
        Case c = { .w = 40, .h = 30, .kind = KIND_TEXT, .fmt = SPICE_BITMAP_FMT_32BIT };
        glz_one(d, &r, first, &c, &sums[g]);
        for (int i = 0; i < 90; i++) {
            uint32_t *other = make_master(&r, i % 2 ? KIND_NOISE : KIND_FEW, 40, 30);
            if (i % 10 == 9) {
                /* rows no earlier copy holds, so the match must reach the first */
                memcpy(other + 40 * 10, first + 40 * (i / 10) * 3, 40 * 3 * 4);
            }
            c.fmt = rgb_fmts[(unsigned)i % 4];
            c.top_down = i & 1;
            glz_one(d, &r, other, &c, &sums[g]);
            g_free(other);
        }
        g_free(first);

        /* 2^14 images back, at offsets both sides of 2^12: one unique
         * picture, flat images that touch a single hash slot, the picture
         * again */
        first = make_master(&r, KIND_NOISE, 80, 64);
        Case big = { .w = 80, .h = 64, .kind = KIND_NOISE, .fmt = SPICE_BITMAP_FMT_24BIT };
        glz_one(d, &r, first, &big, &sums[g]);
        uint32_t flat[4] = { 0x123456, 0x123456, 0x123456, 0x123456 };
        Case tiny = { .w = 4, .h = 1, .kind = KIND_FEW, .fmt = SPICE_BITMAP_FMT_32BIT };
        for (int i = 0; i < (1 << 14) + 5; i++) {
            glz_one(d, &r, flat, &tiny, &sums[g]);
        }
        big.top_down = true;
        glz_one(d, &r, first, &big, &sums[g]);
        g_free(first);
    }
    g++;
    glz_dictionary_unref(d);

    /* a window of a few images: evictions, then a reset midway */
    names[g] = "glz-evict-reset";
    sum_init(&sums[g]);
    d = glz_dictionary_new(97 * 61 * 3 + 10);
    glz_sequence(d, &r, KIND_UI, 97, 61, 10, &sums[g]);
    glz_dictionary_reset(d);
    glz_sequence(d, &r, KIND_TEXT, 97, 61, 10, &sums[g]);
    glz_dictionary_unref(d);
    g++;

    names[g] = "glz-random";
    sum_init(&sums[g]);
    d = glz_dictionary_new(1u << 20);
    for (int i = 0; i < 200; i++) {
        Case c = random_case(&r, rgb_fmts, G_N_ELEMENTS(rgb_fmts), 300, 160);
        uint32_t *master = make_master(&r, c.kind, c.w, c.h);
        glz_one(d, &r, master, &c, &sums[g]);
        if (i % 3 == 0) {
            /* the same picture again, another layout */
            c.fmt = rgb_fmts[(unsigned)i % 4];
            c.top_down = !c.top_down;
            glz_one(d, &r, master, &c, &sums[g]);
        }
        g_free(master);
    }
    glz_dictionary_unref(d);
    g++;
    *ngroups = g;
}

int main(int argc, char **argv)
{
    Sum sums[32];
    const char *names[32];
    size_t n = 0;
    run_groups(sums, names, &n);

    if (argc > 1 && strcmp(argv[1], "print") == 0) {
        for (size_t i = 0; i < n; i++) {
            printf("    { \"%s\", 0x%016llxull, %zuu },\n", names[i],
                   (unsigned long long)sums[i].h, sums[i].bytes);
        }
        return 0;
    }
    int bad = 0;
    if (n != G_N_ELEMENTS(golden)) {
        fprintf(stderr, "%zu groups, %zu recorded\n", n, G_N_ELEMENTS(golden));
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        bool same = strcmp(names[i], golden[i].name) == 0 && sums[i].h == golden[i].hash &&
                    sums[i].bytes == golden[i].bytes;
        printf("%-16s %4u images %9zu bytes 0x%016llx %s\n", names[i], sums[i].images,
               sums[i].bytes, (unsigned long long)sums[i].h, same ? "identical" : "CHANGED");
        bad += !same;
    }
    if (bad) {
        fprintf(stderr, "%d group(s) of LZ/GLZ streams changed\n", bad);
        return 1;
    }
    return 0;
}
