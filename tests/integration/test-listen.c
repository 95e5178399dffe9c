/* Listening options, each reached by spice-client-glib:
 *   /listen/ipv4-only   "localhost" + SPICE_ADDR_FLAG_IPV4_ONLY: reachable on
 *                       127.0.0.1, refused on ::1
 *   /listen/ipv6-only   "::1" + SPICE_ADDR_FLAG_IPV6_ONLY: reachable on ::1,
 *                       refused on 127.0.0.1 (skipped without IPv6 loopback)
 *   /listen/unix-only   SPICE_ADDR_FLAG_UNIX_ONLY with a socket path; the
 *                       client uses "unix-path"
 *   /listen/socket-fd   spice_server_set_listen_socket_fd with our socket
 * Every wait is bounded; no sleeps. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "core-loop.h"
#include "itest.h"

static SpiceCoreInterface *core;

/* True if a TCP connect to addr:port (AF_INET or AF_INET6 literal)
 * succeeds. On loopback the kernel completes or refuses at once, so a
 * blocking connect cannot wait on the server's loop. */
static bool tcp_reachable(int family, const char *addr, int port)
{
    struct sockaddr_storage ss = { 0 };
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        g_assert_cmpint(inet_pton(AF_INET, addr, &sin->sin_addr), ==, 1);
        len = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        g_assert_cmpint(inet_pton(AF_INET6, addr, &sin6->sin6_addr), ==, 1);
        len = sizeof(*sin6);
    }
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    int rc = connect(fd, (struct sockaddr *)&ss, len);
    int err = errno;
    close(fd);
    if (rc != 0) {
        g_assert_cmpint(err, ==, ECONNREFUSED);
    }
    return rc == 0;
}

static bool have_ipv6_loopback(void)
{
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

/* Connects a client with the given session properties, checks main and
 * inputs open and a key arrives, then disconnects. */
static void client_roundtrip(SpiceServer *s, const char *host, int port, const char *unix_path)
{
    ItClient c;
    it_client_init(&c);
    if (unix_path) {
        g_object_set(c.session, "unix-path", unix_path, NULL);
    } else {
        char portstr[16];
        g_snprintf(portstr, sizeof(portstr), "%d", port);
        g_object_set(c.session, "host", host, "port", portstr, NULL);
    }
    it_client_start(&c);
    g_assert_true(WAIT_FOR(c.main_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
    g_assert_true(WAIT_FOR(c.inputs_event == SPICE_CHANNEL_OPENED, IT_WAIT_MS));
    guint before = it_scans->len;
    spice_inputs_channel_key_press(c.inputs, 0x10);
    g_assert_true(WAIT_FOR(it_scans->len > before, IT_WAIT_MS));
    g_assert_cmpuint(it_scans->data[before], ==, 0x10);
    it_client_free(&c);
    g_assert_true(WAIT_FOR(it_num_clients(s) == 0, IT_WAIT_MS));
}

static SpiceServer *server_new(void)
{
    it_log_setup();
    SpiceServer *s = spice_server_new();
    spice_server_set_noauth(s);
    return s;
}

static void server_init(SpiceServer *s)
{
    g_assert_cmpint(spice_server_init(s, core), ==, 0);
    it_inputs_add(s);
}

static void server_free(SpiceServer *s)
{
    it_inputs_remove();
    spice_server_destroy(s);
    g_assert_cmpuint(embedder_core_live_count(core), ==, 0);
}

static void test_ipv4_only(void)
{
    SpiceServer *s = server_new();
    int port = loop_free_port();
    spice_server_set_addr(s, "localhost", SPICE_ADDR_FLAG_IPV4_ONLY);
    spice_server_set_port(s, port);
    server_init(s);
    g_assert_true(tcp_reachable(AF_INET, "127.0.0.1", port));
    if (have_ipv6_loopback()) {
        g_assert_false(tcp_reachable(AF_INET6, "::1", port));
    }
    client_roundtrip(s, "127.0.0.1", port, NULL);
    server_free(s);
}

static void test_ipv6_only(void)
{
    if (!have_ipv6_loopback()) {
        g_test_skip("no IPv6 loopback on this machine");
        return;
    }
    SpiceServer *s = server_new();
    int port = loop_free_port();
    spice_server_set_addr(s, "::1", SPICE_ADDR_FLAG_IPV6_ONLY);
    spice_server_set_port(s, port);
    server_init(s);
    g_assert_true(tcp_reachable(AF_INET6, "::1", port));
    g_assert_false(tcp_reachable(AF_INET, "127.0.0.1", port));
    client_roundtrip(s, "::1", port, NULL);
    server_free(s);
}

static void test_unix_only(void)
{
    GError *error = NULL;
    char *dir = g_dir_make_tmp("spice-gaps-unix-XXXXXX", &error);
    g_assert_no_error(error);
    char *path = g_build_filename(dir, "spice.sock", NULL);
    SpiceServer *s = server_new();
    spice_server_set_addr(s, path, SPICE_ADDR_FLAG_UNIX_ONLY);
    server_init(s);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    client_roundtrip(s, NULL, 0, path);
    server_free(s);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}

static void test_socket_fd(void)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    g_assert_cmpint(listen(fd, 16), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sin, &len), ==, 0);

    SpiceServer *s = server_new();
    /* deprecated upstream but still exported, and QEMU's fd= option uses it */
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    g_assert_cmpint(spice_server_set_listen_socket_fd(s, fd), ==, 0);
    G_GNUC_END_IGNORE_DEPRECATIONS
    server_init(s);
    client_roundtrip(s, "127.0.0.1", ntohs(sin.sin_port), NULL);
    server_free(s);
    /* the server did not take ownership of our socket */
    g_assert_cmpint(close(fd), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    core = embedder_core_new(g_main_context_default());
    g_test_add_func("/listen/ipv4-only", test_ipv4_only);
    g_test_add_func("/listen/ipv6-only", test_ipv6_only);
    g_test_add_func("/listen/unix-only", test_unix_only);
    g_test_add_func("/listen/socket-fd", test_socket_fd);
    int ret = g_test_run();
    embedder_core_free(core);
    return ret;
}
