/* The fake vdagent char device of fake-agent.h. */
#include <stddef.h>
#include <string.h>

#include <spice/vd_agent.h>

#include "fake-agent.h"

static FakeAgent *from_sin(SpiceCharDeviceInstance *sin)
{
    return (FakeAgent *)((char *)sin - offsetof(FakeAgent, sin));
}

static void msg_clear(gpointer p)
{
    g_byte_array_free(((FakeAgentMsg *)p)->data, TRUE);
}

static void parse(FakeAgent *fa)
{
    while (fa->in->len >= sizeof(VDIChunkHeader)) {
        VDIChunkHeader ch;
        memcpy(&ch, fa->in->data, sizeof(ch));
        if (fa->in->len < sizeof(ch) + ch.size) {
            return;
        }
        if ((ch.port != VDP_CLIENT_PORT && ch.port != VDP_SERVER_PORT) ||
            ch.size > VD_AGENT_MAX_DATA_SIZE) {
            fa->bad_chunks++;
        } else {
            GByteArray *pb = fa->port_buf[ch.port - 1];
            g_byte_array_append(pb, fa->in->data + sizeof(ch), ch.size);
            while (pb->len >= sizeof(VDAgentMessage)) {
                VDAgentMessage m;
                memcpy(&m, pb->data, sizeof(m));
                g_assert_cmpuint(m.protocol, ==, VD_AGENT_PROTOCOL);
                if (pb->len < sizeof(m) + m.size) {
                    break;
                }
                FakeAgentMsg am = { ch.port, m.type, g_byte_array_new() };
                g_byte_array_append(am.data, pb->data + sizeof(m), m.size);
                g_array_append_val(fa->msgs, am);
                g_byte_array_remove_range(pb, 0, (guint)(sizeof(m) + m.size));
            }
        }
        g_byte_array_remove_range(fa->in, 0, (guint)(sizeof(ch) + ch.size));
    }
}

static int dev_write(SpiceCharDeviceInstance *sin, const uint8_t *buf, int len)
{
    FakeAgent *fa = from_sin(sin);
    if (fa->blocked) {
        return 0;
    }
    g_byte_array_append(fa->in, buf, (guint)len);
    parse(fa);
    return len;
}

static int dev_read(SpiceCharDeviceInstance *sin, uint8_t *buf, int len)
{
    FakeAgent *fa = from_sin(sin);
    int n = MIN(len, (int)fa->out->len);
    if (n > 0) {
        memcpy(buf, fa->out->data, (size_t)n);
        g_byte_array_remove_range(fa->out, 0, (guint)n);
    }
    return n;
}

static void dev_state(SpiceCharDeviceInstance *sin, int connected)
{
    from_sin(sin)->state = connected;
}

static const SpiceCharDeviceInterface fake_agent_iface = {
    .base = { SPICE_INTERFACE_CHAR_DEVICE, "fake vdagent", SPICE_INTERFACE_CHAR_DEVICE_MAJOR,
              SPICE_INTERFACE_CHAR_DEVICE_MINOR },
    .state = dev_state,
    .write = dev_write,
    .read = dev_read,
};

void fake_agent_init(FakeAgent *fa)
{
    *fa = (FakeAgent){ .sin = { .base.sif = &fake_agent_iface.base, .subtype = "vdagent" },
                       .in = g_byte_array_new(),
                       .port_buf = { g_byte_array_new(), g_byte_array_new() },
                       .out = g_byte_array_new(),
                       .msgs = g_array_new(FALSE, TRUE, sizeof(FakeAgentMsg)),
                       .state = -1 };
    g_array_set_clear_func(fa->msgs, msg_clear);
}

void fake_agent_clear(FakeAgent *fa)
{
    g_byte_array_free(fa->in, TRUE);
    g_byte_array_free(fa->port_buf[0], TRUE);
    g_byte_array_free(fa->port_buf[1], TRUE);
    g_byte_array_free(fa->out, TRUE);
    g_array_free(fa->msgs, TRUE);
    memset(fa, 0, sizeof(*fa));
}

void fake_agent_reset(FakeAgent *fa)
{
    g_byte_array_set_size(fa->in, 0);
    g_byte_array_set_size(fa->port_buf[0], 0);
    g_byte_array_set_size(fa->port_buf[1], 0);
    g_byte_array_set_size(fa->out, 0);
    g_array_set_size(fa->msgs, 0);
    fa->blocked = false;
    fa->state = -1;
    fa->bad_chunks = 0;
}

void fake_agent_send(FakeAgent *fa, uint32_t type, const void *body, uint32_t size)
{
    VDAgentMessage m = { VD_AGENT_PROTOCOL, type, 0, size };
    VDIChunkHeader ch = { VDP_CLIENT_PORT, (uint32_t)sizeof(m) + size };
    g_assert_cmpuint(ch.size, <=, VD_AGENT_MAX_DATA_SIZE);
    g_byte_array_append(fa->out, (const guint8 *)&ch, sizeof(ch));
    g_byte_array_append(fa->out, (const guint8 *)&m, sizeof(m));
    g_byte_array_append(fa->out, body, size);
    spice_server_char_device_wakeup(&fa->sin);
}

static bool msg_is(const FakeAgentMsg *m, uint32_t port, uint32_t type)
{
    return m->port == port && (type == FAKE_AGENT_ANY_TYPE || m->type == type);
}

guint fake_agent_count(const FakeAgent *fa, uint32_t port, uint32_t type)
{
    guint n = 0;
    for (guint i = 0; i < fa->msgs->len; i++) {
        n += msg_is(&g_array_index(fa->msgs, FakeAgentMsg, i), port, type);
    }
    return n;
}

FakeAgentMsg *fake_agent_nth(const FakeAgent *fa, uint32_t port, uint32_t type, guint index)
{
    for (guint i = 0; i < fa->msgs->len; i++) {
        FakeAgentMsg *m = &g_array_index(fa->msgs, FakeAgentMsg, i);
        if (msg_is(m, port, type) && index-- == 0) {
            return m;
        }
    }
    return NULL;
}
