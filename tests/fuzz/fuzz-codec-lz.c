/* libFuzzer target: the LZ (LZ_RGB / LZ_PLT) test decoder. Input: u8
 * palette size (0 = no palette), then the LZ stream. */
#include "fuzz-codec-replay.h"
#include "common/codec/lz-codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    uint32_t pal[256];
    uint32_t npal = data[0];
    for (uint32_t i = 0; i < 256; i++) {
        pal[i] = i * 0x010101u;
    }
    CodecPicture pic;
    const char *err;
    uint8_t type;
    if (lz_decode(data + 1, size - 1, npal ? pal : NULL, npal, &pic, &type, &err)) {
        codec_picture_clear(&pic);
    }
    return 0;
}
