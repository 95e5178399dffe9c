/* Main channel: MAIN_INIT and session setup, CHANNELS_LIST, mouse-mode
 * requests, PING/PONG (the net test of net-test.h, then one idle PING per
 * interval) and the client half of the agent route (see main-channel.h).
 * Main loop only. */
#include "server/main/main-channel.h"

#include <string.h>

#include "common/wire/client-msgs.h"
#include "common/wire/writer.h"
#include "server/channel/channel.h"
#include "server/chardev/agent.h"
#include "server/core/log.h"
#include "server/core/mm-time.h"
#include "server/main/net-test.h"
#include "server/qxl/red-qxl.h"

/* The client's mm clock starts this far behind ours (upstream's
 * MM_TIME_DELTA), so it buffers streams a little. */
#define MAIN_MM_TIME_DELTA_MS RED_MM_TIME_CLIENT_DELTA_MS

typedef struct MainChannel {
    RedChannel base;
    RedAgent *agent;                 /* owned */
} MainChannel;

typedef struct MainChannelClient {
    RedChannelClient base;
    RedTimer *ping_timer;            /* owned: next periodic PING */
    uint32_t ping_id;                /* id of the last PING queued */
    uint32_t ping_waiting;           /* periodic PING whose PONG is awaited, 0 = none */
    int64_t latency_us;              /* last measured round trip, -1 = none */
    NetTest net_test;                /* link measurement after MAIN_INIT */
    bool channels_attached;          /* ATTACH_CHANNELS seen: announce new ones */
    bool agent_started;              /* AGENT_START seen */
    uint32_t agent_send_tokens;      /* AGENT_DATA we may still send it */
    uint32_t agent_recv_tokens;      /* AGENT_DATA it may still send us */
    uint32_t agent_tokens_due;       /* consumed, not yet returned */
} MainChannelClient;

static MainChannel *main_channel_of(RedsState *reds)
{
    return reds->main_channel ? reds->main_channel->priv : NULL;
}

static MainChannelClient *mcc_of(RedChannelClient *rcc)
{
    g_assert(rcc->channel->type == SPICE_CHANNEL_MAIN);
    return (MainChannelClient *)rcc;
}

static uint32_t main_mm_time(void)
{
    return red_mm_time_now();
}

static void send_init(RedsState *reds, RedChannelClient *rcc)
{
    WireWriter w;
    uint32_t supported = SPICE_MOUSE_MODE_SERVER;
    uint32_t ram_hint = 0;

    if (reds->client_mouse_allowed) {
        supported |= SPICE_MOUSE_MODE_CLIENT;
    }
    if (reds->qxl_instances) {
        ram_hint = red_qxl_get_ram_size(reds->qxl_instances->data);
    }
    wire_writer_init(&w);
    wire_put_u32(&w, rcc->client->connection_id);
    wire_put_u32(&w, g_list_length(reds->qxl_instances));
    wire_put_u32(&w, supported);
    wire_put_u32(&w, reds->mouse_mode);
    wire_put_u32(&w, reds->vdagent != NULL);
    wire_put_u32(&w, MAIN_AGENT_CLIENT_TOKENS);
    wire_put_u32(&w, main_mm_time() - MAIN_MM_TIME_DELTA_MS);
    wire_put_u32(&w, ram_hint);
    red_channel_client_send_raw(rcc, SPICE_MSG_MAIN_INIT, w.data, w.len);
    wire_writer_clear(&w);
}

static void send_name_uuid(RedsState *reds, RedChannelClient *rcc)
{
    if (!red_channel_client_has_cap(rcc, SPICE_MAIN_CAP_NAME_AND_UUID)) {
        return;
    }
    if (reds->cfg.name) {
        WireWriter w;
        size_t len = strlen(reds->cfg.name) + 1;   /* upstream counts the NUL */
        wire_writer_init(&w);
        wire_put_u32(&w, (uint32_t)len);
        wire_put_bytes(&w, reds->cfg.name, len);
        red_channel_client_send_raw(rcc, SPICE_MSG_MAIN_NAME, w.data, w.len);
        wire_writer_clear(&w);
    }
    if (reds->cfg.uuid_set) {
        red_channel_client_send_raw(rcc, SPICE_MSG_MAIN_UUID, reds->cfg.uuid, 16);
    }
}

static void send_channels_list(RedsState *reds, RedChannelClient *rcc)
{
    WireWriter w;
    uint32_t n = 0;

    wire_writer_init(&w);
    size_t count_at = w.len;
    wire_put_u32(&w, 0);
    for (GList *l = reds->channels; l; l = l->next) {
        RedChannel *ch = l->data;
        if (ch->type == SPICE_CHANNEL_MAIN) {
            continue;
        }
        wire_put_u8(&w, ch->type);
        wire_put_u8(&w, ch->id);
        n++;
    }
    wire_set_u32(&w, count_at, n);
    red_channel_client_send_raw(rcc, SPICE_MSG_MAIN_CHANNELS_LIST, w.data, w.len);
    wire_writer_clear(&w);
}

static void send_agent_connected(RedChannelClient *rcc)
{
    if (red_channel_client_has_cap(rcc, SPICE_MAIN_CAP_AGENT_CONNECTED_TOKENS)) {
        uint8_t body[4];
        WireWriter w;
        wire_writer_init(&w);
        wire_put_u32(&w, MAIN_AGENT_CLIENT_TOKENS);
        memcpy(body, w.data, 4);
        wire_writer_clear(&w);
        red_channel_client_send_raw(rcc, SPICE_MSG_MAIN_AGENT_CONNECTED_TOKENS, body, 4);
    } else {
        red_channel_client_send_raw(rcc, SPICE_MSG_MAIN_AGENT_CONNECTED, NULL, 0);
    }
}

static void send_u32_msg(RedChannelClient *rcc, uint16_t type, uint32_t v)
{
    uint8_t body[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    red_channel_client_send_raw(rcc, type, body, sizeof(body));
}

/* --- PING / PONG --- */

typedef struct PingItem {
    RedPipeItem base;
    uint32_t id;
    uint32_t padding;                /* zero bytes after the timestamp */
} PingItem;

static uint16_t ping_marshal(RedChannelClient *rcc, RedPipeItem *item, WireWriter *w)
{
    PingItem *ping = (PingItem *)item;
    /* stamped when it reaches the socket, so queueing time is not counted */
    int64_t now = g_get_monotonic_time();
    wire_put_u32(w, ping->id);
    wire_put_u64(w, (uint64_t)now);
    if (ping->padding) {
        memset(wire_put_space(w, ping->padding), 0, ping->padding);
    }
    net_test_on_sent(&mcc_of(rcc)->net_test, ping->id, now);
    return SPICE_MSG_PING;
}

static const RedPipeItemOps ping_item_ops = {
    .marshal = ping_marshal,
};

/* Queues PING {id} with `padding` zero bytes through the normal pipe. */
static void queue_ping(MainChannelClient *mcc, uint32_t id, uint32_t padding)
{
    PingItem *item = g_new0(PingItem, 1);
    item->base.ops = &ping_item_ops;
    item->base.size = 32 + padding;
    item->id = id;
    item->padding = padding;
    red_channel_client_pipe_add(&mcc->base, &item->base);
}

static uint32_t next_ping_id(MainChannelClient *mcc)
{
    if (++mcc->ping_id == 0) {
        ++mcc->ping_id;              /* 0 means "none" */
    }
    return mcc->ping_id;
}

static void push_ping(MainChannelClient *mcc)
{
    mcc->ping_waiting = next_ping_id(mcc);
    queue_ping(mcc, mcc->ping_waiting, 0);
}

/* Queues the net test's three PINGs (net-test.h) behind what is queued. */
static void start_net_test(MainChannelClient *mcc)
{
    mcc->ping_id = net_test_start(&mcc->net_test, mcc->ping_id + 1) - 1;
    for (unsigned i = 0; i < NET_TEST_PINGS; i++) {
        queue_ping(mcc, net_test_ping_id(&mcc->net_test, i), net_test_ping_padding(i));
    }
}

static void net_test_finished(MainChannelClient *mcc)
{
    RedChannelClient *rcc = &mcc->base;
    NetTest *t = &mcc->net_test;

    mcc->latency_us = t->latency_us;
    if (t->stage != NET_TEST_DONE) {
        /* as upstream: no figure, so the session is not low bandwidth */
        red_info("main: session %u net test unusable (latency %" G_GINT64_FORMAT
                 " us, rate PING no slower); not low bandwidth",
                 rcc->client->connection_id, t->latency_us);
        return;
    }
    red_client_set_link(rcc->client, t->bitrate, t->latency_us);
    red_info("main: session %u net test: latency %" G_GINT64_FORMAT " us, %" G_GUINT64_FORMAT
             " bits/s%s", rcc->client->connection_id, t->latency_us, t->bitrate,
             red_client_is_low_bandwidth(rcc->client) ? ", low bandwidth" : "");
}

static void ping_timer_cb(void *opaque)
{
    MainChannelClient *mcc = opaque;
    if (mcc->base.dead) {
        return;
    }
    /* re-armed first: pushing may fail the write and free mcc */
    red_timer_start(mcc->ping_timer, MAIN_PING_INTERVAL_MS);
    /* one PING in flight at a time: a client that does not answer is not
     * flooded, and the next interval tries again */
    if (mcc->ping_waiting == 0) {
        push_ping(mcc);
    }
}

static void main_on_pong(RedChannelClient *rcc, uint32_t id, uint64_t timestamp)
{
    MainChannelClient *mcc = mcc_of(rcc);
    int64_t now = g_get_monotonic_time();

    switch (net_test_on_pong(&mcc->net_test, id, timestamp, now)) {
    case NET_TEST_PONG_REFUSED:
        red_client_bug("main channel: PONG %u of the net test early, out of order or with a "
                       "wrong timestamp, ignored", id);
        return;
    case NET_TEST_PONG_NEXT:
    case NET_TEST_PONG_FINISHED:
        /* accepted: the echoed timestamp is the one we recorded */
        red_debug("main: session %u round trip %" G_GINT64_FORMAT " us (net test PONG %u)",
                  rcc->client->connection_id, now - (int64_t)timestamp, id);
        if (mcc->net_test.stage >= NET_TEST_DONE) {
            net_test_finished(mcc);
        }
        return;
    case NET_TEST_PONG_NOT_OURS:
        break;
    }
    if (id == 0 || id != mcc->ping_waiting) {
        /* one idle PING is in flight at a time and spice-gtk echoes the
         * id it got: anything else was made up */
        red_client_bug("main channel: PONG %u not awaited (waiting for %u), ignored", id,
                       mcc->ping_waiting);
        return;
    }
    mcc->ping_waiting = 0;
    if (timestamp > (uint64_t)now) {
        red_client_bug("main channel: PONG %u carries a timestamp from the future", id);
        return;
    }
    mcc->latency_us = now - (int64_t)timestamp;
    red_debug("main: session %u round trip %" G_GINT64_FORMAT " us (PONG %u)",
              rcc->client->connection_id, mcc->latency_us, id);
}

/* --- NOTIFY --- */

static void send_notify(RedChannelClient *rcc, uint32_t severity, uint32_t visibility,
                        const char *text)
{
    WireWriter w;
    size_t len = strlen(text);

    if (len > MAIN_NOTIFY_MAX_TEXT) {
        len = MAIN_NOTIFY_MAX_TEXT;
    }
    wire_writer_init(&w);
    wire_put_u64(&w, (uint64_t)g_get_monotonic_time() * 1000);   /* ns, as upstream */
    wire_put_u32(&w, severity);
    wire_put_u32(&w, visibility);
    wire_put_u32(&w, severity == SPICE_NOTIFY_SEVERITY_INFO ? SPICE_INFO_GENERAL
                                                            : SPICE_WARN_GENERAL);
    wire_put_u32(&w, (uint32_t)len);
    wire_put_bytes(&w, text, len);
    wire_put_u8(&w, 0);              /* upstream sends the NUL after message_len bytes */
    red_channel_client_send_raw(rcc, SPICE_MSG_NOTIFY, w.data, w.len);
    wire_writer_clear(&w);
}

void main_channel_notify(RedsState *reds, RedClient *client, uint32_t severity,
                         uint32_t visibility, const char *text)
{
    MainChannel *mc = main_channel_of(reds);
    if (!mc || !text) {
        return;
    }
    g_return_if_fail(severity <= SPICE_NOTIFY_SEVERITY_ERROR);
    g_return_if_fail(visibility <= SPICE_NOTIFY_VISIBILITY_HIGH);
    for (GList *l = mc->base.clients; l; l = l->next) {
        RedChannelClient *rcc = l->data;
        if (!client || rcc->client == client) {
            send_notify(rcc, severity, visibility, text);
        }
    }
}

static void main_connect(RedChannel *channel, RedClient *client, RedLink *link)
{
    RedsState *reds = channel->reds;
    RedChannelClient *rcc = red_channel_client_new(channel, client, link);
    if (!rcc) {
        return;
    }
    MainChannelClient *mcc = mcc_of(rcc);
    mcc->agent_recv_tokens = MAIN_AGENT_CLIENT_TOKENS;
    client->main_rcc = rcc;
    mcc->latency_us = -1;
    send_init(reds, rcc);
    send_name_uuid(reds, rcc);
    mcc->ping_timer = red_timer_add(channel->loop, ping_timer_cb, mcc);
    red_timer_start(mcc->ping_timer, MAIN_PING_INTERVAL_MS);
    if (!rcc->stream->is_unix) {
        /* behind MAIN_INIT and before CHANNELS_LIST (sent on the client's
         * ATTACH_CHANNELS), so a client links its display channel only
         * after it answered the rate PING: the figure is usually known
         * when the display channel starts. Unix sockets are local: no
         * test, as upstream. */
        start_net_test(mcc);
    }
}

static void handle_mouse_mode_request(RedsState *reds, uint16_t mode)
{
    if (mode != SPICE_MOUSE_MODE_SERVER && mode != SPICE_MOUSE_MODE_CLIENT) {
        red_client_bug("MOUSE_MODE_REQUEST for unknown mode %u, ignored", mode);
        return;
    }
    if (mode == SPICE_MOUSE_MODE_CLIENT && !reds->client_mouse_allowed) {
        red_info("client mouse mode requested but not allowed now");
        main_channel_push_mouse_mode(reds);
        return;
    }
    reds_set_mouse_mode(reds, mode);
}

static bool main_handle_message(RedChannelClient *rcc, uint16_t type, uint32_t size,
                                const uint8_t *body)
{
    RedsState *reds = rcc->channel->reds;
    MainChannelClient *mcc = mcc_of(rcc);
    MainChannel *mc = rcc->channel->priv;
    WireMainMsg msg;
    WireParseResult res = wire_parse_main_msg(type, body, size, &msg);

    if (!res.ok) {
        red_client_bug("main channel: %s (type %u, %u bytes): %s", res.name, type, size,
                       res.error);
        return false;
    }
    switch (type) {
    case SPICE_MSGC_MAIN_ATTACH_CHANNELS:
        send_channels_list(reds, rcc);
        mcc->channels_attached = true;
        break;
    case SPICE_MSGC_MAIN_MOUSE_MODE_REQUEST:
        handle_mouse_mode_request(reds, msg.u.mouse_mode_request.mode);
        break;
    case SPICE_MSGC_MAIN_AGENT_START:
        mcc->agent_started = true;
        mcc->agent_send_tokens = msg.u.agent_start.num_tokens;
        red_agent_wakeup(mc->agent);
        break;
    case SPICE_MSGC_MAIN_AGENT_TOKEN: {
        uint64_t t = (uint64_t)mcc->agent_send_tokens + msg.u.agent_token.num_tokens;
        mcc->agent_send_tokens = t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
        red_agent_wakeup(mc->agent);
        break;
    }
    case SPICE_MSGC_MAIN_AGENT_DATA:
        if (mcc->agent_recv_tokens == 0) {
            red_client_bug("main channel: AGENT_DATA without a token");
            return false;
        }
        mcc->agent_recv_tokens--;
        if (!red_agent_attached(mc->agent)) {
            /* no agent: the data has nowhere to go, hand the token back */
            main_channel_agent_token_return(rcc);
            main_channel_agent_tokens_flush(reds);
            break;
        }
        return red_agent_client_data(mc->agent, rcc, msg.u.agent_data.data,
                                     msg.u.agent_data.size);
    case SPICE_MSGC_MAIN_CLIENT_INFO:
    default:
        /* CLIENT_INFO (cache size hint), migration and quality messages:
         * accepted and ignored, we never migrate. */
        break;
    }
    return true;
}

static void main_on_disconnect(RedChannelClient *rcc)
{
    MainChannelClient *mcc = mcc_of(rcc);
    MainChannel *mc = rcc->channel->priv;

    red_timer_remove(mcc->ping_timer);
    mcc->ping_timer = NULL;
    if (mcc->agent_started) {
        red_agent_client_gone(mc->agent, rcc);
    }
    mcc->agent_started = false;
    /* other clients may now have room for agent data */
    red_agent_wakeup(mc->agent);
}

static void main_destroy(RedChannel *channel)
{
    MainChannel *mc = channel->priv;
    red_agent_free(mc->agent);
    g_free(mc);
}

static const RedChannelOps main_channel_ops = {
    .connect = main_connect,
    .handle_message = main_handle_message,
    .on_disconnect = main_on_disconnect,
    .on_pong = main_on_pong,
    .destroy = main_destroy,
};

RedChannel *main_channel_new(RedsState *reds)
{
    MainChannel *mc = g_new0(MainChannel, 1);

    red_channel_init(&mc->base, reds, SPICE_CHANNEL_MAIN, 0, reds->loop, &main_channel_ops,
                     sizeof(MainChannelClient));
    mc->base.priv = mc;
    /* the largest client message is one agent chunk */
    mc->base.max_message_size = WIRE_AGENT_DATA_MAX;
    red_channel_set_cap(&mc->base, SPICE_MAIN_CAP_SEMI_SEAMLESS_MIGRATE);
    red_channel_set_cap(&mc->base, SPICE_MAIN_CAP_NAME_AND_UUID);
    red_channel_set_cap(&mc->base, SPICE_MAIN_CAP_AGENT_CONNECTED_TOKENS);
    mc->agent = red_agent_new(reds);
    return &mc->base;
}

void main_channel_announce_channel(RedsState *reds, RedChannel *channel)
{
    MainChannel *mc = main_channel_of(reds);
    if (!mc || channel->type == SPICE_CHANNEL_MAIN) {
        return;
    }
    uint8_t body[6] = { 1, 0, 0, 0, channel->type, channel->id };
    for (GList *l = mc->base.clients; l; l = l->next) {
        RedChannelClient *rcc = l->data;
        if (mcc_of(rcc)->channels_attached) {
            red_channel_client_send_raw(rcc, SPICE_MSG_MAIN_CHANNELS_LIST, body, sizeof(body));
        }
    }
}

void main_channel_agent_state(RedsState *reds, bool connected)
{
    MainChannel *mc = main_channel_of(reds);
    if (!mc) {
        return;
    }
    if (connected) {
        red_agent_attach(mc->agent);
    } else {
        red_agent_detach(mc->agent);
    }
    reds_update_mouse_mode(reds);
    for (GList *l = mc->base.clients; l; l = l->next) {
        RedChannelClient *rcc = l->data;
        MainChannelClient *mcc = mcc_of(rcc);
        /* a new agent means a fresh token window on both sides */
        mcc->agent_started = false;
        mcc->agent_send_tokens = 0;
        mcc->agent_recv_tokens = MAIN_AGENT_CLIENT_TOKENS;
        mcc->agent_tokens_due = 0;
        if (connected) {
            send_agent_connected(rcc);
        } else {
            send_u32_msg(rcc, SPICE_MSG_MAIN_AGENT_DISCONNECTED, SPICE_LINK_ERR_OK);
        }
    }
}

void main_channel_push_mouse_mode(RedsState *reds)
{
    MainChannel *mc = main_channel_of(reds);
    if (!mc) {
        return;
    }
    uint16_t supported = SPICE_MOUSE_MODE_SERVER;
    if (reds->client_mouse_allowed) {
        supported |= SPICE_MOUSE_MODE_CLIENT;
    }
    uint16_t current = (uint16_t)reds->mouse_mode;
    uint8_t body[4] = { (uint8_t)supported, (uint8_t)(supported >> 8),
                        (uint8_t)current, (uint8_t)(current >> 8) };
    for (GList *l = mc->base.clients; l; l = l->next) {
        red_channel_client_send_raw(l->data, SPICE_MSG_MAIN_MOUSE_MODE, body, sizeof(body));
    }
}

RedAgent *main_channel_get_agent(RedsState *reds)
{
    MainChannel *mc = main_channel_of(reds);
    return mc ? mc->agent : NULL;
}

bool main_channel_agent_can_send(RedsState *reds)
{
    MainChannel *mc = main_channel_of(reds);
    if (!mc) {
        return false;
    }
    for (GList *l = mc->base.clients; l; l = l->next) {
        MainChannelClient *mcc = mcc_of(l->data);
        if (mcc->agent_started && mcc->agent_send_tokens == 0) {
            return false;
        }
    }
    return true;
}

void main_channel_agent_send(RedsState *reds, const uint8_t *data, uint32_t len)
{
    MainChannel *mc = main_channel_of(reds);
    if (!mc) {
        return;
    }
    for (GList *l = mc->base.clients; l; l = l->next) {
        MainChannelClient *mcc = mcc_of(l->data);
        if (!mcc->agent_started) {
            continue;
        }
        /* can_send() was checked per device chunk; a chunk that grew past
         * one message (a header split across chunks) may overrun by one */
        if (mcc->agent_send_tokens > 0) {
            mcc->agent_send_tokens--;
        }
        red_channel_client_send_raw(&mcc->base, SPICE_MSG_MAIN_AGENT_DATA, data, len);
    }
}

static void tokens_flush_one(MainChannelClient *mcc)
{
    if (mcc->agent_tokens_due == 0 || mcc->base.dead) {
        return;
    }
    send_u32_msg(&mcc->base, SPICE_MSG_MAIN_AGENT_TOKEN, mcc->agent_tokens_due);
    mcc->agent_recv_tokens += mcc->agent_tokens_due;
    mcc->agent_tokens_due = 0;
}

void main_channel_agent_token_return(RedChannelClient *rcc)
{
    if (!rcc) {
        return;
    }
    MainChannelClient *mcc = mcc_of(rcc);
    mcc->agent_tokens_due++;
    if (mcc->agent_tokens_due >= MAIN_AGENT_TOKEN_BATCH) {
        tokens_flush_one(mcc);
    }
}

void main_channel_agent_tokens_flush(RedsState *reds)
{
    MainChannel *mc = main_channel_of(reds);
    if (!mc) {
        return;
    }
    for (GList *l = mc->base.clients; l; l = l->next) {
        tokens_flush_one(mcc_of(l->data));
    }
}
