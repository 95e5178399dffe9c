/* libFuzzer target over the main and inputs client-message tables
 * (common/wire/client-msgs.h).
 *
 * Input: byte 0 selects the channel (even: main, odd: inputs), bytes 1-2
 * are the message type (LE), the rest is the body. A parse must never
 * read outside the body, and what it returns must be consistent with the
 * table (borrowed pointers inside the body, sizes within bounds).
 *
 * replay-main.c replays the corpus with it as a normal test (files named
 * "valid-*" must parse). */
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

bool fuzz_replay_accepts(const uint8_t *data, size_t size);

bool fuzz_replay_accepts(const uint8_t *data, size_t size)
{
    return run_one(data, size);
}
