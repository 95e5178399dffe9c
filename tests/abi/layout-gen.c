/* layout-gen.c: prints the layout of every public struct and union and
 * the value of every public macro and enum constant of <spice.h>.
 *
 * Built twice, against our include/spice-server and against Debian's
 * /usr/include/spice-server; test-layout.sh diffs the two outputs, so any
 * difference in size, offset, alignment or value fails the test.
 */
#include <stddef.h>
#include <stdio.h>
#include <spice.h>

/* Deprecated members are part of the layout too. check-headers.sh
 * compiles this file with LAYOUT_WARN_DEPRECATED to collect which members
 * carry the deprecation attribute. */
#ifndef LAYOUT_WARN_DEPRECATED
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

#ifdef LAYOUT_DECLS
/* check-headers.sh mode: instead of printing, declare one function per
 * member returning a pointer to the member's type, so gcc -aux-info
 * spells out every member type (function pointer prototypes included). */
#define TYPE(T) ((void)0)
#define MEMBER(T, m) extern __typeof__(((T *)0)->m) *abi_member_##T##_##m(void)
#define INT(name) ((void)0)
#define STR(name) ((void)0)
#else
#define TYPE(T) \
    printf("%s size %zu align %zu\n", #T, sizeof(T), _Alignof(T))
#define MEMBER(T, m) \
    printf("  %s.%s offset %zu size %zu\n", #T, #m, offsetof(T, m), sizeof(((T *)0)->m))
#define INT(name) \
    printf("%s = %lld\n", #name, (long long)(name))
#define STR(name) \
    printf("%s = \"%s\"\n", #name, name)
#endif

static void print_core(void)
{
    TYPE(SpiceBaseInterface);
    MEMBER(SpiceBaseInterface, type);
    MEMBER(SpiceBaseInterface, description);
    MEMBER(SpiceBaseInterface, major_version);
    MEMBER(SpiceBaseInterface, minor_version);
    TYPE(SpiceBaseInstance);
    MEMBER(SpiceBaseInstance, sif);

    TYPE(SpiceChannelEventInfo);
    MEMBER(SpiceChannelEventInfo, connection_id);
    MEMBER(SpiceChannelEventInfo, type);
    MEMBER(SpiceChannelEventInfo, id);
    MEMBER(SpiceChannelEventInfo, flags);
    MEMBER(SpiceChannelEventInfo, laddr);
    MEMBER(SpiceChannelEventInfo, paddr);
    MEMBER(SpiceChannelEventInfo, llen);
    MEMBER(SpiceChannelEventInfo, plen);
    MEMBER(SpiceChannelEventInfo, laddr_ext);
    MEMBER(SpiceChannelEventInfo, paddr_ext);
    MEMBER(SpiceChannelEventInfo, llen_ext);
    MEMBER(SpiceChannelEventInfo, plen_ext);

    TYPE(SpiceCoreInterface);
    MEMBER(SpiceCoreInterface, base);
    MEMBER(SpiceCoreInterface, timer_add);
    MEMBER(SpiceCoreInterface, timer_start);
    MEMBER(SpiceCoreInterface, timer_cancel);
    MEMBER(SpiceCoreInterface, timer_remove);
    MEMBER(SpiceCoreInterface, watch_add);
    MEMBER(SpiceCoreInterface, watch_update_mask);
    MEMBER(SpiceCoreInterface, watch_remove);
    MEMBER(SpiceCoreInterface, channel_event);

    STR(SPICE_INTERFACE_CORE);
    INT(SPICE_INTERFACE_CORE_MAJOR);
    INT(SPICE_INTERFACE_CORE_MINOR);
    INT(SPICE_WATCH_EVENT_READ);
    INT(SPICE_WATCH_EVENT_WRITE);
    INT(SPICE_CHANNEL_EVENT_CONNECTED);
    INT(SPICE_CHANNEL_EVENT_INITIALIZED);
    INT(SPICE_CHANNEL_EVENT_DISCONNECTED);
    INT(SPICE_CHANNEL_EVENT_FLAG_TLS);
    INT(SPICE_CHANNEL_EVENT_FLAG_ADDR_EXT);
}

static void print_server(void)
{
    INT(SPICE_SERVER_VERSION);
    TYPE(spice_compat_version_t);
    INT(SPICE_COMPAT_VERSION_0_4);
    INT(SPICE_COMPAT_VERSION_0_6);
    INT(SPICE_COMPAT_VERSION_CURRENT);
    INT(SPICE_ADDR_FLAG_IPV4_ONLY);
    INT(SPICE_ADDR_FLAG_IPV6_ONLY);
    INT(SPICE_ADDR_FLAG_UNIX_ONLY);
    TYPE(spice_image_compression_t);
    INT(SPICE_IMAGE_COMPRESS_INVALID);
    INT(SPICE_IMAGE_COMPRESS_OFF);
    INT(SPICE_IMAGE_COMPRESS_AUTO_GLZ);
    INT(SPICE_IMAGE_COMPRESS_AUTO_LZ);
    INT(SPICE_IMAGE_COMPRESS_QUIC);
    INT(SPICE_IMAGE_COMPRESS_GLZ);
    INT(SPICE_IMAGE_COMPRESS_LZ);
    INT(SPICE_IMAGE_COMPRESS_LZ4);
    TYPE(spice_wan_compression_t);
    INT(SPICE_WAN_COMPRESSION_INVALID);
    INT(SPICE_WAN_COMPRESSION_AUTO);
    INT(SPICE_WAN_COMPRESSION_ALWAYS);
    INT(SPICE_WAN_COMPRESSION_NEVER);
    INT(SPICE_CHANNEL_SECURITY_NONE);
    INT(SPICE_CHANNEL_SECURITY_SSL);
    INT(SPICE_STREAM_VIDEO_INVALID);
    INT(SPICE_STREAM_VIDEO_OFF);
    INT(SPICE_STREAM_VIDEO_ALL);
    INT(SPICE_STREAM_VIDEO_FILTER);
    INT(SPICE_STREAMING_INVALID);
    INT(SPICE_STREAMING_SPICE);
    INT(SPICE_STREAMING_GSTREAMER);
}

static void print_qxl(void)
{
    INT(SPICE_CAPABILITIES_SIZE);
    STR(SPICE_INTERFACE_QXL);
    INT(SPICE_INTERFACE_QXL_MAJOR);
    INT(SPICE_INTERFACE_QXL_MINOR);

    TYPE(QXLDevInitInfo);
    MEMBER(QXLDevInitInfo, num_memslots_groups);
    MEMBER(QXLDevInitInfo, num_memslots);
    MEMBER(QXLDevInitInfo, memslot_gen_bits);
    MEMBER(QXLDevInitInfo, memslot_id_bits);
    MEMBER(QXLDevInitInfo, qxl_ram_size);
    MEMBER(QXLDevInitInfo, internal_groupslot_id);
    MEMBER(QXLDevInitInfo, n_surfaces);

    TYPE(QXLDevMemSlot);
    MEMBER(QXLDevMemSlot, slot_group_id);
    MEMBER(QXLDevMemSlot, slot_id);
    MEMBER(QXLDevMemSlot, generation);
    MEMBER(QXLDevMemSlot, virt_start);
    MEMBER(QXLDevMemSlot, virt_end);
    MEMBER(QXLDevMemSlot, addr_delta);
    MEMBER(QXLDevMemSlot, qxl_ram_size);

    TYPE(QXLDevSurfaceCreate);
    MEMBER(QXLDevSurfaceCreate, width);
    MEMBER(QXLDevSurfaceCreate, height);
    MEMBER(QXLDevSurfaceCreate, stride);
    MEMBER(QXLDevSurfaceCreate, format);
    MEMBER(QXLDevSurfaceCreate, position);
    MEMBER(QXLDevSurfaceCreate, mouse_mode);
    MEMBER(QXLDevSurfaceCreate, flags);
    MEMBER(QXLDevSurfaceCreate, type);
    MEMBER(QXLDevSurfaceCreate, mem);
    MEMBER(QXLDevSurfaceCreate, group_id);

    TYPE(QXLInterface);
    MEMBER(QXLInterface, base);
    MEMBER(QXLInterface, attached_worker);
    MEMBER(QXLInterface, attache_worker);
    MEMBER(QXLInterface, set_compression_level);
    MEMBER(QXLInterface, set_mm_time);
    MEMBER(QXLInterface, get_init_info);
    MEMBER(QXLInterface, get_command);
    MEMBER(QXLInterface, req_cmd_notification);
    MEMBER(QXLInterface, release_resource);
    MEMBER(QXLInterface, get_cursor_command);
    MEMBER(QXLInterface, req_cursor_notification);
    MEMBER(QXLInterface, notify_update);
    MEMBER(QXLInterface, flush_resources);
    MEMBER(QXLInterface, async_complete);
    MEMBER(QXLInterface, update_area_complete);
    MEMBER(QXLInterface, set_client_capabilities);
    MEMBER(QXLInterface, client_monitors_config);

    TYPE(QXLInstance);
    MEMBER(QXLInstance, base);
    MEMBER(QXLInstance, id);
    MEMBER(QXLInstance, st);
}

static void print_input(void)
{
    STR(SPICE_INTERFACE_KEYBOARD);
    INT(SPICE_INTERFACE_KEYBOARD_MAJOR);
    INT(SPICE_INTERFACE_KEYBOARD_MINOR);
    TYPE(SpiceKbdInterface);
    MEMBER(SpiceKbdInterface, base);
    MEMBER(SpiceKbdInterface, push_scan_freg);
    MEMBER(SpiceKbdInterface, get_leds);
    TYPE(SpiceKbdInstance);
    MEMBER(SpiceKbdInstance, base);
    MEMBER(SpiceKbdInstance, st);

    STR(SPICE_INTERFACE_MOUSE);
    INT(SPICE_INTERFACE_MOUSE_MAJOR);
    INT(SPICE_INTERFACE_MOUSE_MINOR);
    TYPE(SpiceMouseInterface);
    MEMBER(SpiceMouseInterface, base);
    MEMBER(SpiceMouseInterface, motion);
    MEMBER(SpiceMouseInterface, buttons);
    TYPE(SpiceMouseInstance);
    MEMBER(SpiceMouseInstance, base);
    MEMBER(SpiceMouseInstance, st);

    STR(SPICE_INTERFACE_TABLET);
    INT(SPICE_INTERFACE_TABLET_MAJOR);
    INT(SPICE_INTERFACE_TABLET_MINOR);
    TYPE(SpiceTabletInterface);
    MEMBER(SpiceTabletInterface, base);
    MEMBER(SpiceTabletInterface, set_logical_size);
    MEMBER(SpiceTabletInterface, position);
    MEMBER(SpiceTabletInterface, wheel);
    MEMBER(SpiceTabletInterface, buttons);
    TYPE(SpiceTabletInstance);
    MEMBER(SpiceTabletInstance, base);
    MEMBER(SpiceTabletInstance, st);
}

static void print_audio(void)
{
    INT(SPICE_INTERFACE_AUDIO_FMT_S16);
    STR(SPICE_INTERFACE_PLAYBACK);
    INT(SPICE_INTERFACE_PLAYBACK_MAJOR);
    INT(SPICE_INTERFACE_PLAYBACK_MINOR);
    INT(SPICE_INTERFACE_PLAYBACK_FREQ);
    INT(SPICE_INTERFACE_PLAYBACK_CHAN);
    INT(SPICE_INTERFACE_PLAYBACK_FMT);
    TYPE(SpicePlaybackInterface);
    MEMBER(SpicePlaybackInterface, base);
    TYPE(SpicePlaybackInstance);
    MEMBER(SpicePlaybackInstance, base);
    MEMBER(SpicePlaybackInstance, st);

    STR(SPICE_INTERFACE_RECORD);
    INT(SPICE_INTERFACE_RECORD_MAJOR);
    INT(SPICE_INTERFACE_RECORD_MINOR);
    INT(SPICE_INTERFACE_RECORD_FREQ);
    INT(SPICE_INTERFACE_RECORD_CHAN);
    INT(SPICE_INTERFACE_RECORD_FMT);
    TYPE(SpiceRecordInterface);
    MEMBER(SpiceRecordInterface, base);
    TYPE(SpiceRecordInstance);
    MEMBER(SpiceRecordInstance, base);
    MEMBER(SpiceRecordInstance, st);
}

static void print_char_migration(void)
{
    STR(SPICE_INTERFACE_CHAR_DEVICE);
    INT(SPICE_INTERFACE_CHAR_DEVICE_MAJOR);
    INT(SPICE_INTERFACE_CHAR_DEVICE_MINOR);
    TYPE(spice_char_device_flags);
    INT(SPICE_CHAR_DEVICE_NOTIFY_WRITABLE);
    TYPE(SpiceCharDeviceInterface);
    MEMBER(SpiceCharDeviceInterface, base);
    MEMBER(SpiceCharDeviceInterface, state);
    MEMBER(SpiceCharDeviceInterface, write);
    MEMBER(SpiceCharDeviceInterface, read);
    MEMBER(SpiceCharDeviceInterface, event);
    MEMBER(SpiceCharDeviceInterface, flags);
    TYPE(SpiceCharDeviceInstance);
    MEMBER(SpiceCharDeviceInstance, base);
    MEMBER(SpiceCharDeviceInstance, subtype);
    MEMBER(SpiceCharDeviceInstance, st);
    MEMBER(SpiceCharDeviceInstance, portname);

    STR(SPICE_INTERFACE_MIGRATION);
    INT(SPICE_INTERFACE_MIGRATION_MAJOR);
    INT(SPICE_INTERFACE_MIGRATION_MINOR);
    TYPE(SpiceMigrateInterface);
    MEMBER(SpiceMigrateInterface, base);
    MEMBER(SpiceMigrateInterface, migrate_connect_complete);
    MEMBER(SpiceMigrateInterface, migrate_end_complete);
    TYPE(SpiceMigrateInstance);
    MEMBER(SpiceMigrateInstance, base);
    MEMBER(SpiceMigrateInstance, st);
}

int main(void)
{
    print_core();
    print_server();
    print_qxl();
    print_input();
    print_audio();
    print_char_migration();
    return 0;
}
