/* The QXL instance seen from the main loop: creates and controls one render
 * worker thread per QXLInstance. The spice_qxl_* entry points themselves
 * (server/api/qxl.c) send their requests to the worker through the
 * dispatcher. Contract between server/api (reds side) and server/qxl.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "spice.h"
#include "server/core/reds.h"

/* Main loop, from spice_server_add_interface: validates the instance, asks
 * the device for its init info, starts the worker thread (which owns the
 * display and cursor channels for this instance and registers them with
 * reds), then calls attache_worker/attached_worker and
 * set_compression_level as QEMU expects. Returns false + err on failure. */
bool red_qxl_init(RedsState *reds, QXLInstance *qxl, GError **err);

/* Main loop, from spice_server_remove_interface / spice_server_destroy:
 * stops the worker, disconnects its clients, unregisters its channels,
 * joins the thread and frees instance->st. NULL-safe. */
void red_qxl_destroy(QXLInstance *qxl);

/* Main loop: VM run state (spice_server_vm_start/stop). stop returns after
 * the worker stopped reading the rings. */
void red_qxl_start(QXLInstance *qxl);
void red_qxl_stop(QXLInstance *qxl);

/* Main loop: the device's RAM size from get_init_info (MAIN_INIT ram_hint). */
uint32_t red_qxl_get_ram_size(QXLInstance *qxl);

/* Main loop: the image compression / streaming settings changed. */
void red_qxl_on_config_changed(QXLInstance *qxl);

/* Main loop: mouse mode changed (cursor channel stops forwarding guest
 * moves in client mode). */
void red_qxl_set_mouse_mode(QXLInstance *qxl, uint32_t mode);
