/* A counting TCP proxy between a bench-client and the server: it relays
 * every channel's connection unchanged and counts the display channel's
 * messages by kind (and the image types inside draws) as they are written
 * to the client.  Used by bench-client with --proxy (docs/bench.md,
 * "Messages by type").
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

/* Display message kinds counted (one metric pair each in bench.h):
 * X(ENUM_SUFFIX, key). */
#define BENCH_DMSG_KINDS(X) \
    X(FILL, fill) X(OPAQUE, opaque) X(COPY, copy) X(BLEND, blend) X(TEXT, text) \
    X(OTHER_DRAW, other_draw) X(COPY_BITS, copy_bits) X(STREAM_CREATE, stream_create) \
    X(STREAM_DATA, stream_data) X(STREAM_CLIP, stream_clip) X(STREAM_DESTROY, stream_destroy) \
    X(SURFACE, surface) X(INVAL, inval) X(LIST, list) X(OTHER, other)

/* Image types of the source of copy/opaque/blend/transparent draws. */
#define BENCH_IMG_KINDS(X) \
    X(BITMAP, bitmap) X(QUIC, quic) X(LZ_PLT, lz_plt) X(LZ_RGB, lz_rgb) X(GLZ_RGB, glz_rgb) \
    X(FROM_CACHE, from_cache) X(SURFACE, surface) X(JPEG, jpeg) X(ZLIB_GLZ, zlib_glz) \
    X(LZ4, lz4) X(OTHER, other)

#define BENCH_ENUM_DMSG(E, k) DMSG_##E,
#define BENCH_ENUM_IMG(E, k) IMGK_##E,
typedef enum { BENCH_DMSG_KINDS(BENCH_ENUM_DMSG) DMSG_COUNT } BenchDmsgKind;
typedef enum { BENCH_IMG_KINDS(BENCH_ENUM_IMG) IMGK_COUNT } BenchImgKind;

typedef struct ProxyStats {
    uint64_t msgs[DMSG_COUNT];      /* display messages (sub-messages of a LIST count alone) */
    uint64_t msg_bytes[DMSG_COUNT]; /* their bytes, headers included (LIST: its own overhead) */
    uint64_t imgs[IMGK_COUNT];      /* source images of draws, by type */
    uint64_t img_bytes[IMGK_COUNT]; /* from the image descriptor to the message end */
    uint64_t jpeg_frames;           /* stream frames whose JPEG quality was read */
    uint64_t jpeg_quality_sum;      /* sum of their estimated qualities (libjpeg scale) */
    uint64_t jpeg_quality_n[101];   /* frames per estimated quality 1..100 */
} ProxyStats;

typedef struct BenchProxy BenchProxy;

/* Listens on 127.0.0.1 at a free port (*listen_port) and relays each
 * accepted connection to 127.0.0.1:server_port, on its own thread.  NULL
 * with `error` set when the socket cannot be made.  Caller owns; it lives
 * until the process ends (bench-client _exits). */
BenchProxy *bench_proxy_start(int server_port, int *listen_port, GError **error);
/* Counters so far (any thread). */
void bench_proxy_snapshot(BenchProxy *p, ProxyStats *out);
/* Estimated quality (1..100, libjpeg's scale) of a JPEG stream: its first
 * 8-bit luminance quantization table against the standard one scaled as
 * libjpeg's jpeg_set_quality does; 0 when no such table is found.  Any
 * thread. */
int bench_jpeg_quality(const uint8_t *jpeg, size_t len);
