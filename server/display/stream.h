/* Video streams of the display channel (docs/streams.md).
 *
 *   stream-detect.c  which drawables are video frames: candidates, the
 *                    trace of recent candidates, live streams (pure logic
 *                    over explicit times, no channel state)
 *   stream-rate.c    the per-client rate controller: JPEG quality, frame
 *                    rate and playout margin from client reports and
 *                    server-side drops (pure logic)
 *   stream.c         the channel glue: per-client stream agents, the
 *                    STREAM_* pipe items, MJPEG frames, clip updates,
 *                    timeouts and the lossless upgrade when a stream ends
 *
 * Threading: worker thread only (like the rest of the display channel).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <pixman.h>

#include "spice.h"
#include "common/codec/codec.h"
#include "server/qxl/qxl-cmd.h"

/* ---- thresholds (upstream's video-stream.h values, see docs/streams.md) ---- */

/* Live streams per display channel; stream ids are < this (upstream
 * NUM_STREAMS; the protocol allows 64). */
#define STREAM_MAX 50u
/* Recent candidate drawables remembered for detection. */
#define STREAM_TRACE_SLOTS 8u
/* Largest gap between two frames while a stream is being detected. */
#define STREAM_DETECT_MAX_GAP_MS 200
/* Largest gap between two frames of a live stream. */
#define STREAM_CONTINUE_MAX_GAP_MS 1000
/* A live stream without a frame for this long ends (lossless upgrade). */
#define STREAM_TIMEOUT_MS 1000
/* Consecutive frames before a stream starts. */
#define STREAM_START_FRAMES 20u
/* FILTER: at least this percentage of those frames must look photographic. */
#define STREAM_GRADUAL_MIN_PERCENT 20u
/* FILTER: a run of this many non-photographic frames restarts detection. */
#define STREAM_RESET_FRAMES 100u
/* FILTER: smallest frame area in pixels (upstream RED_STREAM_MIN_SIZE). */
#define STREAM_MIN_AREA (96u * 96u)
/* A live stream may grow into a frame at most this many times its area. */
#define STREAM_MAX_GROWTH 2u
/* Assumed source frame rate until measured. */
#define STREAM_DEFAULT_FPS 30u

/* ---- detection (stream-detect.c) ---- */

/* What detection needs from a drawable. */
typedef struct StreamCandidate {
    RedRect dest;                   /* the drawable's bbox */
    uint32_t src_w, src_h;          /* size of the copied source area */
    bool gradual;                   /* looks photographic (always true outside FILTER) */
} StreamCandidate;

typedef struct StreamTrace {
    bool used;
    RedRect dest;
    uint32_t src_w, src_h;
    int64_t first_ms, last_ms;
    uint32_t frames;                /* consecutive frames so far */
    uint32_t gradual_frames;
    uint32_t last_gradual;          /* frame number of the last gradual frame */
} StreamTrace;

typedef struct Stream {
    bool live;
    uint32_t id;                    /* index in StreamDetector.streams */
    RedRect dest;                   /* current destination (the last frame's bbox) */
    uint32_t src_w, src_h;          /* current frame size */
    int64_t start_ms, last_ms;
    uint64_t frames;                /* frames since the stream started */
    uint32_t input_fps;             /* measured source rate, frames per second */
    int64_t fps_window_ms;          /* start of the current rate window */
    uint32_t fps_window_frames;
    uint32_t generation;            /* bumped each time the id is reused */
} Stream;

typedef struct StreamDetector {
    int mode;                       /* SPICE_STREAM_VIDEO_OFF / ALL / FILTER */
    StreamTrace trace[STREAM_TRACE_SLOTS];
    uint32_t next_trace;
    Stream streams[STREAM_MAX];
    uint32_t n_live;
    uint32_t generations;
} StreamDetector;

typedef enum StreamFeed {
    STREAM_FEED_NONE,               /* not a frame of any stream (maybe traced) */
    STREAM_FEED_STARTED,            /* this frame started a stream */
    STREAM_FEED_CONTINUED,          /* a frame of a live stream, same destination */
    STREAM_FEED_RESIZED,            /* a frame of a live stream that moved/grew */
} StreamFeed;

/* Empties d and sets the mode (SPICE_STREAM_VIDEO_*). Any thread. */
void stream_detector_init(StreamDetector *d, int mode);
/* Fills *c from red when red can be a video frame under d->mode: a COPY
 * on surface 0 with OP_PUT, no mask, an RGB BITMAP source the JPEG encoder
 * takes; FILTER also wants STREAM_MIN_AREA and samples graduality. */
bool stream_candidate_from(const StreamDetector *d, const RedDrawable *red, StreamCandidate *c);
/* Describes the source area of a streamable drawable (see
 * stream_candidate_from) as a bitmap borrowing red's pixels. */
bool stream_source_image(const RedDrawable *red, CodecImage *img);
/* Feeds one candidate seen at now_ms; *out is the stream it belongs to
 * (borrowed, inside d) for anything but STREAM_FEED_NONE. */
StreamFeed stream_detector_feed(StreamDetector *d, const StreamCandidate *c, int64_t now_ms,
                                Stream **out);
/* Ends a stream (its id becomes free). */
void stream_detector_end(StreamDetector *d, Stream *s);
/* The live stream that expired first at now_ms, or NULL. */
Stream *stream_detector_expired(StreamDetector *d, int64_t now_ms);
/* ms until the next live stream expires (>= 0), or -1 if none is live. */
int64_t stream_detector_next_deadline(const StreamDetector *d, int64_t now_ms);

/* ---- frames (stream.c) ---- */

/* Process-wide counts of stream frames queued for a client, by how they
 * were kept (for tests and benchmarks): encoded as they arrived (every
 * client that took them had no older frame waiting), or copied for an
 * encode when their item reaches the socket. Any thread (atomic reads). */
void stream_frame_counts(uint64_t *encoded_at_arrival, uint64_t *copied);

/* ---- rate control (stream-rate.c) ---- */

#define STREAM_QUALITY_START 80
#define STREAM_QUALITY_MAX 85
#define STREAM_QUALITY_MIN 30
#define STREAM_QUALITY_STEP 10
#define STREAM_FPS_MIN 5u
#define STREAM_FPS_MAX 60u
/* A report counts as bad above this percentage of drops. */
#define STREAM_BAD_DROP_PERCENT 10u
/* Good reports in a row before raising. */
#define STREAM_GOOD_REPORTS_TO_RAISE 3u
/* Shortest time between two changes. */
#define STREAM_ADJUST_COOLDOWN_MS 300
/* Without client reports, a window this long without drops is "good". */
#define STREAM_SELF_REPORT_MS 1000
/* Playout margin added to the client's "now" (docs/streams.md, timing). */
#define STREAM_MARGIN_START_MS 30u
#define STREAM_MARGIN_MIN_MS 10u
#define STREAM_MARGIN_MAX_MS 400u
#define STREAM_MARGIN_STEP_MS 20u
/* Frames of one stream queued in one client's pipe at most. */
#define STREAM_MAX_QUEUED_FRAMES 2u
/* Before a client was sent any frame of a stream, a frame is expected to
 * encode to pixels * quality / this (+ headers): 0.5 byte per pixel at
 * quality 80, about 4 bits per pixel, above what 4:2:0 JPEG of video
 * takes at that quality (measured 1..2.5 bits) without charging the raw
 * copy (docs/streams.md, pipe budget). */
#define STREAM_FIRST_FRAME_QUALITY_DIVISOR 160u
#define STREAM_FRAME_HEADER_BYTES 1024u
/* Starting point from the session's measured link (stream_rate_fit_link):
 * a stream may use this share of it, and a frame at quality 80 is
 * expected to take this many thousandths of a byte per pixel (measured:
 * the bench's noisy video, 4:2:0 at 80, 0.098 B/px at 800x600 and 0.100
 * at 1600x900; at 70 0.069), scaled by (quality / 80)^2 for other
 * qualities (0.077 at 70). */
#define STREAM_LINK_SHARE_PERCENT 70u
#define STREAM_LINK_MILLIBYTES_PER_PIXEL_Q80 100u
/* STREAM_ACTIVATE_REPORT window (upstream RED_STREAM_CLIENT_REPORT_*). */
#define STREAM_REPORT_WINDOW 5u
#define STREAM_REPORT_TIMEOUT_MS 1000u

typedef struct StreamRate {
    int quality;                    /* JPEG quality 1..100 */
    uint32_t fps;                   /* frames per second we send at most */
    uint32_t source_fps;            /* what the guest produces (cap for fps) */
    uint32_t margin_ms;             /* playout margin */
    bool client_reports;            /* the client sends STREAM_REPORT */
    int64_t last_change_ms;
    int64_t window_start_ms;        /* self-report window (no client reports) */
    uint32_t good_reports;
    uint32_t server_drops;          /* since the last evaluation */
    uint64_t frames_sent, bytes_sent, drops_total, skips_total;
    uint64_t behind_total;          /* frames skipped while the client was behind */
    bool behind;                    /* in a behind episode (no frame sent since) */
    size_t last_frame_bytes;        /* JPEG bytes of the last frame sent, 0 = none yet */
    uint64_t last_frame_pixels;     /* its width * height */
    uint64_t raises, lowers, reports;
    bool quality_pinned;            /* benchmark knob: quality never moves */
} StreamRate;

/* Benchmarking only (docs/streams.md): a JPEG quality 1..100 in this
 * environment variable, read when a client's stream starts, pins that
 * stream's quality; the controller then moves only the frame rate. */
#define STREAM_ENV_BENCH_QUALITY "SPICE_BENCH_STREAM_QUALITY"


/* Starts a controller at STREAM_QUALITY_START and min(source_fps, max). */
void stream_rate_init(StreamRate *r, uint32_t source_fps, bool client_reports, int64_t now_ms);
/* Lowers the starting quality (by STREAM_QUALITY_STEP, down to
 * STREAM_QUALITY_MIN), then the frame rate, until a frame of `pixels` at
 * r->fps is expected to fit STREAM_LINK_SHARE_PERCENT of a link measured
 * at bitrate_bps; 0 (not measured) changes nothing. Never raises. */
void stream_rate_fit_link(StreamRate *r, uint64_t bitrate_bps, uint64_t pixels);
/* Pins the quality (1..100) for the life of r: lowering and raising then
 * move only the frame rate. Used for STREAM_ENV_BENCH_QUALITY. */
void stream_rate_pin_quality(StreamRate *r, int quality);
/* The pinned quality from STREAM_ENV_BENCH_QUALITY, or 0 when unset or
 * not a number 1..100. Any thread; reads the environment each call. */
int stream_rate_bench_quality(void);
/* The source rate changed (measured). */
void stream_rate_set_source_fps(StreamRate *r, uint32_t source_fps);
/* A STREAM_REPORT: frames and drops in its window, the last frame's delay
 * (ms of margin it arrived with; negative = late). */
void stream_rate_on_report(StreamRate *r, uint32_t frames, uint32_t drops, int32_t last_delay,
                           int64_t now_ms);
/* The server dropped a frame for this client (pipe full, client behind). */
void stream_rate_on_server_drop(StreamRate *r, int64_t now_ms);
/* A frame was skipped because the client is behind (catching up on
 * damage): bad news once per episode (until a frame is sent again), and
 * none before the stream sent its first frame (that backlog is not the
 * stream's doing). */
void stream_rate_on_behind(StreamRate *r, int64_t now_ms);
/* A frame of `pixels` encoded to `bytes` went to the client. */
void stream_rate_on_sent(StreamRate *r, size_t bytes, uint64_t pixels, int64_t now_ms);
/* Bytes a waiting frame of `pixels` is charged to the client's pipe: the
 * last frame sent scaled to this size (+1/8 for quality steps), or a bound
 * from the quality before any frame was sent. */
size_t stream_rate_expected_bytes(const StreamRate *r, uint64_t pixels);
/* Whether a frame arriving at now_ms may go out, given when the last one
 * was queued (-1: none yet): paces to r->fps. */
bool stream_rate_may_send(const StreamRate *r, int64_t last_sent_ms, int64_t now_ms);
