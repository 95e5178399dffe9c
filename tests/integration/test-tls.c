/* TLS with spice-client-glib. A CA and a server certificate (SAN
 * IP:127.0.0.1) are made at test time with the openssl CLI in a temp dir.
 *   /tls/main              TLS port only: the client links main (and inputs)
 *                          over TLS with tls-port + ca-file
 *   /tls/channel-security  both ports, inputs secure-only: inputs gets
 *                          NEED_SECURED on the plain port, reconnects on the
 *                          TLS port, key events arrive
 *   /tls/plain-refused     main secure-only, the client knows no tls-port:
 *                          refused, no session
 * Every wait is bounded; no sleeps. */
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "core-loop.h"
#include "itest.h"

static SpiceCoreInterface *core;
static char *tmpdir;

static char *tmp_path(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static void run_openssl(const char *args)
{
    char *cmd = g_strdup_printf("openssl %s", args);
    char *out = NULL, *err = NULL;
    int status = 0;
    GError *error = NULL;
    char **argv = NULL;
    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, NULL));
    bool ok = g_spawn_sync(tmpdir, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                           &status, &error);
    if (!ok || !g_spawn_check_wait_status(status, NULL)) {
        g_printerr("%s failed: %s\n%s\n", cmd, error ? error->message : "", err ? err : "");
        g_assert_not_reached();
    }
    g_strfreev(argv);
    g_free(out);
    g_free(err);
    g_free(cmd);
}

static void make_certs(void)
{
    GError *error = NULL;
    tmpdir = g_dir_make_tmp("spice-gaps-tls-XXXXXX", &error);
    g_assert_no_error(error);
    run_openssl("req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca-cert.pem "
                "-days 2 -subj /CN=gaps-test-CA");
    run_openssl("req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr "
                "-subj /CN=127.0.0.1");
    char *ext = tmp_path("ext.cnf");
    g_assert_true(g_file_set_contents(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n", -1,
                                      NULL));
    g_free(ext);
    run_openssl("x509 -req -in server.csr -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial "
                "-out server-cert.pem -days 2 -extfile ext.cnf");
}

static void remove_certs(void)
{
    GDir *d = g_dir_open(tmpdir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *p = tmp_path(name);
        g_unlink(p);
        g_free(p);
    }
    if (d) {
        g_dir_close(d);
    }
    g_rmdir(tmpdir);
    g_free(tmpdir);
}

typedef struct Setup {
    SpiceServer *s;
    int port, tls_port;
} Setup;

/* port < 0: no plain port. secure: channel name made secure-only, or NULL. */
static void server_start(Setup *st, bool plain, const char *secure)
{
    char *ca = tmp_path("ca-cert.pem"), *cert = tmp_path("server-cert.pem"),
         *key = tmp_path("server-key.pem");
    it_log_setup();
    st->s = spice_server_new();
    st->port = plain ? loop_free_port() : -1;
    do {
        st->tls_port = loop_free_port();
    } while (st->tls_port == st->port);
    spice_server_set_addr(st->s, "127.0.0.1", 0);
    if (plain) {
        spice_server_set_port(st->s, st->port);
    }
    g_assert_cmpint(spice_server_set_tls(st->s, st->tls_port, ca, cert, key, NULL, NULL, NULL),
                    ==, 0);
    if (secure) {
        g_assert_cmpint(spice_server_set_channel_security(st->s, secure,
                                                          SPICE_CHANNEL_SECURITY_SSL), ==, 0);
    }
    spice_server_set_noauth(st->s);
    g_assert_cmpint(spice_server_init(st->s, core), ==, 0);
    it_inputs_add(st->s);
    g_free(ca);
    g_free(cert);
    g_free(key);
}

static void server_stop(Setup *st)
{
    g_assert_true(WAIT_FOR(it_num_clients(st->s) == 0, IT_WAIT_MS));
    it_inputs_remove();
    spice_server_destroy(st->s);
    g_assert_cmpuint(embedder_core_live_count(core), ==, 0);
}

static void client_start(ItClient *c, const Setup *st, bool know_plain, bool know_tls)
{
    char port[16], tls_port[16];
    char *ca = tmp_path("ca-cert.pem");
    g_snprintf(port, sizeof(port), "%d", st->port);
    g_snprintf(tls_port, sizeof(tls_port), "%d", st->tls_port);
    it_client_init(c);
    g_object_set(c->session, "host", "127.0.0.1", "ca-file", ca, NULL);
    if (know_plain) {
        g_object_set(c->session, "port", port, NULL);
    }
    if (know_tls) {
        g_object_set(c->session, "tls-port", tls_port, NULL);
    }
    g_free(ca);
    it_client_start(c);
}

static bool scans_have(const uint8_t *want, guint n)
{
    return it_scans->len >= n && memcmp(it_scans->data + it_scans->len - n, want, n) == 0;
}

static void test_tls_main(void)
{
    Setup st;
    ItClient c;
    server_start(&st, false, NULL);
    client_start(&c, &st, false, true);
    g_assert_true(WAIT_FOR(c.main_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
    g_assert_true(WAIT_FOR(c.inputs_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
    g_assert_cmpint(it_num_clients(st.s), ==, 1);
    /* keys travel over TLS too; no insecure-keyboard warning */
    spice_inputs_channel_key_press(c.inputs, 0x1e);
    const uint8_t want[] = { 0x1e };
    g_assert_true(WAIT_FOR(scans_have(want, 1), IT_WAIT_MS));
    it_client_free(&c);
    server_stop(&st);
}

static void test_channel_security(void)
{
    Setup st;
    ItClient c;
    server_start(&st, true, "inputs");
    client_start(&c, &st, true, true);
    g_assert_true(WAIT_FOR(c.main_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
    g_assert_true(WAIT_FOR(c.inputs_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
    /* the plain attempt was refused with NEED_SECURED first */
    g_assert_cmpuint(it_log_count("client bug:", "requires TLS", NULL), >=, 1);
    spice_inputs_channel_key_press(c.inputs, 0x2c);
    spice_inputs_channel_key_release(c.inputs, 0x2c);
    const uint8_t want[] = { 0x2c, 0xac };
    g_assert_true(WAIT_FOR(scans_have(want, 2), IT_WAIT_MS));
    it_client_free(&c);
    server_stop(&st);
}

static void test_plain_refused(void)
{
    Setup st;
    ItClient c;
    server_start(&st, true, "main");
    client_start(&c, &st, true, false);
    g_assert_true(WAIT_FOR(c.main_event >= SPICE_CHANNEL_ERROR_CONNECT, IT_WAIT_MS));
    g_assert_cmpuint(it_log_count("client bug:", "requires TLS", NULL), >=, 1);
    g_assert_cmpint(it_num_clients(st.s), ==, 0);
    it_client_free(&c);

    /* the same server takes the client that knows the TLS port */
    client_start(&c, &st, true, true);
    g_assert_true(WAIT_FOR(c.main_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
    it_client_free(&c);
    server_stop(&st);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    char *openssl = g_find_program_in_path("openssl");
    if (!openssl) {
        g_printerr("openssl CLI not found\n");
        return 77;
    }
    g_free(openssl);
    make_certs();
    core = embedder_core_new(g_main_context_default());
    g_test_add_func("/tls/main", test_tls_main);
    g_test_add_func("/tls/channel-security", test_channel_security);
    g_test_add_func("/tls/plain-refused", test_plain_refused);
    int ret = g_test_run();
    embedder_core_free(core);
    remove_certs();
    return ret;
}
