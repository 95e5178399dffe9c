/* The display channel object: connect (main loop -> worker hop), the
 * surfaces the worker announced, monitors config, and the fan-out of worker
 * events to each client (dcc.c). See display-channel.h. */
#include "server/display/dcc.h"

#include <stdlib.h>
#include <string.h>
#include <spice/protocol.h>

#include "server/core/log.h"

/* Display client messages are tiny (the largest is 257 bytes). */
#define DISPLAY_MAX_CLIENT_MSG 1024u

static void display_connect(RedChannel *channel, RedClient *client, RedLink *link);
static void display_request_disconnect(RedChannelClient *rcc);

static void display_on_disconnect(RedChannelClient *rcc)
{
    DisplayChannel *dc = display_channel_from(rcc->channel);
    dcc_on_disconnect(rcc);
    if (dc->host.client_caps_changed) {
        dc->host.client_caps_changed(dc->host.opaque);
    }
}

static const RedChannelOps display_ops = {
    .connect = display_connect,
    .handle_message = dcc_handle_message,
    .on_disconnect = display_on_disconnect,
    .request_disconnect = display_request_disconnect,
    .on_pipe_drained = dcc_on_pipe_drained,
};

bool display_channel_is(const RedChannel *channel)
{
    return channel && channel->ops == &display_ops;
}

/* ---- connect / disconnect hops ---- */

static void display_client_ready(RedChannelClient *rcc)
{
    DisplayChannel *dc = display_channel_from(rcc->channel);
    dcc_on_connect((DisplayChannelClient *)rcc);
    if (dc->host.client_caps_changed) {
        dc->host.client_caps_changed(dc->host.opaque);
    }
}

static void display_connect(RedChannel *channel, RedClient *client, RedLink *link)
{
    DisplayChannel *dc = display_channel_from(channel);
    red_channel_connect_via(channel, client, link, dc->host.post_to_worker, dc->host.opaque,
                            display_client_ready);
}

static void display_request_disconnect(RedChannelClient *rcc)
{
    DisplayChannel *dc = display_channel_from(rcc->channel);
    red_channel_client_disconnect_via(rcc, dc->host.post_to_worker, dc->host.opaque);
}

/* ---- lifecycle ---- */

static size_t budget_from_env(void)
{
    const char *s = g_getenv(DISPLAY_ENV_PIPE_BUDGET);
    if (!s || !*s) {
        return RED_PIPE_DEFAULT_BUDGET;
    }
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v < DISPLAY_MIN_PIPE_BUDGET || v > (1ull << 32)) {
        red_config_error("%s=%s ignored (bytes, %u .. 4 GiB)", DISPLAY_ENV_PIPE_BUDGET, s,
                         DISPLAY_MIN_PIPE_BUDGET);
        return RED_PIPE_DEFAULT_BUDGET;
    }
    return (size_t)v;
}

RedChannel *display_channel_new(RedsState *reds, RedLoop *worker_loop, uint8_t id,
                                const DisplayChannelHost *host)
{
    g_assert(host && host->post_to_worker && host->render_region && host->get_canvas);
    DisplayChannel *dc = g_new0(DisplayChannel, 1);
    red_channel_init(&dc->base, reds, SPICE_CHANNEL_DISPLAY, id, worker_loop, &display_ops,
                     sizeof(DisplayChannelClient));
    dc->base.use_acks = true;
    dc->base.max_message_size = DISPLAY_MAX_CLIENT_MSG;
    dc->base.pipe_budget = budget_from_env();
    dc->base.priv = dc;
    red_channel_set_cap(&dc->base, SPICE_DISPLAY_CAP_MONITORS_CONFIG);
    red_channel_set_cap(&dc->base, SPICE_DISPLAY_CAP_PREF_COMPRESSION);
    red_channel_set_cap(&dc->base, SPICE_DISPLAY_CAP_PREF_VIDEO_CODEC_TYPE);
    red_channel_set_cap(&dc->base, SPICE_DISPLAY_CAP_STREAM_REPORT);
    dc->host = *host;
    dc->surfaces = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    dc->max_allowed = 1;
    /* like the streaming mode: the server's settings when the worker starts */
    dc->image_compression = SPICE_IMAGE_COMPRESSION_AUTO_GLZ;
    dc->jpeg_state = SPICE_WAN_COMPRESSION_AUTO;
    dc->zlib_glz_state = SPICE_WAN_COMPRESSION_AUTO;
    if (reds) {
        /* clients split their one pixmap cache between the display
         * channels (dcc_start) */
        g_atomic_int_inc(&reds->display_channels);
        display_channel_set_compression(&dc->base, reds->cfg.image_compression,
                                        reds->cfg.jpeg_state, reds->cfg.zlib_glz_state);
    }
    dc->lossy_upgrade_ms = DISPLAY_LOSSY_UPGRADE_MS;
    display_streams_init(dc);
    return &dc->base;
}

void display_channel_free(RedChannel *channel)
{
    if (!channel) {
        return;
    }
    DisplayChannel *dc = display_channel_from(channel);
    red_channel_disconnect_all(channel);
    if (channel->reds) {
        g_atomic_int_add(&channel->reds->display_channels, -1);
    }
    display_streams_fini(dc);
    g_hash_table_destroy(dc->surfaces);
    g_free(dc);
}

/* ---- events ---- */

#define FOR_EACH_DCC(dc, dcc)                                                   \
    for (GList *l_ = (dc)->base.clients, *n_ = l_ ? l_->next : NULL; l_;        \
         l_ = n_, n_ = l_ ? l_->next : NULL)                                    \
        for (DisplayChannelClient *dcc = l_->data; dcc; dcc = NULL)

void display_channel_surface_create(RedChannel *channel, uint32_t surface_id, uint32_t width,
                                    uint32_t height, uint32_t format, bool primary)
{
    display_channel_surface_create_mem(channel, surface_id, width, height, format, primary, false);
}

void display_channel_surface_create_mem(RedChannel *channel, uint32_t surface_id, uint32_t width,
                                        uint32_t height, uint32_t format, bool primary,
                                        bool mem_cleared)
{
    DisplayChannel *dc = display_channel_from(channel);
    if (surface_id >= DISPLAY_MAX_SURFACES) {
        red_guest_bug("display: surface id %u out of range", surface_id);
        return;
    }
    DisplaySurfaceInfo *s = g_hash_table_lookup(dc->surfaces, GUINT_TO_POINTER(surface_id));
    if (s && s->live) {
        /* The worker refuses busy ids; a repeat means our caller's bug. */
        g_warning("display: surface %u created twice; destroying the old one", surface_id);
        display_channel_surface_destroy(channel, surface_id);
    }
    s = g_new0(DisplaySurfaceInfo, 1);
    s->live = true;
    s->primary = primary;
    s->width = width;
    s->height = height;
    s->format = format;
    g_hash_table_replace(dc->surfaces, GUINT_TO_POINTER(surface_id), s);
    FOR_EACH_DCC(dc, dcc) {
        dcc_surface_create(dcc, surface_id, s, mem_cleared);
    }
}

void display_channel_surface_destroy(RedChannel *channel, uint32_t surface_id)
{
    DisplayChannel *dc = display_channel_from(channel);
    if (!g_hash_table_remove(dc->surfaces, GUINT_TO_POINTER(surface_id))) {
        return;
    }
    /* STREAM_DESTROY reaches the client before the surface goes */
    display_streams_surface_destroy(dc, surface_id);
    FOR_EACH_DCC(dc, dcc) {
        dcc_surface_destroy(dcc, surface_id);
    }
}

static bool any_client_drawing(DisplayChannel *dc)
{
    for (GList *l = dc->base.clients; l; l = l->next) {
        DisplayChannelClient *dcc = l->data;
        /* a lagging client refuses most drawables: copying each into an
         * op only to drop it would cost the worker what it saves */
        if (dcc_wants_draw(dcc)) {
            return true;
        }
    }
    return false;
}

void display_channel_draw(RedChannel *channel, const RedDrawable *red,
                          const pixman_region32_t *region)
{
    DisplayChannel *dc = display_channel_from(channel);
    pixman_region32_t own;

    if (!dc->base.clients) {
        return;
    }
    DisplaySurfaceInfo *s = g_hash_table_lookup(dc->surfaces, GUINT_TO_POINTER(red->surface_id));
    if (!s || !s->live) {
        return;
    }
    if (!region) {
        const RedRect *b = &red->bbox;
        pixman_region32_init_rect(&own, b->left, b->top, (unsigned)(b->right - b->left),
                                  (unsigned)(b->bottom - b->top));
        if (red->clip.type == SPICE_CLIP_TYPE_RECTS) {
            pixman_region32_t clip;
            pixman_region32_init(&clip);
            for (uint32_t i = 0; i < red->clip.num_rects; i++) {
                const RedRect *r = &red->clip.rects[i];
                pixman_region32_union_rect(&clip, &clip, r->left, r->top,
                                           (unsigned)(r->right - r->left),
                                           (unsigned)(r->bottom - r->top));
            }
            pixman_region32_intersect(&own, &own, &clip);
            pixman_region32_fini(&clip);
        }
        pixman_region32_intersect_rect(&own, &own, 0, 0, s->width, s->height);
        region = &own;
    } else {
        pixman_region32_init(&own);
    }
    StreamDrawResult sres = display_streams_draw(dc, red, region);
    if (sres == STREAM_DRAW_DONE) {
        pixman_region32_fini(&own);
        return;
    }
    /* The copy is made once and shared by every client that takes it. */
    DisplayDrawOp *op = sres == STREAM_DRAW_ORDINARY && any_client_drawing(dc)
                            ? display_draw_op_new(red, region) : NULL;
    FOR_EACH_DCC(dc, dcc) {
        dcc_draw(dcc, op, red->surface_id, region);
    }
    display_draw_op_unref(op);
    pixman_region32_fini(&own);
}

void display_channel_monitors_config(RedChannel *channel, const DisplayHead *heads,
                                     uint32_t count, uint32_t max_allowed)
{
    DisplayChannel *dc = display_channel_from(channel);
    if (count > DISPLAY_MAX_HEADS) {
        red_guest_bug("display: monitors config with %u heads, keeping %u", count,
                      DISPLAY_MAX_HEADS);
        count = DISPLAY_MAX_HEADS;
    }
    dc->guest_heads_set = count > 0;
    dc->n_heads = count;
    if (count) {
        memcpy(dc->heads, heads, count * sizeof(*heads));
    }
    dc->max_allowed = CLAMP(max_allowed, 1u, 256u);
    FOR_EACH_DCC(dc, dcc) {
        dcc_monitors_config(dcc);
    }
}

void display_channel_reset(RedChannel *channel)
{
    DisplayChannel *dc = display_channel_from(channel);
    FOR_EACH_DCC(dc, dcc) {
        dcc_reset_cache(dcc);
    }
}

/* ---- queries ---- */

bool display_channel_get_client_caps(RedChannel *channel, uint8_t *caps, size_t caps_size)
{
    DisplayChannel *dc = display_channel_from(channel);
    bool any = false;

    memset(caps, 0, caps_size);
    for (size_t bit = 0; bit < caps_size * 8; bit++) {
        bool all = dc->base.clients != NULL;
        for (GList *l = dc->base.clients; l && all; l = l->next) {
            all = red_channel_client_has_cap(l->data, (uint32_t)bit);
        }
        if (all) {
            caps[bit / 8] |= (uint8_t)(1u << (bit % 8));
        }
    }
    any = dc->base.clients != NULL;
    return any;
}

size_t display_channel_pipe_bytes(RedChannel *channel)
{
    DisplayChannel *dc = display_channel_from(channel);
    size_t total = 0;
    for (GList *l = dc->base.clients; l; l = l->next) {
        total += dcc_queued_bytes(l->data);
    }
    return total;
}

size_t display_channel_pipe_budget(RedChannel *channel)
{
    return display_channel_from(channel)->base.pipe_budget;
}

void display_channel_set_streaming_video(RedChannel *channel, int mode)
{
    DisplayChannel *dc = display_channel_from(channel);
    if (mode == dc->streams.mode) {
        return;
    }
    display_streams_stop_all(dc);
    dc->streams.mode = mode;
}

void display_channel_set_stream_clock(RedChannel *channel, int64_t (*now_ms)(void))
{
    display_channel_from(channel)->stream_clock = now_ms;
}

static bool wan_valid(int v)
{
    return v == SPICE_WAN_COMPRESSION_AUTO || v == SPICE_WAN_COMPRESSION_ALWAYS ||
           v == SPICE_WAN_COMPRESSION_NEVER;
}

void display_channel_set_compression(RedChannel *channel, int image_compression,
                                     int jpeg_state, int zlib_glz_state)
{
    DisplayChannel *dc = display_channel_from(channel);
    /* the API validated these; a bad value here is our bug, but keep the
     * old setting rather than encode with nonsense */
    if (image_compression > SPICE_IMAGE_COMPRESSION_INVALID &&
        image_compression < SPICE_IMAGE_COMPRESSION_ENUM_END) {
        dc->image_compression = (SpiceImageCompression)image_compression;
    } else {
        g_warning("display: image compression %d ignored", image_compression);
    }
    if (wan_valid(jpeg_state)) {
        dc->jpeg_state = jpeg_state;
    }
    if (wan_valid(zlib_glz_state)) {
        dc->zlib_glz_state = zlib_glz_state;
    }
    FOR_EACH_DCC(dc, dcc) {
        dcc->image_compression = dc->image_compression;
        dcc_encoders_update(dcc);
    }
}

void display_channel_set_lossy_upgrade_delay(RedChannel *channel, uint32_t ms)
{
    DisplayChannel *dc = display_channel_from(channel);
    dc->lossy_upgrade_ms = ms;
    FOR_EACH_DCC(dc, dcc) {
        dcc_lossy_rearm(dcc);
    }
}
