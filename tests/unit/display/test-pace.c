/* The display pipe policy against clients of known drain rates (dcc.c,
 * docs/display.md "Pipe budget and slow clients"), with a fake clock:
 *   - a client that drains 200 draws/s while the guest draws 5000/s
 *     keeps about DCC_DRAIN_BOUND_MS of draws queued (not the whole pipe,
 *     not nothing), gets the rest as damage, and converges;
 *   - a stalled client ends with no queued draw and the pipe under budget;
 *   - draws sent while damage is pending keep the damage exact (opaque
 *     draws remove it, COPY_BITS moves it, a read of a damaged surface
 *     becomes damage).
 * The socketpair client acks every ack-window (20) messages and the
 * server keeps at most two windows unacked, so one read pass per 100 ms
 * of fake time is a client that takes 20 small messages per 100 ms: 200
 * draws/s. Every loop is bounded; no sleeps. */
#include <string.h>

#include <glib.h>
#include <spice/protocol.h>

#include "server/display/dcc.h"
#include "server/display/display-channel.h"
#include "tests/unit/display/draw-util.h"
#include "tests/unit/display/raw-client.h"

static int64_t fake_now;

static int64_t fake_clock(void)
{
    return fake_now;
}

static DisplayChannelClient *pace_connect(RawHarness *h)
{
    fake_now = 100000;
    rh_init(h);
    display_channel_set_stream_clock(h->dc, fake_clock);
    rh_connect(h, 0);
    DisplayChannelClient *dcc = h->dc->clients->data;
    g_assert_cmpint(dcc->mode, ==, DCC_DRAW);
    return dcc;
}

static unsigned draws_queued(const DisplayChannelClient *dcc)
{
    unsigned n = 0;
    for (GList *l = dcc->base.pipe.head; l; l = l->next) {
        n += ((RedPipeItem *)l->data)->kind == DCC_ITEM_DRAW;
    }
    return n;
}

static void random_fill(RawHarness *h, GRand *r)
{
    int w = g_rand_int_range(r, 4, 40), hh = g_rand_int_range(r, 4, 40);
    int x = g_rand_int_range(r, 0, RH_PRIMARY_W - w), y = g_rand_int_range(r, 0, RH_PRIMARY_H - hh);
    rh_draw(h, test_draw_fill(0, x, y, w, hh, g_rand_int(r) & 0xffffff));
}

static int64_t damage_area_of(DisplayChannelClient *dcc, uint32_t id)
{
    pixman_region32_t *d = g_hash_table_lookup(dcc->damage, GUINT_TO_POINTER(id));
    int64_t a = 0;
    int n = 0;
    const pixman_box32_t *b = d ? pixman_region32_rectangles(d, &n) : NULL;
    for (int i = 0; i < n; i++) {
        a += (int64_t)(b[i].x2 - b[i].x1) * (b[i].y2 - b[i].y1);
    }
    return a;
}

/* The guest goes quiet for a second: whatever is pending goes out, the
 * client is back in DRAW mode and holds the server's picture. */
static void quiet_and_converge(RawHarness *h, DisplayChannelClient *dcc)
{
    fake_now += 1000;
    rh_settle(h);
    g_assert_false(h->tc.error);
    g_assert_cmpint(dcc->mode, ==, DCC_DRAW);
    g_assert_cmpint(test_client_compare(&h->tc, 0, h->canvases[0]), ==, 0);
}

static void test_slow_client_keeps_bounded_draws(void)
{
    RawHarness h;
    DisplayChannelClient *dcc = pace_connect(&h);
    GRand *r = g_rand_new_with_seed(5);
    const unsigned rate = 200;                  /* draws/s the client drains */
    unsigned max_queued = 0, ticks_with_draws = 0;
    uint32_t msgs0 = 0, fills0 = 0;

    for (int tick = 0; tick < 300; tick++) {
        fake_now += 20;
        for (int i = 0; i < 100; i++) {         /* 5000 drawables/s */
            random_fill(&h, r);
        }
        /* 20 messages per pass, one pass every 100 ms */
        rh_pump(&h, tick % 5 == 0);
        g_assert_cmpuint(display_channel_pipe_bytes(h.dc), <=, RH_BUDGET);
        if (tick == 100) {
            msgs0 = h.tc.messages;
            fills0 = h.tc.counts[SPICE_MSG_DISPLAY_DRAW_FILL];
        }
        if (tick >= 100) {                      /* after 2 s of measuring */
            unsigned q = draws_queued(dcc);
            max_queued = MAX(max_queued, q);
            ticks_with_draws += q > 0;
        }
    }
    g_assert_false(h.tc.error);
    /* The measured rate is the client's, within what short draw phases
     * between catch-ups allow (an interval that starts just before the
     * client acks reads high). */
    double measured = dcc->pace.items * 1000.0 / dcc->pace.span_ms;
    g_assert_cmpfloat(measured, >, rate / 2.0);
    g_assert_cmpfloat(measured, <, rate * 3.0);
    /* Queued draws drain within the bound at that rate (a queue is
     * trimmed above twice the bound): 200 ms at 200-600/s is 40-120
     * draws, where the byte limit alone would queue ~700. */
    g_assert_cmpuint(max_queued, <=, (unsigned)(measured * 2 * 0.2) + 1);
    g_assert_cmpuint(max_queued, <, 160);
    /* and they are kept, not dropped each time the guest outruns the
     * client: draws wait for it much of the time (the rest is catch-ups,
     * which this client reads slowly: ~1 socket buffer per pass) */
    g_assert_cmpuint(ticks_with_draws * 4, >, 200);
    /* the client was given draws, not only damage images */
    uint32_t msgs = h.tc.messages - msgs0;
    uint32_t fills = h.tc.counts[SPICE_MSG_DISPLAY_DRAW_FILL] - fills0;
    g_assert_cmpuint(msgs, >, 0);
    g_assert_cmpuint(fills * 2, >, msgs);
    /* what it could not take went as damage, paced */
    g_assert_cmpuint(dcc->pace.catchups, >=, 1);
    g_assert_cmpuint(dcc->damage_rects, >, 0);

    /* the guest pauses: the rest goes out */
    quiet_and_converge(&h, dcc);
    g_rand_free(r);
    rh_fini(&h);
}

static void test_stalled_client_drops_queue(void)
{
    RawHarness h;
    DisplayChannelClient *dcc = pace_connect(&h);
    GRand *r = g_rand_new_with_seed(9);

    for (int i = 0; i < 8000; i++) {
        random_fill(&h, r);
        if (i % 10 == 0) {
            fake_now += 1;
        }
        rh_pump(&h, false);
        g_assert_cmpuint(display_channel_pipe_bytes(h.dc), <=, RH_BUDGET);
    }
    /* nothing drained: no draw stays queued, the rest is damage */
    g_assert_cmpuint(draws_queued(dcc), ==, 0);
    g_assert_cmpfloat(dcc->pace.items, <, 1.0);
    g_assert_cmpuint(dcc->drops, >, 0);
    quiet_and_converge(&h, dcc);
    g_rand_free(r);
    rh_fini(&h);
}

static void test_draws_keep_damage_exact(void)
{
    RawHarness h;
    DisplayChannelClient *dcc = pace_connect(&h);
    pixman_region32_t dmg;

    /* pixels 10..40 the client holds wrong (as after a refused drawable) */
    pixman_region32_init_rect(&dmg, 10, 10, 30, 30);
    dcc_add_damage(dcc, 0, &dmg);
    pixman_region32_fini(&dmg);
    g_assert_cmpint(damage_area_of(dcc, 0), ==, 900);

    /* an opaque fill over part of it is sent and makes that part right */
    rh_draw(&h, test_draw_fill(0, 20, 20, 40, 40, 0x123456));
    g_assert_cmpuint(draws_queued(dcc), ==, 1);
    g_assert_cmpint(damage_area_of(dcc, 0), ==, 900 - 400);

    /* COPY_BITS from the damaged area carries the damage along */
    rh_draw(&h, test_draw_copy_bits(0, 100, 100, 30, 30, 10, 10));
    g_assert_cmpuint(draws_queued(dcc), ==, 2);
    g_assert_cmpint(damage_area_of(dcc, 0), ==, 500 + 500);

    /* a copy from a damaged surface cannot be right: it becomes damage */
    pixman_region32_init_rect(&dmg, 0, 0, 8, 8);
    dcc_add_damage(dcc, 1, &dmg);
    pixman_region32_fini(&dmg);
    rh_draw(&h, test_draw_copy_surface(0, 150, 150, 16, 16, 1, 0, 0));
    g_assert_cmpuint(draws_queued(dcc), ==, 2);
    g_assert_cmpint(damage_area_of(dcc, 0), ==, 1000 + 256);

    rh_settle(&h);
    g_assert_false(h.tc.error);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);
    g_assert_cmpint(test_client_compare(&h.tc, 1, h.canvases[1]), ==, 0);
    g_assert_cmpint(damage_area_of(dcc, 0), ==, 0);
    rh_fini(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/display/pace/slow-client-keeps-bounded-draws",
                    test_slow_client_keeps_bounded_draws);
    g_test_add_func("/display/pace/stalled-client-drops-queue", test_stalled_client_drops_queue);
    g_test_add_func("/display/pace/draws-keep-damage-exact", test_draws_keep_damage_exact);
    return g_test_run();
}
