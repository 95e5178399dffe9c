#include "common/wire/msg-table.h"

WireParseResult wire_parse_table(const WireMsgDesc *table, size_t n, uint16_t type,
                                 const uint8_t *body, uint32_t size, void *out)
{
    WireParseResult res = { false, "unknown", "unknown message type" };

    for (size_t i = 0; i < n; i++) {
        const WireMsgDesc *d = &table[i];
        if (d->type != type) {
            continue;
        }
        res.name = d->name;
        if (size < d->min_size) {
            res.error = "message too short";
            return res;
        }
        if (size > d->max_size) {
            res.error = "message too long";
            return res;
        }
        if (size > 0 && body == NULL) {
            res.error = "missing body";
            return res;
        }
        WireReader r;
        wire_reader_init(&r, body, size);
        if (d->parse && !d->parse(&r, out)) {
            res.error = "malformed body";
            return res;
        }
        res.ok = true;
        res.error = NULL;
        return res;
    }
    return res;
}
