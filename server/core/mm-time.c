/* The server multimedia clock (mm-time.h). */
#include "server/core/mm-time.h"

#include <glib.h>

uint32_t red_mm_time_now(void)
{
    return (uint32_t)(g_get_monotonic_time() / 1000);
}
