/* Replays QXL parser fuzz inputs without libFuzzer (a normal test): each
 * file or directory entry on the command line goes through the same entry
 * point as the fuzzer. Files named "valid-*" must parse; any crash or
 * sanitizer report fails the test. */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include "tests/fuzz/fuzz-qxl-parse.h"

static int run_file(const char *path, unsigned *count)
{
    gchar *data;
    gsize len;
    GError *err = NULL;
    if (!g_file_get_contents(path, &data, &len, &err)) {
        fprintf(stderr, "%s\n", err->message);
        g_error_free(err);
        return 1;
    }
    bool ok = fuzz_qxl_parse_run((const uint8_t *)data, len);
    g_free(data);
    (*count)++;
    gchar *base = g_path_get_basename(path);
    bool must = g_str_has_prefix(base, "valid-");
    g_free(base);
    if (must && !ok) {
        fprintf(stderr, "%s: seed no longer parses\n", path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned count = 0;
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        if (!g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
            failed |= run_file(argv[i], &count);
            continue;
        }
        GDir *dir = g_dir_open(argv[i], 0, NULL);
        if (!dir) {
            fprintf(stderr, "cannot open %s\n", argv[i]);
            return 1;
        }
        const char *name;
        while ((name = g_dir_read_name(dir))) {
            gchar *path = g_build_filename(argv[i], name, NULL);
            failed |= run_file(path, &count);
            g_free(path);
        }
        g_dir_close(dir);
    }
    printf("replayed %u inputs\n", count);
    return failed || count == 0;
}
