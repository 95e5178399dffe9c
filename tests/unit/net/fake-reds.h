/* Stand-ins for the reds_* functions the net layer calls, so the link
 * handshake can be tested (and fuzzed) without channels and sessions.
 * They follow reds.c's semantics for security and tickets; a completed
 * link is recorded, answered OK and freed. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "server/core/reds.h"
#include "server/net/link.h"

typedef struct FakeLinkRecord {
    int completed;              /* links handed to reds_link_complete */
    uint8_t channel_type, channel_id;
    uint32_t connection_id;
    uint32_t num_common_caps, num_channel_caps;
    uint32_t first_channel_cap;
    bool tls;
} FakeLinkRecord;

extern FakeLinkRecord fake_last_link;

/* A RedsState with config defaults and a glib loop over ctx. */
RedsState *fake_reds_new(GMainContext *ctx);
void fake_reds_free(RedsState *reds);
