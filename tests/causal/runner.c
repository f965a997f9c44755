/* tests/causal/runner.c: the causal module's graph, CI-test, PC and FCI suites.  Check's
 * CK_RUN_SUITE=name selects one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "suites.h"

const char *const causal_nets[8] = {"cancer", "earthquake", "survey", "asia",
                                    "sachs",  "child",      "insurance", "alarm"};

const char *causal_data(const char *name) {
  static _Thread_local char buf[4096];
  snprintf(buf, sizeof buf, "%s", test_srcpath("tests/causal/data/"));
  snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s", name);
  return buf;
}

latens_causal_graph *causal_random_dag(size_t p, double deg, uint64_t *s) {
  latens_causal_graph *g = latens_causal_graph_alloc(p, NULL);
  double pr = p > 1 ? deg / (double)(p - 1) : 0;
  for (size_t i = 0; i < p; i++)
    for (size_t j = i + 1; j < p; j++)
      if (0.5 * (test_unif(s) + 1) < pr)
        latens_causal_graph_set_edge(g, i, j, LATENS_CAUSAL_TAIL, LATENS_CAUSAL_ARROW);
  return g;
}

latens_mat *causal_simulate(const latens_causal_graph *dag, size_t n, uint64_t *s) {
  size_t p = latens_causal_graph_nnodes(dag);
  latens_mat *x = latens_mat_alloc(n, p);
  double *w = calloc(p * p, sizeof *w);
  for (size_t i = 0; i < p; i++)
    for (size_t j = 0; j < p; j++)
      if (latens_causal_graph_mark(dag, i, j) == LATENS_CAUSAL_ARROW &&
          latens_causal_graph_mark(dag, j, i) == LATENS_CAUSAL_TAIL) {
        double u = test_unif(s);
        w[i * p + j] = (u < 0 ? -1 : 1) * (0.5 + fabs(u));
      }
  for (size_t r = 0; r < n; r++)
    for (size_t j = 0; j < p; j++) { /* nodes are topologically ordered by index */
      double u1 = 0.5 * (test_unif(s) + 1), u2 = 0.5 * (test_unif(s) + 1);
      double v = sqrt(-2 * log(u1 > 1e-300 ? u1 : 1e-300)) * cos(2 * M_PI * u2);
      for (size_t i = 0; i < j; i++)
        if (w[i * p + j] != 0) v += w[i * p + j] * LATENS_MAT(x, r, i);
      LATENS_MAT(x, r, j) = v;
    }
  free(w);
  return x;
}

int causal_same_graph(const latens_causal_graph *a, const latens_causal_graph *b) {
  size_t p = latens_causal_graph_nnodes(a);
  if (p != latens_causal_graph_nnodes(b)) return 0;
  for (size_t i = 0; i < p; i++)
    for (size_t j = 0; j < p; j++)
      if (latens_causal_graph_mark(a, i, j) != latens_causal_graph_mark(b, i, j)) return 0;
  return 1;
}

int main(void) {
  Suite *(*const all[])(void) = {causal_graph_suite, causal_citest_suite, causal_pc_suite,
                                 causal_fci_suite, causal_fci_oracle_suite};
  return test_run_suites(all, sizeof all / sizeof *all);
}
