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

/* ---- palette cache ---- */

struct PaletteCacheItem {
    uint64_t key;
    uint64_t added_by;              /* serial of the message that added it */
    uint64_t used_by;               /* serial of the last message using it */
    uint16_t n;
    uint32_t *ents;                 /* owned, n entries */
    GList link;                     /* in PaletteCache.lru */
};

static void palette_item_free(gpointer p)
{
    PaletteCacheItem *it = p;
    g_free(it->ents);
    g_free(it);
}

/* 64-bit FNV-1a over the entry count and the colours, never 0 (the guest's
 * "not cacheable" value, kept out of the wire ids). */
static uint64_t palette_key(const WirePalette *p)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    const uint64_t prime = UINT64_C(0x100000001b3);
    h = (h ^ p->num_ents) * prime;
    for (uint16_t i = 0; i < p->num_ents; i++) {
        uint32_t v = p->ents[i];
        for (int b = 0; b < 4; b++) {
            h = (h ^ ((v >> (8 * b)) & 0xff)) * prime;
        }
    }
    return h ? h : 1;
}

void palette_cache_init(PaletteCache *c)
{
    memset(c, 0, sizeof(*c));
    c->items = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, palette_item_free);
    g_queue_init(&c->lru);
}

void palette_cache_fini(PaletteCache *c)
{
    if (c->items) {
        g_hash_table_destroy(c->items);
    }
    memset(c, 0, sizeof(*c));
}

void palette_cache_reset(PaletteCache *c)
{
    g_queue_init(&c->lru);          /* links live inside the items freed below */
    g_hash_table_remove_all(c->items);
}

uint8_t palette_cache_use(PaletteCache *c, const WirePalette *p, uint64_t serial,
                          uint64_t *wire_id, GArray *evicted)
{
    if (!p || p->num_ents == 0 || !c->items) {
        return 0;
    }
    uint64_t key = palette_key(p);
    PaletteCacheItem *it = g_hash_table_lookup(c->items, &key);
    *wire_id = key;
    if (it) {
        if (it->n != p->num_ents || memcmp(it->ents, p->ents, (size_t)p->num_ents * 4) != 0) {
            return 0;               /* a different palette with the same hash */
        }
        g_queue_unlink(&c->lru, &it->link);
        g_queue_push_tail_link(&c->lru, &it->link);
        it->used_by = serial;
        if (it->added_by == serial) {
            return 0;               /* not before the message that adds it is decoded */
        }
        c->hits++;
        return SPICE_BITMAP_FLAGS_PAL_FROM_CACHE;
    }
    while (g_hash_table_size(c->items) >= PALETTE_CACHE_ITEMS) {
        PaletteCacheItem *old = c->lru.head->data;
        if (old->used_by == serial) {
            return 0;               /* only entries this message uses are left */
        }
        g_queue_unlink(&c->lru, &old->link);
        g_array_append_val(evicted, old->key);
        c->evictions++;
        g_hash_table_remove(c->items, &old->key);
    }
    it = g_new0(PaletteCacheItem, 1);
    it->key = key;
    it->added_by = serial;
    it->used_by = serial;
    it->n = p->num_ents;
    it->ents = g_memdup2(p->ents, (gsize)p->num_ents * 4);
    it->link.data = it;
    g_queue_push_tail_link(&c->lru, &it->link);
    g_hash_table_insert(c->items, &it->key, it);
    c->adds++;
    return SPICE_BITMAP_FLAGS_PAL_CACHE_ME;
}
