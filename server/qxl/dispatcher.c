/* Dispatcher: see dispatcher.h.
 *
 * Locking: d->lock guards d->queue and DispatcherMsg.done; d->cond is
 * broadcast whenever a called message is done. The eventfd counter is only
 * a wakeup; the queue is the truth. Senders kick the eventfd only when
 * they queue onto an empty queue: dispatcher_dispatch pops until it finds
 * the queue empty (under the lock), so every message queued behind another
 * is handled in the same or the next dispatch, which that first kick
 * guarantees.
 */
#include "server/qxl/dispatcher.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct DispatcherMsg {
    uint32_t type;
    bool wait;              /* a caller blocks on done */
    bool done;              /* guarded by Dispatcher.lock */
    size_t size;
    void *reply;            /* caller's buffer (same process), reply_size bytes */
    size_t reply_size;
    uint8_t payload[];
} DispatcherMsg;

struct Dispatcher {
    DispatcherHandler handler;
    void *opaque;
    int fd;                 /* eventfd, owned */
    GThread *receiver;      /* not owned, for the self-call assertion */
    GMutex lock;
    GCond cond;
    GQueue queue;           /* DispatcherMsg*; posted ones owned by the queue,
                             * called ones owned by the waiting caller */
};

Dispatcher *dispatcher_new(DispatcherHandler handler, void *opaque)
{
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
        return NULL;
    }
    Dispatcher *d = g_new0(Dispatcher, 1);
    d->handler = handler;
    d->opaque = opaque;
    d->fd = fd;
    g_mutex_init(&d->lock);
    g_cond_init(&d->cond);
    g_queue_init(&d->queue);
    return d;
}

void dispatcher_free(Dispatcher *d)
{
    if (!d) {
        return;
    }
    DispatcherMsg *m;
    while ((m = g_queue_pop_head(&d->queue))) {
        g_assert(!m->wait);
        g_free(m);
    }
    close(d->fd);
    g_cond_clear(&d->cond);
    g_mutex_clear(&d->lock);
    g_free(d);
}

int dispatcher_get_fd(Dispatcher *d)
{
    return d->fd;
}

void dispatcher_set_receiver(Dispatcher *d)
{
    d->receiver = g_thread_self();
}

static void kick(Dispatcher *d)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is saturated: the receiver is awake anyway. */
    while (write(d->fd, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
}

static DispatcherMsg *msg_new(uint32_t type, const void *payload, size_t size)
{
    DispatcherMsg *m = g_malloc(sizeof(*m) + size);
    memset(m, 0, sizeof(*m));
    m->type = type;
    m->size = size;
    if (size) {
        memcpy(m->payload, payload, size);
    }
    return m;
}

void dispatcher_post(Dispatcher *d, uint32_t type, const void *payload, size_t size)
{
    DispatcherMsg *m = msg_new(type, payload, size);
    g_mutex_lock(&d->lock);
    /* Only the push onto an empty queue needs to wake the receiver: it
     * empties the queue before it sleeps again, so a message queued behind
     * others is seen without a syscall of its own. */
    bool was_empty = g_queue_is_empty(&d->queue);
    g_queue_push_tail(&d->queue, m);
    g_mutex_unlock(&d->lock);
    if (was_empty) {
        kick(d);
    }
}

void dispatcher_call(Dispatcher *d, uint32_t type, const void *payload, size_t size,
                     void *reply, size_t reply_size)
{
    g_assert(d->receiver != g_thread_self());
    DispatcherMsg *m = msg_new(type, payload, size);
    m->wait = true;
    m->reply = reply;
    m->reply_size = reply_size;
    g_mutex_lock(&d->lock);
    bool was_empty = g_queue_is_empty(&d->queue);
    g_queue_push_tail(&d->queue, m);
    if (was_empty) {
        kick(d);
    }
    while (!m->done) {
        g_cond_wait(&d->cond, &d->lock);
    }
    g_mutex_unlock(&d->lock);
    g_free(m);
}

unsigned dispatcher_dispatch(Dispatcher *d)
{
    uint64_t count;
    while (read(d->fd, &count, sizeof(count)) < 0 && errno == EINTR) {
    }
    unsigned n = 0;
    for (;;) {
        g_mutex_lock(&d->lock);
        DispatcherMsg *m = g_queue_pop_head(&d->queue);
        g_mutex_unlock(&d->lock);
        if (!m) {
            break;
        }
        d->handler(d->opaque, m->type, m->payload, m->size, m->reply, m->reply_size);
        n++;
        if (m->wait) {
            g_mutex_lock(&d->lock);
            m->done = true;
            g_cond_broadcast(&d->cond);
            g_mutex_unlock(&d->lock);
        } else {
            g_free(m);
        }
    }
    return n;
}

unsigned dispatcher_pending(Dispatcher *d)
{
    g_mutex_lock(&d->lock);
    unsigned n = g_queue_get_length(&d->queue);
    g_mutex_unlock(&d->lock);
    return n;
}
