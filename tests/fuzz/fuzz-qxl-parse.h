/* Shared by the QXL parser fuzz target, its corpus replay test and its
 * corpus generator. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Runs every parser over one fuzz input (see fuzz-qxl-parse.c); returns
 * whether the command named in the header parsed. */
bool fuzz_qxl_parse_run(const uint8_t *data, size_t size);
