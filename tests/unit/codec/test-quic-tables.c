/* QUIC's format constants: the pseudo-random table, the wm_trigger table and
 * the MELCODE table must be byte-identical to the client's (we search the
 * installed spice-client-glib for them), and the Golomb families must have
 * the parameters quic.c's family_init derives (codeword limit 26). */
#include <glib.h>
#include <string.h>

#include "common/codec/quic-tables.h"

#define CLIENT_LIB "/usr/lib/x86_64-linux-gnu/libspice-client-glib-2.0.so.8"

static void test_tables_in_client(void)
{
    gchar *blob;
    gsize len;
    if (!g_file_get_contents(CLIENT_LIB, &blob, &len, NULL)) {
        g_test_skip("spice-client-glib not installed");
        return;
    }
    g_assert_nonnull(memmem(blob, len, quic_tabrand_chaos, sizeof(quic_tabrand_chaos)));
    g_assert_nonnull(memmem(blob, len, quic_besttrigtab, sizeof(quic_besttrigtab)));
    g_assert_nonnull(memmem(blob, len, quic_melc_J, sizeof(quic_melc_J)));
    g_free(blob);
}

static void test_families(void)
{
    const QuicFamily *f8 = quic_family(8), *f5 = quic_family(5);
    /* 8 bpc: escape prefix 18 zeros for code 0, 1 zero for code 7 */
    g_assert_cmpuint(f8->n_gr[0], ==, 18);
    g_assert_cmpuint(f8->not_gr_len[0], ==, 26);
    g_assert_cmpuint(f8->n_gr[7], ==, 128);
    g_assert_cmpuint(f8->not_gr_len[7], ==, 8);
    g_assert_cmpuint(f8->code_len[0][0], ==, 1);
    g_assert_cmpuint(f8->code_len[17][0], ==, 18);
    g_assert_cmpuint(f8->code_len[200][7], ==, 8);
    /* 5 bpc */
    g_assert_cmpuint(f5->n_gr[0], ==, 21);
    g_assert_cmpuint(f5->not_gr_len[0], ==, 25);
    g_assert_cmpuint(f5->n_gr[4], ==, 16);
    g_assert_cmpuint(f5->not_gr_len[4], ==, 5);
    /* residual folding and buckets of 1, 2, 4, ... contexts */
    g_assert_cmpuint(f8->u2l[0], ==, 0);
    g_assert_cmpuint(f8->u2l[1], ==, 2);
    g_assert_cmpuint(f8->u2l[255], ==, 1);
    for (unsigned v = 0; v < 256; v++) {
        g_assert_cmpuint(f8->l2u[f8->u2l[v]], ==, v);
    }
    g_assert_cmpuint(f8->bucket_of[0], ==, 0);
    g_assert_cmpuint(f8->bucket_of[2], ==, 1);
    g_assert_cmpuint(f8->bucket_of[126], ==, 6);
    g_assert_cmpuint(f8->bucket_of[127], ==, 7);
    g_assert_cmpuint(f8->bucket_of[255], ==, 7);
    g_assert_cmpuint(f5->bucket_of[14], ==, 3);
    g_assert_cmpuint(f5->bucket_of[31], ==, 4);
    g_assert_cmpuint(quic_wm_trigger(0), ==, 110);
    g_assert_cmpuint(quic_wm_trigger(99), ==, 140);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/codec/quic/tables-in-client", test_tables_in_client);
    g_test_add_func("/codec/quic/families", test_families);
    return g_test_run();
}
