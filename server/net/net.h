/* Listening sockets, TLS context and accepted connections (main loop).
 * Implemented in server/net/; reds calls these. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "server/core/reds.h"

/* Creates the TLS context (if a tls port or add_ssl_client may be used) and
 * opens the listeners from reds->cfg (addr + flags incl. IPv4/IPv6-only and
 * unix sockets, port, tls_port, listen_fd). Accepted sockets run the link
 * handshake and end in reds_link_complete(). Returns false + err on failure. */
bool reds_net_init(RedsState *reds, GError **err);

/* Closes listeners and every connection still in the handshake; frees
 * reds->net. Safe to call when init failed or never ran. */
void reds_net_destroy(RedsState *reds);

/* Starts the handshake on an already connected socket handed over by the
 * embedder (fd becomes owned on success; on false it stays the caller's,
 * as upstream: QEMU closes it). tls: run a TLS handshake first. skip_auth:
 * accept without a ticket. Returns false if the fd cannot be used. */
bool reds_net_add_client(RedsState *reds, int fd, bool tls, bool skip_auth);
