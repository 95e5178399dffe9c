/* Listening sockets (TCP, TLS, unix, the embedder's listen fd), accepting
 * on the main loop, and connections handed over by the embedder. */
#include "server/net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "server/core/log.h"
#include "server/net/net-private.h"

/* Idle time before TCP keepalive probes start (upstream's value). */
#define NET_KEEPALIVE_IDLE_S (10 * 60)

GQuark red_net_error_quark(void)
{
    return g_quark_from_static_string("red-net-error");
}

static bool set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

/* Socket options for an accepted or handed-over connection. Failures are
 * not fatal: unix sockets have no TCP options, and a socketpair from the
 * embedder works without them. */
static void tune_connection(int fd)
{
    const int on = 1, idle = NET_KEEPALIVE_IDLE_S;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == 0) {
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    }
}

static void set_error(GError **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void set_error(GError **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(err, RED_NET_ERROR, 0, msg);
    g_free(msg);
}

static int listen_unix(const char *path, GError **err)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    socklen_t len;
    int fd;

    if (!path || !path[0] || strlen(path) >= sizeof(sun.sun_path)) {
        set_error(err, "unix socket path '%s' is empty or too long", path ? path : "");
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path));
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
    if (path[0] == '@') {
        sun.sun_path[0] = '\0';     /* Linux abstract namespace */
    } else {
        /* A stale socket file from a previous run would make bind fail. */
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
            unlink(path);
        }
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        set_error(err, "socket(AF_UNIX): %s", g_strerror(errno));
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sun, len) != 0) {
        set_error(err, "bind to unix socket %s: %s", path, g_strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int listen_inet(const char *addr, int port, int family, GError **err)
{
    struct addrinfo hints = {
        .ai_flags = AI_PASSIVE,
        .ai_family = family,
        .ai_socktype = SOCK_STREAM,
    };
    struct addrinfo *res, *e;
    char portstr[16];
    int rc, fd = -1, last_errno = 0;

    if (port < 0 || port > 65535) {
        set_error(err, "port %d out of range", port);
        return -1;
    }
    g_snprintf(portstr, sizeof(portstr), "%d", port);
    rc = getaddrinfo(addr && addr[0] ? addr : NULL, portstr, &hints, &res);
    if (rc != 0) {
        set_error(err, "cannot resolve %s port %s: %s", addr && addr[0] ? addr : "(any)",
                  portstr, gai_strerror(rc));
        return -1;
    }
    for (e = res; e; e = e->ai_next) {
        const int on = 1;
        fd = socket(e->ai_family, e->ai_socktype | SOCK_CLOEXEC, e->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (e->ai_family == AF_INET6) {
            /* IPv6 sockets take IPv4 too unless the embedder asked for
             * IPv6 only. */
            int v6only = family == AF_INET6;
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
        }
        if (bind(fd, e->ai_addr, e->ai_addrlen) == 0) {
            break;
        }
        last_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        set_error(err, "cannot bind %s port %d: %s", addr && addr[0] ? addr : "(any)", port,
                  g_strerror(last_errno));
    }
    return fd;
}

static void accept_cb(int fd, int event, void *opaque);

static bool add_listener(RedsState *reds, int fd, bool owned, bool tls, GError **err)
{
    RedsNet *net = reds->net;

    for (unsigned i = 0; i < REDS_NET_MAX_LISTENERS; i++) {
        RedsListener *l = &net->listeners[i];
        if (l->fd != -1) {
            continue;
        }
        if (owned && listen(fd, SOMAXCONN) != 0) {
            set_error(err, "listen: %s", g_strerror(errno));
            close(fd);
            return false;
        }
        if (!set_nonblocking(fd)) {
            set_error(err, "cannot make listening socket %d non-blocking: %s", fd,
                      g_strerror(errno));
            if (owned) {
                close(fd);
            }
            return false;
        }
        l->net = net;
        l->fd = fd;
        l->owned = owned;
        l->tls = tls;
        l->watch = red_watch_add(reds->loop, fd, RED_WATCH_READ, accept_cb, l);
        if (!l->watch) {
            set_error(err, "the event loop refused a watch on the listening socket");
            return false;       /* l->fd is closed by reds_net_destroy */
        }
        return true;
    }
    g_assert_not_reached();
}

static bool ensure_tls_context(RedsState *reds, GError **err)
{
    if (!reds->net->tls_ctx) {
        reds->net->tls_ctx = red_tls_context_new(reds, err);
    }
    return reds->net->tls_ctx != NULL;
}

/* Wraps fd (non-blocking, tuned) and starts its handshake. On failure fd
 * stays the caller's. */
static bool start_connection(RedsState *reds, int fd, bool tls, bool skip_auth)
{
    RedStream *stream;

    if (!set_nonblocking(fd)) {
        g_warning("net: fd %d is not usable: %s", fd, g_strerror(errno));
        return false;
    }
    tune_connection(fd);
    if (tls) {
        stream = red_stream_new_tls(fd, reds->net->tls_ctx);
        if (!stream) {
            g_warning("net: cannot allocate a TLS session for fd %d", fd);
            return false;
        }
    } else {
        stream = red_stream_new_plain(fd);
    }
    red_link_handshake_start(reds, stream, skip_auth);
    return true;
}

static void accept_cb(int fd, int event, void *opaque)
{
    RedsListener *l = opaque;
    int conn;

    conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
            errno != ECONNABORTED) {
            red_log_limited_("net: ", "accept on fd %d failed: %s", fd, g_strerror(errno));
        }
        return;
    }
    if (!start_connection(l->net->reds, conn, l->tls, false)) {
        close(conn);
    }
}

bool reds_net_init(RedsState *reds, GError **err)
{
    const RedsConfig *cfg = &reds->cfg;
    int family = AF_UNSPEC;
    int fd;

    g_return_val_if_fail(reds->net == NULL, false);
    g_return_val_if_fail(reds->loop != NULL, false);

    RedsNet *net = g_new0(RedsNet, 1);
    net->reds = reds;
    for (unsigned i = 0; i < REDS_NET_MAX_LISTENERS; i++) {
        net->listeners[i].fd = -1;
    }
    reds->net = net;

    if (cfg->addr_flags & SPICE_ADDR_FLAG_UNIX_ONLY) {
        family = AF_UNIX;
    } else if (cfg->addr_flags & SPICE_ADDR_FLAG_IPV4_ONLY) {
        family = AF_INET;
    } else if (cfg->addr_flags & SPICE_ADDR_FLAG_IPV6_ONLY) {
        family = AF_INET6;
    }

    if (cfg->tls_port != -1) {
        if (family == AF_UNIX) {
            set_error(err, "TLS is not available on a unix socket");
            goto fail;
        }
        if (!ensure_tls_context(reds, err)) {
            goto fail;
        }
    }
    if (family == AF_UNIX) {
        fd = listen_unix(cfg->addr, err);
        if (fd < 0 || !add_listener(reds, fd, true, false, err)) {
            goto fail;
        }
    } else if (cfg->port != -1) {
        fd = listen_inet(cfg->addr, cfg->port, family, err);
        if (fd < 0 || !add_listener(reds, fd, true, false, err)) {
            goto fail;
        }
    }
    if (cfg->tls_port != -1) {
        fd = listen_inet(cfg->addr, cfg->tls_port, family, err);
        if (fd < 0 || !add_listener(reds, fd, true, true, err)) {
            goto fail;
        }
    }
    if (cfg->listen_fd != -1 && !add_listener(reds, cfg->listen_fd, false, false, err)) {
        goto fail;
    }
    return true;

fail:
    reds_net_destroy(reds);
    return false;
}

void reds_net_destroy(RedsState *reds)
{
    RedsNet *net = reds->net;

    if (!net) {
        return;
    }
    while (net->handshakes) {
        red_link_handshake_abort(net->handshakes->data);
    }
    for (unsigned i = 0; i < REDS_NET_MAX_LISTENERS; i++) {
        RedsListener *l = &net->listeners[i];
        red_watch_remove(l->watch);
        if (l->fd != -1 && l->owned) {
            close(l->fd);
        }
    }
    SSL_CTX_free(net->tls_ctx);
    g_free(net);
    reds->net = NULL;
}

bool reds_net_add_client(RedsState *reds, int fd, bool tls, bool skip_auth)
{
    GError *err = NULL;

    if (!reds->net) {
        g_warning("net: add_client before the server was initialised");
        return false;
    }
    if (tls && !ensure_tls_context(reds, &err)) {
        red_config_error("add_ssl_client without a usable TLS setup: %s", err->message);
        g_error_free(err);
        return false;
    }
    return start_connection(reds, fd, tls, skip_auth);
}

int reds_net_listen_port(RedsState *reds, bool tls)
{
    if (!reds->net) {
        return -1;
    }
    for (unsigned i = 0; i < REDS_NET_MAX_LISTENERS; i++) {
        const RedsListener *l = &reds->net->listeners[i];
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);

        if (l->fd == -1 || l->tls != tls) {
            continue;
        }
        if (getsockname(l->fd, (struct sockaddr *)&ss, &len) != 0) {
            return -1;
        }
        if (ss.ss_family == AF_INET) {
            return ntohs(((struct sockaddr_in *)&ss)->sin_port);
        }
        if (ss.ss_family == AF_INET6) {
            return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
    return -1;
}
