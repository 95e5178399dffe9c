/* Channel capabilities for the link reply. The net layer builds the common
 * caps itself (AUTH_SELECTION, AUTH_SPICE, MINI_HEADER); the channel caps
 * belong to the channel, so reds provides them through this function.
 * Declared by server/net, implemented by server/core (reds.c).
 */
#pragma once

#include <stdint.h>

#include "server/core/reds.h"

/* Writes the channel capability words the server advertises for channel
 * (as returned by reds_find_channel, never NULL) into words[0..max_words)
 * and returns how many words were written (0 = no channel caps; never more
 * than max_words). Main loop only. */
uint32_t reds_channel_caps(RedsState *reds, RedChannel *channel,
                           uint32_t *words, uint32_t max_words);
