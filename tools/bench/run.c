/* One bench run in this process: load the library, plug the emulated QXL
 * device in, run the workloads, tear down, measure and check.
 *
 * CPU method: the server's CPU is the process CPU (getrusage RUSAGE_SELF,
 * which includes threads that already exited) minus the CPU of the bench's
 * own threads (main thread = guest + main loop, watchdog), each read with
 * its thread CPU clock, over the measured window.  docs/bench.md explains.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "tools/bench/bench.h"
#include "tools/embedder/core-loop.h"

typedef struct Watchdog {
    gint64 deadline;            /* us monotonic, atomic; 0 = disarmed */
    const char *phase;          /* static string, what the main thread is doing */
    int result_fd;
    gint stop;                  /* atomic */
    gint tid;                   /* atomic, set by the thread */
    clockid_t clock;
    gint clock_ready;           /* atomic */
    GThread *thread;
    /* RSS sampling (clients): while `rss_on`, the largest VmRSS seen, and
     * while also before `stall_until` (us monotonic), the largest then.
     * The watchdog samples because the main thread may be blocked inside
     * the server exactly when memory grows. */
    gint rss_on;                /* atomic */
    gint64 stall_until;         /* atomic */
    gint64 rss_peak_kb;         /* atomic */
    gint64 rss_stall_peak_kb;   /* atomic */
} Watchdog;

typedef struct RunCtx {
    const BenchConfig *cfg;
    Watchdog *wd;
    QxlGuest *guest;
    const char *phase;
    double phase_start;         /* fraction of the whole run */
    double phase_share;
    int64_t last_print;
    double wd_bound_s;          /* watchdog bound for one call or wait */
} RunCtx;

static double ts_sec(const struct timespec *ts)
{
    return ts->tv_sec + ts->tv_nsec / 1e9;
}

static double clock_cpu(clockid_t c)
{
    struct timespec ts;

    return clock_gettime(c, &ts) == 0 ? ts_sec(&ts) : 0;
}

/* Resident set size of this process in kB, from /proc/self/statm. */
static int64_t rss_kb(void)
{
    char buf[128];
    long long size = 0, resident = 0;
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        return 0;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    if (sscanf(buf, "%lld %lld", &size, &resident) != 2) {
        return 0;
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void atomic_max64(gint64 *p, gint64 v)
{
    gint64 old = __atomic_load_n(p, __ATOMIC_RELAXED);

    while (v > old &&
           !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

static double process_cpu(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The backstop for calls into the server that block forever (a sync
 * spice_qxl_* on a dead worker): no heartbeat within the timeout ends the
 * process with a timeout report instead of a hang. */
static gpointer watchdog_main(gpointer data)
{
    Watchdog *wd = data;

    pthread_getcpuclockid(pthread_self(), &wd->clock);
    g_atomic_int_set(&wd->tid, gettid());
    g_atomic_int_set(&wd->clock_ready, 1);
    while (!g_atomic_int_get(&wd->stop)) {
        g_usleep(50 * 1000);
        if (g_atomic_int_get(&wd->rss_on)) {
            int64_t kb = rss_kb();
            atomic_max64(&wd->rss_peak_kb, kb);
            if (g_get_monotonic_time() < __atomic_load_n(&wd->stall_until, __ATOMIC_RELAXED)) {
                atomic_max64(&wd->rss_stall_peak_kb, kb);
            }
        }
        gint64 deadline = __atomic_load_n(&wd->deadline, __ATOMIC_SEQ_CST);
        if (deadline && g_get_monotonic_time() > deadline) {
            char msg[256];
            int n = snprintf(msg, sizeof(msg),
                             "timeout: the server did not return or progress during %s", wd->phase);
            fprintf(stderr, "spice-bench: %s\n", msg);
            if (wd->result_fd >= 0) {
                char line[320];
                int m = snprintf(line, sizeof(line), "failed 1\nerror %.*s\n", n, msg);
                if (write(wd->result_fd, line, (size_t)m) < 0) {
                    /* nothing left to report to */
                }
            }
            _exit(3);
        }
    }
    return NULL;
}

static void watchdog_arm(Watchdog *wd, const char *phase, double timeout_s)
{
    wd->phase = phase;
    __atomic_store_n(&wd->deadline, g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC),
                     __ATOMIC_SEQ_CST);
}

static void tick(void *opaque, double done)
{
    RunCtx *rc = opaque;
    QxlGuestStats gs;

    watchdog_arm(rc->wd, rc->phase, rc->wd_bound_s);
    if (!rc->cfg->progress) {
        return;
    }
    int64_t now = g_get_monotonic_time();
    if (now - rc->last_print < G_USEC_PER_SEC) {
        return;
    }
    rc->last_print = now;
    qxl_guest_get_stats(rc->guest, &gs);
    fprintf(stderr, "spice-bench: [%3.0f%%] %-10s drawables %" G_GUINT64_FORMAT
            " cursor %" G_GUINT64_FORMAT "\n",
            100.0 * (rc->phase_start + done * rc->phase_share), rc->phase, gs.draws,
            gs.cursor_cmds);
}

/* Per-thread CPU of everything that is not the bench, from /proc (since
 * each thread started), as a JSON array. */
static void server_threads_json(GString *out, int main_tid, int wd_tid)
{
    DIR *dir = opendir("/proc/self/task");
    long hz = sysconf(_SC_CLK_TCK);
    struct dirent *de;
    bool first = true;

    g_string_assign(out, "[");
    while (dir && (de = readdir(dir))) {
        int tid = atoi(de->d_name);
        if (tid <= 0 || tid == main_tid || tid == wd_tid) {
            continue;
        }
        g_autofree char *stat_path = g_strdup_printf("/proc/self/task/%d/stat", tid);
        g_autofree char *stat = NULL;
        if (!g_file_get_contents(stat_path, &stat, NULL, NULL)) {
            continue;
        }
        /* comm is in parentheses and may hold spaces: parse after the last ')'. */
        char *close_paren = strrchr(stat, ')');
        char *open_paren = strchr(stat, '(');
        if (!close_paren || !open_paren) {
            continue;
        }
        g_autofree char *name = g_strndup(open_paren + 1, (gsize)(close_paren - open_paren - 1));
        unsigned long utime = 0, stime = 0;
        /* after ')': state(3) ppid ... utime is field 14, stime 15 */
        if (sscanf(close_paren + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                   &utime, &stime) != 2) {
            continue;
        }
        g_strdelimit(name, "\"\\", '_');
        g_string_append_printf(out, "%s{\"tid\": %d, \"name\": \"%s\", \"cpu_s\": %.3f}",
                               first ? "" : ", ", tid, name, (double)(utime + stime) / hz);
        first = false;
    }
    if (dir) {
        closedir(dir);
    }
    g_string_append(out, "]");
}

static bool run_phase(RunCtx *rc, Bench *b, unsigned mask, const char *name, double secs,
                      double start, double share)
{
    rc->phase = name;
    rc->phase_start = start;
    rc->phase_share = share;
    watchdog_arm(rc->wd, name, rc->wd_bound_s);
    return bench_workloads_run(b, mask, secs, tick, rc);
}

bool bench_run(const BenchConfig *cfg, BenchResult *res)
{
    SpiceServerApi api;
    GError *err = NULL;
    Watchdog wd = { .result_fd = cfg->result_fd };
    /* A stalled client may legitimately hold a call as long as it stalls
     * (upstream does): the bounds grow by the stall. */
    RunCtx rc = { .cfg = cfg, .wd = &wd, .wd_bound_s = cfg->timeout_s + cfg->client_stall_s + 5 };
    BenchClients *clients = NULL;
    int port = -1;
    LatencySet sync_lat, async_lat;
    QxlEmuStats s0, s1;
    QxlGuestStats gs;
    clockid_t main_clock;
    bool ok = false;

    if (cfg->video_quality > 0) {
        /* read by our library when a stream starts; upstream ignores it */
        g_autofree char *q = g_strdup_printf("%d", cfg->video_quality);
        g_setenv(BENCH_ENV_STREAM_QUALITY, q, TRUE);
        res->m[M_VIDEO_QUALITY_PINNED] = cfg->video_quality;
    }

    if (!spice_server_api_load(&api, cfg->lib, &err)) {
        bench_result_fail(res, "%s", err->message);
        g_error_free(err);
        return false;
    }
    latency_init(&sync_lat);
    latency_init(&async_lat);
    pthread_getcpuclockid(pthread_self(), &main_clock);
    wd.thread = g_thread_new("bench-watchdog", watchdog_main, &wd);
    while (!g_atomic_int_get(&wd.clock_ready)) {
        g_thread_yield();
    }

    GMainContext *ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    watchdog_arm(&wd, "server setup", rc.wd_bound_s);

    SpiceServer *server = api.spice_server_new();
    QxlEmuConfig ecfg;
    qxl_emu_config_default(&ecfg);
    QxlEmu *emu = NULL;
    QxlGuest *guest = NULL;
    Bench *bench = NULL;
    bool vm_started = false;
    SpiceCoreInterface *inner_core = embedder_core_new(ctx);
    SpiceCoreInterface *core = inner_core ? bench_core_wrap(inner_core) : NULL;

    if (!core) {
        bench_result_fail(res, "embedder_core_new failed");
        goto out;
    }
    if (server && !bench_server_configure(&api, server, cfg, &port, &err)) {
        bench_result_fail(res, "%s", err->message);
        g_clear_error(&err);
        goto out;
    }
    if (!server || api.spice_server_init(server, core) != 0) {
        bench_result_fail(res, "%s: spice_server_new/init failed", cfg->lib);
        goto out;
    }
    emu = qxl_emu_new(&ecfg, &err);
    if (!emu || !qxl_emu_attach(emu, &api, server, &err)) {
        bench_result_fail(res, "%s", err->message);
        g_clear_error(&err);
        goto out;
    }
    api.spice_server_vm_start(server);
    vm_started = true;
    guest = qxl_guest_new(emu, ctx);
    rc.guest = guest;
    qxl_guest_set_timeout(guest,
                          (int64_t)((cfg->timeout_s + cfg->client_stall_s) * G_USEC_PER_SEC));
    if (!qxl_guest_init(guest) ||
        !qxl_guest_create_primary(guest, cfg->width, cfg->height, false, false) ||
        !qxl_guest_monitors_config(guest) || !qxl_guest_async_wait(guest, NULL)) {
        bench_result_fail(res, "device setup: %s", qxl_guest_error(guest));
        goto out;
    }
    if (cfg->clients) {
        /* Long enough for the run, its stall, and the final check. */
        double life = cfg->duration_s * 20 + 6 * cfg->timeout_s + cfg->client_stall_s + 60;
        watchdog_arm(&wd, "client connection", rc.wd_bound_s);
        clients = bench_clients_spawn(cfg, port, life, &err);
        if (!clients || !bench_clients_wait_ready(clients, guest, cfg->timeout_s, &err)) {
            bench_result_fail(res, "%s", err->message);
            g_clear_error(&err);
            goto out;
        }
        if (!bench_clients_start(clients, guest, cfg->timeout_s, &err)) {
            bench_result_fail(res, "%s", err->message);
            g_clear_error(&err);
            goto out;
        }
    }
    bench = bench_workloads_new(guest, emu, cfg->seed, &sync_lat, &async_lat);
    bench_workloads_set_video(bench, cfg->video_fps, cfg->video_w, cfg->video_h);

    /* The measured window: workloads only, not setup and teardown. */
    qxl_emu_get_stats(emu, &s0);
    double wall0 = g_get_monotonic_time() / 1e6;
    double proc0 = process_cpu(), main0 = clock_cpu(main_clock), wd0 = clock_cpu(wd.clock);
    qxl_emu_reset_io_max(emu);
    bench_core_loop_reset();
    res->m[M_RSS_WINDOW_START_KB] = (double)rss_kb();
    __atomic_store_n(&wd.stall_until,
                     g_get_monotonic_time() + (gint64)(cfg->client_stall_s * G_USEC_PER_SEC),
                     __ATOMIC_RELAXED);
    g_atomic_int_set(&wd.rss_on, 1);
    bool ran = true;
    if (cfg->smoke) {
        unsigned n = (unsigned)__builtin_popcount(cfg->workloads) + 1, k = 0;
        for (int i = 0; i < WL_COUNT && ran; i++) {
            if (cfg->workloads & (1u << i)) {
                ran = run_phase(&rc, bench, 1u << i, workload_name((WorkloadId)i),
                                cfg->duration_s, (double)k / n, 1.0 / n);
                k++;
            }
        }
        ran = ran && run_phase(&rc, bench, cfg->workloads, "mixed", cfg->duration_s,
                               (double)k / n, 1.0 / n);
    } else {
        ran = run_phase(&rc, bench, cfg->workloads, "mixed", cfg->duration_s, 0, 1);
    }
    /* Count only what the server took in the window: wait for the rings. */
    ran = ran && qxl_guest_wait_rings_empty(guest);
    double wall = g_get_monotonic_time() / 1e6 - wall0;
    double server_cpu = (process_cpu() - proc0) - (clock_cpu(main_clock) - main0) -
                        (clock_cpu(wd.clock) - wd0);
    qxl_emu_get_stats(emu, &s1);
    g_atomic_int_set(&wd.rss_on, 0);
    double io_max_us = (double)s1.io_max_ns / 1e3;
    double loop_max_us = (double)bench_core_loop_max_ns() / 1e3;
    if (!ran) {
        bench_result_fail(res, "workload: %s", qxl_guest_error(guest));
    }

    double *m = res->m;
    m[M_WALL_S] = wall;
    m[M_DRAWABLES] = (double)(s1.draw_fetched - s0.draw_fetched);
    m[M_VIDEO_FRAMES] = (double)bench_workloads_video_frames(bench);
    m[M_CPU_PER_FRAME_US] =
        m[M_VIDEO_FRAMES] > 0 ? MAX(server_cpu, 0) * 1e6 / m[M_VIDEO_FRAMES] : 0;
    if (clients && ran) {
        /* The server's final picture, then the clients' (they may still be
         * catching up: bounded retries). */
        double converge_s = 2 * cfg->timeout_s;
        bench_clients_resume(clients);
        watchdog_arm(&wd, "final picture check", rc.wd_bound_s + converge_s);
        QXLRect all = { 0, 0, (int32_t)qxl_guest_height(guest), (int32_t)qxl_guest_width(guest) };
        if (!qxl_guest_update_area(guest, 0, &all, NULL)) {
            bench_result_fail(res, "final update_area: %s", qxl_guest_error(guest));
        } else {
            bench_clients_converge(clients, guest, converge_s, res);
        }
        bench_clients_free(clients);
        clients = NULL;
    }

    watchdog_arm(&wd, "teardown", rc.wd_bound_s);
    if (ran && !qxl_guest_teardown(guest)) {
        bench_result_fail(res, "teardown: %s", qxl_guest_error(guest));
    }

    m[M_DRAWABLES_PER_S] = wall > 0 ? m[M_DRAWABLES] / wall : 0;
    m[M_CURSOR_CMDS] = (double)(s1.cursor_fetched - s0.cursor_fetched);
    m[M_SURFACE_CMDS] = (double)(s1.surface_fetched - s0.surface_fetched);
    latency_report(&sync_lat, &m[M_UPD_SYNC_N]);
    latency_report(&async_lat, &m[M_UPD_ASYNC_N]);
    m[M_SERVER_CPU_S] = MAX(server_cpu, 0);
    m[M_CPU_PER_DRAWABLE_US] = m[M_DRAWABLES] > 0 ? m[M_SERVER_CPU_S] * 1e6 / m[M_DRAWABLES] : 0;

    qxl_emu_get_stats(emu, &s1);
    qxl_guest_get_stats(guest, &gs);
    unsigned leaked = qxl_emu_outstanding(emu);
    m[M_REL_OK] = (double)s1.releases_ok;
    m[M_REL_LEAKED] = leaked;
    m[M_REL_DOUBLE] = (double)s1.releases_double;
    m[M_REL_UNKNOWN] = (double)s1.releases_unknown;
    m[M_ASYNC_ISSUED] = (double)s1.async_issued;
    m[M_ASYNC_COMPLETED] = (double)s1.async_completed;
    m[M_ASYNC_MISSING] = (double)(s1.async_issued - s1.async_completed);
    m[M_ASYNC_UNKNOWN] = (double)(s1.async_unknown + s1.async_mismatch);
    m[M_OOM_ROUNDS] = (double)gs.oom_rounds;
    m[M_SERVER_OOM_CALLS] = (double)s1.oom_calls;
    m[M_RING_FULL_WAITS] = (double)gs.ring_full_waits;
    m[M_WRONG_THREAD] = (double)s1.wrong_thread;
    m[M_RSS_WINDOW_PEAK_KB] = (double)__atomic_load_n(&wd.rss_peak_kb, __ATOMIC_RELAXED);
    m[M_RSS_STALL_PEAK_KB] = (double)__atomic_load_n(&wd.rss_stall_peak_kb, __ATOMIC_RELAXED);
    m[M_IO_CALL_MAX_US] = io_max_us;
    m[M_LOOP_CB_MAX_US] = loop_max_us;
    m[M_EMBEDDER_CALL_MAX_US] = MAX(io_max_us, loop_max_us);
    server_threads_json(res->threads_json, gettid(), g_atomic_int_get(&wd.tid));

    if (ran) {
        if (s1.releases_double) {
            bench_result_fail(res, "%" G_GUINT64_FORMAT " commands released twice",
                              s1.releases_double);
        }
        if (s1.releases_unknown) {
            bench_result_fail(res, "%" G_GUINT64_FORMAT " releases of unknown resources",
                              s1.releases_unknown);
        }
        if (leaked) {
            bench_result_fail(res, "%u commands never released after teardown", leaked);
        }
        if (s1.async_issued != s1.async_completed) {
            bench_result_fail(res, "%" G_GUINT64_FORMAT " async IOs never completed",
                              s1.async_issued - s1.async_completed);
        }
        if (s1.async_unknown || s1.async_mismatch) {
            bench_result_fail(res, "%" G_GUINT64_FORMAT " bad or repeated async completions",
                              s1.async_unknown + s1.async_mismatch);
        }
        if (s1.wrong_thread) {
            bench_result_fail(res, "%" G_GUINT64_FORMAT " worker callbacks from a second thread",
                              s1.wrong_thread);
        }
        if (s1.guest_bugs) {
            bench_result_fail(res, "the emulated guest made %" G_GUINT64_FORMAT " device errors",
                              s1.guest_bugs);
        }
        const unsigned no_draws = (1u << WL_CURSOR) | (1u << WL_S3);
        if (m[M_DRAWABLES] == 0 && (cfg->workloads & ~no_draws)) {
            bench_result_fail(res, "the server accepted no drawable");
        }
        if ((cfg->workloads & (1u << WL_CURSOR)) && m[M_CURSOR_CMDS] == 0) {
            bench_result_fail(res, "the server accepted no cursor command");
        }
        if (cfg->max_call_ms > 0 && m[M_EMBEDDER_CALL_MAX_US] > cfg->max_call_ms * 1000) {
            bench_result_fail(res, "an embedder call took %.1f ms (IO %.1f ms, main-loop "
                              "callback %.1f ms), bound %.0f ms",
                              m[M_EMBEDDER_CALL_MAX_US] / 1e3, io_max_us / 1e3,
                              loop_max_us / 1e3, cfg->max_call_ms);
        }
    }
    ok = !res->m[M_FAILED];

out:
    watchdog_arm(&wd, "server shutdown", rc.wd_bound_s);
    bench_clients_free(clients);
    bench_workloads_free(bench);
    if (vm_started) {
        api.spice_server_vm_stop(server);
    }
    if (emu) {
        qxl_emu_detach(emu);
    }
    qxl_guest_free(guest);
    if (server) {
        api.spice_server_destroy(server);
    }
    qxl_emu_free(emu);
    bench_core_unwrap(core);
    embedder_core_free(inner_core);
    {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        res->m[M_PEAK_RSS_KB] = (double)ru.ru_maxrss;
    }
    g_atomic_int_set(&wd.stop, 1);
    g_thread_join(wd.thread);
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);
    latency_clear(&sync_lat);
    latency_clear(&async_lat);
    /* The library stays loaded: upstream leaves threads and atexit
     * handlers behind, and the process ends right after a run. */
    return ok && !res->m[M_FAILED];
}
