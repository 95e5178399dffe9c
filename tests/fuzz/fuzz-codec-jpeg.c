/* libFuzzer target: the JPEG test decoder (libjpeg-turbo behind our error
 * handling). Input: the JPEG stream. */
#include "fuzz-codec-replay.h"
#include "common/codec/jpeg-codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CodecPicture pic;
    const char *err;
    if (jpeg_decode(data, size, &pic, &err)) {
        codec_picture_clear(&pic);
    }
    return 0;
}
