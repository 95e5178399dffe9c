/* A fake vdagent char device (subtype "vdagent") for the integration
 * tests: it parses what the server writes into VDAgentMessages per port,
 * records them in arrival order, and hands the server whatever the test
 * queued with fake_agent_send() when it reads.
 *
 * Threading: the test's one thread (the server's callbacks run on it). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <spice.h>

typedef struct FakeAgentMsg {
    uint32_t port;                   /* VDP_CLIENT_PORT or VDP_SERVER_PORT */
    uint32_t type;                   /* VD_AGENT_* */
    GByteArray *data;                /* owned: the VDAgentMessage body */
} FakeAgentMsg;

/* Any message type, for fake_agent_count(). */
#define FAKE_AGENT_ANY_TYPE UINT32_MAX

typedef struct FakeAgent {
    SpiceCharDeviceInstance sin;     /* add / remove &sin.base with the server */
    GByteArray *in;                  /* owned: bytes written, not parsed yet */
    GByteArray *port_buf[2];         /* owned: per port (client, server) stream */
    GByteArray *out;                 /* owned: bytes read() hands the server */
    GArray *msgs;                    /* owned: FakeAgentMsg, in arrival order */
    bool blocked;                    /* write() takes nothing */
    int state;                       /* last state callback, -1 before any */
    uint32_t bad_chunks;             /* chunks with a bad port or size */
} FakeAgent;

/* Sets fa up as an empty device; fake_agent_clear() frees what it holds. */
void fake_agent_init(FakeAgent *fa);
void fake_agent_clear(FakeAgent *fa);
/* Forgets everything written and queued; unblocks; state back to -1. */
void fake_agent_reset(FakeAgent *fa);

/* Queues one VDAgentMessage from the guest to the client and wakes the
 * server up (the device must have been added). */
void fake_agent_send(FakeAgent *fa, uint32_t type, const void *body, uint32_t size);

/* Messages of (port, type) received so far (type may be FAKE_AGENT_ANY_TYPE). */
guint fake_agent_count(const FakeAgent *fa, uint32_t port, uint32_t type);
/* The index-th message of (port, type), or NULL; owned by fa, valid until
 * its next reset. */
FakeAgentMsg *fake_agent_nth(const FakeAgent *fa, uint32_t port, uint32_t type, guint index);
