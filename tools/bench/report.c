/* Figures, percentiles and report formats of spice-bench. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/bench/bench.h"

const MetricInfo bench_metrics[M_COUNT] = {
    [M_WALL_S] = { "wall_s", "measured wall time (s)", 2 },
    [M_DRAWABLES] = { "drawables", "drawables accepted", 0 },
    [M_DRAWABLES_PER_S] = { "drawables_per_s", "drawables accepted / s", 1 },
    [M_CURSOR_CMDS] = { "cursor_cmds", "cursor commands accepted", 0 },
    [M_SURFACE_CMDS] = { "surface_cmds", "surface commands accepted", 0 },
    [M_UPD_SYNC_N] = { "update_sync_n", "update_area sync: calls", 0 },
    [M_UPD_SYNC_P50] = { "update_sync_p50_us", "update_area sync: p50 (us)", 1 },
    [M_UPD_SYNC_P99] = { "update_sync_p99_us", "update_area sync: p99 (us)", 1 },
    [M_UPD_SYNC_MAX] = { "update_sync_max_us", "update_area sync: max (us)", 1 },
    [M_UPD_ASYNC_N] = { "update_async_n", "update_area async: calls", 0 },
    [M_UPD_ASYNC_P50] = { "update_async_p50_us", "update_area async: p50 (us)", 1 },
    [M_UPD_ASYNC_P99] = { "update_async_p99_us", "update_area async: p99 (us)", 1 },
    [M_UPD_ASYNC_MAX] = { "update_async_max_us", "update_area async: max (us)", 1 },
    [M_SERVER_CPU_S] = { "server_cpu_s", "server thread CPU (s)", 3 },
    [M_CPU_PER_DRAWABLE_US] = { "cpu_per_drawable_us", "server CPU per drawable (us)", 2 },
    [M_PEAK_RSS_KB] = { "peak_rss_kb", "peak RSS (kB)", 0 },
    [M_REL_OK] = { "releases_ok", "releases: ok", 0 },
    [M_REL_LEAKED] = { "releases_leaked", "releases: leaked", 0 },
    [M_REL_DOUBLE] = { "releases_double", "releases: double", 0 },
    [M_REL_UNKNOWN] = { "releases_unknown", "releases: unknown id", 0 },
    [M_ASYNC_ISSUED] = { "async_issued", "async IO: issued", 0 },
    [M_ASYNC_COMPLETED] = { "async_completed", "async IO: completed", 0 },
    [M_ASYNC_MISSING] = { "async_missing", "async IO: never completed", 0 },
    [M_ASYNC_UNKNOWN] = { "async_unknown", "async IO: bad/double completion", 0 },
    [M_OOM_ROUNDS] = { "guest_oom_rounds", "guest allocations needing OOM", 0 },
    [M_SERVER_OOM_CALLS] = { "server_oom_calls", "spice_qxl_oom calls", 0 },
    [M_RING_FULL_WAITS] = { "ring_full_waits", "command ring full waits", 0 },
    [M_WRONG_THREAD] = { "wrong_thread_callbacks", "worker callbacks off-thread", 0 },
    [M_CLIENTS] = { "clients", "clients", 0 },
    [M_CLIENT_UPDATES] = { "client_updates", "client: display updates seen", 0 },
    [M_CLIENT_UPDATES_PER_S] = { "client_updates_per_s", "client: display updates / s", 1 },
    [M_CLIENT_BYTES] = { "client_bytes", "client: bytes read, all channels", 0 },
    [M_CLIENT_DISPLAY_BYTES] = { "client_display_bytes", "client: bytes read, display", 0 },
    [M_CLIENT_BYTES_PER_DRAWABLE] = { "client_bytes_per_drawable",
                                      "client: display bytes / drawable", 1 },
    [M_CLIENT_MISMATCH_PX] = { "client_mismatch_px", "client: final pixels differing", 0 },
    [M_CLIENT_CONVERGE_S] = { "client_converge_s", "client: time to final picture (s)", 2 },
    [M_CLIENT_DISCONNECTS] = { "client_disconnects", "client: disconnected or died", 0 },
    [M_RSS_WINDOW_START_KB] = { "rss_window_start_kb", "RSS at window start (kB)", 0 },
    [M_RSS_WINDOW_PEAK_KB] = { "rss_window_peak_kb", "RSS peak in window (kB)", 0 },
    [M_RSS_STALL_PEAK_KB] = { "rss_stall_peak_kb", "RSS peak during client stall (kB)", 0 },
    [M_IO_CALL_MAX_US] = { "io_call_max_us", "longest IO call into server (us)", 0 },
    [M_LOOP_CB_MAX_US] = { "loop_cb_max_us", "longest main-loop callback (us)", 0 },
    [M_EMBEDDER_CALL_MAX_US] = { "embedder_call_max_us", "longest embedder call (us)", 0 },
    [M_VIDEO_FRAMES] = { "video_frames", "video frames drawn", 0 },
    [M_CPU_PER_FRAME_US] = { "cpu_per_frame_us", "server CPU per video frame (us)", 1 },
    [M_CLIENT_VIDEO_UPDATES] = { "client_video_updates", "client: updates in video rect", 0 },
    [M_CLIENT_VIDEO_FPS] = { "client_video_fps", "client: video rect updates / s", 1 },
    [M_CLIENT_BYTES_PER_FRAME] = { "client_bytes_per_frame", "client: display bytes / frame", 0 },
    [M_STREAM_BYTES_PER_FRAME] = { "stream_bytes_per_frame", "client: stream bytes / frame", 0 },
    [M_STREAM_JPEG_QUALITY] = { "stream_jpeg_quality", "client: stream JPEG quality", 1 },
    [M_STREAM_JPEG_QUALITY_MODE] = { "stream_jpeg_quality_mode",
                                     "client: stream JPEG quality, most frequent", 0 },
    [M_VIDEO_QUALITY_PINNED] = { "video_quality_pinned", "stream JPEG quality pinned to", 0 },
#define BENCH_DMSG_INFO(E, k) \
    [M_DMSG_##E##_N] = { "msg_" #k "_n", "client: msgs " #k, 0 }, \
    [M_DMSG_##E##_B] = { "msg_" #k "_bytes", "client: msg bytes " #k, 0 },
#define BENCH_IMG_INFO(E, k) \
    [M_IMG_##E##_N] = { "img_" #k "_n", "client: images " #k, 0 }, \
    [M_IMG_##E##_B] = { "img_" #k "_bytes", "client: image bytes " #k, 0 },
    BENCH_DMSG_KINDS(BENCH_DMSG_INFO)
    BENCH_IMG_KINDS(BENCH_IMG_INFO)
    [M_FAILED] = { "failed", "failed", 0 },
};

bool bench_metric_shown(int metric, bool nonzero)
{
    /* The per-kind message counts are many and mostly zero. */
    return nonzero || metric < M_DMSG_FILL_N || metric >= M_FAILED;
}

void latency_init(LatencySet *l)
{
    l->ns = g_array_new(FALSE, FALSE, sizeof(int64_t));
}

void latency_add(LatencySet *l, int64_t ns)
{
    g_array_append_val(l->ns, ns);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples. */
static double pct(const GArray *a, double p)
{
    size_t rank = (size_t)(p / 100.0 * a->len + 0.999999);

    rank = CLAMP(rank, 1, a->len);
    return g_array_index(a, int64_t, rank - 1) / 1000.0;
}

void latency_report(LatencySet *l, double *m)
{
    m[0] = l->ns->len;
    if (!l->ns->len) {
        m[1] = m[2] = m[3] = 0;
        return;
    }
    qsort(l->ns->data, l->ns->len, sizeof(int64_t), cmp_i64);
    m[1] = pct(l->ns, 50);
    m[2] = pct(l->ns, 99);
    m[3] = g_array_index(l->ns, int64_t, l->ns->len - 1) / 1000.0;
}

void latency_clear(LatencySet *l)
{
    if (l->ns) {
        g_array_free(l->ns, TRUE);
        l->ns = NULL;
    }
}

void bench_result_init(BenchResult *res)
{
    memset(res, 0, sizeof(*res));
    res->errors = g_ptr_array_new_with_free_func(g_free);
    res->threads_json = g_string_new("[]");
}

void bench_result_clear(BenchResult *res)
{
    if (res->errors) {
        g_ptr_array_free(res->errors, TRUE);
    }
    if (res->threads_json) {
        g_string_free(res->threads_json, TRUE);
    }
    memset(res, 0, sizeof(*res));
}

void bench_result_fail(BenchResult *res, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(res->errors, g_strdup_vprintf(fmt, ap));
    va_end(ap);
    res->m[M_FAILED] = 1;
}

static char *workload_list(unsigned mask)
{
    GString *s = g_string_new(NULL);

    for (int i = 0; i < WL_COUNT; i++) {
        if (mask & (1u << i)) {
            g_string_append_printf(s, "%s%s", s->len ? "," : "", workload_name((WorkloadId)i));
        }
    }
    return g_string_free(s, FALSE);
}

void bench_print_table(FILE *out, const BenchConfig *cfg, const BenchResult *res)
{
    g_autofree char *wl = workload_list(cfg->workloads);

    fprintf(out, "spice-bench  lib=%s\n  workloads=%s seed=%" G_GUINT64_FORMAT "%s\n",
            cfg->lib, wl, cfg->seed, cfg->smoke ? " (smoke)" : "");
    for (int i = 0; i < M_COUNT; i++) {
        if (i == M_FAILED || !bench_metric_shown(i, res->m[i] != 0)) {
            continue;
        }
        fprintf(out, "  %-34s %.*f\n", bench_metrics[i].label, bench_metrics[i].prec, res->m[i]);
    }
    for (guint i = 0; i < res->errors->len; i++) {
        fprintf(out, "  FAILURE: %s\n", (char *)res->errors->pdata[i]);
    }
    fprintf(out, "  result: %s\n", res->m[M_FAILED] ? "FAIL" : "PASS");
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') {
            fprintf(f, "\\%c", *s);
        } else if ((unsigned char)*s < 0x20) {
            fprintf(f, "\\u%04x", *s);
        } else {
            fputc(*s, f);
        }
    }
    fputc('"', f);
}

static void json_metrics(FILE *f, const double *m)
{
    fputc('{', f);
    for (int i = 0; i < M_COUNT; i++) {
        fprintf(f, "%s\"%s\": %.6g", i ? ", " : "", bench_metrics[i].key, m[i]);
    }
    fputc('}', f);
}

bool bench_write_json(const char *path, const BenchConfig *cfg, const BenchResult *res)
{
    FILE *f = fopen(path, "w");
    g_autofree char *wl = workload_list(cfg->workloads);

    if (!f) {
        fprintf(stderr, "spice-bench: cannot write %s: %s\n", path, g_strerror(errno));
        return false;
    }
    fprintf(f, "{\"mode\": \"run\", \"lib\": ");
    json_string(f, cfg->lib);
    fprintf(f, ", \"workloads\": ");
    json_string(f, wl);
    fprintf(f, ", \"seed\": %" G_GUINT64_FORMAT ", \"smoke\": %s, \"ok\": %s,\n \"metrics\": ",
            cfg->seed, cfg->smoke ? "true" : "false", res->m[M_FAILED] ? "false" : "true");
    json_metrics(f, res->m);
    fprintf(f, ",\n \"server_threads\": %s,\n \"errors\": [", res->threads_json->str);
    for (guint i = 0; i < res->errors->len; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_string(f, res->errors->pdata[i]);
    }
    fprintf(f, "]}\n");
    return fclose(f) == 0;
}

/* Child-to-parent transport: "key value" lines, then "error text" lines. */
void bench_write_kv(int fd, const BenchResult *res)
{
    GString *s = g_string_new(NULL);

    for (int i = 0; i < M_COUNT; i++) {
        g_string_append_printf(s, "%s %.17g\n", bench_metrics[i].key, res->m[i]);
    }
    for (guint i = 0; i < res->errors->len; i++) {
        g_autofree char *line = g_strdelimit(g_strdup(res->errors->pdata[i]), "\n", ' ');
        g_string_append_printf(s, "error %s\n", line);
    }
    const char *p = s->str;
    size_t left = s->len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n <= 0) {
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    g_string_free(s, TRUE);
}

bool bench_parse_kv(const char *text, BenchResult *res)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    unsigned seen = 0;

    for (char **l = lines; *l; l++) {
        if (g_str_has_prefix(*l, "error ")) {
            bench_result_fail(res, "%s", *l + 6);
            continue;
        }
        char *sp = strchr(*l, ' ');
        if (!sp) {
            continue;
        }
        *sp = '\0';
        for (int i = 0; i < M_COUNT; i++) {
            if (!strcmp(*l, bench_metrics[i].key)) {
                res->m[i] = g_ascii_strtod(sp + 1, NULL);
                seen++;
            }
        }
    }
    return seen == M_COUNT;
}
