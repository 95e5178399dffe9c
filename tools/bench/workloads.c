/* Workload generators: what a desktop guest's QXL driver sends.
 *
 * Unpaced workloads (office, scroll, images, surfaces, resize, updates,
 * s3, oom) run back to back, picked at random by weight; paced ones (video
 * at 25-60 frames/s, cursor at 100 events/s) run when due.  Everything is
 * derived from the seed, so a run can be replayed.  Main thread only.
 */
#include <math.h>
#include <string.h>

#include <spice/enums.h>
#include <spice/qxl_dev.h>

#include "tools/bench/bench.h"

#define READBACK_EVERY 200      /* drawables between periodic update_area pairs */
#define CACHED_IMAGES 16
#define CURSOR_HZ 100

struct Bench {
    QxlGuest *g;
    QxlEmu *emu;
    GRand *rng;                 /* owned */
    LatencySet *sync_lat, *async_lat;
    uint64_t next_image_unique;
    uint64_t drawables_at_readback;
    /* video */
    double fps;
    uint32_t video_w, video_h;
    uint32_t frame;
    int64_t video_due;          /* us, monotonic */
    /* cursor */
    uint32_t cursor_events;
    int64_t cursor_due;
    /* resize */
    unsigned mode;
    bool negative_stride;
    int64_t s3_last;            /* us */
};

static const char *const names[WL_COUNT] = {
    [WL_OFFICE] = "office", [WL_SCROLL] = "scroll", [WL_IMAGES] = "images",
    [WL_VIDEO] = "video", [WL_CURSOR] = "cursor", [WL_SURFACES] = "surfaces",
    [WL_RESIZE] = "resize", [WL_UPDATES] = "updates", [WL_S3] = "s3", [WL_OOM] = "oom",
};

/* Relative frequency of unpaced workloads when mixed. */
static const unsigned weights[WL_COUNT] = {
    [WL_OFFICE] = 30, [WL_SCROLL] = 15, [WL_IMAGES] = 20, [WL_SURFACES] = 8,
    [WL_RESIZE] = 1, [WL_UPDATES] = 6, [WL_S3] = 1, [WL_OOM] = 1,
};

static const struct { uint32_t w, h; } modes[] = {
    { 1024, 768 }, { 800, 600 }, { 1280, 720 }, { 640, 480 }, { 1280, 1024 }, { 1920, 1080 },
};

const char *workload_name(WorkloadId id)
{
    return names[id];
}

bool workload_parse(const char *list, unsigned *mask, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(list, ",", -1);

    *mask = 0;
    for (char **p = parts; *p; p++) {
        if (!strcmp(*p, "all")) {
            *mask |= WL_ALL;
            continue;
        }
        int found = -1;
        for (int i = 0; i < WL_COUNT; i++) {
            if (!strcmp(*p, names[i])) {
                found = i;
            }
        }
        if (found < 0) {
            g_set_error(error, QXL_EMU_ERROR, 10, "unknown workload '%s'", *p);
            return false;
        }
        *mask |= 1u << found;
    }
    return *mask != 0;
}

Bench *bench_workloads_new(QxlGuest *guest, QxlEmu *emu, uint64_t seed,
                           LatencySet *sync_lat, LatencySet *async_lat)
{
    Bench *b = g_new0(Bench, 1);

    b->g = guest;
    b->emu = emu;
    b->rng = g_rand_new_with_seed((guint32)(seed ^ (seed >> 32)));
    b->sync_lat = sync_lat;
    b->async_lat = async_lat;
    b->next_image_unique = 1000;
    b->fps = 25 + g_rand_int_range(b->rng, 0, 36);
    b->video_w = 320;
    b->video_h = 240;
    return b;
}

void bench_workloads_set_video(Bench *b, double fps, uint32_t w, uint32_t h)
{
    if (fps > 0) {
        b->fps = fps;
    }
    b->video_w = w;
    b->video_h = h;
}

uint64_t bench_workloads_video_frames(const Bench *b)
{
    return b->frame;
}

void bench_video_rect(uint32_t W, uint32_t H, uint32_t vw, uint32_t vh, QXLRect *out)
{
    vw = MIN(vw, W);
    vh = MIN(vh, H);
    int32_t x = (int32_t)(W - vw) / 2, y = (int32_t)(H - vh) / 2;
    *out = (QXLRect){ .top = y, .left = x, .bottom = y + (int32_t)vh, .right = x + (int32_t)vw };
}

void bench_workloads_free(Bench *b)
{
    if (b) {
        g_rand_free(b->rng);
        g_free(b);
    }
}

static int32_t rnd(Bench *b, int32_t lo, int32_t hi)   /* [lo, hi] */
{
    return hi <= lo ? lo : g_rand_int_range(b->rng, lo, hi + 1);
}

static uint32_t W(Bench *b) { return qxl_guest_width(b->g); }
static uint32_t H(Bench *b) { return qxl_guest_height(b->g); }

/* A random rectangle of size within [minw,maxw]x[minh,maxh] inside the
 * primary. */
static QXLRect rand_rect(Bench *b, int32_t minw, int32_t maxw, int32_t minh, int32_t maxh)
{
    int32_t w = MIN(rnd(b, minw, maxw), (int32_t)W(b));
    int32_t h = MIN(rnd(b, minh, maxh), (int32_t)H(b));
    int32_t x = rnd(b, 0, (int32_t)W(b) - w);
    int32_t y = rnd(b, 0, (int32_t)H(b) - h);

    return (QXLRect){ .top = y, .left = x, .bottom = y + h, .right = x + w };
}

static bool text_line(Bench *b, int32_t x, int32_t y, int32_t width)
{
    QXLRect clips[64];
    uint32_t n = 0;
    int32_t pen = x;

    width = MIN(width, (int32_t)W(b) - x);
    while (n < G_N_ELEMENTS(clips) && pen + 9 <= x + width) {
        int32_t gw = rnd(b, 4, 8), gh = rnd(b, 9, 13);
        clips[n++] = (QXLRect){ .top = y + 14 - gh, .left = pen,
                                .bottom = y + 14, .right = pen + gw };
        pen += gw + rnd(b, 1, 6);
    }
    if (!n) {
        return true;
    }
    QXLRect bbox = { .top = y, .left = x, .bottom = y + 16, .right = pen };
    return qxl_guest_fill_clipped(b->g, 0, &bbox, 0x202020, clips, n, (uint32_t)rnd(b, 1, 3));
}

static bool step_office(Bench *b)
{
    for (int i = 0; i < 8; i++) {
        QXLRect r = rand_rect(b, 8, 200, 8, 60);
        if (!qxl_guest_fill(b->g, 0, &r, g_rand_int(b->rng) & 0xffffff)) {
            return false;
        }
    }
    int32_t width = rnd(b, 100, 600);
    return text_line(b, rnd(b, 0, MAX((int32_t)W(b) - width, 0)), rnd(b, 0, (int32_t)H(b) - 16),
                     width);
}

static bool step_scroll(Bench *b)
{
    int32_t dy = 16, w = (int32_t)W(b), h = (int32_t)H(b);
    QXLRect dst = { .top = 0, .left = 0, .bottom = h - dy, .right = w };
    QXLRect strip = { .top = h - dy, .left = 0, .bottom = h, .right = w };

    return qxl_guest_copy_bits(b->g, 0, &dst, 0, dy) &&
           qxl_guest_fill(b->g, 0, &strip, 0xf0f0f0) &&
           text_line(b, 4, h - dy, w - 8);
}

static const uint8_t formats[] = {
    SPICE_BITMAP_FMT_32BIT, SPICE_BITMAP_FMT_RGBA, SPICE_BITMAP_FMT_24BIT,
    SPICE_BITMAP_FMT_16BIT, SPICE_BITMAP_FMT_8BIT, SPICE_BITMAP_FMT_4BIT_BE,
    SPICE_BITMAP_FMT_1BIT_BE,
};

static bool step_images(Bench *b)
{
    QxlBitmapSpec spec = { 0 };

    if (g_rand_int_range(b->rng, 0, 10) < 3) {
        /* One of a few icons the guest marks cacheable: everything about
         * it follows from its index, so equal ids carry equal pixels. */
        uint32_t k = (uint32_t)g_rand_int_range(b->rng, 0, CACHED_IMAGES);
        spec.format = formats[k % G_N_ELEMENTS(formats)];
        spec.width = 16 + 8 * k;
        spec.height = 16 + 4 * k;
        spec.top_down = k & 1;
        spec.chunks = 1 + k % 2;
        spec.image_id = ((uint64_t)(k + 1) << 32) | QXL_IMAGE_GROUP_DRIVER;
        spec.cache = true;
        spec.seed = k;
    } else {
        spec.format = formats[g_rand_int_range(b->rng, 0, G_N_ELEMENTS(formats))];
        spec.width = (uint32_t)rnd(b, 16, 256);
        spec.height = (uint32_t)rnd(b, 16, 256);
        spec.top_down = g_rand_boolean(b->rng);
        spec.direct = g_rand_int_range(b->rng, 0, 8) == 0;
        spec.chunks = (uint32_t)rnd(b, 1, 3);
        spec.image_id = (b->next_image_unique++ << 32) | QXL_IMAGE_GROUP_DRIVER;
        spec.seed = g_rand_int(b->rng);
    }
    spec.width = MIN(spec.width, W(b));
    spec.height = MIN(spec.height, H(b));
    QXLRect dst = rand_rect(b, (int32_t)spec.width, (int32_t)spec.width,
                            (int32_t)spec.height, (int32_t)spec.height);
    return qxl_guest_copy_bitmap(b->g, 0, &dst, &spec);
}

static bool step_video(Bench *b)
{
    QXLRect dst;
    bench_video_rect(W(b), H(b), b->video_w, b->video_h, &dst);
    QxlBitmapSpec spec = {
        .format = SPICE_BITMAP_FMT_32BIT, .width = (uint32_t)(dst.right - dst.left),
        .height = (uint32_t)(dst.bottom - dst.top), .top_down = true,
        .chunks = 1, .image_id = (b->next_image_unique++ << 32) | QXL_IMAGE_GROUP_DRIVER,
        .seed = b->frame++,
    };

    return qxl_guest_copy_bitmap(b->g, 0, &dst, &spec);
}

static bool step_cursor(Bench *b)
{
    uint32_t n = b->cursor_events++;
    double t = n / (double)CURSOR_HZ;
    int16_t x = (int16_t)(W(b) / 2 + (W(b) / 3) * sin(t * 1.3));
    int16_t y = (int16_t)(H(b) / 2 + (H(b) / 3) * sin(t * 1.7));

    if (n % 500 == 499) {
        return qxl_guest_cursor_hide(b->g);
    }
    if (n % 60 == 0) {
        bool alpha = (n / 60) % 2 == 0;
        return qxl_guest_cursor_set(b->g, x, y,
                                    alpha ? SPICE_CURSOR_TYPE_ALPHA : SPICE_CURSOR_TYPE_MONO,
                                    32, 32, n / 60 + 1);
    }
    return qxl_guest_cursor_move(b->g, x, y);
}

static bool step_surfaces(Bench *b)
{
    int32_t w = MIN(rnd(b, 32, 256), (int32_t)W(b)), h = MIN(rnd(b, 32, 256), (int32_t)H(b));
    uint32_t id = qxl_guest_surface_new(b->g, (uint32_t)w, (uint32_t)h);

    if (!id) {
        /* All ids still held by the server: let releases come back. */
        return !qxl_guest_error(b->g) && qxl_guest_collect(b->g, NULL);
    }
    for (int i = 0; i < 4; i++) {
        int32_t rw = rnd(b, 1, w), rh = rnd(b, 1, h);
        int32_t rx = rnd(b, 0, w - rw), ry = rnd(b, 0, h - rh);
        QXLRect r = { .top = ry, .left = rx, .bottom = ry + rh, .right = rx + rw };
        if (!qxl_guest_fill(b->g, id, &r, g_rand_int(b->rng) & 0xffffff)) {
            return false;
        }
    }
    QXLRect src = { .top = 0, .left = 0, .bottom = h, .right = w };
    QXLRect dst = rand_rect(b, w, w, h, h);
    return qxl_guest_copy_surface(b->g, 0, &dst, id, &src) &&
           qxl_guest_surface_destroy(b->g, id);
}

/* A mode set as the Linux driver does it: destroy the primary, create the
 * new one, tell the server the monitor layout, repaint. */
static bool step_resize(Bench *b)
{
    bool async = g_rand_boolean(b->rng);
    int64_t lat;

    b->mode = (b->mode + 1 + (unsigned)g_rand_int_range(b->rng, 0, G_N_ELEMENTS(modes) - 1)) %
              G_N_ELEMENTS(modes);
    b->negative_stride = !b->negative_stride;
    if (!qxl_guest_destroy_primary(b->g, async) || !qxl_guest_async_wait(b->g, NULL) ||
        !qxl_guest_create_primary(b->g, modes[b->mode].w, modes[b->mode].h,
                                  b->negative_stride, async) ||
        !qxl_guest_async_wait(b->g, NULL) || !qxl_guest_monitors_config(b->g) ||
        !qxl_guest_async_wait(b->g, &lat)) {
        return false;
    }
    QXLRect all = { .top = 0, .left = 0, .bottom = (int32_t)H(b), .right = (int32_t)W(b) };
    return qxl_guest_fill(b->g, 0, &all, 0x3060a0);
}

static bool update_async(Bench *b, const QXLRect *r)
{
    int64_t lat;

    if (!qxl_guest_update_area_async(b->g, 0, r) || !qxl_guest_async_wait(b->g, &lat)) {
        return false;
    }
    latency_add(b->async_lat, lat);
    return true;
}

static bool update_sync(Bench *b, const QXLRect *r)
{
    int64_t lat;

    if (!qxl_guest_update_area(b->g, 0, r, &lat)) {
        return false;
    }
    latency_add(b->sync_lat, lat);
    return true;
}

/* Readback-heavy guests (X11 software paths, screen grabs): draw, read. */
static bool step_updates(Bench *b)
{
    for (int i = 0; i < 10; i++) {
        QXLRect r = rand_rect(b, 8, 300, 8, 200);
        if (!qxl_guest_fill(b->g, 0, &r, g_rand_int(b->rng) & 0xffffff) || !update_sync(b, &r)) {
            return false;
        }
    }
    QXLRect r = rand_rect(b, 64, 1024, 64, 768);
    if (!update_async(b, &r)) {
        return false;
    }
    if (g_rand_int_range(b->rng, 0, 5) == 0) {
        return qxl_guest_update_cmd(b->g, 0, &r, b->frame);
    }
    return true;
}

/* The S3/S4 sequence of the Windows driver: render everything, drop every
 * surface, flush the release list; then the driver comes back with a new
 * primary.  Afterwards the server must hold no drawing command. */
static bool step_s3(Bench *b)
{
    int64_t now = g_get_monotonic_time();

    if (now - b->s3_last < G_USEC_PER_SEC / 4) {
        /* At most 4 suspend cycles per second; idle briefly rather than
         * spin when s3 runs alone. */
        return qxl_guest_idle(b->g, 1000);
    }
    b->s3_last = now;
    if (!qxl_guest_async_io(b->g, QXL_IO_FLUSH_SURFACES_ASYNC, 0) ||
        !qxl_guest_async_wait(b->g, NULL) ||
        !qxl_guest_async_io(b->g, QXL_IO_DESTROY_ALL_SURFACES_ASYNC, 0) ||
        !qxl_guest_async_wait(b->g, NULL)) {
        return false;
    }
    if (!qxl_guest_flush_release(b->g)) {
        return false;
    }
    return qxl_guest_create_primary(b->g, W(b), H(b), b->negative_stride, true) &&
           qxl_guest_async_wait(b->g, NULL) && qxl_guest_monitors_config(b->g) &&
           qxl_guest_async_wait(b->g, NULL);
}

/* Memory pressure: large images with the guest's command memory limited
 * to a few of them.  Releases the device keeps in its unpushed batch (under
 * QXL_FREE_BUNCH_SIZE) and drawables the server still holds are only
 * returned through NOTIFY_OOM -> flush_resources, so the allocator goes
 * through the OOM path like a driver on a small BAR. */
static bool step_oom(Bench *b)
{
    bool ok = true;

    qxl_guest_set_mem_limit(b->g, 6u << 20);
    for (int i = 0; i < 8 && ok; i++) {
        QxlBitmapSpec spec = {
            .format = SPICE_BITMAP_FMT_32BIT,
            .width = MIN(512u, W(b) / 2), .height = MIN(512u, H(b) / 2),
            .chunks = 2, .image_id = (b->next_image_unique++ << 32) | QXL_IMAGE_GROUP_DRIVER,
            .seed = g_rand_int(b->rng),
        };
        QXLRect dst = rand_rect(b, (int32_t)spec.width, (int32_t)spec.width,
                                (int32_t)spec.height, (int32_t)spec.height);
        ok = qxl_guest_copy_bitmap(b->g, 0, &dst, &spec);
    }
    qxl_guest_set_mem_limit(b->g, 0);
    if (!ok) {
        return false;
    }
    /* A guest low on memory asks even when its allocator still succeeds. */
    qxl_guest_io(b->g, QXL_IO_NOTIFY_OOM, 0);
    return qxl_guest_collect(b->g, NULL);
}

static bool (*const steps[WL_COUNT])(Bench *b) = {
    [WL_OFFICE] = step_office, [WL_SCROLL] = step_scroll, [WL_IMAGES] = step_images,
    [WL_VIDEO] = step_video, [WL_CURSOR] = step_cursor, [WL_SURFACES] = step_surfaces,
    [WL_RESIZE] = step_resize, [WL_UPDATES] = step_updates, [WL_S3] = step_s3,
    [WL_OOM] = step_oom,
};

static WorkloadId pick_unpaced(Bench *b, unsigned mask)
{
    unsigned total = 0;

    for (int i = 0; i < WL_COUNT; i++) {
        if (mask & (1u << i)) {
            total += weights[i];
        }
    }
    unsigned r = (unsigned)g_rand_int_range(b->rng, 0, (gint32)total);
    for (int i = 0; i < WL_COUNT; i++) {
        if (mask & (1u << i)) {
            if (r < weights[i]) {
                return (WorkloadId)i;
            }
            r -= weights[i];
        }
    }
    g_assert_not_reached();
}

bool bench_workloads_run(Bench *b, unsigned mask, double seconds,
                         void (*tick)(void *opaque, double done), void *opaque)
{
    const unsigned paced = (1u << WL_VIDEO) | (1u << WL_CURSOR);
    unsigned unpaced = mask & ~paced;
    int64_t start = g_get_monotonic_time();
    int64_t end = start + (int64_t)(seconds * G_USEC_PER_SEC);
    int64_t next_tick = start;
    QxlGuestStats gs;

    b->video_due = b->cursor_due = start;
    for (;;) {
        int64_t now = g_get_monotonic_time();
        if (now >= end) {
            break;
        }
        if (now >= next_tick) {
            if (tick) {
                tick(opaque, (double)(now - start) / (double)(end - start));
            }
            next_tick = now + G_USEC_PER_SEC / 10;
        }
        bool ok;
        if ((mask & (1u << WL_VIDEO)) && now >= b->video_due) {
            b->video_due += (int64_t)(G_USEC_PER_SEC / b->fps);
            ok = step_video(b);
        } else if ((mask & (1u << WL_CURSOR)) && now >= b->cursor_due) {
            b->cursor_due += G_USEC_PER_SEC / CURSOR_HZ;
            ok = step_cursor(b);
        } else if (unpaced) {
            ok = steps[pick_unpaced(b, unpaced)](b);
        } else {
            int64_t due = end;
            if (mask & (1u << WL_VIDEO)) {
                due = MIN(due, b->video_due);
            }
            if (mask & (1u << WL_CURSOR)) {
                due = MIN(due, b->cursor_due);
            }
            ok = qxl_guest_idle(b->g, MIN(due, next_tick) - now);
        }
        if (!ok || !qxl_guest_collect(b->g, NULL)) {
            return false;
        }
        /* Every workload gets periodic readbacks so each reports
         * update_area latency. */
        qxl_guest_get_stats(b->g, &gs);
        if (gs.draws - b->drawables_at_readback >= READBACK_EVERY) {
            b->drawables_at_readback = gs.draws;
            QXLRect r = rand_rect(b, 16, 512, 16, 512);
            if (!update_sync(b, &r) || !update_async(b, &r)) {
                return false;
            }
        }
    }
    return !qxl_guest_error(b->g);
}
