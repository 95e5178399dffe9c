/* The server object: lifecycle, cross-thread posting, channel registry,
 * sessions and the link outcome. Main loop only, except reds_post() and
 * reds_channel_event(), which any thread may call.
 */
#include "server/core/reds.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "server/channel/channel.h"
#include "server/core/log.h"
#include "server/main/main-channel.h"
#include "server/net/link-caps.h"
#include "server/net/net.h"

typedef struct {
    RedsPostFunc func;
    void *data;
} RedsPosted;

RedsState *reds_new(void)
{
    RedsState *reds = g_new0(RedsState, 1);
    RedsConfig *cfg = &reds->cfg;

    cfg->port = -1;
    cfg->tls_port = -1;
    cfg->listen_fd = -1;
    cfg->default_security = SPICE_CHANNEL_SECURITY_NONE | SPICE_CHANNEL_SECURITY_SSL;
    cfg->agent_mouse = true;
    cfg->agent_copypaste = true;
    cfg->agent_file_xfer = true;
    cfg->image_compression = SPICE_IMAGE_COMPRESSION_AUTO_GLZ;
    cfg->jpeg_state = SPICE_WAN_COMPRESSION_AUTO;
    cfg->zlib_glz_state = SPICE_WAN_COMPRESSION_AUTO;
    cfg->streaming_video = SPICE_STREAM_VIDEO_FILTER;
    cfg->playback_compression = true;
    cfg->compat_version = SPICE_COMPAT_VERSION_CURRENT;
    reds->mouse_mode = SPICE_MOUSE_MODE_SERVER;
    reds->wakeup_fds[0] = reds->wakeup_fds[1] = -1;
    reds->posted = g_async_queue_new();
    return reds;
}

static void run_posted(RedsState *reds)
{
    RedsPosted *p;
    while ((p = g_async_queue_try_pop(reds->posted))) {
        p->func(reds, p->data);
        g_free(p);
    }
}

static void wakeup_cb(int fd, int event, void *opaque)
{
    RedsState *reds = opaque;
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    run_posted(reds);
}

void reds_post(RedsState *reds, RedsPostFunc func, void *data)
{
    RedsPosted *p = g_new(RedsPosted, 1);
    p->func = func;
    p->data = data;
    g_async_queue_push(reds->posted, p);
    if (reds->wakeup_fds[1] >= 0) {
        char c = 0;
        /* A full pipe already guarantees a wakeup. */
        while (write(reds->wakeup_fds[1], &c, 1) < 0 && errno == EINTR) {
        }
    }
}

typedef struct {
    int event;
    SpiceChannelEventInfo *info;
} PostedEvent;

static void deliver_event(RedsState *reds, int event, SpiceChannelEventInfo *info)
{
    if (reds->core && reds->core->base.minor_version >= 3 && reds->core->channel_event) {
        reds->core->channel_event(event, info);
    }
    if (event == SPICE_CHANNEL_EVENT_DISCONNECTED) {
        g_free(info);
    }
}

static void posted_event_cb(RedsState *reds, void *data)
{
    PostedEvent *pe = data;
    deliver_event(reds, pe->event, pe->info);
    g_free(pe);
}

void reds_channel_event(RedsState *reds, int event, SpiceChannelEventInfo *info)
{
    if (!info) {
        return;
    }
    if (g_thread_self() == reds->main_thread) {
        deliver_event(reds, event, info);
        return;
    }
    PostedEvent *pe = g_new(PostedEvent, 1);
    pe->event = event;
    pe->info = info;
    reds_post(reds, posted_event_cb, pe);
}

bool reds_init(RedsState *reds, SpiceCoreInterface *core, GError **err)
{
    if (reds->initialized) {
        g_set_error(err, RED_ERROR, RED_ERROR_CONFIG, "server already initialised");
        return false;
    }
    reds->core = core;
    reds->loop = red_loop_new_core(core);
    reds->main_thread = g_thread_self();

    if (pipe2(reds->wakeup_fds, O_NONBLOCK | O_CLOEXEC) < 0) {
        g_set_error(err, RED_ERROR, RED_ERROR_IO, "pipe: %s", g_strerror(errno));
        return false;
    }
    reds->wakeup_watch = red_watch_add(reds->loop, reds->wakeup_fds[0], RED_WATCH_READ,
                                       wakeup_cb, reds);
    if (!reds->wakeup_watch) {
        g_set_error(err, RED_ERROR, RED_ERROR_FAILED, "embedder refused a watch");
        return false;
    }

    reds->main_channel = main_channel_new(reds);
    reds_register_channel(reds, reds->main_channel);

    if (!reds_net_init(reds, err)) {
        return false;
    }
    reds->initialized = true;
    return true;
}

void reds_destroy(RedsState *reds)
{
    if (!reds) {
        return;
    }
    reds_net_destroy(reds);

    /* Sessions first: their channel clients may post to us. */
    for (GList *l = reds->clients; l; l = l->next) {
        red_client_disconnect(l->data);
    }
    run_posted(reds);

    while (reds->channels) {
        RedChannel *ch = reds->channels->data;
        reds->channels = g_list_delete_link(reds->channels, reds->channels);
        if (ch->loop == reds->loop) {
            red_channel_disconnect_all(ch);
        }
        if (ch->ops->destroy) {
            ch->ops->destroy(ch);
        }
    }
    reds->main_channel = NULL;
    run_posted(reds);
    g_assert(reds->clients == NULL);

    red_watch_remove(reds->wakeup_watch);
    for (int i = 0; i < 2; i++) {
        if (reds->wakeup_fds[i] >= 0) {
            close(reds->wakeup_fds[i]);
        }
    }
    g_async_queue_unref(reds->posted);
    red_loop_free(reds->loop);

    RedsConfig *cfg = &reds->cfg;
    g_free(cfg->addr);
    g_free(cfg->ca_file);
    g_free(cfg->cert_file);
    g_free(cfg->key_file);
    g_free(cfg->key_passwd);
    g_free(cfg->dh_file);
    g_free(cfg->ciphers);
    g_free(cfg->name);
    g_free(cfg->sasl_appname);
    g_free(cfg->video_codecs);
    g_list_free(reds->qxl_instances);
    g_list_free(reds->char_devices);
    g_list_free(reds->sound_instances);
    g_free(reds);
}

/* ---- channel registry ---- */

void reds_register_channel(RedsState *reds, RedChannel *channel)
{
    g_assert(!reds_find_channel(reds, channel->type, channel->id));
    reds->channels = g_list_append(reds->channels, channel);
    if (channel != reds->main_channel && reds->main_channel) {
        main_channel_announce_channel(reds, channel);
    }
}

void reds_unregister_channel(RedsState *reds, RedChannel *channel)
{
    reds->channels = g_list_remove(reds->channels, channel);
}

RedChannel *reds_find_channel(RedsState *reds, uint8_t type, uint8_t id)
{
    for (GList *l = reds->channels; l; l = l->next) {
        RedChannel *ch = l->data;
        if (ch->type == type && ch->id == id) {
            return ch;
        }
    }
    return NULL;
}

uint32_t reds_channel_caps(RedsState *reds, RedChannel *channel, uint32_t *words,
                           uint32_t max_words)
{
    uint32_t n = MIN(channel->num_caps, max_words);
    memcpy(words, channel->caps, n * sizeof(uint32_t));
    return n;
}

/* ---- link outcome ---- */

RedClient *reds_find_client(RedsState *reds, uint32_t connection_id)
{
    for (GList *l = reds->clients; l; l = l->next) {
        RedClient *c = l->data;
        if (c->connection_id == connection_id && !c->disconnecting) {
            return c;
        }
    }
    return NULL;
}

static uint32_t new_session_id(RedsState *reds, uint32_t wanted)
{
    uint32_t id = wanted;
    while (id == 0 || reds_find_client(reds, id)) {
        id = g_random_int();
    }
    return id;
}

void reds_link_complete(RedsState *reds, RedLink *link)
{
    RedChannel *channel = reds_find_channel(reds, link->channel_type, link->channel_id);
    RedClient *client;

    if (!channel) {
        red_info("link refused: channel %u:%u not available", link->channel_type,
                 link->channel_id);
        red_link_send_result(link, SPICE_LINK_ERR_CHANNEL_NOT_AVAILABLE);
        red_link_free(link);
        return;
    }

    if (link->channel_type == SPICE_CHANNEL_MAIN) {
        client = red_client_new(reds, new_session_id(reds, link->connection_id));
        reds->clients = g_list_append(reds->clients, client);
    } else {
        client = reds_find_client(reds, link->connection_id);
        if (!client) {
            red_info("link refused: channel %u:%u names unknown session %u",
                     link->channel_type, link->channel_id, link->connection_id);
            red_link_send_result(link, SPICE_LINK_ERR_BAD_CONNECTION_ID);
            red_link_free(link);
            return;
        }
    }

    bool is_main = link->channel_type == SPICE_CHANNEL_MAIN;
    if (!red_link_send_result(link, SPICE_LINK_ERR_OK)) {
        red_link_free(link);
        if (is_main) {
            red_client_disconnect(client);
        }
        return;
    }
    SpiceChannelEventInfo *info = link->stream->info;
    if (info) {
        /* What QEMU's query-spice reports for this connection. */
        info->connection_id = (int)client->connection_id;
        info->type = link->channel_type;
        info->id = link->channel_id;
    }
    reds_channel_event(reds, SPICE_CHANNEL_EVENT_CONNECTED, info);
    channel->ops->connect(channel, client, link);
    if (is_main && !client->main_rcc) {
        /* The main channel could not take the connection. */
        red_client_disconnect(client);
    }
}

void reds_client_gone(RedsState *reds, RedClient *client)
{
    if (!g_list_find(reds->clients, client)) {
        return;
    }
    reds->clients = g_list_remove(reds->clients, client);
    red_client_unref(client);
    if (reds->cfg.exit_on_disconnect && reds->initialized) {
        red_info("exiting: client disconnected and exit-on-disconnect is set");
        exit(0);
    }
    reds_update_mouse_mode(reds);
}

int reds_num_clients(RedsState *reds)
{
    return (int)g_list_length(reds->clients);
}
