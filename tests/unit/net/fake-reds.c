#include "tests/unit/net/fake-reds.h"

#include <string.h>

#include "server/net/link-caps.h"

FakeLinkRecord fake_last_link;

/* Any non-NULL pointer works: the net layer only passes it back to us. */
static int fake_channel_token;

RedChannel *reds_find_channel(RedsState *reds, uint8_t type, uint8_t id)
{
    bool known = (type == SPICE_CHANNEL_MAIN || type == SPICE_CHANNEL_DISPLAY ||
                  type == SPICE_CHANNEL_INPUTS) && id == 0;
    return known ? (RedChannel *)&fake_channel_token : NULL;
}

uint32_t reds_channel_caps(RedsState *reds, RedChannel *channel, uint32_t *words,
                           uint32_t max_words)
{
    if (max_words < 1) {
        return 0;
    }
    words[0] = 0x5;
    return 1;
}

/* reds_channel_security and reds_check_ticket are the real ones
 * (server/core/reds-auth.c). */

void reds_link_complete(RedsState *reds, RedLink *link)
{
    fake_last_link.completed++;
    fake_last_link.channel_type = link->channel_type;
    fake_last_link.channel_id = link->channel_id;
    fake_last_link.connection_id = link->connection_id;
    fake_last_link.num_common_caps = link->num_common_caps;
    fake_last_link.num_channel_caps = link->num_channel_caps;
    fake_last_link.first_channel_cap = link->num_channel_caps ? link->channel_caps[0] : 0;
    fake_last_link.tls = link->stream->is_tls;
    red_link_send_result(link, SPICE_LINK_ERR_OK);
    red_link_free(link);
}

RedsState *fake_reds_new(GMainContext *ctx)
{
    RedsState *reds = g_new0(RedsState, 1);
    reds->cfg.port = -1;
    reds->cfg.tls_port = -1;
    reds->cfg.listen_fd = -1;
    reds->cfg.default_security = SPICE_CHANNEL_SECURITY_NONE | SPICE_CHANNEL_SECURITY_SSL;
    reds->loop = red_loop_new_glib(ctx);
    reds->main_thread = g_thread_self();
    return reds;
}

void fake_reds_free(RedsState *reds)
{
    RedsConfig *cfg = &reds->cfg;
    red_loop_free(reds->loop);
    g_free(cfg->addr);
    g_free(cfg->ca_file);
    g_free(cfg->cert_file);
    g_free(cfg->key_file);
    g_free(cfg->key_passwd);
    g_free(cfg->dh_file);
    g_free(cfg->ciphers);
    g_free(reds);
}
