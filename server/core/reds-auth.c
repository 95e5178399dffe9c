/* Who may link: channel security and ticket checks. Depend on RedsConfig
 * only, so the net unit tests link the real ones beside their fake reds.
 * Main loop only.
 */
#include <string.h>
#include <time.h>

#include "server/core/log.h"
#include "server/core/reds.h"

int reds_channel_security(RedsState *reds, uint8_t type)
{
    if (type < REDS_NUM_CHANNEL_TYPES && reds->cfg.channel_security[type]) {
        return reds->cfg.channel_security[type];
    }
    return reds->cfg.default_security;
}

uint32_t reds_check_ticket(RedsState *reds, const char *password)
{
    const RedsConfig *cfg = &reds->cfg;

    if (cfg->noauth) {
        return SPICE_LINK_ERR_OK;
    }
    /* Ticketing with no password set refuses everyone, as upstream does. */
    if (!cfg->ticket_set || cfg->ticket[0] == '\0') {
        red_info("link refused: ticketing enabled but no password set");
        return SPICE_LINK_ERR_PERMISSION_DENIED;
    }
    if (cfg->ticket_expiry && time(NULL) > cfg->ticket_expiry) {
        red_info("link refused: ticket expired");
        return SPICE_LINK_ERR_PERMISSION_DENIED;
    }
    if (strcmp(password, cfg->ticket) != 0) {
        red_info("link refused: wrong password");
        return SPICE_LINK_ERR_PERMISSION_DENIED;
    }
    return SPICE_LINK_ERR_OK;
}
