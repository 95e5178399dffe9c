/* JPEG / JPEG_ALPHA via libjpeg-turbo (spice-gtk decode-jpeg.c decodes to
 * RGB; canvas_base.c canvas_get_jpeg, canvas_get_jpeg_alpha). The JPEG
 * stream is the picture top row first, 3 components. */
#pragma once

#include "common/codec/codec.h"

/* True for 16BIT, 24BIT, 32BIT and RGBA bitmaps (alpha is not in the JPEG). */
bool jpeg_can_encode(const CodecImage *img);
/* Appends a baseline JFIF stream of img at quality 1..100 to out. */
bool jpeg_encode(const CodecImage *img, int quality, CodecBuf *out);
/* Test decoder: pic (alpha 0). False with *err on malformed input. */
bool jpeg_decode(const uint8_t *data, size_t len, CodecPicture *pic, const char **err);
