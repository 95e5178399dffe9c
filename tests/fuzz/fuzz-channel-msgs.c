/* libFuzzer target over the main and inputs client-message tables
 * (common/wire/client-msgs.h).
 *
 * Input: byte 0 selects the channel (even: main, odd: inputs), bytes 1-2
 * are the message type (LE), the rest is the body. A parse must never
 * read outside the body, and what it returns must be consistent with the
 * table (borrowed pointers inside the body, sizes within bounds).
 *
 * Built with -DFUZZ_CHANNEL_MSGS_REPLAY it has a main() that replays files
 * and directories instead (the corpus test): files named "valid-*" must
 * parse. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "common/wire/client-msgs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool run_one(const uint8_t *data, size_t size)
{
    if (size < 3) {
        return false;
    }
    uint16_t type = (uint16_t)(data[1] | data[2] << 8);
    size_t body_len = size - 3;
    /* a private copy so ASan sees reads past the body */
    uint8_t *body = body_len ? g_memdup2(data + 3, body_len) : NULL;
    bool ok;

    if (data[0] % 2 == 0) {
        WireMainMsg m;
        WireParseResult r = wire_parse_main_msg(type, body, (uint32_t)body_len, &m);
        ok = r.ok;
        g_assert(r.name != NULL);
        g_assert(r.ok == (r.error == NULL));
        if (ok && type == SPICE_MSGC_MAIN_AGENT_DATA) {
            g_assert(m.u.agent_data.size == body_len);
            g_assert(m.u.agent_data.size <= WIRE_AGENT_DATA_MAX);
            g_assert(body_len == 0 || m.u.agent_data.data == body);
        }
    } else {
        WireInputsMsg m;
        WireParseResult r = wire_parse_inputs_msg(type, body, (uint32_t)body_len, &m);
        ok = r.ok;
        g_assert(r.name != NULL);
        g_assert(r.ok == (r.error == NULL));
        if (ok && type == SPICE_MSGC_INPUTS_KEY_SCANCODE) {
            g_assert(m.u.scancode.size == body_len);
            g_assert(m.u.scancode.size <= WIRE_SCANCODE_MAX);
            /* touch every byte the channel would push */
            unsigned sum = 0;
            for (uint32_t i = 0; i < m.u.scancode.size; i++) {
                sum += m.u.scancode.data[i];
            }
            (void)sum;
        }
    }
    g_free(body);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run_one(data, size);
    return 0;
}

#ifdef FUZZ_CHANNEL_MSGS_REPLAY
static int replay_file(const char *path, unsigned *count)
{
    gchar *data;
    gsize len;
    if (!g_file_get_contents(path, &data, &len, NULL)) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    bool ok = run_one((const uint8_t *)data, len);
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
    printf("replayed %u inputs\n", count);
    return failed || count == 0;
}
#endif
