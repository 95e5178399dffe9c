/* Shared helpers of the integration tests (see itest.h). */
#include "itest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <spice/protocol.h>

/* ---- logs ---- */

static GPtrArray *captured;

static void capture_handler(const gchar *domain, GLogLevelFlags level, const gchar *msg,
                            gpointer data)
{
    if (!captured) {
        captured = g_ptr_array_new_with_free_func(g_free);
    }
    g_ptr_array_add(captured, g_strdup(msg ? msg : ""));
    g_log_default_handler(domain, level, msg, data);
}

/* Provoked on purpose by these tests: refused links, bad messages, and
 * spice-gtk's own warnings about a server that refused it. */
static gboolean fatal_cb(const gchar *domain, GLogLevelFlags level, const gchar *msg,
                         gpointer data)
{
    if (msg && (strstr(msg, "client bug:") || strstr(msg, "config:"))) {
        return FALSE;
    }
    if (domain && strcmp(domain, "GSpice") == 0 && (level & G_LOG_LEVEL_WARNING)) {
        return FALSE;
    }
    return TRUE;
}

void it_log_setup(void)
{
    static bool installed;
    if (!installed) {
        /* the library logs under "Spice" where server/core/log.h came
         * before glib.h, else under the default (NULL) domain */
        g_log_set_handler("Spice", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                          capture_handler, NULL);
        g_log_set_handler(NULL, G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                          capture_handler, NULL);
        installed = true;
    }
    g_test_log_set_fatal_handler(fatal_cb, NULL);
    it_log_clear();
}

guint it_log_count(const char *first, ...)
{
    guint n = 0;
    if (!captured) {
        return 0;
    }
    for (guint i = 0; i < captured->len; i++) {
        const char *line = captured->pdata[i];
        bool all = true;
        va_list ap;
        va_start(ap, first);
        for (const char *s = first; s && all; s = va_arg(ap, const char *)) {
            all = strstr(line, s) != NULL;
        }
        va_end(ap);
        n += all;
    }
    return n;
}

void it_log_clear(void)
{
    if (captured) {
        g_ptr_array_set_size(captured, 0);
    }
}

SpiceServer *it_server_new(int port)
{
    SpiceServer *s = spice_server_new();
    g_assert_nonnull(s);
    spice_server_set_addr(s, "127.0.0.1", 0);
    spice_server_set_port(s, port);
    spice_server_set_noauth(s);
    return s;
}

int it_num_clients(SpiceServer *s)
{
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    return spice_server_get_num_clients(s);
    G_GNUC_END_IGNORE_DEPRECATIONS
}

/* ---- spice-client-glib ---- */

static void main_event_cb(SpiceChannel *ch, SpiceChannelEvent ev, gpointer data)
{
    ((ItClient *)data)->main_event = ev;
}

static void inputs_event_cb(SpiceChannel *ch, SpiceChannelEvent ev, gpointer data)
{
    ItClient *c = data;
    c->inputs_event = ev;
    if (ev == SPICE_CHANNEL_OPENED) {
        c->inputs_opened++;
    }
}

static void channel_new_cb(SpiceSession *s, SpiceChannel *ch, gpointer data)
{
    ItClient *c = data;
    if (SPICE_IS_MAIN_CHANNEL(ch)) {
        c->main = SPICE_MAIN_CHANNEL(ch);
        g_signal_connect(ch, "channel-event", G_CALLBACK(main_event_cb), c);
        return;
    }
    c->channels_seen++;
    c->inputs_seen |= SPICE_IS_INPUTS_CHANNEL(ch);
    if (SPICE_IS_INPUTS_CHANNEL(ch) && c->connect_inputs) {
        c->inputs = SPICE_INPUTS_CHANNEL(ch);
        g_signal_connect(ch, "channel-event", G_CALLBACK(inputs_event_cb), c);
        spice_channel_connect(ch);
    }
}

static void channel_destroy_cb(SpiceSession *s, SpiceChannel *ch, gpointer data)
{
    ItClient *c = data;
    g_signal_handlers_disconnect_by_data(ch, c);
    if ((gpointer)ch == (gpointer)c->main) {
        c->main = NULL;
    }
    if ((gpointer)ch == (gpointer)c->inputs) {
        c->inputs = NULL;
    }
}

void it_client_init(ItClient *c)
{
    memset(c, 0, sizeof(*c));
    c->connect_inputs = true;
    c->session = spice_session_new();
    g_signal_connect(c->session, "channel-new", G_CALLBACK(channel_new_cb), c);
    g_signal_connect(c->session, "channel-destroy", G_CALLBACK(channel_destroy_cb), c);
}

void it_client_start(ItClient *c)
{
    g_assert_true(spice_session_connect(c->session));
}

void it_client_connect(ItClient *c, int port, const char *password)
{
    char portstr[16];
    g_snprintf(portstr, sizeof(portstr), "%d", port);
    it_client_init(c);
    g_object_set(c->session, "host", "127.0.0.1", "port", portstr, NULL);
    if (password) {
        g_object_set(c->session, "password", password, NULL);
    }
    it_client_start(c);
}

void it_client_free(ItClient *c)
{
    spice_session_disconnect(c->session);
    /* channels are torn down from idle callbacks */
    WAIT_FOR(c->main == NULL && c->inputs == NULL, IT_WAIT_MS);
    g_signal_handlers_disconnect_by_data(c->session, c);
    g_object_unref(c->session);
    c->session = NULL;
}

/* ---- raw client ---- */

static gboolean fd_ready_cb(gint fd, GIOCondition cond, gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

static bool wait_fd(int fd, GIOCondition cond, int ms)
{
    bool ready = false;
    guint src = g_unix_fd_add(fd, cond | G_IO_HUP | G_IO_ERR, fd_ready_cb, &ready);
    WAIT_FOR(ready, ms);
    if (!ready) {
        g_source_remove(src);
    }
    return ready;
}

static int ms_left(int64_t deadline)
{
    int64_t left = (deadline - g_get_monotonic_time()) / 1000;
    return left > 0 ? (int)left : 0;
}

/* Reads exactly n bytes; false on close, error or timeout. */
static bool raw_read(ItRaw *r, void *buf, size_t n, int timeout_ms)
{
    int64_t deadline = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
    size_t got = 0;
    while (got < n) {
        ssize_t k = recv(r->fd, (uint8_t *)buf + got, n - got, MSG_DONTWAIT);
        if (k > 0) {
            got += (size_t)k;
            continue;
        }
        if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            return false;
        }
        if (ms_left(deadline) == 0 || !wait_fd(r->fd, G_IO_IN, ms_left(deadline))) {
            return false;
        }
    }
    return true;
}

bool it_raw_send(ItRaw *r, const void *data, size_t len)
{
    int64_t deadline = g_get_monotonic_time() + (int64_t)IT_WAIT_MS * 1000;
    size_t off = 0;
    while (off < len) {
        ssize_t k = send(r->fd, (const uint8_t *)data + off, len - off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k > 0) {
            off += (size_t)k;
            continue;
        }
        if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return false;
        }
        if (ms_left(deadline) == 0 || !wait_fd(r->fd, G_IO_OUT, ms_left(deadline))) {
            return false;
        }
    }
    return true;
}

static bool encrypt_ticket(const uint8_t *der, size_t der_len, const char *password,
                           uint8_t out[SPICE_TICKET_KEY_PAIR_LENGTH / 8])
{
    const unsigned char *p = der;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)der_len);
    if (!key) {
        return false;
    }
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
    size_t outlen = SPICE_TICKET_KEY_PAIR_LENGTH / 8;
    bool ok = ctx && EVP_PKEY_encrypt_init(ctx) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
              EVP_PKEY_encrypt(ctx, out, &outlen, (const unsigned char *)password,
                               strlen(password) + 1) == 1 &&
              outlen == SPICE_TICKET_KEY_PAIR_LENGTH / 8;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok;
}

int it_raw_link(ItRaw *r, int port, uint32_t connection_id, uint8_t type, uint8_t id,
                const char *password, const uint32_t *caps, uint32_t num_caps)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    r->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    r->connection_id = connection_id;
    g_assert_cmpint(r->fd, >=, 0);
    if (connect(r->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
        return -1;
    }
    if (!wait_fd(r->fd, G_IO_OUT, IT_WAIT_MS)) {
        return -1;
    }

    uint32_t common = 1u << SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION |
                      1u << SPICE_COMMON_CAP_AUTH_SPICE | 1u << SPICE_COMMON_CAP_MINI_HEADER;
    size_t caps_len = 4 * (1 + (size_t)num_caps);
    SpiceLinkHeader hdr = { SPICE_MAGIC, SPICE_VERSION_MAJOR, SPICE_VERSION_MINOR,
                            (uint32_t)(sizeof(SpiceLinkMess) + caps_len) };
    SpiceLinkMess mess = { connection_id, type, id, 1, num_caps, sizeof(SpiceLinkMess) };
    GByteArray *out = g_byte_array_new();
    g_byte_array_append(out, (const guint8 *)&hdr, sizeof(hdr));
    g_byte_array_append(out, (const guint8 *)&mess, sizeof(mess));
    g_byte_array_append(out, (const guint8 *)&common, 4);
    if (num_caps) {
        g_byte_array_append(out, (const guint8 *)caps, 4 * num_caps);
    }
    bool ok = it_raw_send(r, out->data, out->len);
    g_byte_array_free(out, TRUE);
    if (!ok) {
        return -1;
    }

    SpiceLinkHeader rhdr;
    if (!raw_read(r, &rhdr, sizeof(rhdr), IT_WAIT_MS) || rhdr.magic != SPICE_MAGIC ||
        rhdr.size < sizeof(SpiceLinkReply) || rhdr.size > 4096) {
        return -1;
    }
    uint8_t *reply_buf = g_malloc(rhdr.size);
    if (!raw_read(r, reply_buf, rhdr.size, IT_WAIT_MS)) {
        g_free(reply_buf);
        return -1;
    }
    SpiceLinkReply reply;
    memcpy(&reply, reply_buf, sizeof(reply));
    if (reply.error != SPICE_LINK_ERR_OK) {
        g_free(reply_buf);
        return (int)reply.error;
    }
    bool server_selection = false;
    if (reply.num_common_caps > 0 && reply.caps_offset + 4 <= rhdr.size) {
        uint32_t w;
        memcpy(&w, reply_buf + reply.caps_offset, 4);
        server_selection = w & (1u << SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION);
    }
    uint8_t ticket[SPICE_TICKET_KEY_PAIR_LENGTH / 8];
    ok = encrypt_ticket(reply.pub_key, sizeof(reply.pub_key), password, ticket);
    g_free(reply_buf);
    if (!ok) {
        return -1;
    }
    if (server_selection) {
        uint32_t mech = SPICE_COMMON_CAP_AUTH_SPICE;
        if (!it_raw_send(r, &mech, 4)) {
            return -1;
        }
    }
    uint32_t result;
    if (!it_raw_send(r, ticket, sizeof(ticket)) || !raw_read(r, &result, 4, IT_WAIT_MS)) {
        return -1;
    }
    return (int)result;
}

bool it_raw_send_msg(ItRaw *r, uint16_t type, const void *body, uint32_t len)
{
    uint8_t hdr[6] = { (uint8_t)type, (uint8_t)(type >> 8), (uint8_t)len, (uint8_t)(len >> 8),
                       (uint8_t)(len >> 16), (uint8_t)(len >> 24) };
    return it_raw_send(r, hdr, sizeof(hdr)) && (len == 0 || it_raw_send(r, body, len));
}

bool it_raw_recv_msg(ItRaw *r, uint16_t *type, GByteArray *body, int timeout_ms)
{
    uint8_t hdr[6];
    if (!raw_read(r, hdr, sizeof(hdr), timeout_ms)) {
        return false;
    }
    uint32_t size = (uint32_t)hdr[2] | (uint32_t)hdr[3] << 8 | (uint32_t)hdr[4] << 16 |
                    (uint32_t)hdr[5] << 24;
    *type = (uint16_t)(hdr[0] | hdr[1] << 8);
    g_assert_cmpuint(size, <=, 16u << 20);
    g_byte_array_set_size(body, size);
    return size == 0 || raw_read(r, body->data, size, timeout_ms);
}

bool it_raw_recv_type(ItRaw *r, uint16_t type, GByteArray *body, int timeout_ms)
{
    int64_t deadline = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
    uint16_t t;
    while (ms_left(deadline) > 0) {
        if (!it_raw_recv_msg(r, &t, body, ms_left(deadline))) {
            return false;
        }
        if (t == type) {
            return true;
        }
    }
    return false;
}

bool it_raw_wait_closed(ItRaw *r, int timeout_ms)
{
    int64_t deadline = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
    uint8_t buf[4096];
    for (;;) {
        ssize_t k = recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno == ECONNRESET)) {
            return true;
        }
        if (k > 0) {
            continue;
        }
        if (ms_left(deadline) == 0 || !wait_fd(r->fd, G_IO_IN, ms_left(deadline))) {
            return false;
        }
    }
}

void it_raw_close(ItRaw *r)
{
    if (r->fd >= 0) {
        close(r->fd);
    }
    r->fd = -1;
}

bool it_raw_main(ItRaw *r, int port)
{
    if (it_raw_link(r, port, 0, SPICE_CHANNEL_MAIN, 0, "", NULL, 0) != SPICE_LINK_ERR_OK) {
        return false;
    }
    GByteArray *body = g_byte_array_new();
    bool ok = it_raw_recv_type(r, SPICE_MSG_MAIN_INIT, body, IT_WAIT_MS) && body->len >= 4;
    if (ok) {
        memcpy(&r->connection_id, body->data, 4);
    }
    g_byte_array_free(body, TRUE);
    return ok;
}

/* ---- input instances ---- */

GByteArray *it_scans;
GArray *it_mouse_events;
uint8_t it_guest_leds;

static void kbd_push_scan(SpiceKbdInstance *sin, uint8_t frag)
{
    g_byte_array_append(it_scans, &frag, 1);
}

static uint8_t kbd_get_leds(SpiceKbdInstance *sin)
{
    return it_guest_leds;
}

static const SpiceKbdInterface kbd_iface = {
    .base = { SPICE_INTERFACE_KEYBOARD, "it keyboard", SPICE_INTERFACE_KEYBOARD_MAJOR,
              SPICE_INTERFACE_KEYBOARD_MINOR },
    .push_scan_freg = kbd_push_scan,
    .get_leds = kbd_get_leds,
};

static void record(char kind, int dx, int dy, int dz, uint32_t buttons)
{
    ItMouseEvent e = { kind, dx, dy, dz, buttons };
    g_array_append_val(it_mouse_events, e);
}

static void mouse_motion(SpiceMouseInstance *sin, int dx, int dy, int dz, uint32_t buttons)
{
    record('m', dx, dy, dz, buttons);
}

static void mouse_buttons(SpiceMouseInstance *sin, uint32_t buttons)
{
    record('b', 0, 0, 0, buttons);
}

static const SpiceMouseInterface mouse_iface = {
    .base = { SPICE_INTERFACE_MOUSE, "it mouse", SPICE_INTERFACE_MOUSE_MAJOR,
              SPICE_INTERFACE_MOUSE_MINOR },
    .motion = mouse_motion,
    .buttons = mouse_buttons,
};

static void tablet_set_logical_size(SpiceTabletInstance *sin, int w, int h)
{
}

static void tablet_position(SpiceTabletInstance *sin, int x, int y, uint32_t buttons)
{
    record('p', x, y, 0, buttons);
}

static void tablet_wheel(SpiceTabletInstance *sin, int motion, uint32_t buttons)
{
    record('w', motion, 0, 0, buttons);
}

static void tablet_buttons(SpiceTabletInstance *sin, uint32_t buttons)
{
    record('t', 0, 0, 0, buttons);
}

static const SpiceTabletInterface tablet_iface = {
    .base = { SPICE_INTERFACE_TABLET, "it tablet", SPICE_INTERFACE_TABLET_MAJOR,
              SPICE_INTERFACE_TABLET_MINOR },
    .set_logical_size = tablet_set_logical_size,
    .position = tablet_position,
    .wheel = tablet_wheel,
    .buttons = tablet_buttons,
};

SpiceKbdInstance it_kbd = { .base.sif = &kbd_iface.base };
SpiceMouseInstance it_mouse = { .base.sif = &mouse_iface.base };
SpiceTabletInstance it_tablet = { .base.sif = &tablet_iface.base };

void it_inputs_add(SpiceServer *s)
{
    if (!it_scans) {
        it_scans = g_byte_array_new();
        it_mouse_events = g_array_new(FALSE, TRUE, sizeof(ItMouseEvent));
    }
    g_byte_array_set_size(it_scans, 0);
    g_array_set_size(it_mouse_events, 0);
    it_guest_leds = 0;
    g_assert_cmpint(spice_server_add_interface(s, &it_kbd.base), ==, 0);
    g_assert_cmpint(spice_server_add_interface(s, &it_mouse.base), ==, 0);
}

void it_inputs_remove(void)
{
    g_assert_cmpint(spice_server_remove_interface(&it_mouse.base), ==, 0);
    g_assert_cmpint(spice_server_remove_interface(&it_kbd.base), ==, 0);
}
