/* The bench's side of its clients: server network setup, bench-client
 * processes and their control protocol (see bench-client.c), the final
 * picture check, and timing of the server's main-loop callbacks.
 *
 * Clients run as separate processes (fork + exec of bench-client), so
 * their CPU is not counted as server CPU and a slow or stalled client
 * really stops reading its sockets.  Every wait here iterates the guest's
 * main context (the server's listening socket and channels live there)
 * and is bounded.  Main thread only, except the core wrapper's
 * trampolines, which run wherever the server's loop callbacks run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dlfcn.h>

#include "tools/bench/bench.h"

/* Largest primary the bench makes (--size and the resize modes). */
#define SHM_BYTES ((size_t)2048 * 2048 * 4)
#define LINE_MAX_BYTES 512

/* ---- image compression names ---- */

static const struct {
    const char *name;
    int value;
} compressions[] = {
    { "off", SPICE_IMAGE_COMPRESSION_OFF },
    { "auto_glz", SPICE_IMAGE_COMPRESSION_AUTO_GLZ },
    { "auto_lz", SPICE_IMAGE_COMPRESSION_AUTO_LZ },
    { "quic", SPICE_IMAGE_COMPRESSION_QUIC },
    { "glz", SPICE_IMAGE_COMPRESSION_GLZ },
    { "lz", SPICE_IMAGE_COMPRESSION_LZ },
    { "lz4", SPICE_IMAGE_COMPRESSION_LZ4 },
};

int bench_image_compression_parse(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(compressions); i++) {
        if (!strcmp(name, compressions[i].name)) {
            return compressions[i].value;
        }
    }
    return 0;
}

const char *bench_image_compression_name(int value)
{
    for (size_t i = 0; i < G_N_ELEMENTS(compressions); i++) {
        if (compressions[i].value == value) {
            return compressions[i].name;
        }
    }
    return "default";
}

static const struct {
    const char *name;
    int value;
} streamings[] = {
    { "all", SPICE_STREAM_VIDEO_ALL },
    { "filter", SPICE_STREAM_VIDEO_FILTER },
    { "off", SPICE_STREAM_VIDEO_OFF },
};

int bench_streaming_parse(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(streamings); i++) {
        if (!strcmp(name, streamings[i].name)) {
            return streamings[i].value;
        }
    }
    return 0;
}

const char *bench_streaming_name(int value)
{
    for (size_t i = 0; i < G_N_ELEMENTS(streamings); i++) {
        if (streamings[i].value == value) {
            return streamings[i].name;
        }
    }
    return "default";
}

/* ---- timing the server's main-loop callbacks ---- */

/* SpiceCoreInterface callbacks carry no interface pointer, so the wrapper
 * state is process-wide, like the embedder core's own. */
typedef struct CoreWrap {
    SpiceCoreInterface iface;   /* handed to the server */
    SpiceCoreInterface *inner;  /* not owned */
    GMutex lock;
    GHashTable *timers;         /* SpiceTimer* -> Tramp* (owned) */
    GHashTable *watches;        /* SpiceWatch* -> Tramp* (owned) */
    gint64 max_ns;              /* atomic */
} CoreWrap;

typedef struct Tramp {
    SpiceTimerFunc timer_func;
    SpiceWatchFunc watch_func;
    void *opaque;
} Tramp;

static CoreWrap *core_wrap;

static void note_duration(int64_t t0)
{
    gint64 dt = g_get_monotonic_time() * 1000 - t0;
    gint64 old = __atomic_load_n(&core_wrap->max_ns, __ATOMIC_RELAXED);

    while (dt > old &&
           !__atomic_compare_exchange_n(&core_wrap->max_ns, &old, dt, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED)) {
    }
}

static void timer_tramp(void *opaque)
{
    Tramp *t = opaque;
    int64_t t0 = g_get_monotonic_time() * 1000;

    t->timer_func(t->opaque);
    note_duration(t0);
}

static void watch_tramp(int fd, int event, void *opaque)
{
    Tramp *t = opaque;
    int64_t t0 = g_get_monotonic_time() * 1000;

    t->watch_func(fd, event, t->opaque);
    note_duration(t0);
}

static SpiceTimer *w_timer_add(SpiceTimerFunc func, void *opaque)
{
    Tramp *t = g_new0(Tramp, 1);

    t->timer_func = func;
    t->opaque = opaque;
    SpiceTimer *timer = core_wrap->inner->timer_add(timer_tramp, t);
    if (!timer) {
        g_free(t);
        return NULL;
    }
    g_mutex_lock(&core_wrap->lock);
    g_hash_table_insert(core_wrap->timers, timer, t);
    g_mutex_unlock(&core_wrap->lock);
    return timer;
}

static void w_timer_start(SpiceTimer *timer, uint32_t ms)
{
    core_wrap->inner->timer_start(timer, ms);
}

static void w_timer_cancel(SpiceTimer *timer)
{
    core_wrap->inner->timer_cancel(timer);
}

static void w_timer_remove(SpiceTimer *timer)
{
    core_wrap->inner->timer_remove(timer);
    g_mutex_lock(&core_wrap->lock);
    g_hash_table_remove(core_wrap->timers, timer);
    g_mutex_unlock(&core_wrap->lock);
}

static SpiceWatch *w_watch_add(int fd, int event_mask, SpiceWatchFunc func, void *opaque)
{
    Tramp *t = g_new0(Tramp, 1);

    t->watch_func = func;
    t->opaque = opaque;
    SpiceWatch *watch = core_wrap->inner->watch_add(fd, event_mask, watch_tramp, t);
    if (!watch) {
        g_free(t);
        return NULL;
    }
    g_mutex_lock(&core_wrap->lock);
    g_hash_table_insert(core_wrap->watches, watch, t);
    g_mutex_unlock(&core_wrap->lock);
    return watch;
}

static void w_watch_update_mask(SpiceWatch *watch, int event_mask)
{
    core_wrap->inner->watch_update_mask(watch, event_mask);
}

static void w_watch_remove(SpiceWatch *watch)
{
    core_wrap->inner->watch_remove(watch);
    g_mutex_lock(&core_wrap->lock);
    g_hash_table_remove(core_wrap->watches, watch);
    g_mutex_unlock(&core_wrap->lock);
}

static void w_channel_event(int event, SpiceChannelEventInfo *info)
{
    int64_t t0 = g_get_monotonic_time() * 1000;

    if (core_wrap->inner->channel_event) {
        core_wrap->inner->channel_event(event, info);
    }
    note_duration(t0);
}

SpiceCoreInterface *bench_core_wrap(SpiceCoreInterface *inner)
{
    g_assert(!core_wrap);
    core_wrap = g_new0(CoreWrap, 1);
    core_wrap->inner = inner;
    g_mutex_init(&core_wrap->lock);
    core_wrap->timers = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    core_wrap->watches = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    core_wrap->iface = (SpiceCoreInterface){
        .base = inner->base,
        .timer_add = w_timer_add,
        .timer_start = w_timer_start,
        .timer_cancel = w_timer_cancel,
        .timer_remove = w_timer_remove,
        .watch_add = w_watch_add,
        .watch_update_mask = w_watch_update_mask,
        .watch_remove = w_watch_remove,
        .channel_event = w_channel_event,
    };
    return &core_wrap->iface;
}

void bench_core_unwrap(SpiceCoreInterface *wrapped)
{
    if (!wrapped) {
        return;
    }
    g_assert(core_wrap && wrapped == &core_wrap->iface);
    /* Leftover timers/watches (a server that did not remove them) keep
     * their trampolines: the inner core may still fire them. */
    if (!g_hash_table_size(core_wrap->timers) && !g_hash_table_size(core_wrap->watches)) {
        g_hash_table_destroy(core_wrap->timers);
        g_hash_table_destroy(core_wrap->watches);
        g_mutex_clear(&core_wrap->lock);
        g_free(core_wrap);
    }
    core_wrap = NULL;
}

int64_t bench_core_loop_max_ns(void)
{
    return core_wrap ? __atomic_load_n(&core_wrap->max_ns, __ATOMIC_RELAXED) : 0;
}

void bench_core_loop_reset(void)
{
    if (core_wrap) {
        __atomic_store_n(&core_wrap->max_ns, 0, __ATOMIC_RELAXED);
    }
}

/* ---- server configuration ---- */

static int free_port(GError **error)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    int port = -1;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
        port = ntohs(sa.sin_port);
    } else {
        g_set_error(error, QXL_EMU_ERROR, 20, "no free loopback port: %s", g_strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

bool bench_server_configure(const SpiceServerApi *api, SpiceServer *server,
                            const BenchConfig *cfg, int *port, GError **error)
{
    __typeof__(spice_server_set_image_compression) *set_comp =
        dlsym(api->handle, "spice_server_set_image_compression");

    *port = -1;
    if (cfg->image_compression) {
        if (!set_comp) {
            g_set_error(error, QXL_EMU_ERROR, 21, "%s lacks spice_server_set_image_compression",
                        api->path);
            return false;
        }
        if (set_comp(server, (SpiceImageCompression)cfg->image_compression) != 0) {
            g_set_error(error, QXL_EMU_ERROR, 21, "%s refused image compression %s", api->path,
                        bench_image_compression_name(cfg->image_compression));
            return false;
        }
    }
    __typeof__(spice_server_set_streaming_video) *set_streaming =
        dlsym(api->handle, "spice_server_set_streaming_video");
    if (!cfg->clients) {
        if (cfg->streaming && (!set_streaming || set_streaming(server, cfg->streaming) != 0)) {
            g_set_error(error, QXL_EMU_ERROR, 21, "%s: cannot set streaming %s", api->path,
                        bench_streaming_name(cfg->streaming));
            return false;
        }
        return true;
    }
    __typeof__(spice_server_set_addr) *set_addr = dlsym(api->handle, "spice_server_set_addr");
    __typeof__(spice_server_set_port) *set_port = dlsym(api->handle, "spice_server_set_port");
    __typeof__(spice_server_set_noauth) *set_noauth = dlsym(api->handle, "spice_server_set_noauth");
    __typeof__(spice_server_set_jpeg_compression) *set_jpeg =
        dlsym(api->handle, "spice_server_set_jpeg_compression");
    __typeof__(spice_server_set_zlib_glz_compression) *set_zlib =
        dlsym(api->handle, "spice_server_set_zlib_glz_compression");
    if (!set_addr || !set_port || !set_noauth || !set_jpeg || !set_zlib || !set_streaming) {
        g_set_error(error, QXL_EMU_ERROR, 22,
                    "%s lacks the network entry points a client needs "
                    "(set_addr/port/noauth, set_jpeg/zlib_glz_compression, set_streaming_video)",
                    api->path);
        return false;
    }
    *port = free_port(error);
    if (*port < 0) {
        return false;
    }
    set_addr(server, "127.0.0.1", 0);
    set_port(server, *port);
    set_noauth(server);
    /* Lossless pictures only, so the final picture can be compared
     * exactly: no JPEG, and no lossy video streams unless asked for
     * (--streaming: then the final check relies on the server's lossless
     * upgrade after the stream ends). */
    set_jpeg(server, SPICE_WAN_COMPRESSION_NEVER);
    set_zlib(server, SPICE_WAN_COMPRESSION_NEVER);
    set_streaming(server, cfg->streaming ? cfg->streaming : SPICE_STREAM_VIDEO_OFF);
    if (cfg->clients > 1) {
        /* Upstream otherwise replaces the first client with the second. */
        g_setenv("SPICE_DEBUG_ALLOW_MC", "1", TRUE);
    }
    return true;
}

/* ---- client processes ---- */

/* The "stats" line of bench-client (see there). */
typedef struct ClientStats {
    uint64_t video_window, video_all, jpeg_frames, jpeg_quality_sum;
    uint64_t jpeg_quality_mode;     /* most frequent quality, 0 = none */
    uint64_t msgs[DMSG_COUNT], msg_bytes[DMSG_COUNT];
    uint64_t imgs[IMGK_COUNT], img_bytes[IMGK_COUNT];
} ClientStats;

typedef struct ClientDump {
    bool has_picture;
    int width, height, format;
    uint64_t updates, bytes, display_bytes;
    bool disconnected;
} ClientDump;

typedef struct BenchClient {
    pid_t pid;
    int ctl_fd;                 /* we write commands */
    int out_fd;                 /* we read replies, non-blocking */
    int shm_fd;
    uint8_t *shm;               /* SHM_BYTES mapping of shm_fd */
    GString *buf;               /* partial reply */
    bool eof;                   /* the process closed its replies */
    bool ready, started;
    unsigned dumps;             /* dump replies received */
    unsigned want;              /* dumps count that answers the last request */
    ClientDump dump;            /* the last one */
    ClientStats stats;          /* the last stats line */
    bool matched;
    uint64_t mismatch;          /* pixels differing in the last comparison */
    int box[4];                 /* their bounding box: x0, y0, x1, y1 (exclusive) */
} BenchClient;

struct BenchClients {
    unsigned n;
    BenchClient *c;
    const BenchConfig *cfg;
};

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

BenchClients *bench_clients_spawn(const BenchConfig *cfg, int port, double max_life_s,
                                  GError **error)
{
    BenchClients *bc = g_new0(BenchClients, 1);
    g_autofree char *port_s = g_strdup_printf("%d", port);
    g_autofree char *delay_s = g_strdup_printf("%.0f", cfg->client_delay_ms);
    g_autofree char *life_s = g_strdup_printf("%.0f", max_life_s);
    QXLRect vr;
    bench_video_rect(cfg->width, cfg->height, cfg->video_w, cfg->video_h, &vr);
    g_autofree char *rect_s = g_strdup_printf("%d,%d,%d,%d", vr.left, vr.top, vr.right - vr.left,
                                              vr.bottom - vr.top);
    const char *argv[] = {
        cfg->client_helper, "--port", port_s, "--delay-ms", delay_s, "--max-seconds", life_s,
        "--video-rect", rect_s, cfg->count_messages ? "--proxy" : NULL, NULL,
    };

    /* A client that died must not kill the bench on the next command. */
    signal(SIGPIPE, SIG_IGN);
    bc->cfg = cfg;
    bc->n = cfg->clients;
    bc->c = g_new0(BenchClient, bc->n);
    for (unsigned i = 0; i < bc->n; i++) {
        bc->c[i] = (BenchClient){ .pid = -1, .ctl_fd = -1, .out_fd = -1, .shm_fd = -1 };
    }
    if (access(cfg->client_helper, X_OK) != 0) {
        g_set_error(error, QXL_EMU_ERROR, 23, "client helper %s: %s", cfg->client_helper,
                    g_strerror(errno));
        bench_clients_free(bc);
        return NULL;
    }
    for (unsigned i = 0; i < bc->n; i++) {
        BenchClient *c = &bc->c[i];
        int ctl[2], out[2];

        c->buf = g_string_new(NULL);
        c->shm_fd = memfd_create("bench-client-primary", MFD_CLOEXEC);
        if (c->shm_fd < 0 || ftruncate(c->shm_fd, (off_t)SHM_BYTES) < 0) {
            g_set_error(error, QXL_EMU_ERROR, 24, "memfd: %s", g_strerror(errno));
            bench_clients_free(bc);
            return NULL;
        }
        c->shm = mmap(NULL, SHM_BYTES, PROT_READ, MAP_SHARED, c->shm_fd, 0);
        if (c->shm == MAP_FAILED) {
            c->shm = NULL;
            g_set_error(error, QXL_EMU_ERROR, 24, "mmap: %s", g_strerror(errno));
            bench_clients_free(bc);
            return NULL;
        }
        if (pipe2(ctl, O_CLOEXEC) < 0) {
            g_set_error(error, QXL_EMU_ERROR, 24, "pipe: %s", g_strerror(errno));
            bench_clients_free(bc);
            return NULL;
        }
        if (pipe2(out, O_CLOEXEC) < 0) {
            close(ctl[0]);
            close(ctl[1]);
            g_set_error(error, QXL_EMU_ERROR, 24, "pipe: %s", g_strerror(errno));
            bench_clients_free(bc);
            return NULL;
        }
        pid_t pid = fork();
        if (pid == 0) {
            /* Only async-signal-safe calls until exec: the bench has threads. */
            if (dup2(ctl[0], 0) < 0 || dup2(2, 1) < 0 || dup2(out[1], 3) < 0 ||
                dup2(c->shm_fd, 4) < 0) {
                _exit(127);
            }
            /* The server's sockets and the other clients' pipes stay here. */
            syscall(SYS_close_range, 5u, ~0u, 0u);
            execv(argv[0], (char **)argv);
            _exit(127);
        }
        close(ctl[0]);
        close(out[1]);
        c->ctl_fd = ctl[1];
        c->out_fd = out[0];
        if (pid < 0) {
            g_set_error(error, QXL_EMU_ERROR, 24, "fork: %s", g_strerror(errno));
            bench_clients_free(bc);
            return NULL;
        }
        c->pid = pid;
        fcntl(c->out_fd, F_SETFL, fcntl(c->out_fd, F_GETFL) | O_NONBLOCK);
    }
    return bc;
}

static void parse_reply(BenchClient *c, const char *line)
{
    if (!strcmp(line, "ready")) {
        c->ready = true;
    } else if (!strcmp(line, "started")) {
        c->started = true;
    } else if (g_str_has_prefix(line, "stats ")) {
        ClientStats st = { 0 };
        uint64_t v[4 + 2 * DMSG_COUNT + 2 * IMGK_COUNT + 1];
        const char *p = line + 6;
        size_t n = 0;
        while (n < G_N_ELEMENTS(v)) {
            char *end;
            v[n] = g_ascii_strtoull(p, &end, 10);
            if (end == p) {
                break;
            }
            p = end;
            n++;
        }
        if (n == G_N_ELEMENTS(v)) {
            st.video_window = v[0];
            st.video_all = v[1];
            st.jpeg_frames = v[2];
            st.jpeg_quality_sum = v[3];
            for (int k = 0; k < DMSG_COUNT; k++) {
                st.msgs[k] = v[4 + 2 * k];
                st.msg_bytes[k] = v[5 + 2 * k];
            }
            for (int k = 0; k < IMGK_COUNT; k++) {
                st.imgs[k] = v[4 + 2 * DMSG_COUNT + 2 * k];
                st.img_bytes[k] = v[5 + 2 * DMSG_COUNT + 2 * k];
            }
            st.jpeg_quality_mode = v[4 + 2 * DMSG_COUNT + 2 * IMGK_COUNT];
            c->stats = st;
        }
    } else if (g_str_has_prefix(line, "dump none ")) {
        ClientDump d = { 0 };
        int disc = 0;
        if (sscanf(line + 10, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                   " %d", &d.updates, &d.bytes, &d.display_bytes, &disc) == 4) {
            d.disconnected = disc;
            c->dump = d;
            c->dumps++;
        }
    } else if (g_str_has_prefix(line, "dump ")) {
        ClientDump d = { .has_picture = true };
        int disc = 0;
        if (sscanf(line + 5, "%d %d %d %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                   " %" G_GUINT64_FORMAT " %d", &d.width, &d.height, &d.format, &d.updates,
                   &d.bytes, &d.display_bytes, &disc) == 7) {
            d.disconnected = disc;
            c->dump = d;
            c->dumps++;
        }
    }
}

/* Reads whatever the clients wrote and handles complete lines. */
static void pump(BenchClients *bc)
{
    for (unsigned i = 0; i < bc->n; i++) {
        BenchClient *c = &bc->c[i];
        char buf[1024];
        while (!c->eof && c->out_fd >= 0) {
            ssize_t n = read(c->out_fd, buf, sizeof(buf));
            if (n > 0) {
                g_string_append_len(c->buf, buf, n);
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                c->eof = true;
            }
            break;
        }
        char *nl;
        while ((nl = strchr(c->buf->str, '\n'))) {
            *nl = '\0';
            parse_reply(c, c->buf->str);
            g_string_erase(c->buf, 0, nl - c->buf->str + 1);
        }
        if (c->buf->len > LINE_MAX_BYTES) {
            g_string_truncate(c->buf, 0);
        }
    }
}

static void send_cmd(BenchClient *c, const char *cmd)
{
    size_t len = strlen(cmd);

    /* Commands are tiny: the pipe buffer takes them whole or the client is
     * gone (EPIPE), which the replies' EOF reports. */
    if (c->ctl_fd >= 0 && write(c->ctl_fd, cmd, len) != (ssize_t)len) {
        close_fd(&c->ctl_fd);
    }
}

typedef bool (*ClientPred)(const BenchClient *c, const void *arg);

/* Iterates the guest's loop until pred holds for every client still
 * running, or a client ended, or the deadline (us, monotonic). */
static bool wait_all(BenchClients *bc, QxlGuest *g, ClientPred pred, const void *arg,
                     int64_t deadline)
{
    for (;;) {
        pump(bc);
        bool all = true;
        for (unsigned i = 0; i < bc->n; i++) {
            if (bc->c[i].eof) {
                return false;
            }
            all = all && pred(&bc->c[i], arg);
        }
        if (all) {
            return true;
        }
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        if (!qxl_guest_idle(g, 2000)) {
            g_usleep(2000);
        }
    }
}

static bool is_ready(const BenchClient *c, const void *arg)
{
    return c->ready;
}

static bool is_started(const BenchClient *c, const void *arg)
{
    return c->started;
}

static void describe_missing(BenchClients *bc, const char *what, GError **error)
{
    GString *s = g_string_new(NULL);

    for (unsigned i = 0; i < bc->n; i++) {
        g_string_append_printf(s, "%s%u%s", s->len ? ", " : "", i,
                               bc->c[i].eof ? " (exited)" : "");
    }
    g_set_error(error, QXL_EMU_ERROR, 25, "clients %s: not all %s in time", s->str, what);
    g_string_free(s, TRUE);
}

bool bench_clients_wait_ready(BenchClients *bc, QxlGuest *g, double timeout_s, GError **error)
{
    int64_t deadline = g_get_monotonic_time() + (int64_t)(timeout_s * G_USEC_PER_SEC);

    if (!wait_all(bc, g, is_ready, NULL, deadline)) {
        describe_missing(bc, "connected and showed a first picture", error);
        return false;
    }
    return true;
}

bool bench_clients_start(BenchClients *bc, QxlGuest *g, double timeout_s, GError **error)
{
    g_autofree char *cmd = g_strdup_printf("start %.0f\n", bc->cfg->client_stall_s * 1000);
    int64_t deadline = g_get_monotonic_time() + (int64_t)(timeout_s * G_USEC_PER_SEC);

    for (unsigned i = 0; i < bc->n; i++) {
        send_cmd(&bc->c[i], cmd);
    }
    if (!wait_all(bc, g, is_started, NULL, deadline)) {
        describe_missing(bc, "took the start command", error);
        return false;
    }
    return true;
}

void bench_clients_resume(BenchClients *bc)
{
    for (unsigned i = 0; bc && i < bc->n; i++) {
        send_cmd(&bc->c[i], "resume\n");
    }
}

/* Pixels of the client's picture differing (low 24 bits) from `ref`;
 * every pixel when the sizes differ or the client has none. */
static uint64_t compare_picture(BenchClient *c, const uint8_t *ref, uint32_t w, uint32_t h)
{
    const ClientDump *d = &c->dump;
    int *box = c->box;

    box[0] = box[1] = 0;
    box[2] = (int)w;
    box[3] = (int)h;
    if (!d->has_picture || d->width != (int)w || d->height != (int)h ||
        d->format != SPICE_SURFACE_FMT_32_xRGB) {
        return (uint64_t)w * h;
    }
    uint64_t diff = 0;
    const uint32_t *a = (const uint32_t *)(const void *)c->shm;
    const uint32_t *b = (const uint32_t *)(const void *)ref;
    box[0] = (int)w;
    box[1] = (int)h;
    box[2] = box[3] = 0;
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            if ((a[i] ^ b[i]) & 0xffffff) {
                diff++;
                box[0] = MIN(box[0], (int)x);
                box[1] = MIN(box[1], (int)y);
                box[2] = MAX(box[2], (int)x + 1);
                box[3] = MAX(box[3], (int)y + 1);
            }
        }
    }
    return diff;
}

bool bench_clients_converge(BenchClients *bc, QxlGuest *g, double timeout_s, BenchResult *res)
{
    double *m = res->m;
    uint32_t w = qxl_guest_width(g), h = qxl_guest_height(g);
    int32_t stride;
    const uint8_t *px = qxl_guest_primary_pixels(g, &stride);
    g_autofree uint8_t *ref = g_malloc((size_t)w * h * 4);
    int64_t t0 = g_get_monotonic_time();
    int64_t deadline = t0 + (int64_t)(timeout_s * G_USEC_PER_SEC);
    bool ok = true;

    for (uint32_t y = 0; y < h; y++) {
        memcpy(ref + (size_t)y * w * 4, px + (ptrdiff_t)y * stride, (size_t)w * 4);
    }
    for (;;) {
        for (unsigned i = 0; i < bc->n; i++) {
            if (!bc->c[i].matched) {
                bc->c[i].want = bc->c[i].dumps + 1;
                send_cmd(&bc->c[i], "dump\n");
            }
        }
        /* Each client answers in its own time: wait for every answer. */
        for (unsigned i = 0; i < bc->n; i++) {
            BenchClient *c = &bc->c[i];
            unsigned target = c->want;
            if (c->matched) {
                continue;
            }
            while (!c->eof && c->dumps < target && g_get_monotonic_time() <= deadline) {
                pump(bc);
                if (c->dumps < target && !qxl_guest_idle(g, 2000)) {
                    g_usleep(2000);
                }
            }
            if (c->dumps >= target) {
                c->mismatch = compare_picture(c, ref, w, h);
                c->matched = c->mismatch == 0;
            }
        }
        bool all = true, gone = false;
        for (unsigned i = 0; i < bc->n; i++) {
            all = all && bc->c[i].matched;
            gone = gone || bc->c[i].eof || bc->c[i].dump.disconnected;
        }
        if (all || gone || g_get_monotonic_time() > deadline) {
            break;
        }
        /* Let the server send what is left before asking again. */
        if (!qxl_guest_idle(g, 50000)) {
            g_usleep(50000);
        }
    }
    double converge_s = (g_get_monotonic_time() - t0) / 1e6;

    double upd = 0, bytes = 0, dbytes = 0, mismatch = 0, disc = 0;
    for (unsigned i = 0; i < bc->n; i++) {
        BenchClient *c = &bc->c[i];
        upd += (double)c->dump.updates;
        bytes += (double)c->dump.bytes;
        dbytes += (double)c->dump.display_bytes;
        mismatch = MAX(mismatch, (double)(c->dumps ? c->mismatch : (uint64_t)w * h));
        disc += c->dump.disconnected || c->eof;
        if (c->eof) {
            bench_result_fail(res, "client %u exited before the final picture check", i);
            ok = false;
        } else if (c->dump.disconnected) {
            bench_result_fail(res, "client %u was disconnected by the server", i);
            ok = false;
        } else if (!c->matched) {
            bench_result_fail(res, "client %u: final picture differs from the server's in "
                              "%" G_GUINT64_FORMAT " of %ux%u pixels (box %d,%d-%d,%d; "
                              "client has %dx%d) after %.1f s", i,
                              c->dumps ? c->mismatch : (uint64_t)w * h, w, h, c->box[0],
                              c->box[1], c->box[2], c->box[3], c->dump.width, c->dump.height,
                              converge_s);
            ok = false;
        }
    }
    m[M_CLIENTS] = bc->n;
    m[M_CLIENT_UPDATES] = upd / bc->n;
    double span = m[M_WALL_S] + converge_s;
    m[M_CLIENT_UPDATES_PER_S] = span > 0 ? m[M_CLIENT_UPDATES] / span : 0;
    m[M_CLIENT_BYTES] = bytes / bc->n;
    m[M_CLIENT_DISPLAY_BYTES] = dbytes / bc->n;
    m[M_CLIENT_BYTES_PER_DRAWABLE] =
        m[M_DRAWABLES] > 0 ? m[M_CLIENT_DISPLAY_BYTES] / m[M_DRAWABLES] : 0;
    m[M_CLIENT_MISMATCH_PX] = mismatch;
    double vwin = 0, jf = 0, jq = 0, qmode = 0, qmode_n = 0;
    for (unsigned i = 0; i < bc->n; i++) {
        const ClientStats *st = &bc->c[i].stats;
        vwin += (double)st->video_window;
        if (st->jpeg_quality_mode) {
            qmode += (double)st->jpeg_quality_mode;
            qmode_n++;
        }
        jf += (double)st->jpeg_frames;
        jq += (double)st->jpeg_quality_sum;
        for (int k = 0; k < DMSG_COUNT; k++) {
            m[M_DMSG_FILL_N + 2 * k] += (double)st->msgs[k] / bc->n;
            m[M_DMSG_FILL_B + 2 * k] += (double)st->msg_bytes[k] / bc->n;
        }
        for (int k = 0; k < IMGK_COUNT; k++) {
            m[M_IMG_BITMAP_N + 2 * k] += (double)st->imgs[k] / bc->n;
            m[M_IMG_BITMAP_B + 2 * k] += (double)st->img_bytes[k] / bc->n;
        }
    }
    m[M_CLIENT_VIDEO_UPDATES] = vwin / bc->n;
    m[M_CLIENT_VIDEO_FPS] = m[M_WALL_S] > 0 ? m[M_CLIENT_VIDEO_UPDATES] / m[M_WALL_S] : 0;
    m[M_CLIENT_BYTES_PER_FRAME] =
        m[M_VIDEO_FRAMES] > 0 ? m[M_CLIENT_DISPLAY_BYTES] / m[M_VIDEO_FRAMES] : 0;
    m[M_STREAM_BYTES_PER_FRAME] = m[M_DMSG_STREAM_DATA_N] > 0
                                      ? m[M_DMSG_STREAM_DATA_B] / m[M_DMSG_STREAM_DATA_N] : 0;
    m[M_STREAM_JPEG_QUALITY] = jf > 0 ? jq / jf : 0;
    m[M_STREAM_JPEG_QUALITY_MODE] = qmode_n > 0 ? qmode / qmode_n : 0;
    m[M_CLIENT_CONVERGE_S] = converge_s;
    m[M_CLIENT_DISCONNECTS] = disc;
    return ok;
}

void bench_clients_free(BenchClients *bc)
{
    if (!bc) {
        return;
    }
    for (unsigned i = 0; i < bc->n; i++) {
        send_cmd(&bc->c[i], "quit\n");
        close_fd(&bc->c[i].ctl_fd);
    }
    /* Bounded: a client stuck anywhere is killed after 5 s. */
    int64_t deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    for (unsigned i = 0; i < bc->n; i++) {
        BenchClient *c = &bc->c[i];
        while (c->pid > 0) {
            int status;
            pid_t r = waitpid(c->pid, &status, WNOHANG);
            if (r == c->pid || (r < 0 && errno != EINTR)) {
                c->pid = -1;
            } else if (g_get_monotonic_time() > deadline) {
                kill(c->pid, SIGKILL);
                while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
                }
                c->pid = -1;
            } else {
                g_usleep(2000);
            }
        }
        close_fd(&c->out_fd);
        close_fd(&c->shm_fd);
        if (c->shm) {
            munmap(c->shm, SHM_BYTES);
        }
        if (c->buf) {
            g_string_free(c->buf, TRUE);
        }
    }
    g_free(bc->c);
    g_free(bc);
}
