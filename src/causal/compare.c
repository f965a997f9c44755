/* causal/compare.c: structural Hamming distance and adjacency / arrowhead precision-recall. */
#include "causal_impl.h"

#include <stdlib.h>

static double ratio(size_t a, size_t b) { return b ? (double)a / (double)b : 1.0; }
static double f1(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

int latens_causal_compare(const latens_causal_graph *truth, const latens_causal_graph *est,
                          latens_causal_compare_result *res) {
  if (!truth || !est || !res) LATENS_ERROR("latens_causal_compare: NULL argument", LATENS_EINVAL);
  size_t p = est->p;
  long *map = malloc((p ? p : 1) * sizeof *map);
  if (!map) LATENS_ERROR("latens_causal_compare: out of memory", LATENS_ENOMEM);
  for (size_t i = 0; i < p; i++) {
    map[i] = latens_causal_graph_index(truth, est->names[i]);
    if (map[i] < 0 || truth->latent[map[i]]) {
      const char *nm = est->names[i];
      free(map);
      LATENS_ERRORF(LATENS_EINVAL, "latens_causal_compare: node \"%s\" of the estimate is not an observed node of the truth", nm);
    }
  }
  size_t nobs = 0;
  for (size_t i = 0; i < truth->p; i++) nobs += !truth->latent[i];
  if (nobs != p) {
    free(map);
    LATENS_ERRORF(LATENS_EINVAL, "latens_causal_compare: the truth has %zu observed nodes, the estimate %zu", nobs, p);
  }
  latens_causal_compare_result r = {0};
  for (size_t i = 0; i < p; i++)
    for (size_t j = i + 1; j < p; j++) {
      size_t ti = (size_t)map[i], tj = (size_t)map[j];
      int ta = CG_ADJ(truth, ti, tj), ea = CG_ADJ(est, i, j);
      if (ta && ea) {
        r.tp_adj++;
        r.shd += (CG_MARK(truth, ti, tj) != CG_MARK(est, i, j)) + (CG_MARK(truth, tj, ti) != CG_MARK(est, j, i));
      } else if (ta) {
        r.fn_adj++, r.shd++;
      } else if (ea) {
        r.fp_adj++, r.shd++;
      }
      /* Arrowheads at i and at j, counted over all edges of either graph. */
      for (int end = 0; end < 2; end++) {
        int tarr = ta && CG_MARK(truth, end ? ti : tj, end ? tj : ti) == LATENS_CAUSAL_ARROW;
        int earr = ea && CG_MARK(est, end ? i : j, end ? j : i) == LATENS_CAUSAL_ARROW;
        r.tp_arrow += tarr && earr;
        r.fp_arrow += !tarr && earr;
        r.fn_arrow += tarr && !earr;
      }
    }
  free(map);
  r.adj_precision = ratio(r.tp_adj, r.tp_adj + r.fp_adj);
  r.adj_recall = ratio(r.tp_adj, r.tp_adj + r.fn_adj);
  r.adj_f1 = f1(r.adj_precision, r.adj_recall);
  r.arrow_precision = ratio(r.tp_arrow, r.tp_arrow + r.fp_arrow);
  r.arrow_recall = ratio(r.tp_arrow, r.tp_arrow + r.fn_arrow);
  r.arrow_f1 = f1(r.arrow_precision, r.arrow_recall);
  *res = r;
  return LATENS_OK;
}
