/* pc/convert.c: an HCLT mixture as a general circuit (latens/pc.h), laid out so that the
 * circuit compiler finds its dense K x K blocks: each edge's K sums are created
 * consecutively over the same K children. */
#include "learn_impl.h"

#include <math.h>
#include <stdlib.h>

/* Build component m; its root sum's id into *root.  ids: scratch of n*K entries; kids: of
 * n + K entries; wt: of K. */
static int build_component(const latens_pc_hclt *h, size_t m, latens_pc *pc, size_t *ids,
                           size_t *kids, double *wt, size_t *root) {
  const size_t n = h->n, K = h->K;
  const size_t *ord = h->order + m * n;
  const long *par = h->parent + m * n;
  int st = LATENS_OK;
  /* ids[j*K + i] is, after node j is built, the unit carrying node j's message for parent
   * state i (or, at the root, the product of state k). */
  for (size_t t = n; t-- > 0 && !st;) {
    size_t j = ord[t], node = m * n + j;
    for (size_t k = 0; k < K && !st; k++) {
      size_t leaf = 0, nk = 0, id = 0;
      double l = h->leaf[node * K + k];
      /* Exact 0/1 leaves (Chow-Liu trees) become indicators, so determinism is visible. */
      if (l == 0.0 || l == 1.0) st = latens_pc_add_indicator(pc, j, l == 1.0, &leaf);
      else st = latens_pc_add_bernoulli(pc, j, l, &leaf); /* refuses NaN or l outside [0, 1] */
      if (st) break;
      kids[nk++] = leaf;
      for (size_t c = 0; c < n; c++)
        if (par[c] == (long)j) kids[nk++] = ids[c * K + k];
      if (nk > 1) st = latens_pc_add_product(pc, kids, nk, &id);
      else id = leaf;
      kids[n + k] = id; /* the product of state k (past the <= n children), until the sums */
    }
    if (st) break;
    for (size_t k = 0; k < K; k++) kids[k] = kids[n + k];
    if (par[j] < 0) {
      st = latens_pc_add_sum(pc, kids, h->root + m * K, K, root);
      break;
    }
    const double *W = h->trans + node * K * K;
    for (size_t i = 0; i < K && !st; i++) {
      for (size_t k = 0; k < K; k++) wt[k] = W[i + k * K];
      st = latens_pc_add_sum(pc, kids, wt, K, &ids[j * K + i]);
    }
  }
  return st;
}

int latens_pc_hclt_to_circuit(const latens_pc_hclt *h, latens_pc **out) {
  static const char fn[] = "latens_pc_hclt_to_circuit";
  if (!h || !out) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  *out = NULL;
  /* The builder below makes Bernoulli leaves: a categorical model's leaves would be lost. */
  if (h->ncat) LATENS_ERRORF(LATENS_EUNIMPL, "%s: categorical HCLTs are not supported yet", fn);
  const size_t n = h->n, K = h->K, M = h->M;
  latens_pc *pc = latens_pc_alloc(n, NULL);
  size_t *ids = malloc(n * K * sizeof *ids), *kids = malloc((n + K) * sizeof *kids);
  size_t *roots = malloc(M * sizeof *roots);
  double *wt = malloc(K * sizeof *wt);
  int st = pc && ids && kids && roots && wt ? LATENS_OK : LATENS_ENOMEM;
  if (st) latens_error("latens_pc_hclt_to_circuit: no memory", __FILE__, __LINE__, st);
  for (size_t m = 0; m < M && !st; m++) st = build_component(h, m, pc, ids, kids, wt, roots + m);
  if (!st && M > 1) {
    size_t top;
    st = latens_pc_add_sum(pc, roots, h->mix, M, &top);
    if (!st) st = latens_pc_set_root(pc, top);
  } else if (!st) {
    st = latens_pc_set_root(pc, roots[0]);
  }
  if (!st) st = latens_pc_finalize(pc);
  free(ids), free(kids), free(roots), free(wt);
  if (st) return latens_pc_free(pc), st;
  *out = pc;
  return LATENS_OK;
}
