/* Test fixture: a libspice-server stand-in that never does its job, so the
 * bench's timeout paths are exercised.  It exports the entry points the
 * bench resolves and:
 *   - never takes commands off the rings (a wedged worker): the guest's
 *     bounded ring wait must fail with a clear message (only the
 *     monitors-config IO of device setup completes);
 *   - with HANG_SERVER_BLOCK=1, blocks forever in
 *     spice_qxl_create_primary_surface (a sync call into a dead worker):
 *     the bench's watchdog must end the process with exit status 3.
 * Not a server: nothing here pretends to render or release anything.
 */
#include <stdlib.h>
#include <unistd.h>
#include <spice.h>

struct RedsState {
    int unused;
};

static SpiceServer dummy;

SpiceServer *spice_server_new(void) { return &dummy; }
int spice_server_init(SpiceServer *s, SpiceCoreInterface *core) { return 0; }
void spice_server_destroy(SpiceServer *s) { }
int spice_server_add_interface(SpiceServer *s, SpiceBaseInstance *sin) { return 0; }
int spice_server_remove_interface(SpiceBaseInstance *sin) { return 0; }
void spice_server_vm_start(SpiceServer *s) { }
void spice_server_vm_stop(SpiceServer *s) { }
void spice_qxl_wakeup(QXLInstance *q) { }
void spice_qxl_oom(QXLInstance *q) { }
void spice_qxl_update_area(QXLInstance *q, uint32_t id, QXLRect *a, QXLRect *d,
                           uint32_t n, uint32_t c) { }
void spice_qxl_update_area_async(QXLInstance *q, uint32_t id, QXLRect *a, uint32_t c,
                                 uint64_t cookie) { }
void spice_qxl_add_memslot(QXLInstance *q, QXLDevMemSlot *s) { }
void spice_qxl_add_memslot_async(QXLInstance *q, QXLDevMemSlot *s, uint64_t cookie) { }
void spice_qxl_del_memslot(QXLInstance *q, uint32_t g, uint32_t s) { }
void spice_qxl_reset_memslots(QXLInstance *q) { }
void spice_qxl_destroy_surfaces(QXLInstance *q) { }
void spice_qxl_destroy_surfaces_async(QXLInstance *q, uint64_t cookie) { }
void spice_qxl_destroy_primary_surface(QXLInstance *q, uint32_t id) { }
void spice_qxl_destroy_primary_surface_async(QXLInstance *q, uint32_t id, uint64_t cookie) { }

void spice_qxl_create_primary_surface(QXLInstance *q, uint32_t id, QXLDevSurfaceCreate *s)
{
    if (getenv("HANG_SERVER_BLOCK")) {
        for (;;) {
            pause();
        }
    }
}

void spice_qxl_create_primary_surface_async(QXLInstance *q, uint32_t id,
                                            QXLDevSurfaceCreate *s, uint64_t cookie) { }
void spice_qxl_destroy_surface_wait(QXLInstance *q, uint32_t id) { }
void spice_qxl_destroy_surface_async(QXLInstance *q, uint32_t id, uint64_t cookie) { }
void spice_qxl_flush_surfaces_async(QXLInstance *q, uint64_t cookie) { }
void spice_qxl_reset_image_cache(QXLInstance *q) { }
void spice_qxl_reset_cursor(QXLInstance *q) { }
/* Completes at once, so device setup succeeds and the run reaches the
 * wedged command ring. */
void spice_qxl_monitors_config_async(QXLInstance *q, QXLPHYSICAL m, int g, uint64_t cookie)
{
    const QXLInterface *qif = (const QXLInterface *)q->base.sif;

    qif->async_complete(q, cookie);
}
