/* spice-bench: command line.  See docs/bench.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/bench/bench.h"

#ifndef BENCH_CLIENT_HELPER
#define BENCH_CLIENT_HELPER "bench-client"
#endif

#ifndef BENCH_DEFAULT_LIB
#define BENCH_DEFAULT_LIB "/usr/lib/x86_64-linux-gnu/libspice-server.so.1"
#endif

static void usage(FILE *f)
{
    fprintf(f,
        "usage: spice-bench [options]\n"
        "  --lib PATH          libspice-server.so.1 to drive (default %s)\n"
        "  --compare PATH      also run PATH; interleaved child runs, medians, B/A ratios\n"
        "  --runs N            runs per library with --compare (default 3)\n"
        "  --workload LIST     comma list of: office scroll images video cursor surfaces\n"
        "                      resize updates s3 oom, or all (default all, mixed)\n"
        "  --seed N            random seed (default 1)\n"
        "  --duration SEC      measured seconds (default 10; with --smoke per phase, 0.3)\n"
        "  --smoke             every workload alone, then all mixed; strict checks\n"
        "  --size WxH          initial primary surface (default 1024x768)\n"
        "  --timeout SEC       bound for any wait on the server (default 10)\n"
        "  --json FILE         write the report as JSON\n"
        "  --clients N         spice-client-glib clients over loopback (default 0)\n"
        "  --client-delay MS   each client sleeps MS per display update (slow client)\n"
        "  --client-stall SEC  each client stops reading for SEC at the window start\n"
        "  --image-compression off|auto_glz|auto_lz|quic|glz|lz|lz4   (default: library's)\n"
        "  --streaming all|filter|off   spice_server_set_streaming_video (default: off with\n"
        "                      clients, the library's own without)\n"
        "  --video-fps N       video workload frame rate (default 25..60 from the seed)\n"
        "  --video-size WxH    video rectangle, centred (default 320x240)\n"
        "  --video-quality Q|match  pin the stream JPEG quality of our library (its\n"
        "                      benchmark knob %s; upstream has none) to Q;\n"
        "                      with --compare, match pins B to A's measured quality\n"
        "  --count-messages    clients connect through a proxy counting display messages\n"
        "  --max-call-ms MS    fail when any embedder call into the server took longer\n"
        "  --client-helper PATH  the bench-client binary (default %s)\n"
        "  --progress / --no-progress   progress lines on stderr (default: on long runs)\n"
        "  --quiet             no table on stdout\n"
        "exit status: 0 pass, 1 a check failed, 2 usage, 3 the server hung (timeout)\n",
        BENCH_DEFAULT_LIB, BENCH_ENV_STREAM_QUALITY, BENCH_CLIENT_HELPER);
}

static bool parse_double(const char *s, double *out)
{
    char *end;

    *out = g_ascii_strtod(s, &end);
    return s[0] && !*end && *out >= 0;
}

int main(int argc, char **argv)
{
    BenchConfig cfg = {
        .lib = BENCH_DEFAULT_LIB,
        .workloads = WL_ALL,
        .seed = 1,
        .duration_s = -1,
        .runs = 3,
        .result_fd = -1,
        .timeout_s = 10,
        .width = 1024,
        .height = 768,
        .client_helper = BENCH_CLIENT_HELPER,
        .video_w = 320,
        .video_h = 240,
    };
    int progress = -1;
    bool quiet = false;
    GError *err = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--smoke")) {
            cfg.smoke = true;
        } else if (!strcmp(a, "--progress")) {
            progress = 1;
        } else if (!strcmp(a, "--no-progress")) {
            progress = 0;
        } else if (!strcmp(a, "--quiet")) {
            quiet = true;
        } else if (!strcmp(a, "--count-messages")) {
            cfg.count_messages = true;
        } else if (!v) {
            ok = false;
        } else {
            i++;
            if (!strcmp(a, "--lib")) {
                cfg.lib = v;
            } else if (!strcmp(a, "--compare")) {
                cfg.compare = v;
            } else if (!strcmp(a, "--json")) {
                cfg.json = v;
            } else if (!strcmp(a, "--workload") || !strcmp(a, "--workloads")) {
                ok = workload_parse(v, &cfg.workloads, &err);
            } else if (!strcmp(a, "--seed")) {
                cfg.seed = g_ascii_strtoull(v, NULL, 0);
            } else if (!strcmp(a, "--duration")) {
                ok = parse_double(v, &cfg.duration_s) && cfg.duration_s > 0;
            } else if (!strcmp(a, "--timeout")) {
                ok = parse_double(v, &cfg.timeout_s) && cfg.timeout_s > 0;
            } else if (!strcmp(a, "--runs")) {
                cfg.runs = (unsigned)atoi(v);
                ok = cfg.runs > 0 && cfg.runs <= 100;
            } else if (!strcmp(a, "--result-fd")) {
                cfg.result_fd = atoi(v);
            } else if (!strcmp(a, "--clients")) {
                char *end;
                unsigned long n = strtoul(v, &end, 10);
                ok = v[0] && !*end && n <= 16;
                cfg.clients = (unsigned)n;
            } else if (!strcmp(a, "--client-delay")) {
                ok = parse_double(v, &cfg.client_delay_ms) && cfg.client_delay_ms <= 10000;
            } else if (!strcmp(a, "--client-stall")) {
                ok = parse_double(v, &cfg.client_stall_s) && cfg.client_stall_s <= 600;
            } else if (!strcmp(a, "--image-compression")) {
                cfg.image_compression = bench_image_compression_parse(v);
                ok = cfg.image_compression != 0;
            } else if (!strcmp(a, "--streaming")) {
                cfg.streaming = bench_streaming_parse(v);
                ok = cfg.streaming != 0;
            } else if (!strcmp(a, "--video-fps")) {
                ok = parse_double(v, &cfg.video_fps) && cfg.video_fps >= 1 &&
                     cfg.video_fps <= 240;
            } else if (!strcmp(a, "--video-size")) {
                ok = sscanf(v, "%ux%u", &cfg.video_w, &cfg.video_h) == 2 && cfg.video_w >= 16 &&
                     cfg.video_h >= 16 && cfg.video_w <= 2048 && cfg.video_h <= 2048;
            } else if (!strcmp(a, "--video-quality")) {
                if (!strcmp(v, "match")) {
                    cfg.video_quality_match = true;
                } else {
                    char *end;
                    long q = strtol(v, &end, 10);
                    ok = v[0] && !*end && q >= 1 && q <= 100;
                    cfg.video_quality = (int)q;
                }
            } else if (!strcmp(a, "--max-call-ms")) {
                ok = parse_double(v, &cfg.max_call_ms);
            } else if (!strcmp(a, "--client-helper")) {
                cfg.client_helper = v;
            } else if (!strcmp(a, "--size")) {
                ok = sscanf(v, "%ux%u", &cfg.width, &cfg.height) == 2 && cfg.width >= 64 &&
                     cfg.height >= 64 && cfg.width <= 2048 && cfg.height <= 2048;
            } else {
                ok = false;
            }
        }
        if (!ok) {
            fprintf(stderr, "spice-bench: bad option %s%s%s\n", a,
                    err ? ": " : "", err ? err->message : "");
            g_clear_error(&err);
            usage(stderr);
            return 2;
        }
    }
    if (cfg.count_messages && !cfg.clients) {
        fprintf(stderr, "spice-bench: --count-messages needs --clients\n");
        return 2;
    }
    if ((cfg.client_delay_ms > 0 || cfg.client_stall_s > 0) && !cfg.clients) {
        fprintf(stderr, "spice-bench: --client-delay/--client-stall need --clients\n");
        return 2;
    }
    if (cfg.video_quality_match && (!cfg.compare || !cfg.count_messages)) {
        fprintf(stderr, "spice-bench: --video-quality match needs --compare and --count-messages\n");
        return 2;
    }
    if (cfg.duration_s < 0) {
        cfg.duration_s = cfg.smoke ? 0.3 : 10;
    }
    unsigned phases = cfg.smoke ? (unsigned)__builtin_popcount(cfg.workloads) + 1 : 1;
    double total = cfg.duration_s * phases * (cfg.compare ? 2 * cfg.runs : 1);
    cfg.progress = progress >= 0 ? progress : total >= 3;

    if (cfg.compare) {
        return bench_compare(&cfg);
    }

    BenchResult res;
    bench_result_init(&res);
    bool ok = bench_run(&cfg, &res);
    if (cfg.result_fd >= 0) {
        bench_write_kv(cfg.result_fd, &res);
    }
    if (!quiet) {
        bench_print_table(stdout, &cfg, &res);
    } else {
        for (guint i = 0; i < res.errors->len; i++) {
            fprintf(stderr, "spice-bench: FAILURE: %s\n", (char *)res.errors->pdata[i]);
        }
    }
    if (cfg.json && !bench_write_json(cfg.json, &cfg, &res)) {
        ok = false;
    }
    bench_result_clear(&res);
    fflush(stdout);
    /* _exit: skip the server library's destructors, which upstream runs
     * against threads it never joined. */
    _exit(ok ? 0 : 1);
}
