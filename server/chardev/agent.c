/* The vdagent route (see agent.h): chunk framing towards the device, the
 * VDAgentMessage filter used in both directions, the bounded write queue
 * and the token-paced read loop. Main loop only. */
#include "server/chardev/agent.h"

#include <string.h>
#include <spice/vd_agent.h>

#include "server/channel/channel.h"
#include "server/core/log.h"
#include "server/main/main-channel.h"

/* Chunks read from the device per wakeup before yielding to the loop. */
#define AGENT_READ_BURST 64

typedef enum {
    FILTER_PASS,
    FILTER_DISCARD,
    FILTER_MONITORS,                 /* reassembled for the QXL device */
} FilterAction;

/* Tracks VDAgentMessage boundaries in one direction of the stream. */
typedef struct AgentFilter {
    bool to_guest;
    uint8_t hdr[sizeof(VDAgentMessage)];
    uint32_t hdr_pos;
    bool in_msg;
    uint32_t msg_remaining;          /* data bytes of the current message left */
    FilterAction action;
    GByteArray *monitors;            /* owned; the message being reassembled */
} AgentFilter;

typedef struct AgentWrite {
    RedChannelClient *from;          /* client whose data this is, NULL = server */
    bool returns_token;              /* last write of a client message */
    size_t len, pos;
    uint8_t data[];                  /* VDIChunkHeader + payload */
} AgentWrite;

struct RedAgent {
    RedsState *reds;                 /* not owned */
    SpiceCharDeviceInstance *sin;    /* the attached device, NULL = none */
    RedTimer *resume_timer;          /* owned: continues a read burst */

    /* device -> clients */
    uint8_t chunk_hdr[sizeof(VDIChunkHeader)];
    uint32_t chunk_hdr_pos;
    bool in_chunk;
    uint32_t chunk_port, chunk_size, chunk_pos;
    uint8_t chunk[VD_AGENT_MAX_DATA_SIZE];
    AgentFilter from_guest;

    /* clients -> device */
    GQueue writes;                   /* AgentWrite*, owned */
    AgentWrite *current;             /* owned: being written */
    size_t server_bytes;             /* bytes of server messages queued */
    AgentFilter to_guest;
    bool mouse_pending;
    VDAgentMouseState mouse;
};

/* --- filter --- */

static void filter_reset(AgentFilter *f)
{
    f->hdr_pos = 0;
    f->in_msg = false;
    f->msg_remaining = 0;
    f->action = FILTER_PASS;
    if (f->monitors) {
        g_byte_array_set_size(f->monitors, 0);
    }
}

static FilterAction filter_decide(RedAgent *agent, const AgentFilter *f, uint32_t type)
{
    const RedsConfig *cfg = &agent->reds->cfg;

    switch (type) {
    case VD_AGENT_CLIPBOARD:
    case VD_AGENT_CLIPBOARD_GRAB:
    case VD_AGENT_CLIPBOARD_REQUEST:
    case VD_AGENT_CLIPBOARD_RELEASE:
        return cfg->agent_copypaste ? FILTER_PASS : FILTER_DISCARD;
    case VD_AGENT_FILE_XFER_START:
    case VD_AGENT_FILE_XFER_STATUS:
    case VD_AGENT_FILE_XFER_DATA:
        return cfg->agent_file_xfer ? FILTER_PASS : FILTER_DISCARD;
    case VD_AGENT_MONITORS_CONFIG:
        return f->to_guest ? FILTER_MONITORS : FILTER_PASS;
    default:
        return FILTER_PASS;
    }
}

/* Offers a complete client MONITORS_CONFIG message (header + body) to the
 * QXL devices; true if one of them took it. */
static bool offer_monitors_config(RedAgent *agent, const uint8_t *msg, size_t len)
{
    const size_t hdr = sizeof(VDAgentMessage);
    if (len < hdr + sizeof(VDAgentMonitorsConfig)) {
        return false;
    }
    VDAgentMonitorsConfig *mc = g_malloc(len - hdr);
    memcpy(mc, msg + hdr, len - hdr);
    uint32_t room = (uint32_t)((len - hdr - sizeof(VDAgentMonitorsConfig)) / sizeof(VDAgentMonConfig));
    bool handled = false;
    if (mc->num_of_monitors <= room) {
        for (GList *l = agent->reds->qxl_instances; l; l = l->next) {
            QXLInstance *qxl = l->data;
            const QXLInterface *qif = (const QXLInterface *)qxl->base.sif;
            if (qif->base.minor_version >= 3 && qif->client_monitors_config &&
                qif->client_monitors_config(qxl, mc)) {
                handled = true;
            }
        }
    } else {
        red_client_bug("agent: MONITORS_CONFIG claims %u monitors in %zu bytes",
                       mc->num_of_monitors, len - hdr);
    }
    g_free(mc);
    return handled;
}

static void filter_emit(AgentFilter *f, const uint8_t *p, size_t n, GByteArray *pass)
{
    if (f->action == FILTER_PASS) {
        g_byte_array_append(pass, p, (guint)n);
    } else if (f->action == FILTER_MONITORS) {
        g_byte_array_append(f->monitors, p, (guint)n);
    }
}

static void filter_msg_done(RedAgent *agent, AgentFilter *f, GByteArray *pass)
{
    if (f->action == FILTER_MONITORS) {
        if (!offer_monitors_config(agent, f->monitors->data, f->monitors->len)) {
            /* no device handled it: the guest agent gets it as sent */
            g_byte_array_append(pass, f->monitors->data, f->monitors->len);
        }
        g_byte_array_set_size(f->monitors, 0);
    }
    f->in_msg = false;
    f->action = FILTER_PASS;
}

/* Runs data through f, appending what passes to `pass`. Returns false on a
 * protocol error (bad header, oversized monitors config). */
static bool filter_run(RedAgent *agent, AgentFilter *f, const uint8_t *data, size_t len,
                       GByteArray *pass)
{
    while (len > 0) {
        if (!f->in_msg) {
            size_t n = MIN(len, sizeof(f->hdr) - f->hdr_pos);
            memcpy(f->hdr + f->hdr_pos, data, n);
            f->hdr_pos += (uint32_t)n;
            data += n;
            len -= n;
            if (f->hdr_pos < sizeof(f->hdr)) {
                continue;
            }
            VDAgentMessage m;
            memcpy(&m, f->hdr, sizeof(m));
            f->hdr_pos = 0;
            if (GUINT32_FROM_LE(m.protocol) != VD_AGENT_PROTOCOL) {
                return false;
            }
            uint32_t size = GUINT32_FROM_LE(m.size);
            f->action = filter_decide(agent, f, GUINT32_FROM_LE(m.type));
            if (f->action == FILTER_MONITORS && size > RED_AGENT_MONITORS_CONFIG_MAX) {
                return false;
            }
            f->in_msg = true;
            f->msg_remaining = size;
            filter_emit(f, f->hdr, sizeof(f->hdr), pass);
        } else {
            size_t n = MIN(len, f->msg_remaining);
            filter_emit(f, data, n, pass);
            f->msg_remaining -= (uint32_t)n;
            data += n;
            len -= n;
        }
        if (f->in_msg && f->msg_remaining == 0) {
            filter_msg_done(agent, f, pass);
        }
    }
    return true;
}

/* --- writing to the device --- */

static const SpiceCharDeviceInterface *agent_sif(const RedAgent *agent)
{
    return (const SpiceCharDeviceInterface *)agent->sin->base.sif;
}

static void write_free(RedAgent *agent, AgentWrite *w)
{
    if (w && !w->from) {
        agent->server_bytes -= w->len;
    }
    g_free(w);
}

static AgentWrite *write_new(RedAgent *agent, RedChannelClient *from, uint32_t port,
                             const uint8_t *payload, size_t len)
{
    AgentWrite *w = g_malloc(sizeof(*w) + sizeof(VDIChunkHeader) + len);
    VDIChunkHeader ch = { GUINT32_TO_LE(port), GUINT32_TO_LE((uint32_t)len) };

    w->from = from;
    w->returns_token = false;
    w->len = sizeof(ch) + len;
    w->pos = 0;
    memcpy(w->data, &ch, sizeof(ch));
    memcpy(w->data + sizeof(ch), payload, len);
    if (!from) {
        agent->server_bytes += w->len;
    }
    return w;
}

/* Queues payload as chunks of at most VD_AGENT_MAX_DATA_SIZE; returns the
 * last write queued (NULL if len is 0). */
static AgentWrite *queue_chunks(RedAgent *agent, RedChannelClient *from, uint32_t port,
                                const uint8_t *payload, size_t len)
{
    AgentWrite *last = NULL;
    while (len > 0) {
        size_t n = MIN(len, (size_t)VD_AGENT_MAX_DATA_SIZE);
        last = write_new(agent, from, port, payload, n);
        g_queue_push_tail(&agent->writes, last);
        payload += n;
        len -= n;
    }
    return last;
}

static AgentWrite *take_next_write(RedAgent *agent)
{
    if (agent->mouse_pending) {
        agent->mouse_pending = false;
        uint8_t msg[sizeof(VDAgentMessage) + sizeof(VDAgentMouseState)];
        VDAgentMessage m = {
            .protocol = GUINT32_TO_LE(VD_AGENT_PROTOCOL),
            .type = GUINT32_TO_LE(VD_AGENT_MOUSE_STATE),
            .opaque = 0,
            .size = GUINT32_TO_LE(sizeof(VDAgentMouseState)),
        };
        memcpy(msg, &m, sizeof(m));
        memcpy(msg + sizeof(m), &agent->mouse, sizeof(agent->mouse));
        return write_new(agent, NULL, VDP_SERVER_PORT, msg, sizeof(msg));
    }
    return g_queue_pop_head(&agent->writes);
}

static void agent_flush_writes(RedAgent *agent)
{
    if (!agent->sin) {
        return;
    }
    const SpiceCharDeviceInterface *sif = agent_sif(agent);
    bool returned = false;

    for (;;) {
        if (!agent->current) {
            agent->current = take_next_write(agent);
            if (!agent->current) {
                break;
            }
        }
        AgentWrite *w = agent->current;
        int n = sif->write(agent->sin, w->data + w->pos, (int)(w->len - w->pos));
        if (n <= 0) {
            if (n < 0) {
                red_guest_bug("agent: device write failed, will retry on wakeup");
            }
            break;
        }
        w->pos += (size_t)n;
        if (w->pos < w->len) {
            break;
        }
        if (w->returns_token && w->from) {
            main_channel_agent_token_return(w->from);
            returned = true;
        }
        agent->current = NULL;
        write_free(agent, w);
    }
    if (returned && !agent->current && g_queue_is_empty(&agent->writes)) {
        main_channel_agent_tokens_flush(agent->reds);
    }
}

/* --- reading from the device --- */

static void deliver_chunk(RedAgent *agent)
{
    if (agent->chunk_port != VDP_CLIENT_PORT) {
        red_debug("agent: %u bytes for port %u dropped", agent->chunk_size, agent->chunk_port);
        return;
    }
    GByteArray *pass = g_byte_array_new();
    if (!filter_run(agent, &agent->from_guest, agent->chunk, agent->chunk_size, pass)) {
        red_guest_bug("agent: malformed VDAgentMessage from the guest, resyncing");
        filter_reset(&agent->from_guest);
    } else {
        for (guint off = 0; off < pass->len; off += VD_AGENT_MAX_DATA_SIZE) {
            guint n = MIN(pass->len - off, (guint)VD_AGENT_MAX_DATA_SIZE);
            main_channel_agent_send(agent->reds, pass->data + off, n);
        }
    }
    g_byte_array_free(pass, TRUE);
}

/* Reads one step; returns false when the device has nothing more now. */
static bool agent_read_step(RedAgent *agent, const SpiceCharDeviceInterface *sif)
{
    if (!agent->in_chunk) {
        int n = sif->read(agent->sin, agent->chunk_hdr + agent->chunk_hdr_pos,
                          (int)(sizeof(agent->chunk_hdr) - agent->chunk_hdr_pos));
        if (n <= 0) {
            return false;
        }
        agent->chunk_hdr_pos += (uint32_t)n;
        if (agent->chunk_hdr_pos < sizeof(agent->chunk_hdr)) {
            return true;
        }
        VDIChunkHeader ch;
        memcpy(&ch, agent->chunk_hdr, sizeof(ch));
        agent->chunk_hdr_pos = 0;
        agent->in_chunk = true;
        agent->chunk_port = GUINT32_FROM_LE(ch.port);
        agent->chunk_size = GUINT32_FROM_LE(ch.size);
        agent->chunk_pos = 0;
        if (agent->chunk_size > sizeof(agent->chunk)) {
            red_guest_bug("agent: chunk of %u bytes (max %u) discarded", agent->chunk_size,
                          (unsigned)sizeof(agent->chunk));
            agent->chunk_port = VDP_END_PORT;  /* marks the payload for discarding */
        }
    }
    if (agent->chunk_pos < agent->chunk_size) {
        uint8_t sink[256];
        uint32_t want = agent->chunk_size - agent->chunk_pos;
        uint8_t *dst;
        if (agent->chunk_port == VDP_END_PORT) {
            dst = sink;
            want = MIN(want, (uint32_t)sizeof(sink));
        } else {
            dst = agent->chunk + agent->chunk_pos;
        }
        int n = sif->read(agent->sin, dst, (int)want);
        if (n <= 0) {
            return false;
        }
        agent->chunk_pos += (uint32_t)n;
        if (agent->chunk_pos < agent->chunk_size) {
            return true;
        }
    }
    agent->in_chunk = false;
    if (agent->chunk_port != VDP_END_PORT) {
        deliver_chunk(agent);
    }
    return true;
}

static void agent_read(RedAgent *agent)
{
    if (!agent->sin) {
        return;
    }
    const SpiceCharDeviceInterface *sif = agent_sif(agent);
    for (int steps = 0; steps < AGENT_READ_BURST * 4; steps++) {
        /* a whole chunk must be deliverable before we start on it */
        if (!agent->in_chunk && agent->chunk_hdr_pos == 0 &&
            !main_channel_agent_can_send(agent->reds)) {
            return;
        }
        if (!agent_read_step(agent, sif) || !agent->sin) {
            return;
        }
    }
    /* more may be waiting: continue after other sources had a turn */
    red_timer_start(agent->resume_timer, 0);
}

static void resume_cb(void *opaque)
{
    red_agent_wakeup(opaque);
}

/* --- public --- */

RedAgent *red_agent_new(RedsState *reds)
{
    RedAgent *agent = g_new0(RedAgent, 1);
    agent->reds = reds;
    agent->to_guest.to_guest = true;
    agent->to_guest.monitors = g_byte_array_new();
    agent->from_guest.monitors = g_byte_array_new();
    g_queue_init(&agent->writes);
    agent->resume_timer = red_timer_add(reds->loop, resume_cb, agent);
    return agent;
}

static void agent_reset(RedAgent *agent)
{
    AgentWrite *w;
    while ((w = g_queue_pop_head(&agent->writes))) {
        write_free(agent, w);
    }
    write_free(agent, agent->current);
    agent->current = NULL;
    agent->mouse_pending = false;
    agent->chunk_hdr_pos = 0;
    agent->in_chunk = false;
    filter_reset(&agent->to_guest);
    filter_reset(&agent->from_guest);
    if (agent->resume_timer) {
        red_timer_cancel(agent->resume_timer);
    }
}

void red_agent_free(RedAgent *agent)
{
    if (!agent) {
        return;
    }
    agent_reset(agent);
    red_timer_remove(agent->resume_timer);
    g_byte_array_free(agent->to_guest.monitors, TRUE);
    g_byte_array_free(agent->from_guest.monitors, TRUE);
    g_free(agent);
}

void red_agent_attach(RedAgent *agent)
{
    agent_reset(agent);
    agent->sin = agent->reds->vdagent;
    if (!agent->sin) {
        return;
    }
    const SpiceCharDeviceInterface *sif = agent_sif(agent);
    if (sif->state) {
        sif->state(agent->sin, 1);
    }
    red_agent_wakeup(agent);
}

void red_agent_detach(RedAgent *agent)
{
    agent_reset(agent);
    agent->sin = NULL;
}

bool red_agent_attached(const RedAgent *agent)
{
    return agent->sin != NULL;
}

bool red_agent_client_data(RedAgent *agent, RedChannelClient *rcc, const uint8_t *data,
                           uint32_t size)
{
    GByteArray *pass = g_byte_array_new();
    bool ok = filter_run(agent, &agent->to_guest, data, size, pass);

    if (!ok) {
        red_client_bug("agent: malformed VDAgentMessage stream from the client");
        filter_reset(&agent->to_guest);
        g_byte_array_free(pass, TRUE);
        return false;
    }
    AgentWrite *last = queue_chunks(agent, rcc, VDP_CLIENT_PORT, pass->data, pass->len);
    g_byte_array_free(pass, TRUE);
    if (last) {
        last->returns_token = true;
    } else {
        main_channel_agent_token_return(rcc);
    }
    agent_flush_writes(agent);
    if (!last && !agent->current && g_queue_is_empty(&agent->writes)) {
        main_channel_agent_tokens_flush(agent->reds);
    }
    return true;
}

void red_agent_client_gone(RedAgent *agent, RedChannelClient *rcc)
{
    GList *l = agent->writes.head;
    while (l) {
        GList *next = l->next;
        AgentWrite *w = l->data;
        if (w->from == rcc) {
            g_queue_delete_link(&agent->writes, l);
            write_free(agent, w);
        }
        l = next;
    }
    if (agent->current && agent->current->from == rcc) {
        /* the chunk is half written: finish it, but nobody gets a token */
        agent->current->returns_token = false;
        agent->current->from = NULL;
        agent->server_bytes += agent->current->len;
    }
    filter_reset(&agent->to_guest);
    if (!agent->sin || agent->server_bytes > RED_AGENT_SERVER_QUEUE_MAX) {
        return;
    }
    VDAgentMessage m = {
        .protocol = GUINT32_TO_LE(VD_AGENT_PROTOCOL),
        .type = GUINT32_TO_LE(VD_AGENT_CLIENT_DISCONNECTED),
        .opaque = 0,
        .size = 0,
    };
    queue_chunks(agent, NULL, VDP_SERVER_PORT, (const uint8_t *)&m, sizeof(m));
    agent_flush_writes(agent);
}

void red_agent_wakeup(RedAgent *agent)
{
    if (!agent || !agent->sin) {
        return;
    }
    agent_flush_writes(agent);
    agent_read(agent);
}

void red_agent_mouse_state(RedAgent *agent, uint32_t x, uint32_t y, uint32_t buttons,
                           uint8_t display_id)
{
    if (!agent->sin) {
        return;
    }
    /* SPICE button masks are one bit below the agent's */
    agent->mouse.x = GUINT32_TO_LE(x);
    agent->mouse.y = GUINT32_TO_LE(y);
    agent->mouse.buttons = GUINT32_TO_LE((buttons & SPICE_MOUSE_BUTTON_MASK_MASK) << 1);
    agent->mouse.display_id = display_id;
    agent->mouse_pending = true;
    agent_flush_writes(agent);
}

void red_agent_mouse_buttons(RedAgent *agent, uint32_t buttons)
{
    red_agent_mouse_state(agent, GUINT32_FROM_LE(agent->mouse.x), GUINT32_FROM_LE(agent->mouse.y),
                          buttons, agent->mouse.display_id);
}

void reds_agent_wakeup(RedsState *reds, SpiceCharDeviceInstance *sin)
{
    RedAgent *agent = main_channel_get_agent(reds);
    if (agent && sin && agent->sin == sin) {
        red_agent_wakeup(agent);
    }
}
