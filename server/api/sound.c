/* Playback and record entry points. No sound channel exists yet: audio from
 * the guest is accepted and dropped, recording returns silence (0 frames),
 * and each entry point logs once that it is not implemented. The values
 * returned are the ones upstream returns when no client is connected, so
 * QEMU's audio backend runs unchanged. Main loop (QEMU's audio timer).
 */
#include "server/api/instances.h"
#include "server/core/log.h"

/* Opus is available, so 48 kHz is the best rate, as upstream reports. */
#define BEST_RATE 48000

void spice_server_playback_start(SpicePlaybackInstance *sin)
{
    red_log_unimplemented("playback channel");
}

void spice_server_playback_stop(SpicePlaybackInstance *sin)
{
}

void spice_server_playback_get_buffer(SpicePlaybackInstance *sin, uint32_t **samples,
                                      uint32_t *nsamples)
{
    /* No client: no buffer, as upstream does without an active client. */
    *samples = NULL;
    *nsamples = 0;
}

void spice_server_playback_put_samples(SpicePlaybackInstance *sin, uint32_t *samples)
{
}

void spice_server_playback_set_volume(SpicePlaybackInstance *sin, uint8_t nchannels,
                                      uint16_t *volume)
{
}

void spice_server_playback_set_mute(SpicePlaybackInstance *sin, uint8_t mute)
{
}

void spice_server_record_start(SpiceRecordInstance *sin)
{
    red_log_unimplemented("record channel");
}

void spice_server_record_stop(SpiceRecordInstance *sin)
{
}

uint32_t spice_server_record_get_samples(SpiceRecordInstance *sin, uint32_t *samples,
                                         uint32_t bufsize)
{
    return 0;
}

void spice_server_record_set_volume(SpiceRecordInstance *sin, uint8_t nchannels,
                                    uint16_t *volume)
{
}

void spice_server_record_set_mute(SpiceRecordInstance *sin, uint8_t mute)
{
}

uint32_t spice_server_get_best_playback_rate(SpicePlaybackInstance *sin)
{
    /* QEMU calls this with a NULL instance. */
    return BEST_RATE;
}

void spice_server_set_playback_rate(SpicePlaybackInstance *sin, uint32_t frequency)
{
    if (sin && sin->st) {
        sin->st->frequency = frequency;
    }
}

uint32_t spice_server_get_best_record_rate(SpiceRecordInstance *sin)
{
    return BEST_RATE;
}

void spice_server_set_record_rate(SpiceRecordInstance *sin, uint32_t frequency)
{
    if (sin && sin->st) {
        sin->st->frequency = frequency;
    }
}
