/* Link handshake (spice-reference.md section 1): the net layer reads the
 * SpiceLinkHeader and SpiceLinkMess, replies with SpiceLinkReply (a fresh
 * RSA-1024 key), runs auth selection and the RSA-OAEP ticket, then hands the
 * authenticated stream to reds with reds_link_complete(). Everything here
 * runs on the main loop.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "server/net/stream.h"

/* Bounds on the link message (upstream's: 4096 bytes, 1024 caps). */
#define RED_LINK_MAX_SIZE 4096
#define RED_LINK_MAX_CAPS 1024
/* A link that has not completed within this time is closed. */
#define RED_LINK_TIMEOUT_MS 30000

typedef struct RedLink {
    RedStream *stream;              /* owned until handed on */
    uint32_t connection_id;
    uint8_t channel_type;
    uint8_t channel_id;
    uint32_t num_common_caps;
    uint32_t *common_caps;          /* owned, num_common_caps words */
    uint32_t num_channel_caps;
    uint32_t *channel_caps;         /* owned, num_channel_caps words */
} RedLink;

/* Frees the link and its stream (if still owned). NULL is ok. */
void red_link_free(RedLink *link);

/* Sends the final u32 SpiceLinkErr result. Blocking writes are acceptable
 * only because it is 4 bytes on a fresh socket; returns false on error. */
bool red_link_send_result(RedLink *link, uint32_t error);

static inline bool red_link_has_common_cap(const RedLink *l, uint32_t cap)
{
    return cap / 32 < l->num_common_caps && (l->common_caps[cap / 32] >> (cap % 32)) & 1;
}

static inline bool red_link_has_channel_cap(const RedLink *l, uint32_t cap)
{
    return cap / 32 < l->num_channel_caps && (l->channel_caps[cap / 32] >> (cap % 32)) & 1;
}
