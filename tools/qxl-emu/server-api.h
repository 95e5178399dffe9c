/* The public libspice-server ABI reached through dlopen()/dlsym().
 *
 * The bench and the QXL emulator never link libspice-server: they resolve
 * every entry point they use from a library path chosen at run time, so the
 * same binary drives Debian's upstream library or ours.  Prototypes come from
 * the public headers through __typeof__, so a layout or signature change in
 * the headers is a compile error here, not a silent ABI mismatch.
 */
#pragma once

#include <stdbool.h>
#include <glib.h>
#include <spice.h>

/* Every symbol the emulator may call.  X(name) expands once per symbol. */
#define SPICE_SERVER_API_SYMBOLS(X)          \
    X(spice_server_new)                      \
    X(spice_server_init)                     \
    X(spice_server_destroy)                  \
    X(spice_server_add_interface)            \
    X(spice_server_remove_interface)         \
    X(spice_server_vm_start)                 \
    X(spice_server_vm_stop)                  \
    X(spice_qxl_wakeup)                      \
    X(spice_qxl_oom)                         \
    X(spice_qxl_update_area)                 \
    X(spice_qxl_update_area_async)           \
    X(spice_qxl_add_memslot)                 \
    X(spice_qxl_add_memslot_async)           \
    X(spice_qxl_del_memslot)                 \
    X(spice_qxl_reset_memslots)              \
    X(spice_qxl_destroy_surfaces)            \
    X(spice_qxl_destroy_surfaces_async)      \
    X(spice_qxl_destroy_primary_surface)     \
    X(spice_qxl_destroy_primary_surface_async) \
    X(spice_qxl_create_primary_surface)      \
    X(spice_qxl_create_primary_surface_async) \
    X(spice_qxl_destroy_surface_wait)        \
    X(spice_qxl_destroy_surface_async)       \
    X(spice_qxl_flush_surfaces_async)        \
    X(spice_qxl_reset_image_cache)           \
    X(spice_qxl_reset_cursor)                \
    X(spice_qxl_monitors_config_async)

typedef struct SpiceServerApi {
    void *handle;          /* dlopen() handle, owned */
    char *path;            /* owned */
#define SPICE_SERVER_API_FIELD(name) __typeof__(name) *name;
    SPICE_SERVER_API_SYMBOLS(SPICE_SERVER_API_FIELD)
#undef SPICE_SERVER_API_FIELD
} SpiceServerApi;

/* Opens the library at `path` and resolves every symbol of
 * SPICE_SERVER_API_SYMBOLS.  On failure nothing stays loaded and `error`
 * names the library and every missing entry point.  Any thread; call once
 * per process (two libraries with one SONAME do not mix in one process). */
bool spice_server_api_load(SpiceServerApi *api, const char *path, GError **error);

/* Forgets the symbols and dlclose()s the library.  Accepts a zeroed api. */
void spice_server_api_unload(SpiceServerApi *api);

/* Error domain for qxl-emu and bench failures. */
#define QXL_EMU_ERROR (qxl_emu_error_quark())
GQuark qxl_emu_error_quark(void);
