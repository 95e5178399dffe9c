/* spice.h: the one header embedders include.
 *
 * Part of the render-worker implementation of libspice-server.so.1. The
 * declarations in this folder are source- and layout-compatible with
 * spice-server 0.15.1 (checked by tests/abi); the wording is our own.
 *
 * The sub-headers refuse to be included on their own unless
 * SPICE_SERVER_INTERNAL is defined (the library's own build does that,
 * which also turns the deprecation attributes off).
 */
#ifndef SPICE_H_
#define SPICE_H_

#define SPICE_H_INSIDE

#include "spice-version.h"
#include "spice-core.h"
#include "spice-server.h"
#include "spice-qxl.h"
#include "spice-input.h"
#include "spice-audio.h"
#include "spice-char.h"
#include "spice-migration.h"
#include "spice-replay.h"

#undef SPICE_H_INSIDE

#endif /* SPICE_H_ */
