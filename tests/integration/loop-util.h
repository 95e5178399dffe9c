/* Bounded waiting on the default GMainContext and a free loopback port,
 * shared by the integration tests (itest.h, display/display-harness.h)
 * and tests/abi/consumer.c. Header-only and needing glib and sockets only
 * (no spice header), so consumer.c still builds against Debian's headers
 * alone and no build target gains a source file or a dependency.
 *
 * Threading: the test's main thread, which owns the default context. */
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

/* Sets *(bool *)data; the timeout source behind WAIT_FOR. */
static inline gboolean loop_wait_timeout_cb(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

/* Iterates the default context until cond holds or ms pass; evaluates to
 * cond. Never sleeps: the timeout is a source of that context. */
#define WAIT_FOR(cond, ms) ({                                             \
        bool timed_out_ = false;                                          \
        guint id_ = g_timeout_add((ms), loop_wait_timeout_cb, &timed_out_); \
        while (!(cond) && !timed_out_) {                                  \
            g_main_context_iteration(NULL, TRUE);                         \
        }                                                                 \
        if (!timed_out_) {                                                \
            g_source_remove(id_);                                         \
        }                                                                 \
        (cond);                                                           \
    })

/* A loopback TCP port that was free a moment ago (the kernel picked it). */
static inline int loop_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &len), ==, 0);
    close(fd);
    return ntohs(sa.sin_port);
}
