/* Link handshake as a state machine (spice-reference.md section 1):
 *
 *   TLS_HANDSHAKE (TLS streams only)
 *        |
 *   READ_MAGIC -> READ_HEADER -> READ_MESS -> VALIDATE --reply--> WRITE
 *                                                                  |
 *        +---------------- client has AUTH_SELECTION? -------------+
 *        | yes                                      | no
 *   READ_AUTH_MECH --------------------------> READ_TICKET -> CHECK_TICKET
 *                                                              |
 *                                                    reds_link_complete()
 *
 * Any rejection builds the error bytes upstream sends (a zeroed
 * SpiceLinkReply carrying the error before the reply was sent, a u32 result
 * after), goes through WRITE, then DRAIN: our side shuts down writing and
 * reads what the client still sends until it closes, so the error is not
 * lost to a TCP reset. A timer bounds the whole handshake.
 *
 * Each state has one handler that returns what the driver does next:
 * run the next state now, wait for the socket, or close.
 */
#include "server/net/link.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <poll.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <spice/protocol.h>

#include "server/core/log.h"
#include "server/net/link-caps.h"
#include "server/net/net-private.h"

#define LINK_TICKET_BYTES (SPICE_TICKET_KEY_PAIR_LENGTH / 8)
/* After an error reply, how long the client gets to close its side. */
#define LINK_DRAIN_TIMEOUT_MS 1000
#define LINK_DRAIN_MAX_BYTES (64 * 1024)
/* Channel caps words we ask reds for; far above what any channel has. */
#define LINK_MAX_SERVER_CHANNEL_CAPS 64

typedef enum {
    LINK_TLS_HANDSHAKE,
    LINK_READ_MAGIC,
    LINK_READ_HEADER,
    LINK_READ_MESS,
    LINK_VALIDATE,
    LINK_WRITE,
    LINK_READ_AUTH_MECH,
    LINK_READ_TICKET,
    LINK_CHECK_TICKET,
    LINK_DRAIN,
    LINK_NUM_STATES,
} LinkState;

static const char *const link_state_names[LINK_NUM_STATES] = {
    [LINK_TLS_HANDSHAKE] = "TLS handshake",
    [LINK_READ_MAGIC] = "magic",
    [LINK_READ_HEADER] = "link header",
    [LINK_READ_MESS] = "link message",
    [LINK_VALIDATE] = "validation",
    [LINK_WRITE] = "reply",
    [LINK_READ_AUTH_MECH] = "auth mechanism",
    [LINK_READ_TICKET] = "ticket",
    [LINK_CHECK_TICKET] = "ticket check",
    [LINK_DRAIN] = "close",
};

typedef enum {
    STEP_NEXT,          /* state changed: run the new state now */
    STEP_WAIT_READ,
    STEP_WAIT_WRITE,
    STEP_CLOSE,         /* abort the link (already logged if needed) */
    STEP_HANDED_OFF,    /* the link went to reds; hs is freed */
} LinkStep;

struct RedLinkHandshake {
    RedsState *reds;            /* not owned */
    RedLink *link;              /* owned until handed to reds */
    LinkState state;
    bool skip_auth;
    RedWatch *watch;            /* owned */
    int watch_mask;
    RedTimer *timer;            /* owned */
    char peer[80];              /* for log lines */

    size_t in_have;             /* bytes of the current read state so far */
    SpiceLinkHeader header;     /* host byte order once validated */
    uint8_t *mess;              /* owned, header.size bytes */
    uint32_t auth_mech;
    uint8_t ticket[LINK_TICKET_BYTES];
    bool client_auth_selection;

    uint8_t *out;               /* owned, pending bytes for WRITE */
    size_t out_len, out_off;
    LinkState after_write;
    bool close_after_write;

    EVP_PKEY *key;              /* owned, the ticket key of this link */
    size_t drained;
};

static EVP_PKEY *fixed_key;
static uint32_t link_timeout_ms = RED_LINK_TIMEOUT_MS;

void red_link_set_fixed_key_for_tests(EVP_PKEY *key)
{
    EVP_PKEY_free(fixed_key);
    fixed_key = key;
    if (key) {
        EVP_PKEY_up_ref(key);
    }
}

void red_link_set_timeout_for_tests(uint32_t ms)
{
    link_timeout_ms = ms ? ms : RED_LINK_TIMEOUT_MS;
}

void red_link_free(RedLink *link)
{
    if (!link) {
        return;
    }
    red_stream_free(link->stream);
    g_free(link->common_caps);
    g_free(link->channel_caps);
    g_free(link);
}

bool red_link_send_result(RedLink *link, uint32_t error)
{
    uint32_t le = GUINT32_TO_LE(error);
    const uint8_t *p = (const uint8_t *)&le;
    size_t left = sizeof(le);
    int waits = 0;

    while (left > 0) {
        ssize_t n = red_stream_write(link->stream, p, left);
        if (n > 0) {
            p += n;
            left -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EAGAIN && waits++ < 10) {
            struct pollfd pfd = { .fd = link->stream->fd, .events = POLLOUT | POLLIN };
            /* Bounded: a client that does not read its 4 bytes within
             * a second is dropped by the caller. */
            if (poll(&pfd, 1, 100) >= 0) {
                continue;
            }
        }
        return false;
    }
    return true;
}

/* ---- helpers ---- */

static void set_state(RedLinkHandshake *hs, LinkState state)
{
    hs->state = state;
    hs->in_have = 0;
}

/* Reads until buf holds len bytes (progress in hs->in_have). */
static LinkStep read_exact(RedLinkHandshake *hs, void *buf, size_t len)
{
    while (hs->in_have < len) {
        ssize_t n = red_stream_read(hs->link->stream, (uint8_t *)buf + hs->in_have,
                                    len - hs->in_have);
        if (n > 0) {
            hs->in_have += (size_t)n;
        } else if (n == 0) {
            red_info("link from %s: closed by the client during the %s",
                     hs->peer, link_state_names[hs->state]);
            return STEP_CLOSE;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return red_stream_tls_wants_write(hs->link->stream) ? STEP_WAIT_WRITE
                                                                 : STEP_WAIT_READ;
        } else {
            red_info("link from %s: read failed during the %s: %s",
                     hs->peer, link_state_names[hs->state], g_strerror(errno));
            return STEP_CLOSE;
        }
    }
    return STEP_NEXT;
}

/* Queues bytes (taken) for the WRITE state, then goes to next. */
static LinkStep queue_write(RedLinkHandshake *hs, uint8_t *bytes, size_t len, LinkState next)
{
    g_free(hs->out);
    hs->out = bytes;
    hs->out_len = len;
    hs->out_off = 0;
    hs->after_write = next;
    hs->close_after_write = false;
    set_state(hs, LINK_WRITE);
    return STEP_NEXT;
}

/* Rejection before the SpiceLinkReply was sent: a zeroed reply with error. */
static LinkStep reject_with_reply(RedLinkHandshake *hs, uint32_t error)
{
    SpiceLinkHeader header = {
        .magic = GUINT32_TO_LE(SPICE_MAGIC),
        .major_version = GUINT32_TO_LE(SPICE_VERSION_MAJOR),
        .minor_version = GUINT32_TO_LE(SPICE_VERSION_MINOR),
        .size = GUINT32_TO_LE(sizeof(SpiceLinkReply)),
    };
    SpiceLinkReply reply = { .error = GUINT32_TO_LE(error) };
    uint8_t *msg = g_malloc0(sizeof(header) + sizeof(reply));

    memcpy(msg, &header, sizeof(header));
    memcpy(msg + sizeof(header), &reply, sizeof(reply));
    queue_write(hs, msg, sizeof(header) + sizeof(reply), LINK_DRAIN);
    hs->close_after_write = true;
    return STEP_NEXT;
}

/* Rejection after the reply: the u32 link result the client now expects. */
static LinkStep reject_with_result(RedLinkHandshake *hs, uint32_t error)
{
    uint32_t *le = g_new(uint32_t, 1);
    *le = GUINT32_TO_LE(error);
    queue_write(hs, (uint8_t *)le, sizeof(*le), LINK_DRAIN);
    hs->close_after_write = true;
    return STEP_NEXT;
}

static EVP_PKEY *new_ticket_key(void)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx;

    if (fixed_key) {
        EVP_PKEY_up_ref(fixed_key);
        return fixed_key;
    }
    ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    if (ctx && EVP_PKEY_keygen_init(ctx) == 1 &&
        EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, SPICE_TICKET_KEY_PAIR_LENGTH) == 1 &&
        EVP_PKEY_keygen(ctx, &key) == 1) {
        /* OpenSSL's default public exponent is 65537, as upstream uses. */
    } else {
        key = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return key;
}

/* ---- state handlers ---- */

static LinkStep on_tls_handshake(RedLinkHandshake *hs)
{
    char *error = NULL;

    switch (red_stream_tls_accept(hs->link->stream, &error)) {
    case RED_TLS_ACCEPT_DONE:
        set_state(hs, LINK_READ_MAGIC);
        return STEP_NEXT;
    case RED_TLS_ACCEPT_WANT_READ:
        return STEP_WAIT_READ;
    case RED_TLS_ACCEPT_WANT_WRITE:
        return STEP_WAIT_WRITE;
    case RED_TLS_ACCEPT_FAILED:
    default:
        red_client_bug("link from %s: TLS handshake failed: %s", hs->peer, error);
        g_free(error);
        return STEP_CLOSE;
    }
}

static LinkStep on_read_magic(RedLinkHandshake *hs)
{
    LinkStep r = read_exact(hs, &hs->header.magic, sizeof(hs->header.magic));
    if (r != STEP_NEXT) {
        return r;
    }
    uint32_t magic = GUINT32_FROM_LE(hs->header.magic);
    if (magic != SPICE_MAGIC) {
        red_client_bug("link from %s: bad magic 0x%08x", hs->peer, magic);
        return reject_with_reply(hs, SPICE_LINK_ERR_INVALID_MAGIC);
    }
    set_state(hs, LINK_READ_HEADER);
    return STEP_NEXT;
}

static LinkStep on_read_header(RedLinkHandshake *hs)
{
    uint8_t *rest = (uint8_t *)&hs->header + sizeof(hs->header.magic);
    LinkStep r = read_exact(hs, rest, sizeof(hs->header) - sizeof(hs->header.magic));
    if (r != STEP_NEXT) {
        return r;
    }
    hs->header.major_version = GUINT32_FROM_LE(hs->header.major_version);
    hs->header.minor_version = GUINT32_FROM_LE(hs->header.minor_version);
    hs->header.size = GUINT32_FROM_LE(hs->header.size);

    if (hs->header.major_version != SPICE_VERSION_MAJOR) {
        red_client_bug("link from %s: protocol version %u.%u, we speak %u",
                       hs->peer, hs->header.major_version, hs->header.minor_version,
                       SPICE_VERSION_MAJOR);
        return reject_with_reply(hs, SPICE_LINK_ERR_VERSION_MISMATCH);
    }
    if (hs->header.size < sizeof(SpiceLinkMess) || hs->header.size > RED_LINK_MAX_SIZE) {
        red_client_bug("link from %s: link message size %u outside [%zu, %u]",
                       hs->peer, hs->header.size, sizeof(SpiceLinkMess), RED_LINK_MAX_SIZE);
        return reject_with_reply(hs, SPICE_LINK_ERR_INVALID_DATA);
    }
    hs->mess = g_malloc(hs->header.size);
    set_state(hs, LINK_READ_MESS);
    return STEP_NEXT;
}

static LinkStep on_read_mess(RedLinkHandshake *hs)
{
    LinkStep r = read_exact(hs, hs->mess, hs->header.size);
    if (r != STEP_NEXT) {
        return r;
    }
    set_state(hs, LINK_VALIDATE);
    return STEP_NEXT;
}

static uint32_t *copy_caps(const uint8_t *src, uint32_t n)
{
    if (n == 0) {
        return NULL;
    }
    uint32_t *caps = g_new(uint32_t, n);
    memcpy(caps, src, n * sizeof(uint32_t));
    for (uint32_t i = 0; i < n; i++) {
        caps[i] = GUINT32_FROM_LE(caps[i]);
    }
    return caps;
}

/* Parses the link message into hs->link; returns a SpiceLinkErr. */
static uint32_t parse_link_mess(RedLinkHandshake *hs)
{
    RedLink *link = hs->link;
    SpiceLinkMess m;

    memcpy(&m, hs->mess, sizeof(m));
    link->connection_id = GUINT32_FROM_LE(m.connection_id);
    link->channel_type = m.channel_type;
    link->channel_id = m.channel_id;
    uint32_t ncommon = GUINT32_FROM_LE(m.num_common_caps);
    uint32_t nchannel = GUINT32_FROM_LE(m.num_channel_caps);
    uint32_t offset = GUINT32_FROM_LE(m.caps_offset);

    if (ncommon > RED_LINK_MAX_CAPS || nchannel > RED_LINK_MAX_CAPS) {
        red_client_bug("link from %s: %u common + %u channel caps, limit %u each",
                       hs->peer, ncommon, nchannel, RED_LINK_MAX_CAPS);
        return SPICE_LINK_ERR_INVALID_DATA;
    }
    uint64_t caps_bytes = ((uint64_t)ncommon + nchannel) * sizeof(uint32_t);
    if (caps_bytes > 0 &&
        (offset < sizeof(SpiceLinkMess) || (uint64_t)offset + caps_bytes > hs->header.size)) {
        red_client_bug("link from %s: caps at offset %u (%" G_GUINT64_FORMAT
                       " bytes) outside the %u-byte link message",
                       hs->peer, offset, caps_bytes, hs->header.size);
        return SPICE_LINK_ERR_INVALID_DATA;
    }
    if (caps_bytes > 0) {
        link->num_common_caps = ncommon;
        link->common_caps = copy_caps(hs->mess + offset, ncommon);
        link->num_channel_caps = nchannel;
        link->channel_caps = copy_caps(hs->mess + offset + ncommon * sizeof(uint32_t), nchannel);
    }
    return SPICE_LINK_ERR_OK;
}

/* Builds header + SpiceLinkReply + caps for channel; NULL if no key. */
static uint8_t *build_reply(RedLinkHandshake *hs, RedChannel *channel, size_t *len)
{
    uint32_t chan_caps[LINK_MAX_SERVER_CHANNEL_CAPS];
    uint32_t nchan = reds_channel_caps(hs->reds, channel, chan_caps, G_N_ELEMENTS(chan_caps));
    const uint32_t common_caps = (1u << SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION) |
                                 (1u << SPICE_COMMON_CAP_AUTH_SPICE) |
                                 (1u << SPICE_COMMON_CAP_MINI_HEADER);
    const uint32_t ncommon = 1;
    g_assert(nchan <= G_N_ELEMENTS(chan_caps));

    hs->key = new_ticket_key();
    if (!hs->key) {
        g_warning("link from %s: cannot generate the RSA ticket key", hs->peer);
        return NULL;
    }
    int der_len = i2d_PUBKEY(hs->key, NULL);
    /* A 1024-bit key with e = 65537 always encodes in exactly 162 bytes. */
    g_assert(der_len == SPICE_TICKET_PUBKEY_BYTES);

    size_t total = sizeof(SpiceLinkHeader) + sizeof(SpiceLinkReply) +
                   (ncommon + nchan) * sizeof(uint32_t);
    uint8_t *buf = g_malloc0(total);
    SpiceLinkHeader header = {
        .magic = GUINT32_TO_LE(SPICE_MAGIC),
        .major_version = GUINT32_TO_LE(SPICE_VERSION_MAJOR),
        .minor_version = GUINT32_TO_LE(SPICE_VERSION_MINOR),
        .size = GUINT32_TO_LE((uint32_t)(total - sizeof(SpiceLinkHeader))),
    };
    SpiceLinkReply reply = {
        .error = GUINT32_TO_LE(SPICE_LINK_ERR_OK),
        .num_common_caps = GUINT32_TO_LE(ncommon),
        .num_channel_caps = GUINT32_TO_LE(nchan),
        .caps_offset = GUINT32_TO_LE(sizeof(SpiceLinkReply)),
    };
    uint8_t *p = reply.pub_key;
    i2d_PUBKEY(hs->key, &p);

    memcpy(buf, &header, sizeof(header));
    memcpy(buf + sizeof(header), &reply, sizeof(reply));
    uint8_t *caps = buf + sizeof(header) + sizeof(reply);
    uint32_t le = GUINT32_TO_LE(common_caps);
    memcpy(caps, &le, sizeof(le));
    for (uint32_t i = 0; i < nchan; i++) {
        le = GUINT32_TO_LE(chan_caps[i]);
        memcpy(caps + (1 + i) * sizeof(uint32_t), &le, sizeof(le));
    }
    *len = total;
    return buf;
}

static LinkStep on_validate(RedLinkHandshake *hs)
{
    RedLink *link = hs->link;
    uint32_t err = parse_link_mess(hs);

    g_clear_pointer(&hs->mess, g_free);
    if (err != SPICE_LINK_ERR_OK) {
        return reject_with_reply(hs, err);
    }
    if (link->stream->info) {
        link->stream->info->type = link->channel_type;
        link->stream->info->id = link->channel_id;
    }
    hs->client_auth_selection =
        red_link_has_common_cap(link, SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION);

    int security = reds_channel_security(hs->reds, link->channel_type);
    if (link->stream->is_tls && !(security & SPICE_CHANNEL_SECURITY_SSL)) {
        red_client_bug("link from %s: channel type %u must not use TLS",
                       hs->peer, link->channel_type);
        return reject_with_reply(hs, SPICE_LINK_ERR_NEED_UNSECURED);
    }
    if (!link->stream->is_tls && !(security & SPICE_CHANNEL_SECURITY_NONE)) {
        red_client_bug("link from %s: channel type %u requires TLS",
                       hs->peer, link->channel_type);
        return reject_with_reply(hs, SPICE_LINK_ERR_NEED_SECURED);
    }

    RedChannel *channel = reds_find_channel(hs->reds, link->channel_type, link->channel_id);
    if (!channel && link->channel_type == SPICE_CHANNEL_MAIN) {
        channel = hs->reds->main_channel;
    }
    if (!channel) {
        red_client_bug("link from %s: no channel of type %u id %u",
                       hs->peer, link->channel_type, link->channel_id);
        return reject_with_reply(hs, SPICE_LINK_ERR_CHANNEL_NOT_AVAILABLE);
    }

    size_t len;
    uint8_t *reply = build_reply(hs, channel, &len);
    if (!reply) {
        return reject_with_reply(hs, SPICE_LINK_ERR_ERROR);
    }
    return queue_write(hs, reply, len,
                       hs->client_auth_selection ? LINK_READ_AUTH_MECH : LINK_READ_TICKET);
}

static LinkStep on_write(RedLinkHandshake *hs)
{
    while (hs->out_off < hs->out_len) {
        ssize_t n = red_stream_write(hs->link->stream, hs->out + hs->out_off,
                                     hs->out_len - hs->out_off);
        if (n > 0) {
            hs->out_off += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return STEP_WAIT_WRITE;
        } else {
            red_info("link from %s: write failed: %s", hs->peer,
                     n < 0 ? g_strerror(errno) : "closed");
            return STEP_CLOSE;
        }
    }
    g_clear_pointer(&hs->out, g_free);
    if (hs->close_after_write) {
        /* The error is out; let the client read it before we close. */
        shutdown(hs->link->stream->fd, SHUT_WR);
        red_timer_start(hs->timer, MIN(LINK_DRAIN_TIMEOUT_MS, link_timeout_ms));
    }
    set_state(hs, hs->after_write);
    return STEP_NEXT;
}

static LinkStep on_read_auth_mech(RedLinkHandshake *hs)
{
    LinkStep r = read_exact(hs, &hs->auth_mech, sizeof(hs->auth_mech));
    if (r != STEP_NEXT) {
        return r;
    }
    uint32_t mech = GUINT32_FROM_LE(hs->auth_mech);
    if (mech == SPICE_COMMON_CAP_AUTH_SPICE) {
        set_state(hs, LINK_READ_TICKET);
        return STEP_NEXT;
    }
    if (mech == SPICE_COMMON_CAP_AUTH_SASL) {
        red_client_bug("link from %s: asked for SASL, which this server does not offer",
                       hs->peer);
    } else {
        red_client_bug("link from %s: unknown auth mechanism %u", hs->peer, mech);
    }
    return reject_with_result(hs, SPICE_LINK_ERR_INVALID_DATA);
}

static LinkStep on_read_ticket(RedLinkHandshake *hs)
{
    LinkStep r = read_exact(hs, hs->ticket, sizeof(hs->ticket));
    if (r != STEP_NEXT) {
        return r;
    }
    set_state(hs, LINK_CHECK_TICKET);
    return STEP_NEXT;
}

/* Decrypts the ticket into password (NUL-terminated); false on failure. */
static bool decrypt_ticket(RedLinkHandshake *hs, char *password, size_t size)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(hs->key, NULL);
    size_t outlen = size - 1;
    bool ok = ctx && EVP_PKEY_decrypt_init(ctx) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
              EVP_PKEY_decrypt(ctx, (unsigned char *)password, &outlen,
                               hs->ticket, sizeof(hs->ticket)) == 1;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    if (!ok) {
        return false;
    }
    password[outlen] = '\0';
    return true;
}

static void handshake_release(RedLinkHandshake *hs);

static LinkStep on_check_ticket(RedLinkHandshake *hs)
{
    RedsState *reds = hs->reds;
    char password[LINK_TICKET_BYTES + 1];
    uint32_t result = SPICE_LINK_ERR_OK;

    /* Like upstream, the ticket must decrypt even when auth is off. */
    if (!decrypt_ticket(hs, password, sizeof(password))) {
        red_client_bug("link from %s: the ticket does not decrypt", hs->peer);
        return reject_with_result(hs, SPICE_LINK_ERR_PERMISSION_DENIED);
    }
    if (!reds->cfg.noauth && !hs->skip_auth) {
        result = reds_check_ticket(reds, password);
    }
    OPENSSL_cleanse(password, sizeof(password));
    OPENSSL_cleanse(hs->ticket, sizeof(hs->ticket));
    if (result != SPICE_LINK_ERR_OK) {
        red_client_bug("link from %s: wrong or expired ticket", hs->peer);
        return reject_with_result(hs, SPICE_LINK_ERR_PERMISSION_DENIED);
    }

    RedLink *link = hs->link;
    hs->link = NULL;
    handshake_release(hs);
    reds_link_complete(reds, link);
    return STEP_HANDED_OFF;
}

static LinkStep on_drain(RedLinkHandshake *hs)
{
    uint8_t buf[4096];

    for (;;) {
        ssize_t n = red_stream_read(hs->link->stream, buf, sizeof(buf));
        if (n > 0) {
            hs->drained += (size_t)n;
            if (hs->drained > LINK_DRAIN_MAX_BYTES) {
                return STEP_CLOSE;
            }
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return STEP_WAIT_READ;
        } else {
            return STEP_CLOSE;
        }
    }
}

typedef LinkStep (*LinkHandler)(RedLinkHandshake *hs);

static const LinkHandler link_handlers[LINK_NUM_STATES] = {
    [LINK_TLS_HANDSHAKE] = on_tls_handshake,
    [LINK_READ_MAGIC] = on_read_magic,
    [LINK_READ_HEADER] = on_read_header,
    [LINK_READ_MESS] = on_read_mess,
    [LINK_VALIDATE] = on_validate,
    [LINK_WRITE] = on_write,
    [LINK_READ_AUTH_MECH] = on_read_auth_mech,
    [LINK_READ_TICKET] = on_read_ticket,
    [LINK_CHECK_TICKET] = on_check_ticket,
    [LINK_DRAIN] = on_drain,
};

/* ---- driver ---- */

static void link_run(RedLinkHandshake *hs)
{
    for (;;) {
        g_assert(hs->state < LINK_NUM_STATES);
        LinkStep step = link_handlers[hs->state](hs);
        int mask;

        switch (step) {
        case STEP_NEXT:
            continue;
        case STEP_WAIT_READ:
            mask = RED_WATCH_READ;
            break;
        case STEP_WAIT_WRITE:
            mask = RED_WATCH_WRITE;
            break;
        case STEP_HANDED_OFF:
            return;
        case STEP_CLOSE:
        default:
            red_link_handshake_abort(hs);
            return;
        }
        if (mask != hs->watch_mask) {
            hs->watch_mask = mask;
            red_watch_update_mask(hs->watch, mask);
        }
        return;
    }
}

static void link_watch_cb(int fd, int event, void *opaque)
{
    link_run(opaque);
}

static void link_timeout_cb(void *opaque)
{
    RedLinkHandshake *hs = opaque;

    if (hs->state != LINK_DRAIN) {
        red_client_bug("link from %s: no progress within %u ms during the %s",
                       hs->peer, link_timeout_ms, link_state_names[hs->state]);
    }
    red_link_handshake_abort(hs);
}

static void describe_peer(RedLinkHandshake *hs)
{
    const SpiceChannelEventInfo *info = hs->link->stream->info;
    char host[NI_MAXHOST], serv[NI_MAXSERV];

    if (hs->link->stream->is_unix) {
        g_strlcpy(hs->peer, "unix socket", sizeof(hs->peer));
    } else if (info && info->plen_ext > 0 &&
               getnameinfo((const struct sockaddr *)&info->paddr_ext, info->plen_ext,
                           host, sizeof(host), serv, sizeof(serv),
                           NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
        g_snprintf(hs->peer, sizeof(hs->peer), "%s port %s", host, serv);
    } else {
        g_snprintf(hs->peer, sizeof(hs->peer), "fd %d", hs->link->stream->fd);
    }
}

void red_link_handshake_start(RedsState *reds, RedStream *stream, bool skip_auth)
{
    RedLinkHandshake *hs = g_new0(RedLinkHandshake, 1);

    g_assert(reds->net);
    hs->reds = reds;
    hs->skip_auth = skip_auth;
    hs->link = g_new0(RedLink, 1);
    hs->link->stream = stream;
    describe_peer(hs);
    set_state(hs, stream->is_tls ? LINK_TLS_HANDSHAKE : LINK_READ_MAGIC);
    hs->watch_mask = RED_WATCH_READ;
    hs->watch = red_watch_add(reds->loop, stream->fd, RED_WATCH_READ, link_watch_cb, hs);
    hs->timer = red_timer_add(reds->loop, link_timeout_cb, hs);
    reds->net->handshakes = g_list_prepend(reds->net->handshakes, hs);
    if (!hs->watch || !hs->timer) {
        g_warning("link from %s: the event loop refused a watch or timer", hs->peer);
        red_link_handshake_abort(hs);
        return;
    }
    /* No channel event yet: reds sends CONNECTED once the link is
     * complete, so a refused handshake is invisible to the embedder. */
    red_timer_start(hs->timer, link_timeout_ms);
}

/* Frees everything but hs->link (which the caller handles). */
static void handshake_release(RedLinkHandshake *hs)
{
    hs->reds->net->handshakes = g_list_remove(hs->reds->net->handshakes, hs);
    red_watch_remove(hs->watch);
    red_timer_remove(hs->timer);
    g_free(hs->mess);
    g_free(hs->out);
    EVP_PKEY_free(hs->key);
    OPENSSL_cleanse(hs->ticket, sizeof(hs->ticket));
    g_free(hs);
}

void red_link_handshake_abort(RedLinkHandshake *hs)
{
    RedLink *link = hs->link;
    handshake_release(hs);
    red_link_free(link);
}
