/* Internals shared by the files of server/net (not for other layers). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "server/core/reds.h"
#include "server/net/stream.h"

typedef struct RedLinkHandshake RedLinkHandshake;

/* GError domain for configuration failures of the net layer. */
#define RED_NET_ERROR red_net_error_quark()
GQuark red_net_error_quark(void);

/* A listening socket and its accept watch. */
typedef struct RedsListener {
    struct RedsNet *net;        /* back pointer, not owned */
    int fd;                     /* -1 = unused */
    bool owned;                 /* false for cfg.listen_fd */
    bool tls;                   /* accepted sockets start with a TLS handshake */
    RedWatch *watch;            /* owned */
} RedsListener;

#define REDS_NET_MAX_LISTENERS 3

struct RedsNet {
    RedsState *reds;            /* back pointer, not owned */
    SSL_CTX *tls_ctx;           /* owned; NULL when TLS is not configured */
    RedsListener listeners[REDS_NET_MAX_LISTENERS];
    GList *handshakes;          /* RedLinkHandshake*, owned, still linking */
};

/* Fills s->info (addresses, ADDR_EXT and TLS flags) and s->is_unix from the
 * socket. Used by both stream constructors. */
void red_stream_init_common(RedStream *s, int fd, const RedStreamOps *ops, bool is_tls);

/* --- TLS (stream-tls.c) --- */

/* Builds the server context from reds->cfg (cert chain, key + password,
 * CA file, DH params, ciphers, TLS >= 1.1, no compression or
 * renegotiation). Main loop. Returns an owned context or NULL + err. */
SSL_CTX *red_tls_context_new(RedsState *reds, GError **err);

/* Wraps a connected non-blocking socket in a server-side TLS stream whose
 * handshake has not run yet (see red_stream_tls_accept). fd becomes owned
 * on success only. Returns NULL if OpenSSL cannot allocate. */
RedStream *red_stream_new_tls(int fd, SSL_CTX *ctx);

typedef enum {
    RED_TLS_ACCEPT_DONE,
    RED_TLS_ACCEPT_WANT_READ,
    RED_TLS_ACCEPT_WANT_WRITE,
    RED_TLS_ACCEPT_FAILED,      /* *error says why (owned by the caller) */
} RedTlsAcceptStatus;

/* Advances the server handshake of a stream made by red_stream_new_tls. */
RedTlsAcceptStatus red_stream_tls_accept(RedStream *s, char **error);

/* True if the last TLS read/write stopped because OpenSSL must write first
 * (so the caller should also wait for writability). False for plain. */
bool red_stream_tls_wants_write(RedStream *s);

/* --- link handshake (link.c) --- */

/* Starts the link handshake on stream (owned from now on): TLS handshake
 * first if the stream is TLS, then the SPICE link. The handshake is
 * tracked in reds->net->handshakes and ends either in reds_link_complete()
 * or in closing the stream. Main loop. */
void red_link_handshake_start(RedsState *reds, RedStream *stream, bool skip_auth);

/* Aborts a handshake in progress: closes the stream and frees everything.
 * No channel event: the embedder hears of a connection only once reds has
 * completed its link. Main loop. */
void red_link_handshake_abort(RedLinkHandshake *hs);

/* Local port of the first plain (tls = false) or TLS listener, -1 if none
 * (tests bind port 0 and ask which port they got). Main loop. */
int reds_net_listen_port(RedsState *reds, bool tls);

/* Test hooks: a fixed key for the link reply instead of a fresh RSA-1024
 * one per link (fuzzing would otherwise spend its time in key generation;
 * a reference is taken, NULL restores fresh keys), and the handshake
 * timeout in ms (0 restores RED_LINK_TIMEOUT_MS). Not thread-safe; call
 * before connections start. */
void red_link_set_fixed_key_for_tests(EVP_PKEY *key);
void red_link_set_timeout_for_tests(uint32_t ms);
