/* Mouse-mode policy: which modes the server offers and which one is
 * current. Client (absolute) mode needs somewhere to deliver absolute
 * positions: the guest agent (when agent mouse is enabled) or a tablet,
 * and a tablet only makes sense with at most one display. Main loop. */
#include "server/core/reds.h"

#include "server/core/log.h"
#include "server/main/main-channel.h"
#include "server/qxl/red-qxl.h"

static bool client_mouse_possible(RedsState *reds)
{
    if (reds->cfg.agent_mouse && reds->vdagent) {
        return true;
    }
    return reds->tablet && g_list_length(reds->qxl_instances) <= 1;
}

static void apply_mode(RedsState *reds, uint32_t mode)
{
    reds->mouse_mode = mode;
    for (GList *l = reds->qxl_instances; l; l = l->next) {
        red_qxl_set_mouse_mode(l->data, mode);
    }
}

/* Main loop: recomputes whether client mode is allowed (after an input
 * device, QXL instance or agent came or went, or a config change), falls
 * back to server mode when it no longer is, and tells the clients when
 * either changed. */
void reds_update_mouse_mode(RedsState *reds)
{
    bool allowed = client_mouse_possible(reds);
    bool changed = allowed != reds->client_mouse_allowed;

    reds->client_mouse_allowed = allowed;
    if (reds->mouse_mode != SPICE_MOUSE_MODE_SERVER && reds->mouse_mode != SPICE_MOUSE_MODE_CLIENT) {
        reds->mouse_mode = SPICE_MOUSE_MODE_SERVER;
    }
    if (!allowed && reds->mouse_mode == SPICE_MOUSE_MODE_CLIENT) {
        apply_mode(reds, SPICE_MOUSE_MODE_SERVER);
        changed = true;
    }
    if (changed) {
        main_channel_push_mouse_mode(reds);
    }
}

/* Main loop: switches to mode (SPICE_MOUSE_MODE_SERVER or _CLIENT) if it
 * is allowed and differs from the current one, and tells the clients.
 * A refused client-mode request leaves the mode unchanged. */
void reds_set_mouse_mode(RedsState *reds, uint32_t mode)
{
    if (mode != SPICE_MOUSE_MODE_SERVER && mode != SPICE_MOUSE_MODE_CLIENT) {
        red_info("unknown mouse mode %u ignored", mode);
        return;
    }
    if (mode == SPICE_MOUSE_MODE_CLIENT && !reds->client_mouse_allowed) {
        red_info("client mouse mode is not allowed now");
        return;
    }
    if (mode == reds->mouse_mode) {
        return;
    }
    apply_mode(reds, mode);
    main_channel_push_mouse_mode(reds);
}
