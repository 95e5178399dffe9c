/* Pixmap cache accounting for one display client (dcc.h). The client
 * (spice-gtk) keeps whatever it is told to keep and never enforces the size
 * it announced in DISPLAY_INIT, so the server does: each item costs
 * width * height pixels, the least recently used items go first and their
 * ids are reported so an INVAL_LIST reaches the client before the message
 * that adds the new item. Items referenced by the message being built are
 * never evicted for it. */
#include "server/display/dcc.h"

#include <string.h>

struct PixmapCacheItem {
    uint64_t id;
    int64_t pixels;
    uint64_t used_by;               /* serial of the last message using it */
    bool lossy;                     /* the client holds a JPEG version */
    GList link;                     /* in PixmapCache.lru */
};

static void item_free(gpointer p)
{
    g_free(p);
}

void pixmap_cache_init(PixmapCache *c)
{
    memset(c, 0, sizeof(*c));
    c->items = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, item_free);
    g_queue_init(&c->lru);
}

void pixmap_cache_fini(PixmapCache *c)
{
    if (c->items) {
        g_hash_table_destroy(c->items);
    }
    memset(c, 0, sizeof(*c));
}

void pixmap_cache_reset(PixmapCache *c, int64_t capacity)
{
    g_queue_init(&c->lru);          /* links live inside the items freed below */
    g_hash_table_remove_all(c->items);
    c->used = 0;
    c->capacity = capacity;
}

bool pixmap_cache_lookup(PixmapCache *c, uint64_t id, uint64_t serial)
{
    PixmapCacheItem *it = g_hash_table_lookup(c->items, &id);
    if (!it) {
        return false;
    }
    it->used_by = serial;
    g_queue_unlink(&c->lru, &it->link);
    g_queue_push_tail_link(&c->lru, &it->link);
    c->hits++;
    return true;
}

bool pixmap_cache_is_lossy(PixmapCache *c, uint64_t id)
{
    PixmapCacheItem *it = g_hash_table_lookup(c->items, &id);
    return it && it->lossy;
}

void pixmap_cache_set_lossy(PixmapCache *c, uint64_t id, bool lossy)
{
    PixmapCacheItem *it = g_hash_table_lookup(c->items, &id);
    if (it) {
        it->lossy = lossy;
    }
}

bool pixmap_cache_add(PixmapCache *c, uint64_t id, int64_t pixels, uint64_t serial,
                      GArray *evicted)
{
    if (c->capacity <= 0 || pixels <= 0 || pixels > c->capacity ||
        g_hash_table_contains(c->items, &id)) {
        return false;
    }
    /* Check first that enough unpinned items exist, so a failed add
     * changes nothing. */
    int64_t freeable = c->capacity - c->used;
    unsigned n_evict = 0;
    for (GList *l = c->lru.head; l && freeable < pixels; l = l->next) {
        PixmapCacheItem *it = l->data;
        if (it->used_by != serial) {
            freeable += it->pixels;
            n_evict++;
        }
    }
    if (freeable < pixels || n_evict > PIXMAP_CACHE_MAX_EVICT) {
        return false;
    }
    GList *l = c->lru.head;
    while (c->capacity - c->used < pixels) {
        g_assert(l);
        GList *next = l->next;
        PixmapCacheItem *it = l->data;
        if (it->used_by != serial) {
            g_queue_unlink(&c->lru, &it->link);
            c->used -= it->pixels;
            g_array_append_val(evicted, it->id);
            c->evictions++;
            g_hash_table_remove(c->items, &it->id);
        }
        l = next;
    }
    PixmapCacheItem *it = g_new0(PixmapCacheItem, 1);
    it->id = id;
    it->pixels = pixels;
    it->used_by = serial;
    it->link.data = it;
    g_queue_push_tail_link(&c->lru, &it->link);
    g_hash_table_insert(c->items, &it->id, it);
    c->used += pixels;
    c->adds++;
    return true;
}
