/* spice-version.h: the API level these headers describe, 0xMMmmpp
 * (major, minor, micro). Embedders test it at compile time, e.g. QEMU
 * picks QXLInterface.attached_worker when it is >= 0x000f00. */
#ifndef SPICE_VERSION_H_
#define SPICE_VERSION_H_

#if !defined(SPICE_H_INSIDE) && !defined(SPICE_SERVER_INTERNAL)
#error "Only spice.h can be included directly (the library itself builds with -DSPICE_SERVER_INTERNAL)."
#endif

#define SPICE_SERVER_VERSION 0x000f01

#endif /* SPICE_VERSION_H_ */
