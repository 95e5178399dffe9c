/* Logging by culprit.
 *
 *   guest bug:  a QXL command or guest memory was wrong; rejected, released
 *   client bug: a network peer sent something wrong; that client is closed
 *   config:     the embedder passed a bad option; the call fails
 *   our bug:    an internal invariant broke (these assert instead)
 *
 * Lines about guests and clients are rate-limited per call site so a hostile
 * peer cannot flood the embedder's log. Safe from any thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

/* The log domain ("Spice") is set for all server code by meson
 * (-DG_LOG_DOMAIN), so it holds whatever glib header came first. */

typedef struct RedRateLimit {
    int64_t window_start;   /* monotonic us */
    uint32_t count;         /* lines printed in this window */
    uint32_t suppressed;    /* lines dropped in this window */
} RedRateLimit;

/* Lines per call site per window before suppression kicks in. */
#define RED_LOG_BURST 10
#define RED_LOG_WINDOW_US (G_USEC_PER_SEC * 5)

/* Returns true if a line may be printed now; reports suppressed lines when a
 * new window opens. Thread-safe. */
bool red_log_ratelimit(RedRateLimit *rl, const char *what);

#define red_log_limited_(prefix, ...) do { \
        static RedRateLimit rl_; \
        if (red_log_ratelimit(&rl_, prefix)) { \
            g_warning(prefix __VA_ARGS__); \
        } \
    } while (0)

#define red_guest_bug(...) red_log_limited_("guest bug: ", __VA_ARGS__)
#define red_client_bug(...) red_log_limited_("client bug: ", __VA_ARGS__)
#define red_config_error(...) g_warning("config: " __VA_ARGS__)
#define red_info(...) g_info(__VA_ARGS__)
#define red_debug(...) g_debug(__VA_ARGS__)

/* GError domain for server failures reported to the embedder or logged. */
#define RED_ERROR red_error_quark()
GQuark red_error_quark(void);

typedef enum {
    RED_ERROR_FAILED,       /* generic failure */
    RED_ERROR_CONFIG,       /* invalid option or interface */
    RED_ERROR_IO,           /* socket / file error */
    RED_ERROR_GUEST,        /* malformed guest input */
    RED_ERROR_CLIENT,       /* malformed client input */
} RedErrorCode;

/* One line per entry point that is exported but not implemented yet; each
 * name is logged once per process. */
void red_log_unimplemented(const char *func);
