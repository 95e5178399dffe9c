/* Our encoders against the real client's decoders: a minimal SPICE server
 * (one thread, blocking loopback sockets; link with an RSA-1024 key whose
 * ticket it ignores, MAIN_INIT, CHANNELS_LIST, then on the display channel
 * SURFACE_CREATE, one DRAW_COPY per encoded image and MARK) feeds
 * spice-client-glib (Debian spice-gtk, running on this thread's main
 * context). When the client has marked the primary, every tile must equal
 * the source picture exactly (JPEG: within a PSNR bound). This is what
 * proves the wire formats: spice-gtk exports none of its decoders.
 *
 * Every wait is bounded; the server thread ends when the client closes. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <spice-client.h>

#include "codec-test-util.h"
#include "server/encode/encoder.h"

#define PRIMARY_W 2200
#define PRIMARY_H 1100
#define TILE_W 61
#define TILE_H 37
#define WAIT_MS 20000

typedef struct {
    RedEncOutput out;
    uint32_t x, y, w, h;
    CodecPicture expect;       /* what the tile must show */
    const uint32_t *palette;   /* LZ_PLT / 8-bit BITMAP */
    uint32_t palette_n;
    uint8_t desc_flags;        /* SPICE_IMAGE_FLAGS_CACHE_ME: client decodes "original" */
} Tile;

typedef struct {
    int listen_fd;
    GPtrArray *tiles;          /* Tile * */
    bool failed;
    char why[256];
} Server;

static bool read_all(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) {
            return false;
        }
        p += r;
        n -= (size_t)r;
    }
    return true;
}

static bool write_all(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t r = write(fd, p, n);
        if (r <= 0) {
            return false;
        }
        p += r;
        n -= (size_t)r;
    }
    return true;
}

static void put32(GByteArray *a, uint32_t v)
{
    uint8_t b[4];
    codec_put_u32le(b, v);
    g_byte_array_append(a, b, 4);
}

static void put16(GByteArray *a, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    g_byte_array_append(a, b, 2);
}

static void put8(GByteArray *a, uint8_t v)
{
    g_byte_array_append(a, &v, 1);
}

/* Server side of the link handshake; returns the channel type or -1. */
static int do_link(int fd)
{
    uint8_t hdr[16];
    if (!read_all(fd, hdr, 16) || codec_get_u32le(hdr) != 0x51444552u) {
        return -1;
    }
    uint32_t size = codec_get_u32le(hdr + 12);
    if (size < 18 || size > 4096) {
        return -1;
    }
    uint8_t *mess = g_malloc(size);
    if (!read_all(fd, mess, size)) {
        g_free(mess);
        return -1;
    }
    int type = mess[4];
    g_free(mess);

    EVP_PKEY *key = EVP_RSA_gen(1024);
    g_assert_nonnull(key);
    unsigned char *der = NULL;
    int der_len = i2d_PUBKEY(key, &der);
    g_assert_cmpint(der_len, ==, 162);

    GByteArray *a = g_byte_array_new();
    put32(a, 0x51444552u);
    put32(a, 2);
    put32(a, 2);
    put32(a, 178);
    put32(a, 0);                       /* error: OK */
    g_byte_array_append(a, der, 162);
    put32(a, 0);                       /* no common caps: full headers, ticket directly */
    put32(a, 0);
    put32(a, 178);
    bool ok = write_all(fd, a->data, a->len);
    g_byte_array_unref(a);
    OPENSSL_free(der);
    EVP_PKEY_free(key);

    uint8_t ticket[128];
    uint32_t result = 0;
    if (!ok || !read_all(fd, ticket, sizeof(ticket)) || !write_all(fd, &result, 4)) {
        return -1;
    }
    return type;
}

/* Full data header: serial u64, type u16, size u32, sub_list u32. */
static bool send_msg(int fd, uint64_t *serial, uint16_t type, const GByteArray *body)
{
    GByteArray *a = g_byte_array_new();
    uint64_t s = ++*serial;
    put32(a, (uint32_t)s);
    put32(a, (uint32_t)(s >> 32));
    put16(a, type);
    put32(a, body->len);
    put32(a, 0);
    g_byte_array_append(a, body->data, body->len);
    bool ok = write_all(fd, a->data, a->len);
    g_byte_array_unref(a);
    return ok;
}

static bool wait_client_msg(int fd, uint16_t want)
{
    for (int n = 0; n < 64; n++) {
        uint8_t h[18];
        if (!read_all(fd, h, 18)) {
            return false;
        }
        uint16_t type = (uint16_t)(h[8] | h[9] << 8);
        uint32_t size = codec_get_u32le(h + 10);
        uint8_t *body = g_malloc(size ? size : 1);
        bool ok = read_all(fd, body, size);
        g_free(body);
        if (!ok) {
            return false;
        }
        if (type == want) {
            return true;
        }
    }
    return false;
}

static void draw_copy(GByteArray *m, const Tile *t)
{
    /* DisplayBase: surface 0, box (top, left, bottom, right), clip NONE */
    put32(m, 0);
    put32(m, t->y);
    put32(m, t->x);
    put32(m, t->y + t->h);
    put32(m, t->x + t->w);
    put8(m, 0);
    /* Copy: src_bitmap, src_area, rop OP_PUT, scale_mode, mask */
    put32(m, 57);
    put32(m, 0);
    put32(m, 0);
    put32(m, t->h);
    put32(m, t->w);
    put16(m, SPICE_ROPD_OP_PUT);
    put8(m, SPICE_IMAGE_SCALE_MODE_NEAREST);
    put8(m, 0);
    put32(m, 0);
    put32(m, 0);
    put32(m, 0);
    g_assert_cmpuint(m->len, ==, 57);
    /* SpiceImageDescriptor, then the body */
    static uint64_t id = 1000;
    put32(m, (uint32_t)++id);
    put32(m, 0);
    put8(m, t->out.image_type);
    put8(m, t->desc_flags);
    put32(m, t->w);
    put32(m, t->h);
    size_t body_at = m->len;
    g_byte_array_append(m, t->out.body.data, t->out.body.len);
    if (t->out.palette_slot >= 0) {
        /* the Palette goes after the image; pointers are offsets from the body start */
        codec_put_u32le(m->data + body_at + t->out.palette_slot, m->len);
        put32(m, (uint32_t)id);
        put32(m, 0);
        put16(m, (uint16_t)t->palette_n);
        for (uint32_t i = 0; i < t->palette_n; i++) {
            put32(m, t->palette[i]);
        }
    }
}

static gpointer server_thread(gpointer data)
{
    Server *s = data;
    uint64_t main_serial = 0, disp_serial = 0;
    int main_fd = accept(s->listen_fd, NULL, NULL);
    if (main_fd < 0 || do_link(main_fd) != SPICE_CHANNEL_MAIN) {
        g_snprintf(s->why, sizeof(s->why), "main link failed");
        s->failed = true;
        return NULL;
    }
    GByteArray *b = g_byte_array_new();
    uint32_t init[8] = { 1, 1, SPICE_MOUSE_MODE_SERVER, SPICE_MOUSE_MODE_SERVER, 0, 0, 0, 0 };
    for (int i = 0; i < 8; i++) {
        put32(b, init[i]);
    }
    send_msg(main_fd, &main_serial, SPICE_MSG_MAIN_INIT, b);
    if (!wait_client_msg(main_fd, SPICE_MSGC_MAIN_ATTACH_CHANNELS)) {
        g_snprintf(s->why, sizeof(s->why), "no ATTACH_CHANNELS");
        s->failed = true;
        return NULL;
    }
    g_byte_array_set_size(b, 0);
    put32(b, 1);
    put8(b, SPICE_CHANNEL_DISPLAY);
    put8(b, 0);
    send_msg(main_fd, &main_serial, SPICE_MSG_MAIN_CHANNELS_LIST, b);

    int disp_fd = accept(s->listen_fd, NULL, NULL);
    if (disp_fd < 0 || do_link(disp_fd) != SPICE_CHANNEL_DISPLAY) {
        g_snprintf(s->why, sizeof(s->why), "display link failed");
        s->failed = true;
        return NULL;
    }
    g_byte_array_set_size(b, 0);
    put32(b, 0);
    put32(b, PRIMARY_W);
    put32(b, PRIMARY_H);
    put32(b, SPICE_SURFACE_FMT_32_xRGB);
    put32(b, SPICE_SURFACE_FLAGS_PRIMARY);
    send_msg(disp_fd, &disp_serial, SPICE_MSG_DISPLAY_SURFACE_CREATE, b);
    for (guint i = 0; i < s->tiles->len; i++) {
        g_byte_array_set_size(b, 0);
        draw_copy(b, g_ptr_array_index(s->tiles, i));
        send_msg(disp_fd, &disp_serial, SPICE_MSG_DISPLAY_DRAW_COPY, b);
    }
    g_byte_array_set_size(b, 0);
    send_msg(disp_fd, &disp_serial, SPICE_MSG_DISPLAY_MARK, b);
    g_byte_array_unref(b);

    /* keep both channels open until the client goes */
    uint8_t sink[4096];
    while (read(disp_fd, sink, sizeof(sink)) > 0) {
    }
    close(disp_fd);
    close(main_fd);
    return NULL;
}

static void channel_new(SpiceSession *session, SpiceChannel *channel, gpointer data)
{
    SpiceChannel **display = data;
    if (SPICE_IS_DISPLAY_CHANNEL(channel)) {
        *display = channel;
        spice_channel_connect(channel);
    }
}

static gboolean timeout_cb(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

static double tile_psnr(const uint8_t *data, int stride, const Tile *t)
{
    double se = 0;
    for (uint32_t y = 0; y < t->h; y++) {
        for (uint32_t x = 0; x < t->w; x++) {
            uint32_t got = codec_get_u32le(data + (size_t)(t->y + y) * stride + 4 * (t->x + x));
            uint32_t want = t->expect.px[(size_t)y * t->w + x];
            for (int sh = 0; sh < 24; sh += 8) {
                double d = (double)((got >> sh) & 0xff) - (double)((want >> sh) & 0xff);
                se += d * d;
            }
        }
    }
    double mse = se / (3.0 * t->w * t->h);
    return mse == 0 ? 99 : 10 * log10(255.0 * 255.0 / mse);
}

static void test_real_client(void)
{
    static const RedEncCodec codecs[] = { RED_CODEC_RAW, RED_CODEC_LZ4, RED_CODEC_LZ, RED_CODEC_QUIC,
                                          RED_CODEC_GLZ, RED_CODEC_ZLIB_GLZ, RED_CODEC_JPEG };
    static const RedEncFormat formats[] = { RED_ENC_FMT_XRGB8888, RED_ENC_FMT_ARGB8888,
                                            RED_ENC_FMT_XRGB1555, RED_ENC_FMT_RGB888,
                                            RED_ENC_FMT_PAL8 };
    static const uint8_t spice_fmt[] = { SPICE_BITMAP_FMT_32BIT, SPICE_BITMAP_FMT_RGBA,
                                         SPICE_BITMAP_FMT_16BIT, SPICE_BITMAP_FMT_24BIT,
                                         SPICE_BITMAP_FMT_8BIT };
    GlzDictionary *dict = glz_dictionary_new(1u << 20);
    RedEncPolicy pol = { .image_compression = SPICE_IMAGE_COMPRESSION_AUTO_GLZ,
                         .jpeg = RED_ENC_WAN_ALWAYS, .zlib_glz = RED_ENC_WAN_ALWAYS };
    RedEncoders *encs = red_encoders_new(&pol, dict);
    Server srv = { .tiles = g_ptr_array_new() };
    Rng r = { 2024 };
    uint32_t x = 0, y = 0, row_h = 0;
    static uint32_t pal[256];
    int count[RED_CODEC_COUNT] = { 0 };

    /* small tiles: every codec x every format, three sizes/paddings/row orders;
     * rep 2 marks them CACHE_ME, so the client decodes the original format
     * (RGB16 stays 16-bit) before drawing */
    for (int rep = 0; rep < 4; rep++) {
        for (size_t c = 0; c < G_N_ELEMENTS(codecs); c++) {
            for (size_t f = 0; f < G_N_ELEMENTS(formats); f++) {
                uint32_t w = TILE_W - (uint32_t)rep * 7, h = TILE_H + (uint32_t)rep * 5;
                int kind = codecs[c] == RED_CODEC_JPEG ? KIND_GRADIENT : (int)((c + f + rep) % KIND_COUNT);
                if (rep == 3) {
                    /* large: QUIC rows past the 2048-symbol wait-mask step, LZ
                     * beyond its 73725-pixel reach, GLZ offsets past 2^17 */
                    bool alpha_too = codecs[c] == RED_CODEC_GLZ || codecs[c] == RED_CODEC_LZ;
                    if (formats[f] != RED_ENC_FMT_XRGB8888 &&
                        !(alpha_too && formats[f] == RED_ENC_FMT_ARGB8888)) {
                        continue;
                    }
                    w = codecs[c] == RED_CODEC_QUIC ? 2100 : 700;
                    h = codecs[c] == RED_CODEC_QUIC ? 9 : 200;
                    kind = codecs[c] == RED_CODEC_JPEG ? KIND_GRADIENT : KIND_NOISE;
                }
                uint32_t *master = make_master(&r, kind, w, h);
                if (rep == 3 && h == 200) {
                    /* the bottom rows repeat the top ones, far back */
                    memcpy(master + (size_t)(h - 10) * w, master, (size_t)10 * w * 4);
                }
                uint8_t *buf;
                CodecImage img = make_image(&r, master, w, h, spice_fmt[f], rep, rep & 1, &buf,
                                            pal);
                g_free(master);
                RedEncInput in = { .format = formats[f], .width = w, .height = h,
                                   .stride = img.stride, .data = img.data,
                                   .top_down = img.top_down, .palette = img.palette,
                                   .palette_n = img.palette_n };
                Tile *t = g_new0(Tile, 1);
                if (!red_encoders_encode_with(encs, codecs[c], &in, &t->out)) {
                    g_free(t);
                    g_free(buf);
                    continue;
                }
                count[t->out.codec]++;
                if (x + w > PRIMARY_W || (rep == 3 && row_h < 100 && x > 0)) {
                    x = 0;
                    y += row_h + 1;
                    row_h = 0;
                }
                row_h = MAX(row_h, h);
                t->desc_flags = rep == 2 ? SPICE_IMAGE_FLAGS_CACHE_ME : 0;
                g_assert_cmpuint(y + h, <=, PRIMARY_H);
                t->x = x;
                t->y = y;
                t->w = w;
                t->h = h;
                x += w + 1;
                codec_image_to_picture(&img, &t->expect);
                if (spice_fmt[f] == SPICE_BITMAP_FMT_8BIT) {
                    t->palette = g_memdup2(pal, sizeof(pal));
                    t->palette_n = img.palette_n;
                }
                g_ptr_array_add(srv.tiles, t);
                g_free(buf);
            }
        }
    }
    for (int c = 0; c < RED_CODEC_COUNT; c++) {
        g_assert_cmpint(count[c], >, 0);
    }

    srv.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);
    g_assert_cmpint(bind(srv.listen_fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(srv.listen_fd, 4), ==, 0);
    g_assert_cmpint(getsockname(srv.listen_fd, (struct sockaddr *)&sa, &sl), ==, 0);
    GThread *th = g_thread_new("fake-server", server_thread, &srv);

    SpiceSession *session = spice_session_new();
    char port[16];
    g_snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
    g_object_set(session, "host", "127.0.0.1", "port", port, NULL);
    SpiceChannel *display = NULL;
    g_signal_connect(session, "channel-new", G_CALLBACK(channel_new), &display);
    g_assert_true(spice_session_connect(session));

    SpiceDisplayPrimary primary = { 0 };
    bool timed_out = false;
    guint tid = g_timeout_add(WAIT_MS, timeout_cb, &timed_out);
    while (!timed_out && !srv.failed &&
           !(display && spice_display_channel_get_primary(display, 0, &primary) && primary.marked)) {
        g_main_context_iteration(NULL, TRUE);
    }
    if (!timed_out) {
        g_source_remove(tid);
    }
    if (srv.failed) {
        g_error("fake server: %s", srv.why);
    }
    g_assert_false(timed_out);
    g_assert_cmpint(primary.width, ==, PRIMARY_W);

    int bad = 0;
    int per_type[256] = { 0 };
    for (guint i = 0; i < srv.tiles->len; i++) {
        Tile *t = g_ptr_array_index(srv.tiles, i);
        double p = tile_psnr(primary.data, primary.stride, t);
        per_type[t->out.image_type]++;
        bool ok = t->out.lossy ? p > 30.0 : p == 99;
        if (!ok) {
            fprintf(stderr, "tile %u (%s, image type %u, %ux%u): PSNR %.1f\n", i,
                    red_encoder_codec_name(t->out.codec), t->out.image_type, t->w, t->h, p);
            bad++;
        }
    }
    g_assert_cmpint(bad, ==, 0);
    /* every image type our encoders emit went through the client */
    static const uint8_t types[] = {
        SPICE_IMAGE_TYPE_BITMAP, SPICE_IMAGE_TYPE_QUIC, SPICE_IMAGE_TYPE_LZ_PLT,
        SPICE_IMAGE_TYPE_LZ_RGB, SPICE_IMAGE_TYPE_GLZ_RGB, SPICE_IMAGE_TYPE_JPEG,
        SPICE_IMAGE_TYPE_ZLIB_GLZ_RGB, SPICE_IMAGE_TYPE_JPEG_ALPHA, SPICE_IMAGE_TYPE_LZ4,
    };
    for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
        g_test_message("image type %u: %d tiles", types[i], per_type[types[i]]);
        g_assert_cmpint(per_type[types[i]], >, 0);
    }

    spice_session_disconnect(session);
    g_object_unref(session);
    bool done = false;
    tid = g_timeout_add(WAIT_MS, timeout_cb, &done);
    /* let spice-gtk close its sockets so the server thread returns */
    for (int i = 0; i < 50 && !done; i++) {
        g_main_context_iteration(NULL, FALSE);
    }
    g_thread_join(th);
    if (!done) {
        g_source_remove(tid);
    }
    close(srv.listen_fd);
    for (guint i = 0; i < srv.tiles->len; i++) {
        Tile *t = g_ptr_array_index(srv.tiles, i);
        red_encoder_output_clear(&t->out);
        codec_picture_clear(&t->expect);
        g_free((gpointer)t->palette);
        g_free(t);
    }
    g_ptr_array_unref(srv.tiles);
    red_encoders_free(encs);
    glz_dictionary_unref(dict);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/codec/client/real-decoders", test_real_client);
    return g_test_run();
}
