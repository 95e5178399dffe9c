/* Cursor channel: state copy, per-client coalescing pipe and shape cache
 * (cursor-channel.h). Cache decisions are taken when an item is marshalled,
 * so dropping a superseded item never desynchronises the cache model; an
 * eviction goes out as INVAL_ONE in the same LIST as the SET that caused
 * it, before it. */
#include "server/display/cursor-channel.h"

#include <string.h>
#include <spice/protocol.h>

#include "common/wire/display-marshal.h"
#include "server/core/log.h"

typedef struct CursorShape {
    int refs;
    uint64_t unique;                /* 0 = not cacheable */
    uint8_t type;
    uint16_t width, height, hot_x, hot_y;
    size_t data_size;
    uint8_t data[];
} CursorShape;

typedef struct CursorChannel {
    RedChannel base;                /* first */
    CursorChannelHost host;
    RedPoint16 position;
    bool visible;
    uint16_t trail_length, trail_frequency;
    CursorShape *shape;             /* current, NULL = none */
    uint32_t mouse_mode;
} CursorChannel;

typedef struct CursorChannelClient {
    RedChannelClient base;          /* first */
    GHashTable *cache;              /* uint64 unique -> GList* link in lru */
    GQueue lru;                     /* uint64* (owned), head = least recently used */
} CursorChannelClient;

/* Item kinds (raw items from the base are kind 0 and never dropped). */
enum {
    CUR_ITEM_INIT = 1,
    CUR_ITEM_SET,
    CUR_ITEM_MOVE,
    CUR_ITEM_HIDE,
    CUR_ITEM_TRAIL,
    CUR_ITEM_RESET,
    CUR_ITEM_INVAL_ALL,
};

typedef struct CursorItem {
    RedPipeItem base;
    RedPoint16 position;
    bool visible;
    uint16_t trail_length, trail_frequency;
    CursorShape *shape;             /* reference, SET/INIT */
} CursorItem;

static void cursor_connect(RedChannel *channel, RedClient *client, RedLink *link);
static void cursor_request_disconnect(RedChannelClient *rcc);
static bool cursor_handle_message(RedChannelClient *rcc, uint16_t type, uint32_t size,
                                  const uint8_t *body);
static void cursor_on_disconnect(RedChannelClient *rcc);

static const RedChannelOps cursor_ops = {
    .connect = cursor_connect,
    .handle_message = cursor_handle_message,
    .on_disconnect = cursor_on_disconnect,
    .request_disconnect = cursor_request_disconnect,
};

bool cursor_channel_is(const RedChannel *channel)
{
    return channel && channel->ops == &cursor_ops;
}

static CursorChannel *cursor_from(RedChannel *c)
{
    g_assert(cursor_channel_is(c));
    return (CursorChannel *)c;
}

static CursorShape *shape_ref(CursorShape *s)
{
    if (s) {
        s->refs++;
    }
    return s;
}

static void shape_unref(CursorShape *s)
{
    if (s && --s->refs == 0) {
        g_free(s);
    }
}

/* ---- per-client cache ---- */

static bool cache_lookup(CursorChannelClient *ccc, uint64_t unique)
{
    GList *link = g_hash_table_lookup(ccc->cache, &unique);
    if (!link) {
        return false;
    }
    g_queue_unlink(&ccc->lru, link);
    g_queue_push_tail_link(&ccc->lru, link);
    return true;
}

/* Adds unique; returns true and sets *evicted when an id had to go. */
static bool cache_add(CursorChannelClient *ccc, uint64_t unique, uint64_t *evicted)
{
    bool ev = false;
    if (g_queue_get_length(&ccc->lru) >= CURSOR_CACHE_SIZE) {
        uint64_t *old = g_queue_pop_head(&ccc->lru);
        *evicted = *old;
        g_hash_table_remove(ccc->cache, old);
        g_free(old);
        ev = true;
    }
    uint64_t *key = g_new(uint64_t, 1);
    *key = unique;
    g_queue_push_tail(&ccc->lru, key);
    g_hash_table_insert(ccc->cache, key, ccc->lru.tail);
    return ev;
}

static void cache_clear(CursorChannelClient *ccc)
{
    g_hash_table_remove_all(ccc->cache);
    g_queue_clear_full(&ccc->lru, g_free);
}

/* ---- items ---- */

/* Fills wc for shape; returns true when an INVAL_ONE for *evicted must
 * precede the message. */
static bool resolve_shape(CursorChannelClient *ccc, const CursorShape *s, WireCursor *wc,
                          uint64_t *evicted)
{
    memset(wc, 0, sizeof(*wc));
    if (!s) {
        wc->flags = SPICE_CURSOR_FLAGS_NONE;
        return false;
    }
    wc->unique = s->unique;
    wc->type = s->type;
    wc->width = s->width;
    wc->height = s->height;
    wc->hot_spot_x = s->hot_x;
    wc->hot_spot_y = s->hot_y;
    wc->data = s->data;
    wc->data_size = s->data_size;
    if (!s->unique) {
        return false;
    }
    if (cache_lookup(ccc, s->unique)) {
        wc->flags = SPICE_CURSOR_FLAGS_FROM_CACHE;
        return false;
    }
    wc->flags = SPICE_CURSOR_FLAGS_CACHE_ME;
    return cache_add(ccc, s->unique, evicted);
}

static uint16_t item_marshal(RedChannelClient *rcc, RedPipeItem *base, WireWriter *w)
{
    CursorChannelClient *ccc = (CursorChannelClient *)rcc;
    CursorItem *it = (CursorItem *)base;
    WireCursor wc;
    uint64_t evicted = 0;
    WireList l;
    bool inval;
    uint16_t type;

    switch (base->kind) {
    case CUR_ITEM_INIT:
    case CUR_ITEM_SET:
        inval = resolve_shape(ccc, it->shape, &wc, &evicted);
        type = base->kind == CUR_ITEM_INIT ? SPICE_MSG_CURSOR_INIT : SPICE_MSG_CURSOR_SET;
        if (inval) {
            wire_list_begin(w, &l, 2);
            wire_list_sub_begin(w, &l, SPICE_MSG_CURSOR_INVAL_ONE);
            wire_cursor_inval_one(w, evicted);
            wire_list_sub_end(w, &l);
            wire_list_sub_begin(w, &l, type);
        }
        if (type == SPICE_MSG_CURSOR_INIT) {
            wire_cursor_init(w, it->position.x, it->position.y, it->trail_length,
                             it->trail_frequency, it->visible, &wc);
        } else {
            wire_cursor_set(w, it->position.x, it->position.y, it->visible, &wc);
        }
        if (inval) {
            wire_list_sub_end(w, &l);
            return SPICE_MSG_LIST;
        }
        return type;
    case CUR_ITEM_MOVE:
        wire_cursor_move(w, it->position.x, it->position.y);
        return SPICE_MSG_CURSOR_MOVE;
    case CUR_ITEM_HIDE:
        return SPICE_MSG_CURSOR_HIDE;
    case CUR_ITEM_TRAIL:
        wire_cursor_trail(w, it->trail_length, it->trail_frequency);
        return SPICE_MSG_CURSOR_TRAIL;
    case CUR_ITEM_RESET:
        cache_clear(ccc);           /* the client empties its cache on RESET */
        return SPICE_MSG_CURSOR_RESET;
    case CUR_ITEM_INVAL_ALL:
        cache_clear(ccc);
        return SPICE_MSG_CURSOR_INVAL_ALL;
    default:
        g_assert_not_reached();
    }
}

static void item_free(RedPipeItem *base)
{
    CursorItem *it = (CursorItem *)base;
    shape_unref(it->shape);
    g_free(it);
}

static const RedPipeItemOps cursor_item_ops = {
    .marshal = item_marshal,
    .free = item_free,
};

static bool drop_kinds_pred(RedPipeItem *item, void *opaque)
{
    unsigned mask = GPOINTER_TO_UINT(opaque);
    return item->kind > 0 && (mask & (1u << item->kind));
}

#define K(kind) (1u << (kind))

/* Queues an item of `kind` built from the channel state for one client,
 * first dropping the queued items it supersedes (kinds in drop_mask). */
static void queue_item(CursorChannel *cc, RedChannelClient *rcc, int kind, unsigned drop_mask)
{
    if (drop_mask) {
        red_channel_client_pipe_drop(rcc, drop_kinds_pred, GUINT_TO_POINTER(drop_mask));
    }
    CursorItem *it = g_new0(CursorItem, 1);
    it->base.ops = &cursor_item_ops;
    it->base.kind = kind;
    it->base.size = sizeof(*it);
    it->position = cc->position;
    it->visible = cc->visible;
    it->trail_length = cc->trail_length;
    it->trail_frequency = cc->trail_frequency;
    if (kind == CUR_ITEM_INIT || kind == CUR_ITEM_SET) {
        it->shape = shape_ref(cc->shape);
        it->base.size += cc->shape ? sizeof(CursorShape) + cc->shape->data_size : 0;
    }
    red_channel_client_pipe_add(rcc, &it->base);
}

static void queue_all(CursorChannel *cc, int kind, unsigned drop_mask)
{
    for (GList *l = cc->base.clients, *next; l; l = next) {
        next = l->next;
        queue_item(cc, l->data, kind, drop_mask);
    }
}

/* ---- connect ---- */

static void cursor_client_ready(RedChannelClient *rcc)
{
    CursorChannel *cc = cursor_from(rcc->channel);
    CursorChannelClient *ccc = (CursorChannelClient *)rcc;
    ccc->cache = g_hash_table_new(g_int64_hash, g_int64_equal);
    g_queue_init(&ccc->lru);
    queue_item(cc, rcc, CUR_ITEM_INIT, 0);
}

static void cursor_connect(RedChannel *channel, RedClient *client, RedLink *link)
{
    CursorChannel *cc = cursor_from(channel);
    red_channel_connect_via(channel, client, link, cc->host.post_to_worker, cc->host.opaque,
                            cursor_client_ready);
}

static void cursor_request_disconnect(RedChannelClient *rcc)
{
    CursorChannel *cc = cursor_from(rcc->channel);
    red_channel_client_disconnect_via(rcc, cc->host.post_to_worker, cc->host.opaque);
}

static bool cursor_handle_message(RedChannelClient *rcc, uint16_t type, uint32_t size,
                                  const uint8_t *body)
{
    red_client_bug("cursor channel: unexpected message %u (%u bytes)", type, size);
    return false;
}

static void cursor_on_disconnect(RedChannelClient *rcc)
{
    CursorChannelClient *ccc = (CursorChannelClient *)rcc;
    if (ccc->cache) {
        cache_clear(ccc);
        g_hash_table_destroy(ccc->cache);
        ccc->cache = NULL;
    }
}

/* ---- lifecycle ---- */

RedChannel *cursor_channel_new(RedsState *reds, RedLoop *worker_loop, uint8_t id,
                               const CursorChannelHost *host)
{
    g_assert(host && host->post_to_worker);
    CursorChannel *cc = g_new0(CursorChannel, 1);
    red_channel_init(&cc->base, reds, SPICE_CHANNEL_CURSOR, id, worker_loop, &cursor_ops,
                     sizeof(CursorChannelClient));
    cc->base.use_acks = true;
    cc->base.max_message_size = 64;
    cc->base.priv = cc;
    cc->host = *host;
    cc->mouse_mode = SPICE_MOUSE_MODE_SERVER;
    return &cc->base;
}

void cursor_channel_free(RedChannel *channel)
{
    if (!channel) {
        return;
    }
    CursorChannel *cc = cursor_from(channel);
    red_channel_disconnect_all(channel);
    shape_unref(cc->shape);
    g_free(cc);
}

/* ---- events ---- */

void cursor_channel_set(RedChannel *channel, const RedCursorCmd *cmd)
{
    CursorChannel *cc = cursor_from(channel);
    const RedCursorShape *rs = &cmd->u.set.shape;

    CursorShape *s = g_malloc0(sizeof(*s) + rs->data_size);
    s->refs = 1;
    s->unique = rs->unique;
    s->type = (uint8_t)rs->type;
    s->width = rs->width;
    s->height = rs->height;
    s->hot_x = rs->hot_spot_x;
    s->hot_y = rs->hot_spot_y;
    s->data_size = rs->data_size;
    if (rs->data_size) {
        memcpy(s->data, rs->data, rs->data_size);
    }
    shape_unref(cc->shape);
    cc->shape = s;
    cc->position = cmd->u.set.position;
    cc->visible = cmd->u.set.visible != 0;
    queue_all(cc, CUR_ITEM_SET, K(CUR_ITEM_SET) | K(CUR_ITEM_MOVE) | K(CUR_ITEM_HIDE));
}

void cursor_channel_move(RedChannel *channel, RedPoint16 position)
{
    CursorChannel *cc = cursor_from(channel);
    bool was_visible = cc->visible;

    cc->position = position;
    cc->visible = true;
    if (cc->mouse_mode == SPICE_MOUSE_MODE_CLIENT) {
        /* The client tracks the pointer itself; only a re-shown cursor
         * needs telling (as a SET, which carries visibility). */
        if (!was_visible) {
            queue_all(cc, CUR_ITEM_SET, K(CUR_ITEM_SET) | K(CUR_ITEM_MOVE) | K(CUR_ITEM_HIDE));
        }
        return;
    }
    if (!was_visible) {
        queue_all(cc, CUR_ITEM_SET, K(CUR_ITEM_SET) | K(CUR_ITEM_MOVE) | K(CUR_ITEM_HIDE));
        return;
    }
    queue_all(cc, CUR_ITEM_MOVE, K(CUR_ITEM_MOVE));
}

void cursor_channel_hide(RedChannel *channel)
{
    CursorChannel *cc = cursor_from(channel);
    cc->visible = false;
    queue_all(cc, CUR_ITEM_HIDE, K(CUR_ITEM_MOVE) | K(CUR_ITEM_HIDE));
}

void cursor_channel_trail(RedChannel *channel, uint16_t length, uint16_t frequency)
{
    CursorChannel *cc = cursor_from(channel);
    cc->trail_length = length;
    cc->trail_frequency = frequency;
    queue_all(cc, CUR_ITEM_TRAIL, K(CUR_ITEM_TRAIL));
}

void cursor_channel_process_cmd(RedChannel *channel, const RedCursorCmd *cmd)
{
    switch (cmd->type) {
    case QXL_CURSOR_SET:
        cursor_channel_set(channel, cmd);
        break;
    case QXL_CURSOR_MOVE:
        cursor_channel_move(channel, cmd->u.position);
        break;
    case QXL_CURSOR_HIDE:
        cursor_channel_hide(channel);
        break;
    case QXL_CURSOR_TRAIL:
        cursor_channel_trail(channel, cmd->u.trail.length, cmd->u.trail.frequency);
        break;
    default:
        red_guest_bug("cursor command type %u", cmd->type);
        break;
    }
}

void cursor_channel_reset(RedChannel *channel)
{
    CursorChannel *cc = cursor_from(channel);
    unsigned all = K(CUR_ITEM_INIT) | K(CUR_ITEM_SET) | K(CUR_ITEM_MOVE) | K(CUR_ITEM_HIDE) |
                   K(CUR_ITEM_TRAIL) | K(CUR_ITEM_RESET) | K(CUR_ITEM_INVAL_ALL);

    shape_unref(cc->shape);
    cc->shape = NULL;
    cc->visible = false;
    cc->position = (RedPoint16){ 0, 0 };
    queue_all(cc, CUR_ITEM_INVAL_ALL, all);
    queue_all(cc, CUR_ITEM_RESET, 0);
    queue_all(cc, CUR_ITEM_INIT, 0);
}

void cursor_channel_set_mouse_mode(RedChannel *channel, uint32_t mode)
{
    cursor_from(channel)->mouse_mode = mode;
}

size_t cursor_channel_pipe_bytes(RedChannel *channel)
{
    CursorChannel *cc = cursor_from(channel);
    size_t total = 0;
    for (GList *l = cc->base.clients; l; l = l->next) {
        RedChannelClient *rcc = l->data;
        total += rcc->pipe_bytes;
    }
    return total;
}
