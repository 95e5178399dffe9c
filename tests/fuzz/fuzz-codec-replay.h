/* Shared by the fuzz-codec-* targets: with FUZZ_CODEC_REPLAY defined, a
 * main() that feeds every file of the directories given on the command line
 * to LLVMFuzzerTestOneInput (the corpus replay test); options starting with
 * '-' are ignored so libFuzzer-style invocations also work. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef FUZZ_CODEC_REPLAY
int main(int argc, char **argv)
{
    unsigned files = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            continue;
        }
        GDir *dir = g_dir_open(argv[i], 0, NULL);
        if (!dir) {
            fprintf(stderr, "cannot open %s\n", argv[i]);
            return 1;
        }
        const char *name;
        while ((name = g_dir_read_name(dir))) {
            char *path = g_build_filename(argv[i], name, NULL);
            gchar *data;
            gsize len;
            if (g_file_get_contents(path, &data, &len, NULL)) {
                LLVMFuzzerTestOneInput((const uint8_t *)data, len);
                g_free(data);
                files++;
            }
            g_free(path);
        }
        g_dir_close(dir);
    }
    printf("replayed %u inputs\n", files);
    return files ? 0 : 1;
}
#endif
