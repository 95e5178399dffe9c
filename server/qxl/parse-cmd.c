/* QXL_CMD_UPDATE, MESSAGE, SURFACE, CURSOR, the primary surface, the
 * monitors config, and the by-type entry point. */
#include "server/qxl/parse-internal.h"

#include <stddef.h>
#include <string.h>

static void release_init(QXLReleaseInfoExt **release_out, QXLReleaseInfoExt *dummy,
                         uint32_t group_id)
{
    if (!*release_out) {
        *release_out = dummy;
    }
    **release_out = (QXLReleaseInfoExt){ .info = NULL, .group_id = group_id };
}

/* Pins and copies a command struct that starts with QXLReleaseInfo, and
 * records its release info. */
static bool fetch_cmd(ParseState *st, QXLPHYSICAL addr, void *dst, size_t size,
                      QXLReleaseInfoExt *release, const char *what)
{
    const void *p = parse_pin(st, addr, size, what);
    if (!p) {
        return false;
    }
    memcpy(dst, p, size);
    *release = (QXLReleaseInfoExt){ .info = (QXLReleaseInfo *)p, .group_id = st->group_id };
    return true;
}

/* ---- update ---- */

RedUpdateCmd *red_parse_update_cmd(const RedParseCtx *ctx, uint32_t group_id, QXLPHYSICAL addr,
                                   QXLReleaseInfoExt *release_out, GError **err)
{
    QXLReleaseInfoExt dummy;
    release_init(&release_out, &dummy, group_id);
    ParseState st;
    parse_state_init(&st, ctx, group_id, 0, err);
    QXLUpdateCmd q;
    RedUpdateCmd *cmd = g_new0(RedUpdateCmd, 1);
    bool ok = fetch_cmd(&st, addr, &q, sizeof(q), release_out, "update command") &&
              parse_surface_id(&st, q.surface_id, "update command") &&
              parse_rect(&st, &q.area, &cmd->area, "update area");
    parse_state_finish(&st);
    if (!ok) {
        g_free(cmd);
        return NULL;
    }
    cmd->release = *release_out;
    cmd->update_id = q.update_id;
    cmd->surface_id = q.surface_id;
    return cmd;
}

void red_update_cmd_free(RedUpdateCmd *cmd)
{
    g_free(cmd);
}

/* ---- message ---- */

RedMessage *red_parse_message(const RedParseCtx *ctx, uint32_t group_id, QXLPHYSICAL addr,
                              QXLReleaseInfoExt *release_out, GError **err)
{
    QXLReleaseInfoExt dummy;
    release_init(&release_out, &dummy, group_id);
    ParseState st;
    parse_state_init(&st, ctx, group_id, 0, err);
    RedMessage *msg = NULL;
    QXLMessage q;
    QXLPHYSICAL text_addr;
    if (!fetch_cmd(&st, addr, &q, sizeof(q), release_out, "message command") ||
        !parse_addr_add(&st, addr, sizeof(q), &text_addr, "message text")) {
        goto out;
    }
    /* The text has no length field: look for its NUL within the slot and
     * our limit, copying once and scanning the copy. */
    MemSlotError merr;
    uint64_t room = memslot_max_size(ctx->slots, group_id, text_addr, &merr);
    if (merr != MEMSLOT_OK) {
        parse_fail(&st, RED_PARSE_ERROR_ADDRESS, "message text: %s", memslot_strerror(merr));
        goto out;
    }
    size_t n = (size_t)MIN(room, (uint64_t)RED_QXL_MAX_MESSAGE_LEN + 1);
    char *buf = g_malloc(n + 1);
    if (n && !parse_fetch(&st, text_addr, buf, n, "message text")) {
        g_free(buf);
        goto out;
    }
    const char *nul = n ? memchr(buf, 0, n) : NULL;
    if (!nul) {
        g_free(buf);
        parse_fail(&st, RED_PARSE_ERROR_LIMIT, "message text not terminated within %zu bytes", n);
        goto out;
    }
    msg = g_new0(RedMessage, 1);
    msg->release = *release_out;
    msg->len = (size_t)(nul - buf);
    for (size_t i = 0; i < msg->len; i++) {
        if (!g_ascii_isprint(buf[i])) {
            buf[i] = '?';
        }
    }
    msg->text = g_realloc(buf, msg->len + 1);
out:
    parse_state_finish(&st);
    return msg;
}

void red_message_free(RedMessage *msg)
{
    if (msg) {
        g_free(msg->text);
        g_free(msg);
    }
}

/* ---- surfaces ---- */

unsigned red_surface_format_bpp(uint32_t format)
{
    switch (format) {
    case SPICE_SURFACE_FMT_1_A: return 1;
    case SPICE_SURFACE_FMT_8_A: return 8;
    case SPICE_SURFACE_FMT_16_555:
    case SPICE_SURFACE_FMT_16_565: return 16;
    case SPICE_SURFACE_FMT_32_xRGB:
    case SPICE_SURFACE_FMT_32_ARGB: return 32;
    default: return 0;
    }
}

bool red_validate_surface(uint32_t width, uint32_t height, int32_t stride, uint32_t format,
                          uint64_t *size, GError **err)
{
    unsigned bpp = red_surface_format_bpp(format);
    if (!bpp) {
        g_set_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_UNSUPPORTED,
                    "guest bug: surface format %u unknown", format);
        return false;
    }
    if (width == 0 || height == 0 || width > RED_QXL_MAX_DIM || height > RED_QXL_MAX_DIM) {
        g_set_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_INVALID,
                    "guest bug: surface size %ux%u outside 1..%u", width, height, RED_QXL_MAX_DIM);
        return false;
    }
    /* |INT32_MIN| does not fit an int32; 64-bit math avoids that case too. */
    uint64_t abs_stride = stride < 0 ? (uint64_t)(-(int64_t)stride) : (uint64_t)stride;
    uint64_t min_stride = ((uint64_t)width * bpp + 7) / 8;
    if (stride == 0 || stride == INT32_MIN || abs_stride < min_stride) {
        g_set_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_INVALID,
                    "guest bug: surface stride %d too small for width %u at %u bpp",
                    stride, width, bpp);
        return false;
    }
    uint64_t total = abs_stride * height;
    if (total > RED_QXL_MAX_SURFACE_SIZE) {
        g_set_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_LIMIT,
                    "guest bug: surface of %" G_GUINT64_FORMAT " bytes exceeds %u",
                    (guint64)total, RED_QXL_MAX_SURFACE_SIZE);
        return false;
    }
    *size = total;
    return true;
}

/* Surface memory: mem is the lowest address; with a negative stride row 0
 * is the highest row in memory. */
static uint8_t *line_0_of(uint8_t *mem, uint32_t height, int32_t stride)
{
    if (stride >= 0) {
        return mem;
    }
    return mem + (size_t)(height - 1) * (size_t)(-(int64_t)stride);
}

RedSurfaceCmd *red_parse_surface_cmd(const RedParseCtx *ctx, uint32_t group_id, QXLPHYSICAL addr,
                                     QXLReleaseInfoExt *release_out, GError **err)
{
    QXLReleaseInfoExt dummy;
    release_init(&release_out, &dummy, group_id);
    ParseState st;
    parse_state_init(&st, ctx, group_id, 0, err);
    QXLSurfaceCmd q;
    RedSurfaceCmd *cmd = NULL;
    if (!fetch_cmd(&st, addr, &q, sizeof(q), release_out, "surface command") ||
        !parse_surface_id(&st, q.surface_id, "surface command")) {
        goto out;
    }
    if (q.type == QXL_SURFACE_CMD_DESTROY) {
        cmd = g_new0(RedSurfaceCmd, 1);
    } else if (q.type == QXL_SURFACE_CMD_CREATE) {
        const QXLSurface *s = &q.u.surface_create;
        uint64_t size;
        if (!red_validate_surface(s->width, s->height, s->stride, s->format, &size, st.err)) {
            goto out;
        }
        uint8_t *mem = (uint8_t *)parse_pin(&st, s->data, size, "surface memory");
        if (!mem) {
            goto out;
        }
        cmd = g_new0(RedSurfaceCmd, 1);
        cmd->format = s->format;
        cmd->width = s->width;
        cmd->height = s->height;
        cmd->stride = s->stride;
        cmd->mem = mem;
        cmd->mem_size = size;
        cmd->line_0 = line_0_of(mem, s->height, s->stride);
    } else {
        parse_fail(&st, RED_PARSE_ERROR_UNSUPPORTED, "surface command type %u unknown", q.type);
        goto out;
    }
    cmd->release = *release_out;
    cmd->surface_id = q.surface_id;
    cmd->type = q.type;
    cmd->flags = q.flags;
out:
    parse_state_finish(&st);
    return cmd;
}

void red_surface_cmd_free(RedSurfaceCmd *cmd)
{
    g_free(cmd);
}

bool red_parse_primary(const RedParseCtx *ctx, const RedPrimaryRequest *req,
                       RedPrimarySurface *out, GError **err)
{
    ParseState st;
    parse_state_init(&st, ctx, req->group_id, 0, err);
    uint64_t size;
    bool ok = red_validate_surface(req->width, req->height, req->stride, req->format, &size,
                                   st.err);
    uint8_t *mem = ok ? (uint8_t *)parse_pin(&st, req->mem, size, "primary surface memory") : NULL;
    parse_state_finish(&st);
    if (!mem) {
        return false;
    }
    *out = (RedPrimarySurface){
        .width = req->width, .height = req->height, .stride = req->stride,
        .format = req->format, .position = req->position, .mouse_mode = req->mouse_mode,
        .flags = req->flags, .type = req->type,
        .mem = mem, .mem_size = size, .line_0 = line_0_of(mem, req->height, req->stride),
    };
    return true;
}

/* ---- cursor ---- */

/* Bytes a cursor shape needs, for the types whose layout we know exactly;
 * 0 = no minimum. */
static uint64_t cursor_min_size(uint16_t type, uint16_t w, uint16_t h)
{
    switch (type) {
    case SPICE_CURSOR_TYPE_ALPHA:
        return (uint64_t)w * h * 4;
    case SPICE_CURSOR_TYPE_MONO:
        return (uint64_t)((w + 7u) / 8u) * h * 2;
    default:
        return 0;
    }
}

static bool parse_cursor_shape(ParseState *st, QXLPHYSICAL addr, RedCursorShape *out)
{
    QXLCursor q;
    if (!parse_fetch(st, addr, &q, sizeof(q), "cursor shape")) {
        return false;
    }
    if (q.header.type >= SPICE_CURSOR_TYPE_ENUM_END) {
        return parse_fail(st, RED_PARSE_ERROR_UNSUPPORTED, "cursor type %u unknown", q.header.type);
    }
    if (q.header.width > RED_QXL_MAX_CURSOR_DIM || q.header.height > RED_QXL_MAX_CURSOR_DIM) {
        return parse_fail(st, RED_PARSE_ERROR_LIMIT, "cursor %ux%u larger than %u",
                          q.header.width, q.header.height, RED_QXL_MAX_CURSOR_DIM);
    }
    if (q.data_size > RED_QXL_MAX_CURSOR_DATA) {
        return parse_fail(st, RED_PARSE_ERROR_LIMIT, "cursor data_size %u exceeds %u",
                          q.data_size, RED_QXL_MAX_CURSOR_DATA);
    }
    uint64_t need = cursor_min_size(q.header.type, q.header.width, q.header.height);
    if (q.data_size < need) {
        return parse_fail(st, RED_PARSE_ERROR_INVALID, "cursor data_size %u < %" G_GUINT64_FORMAT
                          " needed for %ux%u type %u", q.data_size, (guint64)need,
                          q.header.width, q.header.height, q.header.type);
    }
    QXLPHYSICAL chunk_addr;
    if (!parse_addr_add(st, addr, offsetof(QXLCursor, chunk), &chunk_addr, "cursor shape")) {
        return false;
    }
    ParseChunks c;
    if (!parse_chunks_from_header(st, &q.chunk, chunk_addr, &c, "cursor shape")) {
        return false;
    }
    if (c.total < q.data_size) {
        parse_chunks_clear(&c);
        return parse_fail(st, RED_PARSE_ERROR_INVALID, "cursor data_size %u but chunks hold %"
                          G_GUINT64_FORMAT " bytes", q.data_size, (guint64)c.total);
    }
    out->unique = q.header.unique;
    out->type = q.header.type;
    out->width = q.header.width;
    out->height = q.header.height;
    out->hot_spot_x = q.header.hot_spot_x;
    out->hot_spot_y = q.header.hot_spot_y;
    out->data_size = q.data_size;
    /* Bytes past data_size in the chunks are not copied. */
    out->data = parse_chunks_gather_n(&c, q.data_size);
    parse_chunks_clear(&c);
    return true;
}

RedCursorCmd *red_parse_cursor_cmd(const RedParseCtx *ctx, uint32_t group_id, QXLPHYSICAL addr,
                                   QXLReleaseInfoExt *release_out, GError **err)
{
    QXLReleaseInfoExt dummy;
    release_init(&release_out, &dummy, group_id);
    ParseState st;
    parse_state_init(&st, ctx, group_id, 0, err);
    QXLCursorCmd q;
    RedCursorCmd *cmd = g_new0(RedCursorCmd, 1);
    bool ok = fetch_cmd(&st, addr, &q, sizeof(q), release_out, "cursor command");
    if (ok) {
        cmd->release = *release_out;
        cmd->type = q.type;
        switch (q.type) {
        case QXL_CURSOR_SET:
            cmd->u.set.position = (RedPoint16){ q.u.set.position.x, q.u.set.position.y };
            cmd->u.set.visible = q.u.set.visible;
            ok = parse_cursor_shape(&st, q.u.set.shape, &cmd->u.set.shape);
            break;
        case QXL_CURSOR_MOVE:
            cmd->u.position = (RedPoint16){ q.u.position.x, q.u.position.y };
            break;
        case QXL_CURSOR_HIDE:
            break;
        case QXL_CURSOR_TRAIL:
            cmd->u.trail.length = q.u.trail.length;
            cmd->u.trail.frequency = q.u.trail.frequency;
            break;
        default:
            ok = parse_fail(&st, RED_PARSE_ERROR_UNSUPPORTED, "cursor command type %u unknown",
                            q.type);
            break;
        }
    }
    parse_state_finish(&st);
    if (!ok) {
        red_cursor_cmd_free(cmd);
        return NULL;
    }
    return cmd;
}

void red_cursor_cmd_free(RedCursorCmd *cmd)
{
    if (!cmd) {
        return;
    }
    if (cmd->type == QXL_CURSOR_SET) {
        g_free(cmd->u.set.shape.data);
    }
    g_free(cmd);
}

/* ---- monitors config ---- */

QXLMonitorsConfig *red_parse_monitors_config(const RedParseCtx *ctx, uint32_t group_id,
                                             QXLPHYSICAL addr, GError **err)
{
    ParseState st;
    parse_state_init(&st, ctx, group_id, 0, err);
    QXLMonitorsConfig hdr;
    QXLMonitorsConfig *out = NULL;
    QXLPHYSICAL heads_addr;
    if (!parse_fetch(&st, addr, &hdr, sizeof(hdr), "monitors config") ||
        !parse_addr_add(&st, addr, sizeof(hdr), &heads_addr, "monitors config heads")) {
        goto done;
    }
    /* Only this copy of the header counts: the guest may rewrite it while
     * the heads are read. */
    uint32_t count = hdr.count;
    if (count == 0) {
        parse_fail(&st, RED_PARSE_ERROR_INVALID, "monitors config without heads");
        goto done;
    }
    if (count > RED_QXL_MAX_MONITORS) {
        parse_fail(&st, RED_PARSE_ERROR_LIMIT, "monitors config with %u heads (at most %u)",
                   count, RED_QXL_MAX_MONITORS);
        goto done;
    }
    if (hdr.max_allowed && count > hdr.max_allowed) {
        parse_fail(&st, RED_PARSE_ERROR_INVALID, "monitors config with %u heads but "
                   "max_allowed %u", count, hdr.max_allowed);
        goto done;
    }
    out = g_malloc(sizeof(QXLMonitorsConfig) + count * sizeof(QXLHead));
    out->count = (uint16_t)count;
    out->max_allowed = hdr.max_allowed;
    if (!parse_fetch(&st, heads_addr, out->heads, count * sizeof(QXLHead),
                     "monitors config heads")) {
        g_clear_pointer(&out, g_free);
        goto done;
    }
    for (uint32_t i = 0; i < count; i++) {
        const QXLHead *h = &out->heads[i];
        if (h->width > RED_QXL_MAX_DIM || h->height > RED_QXL_MAX_DIM) {
            parse_fail(&st, RED_PARSE_ERROR_LIMIT, "monitors config head %u is %ux%u", i,
                       h->width, h->height);
            g_clear_pointer(&out, g_free);
            goto done;
        }
        if (!parse_surface_id(&st, h->surface_id, "monitors config head")) {
            g_clear_pointer(&out, g_free);
            goto done;
        }
    }
done:
    parse_state_finish(&st);
    return out;
}

/* ---- any command ---- */

bool red_parse_command(const RedParseCtx *ctx, const QXLCommandExt *ext, RedCommand *out,
                       QXLReleaseInfoExt *release_out, GError **err)
{
    QXLReleaseInfoExt dummy;
    release_init(&release_out, &dummy, ext->group_id);
    *out = (RedCommand){ .type = QXL_CMD_NOP };
    QXLPHYSICAL addr = ext->cmd.data;
    uint32_t g = ext->group_id;
    bool ok;
    switch (ext->cmd.type) {
    case QXL_CMD_NOP:
        return true;
    case QXL_CMD_DRAW:
        ok = (out->u.draw = red_parse_drawable(ctx, g, addr, ext->flags, release_out, err)) != NULL;
        break;
    case QXL_CMD_UPDATE:
        ok = (out->u.update = red_parse_update_cmd(ctx, g, addr, release_out, err)) != NULL;
        break;
    case QXL_CMD_MESSAGE:
        ok = (out->u.message = red_parse_message(ctx, g, addr, release_out, err)) != NULL;
        break;
    case QXL_CMD_SURFACE:
        ok = (out->u.surface = red_parse_surface_cmd(ctx, g, addr, release_out, err)) != NULL;
        break;
    case QXL_CMD_CURSOR:
        ok = (out->u.cursor = red_parse_cursor_cmd(ctx, g, addr, release_out, err)) != NULL;
        break;
    default:
        /* Unknown type: we cannot know where its release info lives. */
        g_set_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_UNSUPPORTED,
                    "guest bug: command type %u unknown", ext->cmd.type);
        return false;
    }
    if (ok) {
        out->type = ext->cmd.type;
    }
    return ok;
}

void red_command_clear(RedCommand *cmd)
{
    switch (cmd->type) {
    case QXL_CMD_DRAW: red_drawable_unref(cmd->u.draw); break;
    case QXL_CMD_UPDATE: red_update_cmd_free(cmd->u.update); break;
    case QXL_CMD_MESSAGE: red_message_free(cmd->u.message); break;
    case QXL_CMD_SURFACE: red_surface_cmd_free(cmd->u.surface); break;
    case QXL_CMD_CURSOR: red_cursor_cmd_free(cmd->u.cursor); break;
    default: break;
    }
    *cmd = (RedCommand){ .type = QXL_CMD_NOP };
}
