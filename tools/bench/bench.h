/* spice-bench: headless stress bench for any libspice-server.so.1.
 *
 * One run = one process = one library: load it with dlopen(), plug the
 * qxl-emu device in, drive workloads through the guest side, tear down and
 * check that every command came back exactly once and every async IO
 * completed exactly once.  --compare runs children of this binary, one per
 * library and run, interleaved, and compares medians.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "tools/qxl-emu/guest.h"
#include "tools/bench/proxy.h"

typedef enum {
    WL_OFFICE, WL_SCROLL, WL_IMAGES, WL_VIDEO, WL_CURSOR, WL_SURFACES,
    WL_RESIZE, WL_UPDATES, WL_S3, WL_OOM, WL_COUNT
} WorkloadId;

#define WL_ALL ((1u << WL_COUNT) - 1)

/* Every reported number; BenchResult keeps them in one array so reports,
 * child-to-parent transport and medians are generic. */
typedef enum {
    M_WALL_S, M_DRAWABLES, M_DRAWABLES_PER_S, M_CURSOR_CMDS, M_SURFACE_CMDS,
    M_UPD_SYNC_N, M_UPD_SYNC_P50, M_UPD_SYNC_P99, M_UPD_SYNC_MAX,
    M_UPD_ASYNC_N, M_UPD_ASYNC_P50, M_UPD_ASYNC_P99, M_UPD_ASYNC_MAX,
    M_SERVER_CPU_S, M_CPU_PER_DRAWABLE_US, M_PEAK_RSS_KB,
    M_REL_OK, M_REL_LEAKED, M_REL_DOUBLE, M_REL_UNKNOWN,
    M_ASYNC_ISSUED, M_ASYNC_COMPLETED, M_ASYNC_MISSING, M_ASYNC_UNKNOWN,
    M_OOM_ROUNDS, M_SERVER_OOM_CALLS, M_RING_FULL_WAITS, M_WRONG_THREAD,
    /* With --clients (per client figures are means over the clients). */
    M_CLIENTS, M_CLIENT_UPDATES, M_CLIENT_UPDATES_PER_S, M_CLIENT_BYTES,
    M_CLIENT_DISPLAY_BYTES, M_CLIENT_BYTES_PER_DRAWABLE, M_CLIENT_MISMATCH_PX,
    M_CLIENT_CONVERGE_S, M_CLIENT_DISCONNECTS,
    M_RSS_WINDOW_START_KB, M_RSS_WINDOW_PEAK_KB, M_RSS_STALL_PEAK_KB,
    M_IO_CALL_MAX_US, M_LOOP_CB_MAX_US, M_EMBEDDER_CALL_MAX_US,
    /* Video (docs/bench.md "Video"): guest frames in the window, server CPU
     * per frame, client updates touching the video rectangle in the window
     * and their rate, display bytes per guest frame. */
    M_VIDEO_FRAMES, M_CPU_PER_FRAME_US, M_CLIENT_VIDEO_UPDATES, M_CLIENT_VIDEO_FPS,
    M_CLIENT_BYTES_PER_FRAME,
    /* With --count-messages (proxy.c): stream frames, their bytes each, the
     * mean JPEG quality read from them, then per display message kind and
     * per draw source image type: count and bytes (means over clients). */
    M_STREAM_BYTES_PER_FRAME, M_STREAM_JPEG_QUALITY, M_STREAM_JPEG_QUALITY_MODE,
    /* --video-quality: the quality the run pinned the library's streams
     * to through its benchmark knob (0 = not pinned). */
    M_VIDEO_QUALITY_PINNED,
#define BENCH_ENUM_DMSG_M(E, k) M_DMSG_##E##_N, M_DMSG_##E##_B,
#define BENCH_ENUM_IMG_M(E, k) M_IMG_##E##_N, M_IMG_##E##_B,
    BENCH_DMSG_KINDS(BENCH_ENUM_DMSG_M)
    BENCH_IMG_KINDS(BENCH_ENUM_IMG_M)
    M_FAILED, M_COUNT
} MetricId;

typedef struct MetricInfo {
    const char *key;        /* JSON / transport key */
    const char *label;      /* table label */
    int prec;               /* decimals in the table */
} MetricInfo;

extern const MetricInfo bench_metrics[M_COUNT];

typedef struct BenchConfig {
    const char *lib;        /* library under test */
    const char *compare;    /* second library for --compare, or NULL */
    unsigned workloads;     /* bitmask of WorkloadId */
    uint64_t seed;
    double duration_s;      /* measured time of a run (smoke: per phase) */
    unsigned runs;          /* --compare: runs per library */
    const char *json;       /* JSON report path, or NULL */
    bool smoke;             /* each workload alone, then all mixed, strict checks */
    bool progress;          /* progress lines on stderr */
    int result_fd;          /* child mode: write key/value results here, or -1 */
    double timeout_s;       /* bound for every wait and every server call */
    uint32_t width, height; /* initial primary */
    /* Clients (client.c, bench-client.c; docs/bench.md "Clients"). */
    unsigned clients;       /* spice-client-glib processes connected over loopback */
    double client_delay_ms; /* each client sleeps this long per display update */
    double client_stall_s;  /* each client stops reading this long at the window start */
    int image_compression;  /* SpiceImageCompression to set, 0 = the library's default */
    double max_call_ms;     /* fail when an embedder call took longer (0 = no bound) */
    const char *client_helper; /* path of bench-client */
    int streaming;          /* SPICE_STREAM_VIDEO_* to set; 0 = off with clients, else default */
    double video_fps;       /* video workload frame rate; 0 = 25..60 from the seed */
    uint32_t video_w, video_h; /* video rectangle (centred), default 320x240 */
    bool count_messages;    /* clients connect through the counting proxy */
    int video_quality;      /* pin stream JPEG quality 1..100 (our library's
                             * SPICE_BENCH_STREAM_QUALITY), 0 = not pinned */
    bool video_quality_match; /* --compare: pin B to A's measured quality */
} BenchConfig;

/* Our library's benchmark-only knob (server/display/stream.h): the stream
 * JPEG quality, read when a client's stream starts. */
#define BENCH_ENV_STREAM_QUALITY "SPICE_BENCH_STREAM_QUALITY"

typedef struct BenchResult {
    double m[M_COUNT];
    GPtrArray *errors;      /* char*, owned: why the run failed */
    GString *threads_json;  /* per-thread CPU of the server, JSON array text */
} BenchResult;

/* Runs the configured workloads in this process against cfg->lib.  Fills
 * `res` (init it with bench_result_init); returns false when the run failed
 * (library missing entry points, a check failed, a timeout).  Main thread. */
bool bench_run(const BenchConfig *cfg, BenchResult *res);

/* Names for --workload and reports. */
const char *workload_name(WorkloadId id);
bool workload_parse(const char *list, unsigned *mask, GError **error);

/* Reporting (report.c). */
void bench_result_init(BenchResult *res);
void bench_result_clear(BenchResult *res);
void bench_result_fail(BenchResult *res, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Whether the tables print `metric` (the per-kind message counts only
 * when not zero).  Any thread. */
bool bench_metric_shown(int metric, bool nonzero);
void bench_print_table(FILE *out, const BenchConfig *cfg, const BenchResult *res);
bool bench_write_json(const char *path, const BenchConfig *cfg, const BenchResult *res);
void bench_write_kv(int fd, const BenchResult *res);
bool bench_parse_kv(const char *text, BenchResult *res);
/* --compare: runs children, prints medians and ratios. */
int bench_compare(const BenchConfig *cfg);

/* Latency samples (ns) and their percentiles (report.c). */
typedef struct LatencySet {
    GArray *ns;             /* int64_t, owned */
} LatencySet;
void latency_init(LatencySet *l);
void latency_add(LatencySet *l, int64_t ns);
/* Fills n, p50, p99, max in microseconds at m[first..first+3]. */
void latency_report(LatencySet *l, double *m);
void latency_clear(LatencySet *l);

/* Image compression names of --image-compression; 0 when unknown. */
int bench_image_compression_parse(const char *name);
const char *bench_image_compression_name(int value);
/* --streaming names (all, filter, off) to SPICE_STREAM_VIDEO_*; 0 when
 * unknown. */
int bench_streaming_parse(const char *name);
const char *bench_streaming_name(int value);

/* Clients and embedder-call timing (client.c). */
typedef struct BenchClients BenchClients;

/* Wraps `inner` so every timer and watch callback the server runs on the
 * main loop is timed (longest in bench_core_loop_max_ns).  Returns a new
 * interface (owned by the caller, freed with bench_core_unwrap) that
 * forwards to `inner`.  Main thread; one wrapper per process. */
SpiceCoreInterface *bench_core_wrap(SpiceCoreInterface *inner);
void bench_core_unwrap(SpiceCoreInterface *wrapped);
/* Longest server callback on the main loop since the last reset (ns). */
int64_t bench_core_loop_max_ns(void);
void bench_core_loop_reset(void);

/* Before spice_server_init: listen on 127.0.0.1 at a free port (*port),
 * no auth, compression as configured, jpeg/zlib/streaming off so the
 * picture stays lossless.  False with `error` set when the library lacks
 * an entry point.  Main thread. */
bool bench_server_configure(const SpiceServerApi *api, SpiceServer *server,
                            const BenchConfig *cfg, int *port, GError **error);

/* Starts cfg->clients bench-client processes against `port`; they live at
 * most `max_life_s`.  Caller owns the result.  Main thread, before any
 * client wait. */
BenchClients *bench_clients_spawn(const BenchConfig *cfg, int port, double max_life_s,
                                  GError **error);
/* Waits (iterating the guest's loop) until every client has shown its
 * first picture.  Bounded by timeout_s. */
bool bench_clients_wait_ready(BenchClients *bc, QxlGuest *g, double timeout_s, GError **error);
/* Window start: clients take their baselines, then stall if configured.
 * Bounded by timeout_s. */
bool bench_clients_start(BenchClients *bc, QxlGuest *g, double timeout_s, GError **error);
/* Window end: ends stalls early. */
void bench_clients_resume(BenchClients *bc);
/* After the final update_area: asks every client for its picture until
 * all equal the guest's primary or timeout_s passes; fills the M_CLIENT_*
 * figures of `m` (drawables from m[M_DRAWABLES]).  False (errors added to
 * res) when a client differs, died or was disconnected. */
bool bench_clients_converge(BenchClients *bc, QxlGuest *g, double timeout_s, BenchResult *res);
/* Ends the client processes (quit, bounded wait, then SIGKILL).  NULL ok. */
void bench_clients_free(BenchClients *bc);

/* The workload engine (workloads.c). */
typedef struct Bench Bench;
Bench *bench_workloads_new(QxlGuest *guest, QxlEmu *emu, uint64_t seed,
                           LatencySet *sync_lat, LatencySet *async_lat);
/* Video settings: frames per second (0 keeps the seed's 25..60) and the
 * size of the centred video rectangle.  Before bench_workloads_run. */
void bench_workloads_set_video(Bench *b, double fps, uint32_t w, uint32_t h);
/* Video frames drawn so far. */
uint64_t bench_workloads_video_frames(const Bench *b);
/* The video rectangle on a WxH primary for a vw x vh video (clamped). */
void bench_video_rect(uint32_t W, uint32_t H, uint32_t vw, uint32_t vh, QXLRect *out);
void bench_workloads_free(Bench *b);
/* Runs `mask` mixed for `seconds`; `tick` is called about every 100 ms
 * with the elapsed fraction (progress, watchdog).  False on failure
 * (qxl_guest_error() says why). */
bool bench_workloads_run(Bench *b, unsigned mask, double seconds,
                         void (*tick)(void *opaque, double done), void *opaque);
