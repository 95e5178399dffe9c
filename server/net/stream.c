/* Plain socket streams (TCP or unix) and what every stream shares: the
 * connection description handed to the embedder's channel_event. */
#include "server/net/stream.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib.h>

#include "server/net/net-private.h"

typedef struct PlainStream {
    RedStream base;
} PlainStream;

static ssize_t plain_read(RedStream *s, void *buf, size_t len)
{
    ssize_t n;
    do {
        n = recv(s->fd, buf, len, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == ENOTSOCK) {
        /* Embedders and tests may hand us a pipe-like fd. */
        do {
            n = read(s->fd, buf, len);
        } while (n < 0 && errno == EINTR);
    }
    return n;
}

static ssize_t plain_write(RedStream *s, const void *buf, size_t len)
{
    ssize_t n;
    /* MSG_NOSIGNAL: a peer that went away must not kill the embedder. */
    do {
        n = send(s->fd, buf, len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == ENOTSOCK) {
        do {
            n = write(s->fd, buf, len);
        } while (n < 0 && errno == EINTR);
    }
    return n;
}

static void plain_destroy(RedStream *s)
{
    close(s->fd);
    g_free(s);
}

static const RedStreamOps plain_ops = {
    .read = plain_read,
    .write = plain_write,
    .pending = NULL,
    .destroy = plain_destroy,
};

void red_stream_init_common(RedStream *s, int fd, const RedStreamOps *ops, bool is_tls)
{
    SpiceChannelEventInfo *info = g_new0(SpiceChannelEventInfo, 1);

    s->ops = ops;
    s->fd = fd;
    s->is_tls = is_tls;

    info->llen_ext = sizeof(info->laddr_ext);
    if (getsockname(fd, (struct sockaddr *)&info->laddr_ext, &info->llen_ext) != 0) {
        info->llen_ext = 0;
    }
    info->plen_ext = sizeof(info->paddr_ext);
    if (getpeername(fd, (struct sockaddr *)&info->paddr_ext, &info->plen_ext) != 0) {
        info->plen_ext = 0;
    }
    info->flags = SPICE_CHANNEL_EVENT_FLAG_ADDR_EXT;
    if (is_tls) {
        info->flags |= SPICE_CHANNEL_EVENT_FLAG_TLS;
    }
    s->is_unix = info->llen_ext > 0 && info->laddr_ext.ss_family == AF_UNIX;
    s->info = info;
}

RedStream *red_stream_new_plain(int fd)
{
    PlainStream *ps = g_new0(PlainStream, 1);
    red_stream_init_common(&ps->base, fd, &plain_ops, false);
    return &ps->base;
}

SpiceChannelEventInfo *red_stream_take_info(RedStream *s)
{
    SpiceChannelEventInfo *info = s->info;
    s->info = NULL;
    return info;
}

void red_stream_free(RedStream *s)
{
    if (!s) {
        return;
    }
    g_free(s->info);
    s->ops->destroy(s);
}
