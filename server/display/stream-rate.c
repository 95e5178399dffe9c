/* Per-client stream rate controller (docs/streams.md, "controller").
 *
 * Three knobs: JPEG quality, the frame rate we send at, and the playout
 * margin added to frame stamps. Bad news (a client report with more than
 * STREAM_BAD_DROP_PERCENT drops, or frames the server had to drop because
 * the client's pipe was full) lowers quality first, then the frame rate.
 * Good news (STREAM_GOOD_REPORTS_TO_RAISE clean reports in a row) raises
 * the frame rate back to the source rate first, then quality. Changes are
 * at least STREAM_ADJUST_COOLDOWN_MS apart, so one burst of drops costs one
 * step. A late frame (negative delay in a report) widens the margin; clean
 * reports narrow it again. Clients without STREAM_REPORT get a
 * self-report every STREAM_SELF_REPORT_MS from the server-side drops.
 * Frames skipped while the client catches up on damage count once per
 * episode: a long catch-up (a large lossless backlog, often from before
 * the stream started) would otherwise cost a step every cooldown. */
#include "server/display/stream.h"

#include <stdlib.h>
#include <string.h>
#include <glib.h>

void stream_rate_init(StreamRate *r, uint32_t source_fps, bool client_reports, int64_t now_ms)
{
    memset(r, 0, sizeof(*r));
    r->quality = STREAM_QUALITY_START;
    r->source_fps = CLAMP(source_fps, STREAM_FPS_MIN, STREAM_FPS_MAX);
    r->fps = r->source_fps;
    r->margin_ms = STREAM_MARGIN_START_MS;
    r->client_reports = client_reports;
    r->last_change_ms = now_ms;
    r->window_start_ms = now_ms;
}

/* Expected JPEG bytes of a frame of `pixels` at quality (the model in
 * stream.h, STREAM_LINK_MILLIBYTES_PER_PIXEL_Q80). */
static uint64_t link_frame_bytes(uint64_t pixels, int quality)
{
    uint64_t q = (uint64_t)MAX(quality, 1);
    return pixels * STREAM_LINK_MILLIBYTES_PER_PIXEL_Q80 * q * q / (80u * 80u * 1000u) +
           STREAM_FRAME_HEADER_BYTES;
}

void stream_rate_fit_link(StreamRate *r, uint64_t bitrate_bps, uint64_t pixels)
{
    if (!bitrate_bps || !pixels) {
        return;
    }
    /* bytes per second the stream may use */
    uint64_t budget = bitrate_bps / 8 * STREAM_LINK_SHARE_PERCENT / 100;
    while (r->quality > STREAM_QUALITY_MIN &&
           link_frame_bytes(pixels, r->quality) * r->fps > budget) {
        r->quality = MAX(r->quality - STREAM_QUALITY_STEP, STREAM_QUALITY_MIN);
    }
    uint64_t frame = link_frame_bytes(pixels, r->quality);
    if (frame * r->fps > budget) {
        r->fps = (uint32_t)CLAMP(budget / frame, STREAM_FPS_MIN, r->fps);
    }
}

void stream_rate_pin_quality(StreamRate *r, int quality)
{
    r->quality = CLAMP(quality, 1, 100);
    r->quality_pinned = true;
}

int stream_rate_bench_quality(void)
{
    const char *v = g_getenv(STREAM_ENV_BENCH_QUALITY);
    if (!v || !*v) {
        return 0;
    }
    char *end;
    long q = strtol(v, &end, 10);
    return *end || q < 1 || q > 100 ? 0 : (int)q;
}

void stream_rate_set_source_fps(StreamRate *r, uint32_t source_fps)
{
    r->source_fps = CLAMP(source_fps, STREAM_FPS_MIN, STREAM_FPS_MAX);
    r->fps = MIN(r->fps, r->source_fps);
}

static bool cooled_down(const StreamRate *r, int64_t now_ms)
{
    return now_ms - r->last_change_ms >= STREAM_ADJUST_COOLDOWN_MS;
}

static void lower(StreamRate *r, int64_t now_ms)
{
    r->good_reports = 0;
    if (!cooled_down(r, now_ms)) {
        return;
    }
    if (!r->quality_pinned && r->quality > STREAM_QUALITY_MIN) {
        r->quality = MAX(r->quality - STREAM_QUALITY_STEP, STREAM_QUALITY_MIN);
    } else if (r->fps > STREAM_FPS_MIN) {
        r->fps = MAX(r->fps * 3 / 4, STREAM_FPS_MIN);
    } else {
        return;                     /* already at the floor */
    }
    r->lowers++;
    r->last_change_ms = now_ms;
}

static void raise_rate(StreamRate *r, int64_t now_ms)
{
    if (++r->good_reports < STREAM_GOOD_REPORTS_TO_RAISE || !cooled_down(r, now_ms)) {
        return;
    }
    if (r->fps < r->source_fps) {
        r->fps = MIN(r->fps * 5 / 4 + 1, r->source_fps);
    } else if (!r->quality_pinned && r->quality < STREAM_QUALITY_MAX) {
        r->quality = MIN(r->quality + STREAM_QUALITY_STEP / 2, STREAM_QUALITY_MAX);
    } else {
        r->good_reports = 0;
        return;
    }
    r->good_reports = 0;
    r->raises++;
    r->last_change_ms = now_ms;
}

static void judge(StreamRate *r, bool bad, int64_t now_ms)
{
    if (bad) {
        lower(r, now_ms);
    } else {
        raise_rate(r, now_ms);
    }
    r->server_drops = 0;
}

void stream_rate_on_report(StreamRate *r, uint32_t frames, uint32_t drops, int32_t last_delay,
                           int64_t now_ms)
{
    r->reports++;
    if (last_delay < 0) {
        r->margin_ms = MIN(r->margin_ms + STREAM_MARGIN_STEP_MS, STREAM_MARGIN_MAX_MS);
    } else if (drops == 0 && (uint32_t)last_delay > 2 * r->margin_ms &&
               r->margin_ms > STREAM_MARGIN_MIN_MS) {
        /* frames arrive with far more slack than needed */
        r->margin_ms = MAX(r->margin_ms - STREAM_MARGIN_STEP_MS / 4, STREAM_MARGIN_MIN_MS);
    }
    bool bad = r->server_drops > 0 ||
               (frames > 0 && (uint64_t)drops * 100 > (uint64_t)STREAM_BAD_DROP_PERCENT * frames);
    judge(r, bad, now_ms);
}

void stream_rate_on_server_drop(StreamRate *r, int64_t now_ms)
{
    r->server_drops++;
    r->drops_total++;
    /* a full pipe is news at once: do not wait for the next report */
    lower(r, now_ms);
}

void stream_rate_on_behind(StreamRate *r, int64_t now_ms)
{
    r->behind_total++;
    bool news = !r->behind && r->frames_sent > 0;
    r->behind = true;
    if (news) {
        stream_rate_on_server_drop(r, now_ms);
    }
}

void stream_rate_on_sent(StreamRate *r, size_t bytes, uint64_t pixels, int64_t now_ms)
{
    r->behind = false;
    r->frames_sent++;
    r->bytes_sent += bytes;
    r->last_frame_bytes = bytes;
    r->last_frame_pixels = pixels;
    if (!r->client_reports && now_ms - r->window_start_ms >= STREAM_SELF_REPORT_MS) {
        judge(r, r->server_drops > 0, now_ms);
        r->window_start_ms = now_ms;
    }
}

size_t stream_rate_expected_bytes(const StreamRate *r, uint64_t pixels)
{
    uint64_t bytes;
    if (r->last_frame_bytes && r->last_frame_pixels) {
        /* frames are at most CODEC_MAX_PIXELS (2^26), their JPEGs well under
         * 2^31 bytes: the product stays far below 2^64 */
        bytes = (uint64_t)r->last_frame_bytes * 9 / 8 * pixels / r->last_frame_pixels;
    } else {
        bytes = pixels * (uint64_t)r->quality / STREAM_FIRST_FRAME_QUALITY_DIVISOR;
    }
    return (size_t)(bytes + STREAM_FRAME_HEADER_BYTES);
}

bool stream_rate_may_send(const StreamRate *r, int64_t last_sent_ms, int64_t now_ms)
{
    if (last_sent_ms < 0 || r->fps >= r->source_fps) {
        return true;
    }
    /* 10% slack so jitter in the source does not halve the rate */
    int64_t period = 1000 * 9 / (10 * (int64_t)r->fps);
    return now_ms - last_sent_ms >= period;
}
