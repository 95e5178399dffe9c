/* Dispatcher: a message queue from any thread into one receiving thread
 * (a QXL worker), woken through an eventfd that the receiver watches in its
 * own loop.
 *
 * Messages are plain data: a type and a payload copied into the queue. A
 * sender either posts (returns at once) or calls (blocks until the receiver
 * handled the message and wrote its reply bytes). Nothing in a payload may
 * point at memory the sender owns; replies come back as bytes. This keeps
 * the receiver movable into another process later (the queue would become
 * a socket).
 *
 * Locking: `lock` guards `queue` and every message's `done` flag; `cond`
 * is broadcast when a called message completes. The handler runs without
 * the lock. The receiving thread must never call dispatcher_call() on its
 * own dispatcher (asserted: it would wait for itself).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

typedef struct Dispatcher Dispatcher;

/* Receiver thread: handles one message. `payload` holds `size` bytes (the
 * copy the sender made); `reply` is `reply_size` writable bytes (NULL/0
 * for posted messages). */
typedef void (*DispatcherHandler)(void *opaque, uint32_t type, void *payload, size_t size,
                                  void *reply, size_t reply_size);

/* Any thread: a new dispatcher delivering to handler(opaque, ...). Caller
 * owns it; free with dispatcher_free() after the receiver stopped. Returns
 * NULL if no eventfd could be created. */
Dispatcher *dispatcher_new(DispatcherHandler handler, void *opaque);

/* Frees the dispatcher and any message still queued (callers still waiting
 * would hang, so the owner must stop senders first). NULL is fine. */
void dispatcher_free(Dispatcher *d);

/* The fd that becomes readable while messages wait. Owned by d. */
int dispatcher_get_fd(Dispatcher *d);

/* Receiver thread: declares the calling thread as the receiver (for the
 * self-call assertion). */
void dispatcher_set_receiver(Dispatcher *d);

/* Any thread but the receiver's: queues a copy of payload and returns at
 * once. */
void dispatcher_post(Dispatcher *d, uint32_t type, const void *payload, size_t size);

/* Any thread but the receiver's: queues a copy of payload and waits until
 * the receiver handled it; the handler's reply bytes are copied to reply. */
void dispatcher_call(Dispatcher *d, uint32_t type, const void *payload, size_t size,
                     void *reply, size_t reply_size);

/* Receiver thread: clears the wakeup and handles every queued message in
 * order. Returns the number handled. */
unsigned dispatcher_dispatch(Dispatcher *d);

/* Any thread: number of messages queued and not yet handled. */
unsigned dispatcher_pending(Dispatcher *d);
