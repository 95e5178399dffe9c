/* The dispatcher under concurrent senders: 4 threads post and call while
 * the receiver sleeps in poll() on the eventfd, as the worker's loop does.
 * Every message must be handled exactly once, each sender's messages in
 * order, calls must get their reply, and the receiver must never sleep
 * with messages queued (senders kick only onto an empty queue). */
#include <poll.h>
#include <string.h>

#include <glib.h>

#include "server/qxl/dispatcher.h"

#define SENDERS 4
#define PER_SENDER 20000
#define MSG_QUIT 1000

typedef struct Recv {
    unsigned next[SENDERS];         /* next expected sequence per sender */
    unsigned handled;
    bool quit;
} Recv;

typedef struct Payload {
    uint32_t sender, seq;
} Payload;

static void handler(void *opaque, uint32_t type, void *payload, size_t size, void *reply,
                    size_t reply_size)
{
    Recv *r = opaque;
    if (type == MSG_QUIT) {
        r->quit = true;
        return;
    }
    g_assert_cmpuint(size, ==, sizeof(Payload));
    Payload p;
    memcpy(&p, payload, sizeof(p));
    g_assert_cmpuint(p.sender, <, SENDERS);
    g_assert_cmpuint(p.seq, ==, r->next[p.sender]);
    r->next[p.sender]++;
    r->handled++;
    if (reply) {
        g_assert_cmpuint(reply_size, ==, sizeof(uint32_t));
        uint32_t v = p.seq * 3 + 1;
        memcpy(reply, &v, sizeof(v));
    }
}

typedef struct Sender {
    Dispatcher *d;
    uint32_t id;
} Sender;

static gpointer sender_thread(gpointer opaque)
{
    Sender *s = opaque;
    for (uint32_t i = 0; i < PER_SENDER; i++) {
        Payload p = { s->id, i };
        if (i % 97 == 0) {
            uint32_t v = 0;
            dispatcher_call(s->d, 1, &p, sizeof(p), &v, sizeof(v));
            g_assert_cmpuint(v, ==, i * 3 + 1);
        } else {
            dispatcher_post(s->d, 1, &p, sizeof(p));
        }
    }
    return NULL;
}

typedef struct RecvCtx {
    Dispatcher *d;
    Recv *r;
} RecvCtx;

static gpointer receiver_thread(gpointer opaque)
{
    RecvCtx *c = opaque;
    dispatcher_set_receiver(c->d);
    while (!c->r->quit) {
        struct pollfd pfd = { .fd = dispatcher_get_fd(c->d), .events = POLLIN };
        /* Bounded: a lost wakeup shows up as a 10 s stall and fails below. */
        int n = poll(&pfd, 1, 10000);
        g_assert_cmpint(n, ==, 1);
        dispatcher_dispatch(c->d);
    }
    return NULL;
}

int main(void)
{
    Recv r = { 0 };
    Dispatcher *d = dispatcher_new(handler, &r);
    g_assert_nonnull(d);
    RecvCtx rc = { d, &r };
    GThread *recv = g_thread_new("recv", receiver_thread, &rc);
    Sender s[SENDERS];
    GThread *t[SENDERS];
    for (uint32_t i = 0; i < SENDERS; i++) {
        s[i] = (Sender){ d, i };
        t[i] = g_thread_new("send", sender_thread, &s[i]);
    }
    for (uint32_t i = 0; i < SENDERS; i++) {
        g_thread_join(t[i]);
    }
    dispatcher_call(d, MSG_QUIT, NULL, 0, NULL, 0);
    g_thread_join(recv);
    g_assert_cmpuint(r.handled, ==, SENDERS * PER_SENDER);
    for (uint32_t i = 0; i < SENDERS; i++) {
        g_assert_cmpuint(r.next[i], ==, PER_SENDER);
    }
    g_assert_cmpuint(dispatcher_pending(d), ==, 0);
    dispatcher_free(d);
    return 0;
}
