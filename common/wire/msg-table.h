/* Table-driven parsing of client messages: each channel describes its
 * messages as {type, size bounds, field parser, name} and parses through
 * wire_parse_table(), so size checks and error reporting are the same on
 * every channel. Pure functions, any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire/reader.h"

/* Result of a parse; `error` is a static string naming what was wrong
 * (NULL on success). */
typedef struct WireParseResult {
    bool ok;
    const char *name;                /* message name, or "unknown" */
    const char *error;
} WireParseResult;

/* Reads a body's fields into out; false if they do not make sense. */
typedef bool (*WireParseFunc)(WireReader *r, void *out);

typedef struct WireMsgDesc {
    uint16_t type;
    uint32_t min_size;
    uint32_t max_size;
    WireParseFunc parse;             /* NULL: no fields (accepted as is) */
    const char *name;
} WireMsgDesc;

/* Finds type in table, checks the body size against its bounds and runs
 * its parser into out. Unknown types, sizes out of bounds and malformed
 * bodies give ok = false with a name and an error. */
WireParseResult wire_parse_table(const WireMsgDesc *table, size_t n, uint16_t type,
                                 const uint8_t *body, uint32_t size, void *out);
