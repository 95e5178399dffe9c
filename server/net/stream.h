/* RedStream: one connected socket, plain or TLS (or, later, WebSocket/SASL),
 * behind one vtable. Non-blocking; used by one thread at a time (the thread
 * whose loop watches its fd). A stream moves to the worker thread whole
 * when a display/cursor channel takes it over.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "spice.h"

typedef struct RedStream RedStream;

typedef struct RedStreamOps {
    /* > 0 bytes read; 0 = peer closed; -1 with errno (EAGAIN: try again
     * when the fd is readable). Required. */
    ssize_t (*read)(RedStream *s, void *buf, size_t len);
    /* >= 0 bytes written; -1 with errno (EAGAIN: try again when writable).
     * Required. */
    ssize_t (*write)(RedStream *s, const void *buf, size_t len);
    /* Optional: bytes still buffered inside the stream implementation
     * (TLS records already decrypted), so callers keep reading without
     * waiting for the fd. NULL means 0. */
    size_t (*pending)(RedStream *s);
    /* Closes the fd and frees the implementation. Required. */
    void (*destroy)(RedStream *s);
} RedStreamOps;

struct RedStream {
    const RedStreamOps *ops;
    int fd;                          /* owned, closed by destroy */
    bool is_tls;
    bool is_unix;
    /* Connection description handed to the embedder's channel_event; owned
     * by the stream until red_stream_take_info(). QEMU keeps the pointer from
     * INITIALIZED until DISCONNECTED, so it must outlive both events. */
    SpiceChannelEventInfo *info;
    uint64_t bytes_read;
    uint64_t bytes_written;
};

static inline ssize_t red_stream_read(RedStream *s, void *buf, size_t len)
{
    ssize_t n = s->ops->read(s, buf, len);
    if (n > 0) {
        s->bytes_read += (uint64_t)n;
    }
    return n;
}

static inline ssize_t red_stream_write(RedStream *s, const void *buf, size_t len)
{
    ssize_t n = s->ops->write(s, buf, len);
    if (n > 0) {
        s->bytes_written += (uint64_t)n;
    }
    return n;
}

static inline size_t red_stream_pending(RedStream *s)
{
    return s->ops->pending ? s->ops->pending(s) : 0;
}

/* Wraps a connected non-blocking socket (fd becomes owned). Fills info with
 * local/peer addresses (SPICE_CHANNEL_EVENT_FLAG_ADDR_EXT). Any thread. */
RedStream *red_stream_new_plain(int fd);

/* Takes the event info out of the stream (caller owns it afterwards). */
SpiceChannelEventInfo *red_stream_take_info(RedStream *s);

/* Closes and frees (info too, unless taken). NULL is ok. */
void red_stream_free(RedStream *s);
