/* --compare: the same workload on two libraries, each run in a fresh child
 * process (two libraries with one SONAME do not share a process well),
 * interleaved A B A B ... so drift on the machine hits both alike; medians
 * and B/A ratios. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/bench/bench.h"

/* Runs one child for `lib`; fills res from its report.  Bounded by
 * `limit_s`: a child that takes longer is killed and reported. */
static bool run_child(const BenchConfig *cfg, const char *lib, int quality, double limit_s,
                      BenchResult *res)
{
    int fds[2];
    g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, cfg->seed);
    g_autofree char *dur = g_strdup_printf("%g", cfg->duration_s);
    g_autofree char *tmo = g_strdup_printf("%g", cfg->timeout_s);
    g_autofree char *size = g_strdup_printf("%ux%u", cfg->width, cfg->height);
    g_autofree char *wl = NULL;
    GString *wls = g_string_new(NULL);

    for (int i = 0; i < WL_COUNT; i++) {
        if (cfg->workloads & (1u << i)) {
            g_string_append_printf(wls, "%s%s", wls->len ? "," : "", workload_name((WorkloadId)i));
        }
    }
    wl = g_string_free(wls, FALSE);
    g_autofree char *clients = g_strdup_printf("%u", cfg->clients);
    g_autofree char *delay = g_strdup_printf("%g", cfg->client_delay_ms);
    g_autofree char *stall = g_strdup_printf("%g", cfg->client_stall_s);
    g_autofree char *max_call = g_strdup_printf("%g", cfg->max_call_ms);
    const char *fixed[] = {
        "/proc/self/exe", "--lib", lib, "--result-fd", "3", "--no-progress", "--quiet",
        "--workload", wl, "--seed", seed, "--duration", dur, "--timeout", tmo,
        "--size", size, "--clients", clients, "--client-helper", cfg->client_helper,
        "--max-call-ms", max_call,
    };
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++) {
        g_ptr_array_add(args, (char *)fixed[i]);
    }
    if (cfg->clients) {
        g_ptr_array_add(args, (char *)"--client-delay");
        g_ptr_array_add(args, delay);
        g_ptr_array_add(args, (char *)"--client-stall");
        g_ptr_array_add(args, stall);
    }
    if (cfg->image_compression) {
        g_ptr_array_add(args, (char *)"--image-compression");
        g_ptr_array_add(args, (char *)bench_image_compression_name(cfg->image_compression));
    }
    if (cfg->smoke) {
        g_ptr_array_add(args, (char *)"--smoke");
    }
    g_autofree char *streaming = NULL, *fps = NULL, *vsize = NULL;
    if (cfg->streaming) {
        streaming = g_strdup(bench_streaming_name(cfg->streaming));
        g_ptr_array_add(args, (char *)"--streaming");
        g_ptr_array_add(args, streaming);
    }
    if (cfg->video_fps > 0) {
        fps = g_strdup_printf("%g", cfg->video_fps);
        g_ptr_array_add(args, (char *)"--video-fps");
        g_ptr_array_add(args, fps);
    }
    vsize = g_strdup_printf("%ux%u", cfg->video_w, cfg->video_h);
    g_ptr_array_add(args, (char *)"--video-size");
    g_ptr_array_add(args, vsize);
    if (cfg->count_messages) {
        g_ptr_array_add(args, (char *)"--count-messages");
    }
    g_autofree char *qs = NULL;
    if (quality > 0) {
        qs = g_strdup_printf("%d", quality);
        g_ptr_array_add(args, (char *)"--video-quality");
        g_ptr_array_add(args, qs);
    }
    g_ptr_array_add(args, NULL);
    char **argv = (char **)args->pdata;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        bench_result_fail(res, "pipe: %s", g_strerror(errno));
        return false;
    }
    pid_t pid = fork();
    if (pid < 0) {
        bench_result_fail(res, "fork: %s", g_strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        if (dup2(fds[1], 3) < 0) {
            _exit(127);
        }
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    close(fds[1]);

    GString *out = g_string_new(NULL);
    int64_t deadline = g_get_monotonic_time() + (int64_t)(limit_s * G_USEC_PER_SEC);
    bool timed_out = false;
    for (;;) {
        int64_t left = deadline - g_get_monotonic_time();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p = { .fd = fds[0], .events = POLLIN };
        int r = poll(&p, 1, (int)MIN(left / 1000 + 1, 1000));
        if (r < 0 && errno != EINTR) {
            break;
        }
        if (r <= 0) {
            continue;
        }
        char buf[4096];
        ssize_t n = read(fds[0], buf, sizeof(buf));
        if (n <= 0) {
            break;
        }
        g_string_append_len(out, buf, n);
    }
    close(fds[0]);
    if (timed_out) {
        kill(pid, SIGKILL);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    bool parsed = bench_parse_kv(out->str, res);
    g_string_free(out, TRUE);
    if (timed_out) {
        bench_result_fail(res, "%s: run exceeded %.0f s and was killed", lib, limit_s);
        return false;
    }
    if (!parsed) {
        bench_result_fail(res, "%s: run died without a report (status 0x%x)", lib, status);
        return false;
    }
    return !res->m[M_FAILED];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void medians(BenchResult *runs, unsigned n, double *out)
{
    double *v = g_new(double, n);

    for (int k = 0; k < M_COUNT; k++) {
        for (unsigned i = 0; i < n; i++) {
            v[i] = runs[i].m[k];
        }
        qsort(v, n, sizeof(double), cmp_double);
        out[k] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
    g_free(v);
}

static void json_obj(FILE *f, const double *m)
{
    fputc('{', f);
    for (int i = 0; i < M_COUNT; i++) {
        fprintf(f, "%s\"%s\": %.6g", i ? ", " : "", bench_metrics[i].key, m[i]);
    }
    fputc('}', f);
}

/* --video-quality match: the quality to pin B's next run to, the median
 * over A's runs so far (the calibration run included) of each run's most
 * frequent stream frame quality; 0 while A has sent no stream frame. */
static int matched_quality(const double *a_modes, unsigned n_modes)
{
    double q[101];                  /* --runs is at most 100, + calibration */
    unsigned n = 0;
    for (unsigned i = 0; i < n_modes && n < G_N_ELEMENTS(q); i++) {
        if (a_modes[i] > 0) {
            q[n++] = a_modes[i];
        }
    }
    if (!n) {
        return 0;
    }
    qsort(q, n, sizeof(double), cmp_double);
    double med = n % 2 ? q[n / 2] : (q[n / 2 - 1] + q[n / 2]) / 2;
    return CLAMP((int)(med + 0.5), 1, 100);
}

int bench_compare(const BenchConfig *cfg)
{
    const char *libs[2] = { cfg->lib, cfg->compare };
    unsigned n = MAX(cfg->runs, 1);
    BenchResult *runs[2] = { g_new0(BenchResult, n), g_new0(BenchResult, n) };
    unsigned phases = cfg->smoke ? (unsigned)__builtin_popcount(cfg->workloads) + 1 : 1;
    /* Clients add their connection, stall and final picture check. */
    double limit = cfg->duration_s * phases + 4 * cfg->timeout_s + 30 +
                   (cfg->clients ? 4 * cfg->timeout_s + 2 * cfg->client_stall_s : 0);
    bool all_ok = true;

    fprintf(stderr, "spice-bench: compare A=%s B=%s, %u runs each, interleaved\n",
            libs[0], libs[1], n);
    /* --video-quality match: A's quality per run, a calibration run of A
     * first so even B's first run is pinned to a measured value */
    double a_modes[101];
    unsigned n_modes = 0;
    if (cfg->video_quality_match) {
        BenchResult cal;
        bench_result_init(&cal);
        if (cfg->progress) {
            fprintf(stderr, "spice-bench: calibration run on A ...\n");
        }
        if (run_child(cfg, libs[0], 0, limit, &cal)) {
            a_modes[n_modes++] = cal.m[M_STREAM_JPEG_QUALITY_MODE];
        }
        fprintf(stderr, "spice-bench: --video-quality match: A's calibration run: quality %.0f "
                "(most frequent), %.1f (mean)\n", cal.m[M_STREAM_JPEG_QUALITY_MODE],
                cal.m[M_STREAM_JPEG_QUALITY]);
        bench_result_clear(&cal);
    }
    for (unsigned i = 0; i < n; i++) {
        for (int l = 0; l < 2; l++) {
            BenchResult *r = &runs[l][i];
            bench_result_init(r);
            if (cfg->progress) {
                fprintf(stderr, "spice-bench: run %u/%u on %c ...\n", 2 * i + l + 1, 2 * n,
                        'A' + l);
            }
            int quality = cfg->video_quality;
            if (cfg->video_quality_match) {
                quality = l == 0 ? 0 : matched_quality(a_modes, n_modes);
                if (l == 1 && !quality) {
                    fprintf(stderr, "spice-bench: --video-quality match: A sent no stream "
                            "frame so far; B run %u not pinned\n", i + 1);
                }
            }
            if (!run_child(cfg, libs[l], quality, limit, r)) {
                all_ok = false;
                for (guint e = 0; e < r->errors->len; e++) {
                    fprintf(stderr, "spice-bench: %c run %u: %s\n", 'A' + l, i + 1,
                            (char *)r->errors->pdata[e]);
                }
            }
            if (l == 0 && cfg->video_quality_match && n_modes < G_N_ELEMENTS(a_modes)) {
                a_modes[n_modes++] = r->m[M_STREAM_JPEG_QUALITY_MODE];
            }
            if (cfg->progress && !r->m[M_FAILED]) {
                fprintf(stderr, "spice-bench:   %.1f drawables/s, %.2f us CPU/drawable\n",
                        r->m[M_DRAWABLES_PER_S], r->m[M_CPU_PER_DRAWABLE_US]);
            }
        }
    }

    double med[2][M_COUNT], ratio[M_COUNT];
    medians(runs[0], n, med[0]);
    medians(runs[1], n, med[1]);
    printf("spice-bench compare (%u runs each, medians)\n  A = %s\n  B = %s\n", n, libs[0], libs[1]);
    printf("  %-34s %14s %14s %8s\n", "metric", "A", "B", "B/A");
    for (int k = 0; k < M_COUNT; k++) {
        ratio[k] = med[0][k] != 0 ? med[1][k] / med[0][k] : 0;
        if (!bench_metric_shown(k, med[0][k] || med[1][k])) {
            continue;
        }
        printf("  %-34s %14.6g %14.6g %8.3f\n", bench_metrics[k].label, med[0][k], med[1][k],
               ratio[k]);
    }
    printf("  result: %s\n", all_ok ? "PASS" : "FAIL");

    if (cfg->json) {
        FILE *f = fopen(cfg->json, "w");
        if (!f) {
            fprintf(stderr, "spice-bench: cannot write %s\n", cfg->json);
            all_ok = false;
        } else {
            fprintf(f, "{\"mode\": \"compare\", \"a\": \"%s\", \"b\": \"%s\", \"runs\": %u, "
                    "\"seed\": %" G_GUINT64_FORMAT ", \"ok\": %s,\n \"a_median\": ",
                    libs[0], libs[1], n, cfg->seed, all_ok ? "true" : "false");
            json_obj(f, med[0]);
            fprintf(f, ",\n \"b_median\": ");
            json_obj(f, med[1]);
            fprintf(f, ",\n \"ratio_b_over_a\": ");
            json_obj(f, ratio);
            for (int l = 0; l < 2; l++) {
                fprintf(f, ",\n \"%c_runs\": [", 'a' + l);
                for (unsigned i = 0; i < n; i++) {
                    fprintf(f, "%s", i ? ", " : "");
                    json_obj(f, runs[l][i].m);
                }
                fprintf(f, "]");
            }
            fprintf(f, "}\n");
            fclose(f);
        }
    }
    for (int l = 0; l < 2; l++) {
        for (unsigned i = 0; i < n; i++) {
            bench_result_clear(&runs[l][i]);
        }
        g_free(runs[l]);
    }
    return all_ok ? 0 : 1;
}
