/* libFuzzer target: the QUIC test decoder (input: the QUIC words). */
#include "fuzz-codec-replay.h"
#include "common/codec/quic-codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CodecPicture pic;
    const char *err;
    if (quic_decode(data, size, &pic, &err)) {
        codec_picture_clear(&pic);
    }
    return 0;
}
