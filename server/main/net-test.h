/* The main channel's link measurement ("net test"), as a state machine
 * without sockets or clocks: the caller feeds it when each PING reached the
 * socket and each PONG that came back, with times from its own clock.
 *
 * Right after MAIN_INIT on a TCP connection (not a unix socket) the server
 * queues three PINGs: a warm-up and a latency probe without padding, then
 * one with NET_TEST_RATE_BYTES of padding. spice-gtk answers each with a
 * PONG echoing id and timestamp. The round trip of the latency probe
 * (the smaller of the first two) is the latency; the extra time the padded
 * PING took is the time to carry its padding:
 *
 *     bitrate = NET_TEST_RATE_BYTES * 8 / (rtt(rate) - latency)
 *
 * Round trips are measured from our own record of when each PING was
 * marshalled for the socket; the echoed timestamp must match that record,
 * so a PONG for a PING not yet sent, a PONG out of order or with a made-up
 * timestamp is refused (and the test goes on waiting for the right one).
 * A client that never answers leaves the test unfinished: nothing waits
 * for it and nothing is held but the state below.
 *
 * Threading: owned by one main channel client, main loop only. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Padding of the rate PING (upstream's NET_TEST_BYTES, 250 KiB). */
#define NET_TEST_RATE_BYTES 256000u
/* PINGs in a test: warm-up, latency, rate. */
#define NET_TEST_PINGS 3

typedef enum NetTestStage {
    NET_TEST_OFF,       /* not started (unix socket) */
    NET_TEST_WARMUP,    /* waiting for PONG 0 */
    NET_TEST_LATENCY,   /* waiting for PONG 1 */
    NET_TEST_RATE,      /* waiting for PONG 2 */
    NET_TEST_DONE,      /* bitrate measured */
    NET_TEST_UNUSABLE,  /* the rate PONG came back no later than the
                           latency: no figure (client or server stalled) */
} NetTestStage;

typedef struct NetTest {
    NetTestStage stage;
    uint32_t ids[NET_TEST_PINGS];       /* PING ids, in sending order */
    int64_t sent_us[NET_TEST_PINGS];    /* when each was marshalled, 0 = not yet */
    int64_t latency_us;                 /* min round trip of PINGs 0 and 1 */
    uint64_t bitrate;                   /* bits/s once DONE, else 0 */
} NetTest;

typedef enum NetTestPong {
    NET_TEST_PONG_NOT_OURS,   /* id is none of this test's PINGs (or the
                                 test is not running): someone else's */
    NET_TEST_PONG_REFUSED,    /* one of ours, but early, out of order or a
                                 wrong timestamp: ignored (client bug) */
    NET_TEST_PONG_NEXT,       /* accepted; the test waits for the next */
    NET_TEST_PONG_FINISHED,   /* accepted; stage is now DONE or UNUSABLE */
} NetTestPong;

/* Pure: bits per second for payload_bytes carried in rate_rtt_us - latency_us
 * microseconds; 0 when rate_rtt_us <= latency_us (no usable figure). At
 * least 1 otherwise. Any thread. */
uint64_t net_test_bitrate(uint32_t payload_bytes, int64_t latency_us, int64_t rate_rtt_us);

/* Starts a test whose PINGs carry ids first_id, first_id + 1, ...
 * (skipping 0, which means "none"); returns the id after the last. The
 * caller queues the PINGs with net_test_ping_id / net_test_ping_padding. */
uint32_t net_test_start(NetTest *t, uint32_t first_id);
/* Id and padding bytes of PING i (0 <= i < NET_TEST_PINGS) of a started test. */
uint32_t net_test_ping_id(const NetTest *t, unsigned i);
uint32_t net_test_ping_padding(unsigned i);
/* PING `id` was marshalled at now_us (the timestamp it carries); ids that
 * are not this test's are ignored. */
void net_test_on_sent(NetTest *t, uint32_t id, int64_t now_us);
/* A PONG {id, timestamp} arrived at now_us. */
NetTestPong net_test_on_pong(NetTest *t, uint32_t id, uint64_t timestamp, int64_t now_us);
