/* Channels and channel clients.
 *
 * A RedChannel is one (type, id) the server offers; a RedChannelClient is
 * one client's connection to it. The base owns framing (full or mini data
 * header), the outgoing pipe accounted in bytes, the ack window and the
 * base messages (ACK_SYNC, ACK, PONG, DISCONNECTING, migration marks);
 * channels supply an ops table and get whole, size-checked messages.
 *
 * Threading: a channel and its clients live on channel->loop's thread (the
 * main loop for main/inputs/sound, a worker's loop for display/cursor).
 * ops->connect is called on the main loop and must move the link to the
 * channel's thread itself if that differs. RedClient's channel-client list
 * (guarded by its lock) and its link measurement (atomics, written once by
 * the main channel) are the only cross-thread state.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "common/wire/writer.h"
#include "server/core/loop.h"
#include "server/core/reds.h"
#include "server/net/link.h"
#include "server/net/stream.h"

typedef struct RedChannelClient RedChannelClient;
typedef struct RedPipeItem RedPipeItem;

/* Default bound on one received message body; channels may lower it. */
#define RED_CHANNEL_MAX_MSG_SIZE (1u << 20)
/* Default outgoing pipe budget per channel client, in bytes. */
#define RED_PIPE_DEFAULT_BUDGET (8u << 20)
/* Ack window sent with SET_ACK on channels that use acks. */
#define RED_CHANNEL_ACK_WINDOW 20
/* The wider window for a session measured as low bandwidth (upstream's
 * WIDE_CLIENT_ACK_WINDOW): more messages in flight over a long pipe. */
#define RED_CHANNEL_ACK_WINDOW_WIDE 40
/* Below this measured rate (bits/s) a session is "low bandwidth" and WAN
 * "auto" settings turn on (upstream's 10 * 1024 * 1024). */
#define RED_CLIENT_LOW_BANDWIDTH_BPS (10u * 1024 * 1024)

/* --- pipe items --- */

typedef struct RedPipeItemOps {
    /* Writes the message body into w (w->base is already the body start)
     * and returns the message type. Called once, when the item reaches the
     * head of the pipe and the socket can take it. Required. */
    uint16_t (*marshal)(RedChannelClient *rcc, RedPipeItem *item, WireWriter *w);
    /* Frees the item. Optional: default g_free(). */
    void (*free)(RedPipeItem *item);
} RedPipeItemOps;

struct RedPipeItem {
    const RedPipeItemOps *ops;
    size_t size;         /* bytes charged to the pipe until sent (estimate) */
    int kind;            /* channel-defined tag (e.g. to drop superseded items) */
};

/* --- channels --- */

typedef struct RedChannelOps {
    /* Main loop, after a successful link of this channel: create the
     * channel client with red_channel_client_new() (on the channel's thread)
     * or refuse by freeing the link. Owns link. Required. */
    void (*connect)(RedChannel *channel, RedClient *client, RedLink *link);
    /* One channel-specific message (type >= 101), body of `size` bytes
     * (size <= max_message_size). Return false for a client bug: the client
     * is disconnected. Required. */
    bool (*handle_message)(RedChannelClient *rcc, uint16_t type, uint32_t size, const uint8_t *body);
    /* Channel thread, once, before a client is freed. Optional. */
    void (*on_disconnect)(RedChannelClient *rcc);
    /* Any thread: ask for rcc to be disconnected on its own thread.
     * Optional; default for main-loop channels disconnects at once. */
    void (*request_disconnect)(RedChannelClient *rcc);
    /* Channel thread: the pipe became empty / the client acked. Optional. */
    void (*on_pipe_drained)(RedChannelClient *rcc);
    /* Channel thread: a PONG arrived. Optional. */
    void (*on_pong)(RedChannelClient *rcc, uint32_t id, uint64_t timestamp);
    /* Main loop, from spice_server_destroy after the channel was
     * unregistered and its main-loop clients disconnected: free the channel.
     * Optional (channels owned elsewhere, e.g. by a worker, leave it NULL). */
    void (*destroy)(RedChannel *channel);
} RedChannelOps;

#define RED_CHANNEL_MAX_CAP_WORDS 4

struct RedChannel {
    const RedChannelOps *ops;
    RedsState *reds;                 /* not owned */
    uint8_t type;                    /* SPICE_CHANNEL_* */
    uint8_t id;
    RedLoop *loop;                   /* the loop its clients run on; not owned */
    uint32_t max_message_size;       /* bound on received bodies */
    size_t pipe_budget;              /* bytes per client pipe (informational
                                        for channels that drop on overflow) */
    bool use_acks;                   /* send SET_ACK and obey the window */
    size_t client_size;              /* sizeof the channel's client struct */
    uint32_t num_caps;               /* channel caps words advertised */
    uint32_t caps[RED_CHANNEL_MAX_CAP_WORDS];
    GList *clients;                  /* RedChannelClient*, channel thread */
    void *priv;                      /* the channel's own state */
};

/* Initialises a caller-allocated channel (does not register it). */
void red_channel_init(RedChannel *channel, RedsState *reds, uint8_t type, uint8_t id,
                      RedLoop *loop, const RedChannelOps *ops, size_t client_size);
void red_channel_set_cap(RedChannel *channel, uint32_t cap);
/* Disconnects every client (channel thread). */
void red_channel_disconnect_all(RedChannel *channel);

/* --- sessions --- */

/* One connected client: the main channel client plus the other channels it
 * attached with the same connection id. Created and freed on the main loop. */
struct RedClient {
    RedsState *reds;
    uint32_t connection_id;
    gint refs;                       /* atomic: reds' list, each rcc, each
                                        link in flight to a worker */
    RedChannelClient *main_rcc;      /* main loop */
    GMutex lock;                     /* guards rccs, disconnecting, gone */
    GList *rccs;                     /* every RedChannelClient, any thread */
    bool disconnecting;              /* no new channel clients may join */
    bool gone;                       /* reds_client_gone() was posted */
    /* link measurement (the main channel's net test): written on the main
     * loop, read from any thread */
    _Atomic uint64_t net_bitrate;    /* bits/s, 0 = not measured */
    _Atomic int64_t net_latency_us;  /* round trip in us, 0 = not measured */
};

/* Main loop: a new session holding one reference (reds' list). */
RedClient *red_client_new(RedsState *reds, uint32_t connection_id);
/* Any thread. */
RedClient *red_client_ref(RedClient *client);
void red_client_unref(RedClient *client);
/* Any thread: disconnect every channel client of the session (each on its
 * own thread); once the last one is gone reds_client_gone() runs on the
 * main loop. */
void red_client_disconnect(RedClient *client);

/* Main loop (server/main net test): publishes the session's measured link
 * rate (bits/s, > 0) and round trip (us). */
void red_client_set_link(RedClient *client, uint64_t bitrate_bps, int64_t latency_us);
/* Any thread: the session's measured link rate in bits/s; 0 while there is
 * no measurement (unix socket, test not finished, unusable figures). */
uint64_t red_client_get_bitrate(RedClient *client);
/* Any thread: the net test's round trip in us; 0 = not measured. */
int64_t red_client_get_latency_us(RedClient *client);
/* Any thread: true once the session was measured below
 * RED_CLIENT_LOW_BANDWIDTH_BPS; false without a measurement. */
bool red_client_is_low_bandwidth(RedClient *client);

/* --- channel clients --- */

struct RedChannelClient {
    RedChannel *channel;
    RedClient *client;
    RedStream *stream;               /* owned */
    RedWatch *watch;
    bool mini_header;                /* client advertised MINI_HEADER */
    uint32_t num_common_caps;
    uint32_t *common_caps;           /* owned */
    uint32_t num_caps;
    uint32_t *caps;                  /* owned: the client's channel caps */

    /* receive */
    uint8_t hdr[sizeof(SpiceDataHeader)];
    uint32_t hdr_pos;
    uint16_t msg_type;
    uint32_t msg_size;
    uint32_t msg_pos;
    uint8_t *msg_buf;                /* owned */

    /* send */
    GQueue pipe;                     /* RedPipeItem* waiting to be marshalled */
    size_t pipe_bytes;               /* sum of item->size in pipe */
    WireWriter out;                  /* the message being written */
    size_t out_pos;
    uint64_t serial;                 /* last serial sent */
    uint64_t bytes_sent;
    uint64_t pipe_bytes_out;         /* sum of item->size of items marshalled
                                        (drain-rate estimates) */

    /* acks */
    uint32_t ack_generation;
    uint32_t ack_window;
    uint32_t client_generation;
    uint32_t unacked;                /* messages sent since the client's last ACK */

    RedTimer *push_timer;            /* writes queued items from the loop */
    bool push_armed;
    char peer[64];                   /* peer address, for log lines */

    int in_io;                       /* > 0 while inside an io callback */
    bool dead;                       /* disconnected, free when io unwinds */
};

/* Channel thread: takes over link->stream and link caps (link is freed),
 * attaches the client to channel and session, starts reading. Sends SET_ACK
 * when the channel uses acks. Returns the client (size channel->client_size,
 * zeroed beyond the base) or NULL if the stream is already dead. */
RedChannelClient *red_channel_client_new(RedChannel *channel, RedClient *client, RedLink *link);

bool red_channel_client_has_cap(const RedChannelClient *rcc, uint32_t cap);
bool red_channel_client_has_common_cap(const RedChannelClient *rcc, uint32_t cap);

/* Queues an item at the tail (takes ownership). Writing starts from the
 * loop (never inside this call), so the caller's rcc stays valid even when
 * the write then fails. */
void red_channel_client_pipe_add(RedChannelClient *rcc, RedPipeItem *item);
/* Queues a ready-made message body (copied). */
void red_channel_client_send_raw(RedChannelClient *rcc, uint16_t type, const void *body, size_t len);
/* Removes (and frees) every queued item for which pred returns true; used
 * to drop superseded items. Returns bytes freed. */
size_t red_channel_client_pipe_drop(RedChannelClient *rcc,
                                    bool (*pred)(RedPipeItem *item, void *opaque), void *opaque);
/* True when the socket cannot take more now (ack window full or writes
 * pending). */
bool red_channel_client_is_blocked(const RedChannelClient *rcc);

/* Runs func(data) on a channel's own thread soon (e.g. through a worker's
 * dispatcher). Must not block and must run func exactly once. */
typedef void (*RedPostFunc)(void *opaque, void (*func)(void *data), void *data);

/* Main loop, from ops->connect of a channel that lives on another thread:
 * creates the channel client there through post, then calls on_ready(rcc)
 * on that thread (not when the session went away meanwhile). Owns link. */
void red_channel_connect_via(RedChannel *channel, RedClient *client, RedLink *link,
                             RedPostFunc post, void *post_opaque,
                             void (*on_ready)(RedChannelClient *rcc));
/* Any thread, for ops->request_disconnect: disconnects rcc on its
 * channel's thread through post; nothing happens if rcc is gone by then. */
void red_channel_client_disconnect_via(RedChannelClient *rcc, RedPostFunc post,
                                       void *post_opaque);

/* Channel thread: closes the connection, reports DISCONNECTED, calls
 * ops->on_disconnect, detaches from the session and frees (deferred if
 * called from inside the client's own io callback). */
void red_channel_client_disconnect(RedChannelClient *rcc);
