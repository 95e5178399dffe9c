/* Images through the encoders for one display client (dcc.h), and the
 * client's lossy areas.
 *
 * Encoding happens only when a message is marshalled for the socket, never
 * when an item is queued: a GLZ image takes the next id of the session's
 * window and spice-gtk waits forever for a missing id, so only bytes that
 * are certain to be written may consume one. Queued draws dropped for a
 * slow client were never encoded.
 *
 * GLZ dictionary: spice-gtk keeps one GLZ window per session, shared by
 * every display channel of that session (two QXL devices = two display
 * channels on different worker threads). So the dictionary is keyed by the
 * RedClient in a process-wide registry: the first display client of a
 * session creates it with the window its DISPLAY_INIT asked for, the others
 * take a reference. The dictionary locks itself while it encodes.
 *
 * Locking: glz_registry_lock guards glz_registry (RedClient* -> GlzEntry),
 * taken only to join or leave; never held while encoding.
 *
 * Lossy areas: JPEG images (and draws that read pixels the client holds
 * lossy) leave lossy pixels on the client; the map per surface says where.
 * Once no lossy image has been sent for lossy_upgrade_ms, the areas become
 * damage and go out as lossless images (dcc.c), the same path as a slow
 * client's catch-up and the end of a video stream.
 */
#include "server/display/dcc.h"

#include <string.h>
#include <spice/protocol.h>

#include "server/core/log.h"

typedef struct GlzEntry {
    GlzDictionary *dict;            /* one reference */
    unsigned users;                 /* display clients of the session using it */
} GlzEntry;

static GMutex glz_registry_lock;
static GHashTable *glz_registry;    /* RedClient* -> GlzEntry*, owned */

static GlzDictionary *glz_join(RedClient *client, int32_t window_pixels)
{
    g_mutex_lock(&glz_registry_lock);
    if (!glz_registry) {
        glz_registry = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    }
    GlzEntry *e = g_hash_table_lookup(glz_registry, client);
    if (!e) {
        e = g_new0(GlzEntry, 1);
        /* glz_dictionary_new clamps to what we are willing to hold */
        e->dict = glz_dictionary_new(window_pixels > 0 ? (uint32_t)window_pixels : 0);
        g_hash_table_insert(glz_registry, client, e);
    }
    e->users++;
    GlzDictionary *d = glz_dictionary_ref(e->dict);
    g_mutex_unlock(&glz_registry_lock);
    return d;
}

static void glz_leave(RedClient *client, GlzDictionary *dict)
{
    g_mutex_lock(&glz_registry_lock);
    GlzEntry *e = glz_registry ? g_hash_table_lookup(glz_registry, client) : NULL;
    g_assert(e && e->dict == dict);
    if (--e->users == 0) {
        glz_dictionary_unref(e->dict);
        g_hash_table_remove(glz_registry, client);
        if (g_hash_table_size(glz_registry) == 0) {
            g_clear_pointer(&glz_registry, g_hash_table_destroy);
        }
    }
    g_mutex_unlock(&glz_registry_lock);
    glz_dictionary_unref(dict);
}

static void policy_of(const DisplayChannelClient *dcc, RedEncPolicy *p)
{
    const DisplayChannel *dc = dcc->dc;
    *p = (RedEncPolicy){
        .image_compression = dcc->image_compression,
        .jpeg = dc->jpeg_state,
        .zlib_glz = dc->zlib_glz_state,
        .client_lz4 = red_channel_client_has_cap(&dcc->base, SPICE_DISPLAY_CAP_LZ4_COMPRESSION),
        /* the main channel's net test, read when the policy is (re)built:
         * at DISPLAY_INIT (the test is normally over by then) and on every
         * compression change; false while unmeasured */
        .low_bandwidth = red_client_is_low_bandwidth(dcc->base.client),
        .jpeg_quality = 0,
    };
}

void dcc_encoders_start(DisplayChannelClient *dcc, int32_t glz_window_pixels)
{
    RedEncPolicy p;
    policy_of(dcc, &p);
    if (glz_window_pixels > 0) {
        dcc->glz_client = dcc->base.client;
        dcc->glz = glz_join(dcc->glz_client, glz_window_pixels);
    }
    dcc->encoders = red_encoders_new(&p, dcc->glz);
}

void dcc_encoders_update(DisplayChannelClient *dcc)
{
    if (dcc->encoders) {
        RedEncPolicy p;
        policy_of(dcc, &p);
        red_encoders_set_policy(dcc->encoders, &p);
    }
}

void dcc_encoders_stop(DisplayChannelClient *dcc)
{
    g_clear_pointer(&dcc->encoders, red_encoders_free);
    if (dcc->glz) {
        glz_leave(dcc->glz_client, dcc->glz);
        dcc->glz = NULL;
        dcc->glz_client = NULL;
    }
    red_timer_remove(dcc->upgrade_timer);
    dcc->upgrade_timer = NULL;
    g_clear_pointer(&dcc->lossy, g_hash_table_destroy);
}

static bool enc_format(const WireImage *src, RedEncFormat *fmt)
{
    switch (src->u.bitmap.format) {
    case SPICE_BITMAP_FMT_32BIT:
        *fmt = RED_ENC_FMT_XRGB8888;
        return true;
    case SPICE_BITMAP_FMT_RGBA:
        *fmt = RED_ENC_FMT_ARGB8888;
        return true;
    case SPICE_BITMAP_FMT_16BIT:
        *fmt = RED_ENC_FMT_XRGB1555;
        return true;
    case SPICE_BITMAP_FMT_24BIT:
        *fmt = RED_ENC_FMT_RGB888;
        return true;
    case SPICE_BITMAP_FMT_8BIT:
        *fmt = RED_ENC_FMT_PAL8;
        return src->u.bitmap.palette && src->u.bitmap.palette->num_ents > 0;
    default:
        /* 1/4-bit and A8 have no encoder: they go raw */
        return false;
    }
}

bool dcc_encode_image(DisplayChannelClient *dcc, const WireImage *src, bool can_lossy,
                      WireImage *out, RedEncOutput *enc)
{
    RedEncFormat fmt;
    if (!dcc->encoders || src->type != SPICE_IMAGE_TYPE_BITMAP || src->encoded ||
        !enc_format(src, &fmt)) {
        return false;
    }
    const WirePalette *pal = src->u.bitmap.palette;
    RedEncInput in = {
        .format = fmt,
        .width = src->width,
        .height = src->height,
        .stride = src->u.bitmap.stride,
        .data = src->u.bitmap.data,
        .top_down = (src->u.bitmap.flags & SPICE_BITMAP_FLAGS_TOP_DOWN) != 0,
        .palette = fmt == RED_ENC_FMT_PAL8 ? pal->ents : NULL,
        .palette_n = fmt == RED_ENC_FMT_PAL8 ? MIN(pal->num_ents, 256u) : 0,
    };
    RedEncHints hints = {
        /* encoded now, at marshal time, and written next: GLZ is safe */
        .from_drawable = true,
        .can_lossy = can_lossy,
        .unstable = false,
        .graduality = RED_ENC_GRAD_UNKNOWN,
    };
    red_encoder_output_clear(enc);
    if (!red_encoders_encode(dcc->encoders, &in, &hints, enc)) {
        /* the parser let through a bitmap the encoders reject: send it as
         * the guest gave it, like before encoders existed */
        red_debug("display: bitmap %ux%u fmt %u not encodable, sent raw", src->width,
                  src->height, src->u.bitmap.format);
        red_encoder_output_clear(enc);
        return false;
    }
    *out = *src;
    out->type = enc->image_type;
    out->encoded = true;
    memset(&out->u, 0, sizeof(out->u));
    out->u.encoded.body = enc->body.data;
    out->u.encoded.size = enc->body.len;
    out->u.encoded.palette_slot = enc->palette_slot;
    out->u.encoded.palette = enc->palette_slot >= 0 ? pal : NULL;
    g_assert(enc->palette_slot < 0 || pal);
    dcc->enc_images[enc->codec]++;
    dcc->enc_bytes[enc->codec] += enc->body.len;
    return true;
}

/* ---- lossy areas ---- */

static void region_free(gpointer p)
{
    pixman_region32_fini(p);
    g_free(p);
}

static pixman_region32_t *lossy_get(DisplayChannelClient *dcc, uint32_t id, bool create)
{
    pixman_region32_t *r = g_hash_table_lookup(dcc->lossy, GUINT_TO_POINTER(id));
    if (!r && create) {
        r = g_new(pixman_region32_t, 1);
        pixman_region32_init(r);
        g_hash_table_insert(dcc->lossy, GUINT_TO_POINTER(id), r);
    }
    return r;
}

static bool lossy_any(DisplayChannelClient *dcc, uint32_t id)
{
    pixman_region32_t *r = lossy_get(dcc, id, false);
    return r && pixman_region32_not_empty(r);
}

static void upgrade_one(gpointer key, gpointer value, gpointer data)
{
    DisplayChannelClient *dcc = data;
    if (pixman_region32_not_empty(value)) {
        /* stays in the map until a lossless band covers it */
        dcc_add_damage(dcc, GPOINTER_TO_UINT(key), value);
    }
}

static void upgrade_timer_cb(void *opaque)
{
    DisplayChannelClient *dcc = opaque;
    g_hash_table_foreach(dcc->lossy, upgrade_one, dcc);
    dcc_push_damage(dcc);
}

void dcc_lossy_init(DisplayChannelClient *dcc)
{
    dcc->lossy = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, region_free);
    dcc->upgrade_timer = red_timer_add(dcc->base.channel->loop, upgrade_timer_cb, dcc);
}

void dcc_lossy_add(DisplayChannelClient *dcc, uint32_t id, const pixman_region32_t *region)
{
    if (!pixman_region32_not_empty(region)) {
        return;
    }
    pixman_region32_t *r = lossy_get(dcc, id, true);
    pixman_region32_union(r, r, region);
    red_timer_start(dcc->upgrade_timer, dcc->dc->lossy_upgrade_ms);
}

void dcc_lossy_subtract(DisplayChannelClient *dcc, uint32_t id, const pixman_region32_t *region)
{
    pixman_region32_t *r = lossy_get(dcc, id, false);
    if (r) {
        pixman_region32_subtract(r, r, region);
    }
}

void dcc_lossy_surface_gone(DisplayChannelClient *dcc, uint32_t id)
{
    if (dcc->lossy) {
        g_hash_table_remove(dcc->lossy, GUINT_TO_POINTER(id));
    }
}

void dcc_lossy_rearm(DisplayChannelClient *dcc)
{
    bool any = false;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, dcc->lossy);
    while (!any && g_hash_table_iter_next(&it, NULL, &v)) {
        any = pixman_region32_not_empty(v);
    }
    if (any) {
        red_timer_start(dcc->upgrade_timer, dcc->dc->lossy_upgrade_ms);
    }
}

/* Whether op writes every pixel of its region from lossless data alone,
 * without reading the destination: then the area is exact again. */
static bool op_overwrites(const DisplayDrawOp *op)
{
    const WireDraw *d = &op->draw;
    switch (d->type) {
    case SPICE_MSG_DISPLAY_DRAW_FILL:
        return d->u.fill.rop_descriptor == SPICE_ROPD_OP_PUT && !d->u.fill.mask.bitmap &&
               d->u.fill.brush.type == SPICE_BRUSH_TYPE_SOLID;
    case SPICE_MSG_DISPLAY_DRAW_COPY:
        return d->u.copy.rop_descriptor == SPICE_ROPD_OP_PUT && !d->u.copy.mask.bitmap &&
               d->u.copy.src->type != SPICE_IMAGE_TYPE_SURFACE;
    case SPICE_MSG_DISPLAY_DRAW_BLACKNESS:
    case SPICE_MSG_DISPLAY_DRAW_WHITENESS:
        return !d->u.whiteness.mask.bitmap;
    default:
        return false;
    }
}

/* Whether op may read pixels the client holds lossy. */
static bool op_reads_lossy(DisplayChannelClient *dcc, const DisplayDrawOp *op)
{
    for (uint32_t i = 0; i < op->n_src_surfaces; i++) {
        if (lossy_any(dcc, op->src_surfaces[i])) {
            return true;
        }
    }
    pixman_region32_t *l = lossy_get(dcc, op->surface_id, false);
    if (!l || !pixman_region32_not_empty(l)) {
        return false;
    }
    pixman_region32_t read;
    pixman_region32_init(&read);
    pixman_region32_copy(&read, &op->region);
    if (op->draw.type == SPICE_MSG_DISPLAY_COPY_BITS) {
        pixman_region32_translate(&read, op->draw.u.copy_bits_src.x - op->draw.box.left,
                                  op->draw.u.copy_bits_src.y - op->draw.box.top);
    } else if (op_overwrites(op)) {
        pixman_region32_clear(&read);
    }
    pixman_region32_intersect(&read, &read, l);
    bool hit = pixman_region32_not_empty(&read);
    pixman_region32_fini(&read);
    return hit;
}

void dcc_lossy_note_draw(DisplayChannelClient *dcc, const DisplayDrawOp *op, bool sent_lossy)
{
    if (sent_lossy || op_reads_lossy(dcc, op)) {
        dcc_lossy_add(dcc, op->surface_id, &op->region);
    } else {
        /* computed from exact pixels only: the area is exact again */
        dcc_lossy_subtract(dcc, op->surface_id, &op->region);
    }
}
