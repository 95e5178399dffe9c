/* libFuzzer target: bytes from a hostile client fed to the link handshake
 * state machine over a socketpair, server side driven on a private
 * GMainContext. The first input byte picks options (noauth, skip_auth);
 * the rest is what the client sends before closing its side.
 *
 * Built with -DFUZZ_REPLAY_MAIN it is a plain program that replays the
 * files or directories named on its command line (the corpus test). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "server/net/net.h"
#include "server/net/net-private.h"
#include "tests/unit/net/fake-reds.h"

static GMainContext *ctx;
static RedsState *reds;

static void fuzz_init(void)
{
    GError *err = NULL;

    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
    /* Rejections log by design; keep the fuzzer's output readable. */
    g_log_set_handler("Spice", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_INFO | G_LOG_LEVEL_MESSAGE,
                      g_log_default_handler, NULL);
    g_setenv("G_MESSAGES_DEBUG", "", TRUE);
    ctx = g_main_context_new();
    reds = fake_reds_new(ctx);
    reds->cfg.ticket_set = true;
    g_strlcpy(reds->cfg.ticket, "fuzz", sizeof(reds->cfg.ticket));
    if (!reds_net_init(reds, &err)) {
        g_error("net init: %s", err->message);
    }
    /* Key generation would dominate every run. */
    EVP_PKEY *key = EVP_RSA_gen(1024);
    red_link_set_fixed_key_for_tests(key);
    EVP_PKEY_free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sp[2];

    if (!ctx) {
        fuzz_init();
    }
    /* The whole input must fit in the socket buffer: we write it all
     * before the server reads. */
    if (size < 1 || size > 64 * 1024) {
        return 0;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
        return 0;
    }
    int bufsize = 256 * 1024;
    setsockopt(sp[1], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
    setsockopt(sp[0], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
    reds->cfg.noauth = data[0] & 1;
    bool skip_auth = data[0] & 2;
    if (!reds_net_add_client(reds, sp[0], false, skip_auth)) {
        close(sp[0]);
        close(sp[1]);
        return 0;
    }
    size_t off = 1;
    while (off < size) {
        ssize_t n = send(sp[1], data + off, size - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0) {
            break;
        }
        off += (size_t)n;
    }
    shutdown(sp[1], SHUT_WR);
    /* Every state ends on EOF, so this settles in a few iterations. */
    for (int i = 0; i < 10000 && reds->net->handshakes; i++) {
        g_main_context_iteration(ctx, FALSE);
    }
    if (reds->net->handshakes) {
        fprintf(stderr, "handshake did not end on EOF\n");
        abort();
    }
    close(sp[1]);
    return 0;
}

void fuzz_replay_finish(void);

/* replay-main.c: free the fake server once the corpus is done. */
void fuzz_replay_finish(void)
{
    if (reds) {
        reds_net_destroy(reds);
        red_link_set_fixed_key_for_tests(NULL);
        fake_reds_free(reds);
        g_main_context_unref(ctx);
    }
}
