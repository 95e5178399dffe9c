/* Counting TCP proxy for bench-client (see proxy.h).
 *
 * One thread polls the listening socket and every relayed connection.
 * Each direction has a bounded buffer: the proxy reads from a side only
 * while the buffer towards the other side has room, so a client that
 * stops reading still back-pressures the server (with at most BUF_BYTES
 * more in flight than without the proxy).  Server-to-client bytes are
 * parsed as they are written to the client, so the counts are what the
 * client was given.
 *
 * Parsing follows the SPICE link and data framing: the client's
 * SpiceLinkHeader + SpiceLinkMess names the channel type and its common
 * caps, the server's SpiceLinkHeader + SpiceLinkReply its caps (mini
 * header when both have SPICE_COMMON_CAP_MINI_HEADER), then a u32 link
 * result, then messages (SpiceMiniDataHeader or SpiceDataHeader).  Only
 * display channels are counted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <spice/enums.h>
#include <spice/protocol.h>

#include "tools/bench/proxy.h"

#define BUF_BYTES (256 * 1024)
#define BODY_KEEP (64 * 1024)   /* message bytes kept for parsing; the rest is skipped */
#define MAX_CONNS 32

enum { P_LINK_HDR, P_LINK_BODY, P_RESULT, P_MSG_HDR, P_MSG_BODY, P_IGNORE };

typedef struct Parser {
    int phase;
    GByteArray *acc;            /* bytes collected for the current phase */
    size_t need;                /* how many to collect */
    uint64_t skip;              /* then how many to pass over */
    uint16_t type;              /* current message */
    uint32_t size, sub_list;
    size_t hdr_len;
} Parser;

typedef struct Dir {
    uint8_t *buf;
    size_t start, end;          /* pending bytes to write */
    bool eof;                   /* the reading side closed */
} Dir;

typedef struct Conn {
    int cfd, sfd;               /* client side, server side; -1 when free */
    Dir c2s, s2c;
    Parser cp, sp;
    uint8_t channel_type;
    bool client_mini, mini;
} Conn;

struct BenchProxy {
    int lfd;
    int server_port;
    Conn conns[MAX_CONNS];
    GMutex lock;
    ProxyStats st;              /* under lock */
};

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int bench_jpeg_quality(const uint8_t *j, size_t len)
{
    static const uint8_t std_luma[64] = {
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    };
    size_t i = 2;

    if (len < 4 || j[0] != 0xff || j[1] != 0xd8) {
        return 0;
    }
    while (i + 4 <= len && j[i] == 0xff) {
        uint8_t marker = j[i + 1];
        size_t seg = (size_t)j[i + 2] << 8 | j[i + 3];
        if (marker == 0xda || seg < 2) {
            break;      /* scan data: no table before it */
        }
        if (marker == 0xdb) {
            /* DQT: one or more tables of (Pq|Tq, 64 entries). */
            size_t k = i + 4;
            while (k + 65 <= MIN(len, i + 2 + seg)) {
                uint8_t pq = j[k] >> 4, tq = j[k] & 15;
                if (pq != 0) {
                    break;
                }
                if (tq == 0) {
                    double sum = 0, ref = 0;
                    for (int e = 0; e < 64; e++) {
                        sum += j[k + 1 + e];
                        ref += std_luma[e];
                    }
                    /* libjpeg: entry = (std * scale + 50) / 100, scale =
                     * 5000/q below 50, else 200 - 2q. */
                    double scale = sum * 100 / ref;
                    int q = scale <= 100 ? (int)((200 - scale) / 2 + 0.5)
                                         : (int)(5000 / scale + 0.5);
                    return CLAMP(q, 1, 100);
                }
                k += 65;
            }
        }
        i += 2 + seg;
    }
    return 0;
}

static BenchDmsgKind kind_of(uint16_t type)
{
    switch (type) {
    case SPICE_MSG_DISPLAY_DRAW_FILL: return DMSG_FILL;
    case SPICE_MSG_DISPLAY_DRAW_OPAQUE: return DMSG_OPAQUE;
    case SPICE_MSG_DISPLAY_DRAW_COPY: return DMSG_COPY;
    case SPICE_MSG_DISPLAY_DRAW_BLEND: return DMSG_BLEND;
    case SPICE_MSG_DISPLAY_DRAW_TEXT: return DMSG_TEXT;
    case SPICE_MSG_DISPLAY_DRAW_BLACKNESS: case SPICE_MSG_DISPLAY_DRAW_WHITENESS:
    case SPICE_MSG_DISPLAY_DRAW_INVERS: case SPICE_MSG_DISPLAY_DRAW_ROP3:
    case SPICE_MSG_DISPLAY_DRAW_STROKE: case SPICE_MSG_DISPLAY_DRAW_TRANSPARENT:
    case SPICE_MSG_DISPLAY_DRAW_ALPHA_BLEND: case SPICE_MSG_DISPLAY_DRAW_COMPOSITE:
        return DMSG_OTHER_DRAW;
    case SPICE_MSG_DISPLAY_COPY_BITS: return DMSG_COPY_BITS;
    case SPICE_MSG_DISPLAY_STREAM_CREATE: return DMSG_STREAM_CREATE;
    case SPICE_MSG_DISPLAY_STREAM_DATA: case SPICE_MSG_DISPLAY_STREAM_DATA_SIZED:
        return DMSG_STREAM_DATA;
    case SPICE_MSG_DISPLAY_STREAM_CLIP: return DMSG_STREAM_CLIP;
    case SPICE_MSG_DISPLAY_STREAM_DESTROY: case SPICE_MSG_DISPLAY_STREAM_DESTROY_ALL:
        return DMSG_STREAM_DESTROY;
    case SPICE_MSG_DISPLAY_SURFACE_CREATE: case SPICE_MSG_DISPLAY_SURFACE_DESTROY:
        return DMSG_SURFACE;
    case SPICE_MSG_DISPLAY_INVAL_LIST: case SPICE_MSG_DISPLAY_INVAL_ALL_PIXMAPS:
    case SPICE_MSG_DISPLAY_INVAL_PALETTE: case SPICE_MSG_DISPLAY_INVAL_ALL_PALETTES:
        return DMSG_INVAL;
    case SPICE_MSG_LIST: return DMSG_LIST;
    default: return DMSG_OTHER;
    }
}

static BenchImgKind img_kind_of(uint8_t type)
{
    switch (type) {
    case SPICE_IMAGE_TYPE_BITMAP: return IMGK_BITMAP;
    case SPICE_IMAGE_TYPE_QUIC: return IMGK_QUIC;
    case SPICE_IMAGE_TYPE_LZ_PLT: return IMGK_LZ_PLT;
    case SPICE_IMAGE_TYPE_LZ_RGB: return IMGK_LZ_RGB;
    case SPICE_IMAGE_TYPE_GLZ_RGB: return IMGK_GLZ_RGB;
    case SPICE_IMAGE_TYPE_FROM_CACHE: case SPICE_IMAGE_TYPE_FROM_CACHE_LOSSLESS:
        return IMGK_FROM_CACHE;
    case SPICE_IMAGE_TYPE_SURFACE: return IMGK_SURFACE;
    case SPICE_IMAGE_TYPE_JPEG: case SPICE_IMAGE_TYPE_JPEG_ALPHA: return IMGK_JPEG;
    case SPICE_IMAGE_TYPE_ZLIB_GLZ_RGB: return IMGK_ZLIB_GLZ;
    case SPICE_IMAGE_TYPE_LZ4: return IMGK_LZ4;
    default: return IMGK_OTHER;
    }
}

/* One display message (or sub-message) of `size` body bytes, of which
 * `kept` are at `body`; `bytes` is what it cost on the wire.  Under lock. */
static void count_one(ProxyStats *st, uint16_t type, const uint8_t *body, size_t kept,
                      uint32_t size, uint64_t bytes)
{
    BenchDmsgKind k = kind_of(type);

    st->msgs[k]++;
    st->msg_bytes[k] += bytes;
    if (type == SPICE_MSG_DISPLAY_DRAW_COPY || type == SPICE_MSG_DISPLAY_DRAW_OPAQUE ||
        type == SPICE_MSG_DISPLAY_DRAW_BLEND || type == SPICE_MSG_DISPLAY_DRAW_TRANSPARENT) {
        /* SpiceMsgDisplayBase: surface_id, box, clip (u8 type [, u32 n,
         * n rects]); then the draw's first field is the source image
         * offset (from the body start). */
        size_t off = 4 + 16;
        if (off + 1 > kept) {
            return;
        }
        uint8_t clip = body[off++];
        if (clip == SPICE_CLIP_TYPE_RECTS) {
            if (off + 4 > kept) {
                return;
            }
            off += 4 + (size_t)le32(body + off) * 16;
        }
        if (off + 4 > kept) {
            return;
        }
        uint32_t img = le32(body + off);
        if (img == 0 || (size_t)img + 9 > kept || img >= size) {
            return;
        }
        BenchImgKind ik = img_kind_of(body[img + 8]);
        st->imgs[ik]++;
        st->img_bytes[ik] += size - img;
    } else if (type == SPICE_MSG_DISPLAY_STREAM_DATA ||
               type == SPICE_MSG_DISPLAY_STREAM_DATA_SIZED) {
        size_t data = type == SPICE_MSG_DISPLAY_STREAM_DATA ? 12 : 36;
        if (data < kept) {
            int q = bench_jpeg_quality(body + data, kept - data);
            if (q) {
                st->jpeg_frames++;
                st->jpeg_quality_sum += (uint64_t)q;
                st->jpeg_quality_n[q]++;
            }
        }
    }
}

/* A SpiceSubMessageList at `list` in the body: counts its sub-messages
 * and returns their wire bytes.  Under lock. */
static uint64_t count_subs(ProxyStats *st, const uint8_t *body, size_t kept, size_t list)
{
    uint64_t total = 0;

    if (list + 2 > kept) {
        return 0;
    }
    uint16_t n = le16(body + list);
    for (uint16_t i = 0; i < n && list + 2 + 4u * (i + 1u) <= kept; i++) {
        size_t off = le32(body + list + 2 + 4u * i);
        if (off + 6 > kept) {
            break;
        }
        uint16_t type = le16(body + off);
        uint32_t size = le32(body + off + 2);
        size_t avail = kept - (off + 6);
        count_one(st, type, body + off + 6, MIN(avail, size), size, 6 + (uint64_t)size);
        total += 6 + (uint64_t)size;
    }
    return total;
}

static void count_message(BenchProxy *px, Parser *p)
{
    const uint8_t *body = p->acc->data;
    size_t kept = p->acc->len;
    uint64_t wire = p->hdr_len + (uint64_t)p->size;

    g_mutex_lock(&px->lock);
    if (p->type == SPICE_MSG_LIST) {
        uint64_t subs = count_subs(&px->st, body, kept, 0);
        px->st.msgs[DMSG_LIST]++;
        px->st.msg_bytes[DMSG_LIST] += wire - MIN(subs, wire);
    } else {
        uint64_t subs = p->sub_list ? count_subs(&px->st, body, kept, p->sub_list) : 0;
        count_one(&px->st, p->type, body, kept, p->size, wire - MIN(subs, wire));
    }
    g_mutex_unlock(&px->lock);
}

static void expect(Parser *p, int phase, uint64_t bytes)
{
    g_byte_array_set_size(p->acc, 0);
    p->phase = phase;
    p->need = (size_t)MIN(bytes, (uint64_t)BODY_KEEP);
    p->skip = bytes - p->need;
}

static bool has_mini_cap(const uint8_t *body, size_t len, size_t caps_off, uint32_t n_common)
{
    return n_common > 0 && caps_off + 4 <= len &&
           (le32(body + caps_off) & (1u << SPICE_COMMON_CAP_MINI_HEADER));
}

/* The collected bytes of one phase are complete: act, pick the next. */
static void step(BenchProxy *px, Conn *c, Parser *p, bool from_server)
{
    const uint8_t *a = p->acc->data;
    size_t len = p->acc->len;

    switch (p->phase) {
    case P_LINK_HDR:
        if (le32(a) != SPICE_MAGIC) {
            p->phase = P_IGNORE;
            return;
        }
        expect(p, P_LINK_BODY, le32(a + 12));
        return;
    case P_LINK_BODY:
        if (!from_server) {
            if (len >= sizeof(SpiceLinkMess)) {
                c->channel_type = a[4];
                c->client_mini = has_mini_cap(a, len, le32(a + 14), le32(a + 6));
            }
            p->phase = P_IGNORE;    /* client messages are not counted */
            return;
        }
        if (len >= sizeof(SpiceLinkReply)) {
            size_t o = 4 + SPICE_TICKET_PUBKEY_BYTES;
            c->mini = c->client_mini && has_mini_cap(a, len, le32(a + o + 8), le32(a + o));
        }
        expect(p, P_RESULT, 4);
        return;
    case P_RESULT:
        if (c->channel_type != SPICE_CHANNEL_DISPLAY) {
            p->phase = P_IGNORE;
            return;
        }
        p->hdr_len = c->mini ? sizeof(SpiceMiniDataHeader) : sizeof(SpiceDataHeader);
        expect(p, P_MSG_HDR, p->hdr_len);
        return;
    case P_MSG_HDR:
        if (c->mini) {
            p->type = le16(a);
            p->size = le32(a + 2);
            p->sub_list = 0;
        } else {
            p->type = le16(a + 8);
            p->size = le32(a + 10);
            p->sub_list = le32(a + 14);
        }
        expect(p, P_MSG_BODY, p->size);
        return;
    case P_MSG_BODY:
        count_message(px, p);
        expect(p, P_MSG_HDR, p->hdr_len);
        return;
    default:
        return;
    }
}

static void feed(BenchProxy *px, Conn *c, Parser *p, bool from_server, const uint8_t *d,
                 size_t n)
{
    while (p->phase != P_IGNORE) {
        if (p->acc->len < p->need) {
            size_t take = MIN(n, p->need - p->acc->len);
            g_byte_array_append(p->acc, d, (guint)take);
            d += take;
            n -= take;
            if (p->acc->len < p->need) {
                return;
            }
        }
        if (p->skip) {
            size_t take = (size_t)MIN((uint64_t)n, p->skip);
            d += take;
            n -= take;
            p->skip -= take;
            if (p->skip) {
                return;
            }
        }
        /* A phase with nothing left to collect (an empty body) completes
         * now; any other needs input. */
        step(px, c, p, from_server);
        if (!n && (p->need || p->skip)) {
            return;
        }
    }
}

static void conn_close(Conn *c)
{
    if (c->cfd >= 0) {
        close(c->cfd);
    }
    if (c->sfd >= 0) {
        close(c->sfd);
    }
    g_free(c->c2s.buf);
    g_free(c->s2c.buf);
    g_byte_array_unref(c->cp.acc);
    g_byte_array_unref(c->sp.acc);
    memset(c, 0, sizeof(*c));
    c->cfd = c->sfd = -1;
}

static void set_sock_opts(int fd)
{
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void accept_one(BenchProxy *px)
{
    int cfd = accept4(px->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (cfd < 0) {
        return;
    }
    Conn *c = NULL;
    for (int i = 0; i < MAX_CONNS && !c; i++) {
        if (px->conns[i].cfd < 0) {
            c = &px->conns[i];
        }
    }
    int sfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)px->server_port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    /* Blocking connect on loopback: immediate. */
    if (!c || sfd < 0 || connect(sfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        g_printerr("bench-client: proxy: cannot relay a connection: %s\n",
                   c ? g_strerror(errno) : "too many");
        close(cfd);
        if (sfd >= 0) {
            close(sfd);
        }
        return;
    }
    set_sock_opts(cfd);
    set_sock_opts(sfd);
    *c = (Conn){ .cfd = cfd, .sfd = sfd };
    c->c2s.buf = g_malloc(BUF_BYTES);
    c->s2c.buf = g_malloc(BUF_BYTES);
    c->cp.acc = g_byte_array_new();
    c->sp.acc = g_byte_array_new();
    expect(&c->cp, P_LINK_HDR, sizeof(SpiceLinkHeader));
    expect(&c->sp, P_LINK_HDR, sizeof(SpiceLinkHeader));
}

/* Moves bytes: reads `from` into d while there is room, writes d to `to`.
 * False when the connection is finished (closed, or an error). */
static bool pump_dir(BenchProxy *px, Conn *c, Dir *d, int from, int to, short rev_from,
                     short rev_to, Parser *p, bool from_server)
{
    if ((rev_from & (POLLIN | POLLHUP | POLLERR)) && !d->eof && d->end < BUF_BYTES) {
        ssize_t n = read(from, d->buf + d->end, BUF_BYTES - d->end);
        if (n > 0) {
            d->end += (size_t)n;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            d->eof = true;
        }
    }
    if (d->start < d->end && (rev_to & POLLOUT)) {
        ssize_t n = write(to, d->buf + d->start, d->end - d->start);
        if (n > 0) {
            feed(px, c, p, from_server, d->buf + d->start, (size_t)n);
            d->start += (size_t)n;
            if (d->start == d->end) {
                d->start = d->end = 0;
            }
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return false;
        }
    }
    if (rev_to & (POLLERR | POLLHUP)) {
        return false;
    }
    /* The source closed and everything it sent was delivered. */
    return !(d->eof && d->start == d->end);
}

static gpointer proxy_main(gpointer data)
{
    BenchProxy *px = data;
    struct pollfd fds[1 + 2 * MAX_CONNS];

    for (;;) {
        int n = 0;
        fds[n++] = (struct pollfd){ .fd = px->lfd, .events = POLLIN };
        for (int i = 0; i < MAX_CONNS; i++) {
            Conn *c = &px->conns[i];
            if (c->cfd < 0) {
                fds[n++] = (struct pollfd){ .fd = -1 };
                fds[n++] = (struct pollfd){ .fd = -1 };
                continue;
            }
            short ce = 0, se = 0;
            if (!c->c2s.eof && c->c2s.end < BUF_BYTES) {
                ce |= POLLIN;
            }
            if (!c->s2c.eof && c->s2c.end < BUF_BYTES) {
                se |= POLLIN;
            }
            if (c->s2c.start < c->s2c.end) {
                ce |= POLLOUT;
            }
            if (c->c2s.start < c->c2s.end) {
                se |= POLLOUT;
            }
            fds[n++] = (struct pollfd){ .fd = c->cfd, .events = ce };
            fds[n++] = (struct pollfd){ .fd = c->sfd, .events = se };
        }
        if (poll(fds, (nfds_t)n, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            g_printerr("bench-client: proxy: poll: %s\n", g_strerror(errno));
            return NULL;
        }
        if (fds[0].revents & POLLIN) {
            accept_one(px);
        }
        for (int i = 0; i < MAX_CONNS; i++) {
            Conn *c = &px->conns[i];
            short cr = fds[1 + 2 * i].revents, sr = fds[2 + 2 * i].revents;
            if (c->cfd < 0 || fds[1 + 2 * i].fd != c->cfd || !(cr | sr)) {
                continue;
            }
            if (!pump_dir(px, c, &c->s2c, c->sfd, c->cfd, sr, cr, &c->sp, true) ||
                !pump_dir(px, c, &c->c2s, c->cfd, c->sfd, cr, sr, &c->cp, false)) {
                conn_close(c);
            }
        }
    }
    return NULL;
}

BenchProxy *bench_proxy_start(int server_port, int *listen_port, GError **error)
{
    BenchProxy *px = g_new0(BenchProxy, 1);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);

    px->server_port = server_port;
    g_mutex_init(&px->lock);
    for (int i = 0; i < MAX_CONNS; i++) {
        px->conns[i].cfd = px->conns[i].sfd = -1;
    }
    px->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (px->lfd < 0 || bind(px->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(px->lfd, 16) < 0 || getsockname(px->lfd, (struct sockaddr *)&sa, &len) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "proxy socket: %s", g_strerror(errno));
        if (px->lfd >= 0) {
            close(px->lfd);
        }
        g_free(px);
        return NULL;
    }
    *listen_port = ntohs(sa.sin_port);
    g_thread_unref(g_thread_new("bench-proxy", proxy_main, px));
    return px;
}

void bench_proxy_snapshot(BenchProxy *p, ProxyStats *out)
{
    g_mutex_lock(&p->lock);
    *out = p->st;
    g_mutex_unlock(&p->lock);
}
