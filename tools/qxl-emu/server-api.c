/* Resolves the public libspice-server ABI at run time; see server-api.h. */
#include <dlfcn.h>
#include <string.h>

#include "tools/qxl-emu/server-api.h"

G_DEFINE_QUARK(qxl-emu-error-quark, qxl_emu_error)

bool spice_server_api_load(SpiceServerApi *api, const char *path, GError **error)
{
    memset(api, 0, sizeof(*api));
    /* RTLD_LOCAL: the server's own dependencies must not leak into the
     * global namespace where a later dlopen() could pick them up. */
    api->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!api->handle) {
        g_set_error(error, QXL_EMU_ERROR, 1, "cannot load %s: %s", path, dlerror());
        return false;
    }
    api->path = g_strdup(path);

    GString *missing = g_string_new(NULL);
#define SPICE_SERVER_API_RESOLVE(name)                                   \
    api->name = (__typeof__(name) *)dlsym(api->handle, #name);          \
    if (!api->name) {                                                    \
        g_string_append_printf(missing, "%s%s", missing->len ? ", " : "", #name); \
    }
    SPICE_SERVER_API_SYMBOLS(SPICE_SERVER_API_RESOLVE)
#undef SPICE_SERVER_API_RESOLVE

    if (missing->len) {
        g_set_error(error, QXL_EMU_ERROR, 2, "%s lacks entry points: %s", path, missing->str);
        g_string_free(missing, TRUE);
        spice_server_api_unload(api);
        return false;
    }
    g_string_free(missing, TRUE);
    return true;
}

void spice_server_api_unload(SpiceServerApi *api)
{
    if (api->handle) {
        dlclose(api->handle);
    }
    g_free(api->path);
    memset(api, 0, sizeof(*api));
}
