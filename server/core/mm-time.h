/* The server's multimedia clock, shared by the main channel (MAIN_INIT's
 * multi_media_time) and the display channel (video frame stamps).
 *
 * The client's mm clock starts from the MAIN_INIT value and runs on its own
 * monotonic clock, so it trails ours by RED_MM_TIME_CLIENT_DELTA_MS (plus
 * the transit time of MAIN_INIT). A frame stamped with
 * red_mm_time_now() - RED_MM_TIME_CLIENT_DELTA_MS is "now" for the client.
 */
#pragma once

#include <stdint.h>

/* How far behind ours the client's clock starts (upstream MM_TIME_DELTA). */
#define RED_MM_TIME_CLIENT_DELTA_MS 400u

/* The server mm clock in ms (monotonic, wraps at 2^32). Any thread. */
uint32_t red_mm_time_now(void);
