/* Link handshake over real loopback sockets: the server side runs on a
 * GMainContext in the main thread, each client is a blocking thread with
 * socket timeouts, so every wait is bounded. reds_* are the fakes in
 * fake-reds.c (reds.c needs real channels to complete a link). */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <dirent.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <spice/protocol.h>

#include "server/net/net.h"
#include "server/net/net-private.h"
#include "tests/unit/net/fake-reds.h"

#define CLIENT_IO_TIMEOUT_S 10
#define LOOP_DEADLINE_US (20 * G_USEC_PER_SEC)

static GMainContext *ctx;
static RedsState *reds;
static char *tmpdir;

/* ---------- client side (runs in its own thread) ---------- */

typedef struct Conn {
    int fd;
    SSL_CTX *ssl_ctx;
    SSL *ssl;
} Conn;

static int connect_port(int port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct timeval tv = { .tv_sec = CLIENT_IO_TIMEOUT_S };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    return fd;
}

static Conn conn_plain(int port)
{
    return (Conn){ .fd = connect_port(port) };
}

/* TLS client like spice-gtk: no SSLv2/3/TLS1.0, server verified by CA. */
static bool conn_tls(int port, Conn *c)
{
    char *ca = g_build_filename(tmpdir, "ca-cert.pem", NULL);
    c->fd = connect_port(port);
    c->ssl_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_options(c->ssl_ctx, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1);
    g_assert_cmpint(SSL_CTX_load_verify_locations(c->ssl_ctx, ca, NULL), ==, 1);
    SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
    g_free(ca);
    c->ssl = SSL_new(c->ssl_ctx);
    SSL_set_fd(c->ssl, c->fd);
    return SSL_connect(c->ssl) == 1;
}

static void conn_close(Conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        SSL_CTX_free(c->ssl_ctx);
    }
    close(c->fd);
    ERR_clear_error();
}

static void conn_send(Conn *c, const void *buf, size_t len)
{
    if (c->ssl) {
        g_assert_cmpint(SSL_write(c->ssl, buf, (int)len), ==, (int)len);
    } else {
        g_assert_cmpint(send(c->fd, buf, len, MSG_NOSIGNAL), ==, (ssize_t)len);
    }
}

/* Reads exactly len bytes; false on EOF/error/timeout. */
static bool conn_recv(Conn *c, void *buf, size_t len)
{
    size_t have = 0;
    while (have < len) {
        ssize_t n = c->ssl ? SSL_read(c->ssl, (char *)buf + have, (int)(len - have))
                           : recv(c->fd, (char *)buf + have, len - have, 0);
        if (n <= 0) {
            return false;
        }
        have += (size_t)n;
    }
    return true;
}

/* True if the server closed: EOF (or reset) within the timeout. */
static bool conn_sees_close(Conn *c)
{
    char b;
    ssize_t n = c->ssl ? SSL_read(c->ssl, &b, 1) : recv(c->fd, &b, 1, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

typedef struct LinkOpts {
    uint32_t magic, major, size_override;
    uint8_t type, id;
    uint32_t ncommon, nchannel, caps_offset;
    bool no_auth_selection;
} LinkOpts;

static LinkOpts default_link(uint8_t type)
{
    return (LinkOpts){ .magic = SPICE_MAGIC, .major = SPICE_VERSION_MAJOR, .type = type,
                       .ncommon = 1, .nchannel = 1, .caps_offset = sizeof(SpiceLinkMess) };
}

static void send_link(Conn *c, const LinkOpts *o)
{
    uint32_t ncaps = o->ncommon + o->nchannel;
    size_t body = sizeof(SpiceLinkMess) + ncaps * sizeof(uint32_t);
    uint8_t *buf = g_malloc0(sizeof(SpiceLinkHeader) + body);
    SpiceLinkHeader h = { GUINT32_TO_LE(o->magic), GUINT32_TO_LE(o->major),
                          GUINT32_TO_LE(SPICE_VERSION_MINOR),
                          GUINT32_TO_LE(o->size_override ? o->size_override : body) };
    SpiceLinkMess m = { .connection_id = 0, .channel_type = o->type, .channel_id = o->id,
                        .num_common_caps = GUINT32_TO_LE(o->ncommon),
                        .num_channel_caps = GUINT32_TO_LE(o->nchannel),
                        .caps_offset = GUINT32_TO_LE(o->caps_offset) };
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), &m, sizeof(m));
    uint8_t *caps = buf + sizeof(h) + sizeof(m);
    if (o->ncommon) {
        uint32_t w = o->no_auth_selection ? 0 : GUINT32_TO_LE((1 << SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION) |
                                                              (1 << SPICE_COMMON_CAP_AUTH_SPICE) |
                                                              (1 << SPICE_COMMON_CAP_MINI_HEADER));
        memcpy(caps, &w, 4);
    }
    if (o->nchannel) {
        uint32_t w = GUINT32_TO_LE(0x3);
        memcpy(caps + 4 * o->ncommon, &w, 4);
    }
    conn_send(c, buf, sizeof(h) + body);
    g_free(buf);
}

typedef struct Reply {
    bool ok;                    /* a complete reply arrived */
    uint32_t error;
    uint8_t pub_key[SPICE_TICKET_PUBKEY_BYTES];
    uint32_t ncommon, nchannel, common0, channel0;
} Reply;

static Reply recv_reply(Conn *c)
{
    Reply r = { 0 };
    SpiceLinkHeader h;
    SpiceLinkReply rep;

    if (!conn_recv(c, &h, sizeof(h)) || GUINT32_FROM_LE(h.magic) != SPICE_MAGIC ||
        GUINT32_FROM_LE(h.size) < sizeof(rep) || GUINT32_FROM_LE(h.size) > 4096 ||
        !conn_recv(c, &rep, sizeof(rep))) {
        return r;
    }
    uint32_t rest = GUINT32_FROM_LE(h.size) - sizeof(rep);
    uint32_t *caps = g_malloc0(rest + 8);
    if (!conn_recv(c, caps, rest)) {
        g_free(caps);
        return r;
    }
    r.ok = true;
    r.error = GUINT32_FROM_LE(rep.error);
    memcpy(r.pub_key, rep.pub_key, sizeof(r.pub_key));
    r.ncommon = GUINT32_FROM_LE(rep.num_common_caps);
    r.nchannel = GUINT32_FROM_LE(rep.num_channel_caps);
    if (r.error == 0) {
        g_assert_cmpuint(GUINT32_FROM_LE(rep.caps_offset), ==, sizeof(rep));
    } else {
        /* Error replies are all zero but for the error, as upstream's. */
        static const uint8_t zero[SPICE_TICKET_PUBKEY_BYTES];
        g_assert_cmpint(memcmp(rep.pub_key, zero, sizeof(zero)), ==, 0);
        g_assert_cmpuint(rep.caps_offset | rep.num_common_caps | rep.num_channel_caps, ==, 0);
    }
    g_assert_cmpuint(rest, ==, (r.ncommon + r.nchannel) * 4);
    r.common0 = r.ncommon ? GUINT32_FROM_LE(caps[0]) : 0;
    r.channel0 = r.nchannel ? GUINT32_FROM_LE(caps[r.ncommon]) : 0;
    g_free(caps);
    return r;
}

static void send_ticket(Conn *c, const Reply *r, const char *password, bool auth_mech)
{
    const unsigned char *p = r->pub_key;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, sizeof(r->pub_key));
    g_assert_nonnull(pk);
    g_assert_cmpint(EVP_PKEY_get_bits(pk), ==, 1024);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(pk, NULL);
    uint8_t out[128];
    size_t outlen = sizeof(out);
    g_assert_cmpint(EVP_PKEY_encrypt_init(pc), ==, 1);
    g_assert_cmpint(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING), ==, 1);
    g_assert_cmpint(EVP_PKEY_encrypt(pc, out, &outlen, (const uint8_t *)password,
                                     strlen(password) + 1), ==, 1);
    g_assert_cmpuint(outlen, ==, 128);
    EVP_PKEY_CTX_free(pc);
    EVP_PKEY_free(pk);
    if (auth_mech) {
        uint32_t mech = GUINT32_TO_LE(SPICE_COMMON_CAP_AUTH_SPICE);
        conn_send(c, &mech, sizeof(mech));
    }
    conn_send(c, out, outlen);
}

static uint32_t recv_result(Conn *c)
{
    uint32_t v;
    return conn_recv(c, &v, sizeof(v)) ? GUINT32_FROM_LE(v) : 0xffffffff;
}

/* Full handshake on channel type; returns the link result. */
static uint32_t client_link(Conn *c, uint8_t type, const char *password)
{
    LinkOpts o = default_link(type);
    send_link(c, &o);
    Reply r = recv_reply(c);
    if (!r.ok) {
        return 0xfffffffe;
    }
    if (r.error) {
        return r.error;
    }
    g_assert_cmpuint(r.ncommon, ==, 1);
    g_assert_cmpuint(r.common0, ==, (1 << SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION) |
                     (1 << SPICE_COMMON_CAP_AUTH_SPICE) | (1 << SPICE_COMMON_CAP_MINI_HEADER));
    g_assert_cmpuint(r.nchannel, ==, 1);
    g_assert_cmpuint(r.channel0, ==, 0x5);
    send_ticket(c, &r, password, true);
    return recv_result(c);
}

/* ---------- server side driving ---------- */

typedef gpointer (*ClientFunc)(gpointer arg);

typedef struct {
    ClientFunc func;
    gpointer arg;
    gpointer ret;
    gint done;
} ClientRun;

static gpointer client_thread(gpointer data)
{
    ClientRun *run = data;
    run->ret = run->func(run->arg);
    g_atomic_int_set(&run->done, 1);
    g_main_context_wakeup(ctx);
    return NULL;
}

static gboolean tick(gpointer unused)
{
    return G_SOURCE_CONTINUE;
}

/* Iterates the server loop until cond(data) or the deadline. */
static void run_until(bool (*cond)(gpointer), gpointer data)
{
    gint64 deadline = g_get_monotonic_time() + LOOP_DEADLINE_US;
    while (!cond(data)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(ctx, TRUE);
    }
}

static bool run_done(gpointer data)
{
    return g_atomic_int_get(&((ClientRun *)data)->done);
}

static bool no_handshakes(gpointer unused)
{
    return reds->net->handshakes == NULL;
}

/* Runs func in a client thread while serving; waits until every
 * handshake has ended. Returns what func returned. */
static gpointer run_client(ClientFunc func, gpointer arg)
{
    ClientRun run = { func, arg, NULL, 0 };
    GThread *t = g_thread_new("client", client_thread, &run);
    run_until(run_done, &run);
    g_thread_join(t);
    run_until(no_handshakes, NULL);
    return run.ret;
}

static void server_start(void)
{
    GError *err = NULL;
    g_free(reds->cfg.addr);
    reds->cfg.addr = g_strdup("127.0.0.1");
    reds->cfg.port = 0;
    g_assert_true(reds_net_init(reds, &err));
    g_assert_no_error(err);
}

static void server_stop(void)
{
    reds_net_destroy(reds);
    g_assert_null(reds->net);
}

static int plain_port(void)
{
    return reds_net_listen_port(reds, false);
}

static void set_ticket(const char *pw, time_t expiry)
{
    reds->cfg.noauth = false;
    reds->cfg.ticket_set = true;
    g_strlcpy(reds->cfg.ticket, pw, sizeof(reds->cfg.ticket));
    reds->cfg.ticket_expiry = expiry;
}

/* ---------- tests ---------- */

static gpointer c_link_with(gpointer pw)
{
    Conn c = conn_plain(plain_port());
    uint32_t r = client_link(&c, SPICE_CHANNEL_DISPLAY, pw);
    conn_close(&c);
    return GUINT_TO_POINTER(r);
}

static void test_ticket(void)
{
    server_start();
    set_ticket("s3cret", 0);
    int before = fake_last_link.completed;

    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_link_with, "s3cret")), ==, SPICE_LINK_ERR_OK);
    g_assert_cmpint(fake_last_link.completed, ==, before + 1);
    g_assert_cmpuint(fake_last_link.channel_type, ==, SPICE_CHANNEL_DISPLAY);
    g_assert_cmpuint(fake_last_link.num_common_caps, ==, 1);
    g_assert_cmpuint(fake_last_link.num_channel_caps, ==, 1);
    g_assert_cmpuint(fake_last_link.first_channel_cap, ==, 0x3);
    g_assert_false(fake_last_link.tls);

    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_link_with, "wrong")), ==,
                     SPICE_LINK_ERR_PERMISSION_DENIED);
    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_link_with, "")), ==,
                     SPICE_LINK_ERR_PERMISSION_DENIED);
    set_ticket("s3cret", time(NULL) - 10);
    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_link_with, "s3cret")), ==,
                     SPICE_LINK_ERR_PERMISSION_DENIED);
    g_assert_cmpint(fake_last_link.completed, ==, before + 1);
    server_stop();
}

static void test_noauth(void)
{
    server_start();
    reds->cfg.noauth = true;
    int before = fake_last_link.completed;
    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_link_with, "anything")), ==, SPICE_LINK_ERR_OK);
    g_assert_cmpint(fake_last_link.completed, ==, before + 1);
    reds->cfg.noauth = false;
    server_stop();
}

/* A client without AUTH_SELECTION sends the ticket right after the reply. */
static gpointer c_no_auth_selection(gpointer unused)
{
    Conn c = conn_plain(plain_port());
    LinkOpts o = default_link(SPICE_CHANNEL_MAIN);
    o.no_auth_selection = true;
    send_link(&c, &o);
    Reply r = recv_reply(&c);
    g_assert_true(r.ok);
    send_ticket(&c, &r, "pw", false);
    uint32_t res = recv_result(&c);
    conn_close(&c);
    return GUINT_TO_POINTER(res);
}

static void test_no_auth_selection(void)
{
    server_start();
    set_ticket("pw", 0);
    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_no_auth_selection, NULL)), ==,
                     SPICE_LINK_ERR_OK);
    g_assert_cmpuint(fake_last_link.channel_type, ==, SPICE_CHANNEL_MAIN);
    server_stop();
}

/* Sends raw bytes then expects an error reply (returned) and a close. */
typedef struct {
    const void *bytes;
    size_t len;
    LinkOpts link;
    bool use_link;
} RawCase;

static gpointer c_raw(gpointer data)
{
    RawCase *rc = data;
    Conn c = conn_plain(plain_port());
    if (rc->use_link) {
        send_link(&c, &rc->link);
    } else {
        conn_send(&c, rc->bytes, rc->len);
    }
    Reply r = recv_reply(&c);
    uint32_t err = r.ok ? r.error : 0xfffffffe;
    g_assert_true(conn_sees_close(&c));
    conn_close(&c);
    return GUINT_TO_POINTER(err);
}

static uint32_t raw_case(RawCase rc)
{
    return GPOINTER_TO_UINT(run_client(c_raw, &rc));
}

static void test_rejections(void)
{
    server_start();
    static const char garbage[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    int before = fake_last_link.completed;

    g_assert_cmpuint(raw_case((RawCase){ garbage, sizeof(garbage) - 1 }), ==,
                     SPICE_LINK_ERR_INVALID_MAGIC);

    LinkOpts o = default_link(SPICE_CHANNEL_MAIN);
    o.magic = 0x51444553;
    g_assert_cmpuint(raw_case((RawCase){ .link = o, .use_link = true }), ==,
                     SPICE_LINK_ERR_INVALID_MAGIC);

    o = default_link(SPICE_CHANNEL_MAIN);
    o.major = 1;
    g_assert_cmpuint(raw_case((RawCase){ .link = o, .use_link = true }), ==,
                     SPICE_LINK_ERR_VERSION_MISMATCH);

    o = default_link(SPICE_CHANNEL_MAIN);
    o.size_override = RED_LINK_MAX_SIZE + 1;
    g_assert_cmpuint(raw_case((RawCase){ .link = o, .use_link = true }), ==,
                     SPICE_LINK_ERR_INVALID_DATA);

    o = default_link(SPICE_CHANNEL_MAIN);
    o.size_override = sizeof(SpiceLinkMess) - 1;
    g_assert_cmpuint(raw_case((RawCase){ .link = o, .use_link = true }), ==,
                     SPICE_LINK_ERR_INVALID_DATA);

    /* Header says 18 bytes but caps follow: caps outside the message. */
    o = default_link(SPICE_CHANNEL_MAIN);
    o.size_override = sizeof(SpiceLinkMess);
    g_assert_cmpuint(raw_case((RawCase){ .link = o, .use_link = true }), ==,
                     SPICE_LINK_ERR_INVALID_DATA);

    o = default_link(SPICE_CHANNEL_MAIN);
    o.caps_offset = 4;
    g_assert_cmpuint(raw_case((RawCase){ .link = o, .use_link = true }), ==,
                     SPICE_LINK_ERR_INVALID_DATA);

    o = default_link(SPICE_CHANNEL_MAIN);
    o.caps_offset = 0xfffffff0;     /* would wrap a 32-bit sum */
    g_assert_cmpuint(raw_case((RawCase){ .link = o, .use_link = true }), ==,
                     SPICE_LINK_ERR_INVALID_DATA);

    o = default_link(SPICE_CHANNEL_MAIN);
    o.nchannel = RED_LINK_MAX_CAPS + 1;
    o.size_override = 4000;         /* in range; the count is what's wrong */
    g_assert_cmpuint(raw_case((RawCase){ .link = o, .use_link = true }), ==,
                     SPICE_LINK_ERR_INVALID_DATA);

    o = default_link(SPICE_CHANNEL_RECORD);
    g_assert_cmpuint(raw_case((RawCase){ .link = o, .use_link = true }), ==,
                     SPICE_LINK_ERR_CHANNEL_NOT_AVAILABLE);

    reds->cfg.channel_security[SPICE_CHANNEL_INPUTS] = SPICE_CHANNEL_SECURITY_SSL;
    o = default_link(SPICE_CHANNEL_INPUTS);
    g_assert_cmpuint(raw_case((RawCase){ .link = o, .use_link = true }), ==,
                     SPICE_LINK_ERR_NEED_SECURED);
    reds->cfg.channel_security[SPICE_CHANNEL_INPUTS] = 0;

    g_assert_cmpint(fake_last_link.completed, ==, before);
    server_stop();
}

/* Truncated link message: the client stops mid-message and closes. */
static gpointer c_truncated(gpointer unused)
{
    Conn c = conn_plain(plain_port());
    SpiceLinkHeader h = { GUINT32_TO_LE(SPICE_MAGIC), GUINT32_TO_LE(2), GUINT32_TO_LE(2),
                          GUINT32_TO_LE(100) };
    conn_send(&c, &h, sizeof(h));
    conn_send(&c, "abcdefgh", 8);
    conn_close(&c);
    return NULL;
}

/* Bytes one at a time: partial reads must be buffered in every state. */
static gpointer c_byte_by_byte(gpointer unused)
{
    Conn c = conn_plain(plain_port());
    LinkOpts o = default_link(SPICE_CHANNEL_INPUTS);
    /* Build the message with send_link on a socketpair to reuse it. */
    int sp[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), ==, 0);
    Conn tmp = { .fd = sp[0] };
    send_link(&tmp, &o);
    close(sp[0]);
    uint8_t buf[256];
    ssize_t n = read(sp[1], buf, sizeof(buf));
    close(sp[1]);
    for (ssize_t i = 0; i < n; i++) {
        conn_send(&c, &buf[i], 1);
    }
    Reply r = recv_reply(&c);
    g_assert_true(r.ok);
    g_assert_cmpuint(r.error, ==, 0);
    send_ticket(&c, &r, "pw", true);
    uint32_t res = recv_result(&c);
    conn_close(&c);
    return GUINT_TO_POINTER(res);
}

static void test_partial(void)
{
    server_start();
    set_ticket("pw", 0);
    int before = fake_last_link.completed;
    run_client(c_truncated, NULL);
    g_assert_cmpint(fake_last_link.completed, ==, before);
    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_byte_by_byte, NULL)), ==, SPICE_LINK_ERR_OK);
    g_assert_cmpint(fake_last_link.completed, ==, before + 1);
    server_stop();
}

/* Unknown auth mechanism and SASL (not offered) are refused. */
static gpointer c_auth_mech(gpointer mech)
{
    Conn c = conn_plain(plain_port());
    LinkOpts o = default_link(SPICE_CHANNEL_MAIN);
    send_link(&c, &o);
    Reply r = recv_reply(&c);
    g_assert_true(r.ok);
    uint32_t m = GUINT32_TO_LE(GPOINTER_TO_UINT(mech));
    conn_send(&c, &m, sizeof(m));
    uint32_t res = recv_result(&c);
    g_assert_true(conn_sees_close(&c));
    conn_close(&c);
    return GUINT_TO_POINTER(res);
}

static void test_auth_mech(void)
{
    server_start();
    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_auth_mech,
                                                 GUINT_TO_POINTER(SPICE_COMMON_CAP_AUTH_SASL))),
                     ==, SPICE_LINK_ERR_INVALID_DATA);
    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_auth_mech, GUINT_TO_POINTER(77))), ==,
                     SPICE_LINK_ERR_INVALID_DATA);
    server_stop();
}

/* A fresh RSA-1024 key (e = 65537) per link. */
static gpointer c_get_key(gpointer out)
{
    Conn c = conn_plain(plain_port());
    LinkOpts o = default_link(SPICE_CHANNEL_MAIN);
    send_link(&c, &o);
    Reply r = recv_reply(&c);
    g_assert_true(r.ok);
    memcpy(out, r.pub_key, sizeof(r.pub_key));
    conn_close(&c);
    return NULL;
}

static void test_fresh_key(void)
{
    uint8_t k1[SPICE_TICKET_PUBKEY_BYTES], k2[SPICE_TICKET_PUBKEY_BYTES];
    red_link_set_fixed_key_for_tests(NULL);
    server_start();
    run_client(c_get_key, k1);
    run_client(c_get_key, k2);
    g_assert_cmpint(memcmp(k1, k2, sizeof(k1)), !=, 0);
    const unsigned char *p = k1;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, sizeof(k1));
    g_assert_nonnull(pk);
    g_assert_cmpint(p - k1, ==, SPICE_TICKET_PUBKEY_BYTES);
    g_assert_cmpint(EVP_PKEY_get_base_id(pk), ==, EVP_PKEY_RSA);
    g_assert_cmpint(EVP_PKEY_get_bits(pk), ==, 1024);
    BIGNUM *e = NULL;
    g_assert_true(EVP_PKEY_get_bn_param(pk, "e", &e));
    g_assert_true(BN_is_word(e, 65537));
    BN_free(e);
    EVP_PKEY_free(pk);
    server_stop();
}

/* A silent client is dropped when the handshake times out. */
static gpointer c_silent(gpointer unused)
{
    Conn c = conn_plain(plain_port());
    bool closed = conn_sees_close(&c);
    conn_close(&c);
    return GINT_TO_POINTER(closed);
}

static void test_timeout(void)
{
    red_link_set_timeout_for_tests(200);
    server_start();
    g_assert_true(GPOINTER_TO_INT(run_client(c_silent, NULL)));
    server_stop();
    red_link_set_timeout_for_tests(0);
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    g_assert_nonnull(d);
    while (readdir(d)) {
        n++;
    }
    closedir(d);
    return n;
}

static gpointer c_cycles(gpointer unused)
{
    for (int i = 0; i < 100; i++) {
        Conn c = conn_plain(plain_port());
        if (i % 2) {
            conn_send(&c, "RED", 3);    /* a partial magic, then gone */
        }
        conn_close(&c);
    }
    return NULL;
}

static void test_cycles(void)
{
    server_start();
    int fds = count_fds();
    run_client(c_cycles, NULL);
    /* The backlog may still hold connections the loop has not accepted. */
    for (int i = 0; i < 1000 && count_fds() != fds; i++) {
        g_main_context_iteration(ctx, FALSE);
        run_until(no_handshakes, NULL);
    }
    g_assert_cmpint(count_fds(), ==, fds);
    server_stop();
}

/* Unix socket listener (SPICE_ADDR_FLAG_UNIX_ONLY, addr = path). */
static gpointer c_unix(gpointer path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct timeval tv = { .tv_sec = CLIENT_IO_TIMEOUT_S };
    g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
    Conn c = { .fd = socket(AF_UNIX, SOCK_STREAM, 0) };
    setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    g_assert_cmpint(connect(c.fd, (struct sockaddr *)&sun, sizeof(sun)), ==, 0);
    uint32_t r = client_link(&c, SPICE_CHANNEL_MAIN, "pw");
    conn_close(&c);
    return GUINT_TO_POINTER(r);
}

static void test_unix(void)
{
    GError *err = NULL;
    char *path = g_build_filename(tmpdir, "spice.sock", NULL);
    set_ticket("pw", 0);
    g_free(reds->cfg.addr);
    reds->cfg.addr = g_strdup(path);
    reds->cfg.addr_flags = SPICE_ADDR_FLAG_UNIX_ONLY;
    g_assert_true(reds_net_init(reds, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_unix, path)), ==, SPICE_LINK_ERR_OK);
    server_stop();
    reds->cfg.addr_flags = 0;
    unlink(path);
    g_free(path);
}

/* listen_fd from the embedder, and add_client with skip_auth. */
static gpointer c_pair(gpointer fdp)
{
    Conn c = { .fd = GPOINTER_TO_INT(fdp) };
    uint32_t r = client_link(&c, SPICE_CHANNEL_MAIN, "not the ticket");
    conn_close(&c);
    return GUINT_TO_POINTER(r);
}

static void test_add_client(void)
{
    GError *err = NULL;
    int sp[2];
    set_ticket("pw", 0);
    reds->cfg.port = -1;
    reds->cfg.tls_port = -1;
    g_assert_true(reds_net_init(reds, &err));    /* no listeners at all */
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), ==, 0);
    g_assert_true(reds_net_add_client(reds, sp[0], false, true));
    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_pair, GINT_TO_POINTER(sp[1]))), ==,
                     SPICE_LINK_ERR_OK);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), ==, 0);
    g_assert_true(reds_net_add_client(reds, sp[0], false, false));
    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_pair, GINT_TO_POINTER(sp[1]))), ==,
                     SPICE_LINK_ERR_PERMISSION_DENIED);
    /* No TLS configured: add_ssl_client fails and leaves the fd open. */
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), ==, 0);
    g_assert_false(reds_net_add_client(reds, sp[0], true, false));
    g_assert_cmpint(close(sp[0]), ==, 0);
    close(sp[1]);
    server_stop();

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    g_assert_cmpint(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    g_assert_cmpint(listen(lfd, 8), ==, 0);
    reds->cfg.listen_fd = lfd;
    reds->cfg.addr_flags = 0;
    g_assert_true(reds_net_init(reds, &err));
    g_assert_cmpint(plain_port(), >, 0);
    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_link_with, "pw")), ==, SPICE_LINK_ERR_OK);
    server_stop();
    /* Not ours: still open after destroy. */
    g_assert_cmpint(close(lfd), ==, 0);
    reds->cfg.listen_fd = -1;
}

/* ---------- TLS ---------- */

static void sh(const char *cmd)
{
    char *full = g_strdup_printf("cd '%s' && %s", tmpdir, cmd);
    char *argv[] = { "/bin/sh", "-c", full, NULL };
    gint status = -1;
    char *out = NULL, *errs = NULL;
    g_assert_true(g_spawn_sync(NULL, argv, NULL, 0, NULL, NULL, &out, &errs, &status, NULL));
    if (status != 0) {
        g_printerr("%s failed: %s\n", cmd, errs);
    }
    g_assert_cmpint(status, ==, 0);
    g_free(out);
    g_free(errs);
    g_free(full);
}

static void make_certs(void)
{
    sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca "
       "-keyout ca-key.pem -out ca-cert.pem 2>/dev/null");
    sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes-128-cbc "
       "-pass pass:keypass -out server-key.pem");
    sh("openssl req -new -key server-key.pem -passin pass:keypass -subj /CN=localhost "
       "-out server.csr");
    sh("openssl x509 -req -in server.csr -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial "
       "-days 2 -out server-cert.pem 2>/dev/null");
    sh("openssl genpkey -genparam -algorithm DH -pkeyopt dh_param:ffdhe2048 -out dh.pem");
}

static void tls_config(void)
{
    RedsConfig *cfg = &reds->cfg;
    cfg->ca_file = g_build_filename(tmpdir, "ca-cert.pem", NULL);
    cfg->cert_file = g_build_filename(tmpdir, "server-cert.pem", NULL);
    cfg->key_file = g_build_filename(tmpdir, "server-key.pem", NULL);
    cfg->key_passwd = g_strdup("keypass");
    cfg->dh_file = g_build_filename(tmpdir, "dh.pem", NULL);
    cfg->tls_port = 0;
}

static gpointer c_tls_link(gpointer type)
{
    Conn c;
    uint32_t r = 0xfffffffd;
    if (conn_tls(reds_net_listen_port(reds, true), &c)) {
        g_assert_cmpint(SSL_version(c.ssl), >=, TLS1_2_VERSION);
        r = client_link(&c, GPOINTER_TO_UINT(type), "pw");
    }
    conn_close(&c);
    return GUINT_TO_POINTER(r);
}

static gpointer c_tls_bad(gpointer mode)
{
    Conn c = conn_plain(reds_net_listen_port(reds, true));
    /* A TLS record header announcing a ClientHello, then too little. */
    static const uint8_t partial[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01 };
    static const char garbage[] = "this is not TLS at all, just some text\r\n";
    if (GPOINTER_TO_INT(mode) == 0) {
        conn_send(&c, partial, sizeof(partial));
        shutdown(c.fd, SHUT_WR);
    } else {
        conn_send(&c, garbage, sizeof(garbage));
    }
    bool closed = conn_sees_close(&c);
    conn_close(&c);
    return GINT_TO_POINTER(closed);
}

static void test_tls(void)
{
    GError *err = NULL;
    make_certs();
    tls_config();
    set_ticket("pw", 0);
    g_free(reds->cfg.addr);
    reds->cfg.addr = g_strdup("127.0.0.1");
    reds->cfg.port = 0;
    g_assert_true(reds_net_init(reds, &err));
    g_assert_no_error(err);
    g_assert_cmpint(reds_net_listen_port(reds, true), >, 0);

    int before = fake_last_link.completed;
    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_tls_link, GUINT_TO_POINTER(SPICE_CHANNEL_MAIN))),
                     ==, SPICE_LINK_ERR_OK);
    g_assert_cmpint(fake_last_link.completed, ==, before + 1);
    g_assert_true(fake_last_link.tls);

    /* Secure-only channel: fine over TLS, NEED_SECURED over plain. */
    reds->cfg.channel_security[SPICE_CHANNEL_DISPLAY] = SPICE_CHANNEL_SECURITY_SSL;
    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_tls_link,
                                                 GUINT_TO_POINTER(SPICE_CHANNEL_DISPLAY))),
                     ==, SPICE_LINK_ERR_OK);
    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_link_with, "pw")), ==,
                     SPICE_LINK_ERR_NEED_SECURED);
    reds->cfg.channel_security[SPICE_CHANNEL_DISPLAY] = 0;
    /* Plain-only channel over TLS: NEED_UNSECURED. */
    reds->cfg.channel_security[SPICE_CHANNEL_INPUTS] = SPICE_CHANNEL_SECURITY_NONE;
    g_assert_cmpuint(GPOINTER_TO_UINT(run_client(c_tls_link,
                                                 GUINT_TO_POINTER(SPICE_CHANNEL_INPUTS))),
                     ==, SPICE_LINK_ERR_NEED_UNSECURED);
    reds->cfg.channel_security[SPICE_CHANNEL_INPUTS] = 0;

    g_assert_true(GPOINTER_TO_INT(run_client(c_tls_bad, GINT_TO_POINTER(0))));
    g_assert_true(GPOINTER_TO_INT(run_client(c_tls_bad, GINT_TO_POINTER(1))));
    g_assert_cmpint(fake_last_link.completed, ==, before + 2);
    server_stop();
}

static void test_tls_config_errors(void)
{
    GError *err = NULL;
    RedsConfig *cfg = &reds->cfg;
    char *good_pass = cfg->key_passwd;

    cfg->key_passwd = g_strdup("wrong");
    g_assert_false(reds_net_init(reds, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "private key"));
    g_clear_error(&err);
    g_assert_null(reds->net);
    g_free(cfg->key_passwd);
    cfg->key_passwd = good_pass;

    char *good_ciphers = cfg->ciphers;
    cfg->ciphers = g_strdup("NO-SUCH-CIPHER");
    g_assert_false(reds_net_init(reds, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    g_free(cfg->ciphers);
    cfg->ciphers = good_ciphers;

    cfg->tls_port = -1;
    cfg->port = -1;
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* Rejections log warnings by design; only criticals are fatal. */
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
    ctx = g_main_context_default();
    g_timeout_add(50, tick, NULL);
    tmpdir = g_dir_make_tmp("test-net-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    reds = fake_reds_new(ctx);

    /* One fixed key keeps most tests fast; test_fresh_key checks the real one. */
    EVP_PKEY *key = EVP_RSA_gen(1024);
    red_link_set_fixed_key_for_tests(key);
    EVP_PKEY_free(key);

    g_test_add_func("/net/link/ticket", test_ticket);
    g_test_add_func("/net/link/noauth", test_noauth);
    g_test_add_func("/net/link/no-auth-selection", test_no_auth_selection);
    g_test_add_func("/net/link/rejections", test_rejections);
    g_test_add_func("/net/link/partial", test_partial);
    g_test_add_func("/net/link/auth-mech", test_auth_mech);
    g_test_add_func("/net/link/timeout", test_timeout);
    g_test_add_func("/net/link/cycles", test_cycles);
    g_test_add_func("/net/listen/unix", test_unix);
    g_test_add_func("/net/listen/add-client", test_add_client);
    g_test_add_func("/net/tls/link", test_tls);
    g_test_add_func("/net/tls/config-errors", test_tls_config_errors);
    g_test_add_func("/net/link/fresh-key", test_fresh_key);
    int ret = g_test_run();

    red_link_set_fixed_key_for_tests(NULL);
    fake_reds_free(reds);
    char *rm = g_strdup_printf("rm -rf '%s'", tmpdir);
    g_assert_cmpint(system(rm), ==, 0);
    g_free(rm);
    g_free(tmpdir);
    return ret;
}
