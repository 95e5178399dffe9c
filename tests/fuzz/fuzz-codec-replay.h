/* Shared by the fuzz-codec-* targets: the entry point replay-main.c (the
 * corpus replay test) and libFuzzer call. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
