/* The display and cursor channels of one QXL instance. Both run on the
 * worker's loop; the main loop only registers them with reds and hands
 * authenticated links over (connect -> dispatcher -> worker).
 *
 * For now a client gets SET_ACK (channel base) and is kept alive; the
 * display and cursor protocols (server/display/display-channel*.c,
 * cursor-channel*.c) replace the ops tables here without touching the tree.
 *
 * Threading: create/destroy on the main loop (thread not running),
 * connect_op/request_disconnect on any thread, the rest on the worker.
 */
#include "server/display/worker-private.h"

#include <spice/protocol.h>

#include "server/core/log.h"

static void channel_connect_op(RedChannel *channel, RedClient *client, RedLink *link)
{
    RedWorker *w = channel->priv;
    WorkerMsgConnect m = { .channel = channel, .client = red_client_ref(client), .link = link };
    dispatcher_post(w->dispatcher, WORKER_MSG_CHANNEL_CONNECT, &m, sizeof(m));
}

static void channel_request_disconnect(RedChannelClient *rcc)
{
    RedWorker *w = rcc->channel->priv;
    WorkerMsgDisconnect m = { .rcc = rcc };
    dispatcher_post(w->dispatcher, WORKER_MSG_CHANNEL_DISCONNECT, &m, sizeof(m));
}

static bool channel_handle_message(RedChannelClient *rcc, uint16_t type, uint32_t size,
                                   const uint8_t *body)
{
    /* DISPLAY_INIT, preferred compression, cursor acks...: accepted and
     * ignored until the channel protocols exist. */
    (void)rcc;
    (void)type;
    (void)size;
    (void)body;
    return true;
}

static const RedChannelOps worker_channel_ops = {
    .connect = channel_connect_op,
    .handle_message = channel_handle_message,
    .request_disconnect = channel_request_disconnect,
};

static RedChannel *channel_new(RedWorker *w, uint8_t type)
{
    RedChannel *c = g_new0(RedChannel, 1);
    red_channel_init(c, w->reds, type, (uint8_t)w->qxl->id, w->loop, &worker_channel_ops,
                     sizeof(RedChannelClient));
    c->use_acks = true;
    c->priv = w;
    return c;
}

void worker_channels_create(RedWorker *w)
{
    w->display_channel = channel_new(w, SPICE_CHANNEL_DISPLAY);
    w->cursor_channel = channel_new(w, SPICE_CHANNEL_CURSOR);
}

void worker_channels_destroy(RedWorker *w)
{
    g_clear_pointer(&w->display_channel, g_free);
    g_clear_pointer(&w->cursor_channel, g_free);
}

void worker_channel_connect(RedWorker *w, const WorkerMsgConnect *m)
{
    RedChannel *c = m->channel;
    RedClient *client = m->client;
    g_assert(c == w->display_channel || c == w->cursor_channel);
    red_channel_client_new(c, client, m->link);
    red_client_unref(client);
}

void worker_channel_disconnect(RedWorker *w, const WorkerMsgDisconnect *m)
{
    RedChannel *chans[2] = { w->display_channel, w->cursor_channel };
    for (int i = 0; i < 2; i++) {
        if (chans[i] && g_list_find(chans[i]->clients, m->rcc)) {
            red_channel_client_disconnect(m->rcc);
            return;
        }
    }
}

void worker_channels_close(RedWorker *w)
{
    if (w->display_channel) {
        red_channel_disconnect_all(w->display_channel);
    }
    if (w->cursor_channel) {
        red_channel_disconnect_all(w->cursor_channel);
    }
}
