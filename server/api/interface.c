/* spice_server_add_interface / remove_interface and the per-instance entry
 * points (kbd leds, char devices). Main loop only.
 */
#include <string.h>

#include "server/api/instances.h"
#include "server/channel/channel.h"
#include "server/chardev/agent.h"
#include "server/core/log.h"
#include "server/inputs/inputs-channel.h"
#include "server/main/main-channel.h"
#include "server/qxl/red-qxl.h"

/* A base instance's interface must match our major and not be newer than
 * our minor. */
static bool check_version(const SpiceBaseInterface *sif, uint32_t major, uint32_t minor)
{
    if (sif->major_version != major || sif->minor_version > minor) {
        red_config_error("interface '%s' version %u.%u not supported (need %u.<=%u)", sif->type,
                         sif->major_version, sif->minor_version, major, minor);
        return false;
    }
    return true;
}

/* The inputs channel exists while any of keyboard, mouse or tablet does. */
static void ensure_inputs_channel(RedsState *reds)
{
    if (!reds_find_channel(reds, SPICE_CHANNEL_INPUTS, 0)) {
        reds_register_channel(reds, inputs_channel_new(reds));
    }
}

static const char *const char_subtypes[] = {
    "vdagent",
    "smartcard",
    "usbredir",
    NULL,
};

const char **spice_server_char_device_recognized_subtypes(void)
{
    return (const char **)char_subtypes;
}

static int add_char_device(RedsState *reds, SpiceCharDeviceInstance *sin)
{
    const SpiceBaseInterface *sif = sin->base.sif;
    if (!check_version(sif, SPICE_INTERFACE_CHAR_DEVICE_MAJOR, SPICE_INTERFACE_CHAR_DEVICE_MINOR)) {
        return -1;
    }
    if (!sin->subtype) {
        red_config_error("char device without a subtype");
        return -1;
    }
    if (strcmp(sin->subtype, "vdagent") == 0) {
        if (reds->vdagent) {
            red_config_error("a vdagent char device is already attached");
            return -1;
        }
        sin->st = g_new0(SpiceCharDeviceState, 1);
        sin->st->reds = reds;
        reds->vdagent = sin;
        reds->char_devices = g_list_append(reds->char_devices, sin);
        main_channel_agent_state(reds, true);
        reds_update_mouse_mode(reds);
        return 0;
    }
    if (strcmp(sin->subtype, "smartcard") == 0 || strcmp(sin->subtype, "usbredir") == 0 ||
        strcmp(sin->subtype, "port") == 0) {
        /* Accepted so the embedder starts, but no channel serves it yet. */
        red_log_unimplemented(strcmp(sin->subtype, "port") == 0 ? "port char devices"
                              : strcmp(sin->subtype, "smartcard") == 0 ? "smartcard channel"
                                                                        : "usbredir channel");
        sin->st = g_new0(SpiceCharDeviceState, 1);
        sin->st->reds = reds;
        reds->char_devices = g_list_append(reds->char_devices, sin);
        return 0;
    }
    red_config_error("unknown char device subtype '%s'", sin->subtype);
    return -1;
}

int spice_server_add_interface(SpiceServer *reds, SpiceBaseInstance *sin)
{
    if (!reds || !sin || !sin->sif || !sin->sif->type) {
        red_config_error("spice_server_add_interface: NULL server, instance or interface");
        return -1;
    }
    const SpiceBaseInterface *sif = sin->sif;
    const char *type = sif->type;

    if (!reds->initialized && strcmp(type, SPICE_INTERFACE_MIGRATION) != 0) {
        red_config_error("interface '%s' added before spice_server_init", type);
        return -1;
    }

    if (strcmp(type, SPICE_INTERFACE_KEYBOARD) == 0) {
        if (!check_version(sif, SPICE_INTERFACE_KEYBOARD_MAJOR, SPICE_INTERFACE_KEYBOARD_MINOR)) {
            return -1;
        }
        if (reds->kbd) {
            red_config_error("a keyboard is already attached");
            return -1;
        }
        SpiceKbdInstance *kbd = API_INSTANCE(SpiceKbdInstance, sin);
        kbd->st = g_new0(SpiceKbdState, 1);
        kbd->st->reds = reds;
        reds->kbd = kbd;
        ensure_inputs_channel(reds);
    } else if (strcmp(type, SPICE_INTERFACE_MOUSE) == 0) {
        if (!check_version(sif, SPICE_INTERFACE_MOUSE_MAJOR, SPICE_INTERFACE_MOUSE_MINOR)) {
            return -1;
        }
        if (reds->mouse) {
            red_config_error("a mouse is already attached");
            return -1;
        }
        SpiceMouseInstance *mouse = API_INSTANCE(SpiceMouseInstance, sin);
        mouse->st = g_new0(SpiceMouseState, 1);
        mouse->st->reds = reds;
        reds->mouse = mouse;
        ensure_inputs_channel(reds);
    } else if (strcmp(type, SPICE_INTERFACE_TABLET) == 0) {
        if (!check_version(sif, SPICE_INTERFACE_TABLET_MAJOR, SPICE_INTERFACE_TABLET_MINOR)) {
            return -1;
        }
        if (reds->tablet) {
            red_config_error("a tablet is already attached");
            return -1;
        }
        SpiceTabletInstance *tablet = API_INSTANCE(SpiceTabletInstance, sin);
        tablet->st = g_new0(SpiceTabletState, 1);
        tablet->st->reds = reds;
        reds->tablet = tablet;
        ensure_inputs_channel(reds);
        reds_update_mouse_mode(reds);
    } else if (strcmp(type, SPICE_INTERFACE_QXL) == 0) {
        if (!check_version(sif, SPICE_INTERFACE_QXL_MAJOR, SPICE_INTERFACE_QXL_MINOR)) {
            return -1;
        }
        QXLInstance *qxl = API_INSTANCE(QXLInstance, sin);
        if (qxl->id < 0) {
            red_config_error("QXL instance with negative id %d", qxl->id);
            return -1;
        }
        for (GList *l = reds->qxl_instances; l; l = l->next) {
            if (((QXLInstance *)l->data)->id == qxl->id) {
                red_config_error("QXL instance id %d already attached", qxl->id);
                return -1;
            }
        }
        GError *err = NULL;
        if (!red_qxl_init(reds, qxl, &err)) {
            red_config_error("QXL instance %d: %s", qxl->id, err ? err->message : "failed");
            g_clear_error(&err);
            return -1;
        }
        reds->qxl_instances = g_list_append(reds->qxl_instances, qxl);
        if (reds->vm_running) {
            red_qxl_start(qxl);
        }
        reds_update_mouse_mode(reds);
    } else if (strcmp(type, SPICE_INTERFACE_PLAYBACK) == 0) {
        if (!check_version(sif, SPICE_INTERFACE_PLAYBACK_MAJOR, SPICE_INTERFACE_PLAYBACK_MINOR)) {
            return -1;
        }
        SpicePlaybackInstance *pb = API_INSTANCE(SpicePlaybackInstance, sin);
        pb->st = g_new0(SpicePlaybackState, 1);
        pb->st->reds = reds;
        reds->sound_instances = g_list_append(reds->sound_instances, sin);
        red_log_unimplemented("playback channel (audio output is accepted and dropped)");
    } else if (strcmp(type, SPICE_INTERFACE_RECORD) == 0) {
        if (!check_version(sif, SPICE_INTERFACE_RECORD_MAJOR, SPICE_INTERFACE_RECORD_MINOR)) {
            return -1;
        }
        SpiceRecordInstance *rec = API_INSTANCE(SpiceRecordInstance, sin);
        rec->st = g_new0(SpiceRecordState, 1);
        rec->st->reds = reds;
        reds->sound_instances = g_list_append(reds->sound_instances, sin);
        red_log_unimplemented("record channel (audio input stays silent)");
    } else if (strcmp(type, SPICE_INTERFACE_CHAR_DEVICE) == 0) {
        return add_char_device(reds, API_INSTANCE(SpiceCharDeviceInstance, sin));
    } else if (strcmp(type, SPICE_INTERFACE_MIGRATION) == 0) {
        if (!check_version(sif, SPICE_INTERFACE_MIGRATION_MAJOR, SPICE_INTERFACE_MIGRATION_MINOR)) {
            return -1;
        }
        SpiceMigrateInstance *mig = API_INSTANCE(SpiceMigrateInstance, sin);
        mig->st = g_new0(SpiceMigrateState, 1);
        mig->st->reds = reds;
        reds->migrate = mig;
    } else {
        red_config_error("unsupported interface type '%s'", type);
        return -1;
    }
    return 0;
}

static void drop_inputs_channel_if_unused(RedsState *reds)
{
    if (reds->kbd || reds->mouse || reds->tablet) {
        return;
    }
    RedChannel *ch = reds_find_channel(reds, SPICE_CHANNEL_INPUTS, 0);
    if (ch) {
        reds_unregister_channel(reds, ch);
        red_channel_disconnect_all(ch);
        if (ch->ops->destroy) {
            ch->ops->destroy(ch);
        }
    }
}

int spice_server_remove_interface(SpiceBaseInstance *sin)
{
    if (!sin || !sin->sif || !sin->sif->type) {
        red_config_error("spice_server_remove_interface: NULL instance");
        return -1;
    }
    const char *type = sin->sif->type;

    if (strcmp(type, SPICE_INTERFACE_KEYBOARD) == 0) {
        SpiceKbdInstance *kbd = API_INSTANCE(SpiceKbdInstance, sin);
        if (!kbd->st) {
            return -1;
        }
        RedsState *reds = kbd->st->reds;
        reds->kbd = NULL;
        g_clear_pointer(&kbd->st, g_free);
        drop_inputs_channel_if_unused(reds);
    } else if (strcmp(type, SPICE_INTERFACE_MOUSE) == 0) {
        SpiceMouseInstance *mouse = API_INSTANCE(SpiceMouseInstance, sin);
        if (!mouse->st) {
            return -1;
        }
        RedsState *reds = mouse->st->reds;
        reds->mouse = NULL;
        g_clear_pointer(&mouse->st, g_free);
        drop_inputs_channel_if_unused(reds);
    } else if (strcmp(type, SPICE_INTERFACE_TABLET) == 0) {
        SpiceTabletInstance *tablet = API_INSTANCE(SpiceTabletInstance, sin);
        if (!tablet->st) {
            return -1;
        }
        RedsState *reds = tablet->st->reds;
        reds->tablet = NULL;
        g_clear_pointer(&tablet->st, g_free);
        reds_update_mouse_mode(reds);
        drop_inputs_channel_if_unused(reds);
    } else if (strcmp(type, SPICE_INTERFACE_QXL) == 0) {
        QXLInstance *qxl = API_INSTANCE(QXLInstance, sin);
        RedsState *reds = api_instance_reds(sin);
        if (!reds) {
            return -1;
        }
        reds->qxl_instances = g_list_remove(reds->qxl_instances, qxl);
        red_qxl_destroy(qxl);
        reds_update_mouse_mode(reds);
    } else if (strcmp(type, SPICE_INTERFACE_PLAYBACK) == 0) {
        SpicePlaybackInstance *pb = API_INSTANCE(SpicePlaybackInstance, sin);
        if (!pb->st) {
            return -1;
        }
        pb->st->reds->sound_instances = g_list_remove(pb->st->reds->sound_instances, sin);
        g_clear_pointer(&pb->st, g_free);
    } else if (strcmp(type, SPICE_INTERFACE_RECORD) == 0) {
        SpiceRecordInstance *rec = API_INSTANCE(SpiceRecordInstance, sin);
        if (!rec->st) {
            return -1;
        }
        rec->st->reds->sound_instances = g_list_remove(rec->st->reds->sound_instances, sin);
        g_clear_pointer(&rec->st, g_free);
    } else if (strcmp(type, SPICE_INTERFACE_CHAR_DEVICE) == 0) {
        SpiceCharDeviceInstance *cd = API_INSTANCE(SpiceCharDeviceInstance, sin);
        if (!cd->st) {
            return -1;
        }
        RedsState *reds = cd->st->reds;
        if (reds->vdagent == cd) {
            reds->vdagent = NULL;
            main_channel_agent_state(reds, false);
            reds_update_mouse_mode(reds);
        }
        reds->char_devices = g_list_remove(reds->char_devices, cd);
        g_clear_pointer(&cd->st, g_free);
    } else if (strcmp(type, SPICE_INTERFACE_MIGRATION) == 0) {
        SpiceMigrateInstance *mig = API_INSTANCE(SpiceMigrateInstance, sin);
        if (mig->st) {
            mig->st->reds->migrate = NULL;
        }
        g_clear_pointer(&mig->st, g_free);
    } else {
        red_config_error("remove_interface: unsupported interface type '%s'", type);
        return -1;
    }
    return 0;
}

static GMutex servers_lock;
static GList *servers;   /* RedsState*, guarded by servers_lock */

void api_servers_add(RedsState *reds)
{
    g_mutex_lock(&servers_lock);
    servers = g_list_prepend(servers, reds);
    g_mutex_unlock(&servers_lock);
}

void api_servers_remove(RedsState *reds)
{
    g_mutex_lock(&servers_lock);
    servers = g_list_remove(servers, reds);
    g_mutex_unlock(&servers_lock);
}

void api_remove_all_interfaces(RedsState *reds)
{
    /* Each removal unlinks the instance from the list it is on. */
    while (reds->qxl_instances) {
        spice_server_remove_interface(reds->qxl_instances->data);
    }
    while (reds->char_devices) {
        SpiceCharDeviceInstance *cd = reds->char_devices->data;
        spice_server_remove_interface(&cd->base);
    }
    while (reds->sound_instances) {
        spice_server_remove_interface(reds->sound_instances->data);
    }
    if (reds->kbd) {
        spice_server_remove_interface(&reds->kbd->base);
    }
    if (reds->mouse) {
        spice_server_remove_interface(&reds->mouse->base);
    }
    if (reds->tablet) {
        spice_server_remove_interface(&reds->tablet->base);
    }
    if (reds->migrate) {
        spice_server_remove_interface(&reds->migrate->base);
    }
}

RedsState *api_instance_reds(SpiceBaseInstance *sin)
{
    RedsState *found = NULL;
    g_mutex_lock(&servers_lock);
    for (GList *l = servers; l && !found; l = l->next) {
        RedsState *reds = l->data;
        if (g_list_find(reds->qxl_instances, sin) || g_list_find(reds->char_devices, sin)) {
            found = reds;
        }
    }
    g_mutex_unlock(&servers_lock);
    return found;
}

int spice_server_kbd_leds(SpiceKbdInstance *sin, int leds)
{
    if (!sin || !sin->st) {
        return -1;
    }
    RedsState *reds = sin->st->reds;
    reds->kbd_leds = (uint8_t)leds;
    inputs_channel_push_leds(reds, (uint8_t)leds);
    return 0;
}

void spice_server_char_device_wakeup(SpiceCharDeviceInstance *sin)
{
    if (!sin || !sin->st) {
        return;
    }
    RedsState *reds = sin->st->reds;
    if (reds->vdagent == sin) {
        reds_agent_wakeup(reds, sin);
    }
}

void spice_server_port_event(SpiceCharDeviceInstance *sin, uint8_t event)
{
    red_log_unimplemented("spice_server_port_event");
}
