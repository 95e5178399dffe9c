/* QXL command replay (spice_replay_*): reads upstream's record files. Not
 * implemented: spice_replay_new fails with NULL (its documented failure
 * value) and logs once; the other calls accept the NULL it returned. */
#include "spice.h"
#include "server/core/log.h"

SpiceReplay *spice_replay_new(FILE *file, int nsurfaces)
{
    red_log_unimplemented("spice_replay_new");
    return NULL;
}

QXLCommandExt *spice_replay_next_cmd(SpiceReplay *replay, QXLInstance *instance)
{
    red_log_unimplemented("spice_replay_next_cmd");
    return NULL;
}

void spice_replay_free_cmd(SpiceReplay *replay, QXLCommandExt *cmd)
{
}

void spice_replay_free(SpiceReplay *replay)
{
}
