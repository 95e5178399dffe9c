/* TLS: the server context built from the embedder's configuration, and a
 * RedStream whose bytes go through an OpenSSL session.
 *
 * Sockets are reached through our own BIO so writes use MSG_NOSIGNAL: a
 * peer that resets the connection mid-record must not raise SIGPIPE in the
 * embedder.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "server/core/log.h"
#include "server/net/net-private.h"

typedef struct TlsStream {
    RedStream base;
    SSL *ssl;               /* owned */
    bool want_write;        /* last SSL call ended in SSL_ERROR_WANT_WRITE */
} TlsStream;

/* ---- socket BIO without SIGPIPE ---- */

static int sock_bio_write(BIO *bio, const char *buf, int len)
{
    int fd = (int)(intptr_t)BIO_get_data(bio);
    ssize_t n;

    BIO_clear_retry_flags(bio);
    do {
        n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        BIO_set_retry_write(bio);
    }
    return (int)n;
}

static int sock_bio_read(BIO *bio, char *buf, int len)
{
    int fd = (int)(intptr_t)BIO_get_data(bio);
    ssize_t n;

    BIO_clear_retry_flags(bio);
    do {
        n = recv(fd, buf, (size_t)len, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        BIO_set_retry_read(bio);
    }
    return (int)n;
}

static long sock_bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    default:
        return 0;
    }
}

static int sock_bio_create(BIO *bio)
{
    BIO_set_init(bio, 1);
    return 1;
}

static BIO_METHOD *sock_bio_method;

static gpointer sock_bio_method_init(gpointer unused)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "spice-socket");
    g_assert(m);
    BIO_meth_set_write(m, sock_bio_write);
    BIO_meth_set_read(m, sock_bio_read);
    BIO_meth_set_ctrl(m, sock_bio_ctrl);
    BIO_meth_set_create(m, sock_bio_create);
    sock_bio_method = m;
    return NULL;
}

static BIO *sock_bio_new(int fd)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, sock_bio_method_init, NULL);

    BIO *bio = BIO_new(sock_bio_method);
    if (bio) {
        BIO_set_data(bio, (void *)(intptr_t)fd);
    }
    return bio;
}

/* ---- context ---- */

/* Appends the OpenSSL error queue to msg (and clears the queue). */
static char *tls_errors(const char *msg)
{
    GString *s = g_string_new(msg);
    unsigned long e;
    char buf[256];

    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        g_string_append_printf(s, ": %s", buf);
    }
    return g_string_free(s, FALSE);
}

static void set_tls_error(GError **err, const char *what, const char *file)
{
    char *msg = g_strdup_printf("%s%s%s", what, file ? " " : "", file ? file : "");
    char *full = tls_errors(msg);
    g_set_error_literal(err, RED_NET_ERROR, 0, full);
    g_free(full);
    g_free(msg);
}

static int key_password_cb(char *buf, int size, int rwflag, void *userdata)
{
    const RedsState *reds = userdata;
    const char *pass = reds->cfg.key_passwd ? reds->cfg.key_passwd : "";
    size_t len = strlen(pass);

    if (size <= 0 || len >= (size_t)size) {
        return 0;
    }
    memcpy(buf, pass, len + 1);
    return (int)len;
}

static bool load_dh_params(SSL_CTX *ctx, const char *file, GError **err)
{
    BIO *bio = BIO_new_file(file, "r");
    if (!bio) {
        set_tls_error(err, "cannot open DH parameters file", file);
        return false;
    }
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_PKEY *dh = PEM_read_bio_Parameters(bio, NULL);
    BIO_free(bio);
    if (!dh) {
        set_tls_error(err, "cannot read DH parameters from", file);
        return false;
    }
    if (SSL_CTX_set0_tmp_dh_pkey(ctx, dh) != 1) {
        EVP_PKEY_free(dh);
        set_tls_error(err, "cannot use DH parameters from", file);
        return false;
    }
#else
    DH *dh = PEM_read_bio_DHparams(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!dh) {
        set_tls_error(err, "cannot read DH parameters from", file);
        return false;
    }
    long ok = SSL_CTX_set_tmp_dh(ctx, dh);
    DH_free(dh);
    if (ok != 1) {
        set_tls_error(err, "cannot use DH parameters from", file);
        return false;
    }
#endif
    return true;
}

static bool is_set(const char *s)
{
    return s && s[0];
}

SSL_CTX *red_tls_context_new(RedsState *reds, GError **err)
{
    const RedsConfig *cfg = &reds->cfg;
    SSL_CTX *ctx;

    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        set_tls_error(err, "cannot allocate the TLS context", NULL);
        return NULL;
    }
    /* spice-gtk refuses SSLv2/3 and TLS 1.0 itself; we refuse the same and
     * keep TLS 1.1 for the clients that upstream still admits. Compression
     * (CRIME) and renegotiation initiated by the client (DoS) are off. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_1_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
                        SSL_OP_NO_COMPRESSION
#ifdef SSL_OP_NO_RENEGOTIATION
                        | SSL_OP_NO_RENEGOTIATION
#endif
                        );
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"SPICE", 5);

    if (!is_set(cfg->cert_file) ||
        SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1) {
        set_tls_error(err, "cannot load the certificate chain", cfg->cert_file);
        goto fail;
    }
    SSL_CTX_set_default_passwd_cb(ctx, key_password_cb);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, reds);
    if (!is_set(cfg->key_file) ||
        SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1) {
        set_tls_error(err, "cannot load the private key", cfg->key_file);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        set_tls_error(err, "the private key does not match the certificate", cfg->key_file);
        goto fail;
    }
    /* The password is only needed while loading the key. */
    SSL_CTX_set_default_passwd_cb(ctx, NULL);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);

    if (is_set(cfg->ca_file) &&
        SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1) {
        set_tls_error(err, "cannot load the CA file", cfg->ca_file);
        goto fail;
    }
    if (is_set(cfg->dh_file)) {
        if (!load_dh_params(ctx, cfg->dh_file, err)) {
            goto fail;
        }
    } else {
        SSL_CTX_set_dh_auto(ctx, 1);
    }
    if (is_set(cfg->ciphers) && SSL_CTX_set_cipher_list(ctx, cfg->ciphers) != 1) {
        set_tls_error(err, "no usable cipher in", cfg->ciphers);
        goto fail;
    }
    return ctx;

fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* ---- stream ---- */

/* Readies one SSL_read or SSL_write of len (> 0) bytes: clears the error
 * queue and errno, so tls_done() sees only that call's errors. Returns the
 * byte count to pass. */
static int tls_begin(size_t len)
{
    ERR_clear_error();
    errno = 0;
    return len > INT_MAX ? INT_MAX : (int)len;
}

/* Maps the result of one SSL_read or SSL_write to the read()/write()
 * convention: a count, 0 at a close, or -1 with errno (EAGAIN when OpenSSL
 * waits for the socket; want_write records which way). */
static ssize_t tls_done(TlsStream *ts, int ret)
{
    ts->want_write = false;
    if (ret > 0) {
        return ret;
    }
    switch (SSL_get_error(ts->ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        ts->want_write = true;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        if (errno == 0) {
            return 0;           /* EOF without close_notify: a plain close */
        }
        return -1;
    default:
        ERR_clear_error();
        /* Includes an EOF in the middle of a record (OpenSSL 3 reports it
         * as SSL_ERROR_SSL); the stream is unusable either way. */
        errno = EPROTO;
        return -1;
    }
}

static ssize_t tls_read(RedStream *s, void *buf, size_t len)
{
    TlsStream *ts = (TlsStream *)s;

    if (len == 0) {
        return 0;
    }
    int chunk = tls_begin(len);
    return tls_done(ts, SSL_read(ts->ssl, buf, chunk));
}

static ssize_t tls_write(RedStream *s, const void *buf, size_t len)
{
    TlsStream *ts = (TlsStream *)s;

    if (len == 0) {
        return 0;
    }
    int chunk = tls_begin(len);
    ssize_t r = tls_done(ts, SSL_write(ts->ssl, buf, chunk));
    if (r == 0) {
        /* Writing to a closed session is an error, not "0 bytes written". */
        errno = EPIPE;
        r = -1;
    }
    return r;
}

static size_t tls_pending(RedStream *s)
{
    TlsStream *ts = (TlsStream *)s;
    int n = SSL_pending(ts->ssl);
    return n > 0 ? (size_t)n : 0;
}

static void tls_destroy(RedStream *s)
{
    TlsStream *ts = (TlsStream *)s;
    SSL_free(ts->ssl);
    close(s->fd);
    g_free(ts);
}

static const RedStreamOps tls_ops = {
    .read = tls_read,
    .write = tls_write,
    .pending = tls_pending,
    .destroy = tls_destroy,
};

RedStream *red_stream_new_tls(int fd, SSL_CTX *ctx)
{
    SSL *ssl;
    BIO *bio;

    ERR_clear_error();
    ssl = SSL_new(ctx);
    if (!ssl) {
        ERR_clear_error();
        return NULL;
    }
    bio = sock_bio_new(fd);
    if (!bio) {
        ERR_clear_error();
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_bio(ssl, bio, bio);     /* ssl owns bio */
    SSL_set_accept_state(ssl);

    TlsStream *ts = g_new0(TlsStream, 1);
    ts->ssl = ssl;
    red_stream_init_common(&ts->base, fd, &tls_ops, true);
    return &ts->base;
}

RedTlsAcceptStatus red_stream_tls_accept(RedStream *s, char **error)
{
    g_assert(s->ops == &tls_ops);
    TlsStream *ts = (TlsStream *)s;
    int ret;

    ERR_clear_error();
    errno = 0;
    ret = SSL_do_handshake(ts->ssl);
    if (ret == 1) {
        return RED_TLS_ACCEPT_DONE;
    }
    switch (SSL_get_error(ts->ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        return RED_TLS_ACCEPT_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return RED_TLS_ACCEPT_WANT_WRITE;
    case SSL_ERROR_SYSCALL: {
        int saved = errno;
        char *msg = tls_errors("");
        *error = g_strdup_printf("%s%s", saved ? g_strerror(saved) : "connection closed", msg);
        g_free(msg);
        return RED_TLS_ACCEPT_FAILED;
    }
    default: {
        char *msg = tls_errors("");
        *error = g_strdup(msg[0] == ':' ? msg + 2 : msg);
        g_free(msg);
        return RED_TLS_ACCEPT_FAILED;
    }
    }
}

bool red_stream_tls_wants_write(RedStream *s)
{
    return s->ops == &tls_ops && ((TlsStream *)s)->want_write;
}
