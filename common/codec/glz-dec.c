/* GLZ test decoder, from spice-gtk decode-glz.c and decode-glz-tmpl.c:
 * header, RGB pass into 32-bit pixels (literal B,G,R with pad 0; a match
 * copies whole 4-byte pixels, from this image at ofs + 1 back or from pixel
 * ofs of the image image_dist ids back), then for RGBA the alpha pass into
 * the pad bytes. The window keeps decoded images by id and releases those
 * older than id - win_head_dist of the newest image. Stricter than the
 * client: every byte read and every copy (source included) is
 * bounds-checked, and images must arrive in id order. */
#include <string.h>
#include <glib.h>

#include "common/codec/be-reader.h"
#include "common/codec/glz-codec.h"
#include "common/codec/lz-codec.h"

typedef struct {
    uint64_t id;
    uint32_t n;
    uint32_t *px;              /* owned: B | G << 8 | R << 16 | pad << 24 */
} WinImg;

struct GlzDecoderWindow {
    GQueue imgs;               /* WinImg *, oldest first */
};

GlzDecoderWindow *glz_window_new(void)
{
    GlzDecoderWindow *w = g_new0(GlzDecoderWindow, 1);
    g_queue_init(&w->imgs);
    return w;
}

static void win_img_free(gpointer p)
{
    WinImg *im = p;
    g_free(im->px);
    g_free(im);
}

void glz_window_free(GlzDecoderWindow *w)
{
    if (!w) {
        return;
    }
    g_queue_clear_full(&w->imgs, win_img_free);
    g_free(w);
}

unsigned glz_window_count(const GlzDecoderWindow *w)
{
    return g_queue_get_length((GQueue *)&w->imgs);
}

static WinImg *win_find(GlzDecoderWindow *w, uint64_t id)
{
    for (GList *l = w->imgs.tail; l; l = l->prev) {
        WinImg *im = l->data;
        if (im->id == id) {
            return im;
        }
        if (im->id < id) {
            break;
        }
    }
    return NULL;
}

typedef enum { P_RGB, P_RGB16, P_ALPHA } Pass;

static bool pass(GlzDecoderWindow *w, BeReader *r, uint32_t *out, uint32_t n, uint64_t id,
                 Pass kind, const char **err)
{
    uint32_t op = 0;
    uint32_t ctrl = rd8(r);
    for (;;) {
        if (r->bad) {
            *err = "glz: truncated";
            return false;
        }
        if (ctrl >= 32) {
            uint64_t len = ctrl >> 5;
            uint32_t pixel_flag = (ctrl >> 4) & 1;
            uint32_t ofs = ctrl & 0xf;
            uint32_t code;
            uint64_t image_dist;
            if (len == 7) {
                do {
                    code = rd8(r);
                    len += code;
                } while (code == 255 && !r->bad && len <= n);
            }
            ofs += rd8(r) << 4;
            code = rd8(r);
            uint32_t nb = code >> 6;
            if (!pixel_flag) {
                image_dist = code & 0x3f;
                for (uint32_t i = 0; i < nb; i++) {
                    image_dist += (uint64_t)rd8(r) << (6 + 8 * i);
                }
            } else {
                bool very_long = (code >> 5) & 1;
                ofs += (code & 0x1f) << 12;
                image_dist = 0;
                for (uint32_t i = 0; i < nb; i++) {
                    image_dist += (uint64_t)rd8(r) << (8 * i);
                }
                if (very_long) {
                    ofs += rd8(r) << 17;
                }
            }
            len += kind == P_ALPHA ? 2 : kind == P_RGB16 ? 1 : 0;
            if (r->bad) {
                *err = "glz: truncated match";
                return false;
            }
            if (len > n - op) {
                *err = "glz: match past the end";
                return false;
            }
            const uint32_t *src;
            if (image_dist == 0) {
                ofs += 1;
                if (ofs > op) {
                    *err = "glz: match before the image";
                    return false;
                }
                src = out + op - ofs;
            } else {
                WinImg *ref = image_dist <= id ? win_find(w, id - image_dist) : NULL;
                if (!ref) {
                    *err = "glz: referenced image not in the window";
                    return false;
                }
                if (ofs > ref->n || len > ref->n - ofs) {
                    *err = "glz: match past the referenced image";
                    return false;
                }
                src = ref->px + ofs;
            }
            /* forward copy: overlapping matches repeat pixels, as the client's loop */
            for (uint32_t k = 0; k < len; k++, op++) {
                if (kind == P_ALPHA) {
                    out[op] = (out[op] & 0xffffff) | (src[k] & 0xff000000);
                } else {
                    out[op] = src[k];
                }
            }
        } else {
            uint32_t cnt = ctrl + 1;
            if (cnt > n - op) {
                *err = "glz: literals past the end";
                return false;
            }
            for (uint32_t k = 0; k < cnt; k++, op++) {
                if (kind == P_RGB) {
                    uint32_t b = rd8(r), g = rd8(r), red = rd8(r);
                    out[op] = b | g << 8 | red << 16;
                } else if (kind == P_RGB16) {
                    uint32_t hi = rd8(r), lo = rd8(r);
                    out[op] = codec_rgb16_to_32((uint16_t)(hi << 8 | lo));
                } else {
                    out[op] = (out[op] & 0xffffff) | rd8(r) << 24;
                }
            }
            if (r->bad) {
                *err = "glz: truncated literals";
                return false;
            }
        }
        if (op >= n) {
            return true;
        }
        ctrl = rd8(r);
    }
}

bool glz_decode(GlzDecoderWindow *w, const uint8_t *data, size_t len, CodecPicture *pic,
                const char **err)
{
    BeReader r = { data, data + len, false };
    memset(pic, 0, sizeof(*pic));
    if (rd32(&r) != LZ_MAGIC || rd32(&r) != LZ_VERSION) {
        *err = "glz: bad magic or version";
        return false;
    }
    uint32_t tb = rd8(&r);
    uint32_t type = tb & 0xf;
    bool top_down = (tb >> 4) != 0;
    uint32_t width = rd32(&r), height = rd32(&r);
    rd32(&r);                  /* stride: only used for palette types */
    uint64_t id = (uint64_t)rd32(&r) << 32;
    id |= rd32(&r);
    uint32_t head_dist = rd32(&r);
    if (r.bad) {
        *err = "glz: truncated header";
        return false;
    }
    if (type != LZ_TYPE_RGB16 && type != LZ_TYPE_RGB24 && type != LZ_TYPE_RGB32 &&
        type != LZ_TYPE_RGBA) {
        *err = "glz: image type not supported";
        return false;
    }
    if (width == 0 || height == 0 || (uint64_t)width * height > CODEC_MAX_PIXELS) {
        *err = "glz: bad size";
        return false;
    }
    if (!g_queue_is_empty(&w->imgs) && ((WinImg *)g_queue_peek_tail(&w->imgs))->id >= id) {
        *err = "glz: image id not increasing";
        return false;
    }
    uint32_t n = width * height;
    uint32_t *px = g_new0(uint32_t, n);
    bool ok = pass(w, &r, px, n, id, type == LZ_TYPE_RGB16 ? P_RGB16 : P_RGB, err);
    if (ok && type == LZ_TYPE_RGBA) {
        ok = pass(w, &r, px, n, id, P_ALPHA, err);
    }
    if (ok && r.p != r.end) {
        *err = "glz: trailing bytes";
        ok = false;
    }
    if (!ok) {
        g_free(px);
        return false;
    }
    pic->width = width;
    pic->height = height;
    pic->has_alpha = type == LZ_TYPE_RGBA;
    pic->px = g_new(uint32_t, n);
    for (uint32_t row = 0; row < height; row++) {
        uint32_t y = top_down ? row : height - 1 - row;
        uint32_t *d = pic->px + (size_t)y * width;
        const uint32_t *s = px + (size_t)row * width;
        for (uint32_t x = 0; x < width; x++) {
            d[x] = pic->has_alpha ? s[x] : s[x] & 0xffffff;
        }
    }
    WinImg *im = g_new(WinImg, 1);
    *im = (WinImg){ .id = id, .n = n, .px = px };
    g_queue_push_tail(&w->imgs, im);
    uint64_t oldest = id >= head_dist ? id - head_dist : 0;
    while (((WinImg *)g_queue_peek_head(&w->imgs))->id < oldest) {
        win_img_free(g_queue_pop_head(&w->imgs));
    }
    return true;
}
