/* GLZ_RGB: LZ whose matches may point into earlier images sent to the same
 * client, through a window of images both sides keep (spice-gtk
 * decode-glz.c). Header, all big-endian: u32 magic "LZ  ", u32 version
 * 0x00010001, u8 (LzImageType | top_down << 4), u32 width, u32 height,
 * u32 stride, u64 image id, u32 win_head_dist (id distance to the oldest
 * image the client must keep); then the RGB pass and, for RGBA, the alpha
 * pass. The image body on the wire is {u32 data_size, data}; ZLIB_GLZ_RGB
 * deflates the same bytes.
 *
 * The dictionary owns copies of every image it can reference (never
 * pointers into guest memory), bounded by the window the client asked for
 * in DISPLAY_INIT (in pixels). It is shared by the display channels of one
 * client and locks itself; any thread may call these.
 */
#pragma once

#include "common/codec/codec.h"

typedef struct GlzDictionary GlzDictionary;

/* Largest window we keep, whatever the client asks for: spice-gtk asks at
 * most 64 MiB / 4 pixels; a hostile client must not make us hold gigabytes.
 * A smaller window than asked is always safe (the client releases only what
 * win_head_dist tells it). */
#define GLZ_MAX_WINDOW_PIXELS (64u * 1024 * 1024 / 4)

/* Creates a dictionary holding at most window_pixels (clamped to
 * GLZ_MAX_WINDOW_PIXELS) pixels of history.
 * Image ids start at 0, matching a client whose window is fresh. The caller
 * owns the reference. */
GlzDictionary *glz_dictionary_new(uint32_t window_pixels);
GlzDictionary *glz_dictionary_ref(GlzDictionary *dict);
/* Drops a reference; frees on the last. NULL is fine. */
void glz_dictionary_unref(GlzDictionary *dict);
/* Forgets all history. Ids keep counting so the client's window stays
 * consistent: the next image references nothing older than itself and its
 * win_head_dist tells the client to release everything before it. */
void glz_dictionary_reset(GlzDictionary *dict);
/* Window size in pixels. */
uint32_t glz_dictionary_window(const GlzDictionary *dict);
/* Id the next encoded image gets. */
uint64_t glz_dictionary_next_id(GlzDictionary *dict);

/* True if img can go through GLZ with this dictionary: 16/24/32-bit or RGBA
 * and smaller than the window. */
bool glz_can_encode(const GlzDictionary *dict, const CodecImage *img);
/* Appends the GLZ stream of img to out and adds img to the dictionary. */
bool glz_encode(GlzDictionary *dict, const CodecImage *img, CodecBuf *out);

/* ---- test decoder (decode-glz.c semantics, bounds-checked) ---- */

typedef struct GlzDecoderWindow GlzDecoderWindow;

GlzDecoderWindow *glz_window_new(void);
void glz_window_free(GlzDecoderWindow *w);
/* Number of images the window currently keeps (after releases). */
unsigned glz_window_count(const GlzDecoderWindow *w);
/* Decodes one GLZ stream (images must arrive in id order), keeps it in the
 * window and releases what its win_head_dist allows. pic is top-down
 * 0xAARRGGBB (caller owns it). False with *err on malformed input. */
bool glz_decode(GlzDecoderWindow *w, const uint8_t *data, size_t len,
                CodecPicture *pic, const char **err);
