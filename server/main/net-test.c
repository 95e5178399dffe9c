/* The main channel's link measurement: see net-test.h. Main loop only
 * (net_test_bitrate: any thread). */
#include "server/main/net-test.h"

#include <string.h>
#include <glib.h>

uint64_t net_test_bitrate(uint32_t payload_bytes, int64_t latency_us, int64_t rate_rtt_us)
{
    if (latency_us < 0 || rate_rtt_us <= latency_us) {
        return 0;
    }
    uint64_t carry_us = (uint64_t)(rate_rtt_us - latency_us);
    /* payload_bytes * 8e6 stays below 2^55: no overflow */
    uint64_t bps = (uint64_t)payload_bytes * 8 * G_USEC_PER_SEC / carry_us;
    return bps ? bps : 1;
}

uint32_t net_test_start(NetTest *t, uint32_t first_id)
{
    memset(t, 0, sizeof(*t));
    uint32_t id = first_id;
    for (unsigned i = 0; i < NET_TEST_PINGS; i++) {
        if (id == 0) {
            id++;
        }
        t->ids[i] = id++;
    }
    t->stage = NET_TEST_WARMUP;
    return id;
}

uint32_t net_test_ping_id(const NetTest *t, unsigned i)
{
    g_assert(i < NET_TEST_PINGS);
    return t->ids[i];
}

uint32_t net_test_ping_padding(unsigned i)
{
    g_assert(i < NET_TEST_PINGS);
    return i == NET_TEST_PINGS - 1 ? NET_TEST_RATE_BYTES : 0;
}

static int ping_index(const NetTest *t, uint32_t id)
{
    if (t->stage == NET_TEST_OFF || id == 0) {
        return -1;
    }
    for (unsigned i = 0; i < NET_TEST_PINGS; i++) {
        if (t->ids[i] == id) {
            return (int)i;
        }
    }
    return -1;
}

void net_test_on_sent(NetTest *t, uint32_t id, int64_t now_us)
{
    int i = ping_index(t, id);
    if (i >= 0) {
        /* 0 means "not sent": a clock reading 0 still counts as sent */
        t->sent_us[i] = now_us > 0 ? now_us : 1;
    }
}

NetTestPong net_test_on_pong(NetTest *t, uint32_t id, uint64_t timestamp, int64_t now_us)
{
    int i = ping_index(t, id);
    if (i < 0) {
        return NET_TEST_PONG_NOT_OURS;
    }
    /* stages WARMUP..RATE wait for PING 0..2 in that order */
    bool running = t->stage >= NET_TEST_WARMUP && t->stage <= NET_TEST_RATE;
    if (!running || i != (int)(t->stage - NET_TEST_WARMUP) || t->sent_us[i] == 0 ||
        timestamp != (uint64_t)t->sent_us[i] || now_us < t->sent_us[i]) {
        return NET_TEST_PONG_REFUSED;
    }
    int64_t rtt = now_us - t->sent_us[i];
    switch (t->stage) {
    case NET_TEST_WARMUP:
        t->latency_us = rtt;
        t->stage = NET_TEST_LATENCY;
        return NET_TEST_PONG_NEXT;
    case NET_TEST_LATENCY:
        /* the quicker of the two probes: a first PING may have met a
         * sleeping client or a cold path */
        t->latency_us = MIN(t->latency_us, rtt);
        t->stage = NET_TEST_RATE;
        return NET_TEST_PONG_NEXT;
    default:
        t->bitrate = net_test_bitrate(NET_TEST_RATE_BYTES, t->latency_us, rtt);
        t->stage = t->bitrate ? NET_TEST_DONE : NET_TEST_UNUSABLE;
        return NET_TEST_PONG_FINISHED;
    }
}
