/* libFuzzer target: the GLZ test decoder and its window. Input: a sequence
 * of {u16 little-endian length, GLZ stream} decoded into one window, so
 * cross-image references and releases get exercised. */
#include "fuzz-codec-replay.h"
#include "common/codec/glz-codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GlzDecoderWindow *w = glz_window_new();
    while (size >= 2) {
        size_t n = (size_t)(data[0] | data[1] << 8);
        data += 2;
        size -= 2;
        if (n > size) {
            n = size;
        }
        CodecPicture pic;
        const char *err;
        if (glz_decode(w, data, n, &pic, &err)) {
            codec_picture_clear(&pic);
        }
        data += n;
        size -= n;
    }
    glz_window_free(w);
    return 0;
}
