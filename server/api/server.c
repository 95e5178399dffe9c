/* spice_server_* lifecycle and option setters. Thin: validate, store in
 * RedsConfig, tell the parts that care. Main loop only (the embedder's
 * thread), like upstream.
 */
#include <limits.h>
#include <string.h>

#include "spice.h"
#include "server/api/instances.h"
#include "server/core/log.h"
#include "server/core/reds.h"
#include "server/channel/channel.h"
#include "server/net/net.h"
#include "server/qxl/red-qxl.h"

spice_compat_version_t spice_get_current_compat_version(void)
{
    return SPICE_COMPAT_VERSION_CURRENT;
}

SpiceServer *spice_server_new(void)
{
    RedsState *reds = reds_new();
    api_servers_add(reds);
    return reds;
}

int spice_server_init(SpiceServer *s, SpiceCoreInterface *core)
{
    GError *err = NULL;

    if (!s || !core) {
        red_config_error("spice_server_init: NULL server or core");
        return -1;
    }
    if (core->base.major_version != SPICE_INTERFACE_CORE_MAJOR) {
        red_config_error("spice_server_init: core interface major %u, expected %u",
                         core->base.major_version, SPICE_INTERFACE_CORE_MAJOR);
        return -1;
    }
    if (!reds_init(s, core, &err)) {
        red_config_error("spice_server_init: %s", err ? err->message : "failed");
        g_clear_error(&err);
        return -1;
    }
    return 0;
}

void spice_server_destroy(SpiceServer *s)
{
    if (!s) {
        return;
    }
    api_remove_all_interfaces(s);
    api_servers_remove(s);
    reds_destroy(s);
}

int spice_server_set_compat_version(SpiceServer *s, spice_compat_version_t version)
{
    if (version < SPICE_COMPAT_VERSION_0_6 || version > SPICE_COMPAT_VERSION_CURRENT) {
        red_config_error("unsupported compat version %d", (int)version);
        return -1;
    }
    s->cfg.compat_version = version;
    return 0;
}

int spice_server_set_port(SpiceServer *s, int port)
{
    if (port < 0 || port > 0xffff) {
        red_config_error("invalid port %d", port);
        return -1;
    }
    s->cfg.port = port;
    return 0;
}

void spice_server_set_addr(SpiceServer *s, const char *addr, int flags)
{
    g_free(s->cfg.addr);
    s->cfg.addr = g_strdup(addr ? addr : "");
    s->cfg.addr_flags = flags;
}

int spice_server_set_listen_socket_fd(SpiceServer *s, int listen_fd)
{
    s->cfg.listen_fd = listen_fd;
    return 0;
}

int spice_server_set_exit_on_disconnect(SpiceServer *s, int flag)
{
    s->cfg.exit_on_disconnect = !!flag;
    return 0;
}

int spice_server_set_noauth(SpiceServer *s)
{
    memset(s->cfg.ticket, 0, sizeof(s->cfg.ticket));
    s->cfg.ticket_set = false;
    s->cfg.noauth = true;
    return 0;
}

int spice_server_set_sasl(SpiceServer *s, int enabled)
{
    if (enabled) {
        red_config_error("SASL authentication is not supported by this server");
        return -1;
    }
    s->cfg.sasl = false;
    return 0;
}

int spice_server_set_sasl_appname(SpiceServer *s, const char *appname)
{
    /* QEMU names itself on every start; harmless to keep even though SASL
     * itself cannot be enabled (spice_server_set_sasl refuses). */
    g_free(s->cfg.sasl_appname);
    s->cfg.sasl_appname = g_strdup(appname);
    return 0;
}

static bool main_channel_connected(SpiceServer *s)
{
    return s->clients != NULL;
}

static void disconnect_all_clients(SpiceServer *s)
{
    GList *clients = g_list_copy(s->clients);
    for (GList *l = clients; l; l = l->next) {
        red_client_disconnect(l->data);
    }
    g_list_free(clients);
}

int spice_server_set_ticket(SpiceServer *s, const char *passwd, int lifetime,
                                               int fail_if_connected, int disconnect_if_connected)
{
    if (main_channel_connected(s)) {
        if (fail_if_connected) {
            return -1;
        }
        if (disconnect_if_connected) {
            disconnect_all_clients(s);
        }
    }
    if (passwd && strlen(passwd) > SPICE_MAX_PASSWORD_LENGTH) {
        red_config_error("ticket longer than %d characters", SPICE_MAX_PASSWORD_LENGTH);
        return -1;
    }
    /* Turning ticketing on drops clients that got in without a ticket. */
    if (s->cfg.noauth && main_channel_connected(s)) {
        red_info("ticketing enabled: disconnecting clients that linked without a ticket");
        disconnect_all_clients(s);
    }
    s->cfg.noauth = false;
    memset(s->cfg.ticket, 0, sizeof(s->cfg.ticket));
    if (passwd) {
        g_strlcpy(s->cfg.ticket, passwd, sizeof(s->cfg.ticket));
        s->cfg.ticket_set = true;
        if (lifetime == 0) {
            s->cfg.ticket_expiry = 0;
        } else {
            time_t now = time(NULL);
            s->cfg.ticket_expiry = (lifetime < 0 || now > INT_MAX - lifetime) ? INT_MAX
                                                                              : now + lifetime;
        }
    } else {
        s->cfg.ticket_set = false;
        s->cfg.ticket_expiry = 0;
    }
    return 0;
}

int spice_server_set_tls(SpiceServer *s, int port,
                                            const char *ca_cert_file, const char *certs_file,
                                            const char *private_key_file, const char *key_passwd,
                                            const char *dh_key_file, const char *ciphersuite)
{
    if (port == 0 || !ca_cert_file || !certs_file || !private_key_file) {
        red_config_error("TLS needs a port, a CA file, a certificate and a key");
        return -1;
    }
    if (port < 0 || port > 0xffff) {
        red_config_error("invalid TLS port %d", port);
        return -1;
    }
    RedsConfig *cfg = &s->cfg;
    cfg->tls_port = port;
    g_free(cfg->ca_file);
    cfg->ca_file = g_strdup(ca_cert_file);
    g_free(cfg->cert_file);
    cfg->cert_file = g_strdup(certs_file);
    g_free(cfg->key_file);
    cfg->key_file = g_strdup(private_key_file);
    g_free(cfg->key_passwd);
    cfg->key_passwd = g_strdup(key_passwd);
    g_free(cfg->dh_file);
    cfg->dh_file = g_strdup(dh_key_file);
    g_free(cfg->ciphers);
    cfg->ciphers = g_strdup(ciphersuite);
    return 0;
}

int spice_server_add_client(SpiceServer *s, int socket, int skip_auth)
{
    return reds_net_add_client(s, socket, false, !!skip_auth) ? 0 : -1;
}

int spice_server_add_ssl_client(SpiceServer *s, int socket, int skip_auth)
{
    return reds_net_add_client(s, socket, true, !!skip_auth) ? 0 : -1;
}

static void config_changed(SpiceServer *s)
{
    for (GList *l = s->qxl_instances; l; l = l->next) {
        red_qxl_on_config_changed(l->data);
    }
}

int spice_server_set_image_compression(SpiceServer *s, SpiceImageCompression comp)
{
    if (comp <= SPICE_IMAGE_COMPRESSION_INVALID || comp >= SPICE_IMAGE_COMPRESSION_ENUM_END) {
        red_config_error("invalid image compression %d", (int)comp);
        return -1;
    }
    s->cfg.image_compression = comp;
    config_changed(s);
    return 0;
}

SpiceImageCompression spice_server_get_image_compression(SpiceServer *s)
{
    return s->cfg.image_compression;
}

static int set_wan(SpiceServer *s, spice_wan_compression_t *field, spice_wan_compression_t comp,
                   const char *what)
{
    if (comp == SPICE_WAN_COMPRESSION_INVALID || comp > SPICE_WAN_COMPRESSION_NEVER) {
        red_config_error("invalid %s compression state %d", what, (int)comp);
        return -1;
    }
    *field = comp;
    config_changed(s);
    return 0;
}

int spice_server_set_jpeg_compression(SpiceServer *s, spice_wan_compression_t comp)
{
    return set_wan(s, &s->cfg.jpeg_state, comp, "jpeg");
}

int spice_server_set_zlib_glz_compression(SpiceServer *s, spice_wan_compression_t comp)
{
    return set_wan(s, &s->cfg.zlib_glz_state, comp, "zlib-glz");
}

static const char *const channel_names[REDS_NUM_CHANNEL_TYPES] = {
    [SPICE_CHANNEL_MAIN] = "main",
    [SPICE_CHANNEL_DISPLAY] = "display",
    [SPICE_CHANNEL_INPUTS] = "inputs",
    [SPICE_CHANNEL_CURSOR] = "cursor",
    [SPICE_CHANNEL_PLAYBACK] = "playback",
    [SPICE_CHANNEL_RECORD] = "record",
    [SPICE_CHANNEL_TUNNEL] = "tunnel",
    [SPICE_CHANNEL_SMARTCARD] = "smartcard",
    [SPICE_CHANNEL_USBREDIR] = "usbredir",
    [SPICE_CHANNEL_PORT] = "port",
    [SPICE_CHANNEL_WEBDAV] = "webdav",
};

int spice_server_set_channel_security(SpiceServer *s, const char *channel, int security)
{
    if (!channel) {
        s->cfg.default_security = security;
        return 0;
    }
    for (int i = 0; i < REDS_NUM_CHANNEL_TYPES; i++) {
        if (channel_names[i] && strcmp(channel_names[i], channel) == 0) {
            s->cfg.channel_security[i] = security;
            return 0;
        }
    }
    red_config_error("unknown channel name '%s' for channel security", channel);
    return -1;
}

int spice_server_add_renderer(SpiceServer *s, const char *name)
{
    /* Only the software renderer exists, as upstream. */
    if (!name || strcmp(name, "sw") != 0) {
        red_config_error("unknown renderer '%s'", name ? name : "(null)");
        return -1;
    }
    return 0;
}

int spice_server_set_streaming_video(SpiceServer *s, int value)
{
    if (value != SPICE_STREAM_VIDEO_OFF && value != SPICE_STREAM_VIDEO_ALL &&
        value != SPICE_STREAM_VIDEO_FILTER) {
        red_config_error("invalid streaming-video value %d", value);
        return -1;
    }
    s->cfg.streaming_video = value;
    config_changed(s);
    return 0;
}

int spice_server_set_video_codecs(SpiceServer *s, const char *video_codecs)
{
    if (!video_codecs) {
        red_config_error("NULL video codec list");
        return -1;
    }
    /* Only the built-in MJPEG encoder exists; other entries are ignored the
     * way upstream ignores codecs it was built without. */
    if (!strstr(video_codecs, "spice:mjpeg") && strcmp(video_codecs, "auto") != 0) {
        red_config_error("video codec list '%s' names no supported codec (spice:mjpeg)",
                         video_codecs);
        return -1;
    }
    g_free(s->cfg.video_codecs);
    s->cfg.video_codecs = g_strdup("spice:mjpeg");
    config_changed(s);
    return 0;
}

const char *spice_server_get_video_codecs(SpiceServer *s)
{
    return g_strdup(s->cfg.video_codecs ? s->cfg.video_codecs : "spice:mjpeg");
}

void spice_server_free_video_codecs(SpiceServer *s, const char *video_codecs)
{
    g_free((char *)video_codecs);
}

int spice_server_set_playback_compression(SpiceServer *s, int enable)
{
    s->cfg.playback_compression = !!enable;
    return 0;
}

int spice_server_set_agent_mouse(SpiceServer *s, int enable)
{
    s->cfg.agent_mouse = !!enable;
    if (s->initialized) {
        reds_update_mouse_mode(s);
    }
    return 0;
}

int spice_server_set_agent_copypaste(SpiceServer *s, int enable)
{
    s->cfg.agent_copypaste = !!enable;
    return 0;
}

int spice_server_set_agent_file_xfer(SpiceServer *s, int enable)
{
    s->cfg.agent_file_xfer = !!enable;
    return 0;
}

/* Deprecated upstream and answered with -1 there too. */
int spice_server_get_sock_info(SpiceServer *s, struct sockaddr *sa, socklen_t *salen)
{
    return -1;
}

int spice_server_get_peer_info(SpiceServer *s, struct sockaddr *sa, socklen_t *salen)
{
    return -1;
}

int spice_server_is_server_mouse(SpiceServer *s)
{
    return s->mouse_mode == SPICE_MOUSE_MODE_SERVER;
}

void spice_server_set_name(SpiceServer *s, const char *name)
{
    g_free(s->cfg.name);
    s->cfg.name = g_strdup(name);
}

void spice_server_set_uuid(SpiceServer *s, const uint8_t uuid[16])
{
    memcpy(s->cfg.uuid, uuid, 16);
    s->cfg.uuid_set = true;
}

void spice_server_vm_start(SpiceServer *s)
{
    s->vm_running = true;
    for (GList *l = s->qxl_instances; l; l = l->next) {
        red_qxl_start(l->data);
    }
}

void spice_server_vm_stop(SpiceServer *s)
{
    s->vm_running = false;
    for (GList *l = s->qxl_instances; l; l = l->next) {
        red_qxl_stop(l->data);
    }
}

int spice_server_get_num_clients(SpiceServer *s)
{
    return reds_num_clients(s);
}
