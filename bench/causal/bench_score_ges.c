/* bench/causal/bench_score_ges.c: GES with the BDeu score (ess 1) on the 10,000-sample
 * discrete networks of ../shared/data/bnlearn10k (or $LATENS_BNLEARN10K): wall time, and
 * adjacency F1 / SHD against the true DAG's CPDAG, beside PC-stable (chi-square, alpha 0.05)
 * on the same data in the same run.  Skips with a message when the data are absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <latens/latens.h>
#include "../bench.h"

static const char *data_dir(char *buf, size_t n) {
  const char *e = getenv("LATENS_BNLEARN10K");
  if (e && *e) return e;
  const char *src = getenv("LATENS_SRCDIR");
  snprintf(buf, n, "%s/../shared/data/bnlearn10k", src && *src ? src : ".");
  return buf;
}

int main(void) {
  static const char *nets[] = {"asia", "sachs", "child", "insurance", "alarm"};
  char dbuf[4096], path[4200];
  const char *dir = data_dir(dbuf, sizeof dbuf);
  snprintf(path, sizeof path, "%s/asia.data.txt", dir);
  FILE *probe = fopen(path, "r");
  if (!probe) {
    printf("bench_score_ges: %s not found (set LATENS_BNLEARN10K); skipped\n", path);
    return 0;
  }
  fclose(probe);
  printf("GES (BDeu, ess 1) vs PC-stable (chi-square, alpha 0.05), same data, vs true CPDAG\n");
  printf("%-10s %9s %7s %5s %9s %7s %5s %7s\n", "network", "GES s", "adjF1", "SHD", "PC s",
         "adjF1", "SHD", "ratio");
  for (size_t k = 0; k < sizeof nets / sizeof *nets; k++) {
    latens_table_options to;
    latens_table_options_default(&to);
    to.delim = LATENS_DELIM_WHITESPACE;
    latens_table *t = NULL;
    latens_causal_data *d = NULL;
    latens_causal_graph *truth = NULL, *cp = NULL, *g1 = NULL, *g2 = NULL;
    snprintf(path, sizeof path, "%s/%s.data.txt", dir, nets[k]);
    if (latens_table_read_numeric(path, &to, &t) != LATENS_OK ||
        latens_causal_data_from_table(t, 1, &d) != LATENS_OK)
      return 1;
    snprintf(path, sizeof path, "%s/%s.graph.txt", dir, nets[k]);
    if (latens_causal_graph_read(path, &truth) != LATENS_OK ||
        latens_causal_graph_cpdag(truth, &cp) != LATENS_OK)
      return 1;
    double t1, t2;
    const double s1 = bench_now();
    int st = latens_causal_ges(d, NULL, NULL, &g1, NULL);
    t1 = bench_now() - s1;
    latens_causal_citest *ct = latens_causal_citest_alloc(d, LATENS_CAUSAL_TEST_CHISQ, 1);
    const double s2 = bench_now();
    int st2 = latens_causal_pc(ct, NULL, NULL, NULL, &g2);
    t2 = bench_now() - s2;
    latens_causal_compare_result r1 = {0}, r2 = {0};
    if (st == LATENS_OK) latens_causal_compare(cp, g1, &r1);
    if (st2 == LATENS_OK) latens_causal_compare(cp, g2, &r2);
    printf("%-10s %9.3f %7.2f %5zu %9.3f %7.2f %5zu %7.2f\n", nets[k], t1, r1.adj_f1, r1.shd,
           t2, r2.adj_f1, r2.shd, t1 / t2);
    latens_causal_citest_free(ct);
    latens_causal_graph_free(truth), latens_causal_graph_free(cp);
    latens_causal_graph_free(g1), latens_causal_graph_free(g2);
    latens_causal_data_free(d);
    latens_table_free(t);
  }
  printf("(ratio: GES time / PC-stable time)\n");
  return 0;
}
