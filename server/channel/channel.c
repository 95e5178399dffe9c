/* Channel and channel-client base: framing, byte-accounted pipe, acks.
 *
 * Locking: only RedClient.lock, around the session's rccs list and its
 * disconnecting/gone flags. Everything else in this file is used by the
 * thread of channel->loop alone.
 */
#include "server/channel/channel.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <spice/protocol.h>

#include "server/core/log.h"

#define MINI_HEADER_SIZE 6
#define FULL_HEADER_SIZE 18
/* Channel-specific message types start at 101 in both directions. */
#define RED_FIRST_CHANNEL_MSG 101

/* ---- channels ---- */

void red_channel_init(RedChannel *channel, RedsState *reds, uint8_t type, uint8_t id,
                      RedLoop *loop, const RedChannelOps *ops, size_t client_size)
{
    g_assert(client_size >= sizeof(RedChannelClient));
    memset(channel, 0, sizeof(*channel));
    channel->ops = ops;
    channel->reds = reds;
    channel->type = type;
    channel->id = id;
    channel->loop = loop;
    channel->max_message_size = RED_CHANNEL_MAX_MSG_SIZE;
    channel->pipe_budget = RED_PIPE_DEFAULT_BUDGET;
    channel->client_size = client_size;
}

void red_channel_set_cap(RedChannel *channel, uint32_t cap)
{
    g_assert(cap / 32 < RED_CHANNEL_MAX_CAP_WORDS);
    channel->caps[cap / 32] |= 1u << (cap % 32);
    if (channel->num_caps < cap / 32 + 1) {
        channel->num_caps = cap / 32 + 1;
    }
}

void red_channel_disconnect_all(RedChannel *channel)
{
    while (channel->clients) {
        red_channel_client_disconnect(channel->clients->data);
    }
}

/* ---- sessions ---- */

RedClient *red_client_new(RedsState *reds, uint32_t connection_id)
{
    RedClient *client = g_new0(RedClient, 1);
    client->reds = reds;
    client->connection_id = connection_id;
    client->refs = 1;
    g_mutex_init(&client->lock);
    atomic_init(&client->net_bitrate, 0);
    atomic_init(&client->net_latency_us, 0);
    return client;
}

RedClient *red_client_ref(RedClient *client)
{
    g_atomic_int_inc(&client->refs);
    return client;
}

void red_client_unref(RedClient *client)
{
    if (client && g_atomic_int_dec_and_test(&client->refs)) {
        g_assert(client->rccs == NULL);
        g_mutex_clear(&client->lock);
        g_free(client);
    }
}

void red_client_set_link(RedClient *client, uint64_t bitrate_bps, int64_t latency_us)
{
    atomic_store(&client->net_latency_us, latency_us);
    atomic_store(&client->net_bitrate, bitrate_bps);
}

uint64_t red_client_get_bitrate(RedClient *client)
{
    return atomic_load(&client->net_bitrate);
}

int64_t red_client_get_latency_us(RedClient *client)
{
    return atomic_load(&client->net_latency_us);
}

bool red_client_is_low_bandwidth(RedClient *client)
{
    uint64_t bps = red_client_get_bitrate(client);
    return bps != 0 && bps < RED_CLIENT_LOW_BANDWIDTH_BPS;
}

static void client_gone_cb(RedsState *reds, void *data)
{
    reds_client_gone(reds, data);
}

/* Called with client->lock held: posts the session's end once, when it is
 * disconnecting and no channel client is left. */
static void client_maybe_gone_locked(RedClient *client)
{
    if (client->disconnecting && !client->rccs && !client->gone) {
        client->gone = true;
        reds_post(client->reds, client_gone_cb, client);
    }
}

void red_client_disconnect(RedClient *client)
{
    GList *rccs;

    g_mutex_lock(&client->lock);
    if (client->disconnecting) {
        g_mutex_unlock(&client->lock);
        return;
    }
    client->disconnecting = true;
    rccs = g_list_copy(client->rccs);
    client_maybe_gone_locked(client);
    g_mutex_unlock(&client->lock);

    /* Each request only schedules the disconnect on the client's own thread
     * (or does it now, for main-loop channels). */
    for (GList *l = rccs; l; l = l->next) {
        RedChannelClient *rcc = l->data;
        if (rcc->channel->ops->request_disconnect) {
            rcc->channel->ops->request_disconnect(rcc);
        } else {
            red_channel_client_disconnect(rcc);
        }
    }
    g_list_free(rccs);
}

/* ---- channel clients: sending ---- */

static void rcc_set_mask(RedChannelClient *rcc, int mask)
{
    if (rcc->watch) {
        red_watch_update_mask(rcc->watch, mask);
    }
}

static void pipe_item_free(RedPipeItem *item)
{
    if (item->ops->free) {
        item->ops->free(item);
    } else {
        g_free(item);
    }
}

static bool rcc_ack_blocked(const RedChannelClient *rcc)
{
    return rcc->channel->use_acks && rcc->unacked >= 2 * rcc->ack_window;
}

bool red_channel_client_is_blocked(const RedChannelClient *rcc)
{
    return rcc->out_pos < rcc->out.len || rcc_ack_blocked(rcc);
}

/* Marshals the pipe head into rcc->out with its data header. */
static void rcc_marshal_next(RedChannelClient *rcc)
{
    RedPipeItem *item = g_queue_pop_head(&rcc->pipe);
    size_t hdr_size = rcc->mini_header ? MINI_HEADER_SIZE : FULL_HEADER_SIZE;

    rcc->pipe_bytes -= item->size;
    rcc->pipe_bytes_out += item->size;
    wire_writer_reset(&rcc->out);
    wire_put_space(&rcc->out, hdr_size);
    rcc->out.base = hdr_size;
    uint16_t type = item->ops->marshal(rcc, item, &rcc->out);
    pipe_item_free(item);

    size_t body = rcc->out.len - hdr_size;
    g_assert(body <= UINT32_MAX);
    uint8_t *h = rcc->out.data;
    rcc->serial++;
    if (rcc->mini_header) {
        h[0] = (uint8_t)type;
        h[1] = (uint8_t)(type >> 8);
        for (int i = 0; i < 4; i++) {
            h[2 + i] = (uint8_t)(body >> (8 * i));
        }
    } else {
        for (int i = 0; i < 8; i++) {
            h[i] = (uint8_t)(rcc->serial >> (8 * i));
        }
        h[8] = (uint8_t)type;
        h[9] = (uint8_t)(type >> 8);
        for (int i = 0; i < 4; i++) {
            h[10 + i] = (uint8_t)(body >> (8 * i));
            h[14 + i] = 0;   /* no sub-message list */
        }
    }
    rcc->out_pos = 0;
    rcc->unacked++;
}

/* Writes as much as the socket takes; arms the write watch when it stops
 * early. Never blocks. */
static void rcc_push(RedChannelClient *rcc)
{
    while (!rcc->dead) {
        if (rcc->out_pos < rcc->out.len) {
            ssize_t n = red_stream_write(rcc->stream, rcc->out.data + rcc->out_pos,
                                         rcc->out.len - rcc->out_pos);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                rcc_set_mask(rcc, RED_WATCH_READ | RED_WATCH_WRITE);
                return;
            }
            if (n <= 0) {
                red_debug("channel %u:%u: write failed: %s", rcc->channel->type,
                          rcc->channel->id, n < 0 ? g_strerror(errno) : "closed");
                red_channel_client_disconnect(rcc);
                return;
            }
            rcc->out_pos += (size_t)n;
            rcc->bytes_sent += (uint64_t)n;
            continue;
        }
        if (g_queue_is_empty(&rcc->pipe)) {
            rcc_set_mask(rcc, RED_WATCH_READ);
            if (rcc->channel->ops->on_pipe_drained) {
                rcc->channel->ops->on_pipe_drained(rcc);
            }
            /* The callback may have queued more. */
            if (g_queue_is_empty(&rcc->pipe)) {
                return;
            }
            continue;
        }
        if (rcc_ack_blocked(rcc)) {
            /* Wait for the client's ACK; reading stays armed. */
            rcc_set_mask(rcc, RED_WATCH_READ);
            return;
        }
        rcc_marshal_next(rcc);
    }
}

void red_channel_client_pipe_add(RedChannelClient *rcc, RedPipeItem *item)
{
    if (rcc->dead) {
        pipe_item_free(item);
        return;
    }
    g_queue_push_tail(&rcc->pipe, item);
    rcc->pipe_bytes += item->size;
    /* Inside an io callback the callback pushes before it returns. */
    if (!rcc->in_io && !rcc->push_armed && rcc->push_timer) {
        rcc->push_armed = true;
        red_timer_start(rcc->push_timer, 0);
    }
}

typedef struct {
    RedPipeItem base;
    uint16_t type;
    size_t len;
    uint8_t body[];
} RawItem;

static uint16_t raw_marshal(RedChannelClient *rcc, RedPipeItem *item, WireWriter *w)
{
    RawItem *raw = (RawItem *)item;
    wire_put_bytes(w, raw->body, raw->len);
    return raw->type;
}

static const RedPipeItemOps raw_item_ops = {
    .marshal = raw_marshal,
};

void red_channel_client_send_raw(RedChannelClient *rcc, uint16_t type, const void *body, size_t len)
{
    RawItem *raw = g_malloc(sizeof(RawItem) + len);
    raw->base.ops = &raw_item_ops;
    raw->base.size = len + FULL_HEADER_SIZE;
    raw->base.kind = 0;
    raw->type = type;
    raw->len = len;
    if (len) {
        memcpy(raw->body, body, len);
    }
    red_channel_client_pipe_add(rcc, &raw->base);
}

size_t red_channel_client_pipe_drop(RedChannelClient *rcc,
                                    bool (*pred)(RedPipeItem *item, void *opaque), void *opaque)
{
    size_t freed = 0;
    GList *l = rcc->pipe.head;
    while (l) {
        GList *next = l->next;
        RedPipeItem *item = l->data;
        if (pred(item, opaque)) {
            g_queue_delete_link(&rcc->pipe, l);
            rcc->pipe_bytes -= item->size;
            freed += item->size;
            pipe_item_free(item);
        }
        l = next;
    }
    return freed;
}

/* ---- channel clients: receiving ---- */

static bool rcc_handle_base_message(RedChannelClient *rcc, uint16_t type, uint32_t size,
                                    const uint8_t *body)
{
    switch (type) {
    case SPICE_MSGC_ACK_SYNC:
        if (size < 4) {
            red_client_bug("%s: ACK_SYNC of %u bytes", rcc->peer, size);
            return false;
        }
        rcc->client_generation = (uint32_t)body[0] | (uint32_t)body[1] << 8 |
                                 (uint32_t)body[2] << 16 | (uint32_t)body[3] << 24;
        return true;
    case SPICE_MSGC_ACK:
        /* An ACK for an older SET_ACK generation is stale: ignore it. */
        if (rcc->client_generation == rcc->ack_generation) {
            rcc->unacked = rcc->unacked > rcc->ack_window ? rcc->unacked - rcc->ack_window : 0;
        }
        return true;
    case SPICE_MSGC_PONG:
        if (size < 12) {
            red_client_bug("%s: PONG of %u bytes", rcc->peer, size);
            return false;
        }
        if (rcc->channel->ops->on_pong) {
            uint32_t id = (uint32_t)body[0] | (uint32_t)body[1] << 8 |
                          (uint32_t)body[2] << 16 | (uint32_t)body[3] << 24;
            uint64_t ts = 0;
            for (int i = 7; i >= 0; i--) {
                ts = ts << 8 | body[4 + i];
            }
            rcc->channel->ops->on_pong(rcc, id, ts);
        }
        return true;
    case SPICE_MSGC_MIGRATE_FLUSH_MARK:
    case SPICE_MSGC_MIGRATE_DATA:
    case SPICE_MSGC_DISCONNECTING:
        /* We never migrate; a disconnecting client closes its socket next. */
        return true;
    default:
        red_client_bug("%s: channel %u:%u: unknown base message %u", rcc->peer,
                       rcc->channel->type, rcc->channel->id, type);
        return false;
    }
}

static bool rcc_dispatch(RedChannelClient *rcc)
{
    if (rcc->msg_type < RED_FIRST_CHANNEL_MSG) {
        return rcc_handle_base_message(rcc, rcc->msg_type, rcc->msg_size, rcc->msg_buf);
    }
    return rcc->channel->ops->handle_message(rcc, rcc->msg_type, rcc->msg_size, rcc->msg_buf);
}

/* Reads until the socket is drained; returns false when rcc must go. */
static bool rcc_receive(RedChannelClient *rcc)
{
    uint32_t hdr_size = rcc->mini_header ? MINI_HEADER_SIZE : FULL_HEADER_SIZE;

    while (!rcc->dead) {
        ssize_t n;
        if (rcc->hdr_pos < hdr_size) {
            n = red_stream_read(rcc->stream, rcc->hdr + rcc->hdr_pos, hdr_size - rcc->hdr_pos);
        } else {
            n = red_stream_read(rcc->stream, rcc->msg_buf + rcc->msg_pos,
                                rcc->msg_size - rcc->msg_pos);
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            return true;
        }
        if (n <= 0) {
            red_debug("channel %u:%u: peer closed (%s)", rcc->channel->type, rcc->channel->id,
                      n < 0 ? g_strerror(errno) : "eof");
            return false;
        }
        if (rcc->hdr_pos < hdr_size) {
            rcc->hdr_pos += (uint32_t)n;
            if (rcc->hdr_pos < hdr_size) {
                continue;
            }
            const uint8_t *h = rcc->hdr + (rcc->mini_header ? 0 : 8);
            rcc->msg_type = (uint16_t)(h[0] | h[1] << 8);
            rcc->msg_size = (uint32_t)h[2] | (uint32_t)h[3] << 8 | (uint32_t)h[4] << 16 |
                            (uint32_t)h[5] << 24;
            if (rcc->msg_size > rcc->channel->max_message_size) {
                red_client_bug("%s: channel %u:%u: message %u of %u bytes exceeds the %u-byte limit",
                               rcc->peer, rcc->channel->type, rcc->channel->id, rcc->msg_type,
                               rcc->msg_size, rcc->channel->max_message_size);
                return false;
            }
            rcc->msg_buf = g_realloc(rcc->msg_buf, rcc->msg_size ? rcc->msg_size : 1);
            rcc->msg_pos = 0;
        } else {
            rcc->msg_pos += (uint32_t)n;
        }
        if (rcc->msg_pos == rcc->msg_size) {
            rcc->hdr_pos = 0;
            if (!rcc_dispatch(rcc)) {
                return false;
            }
        }
    }
    return true;
}

static void rcc_free(RedChannelClient *rcc)
{
    red_timer_remove(rcc->push_timer);
    g_free(rcc->msg_buf);
    g_free(rcc->common_caps);
    g_free(rcc->caps);
    wire_writer_clear(&rcc->out);
    g_free(rcc);
}

static void rcc_io(int fd, int event, void *opaque)
{
    RedChannelClient *rcc = opaque;

    rcc->in_io++;
    if (event & RED_WATCH_READ) {
        if (!rcc_receive(rcc)) {
            red_channel_client_disconnect(rcc);
        }
    }
    if (!rcc->dead) {
        rcc_push(rcc);
    }
    rcc->in_io--;
    if (rcc->dead && !rcc->in_io) {
        rcc_free(rcc);
    }
}

static void rcc_push_timer_cb(void *opaque)
{
    RedChannelClient *rcc = opaque;

    rcc->push_armed = false;
    rcc->in_io++;
    rcc_push(rcc);
    rcc->in_io--;
    if (rcc->dead && !rcc->in_io) {
        rcc_free(rcc);
    }
}

static void describe_peer(const SpiceChannelEventInfo *info, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN], serv[8];   /* numeric forms only */

    if (!info || info->plen_ext == 0 ||
        getnameinfo((const struct sockaddr *)&info->paddr_ext, info->plen_ext, host, sizeof(host),
                    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        g_strlcpy(buf, "local peer", len);
        return;
    }
    snprintf(buf, len, "%s:%s", host, serv);
}

RedChannelClient *red_channel_client_new(RedChannel *channel, RedClient *client, RedLink *link)
{
    g_mutex_lock(&client->lock);
    if (client->disconnecting) {
        g_mutex_unlock(&client->lock);
        red_link_free(link);
        return NULL;
    }

    RedChannelClient *rcc = g_malloc0(channel->client_size);
    rcc->channel = channel;
    rcc->client = red_client_ref(client);
    client->rccs = g_list_prepend(client->rccs, rcc);
    g_mutex_unlock(&client->lock);

    rcc->stream = link->stream;
    link->stream = NULL;
    rcc->mini_header = red_link_has_common_cap(link, SPICE_COMMON_CAP_MINI_HEADER);
    rcc->num_common_caps = link->num_common_caps;
    rcc->common_caps = link->common_caps;
    link->common_caps = NULL;
    link->num_common_caps = 0;
    rcc->num_caps = link->num_channel_caps;
    rcc->caps = link->channel_caps;
    link->channel_caps = NULL;
    link->num_channel_caps = 0;
    red_link_free(link);

    g_queue_init(&rcc->pipe);
    wire_writer_init(&rcc->out);
    describe_peer(rcc->stream->info, rcc->peer, sizeof(rcc->peer));
    rcc->push_timer = red_timer_add(channel->loop, rcc_push_timer_cb, rcc);
    channel->clients = g_list_prepend(channel->clients, rcc);
    rcc->watch = red_watch_add(channel->loop, rcc->stream->fd, RED_WATCH_READ, rcc_io, rcc);

    reds_channel_event(channel->reds, SPICE_CHANNEL_EVENT_INITIALIZED, rcc->stream->info);

    if (channel->use_acks) {
        uint8_t body[8];
        rcc->ack_generation = 1;
        /* fixed for the connection, like upstream: a session measured
         * as low bandwidth before this channel linked gets the wide one */
        rcc->ack_window = red_client_is_low_bandwidth(client) ? RED_CHANNEL_ACK_WINDOW_WIDE
                                                               : RED_CHANNEL_ACK_WINDOW;
        for (int i = 0; i < 4; i++) {
            body[i] = (uint8_t)(rcc->ack_generation >> (8 * i));
            body[4 + i] = (uint8_t)(rcc->ack_window >> (8 * i));
        }
        red_channel_client_send_raw(rcc, SPICE_MSG_SET_ACK, body, sizeof(body));
    }
    return rcc;
}

bool red_channel_client_has_cap(const RedChannelClient *rcc, uint32_t cap)
{
    return cap / 32 < rcc->num_caps && (rcc->caps[cap / 32] >> (cap % 32)) & 1;
}

bool red_channel_client_has_common_cap(const RedChannelClient *rcc, uint32_t cap)
{
    return cap / 32 < rcc->num_common_caps && (rcc->common_caps[cap / 32] >> (cap % 32)) & 1;
}

void red_channel_client_disconnect(RedChannelClient *rcc)
{
    if (rcc->dead) {
        if (!rcc->in_io) {
            rcc_free(rcc);
        }
        return;
    }
    rcc->dead = true;
    RedChannel *channel = rcc->channel;
    RedClient *client = rcc->client;

    red_watch_remove(rcc->watch);
    rcc->watch = NULL;
    if (channel->ops->on_disconnect) {
        channel->ops->on_disconnect(rcc);
    }
    channel->clients = g_list_remove(channel->clients, rcc);

    RedPipeItem *item;
    while ((item = g_queue_pop_head(&rcc->pipe))) {
        pipe_item_free(item);
    }
    rcc->pipe_bytes = 0;

    SpiceChannelEventInfo *info = red_stream_take_info(rcc->stream);
    red_stream_free(rcc->stream);
    rcc->stream = NULL;
    if (info) {
        reds_channel_event(channel->reds, SPICE_CHANNEL_EVENT_DISCONNECTED, info);
    }

    /* The main channel carries the session: when it goes, all go. */
    bool is_main = client->main_rcc == rcc;
    if (is_main) {
        client->main_rcc = NULL;
    }
    g_mutex_lock(&client->lock);
    client->rccs = g_list_remove(client->rccs, rcc);
    client_maybe_gone_locked(client);
    g_mutex_unlock(&client->lock);
    if (is_main) {
        red_client_disconnect(client);
    }
    red_client_unref(client);
    rcc->client = NULL;

    if (!rcc->in_io) {
        rcc_free(rcc);
    }
}

/* ---- hops to a channel's own thread ---- */

typedef struct ConnectJob {
    RedChannel *channel;
    RedClient *client;              /* one reference */
    RedLink *link;                  /* owned */
    void (*on_ready)(RedChannelClient *rcc);
} ConnectJob;

static void connect_job_run(void *data)
{
    ConnectJob *job = data;
    RedChannelClient *rcc = red_channel_client_new(job->channel, job->client, job->link);
    red_client_unref(job->client);
    if (rcc && job->on_ready) {
        job->on_ready(rcc);
    }
    g_free(job);
}

void red_channel_connect_via(RedChannel *channel, RedClient *client, RedLink *link,
                             RedPostFunc post, void *post_opaque,
                             void (*on_ready)(RedChannelClient *rcc))
{
    ConnectJob *job = g_new0(ConnectJob, 1);
    job->channel = channel;
    job->client = red_client_ref(client);
    job->link = link;
    job->on_ready = on_ready;
    post(post_opaque, connect_job_run, job);
}

typedef struct DisconnectJob {
    RedChannel *channel;
    RedChannelClient *rcc;          /* may be gone when the job runs */
} DisconnectJob;

static void disconnect_job_run(void *data)
{
    DisconnectJob *job = data;
    if (g_list_find(job->channel->clients, job->rcc)) {
        red_channel_client_disconnect(job->rcc);
    }
    g_free(job);
}

void red_channel_client_disconnect_via(RedChannelClient *rcc, RedPostFunc post,
                                       void *post_opaque)
{
    DisconnectJob *job = g_new0(DisconnectJob, 1);
    job->channel = rcc->channel;
    job->rcc = rcc;
    post(post_opaque, disconnect_job_run, job);
}
