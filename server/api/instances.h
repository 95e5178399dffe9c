/* Server-private state hung off the embedder's interface instances (the
 * `st` member of each Spice*Instance). The public headers only declare
 * these types; they are defined once, here. Owned by the server: allocated
 * in spice_server_add_interface, freed in spice_server_remove_interface or
 * spice_server_destroy. Main loop only.
 */
#pragma once

#include "spice.h"
#include "server/core/reds.h"

struct SpiceKbdState {
    RedsState *reds;
};

struct SpiceMouseState {
    RedsState *reds;
};

struct SpiceTabletState {
    RedsState *reds;
};

struct SpicePlaybackState {
    RedsState *reds;
    uint32_t frequency;
};

struct SpiceRecordState {
    RedsState *reds;
    uint32_t frequency;
};

struct SpiceCharDeviceState {
    RedsState *reds;
};

struct SpiceMigrateState {
    RedsState *reds;
};

/* The typed instance around a SpiceBaseInstance. */
#define API_INSTANCE(type, sin) SPICE_CONTAINEROF(sin, type, base)

/* Server that an instance was added to, or NULL if it was never added. */
RedsState *api_instance_reds(SpiceBaseInstance *sin);

/* Removes every interface still added to reds (spice_server_destroy). */
void api_remove_all_interfaces(RedsState *reds);

/* Live servers, so entry points that only get an instance can find theirs. */
void api_servers_add(RedsState *reds);
void api_servers_remove(RedsState *reds);
