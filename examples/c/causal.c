/* examples/c/causal.c: causal discovery on protein-signalling data (Sachs et al. 2005).
 * PC-stable with Fisher-z tests (alpha 0.01) on the logarithms of 7,466 flow-cytometry
 * measurements of 11 proteins; each edge found is printed with its verdict against the
 * 18-edge consensus network, then adjacency precision, recall and SHD.  Checked twice: every
 * marginal Fisher-z p-value against its closed form from the raw correlation, and PC with a
 * perfect test (d-separation in the consensus network made acyclic) must return exactly
 * that network's CPDAG.   usage: causal [DATA_DIR]   (default: $LATENS_SRCDIR/data) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <latens/latens.h>

/* Log-concentrations (all positive, right-skewed), as the data set is usually analysed. */
static int log_data(const latens_table *t, latens_causal_data **out) {
  const latens_mat *x = latens_table_data(t);
  latens_mat *lx = latens_mat_alloc(x->nrow, x->ncol);
  const char **names = malloc(x->ncol * sizeof *names);
  int st = lx && names ? LATENS_OK : LATENS_ENOMEM;
  for (size_t j = 0; j < x->ncol && !st; j++) {
    names[j] = latens_table_name(t, j);
    for (size_t i = 0; i < x->nrow; i++) LATENS_MAT(lx, i, j) = log(LATENS_MAT(x, i, j));
  }
  if (!st) st = latens_causal_data_alloc(lx, names, 0, out); /* log(0) = -Inf is refused */
  latens_mat_free(lx), free(names);
  return st;
}

/* The closed-form Fisher-z p-value of Xj _||_ Xk given nothing. */
static double fisher_z(const latens_mat *x, size_t j, size_t k) {
  double m0 = 0, m1 = 0, s00 = 0, s11 = 0, s01 = 0;
  size_t n = x->nrow;
  for (size_t i = 0; i < n; i++) m0 += LATENS_MAT(x, i, j) / n, m1 += LATENS_MAT(x, i, k) / n;
  for (size_t i = 0; i < n; i++) {
    double a = LATENS_MAT(x, i, j) - m0, b = LATENS_MAT(x, i, k) - m1;
    s00 += a * a, s11 += b * b, s01 += a * b;
  }
  double r = s01 / sqrt(s00 * s11), z = sqrt(n - 3.0) * atanh(r);
  return erfc(fabs(z) / sqrt(2.0));
}

int main(int argc, char **argv) {
  const char *src = getenv("LATENS_SRCDIR");
  char dir[4096], dpath[4200], gpath[4200];
  if (argc > 1) snprintf(dir, sizeof dir, "%s", argv[1]);
  else snprintf(dir, sizeof dir, "%s/data", src ? src : ".");
  snprintf(dpath, sizeof dpath, "%s/sachs.csv", dir);
  snprintf(gpath, sizeof gpath, "%s/sachs_consensus.csv", dir);
  latens_table *t = NULL;
  latens_causal_data *d = NULL;
  latens_causal_graph *truth = NULL, *g = NULL, *dag = NULL, *cpdag = NULL, *g2 = NULL;
  latens_causal_citest *ci = NULL, *oracle = NULL;
  latens_causal_pc_options o;
  latens_causal_pc_options_default(&o);
  o.alpha = 0.01;
  int st = latens_table_read_numeric(dpath, NULL, &t);
  if (!st) st = log_data(t, &d);
  if (!st) st = latens_causal_graph_read(gpath, &truth);
  if (!st) st = (ci = latens_causal_citest_alloc(d, LATENS_CAUSAL_TEST_FISHERZ, 1)) ? 0 : LATENS_ENOMEM;
  if (!st) st = latens_causal_pc(ci, NULL, &o, NULL, &g);
  latens_causal_compare_result r;
  if (!st) st = latens_causal_compare(truth, g, &r);
  if (st) return fprintf(stderr, "causal: %s\n", latens_strerror(st)), 1;

  size_t ne = latens_causal_graph_edges(g, NULL, NULL, NULL, NULL, 0);
  size_t cn = latens_causal_graph_edges(truth, NULL, NULL, NULL, NULL, 0), cap = ne > cn ? ne : cn;
  size_t *from = malloc(cap * sizeof *from), *to = malloc(cap * sizeof *to);
  int *mf = malloc(cap * sizeof *mf), *mt = malloc(cap * sizeof *mt);
  if (!from || !to || !mf || !mt) return fprintf(stderr, "causal: out of memory\n"), 1;
  latens_causal_graph_edges(g, from, to, mf, mt, ne);
  printf("PC-stable (Fisher-z, alpha %.2f) on %zu cells x %zu proteins: %zu edges\n", o.alpha,
         latens_causal_data_n(d), latens_causal_data_p(d), ne);
  for (size_t e = 0; e < ne; e++) {
    long a = latens_causal_graph_index(truth, latens_causal_graph_name(g, from[e]));
    long b = latens_causal_graph_index(truth, latens_causal_graph_name(g, to[e]));
    int adj = a >= 0 && b >= 0 && latens_causal_graph_adjacent(truth, (size_t)a, (size_t)b);
    printf("  %-9s %s %-9s %s\n", latens_causal_graph_name(g, from[e]),
           latens_causal_edge_type(mf[e], mt[e]), latens_causal_graph_name(g, to[e]),
           adj ? "in the consensus" : "");
  }
  printf("against the consensus: adjacency precision %.2f, recall %.2f; SHD %zu\n",
         r.adj_precision, r.adj_recall, r.shd);

  /* Check 1: every marginal p-value against the closed form from the raw correlation. */
  size_t p_ = latens_causal_data_p(d), bad = 0, ntest = 0;
  double pmax = 0;
  for (size_t j = 0; j < p_ && !st; j++)
    for (size_t k = j + 1; k < p_ && !st; k++) {
      double p, pz = fisher_z(latens_causal_data_matrix(d), j, k);
      st = latens_causal_citest_pvalue(ci, j, k, NULL, 0, &p);
      bad += !st && !(fabs(p - pz) <= 1e-9 * pz + 1e-300), ntest++, pmax = fmax(pmax, pz);
    }
  /* Check 2: a perfect test recovers the Markov equivalence class.  The consensus has a
   * feedback loop; drop each edge that would close a cycle to get a DAG. */
  latens_causal_graph_edges(truth, from, to, mf, mt, cn);
  dag = st ? NULL : latens_causal_graph_copy(truth);
  if (!st && !dag) st = LATENS_ENOMEM;
  if (!st) latens_causal_graph_clear_edges(dag);
  for (size_t e = 0; e < cn && !st; e++) {
    st = latens_causal_graph_set_edge(dag, from[e], to[e], mf[e], mt[e]);
    if (!st && !latens_causal_graph_is_dag(dag))
      st = latens_causal_graph_set_edge(dag, from[e], to[e], LATENS_CAUSAL_NONE, LATENS_CAUSAL_NONE);
  }
  if (!st) st = (oracle = latens_causal_citest_alloc_dsep(dag)) ? 0 : LATENS_ENOMEM;
  if (!st) st = latens_causal_pc(oracle, NULL, NULL, NULL, &g2);
  if (!st) st = latens_causal_graph_cpdag(dag, &cpdag);
  latens_causal_compare_result r2;
  if (!st) st = latens_causal_compare(cpdag, g2, &r2);
  if (st) return fprintf(stderr, "causal: %s\n", latens_strerror(st)), 1;
  printf("check: %zu of %zu marginal p-values differ from the closed form (largest %.3g); PC with"
         " d-separation in the %zu-edge DAG: SHD %zu to its CPDAG\n", bad, ntest, pmax,
         latens_causal_graph_nedges(dag), r2.shd);
  int ok = bad == 0 && r2.shd == 0 && r2.tp_adj == latens_causal_graph_nedges(dag);
  latens_causal_citest_free(ci), latens_causal_citest_free(oracle);
  latens_causal_graph_free(truth), latens_causal_graph_free(g), latens_causal_graph_free(dag);
  latens_causal_graph_free(cpdag), latens_causal_graph_free(g2);
  latens_causal_data_free(d), latens_table_free(t);
  free(from), free(to), free(mf), free(mt);
  if (!ok) fprintf(stderr, "causal: a check failed\n");
  return ok ? 0 : 1;
}
