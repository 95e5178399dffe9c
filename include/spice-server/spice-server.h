/* spice-server.h: creating, configuring and tearing down a server.
 *
 * Unless stated otherwise these functions are called from the embedder's
 * main-loop thread (the one that runs the core interface), and int
 * results are 0 on success, -1 on failure.
 */
#ifndef SPICE_SERVER_H_
#define SPICE_SERVER_H_

#if !defined(SPICE_H_INSIDE) && !defined(SPICE_SERVER_INTERNAL)
#error "Only spice.h can be included directly (the library itself builds with -DSPICE_SERVER_INTERNAL)."
#endif

#include "spice-core.h"

SPICE_BEGIN_DECLS

/* Feature level to stay within so that migration with older servers
 * keeps working. */
typedef enum {
    SPICE_COMPAT_VERSION_0_4 = 0,
    SPICE_COMPAT_VERSION_0_6 = 1,
} spice_compat_version_t;

#define SPICE_COMPAT_VERSION_CURRENT SPICE_COMPAT_VERSION_0_6

spice_compat_version_t spice_get_current_compat_version(void);

/* ---- lifecycle ---- */

typedef struct RedsState SpiceServer;

/* Returns a new, unconfigured server owned by the caller. */
SpiceServer *spice_server_new(void);
/* Starts listening; core must stay valid until spice_server_destroy(). */
int spice_server_init(SpiceServer *s, SpiceCoreInterface *core);
void spice_server_destroy(SpiceServer *s);

/* ---- listening and authentication (before spice_server_init) ---- */

/* spice_server_set_addr() flags */
#define SPICE_ADDR_FLAG_IPV4_ONLY (1 << 0)
#define SPICE_ADDR_FLAG_IPV6_ONLY (1 << 1)
#define SPICE_ADDR_FLAG_UNIX_ONLY (1 << 2)

int spice_server_set_compat_version(SpiceServer *s,
                                    spice_compat_version_t version);
int spice_server_set_port(SpiceServer *s, int port);
void spice_server_set_addr(SpiceServer *s, const char *addr, int flags);
int spice_server_set_listen_socket_fd(SpiceServer *s, int listen_fd) SPICE_GNUC_DEPRECATED;
int spice_server_set_exit_on_disconnect(SpiceServer *s, int flag);
int spice_server_set_noauth(SpiceServer *s);
int spice_server_set_sasl(SpiceServer *s, int enabled);
int spice_server_set_sasl_appname(SpiceServer *s, const char *appname);
/* lifetime in seconds, 0 = no expiry. */
int spice_server_set_ticket(SpiceServer *s, const char *passwd, int lifetime,
                            int fail_if_connected, int disconnect_if_connected);
int spice_server_set_tls(SpiceServer *s, int port,
                         const char *ca_cert_file, const char *certs_file,
                         const char *private_key_file, const char *key_passwd,
                         const char *dh_key_file, const char *ciphersuite);

/* Hand over an already connected socket (the server takes ownership). */
int spice_server_add_client(SpiceServer *s, int socket, int skip_auth);
int spice_server_add_ssl_client(SpiceServer *s, int socket, int skip_auth);

/* ---- devices ---- */

/* Registers an instance (keyboard, qxl, char device, ...) whose interface
 * type and version the server recognises. The instance stays owned by the
 * embedder and must live until it is removed. */
int spice_server_add_interface(SpiceServer *s,
                               SpiceBaseInstance *sin);
/* Unregisters an instance; afterwards the embedder may free or reuse it. */
int spice_server_remove_interface(SpiceBaseInstance *sin);

/* ---- compression and streaming ---- */

/* The image compression enum lives in spice-protocol (SpiceImageCompression,
 * values INVALID 0, OFF 1, AUTO_GLZ 2, AUTO_LZ 3, QUIC 4, GLZ 5, LZ 6,
 * LZ4 7); these are the older spellings of the same names. */
typedef SpiceImageCompression spice_image_compression_t;
#define SPICE_IMAGE_COMPRESS_INVALID SPICE_IMAGE_COMPRESSION_INVALID
#define SPICE_IMAGE_COMPRESS_OFF SPICE_IMAGE_COMPRESSION_OFF
#define SPICE_IMAGE_COMPRESS_AUTO_GLZ SPICE_IMAGE_COMPRESSION_AUTO_GLZ
#define SPICE_IMAGE_COMPRESS_AUTO_LZ SPICE_IMAGE_COMPRESSION_AUTO_LZ
#define SPICE_IMAGE_COMPRESS_QUIC SPICE_IMAGE_COMPRESSION_QUIC
#define SPICE_IMAGE_COMPRESS_GLZ SPICE_IMAGE_COMPRESSION_GLZ
#define SPICE_IMAGE_COMPRESS_LZ SPICE_IMAGE_COMPRESSION_LZ
#define SPICE_IMAGE_COMPRESS_LZ4 SPICE_IMAGE_COMPRESSION_LZ4

int spice_server_set_image_compression(SpiceServer *s,
                                       SpiceImageCompression comp);
SpiceImageCompression spice_server_get_image_compression(SpiceServer *s);

/* When to use lossy (JPEG) or zlib-wrapped GLZ on slow links. */
typedef enum {
    SPICE_WAN_COMPRESSION_INVALID,
    SPICE_WAN_COMPRESSION_AUTO,
    SPICE_WAN_COMPRESSION_ALWAYS,
    SPICE_WAN_COMPRESSION_NEVER,
} spice_wan_compression_t;

int spice_server_set_jpeg_compression(SpiceServer *s, spice_wan_compression_t comp);
int spice_server_set_zlib_glz_compression(SpiceServer *s, spice_wan_compression_t comp);

/* Accepted transports per channel name ("main", "display", ...; NULL means
 * every channel without its own setting). */
#define SPICE_CHANNEL_SECURITY_NONE (1 << 0)
#define SPICE_CHANNEL_SECURITY_SSL (1 << 1)

int spice_server_set_channel_security(SpiceServer *s, const char *channel, int security);

int spice_server_add_renderer(SpiceServer *s, const char *name) SPICE_GNUC_DEPRECATED;

/* spice_server_set_streaming_video() values */
enum {
    SPICE_STREAM_VIDEO_INVALID,
    SPICE_STREAM_VIDEO_OFF,
    SPICE_STREAM_VIDEO_ALL,
    SPICE_STREAM_VIDEO_FILTER
};

int spice_server_set_streaming_video(SpiceServer *s, int value);

/* Video encoder families named in a codec list ("spice:mjpeg;..."). */
enum {
    SPICE_STREAMING_INVALID,
    SPICE_STREAMING_SPICE,
    SPICE_STREAMING_GSTREAMER
};

/* video_codecs: "encoder:codec" pairs separated by ';'. */
int spice_server_set_video_codecs(SpiceServer *s, const char* video_codecs);
/* Returns the enabled encoder:codec list as a new string; release it with
 * spice_server_free_video_codecs(). */
const char *spice_server_get_video_codecs(SpiceServer *s);
void spice_server_free_video_codecs(SpiceServer *s, const char *video_codecs);

int spice_server_set_playback_compression(SpiceServer *s, int enable);

/* ---- guest agent ---- */

int spice_server_set_agent_mouse(SpiceServer *s, int enable);
int spice_server_set_agent_copypaste(SpiceServer *s, int enable);
int spice_server_set_agent_file_xfer(SpiceServer *s, int enable);

/* ---- queries and VM state ---- */

int spice_server_get_sock_info(SpiceServer *s, struct sockaddr *sa, socklen_t *salen) SPICE_GNUC_DEPRECATED;
int spice_server_get_peer_info(SpiceServer *s, struct sockaddr *sa, socklen_t *salen) SPICE_GNUC_DEPRECATED;

/* 1 while the server (not the guest agent) drives the mouse. */
int spice_server_is_server_mouse(SpiceServer *s);

void spice_server_set_name(SpiceServer *s, const char *name);
void spice_server_set_uuid(SpiceServer *s, const uint8_t uuid[16]);

/* Start / stop guest command processing on every device. */
void spice_server_vm_start(SpiceServer *s);
void spice_server_vm_stop(SpiceServer *s);

int spice_server_get_num_clients(SpiceServer *s) SPICE_GNUC_DEPRECATED;

SPICE_END_DECLS

#endif /* SPICE_SERVER_H_ */
