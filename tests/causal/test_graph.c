/* tests/causal/test_graph.c: graphs, CPDAGs, comparison and I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "suites.h"

enum { T = LATENS_CAUSAL_TAIL, A = LATENS_CAUSAL_ARROW, O = LATENS_CAUSAL_CIRCLE };

START_TEST(test_edges) {
  latens_causal_graph *g = latens_causal_graph_alloc(4, NULL);
  ck_assert_str_eq(latens_causal_graph_name(g, 2), "X3");
  ck_assert_int_eq(latens_causal_graph_set_edge(g, 1, 0, T, A), LATENS_OK); /* X2 --> X1 */
  ck_assert_int_eq(latens_causal_graph_set_edge(g, 2, 3, O, A), LATENS_OK); /* X3 o-> X4 */
  ck_assert_int_eq(latens_causal_graph_set_edge(g, 0, 2, O, O), LATENS_OK);
  ck_assert_int_eq(latens_causal_graph_set_edge(g, 0, 0, T, A), LATENS_EINVAL);
  ck_assert_int_eq(latens_causal_graph_set_edge(g, 0, 3, T, LATENS_CAUSAL_NONE), LATENS_EINVAL);
  ck_assert_int_eq(latens_causal_graph_mark(g, 1, 0), A);
  ck_assert_int_eq(latens_causal_graph_mark(g, 0, 1), T);
  ck_assert_uint_eq(latens_causal_graph_nedges(g), 3);
  size_t from[3], to[3];
  int mf[3], mt[3];
  ck_assert_uint_eq(latens_causal_graph_edges(g, from, to, mf, mt, 3), 3);
  /* Canonical listing puts the arrow at `to`: X2 --> X1, X1 o-o X3, X3 o-> X4. */
  ck_assert_uint_eq(from[0], 1); ck_assert_uint_eq(to[0], 0);
  ck_assert_str_eq(latens_causal_edge_type(mf[0], mt[0]), "-->");
  ck_assert_str_eq(latens_causal_edge_type(mf[1], mt[1]), "o-o");
  ck_assert_str_eq(latens_causal_edge_type(mf[2], mt[2]), "o->");
  int l, r;
  ck_assert_int_eq(latens_causal_edge_parse("<-o", &l, &r), LATENS_OK);
  ck_assert_int_eq(l, A); ck_assert_int_eq(r, O);
  ck_assert_int_eq(latens_causal_edge_parse("=>", &l, &r), LATENS_EPARSE);
  size_t k;
  ck_assert_int_eq(latens_causal_graph_add_node(g, NULL, 1, &k), LATENS_OK);
  ck_assert_uint_eq(k, 4);
  ck_assert_str_eq(latens_causal_graph_name(g, 4), "L1");
  ck_assert_int_eq(latens_causal_graph_is_latent(g, 4), 1);
  ck_assert_int_eq(latens_causal_graph_mark(g, 2, 3), A); /* growing kept the edges */
  latens_causal_graph *c = latens_causal_graph_copy(g);
  ck_assert(causal_same_graph(g, c));
  latens_causal_graph_free(c);
  latens_causal_graph_free(g);
  latens_causal_graph_free(NULL);
}
END_TEST

/* Oracle: CPDAGs worked by hand (Chickering 1995): a chain and a fork lose every direction,
 * a collider keeps both, and the arc out of a collider is compelled by Meek's R1. */
START_TEST(test_cpdag) {
  latens_causal_graph *g = latens_causal_graph_alloc(4, NULL), *c = NULL;
  latens_causal_graph_set_edge(g, 0, 1, T, A);
  latens_causal_graph_set_edge(g, 1, 2, T, A);
  ck_assert_int_eq(latens_causal_graph_cpdag(g, &c), LATENS_OK);
  ck_assert_int_eq(latens_causal_graph_mark(c, 0, 1), T);
  ck_assert_int_eq(latens_causal_graph_mark(c, 1, 2), T);
  latens_causal_graph_free(c);
  /* 0 -> 2 <- 1, 2 -> 3: v-structure kept, 2 -> 3 compelled. */
  latens_causal_graph_clear_edges(g);
  latens_causal_graph_set_edge(g, 0, 2, T, A);
  latens_causal_graph_set_edge(g, 1, 2, T, A);
  latens_causal_graph_set_edge(g, 2, 3, T, A);
  ck_assert_int_eq(latens_causal_graph_cpdag(g, &c), LATENS_OK);
  ck_assert_int_eq(latens_causal_graph_mark(c, 0, 2), A);
  ck_assert_int_eq(latens_causal_graph_mark(c, 2, 0), T);
  ck_assert_int_eq(latens_causal_graph_mark(c, 2, 3), A);
  ck_assert_int_eq(latens_causal_graph_mark(c, 3, 2), T);
  latens_causal_graph_free(c);
  /* A cycle is not a DAG. */
  latens_causal_graph_set_edge(g, 3, 0, T, A);
  ck_assert_int_eq(latens_causal_graph_is_dag(g), 0);
  ck_assert_int_eq(latens_causal_graph_cpdag(g, &c), LATENS_EINVAL);
  ck_assert_ptr_null(c);
  latens_causal_graph_free(g);
}
END_TEST

/* Oracle: counts worked by hand.  Truth 0 -> 1 -> 2; estimate 0 <- 1 (reversed: 2 endpoint
 * errors), 1 --- 2 (one endpoint), extra 0 --- 2: SHD 2 + 1 + 1 = 4, adjacency precision 2/3,
 * recall 1; arrowheads: truth {1, 2}, estimate {0}: tp 0. */
START_TEST(test_compare) {
  latens_causal_graph *t = latens_causal_graph_alloc(3, NULL), *e = latens_causal_graph_alloc(3, NULL);
  latens_causal_graph_set_edge(t, 0, 1, T, A);
  latens_causal_graph_set_edge(t, 1, 2, T, A);
  latens_causal_graph_set_edge(e, 1, 0, T, A);
  latens_causal_graph_set_edge(e, 1, 2, T, T);
  latens_causal_graph_set_edge(e, 0, 2, T, T);
  latens_causal_compare_result r;
  ck_assert_int_eq(latens_causal_compare(t, e, &r), LATENS_OK);
  ck_assert_uint_eq(r.shd, 4);
  ck_assert_double_eq_tol(r.adj_precision, 2.0 / 3.0, 1e-15);
  ck_assert_double_eq_tol(r.adj_recall, 1.0, 1e-15);
  ck_assert_double_eq_tol(r.adj_f1, 0.8, 1e-15);
  ck_assert_uint_eq(r.tp_arrow, 0);
  ck_assert_uint_eq(r.fp_arrow, 1);
  ck_assert_uint_eq(r.fn_arrow, 2);
  ck_assert_int_eq(latens_causal_compare(t, t, &r), LATENS_OK);
  ck_assert_uint_eq(r.shd, 0);
  ck_assert_double_eq(r.adj_f1, 1.0);
  latens_causal_graph *u = latens_causal_graph_alloc(2, (const char *const[]){"X1", "Q"});
  ck_assert_int_eq(latens_causal_compare(t, u, &r), LATENS_EINVAL);
  latens_causal_graph_free(u), latens_causal_graph_free(t), latens_causal_graph_free(e);
}
END_TEST

static latens_causal_graph *roundtrip(const latens_causal_graph *g) {
  char path[4096];
  int fd = test_mkstemp(path, sizeof path, "causal-graph");
  FILE *f = fdopen(fd, "w");
  latens_causal_graph_write_csv(f, g);
  fclose(f);
  latens_causal_graph *r = NULL;
  ck_assert_int_eq(latens_causal_graph_read(path, &r), LATENS_OK);
  unlink(path);
  return r;
}

START_TEST(test_io) {
  latens_causal_graph *g = NULL;
  ck_assert_int_eq(latens_causal_graph_read(causal_data("alarm.graph.txt"), &g), LATENS_OK);
  ck_assert_uint_eq(latens_causal_graph_nnodes(g), 37);
  ck_assert_uint_eq(latens_causal_graph_nedges(g), 46); /* bnlearn: alarm has 46 arcs */
  ck_assert(latens_causal_graph_is_dag(g));
  latens_causal_graph *r = roundtrip(g);
  ck_assert(causal_same_graph(g, r));
  latens_causal_graph_free(r);
  /* Every mark type, a latent node, an isolated node and a name needing quotes survive. */
  const char *names[5] = {"a", "b,c", "d\"e", "f", "g"};
  latens_causal_graph *h = latens_causal_graph_alloc(5, names);
  latens_causal_graph_set_edge(h, 0, 1, O, A);
  latens_causal_graph_set_edge(h, 1, 2, A, A);
  latens_causal_graph_set_edge(h, 2, 3, T, O);
  latens_causal_graph_set_latent(h, 3, 1);
  r = roundtrip(h);
  ck_assert(causal_same_graph(h, r));
  ck_assert_int_eq(latens_causal_graph_is_latent(r, 3), 1);
  ck_assert_int_eq(latens_causal_graph_index(r, "g"), 4);
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  latens_causal_graph_write_json(m, h);
  fclose(m);
  ck_assert_ptr_nonnull(strstr(buf, "{\"nodes\": [\"a\", \"b,c\", \"d\\\"e\", \"g\"], \"edges\": [{\"from\": \"a\", \"to\": \"b,c\", \"type\": \"o->\"}"));
  ck_assert_ptr_nonnull(strstr(buf, "\"latent_nodes\": [\"f\"]}"));
  free(buf);
  latens_causal_graph_free(r), latens_causal_graph_free(h), latens_causal_graph_free(g);
  /* Errors name the file and line. */
  char path[4096];
  int fd = test_mkstemp(path, sizeof path, "causal-bad");
  FILE *f = fdopen(fd, "w");
  fputs("from,to,type\na,b,-->\nb,c,=>\n", f);
  fclose(f);
  ck_assert_int_eq(latens_causal_graph_read(path, &g), LATENS_EPARSE);
  const char *msg;
  latens_last_error(&msg);
  ck_assert_ptr_nonnull(strstr(msg, ":3:"));
  unlink(path);
}
END_TEST

/* Oracle: causal-learn's encoding as its README defines it (G[i][j] mark at i). */
START_TEST(test_causallearn_reader) {
  latens_causal_graph *g = NULL;
  ck_assert_int_eq(latens_causal_graph_read_causallearn(causal_data("asia.fci_chisq_0.05.txt"), 8, NULL, &g),
                   LATENS_OK);
  /* Row 4 (X4): "0 0 2 0 0 -1 0 0", row 6: "0 1 0 1 0 0 0 0": X4 --> X6, X3 o-o X4. */
  ck_assert_int_eq(latens_causal_graph_mark(g, 3, 5), A);
  ck_assert_int_eq(latens_causal_graph_mark(g, 5, 3), T);
  ck_assert_int_eq(latens_causal_graph_mark(g, 2, 3), O);
  ck_assert_int_eq(latens_causal_graph_mark(g, 3, 2), O);
  latens_causal_graph_free(g);
  ck_assert_int_eq(latens_causal_graph_read_causallearn(causal_data("asia.fci_chisq_0.05.txt"), 9, NULL, &g),
                   LATENS_EPARSE);
}
END_TEST

Suite *causal_graph_suite(void) {
  Suite *s = suite_create("causal_graph");
  TCase *tc = tcase_create("graph");
  tcase_add_test(tc, test_edges);
  tcase_add_test(tc, test_cpdag);
  tcase_add_test(tc, test_compare);
  tcase_add_test(tc, test_io);
  tcase_add_test(tc, test_causallearn_reader);
  suite_add_tcase(s, tc);
  return s;
}
