#include "server/core/log.h"

static GMutex log_lock;

bool red_log_ratelimit(RedRateLimit *rl, const char *what)
{
    int64_t now = g_get_monotonic_time();
    uint32_t dropped = 0;
    bool ok;

    g_mutex_lock(&log_lock);
    if (rl->window_start == 0 || now - rl->window_start >= RED_LOG_WINDOW_US) {
        dropped = rl->suppressed;
        rl->window_start = now;
        rl->count = 0;
        rl->suppressed = 0;
    }
    ok = rl->count < RED_LOG_BURST;
    if (ok) {
        rl->count++;
    } else {
        rl->suppressed++;
    }
    g_mutex_unlock(&log_lock);

    if (dropped) {
        g_warning("%s%u similar lines suppressed", what, dropped);
    }
    return ok;
}

void red_log_unimplemented(const char *func)
{
    static GHashTable *seen;

    g_mutex_lock(&log_lock);
    if (!seen) {
        seen = g_hash_table_new(g_str_hash, g_str_equal);
    }
    bool first = g_hash_table_add(seen, (gpointer)func);
    g_mutex_unlock(&log_lock);
    if (first) {
        g_message("%s: not implemented yet, returning failure", func);
    }
}

G_DEFINE_QUARK(red-error-quark, red_error)
