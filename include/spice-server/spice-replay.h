/* spice-replay.h: reading QXL command recordings back (offline testing
 * of the render path without a guest). */
#ifndef SPICE_REPLAY_H_
#define SPICE_REPLAY_H_

#if !defined(SPICE_H_INSIDE) && !defined(SPICE_SERVER_INTERNAL)
#error "Only spice.h can be included directly (the library itself builds with -DSPICE_SERVER_INTERNAL)."
#endif

#include <stdio.h>
#include "spice-core.h"
#include "spice-qxl.h"      /* QXLInstance */

SPICE_BEGIN_DECLS

typedef struct SpiceReplay SpiceReplay;

/* Returns the next recorded command, applying the recorded device calls
 * met on the way to instance; NULL at the end. Free it with
 * spice_replay_free_cmd(). */
QXLCommandExt*  spice_replay_next_cmd(SpiceReplay *replay, QXLInstance *instance);
void            spice_replay_free_cmd(SpiceReplay *replay, QXLCommandExt *cmd);
void            spice_replay_free(SpiceReplay *replay);
/* file stays owned by the caller. */
SpiceReplay *   spice_replay_new(FILE *file, int nsurfaces);

SPICE_END_DECLS

#endif /* SPICE_REPLAY_H_ */
