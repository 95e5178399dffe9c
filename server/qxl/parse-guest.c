/* Parse state and the guest-memory primitives of the parser: every read of
 * guest memory in server/qxl/parse-*.c goes through parse_pin/parse_fetch. */
#include "server/qxl/parse-internal.h"

#include <stdarg.h>
#include <string.h>

G_DEFINE_QUARK(red-parse-error-quark, red_parse_error)

void parse_state_init(ParseState *st, const RedParseCtx *ctx, uint32_t group_id,
                      uint32_t flags, GError **err)
{
    g_assert(ctx && ctx->slots);
    *st = (ParseState){ .ctx = ctx, .group_id = group_id, .flags = flags, .err = err };
    if (!st->err) {
        st->err = &st->local_err;
    }
}

void parse_state_finish(ParseState *st)
{
    g_clear_error(&st->local_err);
}

bool parse_fail(ParseState *st, RedParseErrorCode code, const char *fmt, ...)
{
    /* Keep the innermost (first) defect: it names the real culprit. */
    if (*st->err) {
        return false;
    }
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(st->err, RED_PARSE_ERROR, code, "guest bug: %s", msg);
    g_free(msg);
    return false;
}

const void *parse_pin(ParseState *st, QXLPHYSICAL addr, size_t size, const char *what)
{
    MemSlotError merr;
    void *p = memslot_get_virt(st->ctx->slots, st->group_id, addr, size, &merr);
    if (!p) {
        parse_fail(st, RED_PARSE_ERROR_ADDRESS, "%s at 0x%" G_GINT64_MODIFIER "x (%zu bytes, group %u): %s",
                   what, (guint64)addr, size, st->group_id, memslot_strerror(merr));
    }
    return p;
}

bool parse_fetch(ParseState *st, QXLPHYSICAL addr, void *dst, size_t size, const char *what)
{
    const void *p = parse_pin(st, addr, size, what);
    if (!p) {
        return false;
    }
    memcpy(dst, p, size);
    return true;
}

bool parse_addr_add(ParseState *st, QXLPHYSICAL addr, uint64_t delta, QXLPHYSICAL *out,
                    const char *what)
{
    if (!memslot_addr_add(st->ctx->slots, addr, delta, out)) {
        return parse_fail(st, RED_PARSE_ERROR_ADDRESS, "%s: address 0x%" G_GINT64_MODIFIER
                          "x + %" G_GUINT64_FORMAT " leaves its memslot", what, (guint64)addr,
                          (guint64)delta);
    }
    return true;
}

bool parse_rect(ParseState *st, const QXLRect *qxl, RedRect *out, const char *what)
{
    if (qxl->left > qxl->right || qxl->top > qxl->bottom) {
        return parse_fail(st, RED_PARSE_ERROR_INVALID, "%s: inverted rect (%d,%d)-(%d,%d)",
                          what, qxl->left, qxl->top, qxl->right, qxl->bottom);
    }
    *out = (RedRect){ .left = qxl->left, .top = qxl->top,
                      .right = qxl->right, .bottom = qxl->bottom };
    return true;
}

bool parse_surface_id(ParseState *st, uint32_t id, const char *what)
{
    if (id >= st->ctx->n_surfaces) {
        return parse_fail(st, RED_PARSE_ERROR_INVALID, "%s: surface id %u >= %u surfaces",
                          what, id, st->ctx->n_surfaces);
    }
    return true;
}
