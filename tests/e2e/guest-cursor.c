/* guest-cursor: runs inside the e2e guest (built by tools/ci/make-guest.sh
 * with gcc -static, no libdrm: raw DRM ioctls). Sets a hardware cursor on
 * the CRTC in use and moves it, so the qxl DRM driver sends QXL cursor
 * commands (tests/e2e/test-cursor.py checks what a client receives).
 *
 *   guest-cursor [DEVICE]       (default /dev/dri/card0)
 *
 * The shape: 64x64 ARGB8888 (premultiplied, as DRM cursors are), all
 * transparent but an opaque red square at x,y 8..39 with a half-transparent
 * green stripe (rows 40..47, x 8..39, 0x80008000) and an opaque blue 2x2 at
 * the hot spot's right (x 10..11, y 7..8). Hot spot 5,7. tests/e2e/
 * test-cursor.py rebuilds the same picture (cursor_shape()): keep both in
 * step.
 *
 * Positions (CRTC coordinates of the cursor's top-left before the hot spot,
 * as given to DRM_IOCTL_MODE_CURSOR): first the set at the CRTC's current
 * cursor position, then the moves listed in MOVES, 400 ms apart. Progress
 * lines "E2E: cursor ..." go to stdout (the serial console). Exits 0 when
 * every ioctl worked, 1 otherwise (with the failing step printed). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>

#define CUR_W 64
#define CUR_H 64
#define HOT_X 5
#define HOT_Y 7

static const int MOVES[][2] = { { 100, 200 }, { 300, 150 }, { 640, 480 }, { 20, 30 } };

static int fail(const char *what)
{
    printf("E2E: cursor FAILED %s: %s\n", what, strerror(errno));
    fflush(stdout);
    return 1;
}

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static uint32_t shape_pixel(int x, int y)
{
    if (x >= 10 && x <= 11 && y >= 7 && y <= 8) {
        return 0xff0000ffu;                      /* opaque blue */
    }
    if (x >= 8 && x < 40 && y >= 8 && y < 40) {
        return 0xffff0000u;                      /* opaque red */
    }
    if (x >= 8 && x < 40 && y >= 40 && y < 48) {
        return 0x80008000u;                      /* 50% green, premultiplied */
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *dev = argc > 1 ? argv[1] : "/dev/dri/card0";
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return fail("open");
    }

    /* The CRTC in use: the one scanning out a framebuffer (fbcon's). */
    struct drm_mode_card_res res;
    memset(&res, 0, sizeof(res));
    if (ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) != 0) {
        return fail("GETRESOURCES");
    }
    uint32_t crtcs[16];
    if (res.count_crtcs == 0 || res.count_crtcs > 16) {
        printf("E2E: cursor FAILED %u CRTCs\n", res.count_crtcs);
        return 1;
    }
    uint32_t n_crtcs = res.count_crtcs;
    memset(&res, 0, sizeof(res));
    res.count_crtcs = n_crtcs;
    res.crtc_id_ptr = (uint64_t)(uintptr_t)crtcs;
    if (ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) != 0) {
        return fail("GETRESOURCES ids");
    }
    uint32_t crtc_id = 0;
    for (uint32_t i = 0; i < n_crtcs && i < res.count_crtcs; i++) {
        struct drm_mode_crtc c;
        memset(&c, 0, sizeof(c));
        c.crtc_id = crtcs[i];
        if (ioctl(fd, DRM_IOCTL_MODE_GETCRTC, &c) == 0 && c.mode_valid && c.fb_id != 0) {
            crtc_id = c.crtc_id;
            printf("E2E: cursor crtc %u fb %u %ux%u\n", c.crtc_id, c.fb_id, c.mode.hdisplay,
                   c.mode.vdisplay);
            break;
        }
    }
    if (crtc_id == 0) {
        printf("E2E: cursor FAILED no CRTC in use\n");
        return 1;
    }

    struct drm_mode_create_dumb cd;
    memset(&cd, 0, sizeof(cd));
    cd.width = CUR_W;
    cd.height = CUR_H;
    cd.bpp = 32;
    if (ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd) != 0) {
        return fail("CREATE_DUMB");
    }
    struct drm_mode_map_dumb md;
    memset(&md, 0, sizeof(md));
    md.handle = cd.handle;
    if (ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &md) != 0) {
        return fail("MAP_DUMB");
    }
    uint8_t *map = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)md.offset);
    if (map == MAP_FAILED) {
        return fail("mmap");
    }
    for (int y = 0; y < CUR_H; y++) {
        uint32_t *row = (uint32_t *)(map + (size_t)y * cd.pitch);
        for (int x = 0; x < CUR_W; x++) {
            row[x] = shape_pixel(x, y);
        }
    }
    munmap(map, cd.size);

    struct drm_mode_cursor2 c2;
    memset(&c2, 0, sizeof(c2));
    c2.flags = DRM_MODE_CURSOR_BO;
    c2.crtc_id = crtc_id;
    c2.width = CUR_W;
    c2.height = CUR_H;
    c2.handle = cd.handle;
    c2.hot_x = HOT_X;
    c2.hot_y = HOT_Y;
    if (ioctl(fd, DRM_IOCTL_MODE_CURSOR2, &c2) != 0) {
        return fail("CURSOR2 set");
    }
    printf("E2E: cursor set %dx%d hot %d,%d pitch %u\n", CUR_W, CUR_H, HOT_X, HOT_Y, cd.pitch);
    pause_ms(1000);
    for (size_t i = 0; i < sizeof(MOVES) / sizeof(MOVES[0]); i++) {
        struct drm_mode_cursor mv;
        memset(&mv, 0, sizeof(mv));
        mv.flags = DRM_MODE_CURSOR_MOVE;
        mv.crtc_id = crtc_id;
        mv.x = MOVES[i][0];
        mv.y = MOVES[i][1];
        if (ioctl(fd, DRM_IOCTL_MODE_CURSOR, &mv) != 0) {
            return fail("CURSOR move");
        }
        printf("E2E: cursor move %d %d\n", mv.x, mv.y);
        pause_ms(400);
    }
    printf("E2E: cursor done\n");
    /* Keep the device (and the cursor) until killed: closing it as the
     * last master lets the fbdev helper restore its mode, which hides the
     * cursor again. */
    for (;;) {
        pause(); /* the guest powers off under us */
    }
}
