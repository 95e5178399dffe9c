/* JPEG encoder and test decoder over libjpeg(-turbo). Errors from libjpeg
 * come back through a longjmp out of its error_exit hook, confined to the
 * functions here. The encoder feeds rows top first: 32-bit and 24-bit rows
 * straight from the image (libjpeg-turbo's extended input colour spaces
 * read B,G,R(,X) memory order itself, 16 rows per call), 16-bit rows
 * converted to packed RGB in one scratch row. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <jpeglib.h>

#include "common/codec/jpeg-codec.h"

/* Input rows handed to libjpeg per jpeg_write_scanlines call. */
#define JPEG_ROWS_PER_CALL 16u

typedef struct {
    struct jpeg_error_mgr mgr;
    jmp_buf jmp;
} JpegErr;

static void jpeg_err_exit(j_common_ptr cinfo)
{
    JpegErr *e = (JpegErr *)cinfo->err;
    longjmp(e->jmp, 1);
}

static void jpeg_err_quiet(j_common_ptr cinfo, int level)
{
}

bool jpeg_can_encode(const CodecImage *img)
{
    return codec_image_valid(img) && img->fmt != SPICE_BITMAP_FMT_8BIT &&
           img->width <= JPEG_MAX_DIMENSION && img->height <= JPEG_MAX_DIMENSION;
}

static void row_to_rgb(const CodecImage *img, const uint8_t *s, uint8_t *d)
{
    for (uint32_t x = 0; x < img->width; x++) {
        uint32_t v;
        switch (img->fmt) {
        case SPICE_BITMAP_FMT_16BIT:
            v = codec_rgb16_to_32((uint16_t)(s[2 * x] | s[2 * x + 1] << 8));
            break;
        case SPICE_BITMAP_FMT_24BIT:
            v = (uint32_t)s[3 * x] | s[3 * x + 1] << 8 | (uint32_t)s[3 * x + 2] << 16;
            break;
        default:
            v = codec_get_u32le(s + 4 * x);
            break;
        }
        d[3 * x] = (uint8_t)(v >> 16);
        d[3 * x + 1] = (uint8_t)(v >> 8);
        d[3 * x + 2] = (uint8_t)v;
    }
}

/* The libjpeg colour space that reads img's rows as they are in memory
 * (little-endian x8r8g8b8 is B,G,R,X; 24-bit is B,G,R), with its bytes per
 * pixel; JCS_RGB with 3 when rows need row_to_rgb. */
static J_COLOR_SPACE direct_space(const CodecImage *img, int *components)
{
#ifdef JCS_EXTENSIONS
    switch (img->fmt) {
    case SPICE_BITMAP_FMT_32BIT:
    case SPICE_BITMAP_FMT_RGBA:     /* the alpha byte is ignored like X */
        *components = 4;
        return JCS_EXT_BGRX;
    case SPICE_BITMAP_FMT_24BIT:
        *components = 3;
        return JCS_EXT_BGR;
    default:
        break;
    }
#endif
    *components = 3;
    return JCS_RGB;
}

bool jpeg_encode(const CodecImage *img, int quality, CodecBuf *out)
{
    if (!jpeg_can_encode(img)) {
        return false;
    }
    struct jpeg_compress_struct cinfo;
    JpegErr err;
    unsigned char *mem = NULL;
    unsigned long mem_len = 0;
    int components;
    J_COLOR_SPACE space = direct_space(img, &components);
    bool convert = space == JCS_RGB;
    uint8_t *volatile row = convert ? g_malloc((size_t)img->width * 3) : NULL;

    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_err_exit;
    err.mgr.emit_message = jpeg_err_quiet;
    if (setjmp(err.jmp)) {
        /* only reachable on allocation failure inside libjpeg */
        jpeg_destroy_compress(&cinfo);
        free(mem);
        g_free(row);
        return false;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &mem, &mem_len);
    cinfo.image_width = img->width;
    cinfo.image_height = img->height;
    cinfo.input_components = components;
    cinfo.in_color_space = space;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    cinfo.dct_method = JDCT_IFAST;
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        uint32_t y = cinfo.next_scanline;
        if (convert) {
            JSAMPROW rp = row;
            row_to_rgb(img, codec_image_top_row(img, y), row);
            jpeg_write_scanlines(&cinfo, &rp, 1);
            continue;
        }
        /* rows straight from the image, one MCU row (16 with 4:2:0) per
         * call; libjpeg only reads input rows, its API just lacks const */
        JSAMPROW rps[JPEG_ROWS_PER_CALL];
        uint32_t n = MIN(JPEG_ROWS_PER_CALL, cinfo.image_height - y);
        for (uint32_t i = 0; i < n; i++) {
            rps[i] = (JSAMPROW)(uintptr_t)codec_image_top_row(img, y + i);
        }
        jpeg_write_scanlines(&cinfo, rps, n);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    g_free(row);

    codec_buf_reserve(out, mem_len);
    memcpy(out->data + out->len, mem, mem_len);
    out->len += mem_len;
    free(mem);
    return true;
}

bool jpeg_decode(const uint8_t *data, size_t len, CodecPicture *pic, const char **err_out)
{
    struct jpeg_decompress_struct cinfo;
    JpegErr err;
    uint8_t *volatile row = NULL;
    CodecPicture *volatile vpic = pic;

    memset(pic, 0, sizeof(*pic));
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_err_exit;
    err.mgr.emit_message = jpeg_err_quiet;
    if (setjmp(err.jmp)) {
        jpeg_destroy_decompress(&cinfo);
        g_free(row);
        codec_picture_clear(vpic);
        *err_out = "jpeg: bad stream";
        return false;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = JCS_RGB;
    if ((uint64_t)cinfo.image_width * cinfo.image_height > CODEC_MAX_PIXELS ||
        cinfo.image_width == 0 || cinfo.image_height == 0) {
        jpeg_destroy_decompress(&cinfo);
        *err_out = "jpeg: bad size";
        return false;
    }
    jpeg_start_decompress(&cinfo);
    uint32_t w = cinfo.output_width, h = cinfo.output_height;
    pic->width = w;
    pic->height = h;
    pic->px = g_new0(uint32_t, (size_t)w * h);
    row = g_malloc((size_t)w * cinfo.output_components);
    while (cinfo.output_scanline < h) {
        JSAMPROW rp = row;
        uint32_t y = cinfo.output_scanline;
        if (jpeg_read_scanlines(&cinfo, &rp, 1) != 1) {
            break;
        }
        for (uint32_t x = 0; x < w; x++) {
            pic->px[(size_t)y * w + x] =
                (uint32_t)row[3 * x] << 16 | (uint32_t)row[3 * x + 1] << 8 | row[3 * x + 2];
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    g_free(row);
    return true;
}
