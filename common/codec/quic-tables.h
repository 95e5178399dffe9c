/* QUIC constants shared by the encoder and the test decoder (format facts
 * of spice-common quic.c), and the precomputed Golomb code families for 8
 * and 5 bits per channel. Read-only after the first quic_family() call;
 * any thread. */
#pragma once

#include <stdint.h>

#define QUIC_TABRAND_SIZE 256
#define QUIC_MELCSTATES 32
#define QUIC_MAXCLEN 26        /* codeword length limit */
#define QUIC_EVOL 3            /* model evolution: buckets of 1, 2, 4, ... contexts */
#define QUIC_WMIMAX 6          /* last wait-mask index */
#define QUIC_WMINEXT 2048      /* symbols per wait-mask index step */

extern const uint32_t quic_tabrand_chaos[QUIC_TABRAND_SIZE];
extern const uint16_t quic_besttrigtab[3][11];
extern const int quic_melc_J[QUIC_MELCSTATES];

typedef struct QuicFamily {
    unsigned bpc;                      /* 8 or 5 */
    unsigned mask;                     /* (1 << bpc) - 1 */
    unsigned n_buckets;                /* 8 or 5 */
    uint32_t n_gr[8];                  /* values coded Golomb-Rice, per code l */
    uint32_t not_gr_len[8];            /* length of the escape codeword */
    uint32_t not_gr_suffix_len[8];
    uint32_t not_gr_prefix_mask[8];    /* window <= this: escape codeword */
    uint32_t code[256][8];             /* codeword bits for value v, code l */
    uint8_t code_len[256][8];          /* codeword length */
    uint32_t codeword[8][256];         /* code l, value v: code << 5 | length (code < 2^9) */
    uint8_t u2l[256];                  /* signed residual -> interleaved */
    uint8_t l2u[256];                  /* interleaved -> residual */
    uint8_t bucket_of[256];            /* context value -> bucket index */
} QuicFamily;

/* The family for bpc 8 or 5 (built once). */
const QuicFamily *quic_family(unsigned bpc);

/* wm_trigger for a wait-mask index (set_wm_trigger). */
static inline uint32_t quic_wm_trigger(uint32_t wmidx)
{
    return quic_besttrigtab[QUIC_EVOL / 2][wmidx > 10 ? 10 : wmidx];
}
