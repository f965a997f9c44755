/* bench/causal/bench_fci_ref.c: FCI against causal-learn's stored answers (issue 6).
 *
 * On each of the 8 bnlearn networks (10,000 discrete samples, chi-square, alpha 0.05) runs
 * FCI three ways and prints, beside the same-run reference (causal-learn's stored graph,
 * NAME.fci_chisq_0.05.txt, read in this run):
 *   - zhang:   the default (Zhang's rules, Possible-D-SEP as Spirtes et al., subsets <= 3);
 *   - zhang2:  Zhang's rules with causal-learn's effective Possible-D-SEP (fci_pdsep 2);
 *   - cl:      the causal-learn emulation (LATENS_CAUSAL_FCI_RULES_CAUSALLEARN, fci_pdsep 2);
 * the number of edges whose marks differ from the reference (0 = identical graph), the wall
 * time, and the SHD of each graph and of the reference against the true PAG (the true DAG's
 * PAG, all nodes observed: FCI with the d-separation oracle).  Last line: how many of the
 * networks each variant reproduces exactly.
 * Data: LATENS_BNLEARN10K, else $LATENS_SRCDIR/../shared/data/bnlearn10k; skipped with a
 * message when absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <latens/latens.h>
#include "../bench.h"

static size_t ndiff(const latens_causal_graph *a, const latens_causal_graph *b, size_t p) {
  size_t n = 0;
  for (size_t i = 0; i < p; i++)
    for (size_t j = i + 1; j < p; j++)
      n += latens_causal_graph_mark(a, i, j) != latens_causal_graph_mark(b, i, j) ||
           latens_causal_graph_mark(a, j, i) != latens_causal_graph_mark(b, j, i);
  return n;
}

static const char *why(void) {
  const char *r = NULL;
  latens_last_error(&r);
  return r ? r : "unknown error";
}

static size_t shd(const latens_causal_graph *truth, const latens_causal_graph *g) {
  latens_causal_compare_result r;
  return latens_causal_compare(truth, g, &r) ? (size_t)-1 : r.shd;
}

int main(void) {
  latens_set_error_handler_off();
  const char *env = getenv("LATENS_BNLEARN10K"), *src = getenv("LATENS_SRCDIR");
  char dir[4096], path[4300];
  if (env) snprintf(dir, sizeof dir, "%s", env);
  else snprintf(dir, sizeof dir, "%s/../shared/data/bnlearn10k", src ? src : ".");
  const char *nets[8] = {"asia", "cancer", "earthquake", "survey", "sachs", "child", "insurance", "alarm"};
  const char *vname[3] = {"zhang", "zhang2", "cl"};
  const int vrules[3] = {LATENS_CAUSAL_FCI_RULES_ZHANG, LATENS_CAUSAL_FCI_RULES_ZHANG,
                         LATENS_CAUSAL_FCI_RULES_CAUSALLEARN};
  const int vpdsep[3] = {1, 2, 2};
  int same[3] = {0, 0, 0}, ran = 0;
  printf("%-11s %-7s %12s %9s %9s | SHD vs true PAG: %s\n", "network", "variant", "diff_edges", "time_s",
         "", "variant / causal-learn");
  for (int q = 0; q < 8; q++) {
    snprintf(path, sizeof path, "%s/%s.data.txt", dir, nets[q]);
    latens_table *tab = NULL;
    latens_causal_data *d = NULL;
    if (latens_table_read_numeric(path, NULL, &tab) || latens_causal_data_from_table(tab, 1, &d)) {
      printf("%-11s skipped (%s not found or unreadable; set LATENS_BNLEARN10K)\n", nets[q], path);
      latens_table_free(tab);
      continue;
    }
    size_t p = latens_causal_data_p(d);
    latens_causal_graph *ref = NULL, *dag = NULL, *pag = NULL;
    snprintf(path, sizeof path, "%s/causal-learn-output/%s.fci_chisq_0.05.txt", dir, nets[q]);
    int st = latens_causal_graph_read_causallearn(path, p, NULL, &ref);
    snprintf(path, sizeof path, "%s/%s.graph.txt", dir, nets[q]);
    if (!st) st = latens_causal_graph_read(path, &dag);
    if (!st) st = latens_causal_graph_pag(dag, &pag);
    if (st) {
      printf("%-11s skipped (reference or true graph missing: %s)\n", nets[q], why());
    } else {
      ran++;
      for (int v = 0; v < 3; v++) {
        latens_causal_citest *t = latens_causal_citest_alloc(d, LATENS_CAUSAL_TEST_CHISQ, 1);
        latens_causal_pc_options o;
        latens_causal_pc_options_default(&o);
        o.fci_pdsep = vpdsep[v];
        latens_causal_graph *g = NULL;
        double t0 = bench_now();
        int rs = latens_causal_fci_rules(t, NULL, &o, vrules[v], NULL, &g);
        double sec = bench_now() - t0;
        if (rs) {
          printf("%-11s %-7s failed: %s\n", nets[q], vname[v], why());
        } else {
          size_t nd = ndiff(g, ref, p);
          same[v] += nd == 0;
          printf("%-11s %-7s %12zu %9.3f %9s | %zu / %zu\n", nets[q], vname[v], nd, sec,
                 nd ? "" : "identical", shd(pag, g), shd(pag, ref));
        }
        latens_causal_graph_free(g);
        latens_causal_citest_free(t);
      }
    }
    latens_causal_graph_free(ref), latens_causal_graph_free(dag), latens_causal_graph_free(pag);
    latens_causal_data_free(d), latens_table_free(tab);
  }
  printf("identical to causal-learn's stored answer on %d networks: zhang %d, zhang2 %d, cl %d\n", ran,
         same[0], same[1], same[2]);
  return 0;
}
