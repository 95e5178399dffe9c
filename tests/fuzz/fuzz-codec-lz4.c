/* libFuzzer target: the LZ4 image test decoder. Input: u16 width, u16
 * height (little-endian, taken modulo 512, plus 1), then the LZ4 data. */
#include "fuzz-codec-replay.h"
#include "common/codec/lz4-codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4) {
        return 0;
    }
    uint32_t w = (uint32_t)(data[0] | data[1] << 8) % 512 + 1;
    uint32_t h = (uint32_t)(data[2] | data[3] << 8) % 512 + 1;
    CodecPicture pic;
    const char *err;
    if (lz4_decode(data + 4, size - 4, w, h, &pic, &err)) {
        g_assert(pic.width == w && pic.height == h);
        codec_picture_clear(&pic);
    }
    return 0;
}
