/* RedsState: the server object behind SpiceServer. Owns the configuration,
 * the registered interfaces, the channel registry, the sessions (RedClient)
 * and, through RedsNet, the listening sockets and TLS context.
 *
 * Threading: every field is owned by the main loop (the embedder's
 * SpiceCoreInterface thread). Worker threads reach reds only through
 * reds_post() / reds_channel_event(), never by touching fields.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <glib.h>

#include <spice/protocol.h>
#include "spice.h"
#include "server/core/loop.h"

typedef struct RedChannel RedChannel;
typedef struct RedClient RedClient;
typedef struct RedLink RedLink;
typedef struct RedsNet RedsNet;
typedef struct RedsState RedsState;

/* Channel types we know how to secure by name: index = SPICE_CHANNEL_*. */
#define REDS_NUM_CHANNEL_TYPES 12

typedef struct RedsConfig {
    char *addr;                      /* owned; NULL/"" = any */
    int addr_flags;                  /* SPICE_ADDR_FLAG_* */
    int port;                        /* -1 = none */
    int tls_port;                    /* -1 = none */
    int listen_fd;                   /* -1 = none; not owned */
    char *ca_file, *cert_file, *key_file, *key_passwd, *dh_file, *ciphers; /* owned */

    bool noauth;
    bool ticket_set;
    char ticket[SPICE_MAX_PASSWORD_LENGTH + 1];
    time_t ticket_expiry;            /* 0 = never */

    int default_security;            /* SPICE_CHANNEL_SECURITY_* mask */
    int channel_security[REDS_NUM_CHANNEL_TYPES]; /* 0 = use default */

    char *name;                      /* owned, NULL = unset */
    uint8_t uuid[16];
    bool uuid_set;

    bool agent_mouse;
    bool agent_copypaste;
    bool agent_file_xfer;
    bool exit_on_disconnect;
    bool seamless_migration;
    bool sasl;
    char *sasl_appname;              /* owned */

    SpiceImageCompression image_compression;
    spice_wan_compression_t jpeg_state;
    spice_wan_compression_t zlib_glz_state;
    int streaming_video;             /* SPICE_STREAM_VIDEO_* */
    bool playback_compression;
    char *video_codecs;              /* owned */
    spice_compat_version_t compat_version;
} RedsConfig;

struct RedsState {
    RedsConfig cfg;
    const SpiceCoreInterface *core;  /* embedder's, not owned; NULL before init */
    RedLoop *loop;                   /* owned, over core */
    bool initialized;
    GThread *main_thread;            /* thread that called spice_server_init */

    RedsNet *net;                    /* owned by server/net */
    RedChannel *main_channel;        /* also in channels */
    GList *channels;                 /* RedChannel*, owned */
    GList *clients;                  /* RedClient*, owned */

    SpiceKbdInstance *kbd;           /* embedder's instances, not owned */
    SpiceMouseInstance *mouse;
    SpiceTabletInstance *tablet;
    SpiceCharDeviceInstance *vdagent;
    GList *qxl_instances;            /* QXLInstance* */
    gint display_channels;           /* atomic: live display channels (display-channel.c) */
    GList *char_devices;             /* SpiceCharDeviceInstance* */
    GList *sound_instances;          /* SpicePlaybackInstance* / SpiceRecordInstance* */
    SpiceMigrateInstance *migrate;

    uint32_t mouse_mode;             /* SPICE_MOUSE_MODE_SERVER / CLIENT */
    bool client_mouse_allowed;
    bool vm_running;
    uint8_t kbd_leds;                /* last value from spice_server_kbd_leds */

    int wakeup_fds[2];               /* reds_post(): cross-thread queue wakeup */
    RedWatch *wakeup_watch;
    GAsyncQueue *posted;             /* RedsPosted* */
};

/* --- lifecycle, called by server/api --- */
RedsState *reds_new(void);
bool reds_init(RedsState *reds, SpiceCoreInterface *core, GError **err);
void reds_destroy(RedsState *reds);

/* --- cross-thread --- */
typedef void (*RedsPostFunc)(RedsState *reds, void *data);
/* Runs func(reds, data) on the main loop soon. Any thread; never blocks. */
void reds_post(RedsState *reds, RedsPostFunc func, void *data);
/* Delivers a channel event to the embedder on the main loop (from any
 * thread). For SPICE_CHANNEL_EVENT_DISCONNECTED, info is freed afterwards;
 * otherwise it stays owned by the stream. */
void reds_channel_event(RedsState *reds, int event, SpiceChannelEventInfo *info);

/* --- channel registry (main loop) --- */
void reds_register_channel(RedsState *reds, RedChannel *channel);
void reds_unregister_channel(RedsState *reds, RedChannel *channel);
RedChannel *reds_find_channel(RedsState *reds, uint8_t type, uint8_t id);

/* --- used by the link layer (main loop) --- */
/* SPICE_CHANNEL_SECURITY_* mask required for a channel type. */
int reds_channel_security(RedsState *reds, uint8_t type);
/* Checks a decrypted ticket; returns SPICE_LINK_ERR_OK or
 * SPICE_LINK_ERR_PERMISSION_DENIED. */
uint32_t reds_check_ticket(RedsState *reds, const char *password);
/* Takes ownership of an authenticated link: checks the connection id, sends
 * the link result and connects the channel client. */
void reds_link_complete(RedsState *reds, RedLink *link);

/* --- sessions (main loop) --- */
RedClient *reds_find_client(RedsState *reds, uint32_t connection_id);
void reds_client_gone(RedsState *reds, RedClient *client);
int reds_num_clients(RedsState *reds);

/* --- mouse mode and input routing (main loop) --- */
void reds_update_mouse_mode(RedsState *reds);
void reds_set_mouse_mode(RedsState *reds, uint32_t mode);
