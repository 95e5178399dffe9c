/* Corpus replay for every fuzz target, without libFuzzer: a normal test
 * that feeds each file named on the command line (or found in a directory
 * named there) to the target's LLVMFuzzerTestOneInput. Options starting with
 * '-' are ignored, so libFuzzer-style command lines work too.
 *
 * Optional hooks a target may define:
 *   fuzz_replay_accepts(data, size): whether the input parses; files named
 *     "valid-*" must be accepted (seeds that stop parsing fail the test).
 *   fuzz_replay_finish(): frees the target's global state at the end, so
 *     LeakSanitizer sees only real leaks.
 * A crash or sanitizer report fails the test, as does an empty corpus.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
bool fuzz_replay_accepts(const uint8_t *data, size_t size) __attribute__((weak));
void fuzz_replay_finish(void) __attribute__((weak));

static int replay_file(const char *path, unsigned *count)
{
    gchar *data;
    gsize len;
    if (!g_file_get_contents(path, &data, &len, NULL)) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    (*count)++;
    gchar *base = g_path_get_basename(path);
    bool must_parse = g_str_has_prefix(base, "valid-");
    g_free(base);
    int failed = 0;
    if (fuzz_replay_accepts) {
        if (!fuzz_replay_accepts((const uint8_t *)data, len) && must_parse) {
            fprintf(stderr, "%s: seed no longer parses\n", path);
            failed = 1;
        }
    } else {
        LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    }
    g_free(data);
    return failed;
}

int main(int argc, char **argv)
{
    unsigned count = 0;
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            continue;
        }
        if (!g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
            failed |= replay_file(argv[i], &count);
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
            failed |= replay_file(path, &count);
            g_free(path);
        }
        g_dir_close(dir);
    }
    if (fuzz_replay_finish) {
        fuzz_replay_finish();
    }
    printf("replayed %u inputs\n", count);
    return failed || count == 0;
}
