/* tests/causal/test_fci.c: FCI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "suites.h"

enum { T = LATENS_CAUSAL_TAIL, A = LATENS_CAUSAL_ARROW, O = LATENS_CAUSAL_CIRCLE };

static latens_causal_graph *oracle_fci(const latens_causal_graph *dag) {
  latens_causal_citest *t = latens_causal_citest_alloc_dsep(dag);
  latens_causal_graph *g = NULL;
  ck_assert_int_eq(latens_causal_fci(t, NULL, NULL, NULL, &g), LATENS_OK);
  latens_causal_citest_free(t);
  return g;
}

/* The marks at both ends of i - j in g, as a string such as "o->". */
static const char *type(const latens_causal_graph *g, size_t i, size_t j) {
  return latens_causal_edge_type(latens_causal_graph_mark(g, j, i), latens_causal_graph_mark(g, i, j));
}

/* Oracle: PAGs derived by hand (Zhang 2008, AIJ, sec. 2-3).  Y-structure a -> c <- b, c -> d:
 * a o-> c <-o b and c --> d (R1).  Latent confounder: a -> b <- L -> c <- d with L hidden:
 * the MAG is a -> b <-> c <- d and its PAG a o-> b <-> c <-o d. */
START_TEST(test_hand_pags) {
  latens_causal_graph *y = latens_causal_graph_alloc(4, NULL);
  latens_causal_graph_set_edge(y, 0, 2, T, A);
  latens_causal_graph_set_edge(y, 1, 2, T, A);
  latens_causal_graph_set_edge(y, 2, 3, T, A);
  latens_causal_graph *g = oracle_fci(y);
  ck_assert_str_eq(type(g, 0, 2), "o->");
  ck_assert_str_eq(type(g, 1, 2), "o->");
  ck_assert_str_eq(type(g, 2, 3), "-->");
  ck_assert_uint_eq(latens_causal_graph_nedges(g), 3);
  latens_causal_graph_free(g);
  latens_causal_graph_free(y);
  const char *names[5] = {"a", "b", "c", "d", "L"};
  latens_causal_graph *l = latens_causal_graph_alloc(5, names);
  latens_causal_graph_set_edge(l, 0, 1, T, A);
  latens_causal_graph_set_edge(l, 4, 1, T, A);
  latens_causal_graph_set_edge(l, 4, 2, T, A);
  latens_causal_graph_set_edge(l, 3, 2, T, A);
  latens_causal_graph_set_latent(l, 4, 1);
  g = oracle_fci(l);
  ck_assert_uint_eq(latens_causal_graph_nnodes(g), 4);
  ck_assert_str_eq(type(g, 0, 1), "o->");
  ck_assert_str_eq(type(g, 1, 2), "<->");
  ck_assert_str_eq(type(g, 3, 2), "o->");
  ck_assert_uint_eq(latens_causal_graph_nedges(g), 3);
  latens_causal_graph_free(g);
  latens_causal_graph_free(l);
}
END_TEST

/* anc[i * V + j]: i is an ancestor of j (or i == j) in the DAG. */
static unsigned char *ancestors(const latens_causal_graph *dag) {
  size_t V = latens_causal_graph_nnodes(dag);
  unsigned char *anc = calloc(V * V, 1);
  for (size_t i = 0; i < V; i++) anc[i * V + i] = 1;
  for (int changed = 1; changed;) {
    changed = 0;
    for (size_t i = 0; i < V; i++)
      for (size_t j = 0; j < V; j++)
        if (latens_causal_graph_mark(dag, i, j) == A && latens_causal_graph_mark(dag, j, i) == T)
          for (size_t k = 0; k < V; k++)
            if (anc[k * V + i] && !anc[k * V + j]) anc[k * V + j] = 1, changed = 1;
  }
  return anc;
}

/* Independent oracle for a DAG with latent nodes (Richardson & Spirtes 2002, Thm 4.2 and
 * sec. 4.2.1): observed i, j are adjacent in the MAG iff they are d-connected given the
 * observed ancestors of {i, j}; the MAG's marks follow ancestry.  Checks: FCI's skeleton is
 * the MAG's; every tail and arrowhead FCI reports is the MAG's (PAG soundness); every
 * arrowhead of an unshielded MAG collider is found.  Returns the number of violations. */
static int check_pag(const latens_causal_graph *dag, const latens_causal_graph *pag) {
  size_t V = latens_causal_graph_nnodes(dag), *obs = malloc(V * sizeof *obs), nobs = 0;
  for (size_t v = 0; v < V; v++)
    if (!latens_causal_graph_is_latent(dag, v)) obs[nobs++] = v;
  unsigned char *anc = ancestors(dag), *madj = calloc(nobs * nobs, 1);
  latens_causal_citest *t = latens_causal_citest_alloc_dsep(dag);
  size_t *S = malloc(nobs * sizeof *S);
  int bad = 0;
  for (size_t i = 0; i < nobs; i++)
    for (size_t j = i + 1; j < nobs; j++) {
      size_t k = 0;
      for (size_t m = 0; m < nobs; m++)
        if (m != i && m != j && (anc[obs[m] * V + obs[i]] || anc[obs[m] * V + obs[j]])) S[k++] = m;
      double p;
      latens_causal_citest_pvalue(t, i, j, S, k, &p);
      madj[i * nobs + j] = madj[j * nobs + i] = p == 0;
      bad += (p == 0) != latens_causal_graph_adjacent(pag, i, j);
    }
  for (size_t i = 0; i < nobs; i++)
    for (size_t j = 0; j < nobs; j++) {
      if (i == j || !latens_causal_graph_adjacent(pag, i, j)) continue;
      int mj = latens_causal_graph_mark(pag, i, j); /* mark at j */
      int j_anc_i = anc[obs[j] * V + obs[i]];
      if (mj == A && j_anc_i) bad++;   /* arrowhead at j, yet j causes i */
      if (mj == T && !j_anc_i) bad++;  /* tail at j, yet j is no ancestor of i */
      /* unshielded MAG collider i *-> j <-* k */
      for (size_t k = i + 1; k < nobs; k++)
        if (k != j && madj[i * nobs + j] && madj[k * nobs + j] && !madj[i * nobs + k] &&
            !anc[obs[j] * V + obs[i]] && !anc[obs[j] * V + obs[k]])
          bad += latens_causal_graph_mark(pag, i, j) != A || latens_causal_graph_mark(pag, k, j) != A;
    }
  latens_causal_citest_free(t);
  free(anc), free(madj), free(S), free(obs);
  return bad;
}

START_TEST(test_oracle_bnlearn) {
  int bad = 0, nq = test_under_valgrind() ? 4 : 8; /* valgrind checks memory, not numbers */
  for (int q = 0; q < nq; q++) {
    char f[256];
    snprintf(f, sizeof f, "%s.graph.txt", causal_nets[q]);
    latens_causal_graph *dag = NULL;
    ck_assert_int_eq(latens_causal_graph_read(causal_data(f), &dag), LATENS_OK);
    latens_causal_graph *g = oracle_fci(dag);
    int b = check_pag(dag, g);
    if (b) fprintf(stderr, "fci oracle %s: %d violations\n", causal_nets[q], b);
    bad += b;
    latens_causal_graph_free(g), latens_causal_graph_free(dag);
  }
  ck_assert_int_eq(bad, 0);
}
END_TEST

/* Random DAGs of 6 to 30 nodes; every fifth node (a source or not) hidden. */
START_TEST(test_oracle_latent) {
  uint64_t s = 77;
  int bad = 0;
  for (size_t p = 6; p <= (test_under_valgrind() ? 14u : 30u); p += 4)
    for (int rep = 0; rep < 3; rep++) {
      latens_causal_graph *dag = causal_random_dag(p, 2.0, &s);
      for (size_t v = rep; v < p; v += 5) latens_causal_graph_set_latent(dag, v, 1);
      latens_causal_graph *g = oracle_fci(dag);
      bad += check_pag(dag, g);
      latens_causal_graph_free(g), latens_causal_graph_free(dag);
    }
  ck_assert_int_eq(bad, 0);
}
END_TEST

/* causal-learn's stored FCI answers on the two shipped data sets (see data/README.md for the
 * networks where the implementations differ, and why). */
START_TEST(test_causallearn_fci) {
  const char *nets[2] = {"cancer", "earthquake"};
  for (int q = 0; q < 2; q++) {
    char f[256];
    snprintf(f, sizeof f, "%s.data.txt", nets[q]);
    latens_table *tab = NULL;
    ck_assert_int_eq(latens_table_read_numeric(causal_data(f), NULL, &tab), LATENS_OK);
    latens_causal_data *d = NULL;
    ck_assert_int_eq(latens_causal_data_from_table(tab, 1, &d), LATENS_OK);
    latens_causal_citest *t = latens_causal_citest_alloc(d, LATENS_CAUSAL_TEST_CHISQ, 1);
    latens_causal_graph *g = NULL, *ref = NULL;
    ck_assert_int_eq(latens_causal_fci(t, NULL, NULL, NULL, &g), LATENS_OK);
    snprintf(f, sizeof f, "%s.fci_chisq_0.05.txt", nets[q]);
    ck_assert_int_eq(latens_causal_graph_read_causallearn(causal_data(f), 5, NULL, &ref), LATENS_OK);
    ck_assert(causal_same_graph(g, ref));
    latens_causal_graph_free(g), latens_causal_graph_free(ref);
    latens_causal_citest_free(t), latens_causal_data_free(d), latens_table_free(tab);
  }
}
END_TEST

/* Oracle as test_oracle_latent (the MAG facts check_pag asserts), with the full, unbounded
 * Possible-D-SEP search, Spirtes et al.'s definition: the bounded default must not be needed
 * for correctness, and the unbounded one must stay correct after the adj(x)-subset skip. */
START_TEST(test_oracle_pds_unbounded) {
  uint64_t s = 91;
  int bad = 0;
  latens_causal_pc_options o;
  latens_causal_pc_options_default(&o);
  o.fci_pds_depth = -1;
  for (size_t p = 6; p <= (test_under_valgrind() ? 10u : 22u); p += 4)
    for (int rep = 0; rep < 3; rep++) {
      latens_causal_graph *dag = causal_random_dag(p, 2.0, &s), *g = NULL;
      for (size_t v = rep; v < p; v += 4) latens_causal_graph_set_latent(dag, v, 1);
      latens_causal_citest *t = latens_causal_citest_alloc_dsep(dag);
      if (latens_causal_fci(t, NULL, &o, NULL, &g) != LATENS_OK) bad++;
      else bad += check_pag(dag, g);
      latens_causal_citest_free(t);
      latens_causal_graph_free(g), latens_causal_graph_free(dag);
    }
  ck_assert_int_eq(bad, 0);
}
END_TEST

/* Stops in the Possible-D-SEP stage (the one that used to run for minutes). */
static int stop_now(void *user, const char *what, double done, double total) {
  (void)done, (void)total;
  if (strncmp(what, "fci possible-d-sep", 18)) return 0;
  ++*(int *)user;
  return 1;
}

/* A progress callback that asks to stop ends FCI with LATENS_EINTERRUPTED and no graph; an
 * out-of-range fci_pdsep is refused. */
START_TEST(test_fci_interrupt_and_options) {
  uint64_t s = 5;
  latens_causal_graph *dag = causal_random_dag(12, 2.0, &s), *g = NULL;
  latens_causal_citest *t = latens_causal_citest_alloc_dsep(dag);
  int calls = 0;
  latens_progress pr = {stop_now, &calls};
  latens_error_handler_t *old = latens_set_error_handler_off();
  ck_assert_int_eq(latens_causal_fci(t, NULL, NULL, &pr, &g), LATENS_EINTERRUPTED);
  ck_assert_int_eq(calls, 1);
  ck_assert_ptr_null(g);
  latens_causal_pc_options o;
  latens_causal_pc_options_default(&o);
  o.fci_pdsep = 3;
  ck_assert_int_eq(latens_causal_fci(t, NULL, &o, NULL, &g), LATENS_EINVAL);
  latens_set_error_handler(old);
  ck_assert_ptr_null(g);
  latens_causal_citest_free(t);
  latens_causal_graph_free(dag);
}
END_TEST

Suite *causal_fci_suite(void) {
  Suite *s = suite_create("causal_fci");
  TCase *tc = tcase_create("fci");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_hand_pags);
  tcase_add_test(tc, test_oracle_bnlearn);
  tcase_add_test(tc, test_oracle_latent);
  tcase_add_test(tc, test_causallearn_fci);
  tcase_add_test(tc, test_oracle_pds_unbounded);
  tcase_add_test(tc, test_fci_interrupt_and_options);
  suite_add_tcase(s, tc);
  return s;
}
