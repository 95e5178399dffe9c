/* Migration entry points. This server does not migrate clients: each call
 * returns upstream's failure value and logs once. QEMU's live migration of
 * the VM itself still works; connected clients are simply dropped when the
 * source stops. Main loop only. */
#include "spice.h"
#include "server/core/log.h"
#include "server/core/reds.h"

int spice_server_migrate_info(SpiceServer *s, const char *dest, int port, int secure_port,
                              const char *cert_subject)
{
    red_log_unimplemented("spice_server_migrate_info (client migration)");
    return -1;
}

int spice_server_migrate_switch(SpiceServer *s)
{
    red_log_unimplemented("spice_server_migrate_switch (client migration)");
    return -1;
}

int spice_server_migrate_connect(SpiceServer *s, const char *dest, int port, int secure_port,
                                 const char *cert_subject)
{
    red_log_unimplemented("spice_server_migrate_connect (client migration)");
    return -1;
}

int spice_server_migrate_start(SpiceServer *s)
{
    red_log_unimplemented("spice_server_migrate_start (client migration)");
    return -1;
}

int spice_server_migrate_end(SpiceServer *s, int completed)
{
    red_log_unimplemented("spice_server_migrate_end (client migration)");
    return -1;
}

void spice_server_set_seamless_migration(SpiceServer *s, int enable)
{
    s->cfg.seamless_migration = !!enable;
}
