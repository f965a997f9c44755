/* pc/convert.c: an HCLT mixture as a general circuit (latens/pc.h), laid out so that the
 * circuit compiler finds its dense K x K blocks: each edge's K sums are created
 * consecutively over the same K children.  Binary models get Bernoulli leaves, categorical
 * ones categorical leaves; exact one-hot leaves (Chow-Liu trees) become indicators so that
 * finalize records the determinism and MAP is exact. */
#include "learn_impl.h"

#include <math.h>
#include <stdlib.h>

/* States of node j's latent that the circuit keeps.  A categorical Chow-Liu tree
 * (latens_pc_cltree_fit_cat) has K = max ncat and identity leaves, so its node j has only
 * ncat[j] live states; the others carry zero probability and are left out, which keeps the
 * circuit deterministic (two children indicating the same value would not be). */
static size_t live_states(const latens_pc_hclt *h, size_t j) {
  return h->ncat && h->fixed_leaves && h->ncat[j] < h->K ? h->ncat[j] : h->K;
}

/* The leaf of node j (component m), state k: an indicator when its row is one-hot. */
static int add_leaf(const latens_pc_hclt *h, size_t m, size_t j, size_t k, latens_pc *pc,
                    size_t *id) {
  if (!h->ncat) {
    double l = h->leaf[(m * h->n + j) * h->K + k];
    if (l == 0.0 || l == 1.0) return latens_pc_add_indicator(pc, j, l == 1.0, id);
    return latens_pc_add_bernoulli(pc, j, l, id); /* refuses NaN or l outside [0, 1] */
  }
  const size_t nc = h->ncat[j];
  const double *row = h->cat + (m * h->catoff[h->n] + h->catoff[j]) * h->K + k * nc;
  size_t ones = 0, zeros = 0, at = 0;
  for (size_t v = 0; v < nc; v++) {
    if (row[v] == 1.0) ones++, at = v;
    else zeros += row[v] == 0.0;
  }
  if (ones == 1 && zeros == nc - 1) return latens_pc_add_indicator(pc, j, at, id);
  return latens_pc_add_categorical(pc, j, row, id); /* refuses negative or NaN entries */
}

/* Probability mass on the states left out (must be zero) of a distribution p[q*stride]. */
static double dropped_mass(const double *p, size_t live, size_t K, size_t stride) {
  double s = 0.0;
  for (size_t q = live; q < K; q++) s += p[q * stride];
  return s;
}

/* Build component m; its root sum's id into *root.  ids: scratch of n*K entries; kids: of
 * n + K entries; wt: of K. */
static int build_component(const latens_pc_hclt *h, size_t m, latens_pc *pc, size_t *ids,
                           size_t *kids, double *wt, size_t *root) {
  static const char fn[] = "latens_pc_hclt_to_circuit";
  const size_t n = h->n, K = h->K;
  const size_t *ord = h->order + m * n;
  const long *par = h->parent + m * n;
  int st = LATENS_OK;
  /* ids[j*K + i] is, after node j is built, the unit carrying node j's message for parent
   * state i. */
  for (size_t t = n; t-- > 0 && !st;) {
    size_t j = ord[t], node = m * n + j, L = live_states(h, j);
    for (size_t k = 0; k < L && !st; k++) {
      size_t leaf = 0, nk = 0, id = 0;
      if ((st = add_leaf(h, m, j, k, pc, &leaf))) break;
      kids[nk++] = leaf;
      for (size_t c = 0; c < n; c++)
        if (par[c] == (long)j) kids[nk++] = ids[c * K + k];
      if (nk > 1) st = latens_pc_add_product(pc, kids, nk, &id);
      else id = leaf;
      kids[n + k] = id; /* the product of state k (past the <= n children), until the sums */
    }
    if (st) break;
    for (size_t k = 0; k < L; k++) kids[k] = kids[n + k];
    const double *W = h->trans + node * K * K;
    if (par[j] < 0) {
      double lost = dropped_mass(h->root + m * K, L, K, 1);
      if (lost > 0.0)
        LATENS_ERRORF(LATENS_EDOM, "%s: component %zu, root %zu: mass %g on states %zu.. that "
                      "its %zu categories leave out", fn, m, j, lost, L, L);
      st = latens_pc_add_sum(pc, kids, h->root + m * K, L, root);
      break;
    }
    for (size_t i = 0; i < live_states(h, (size_t)par[j]) && !st; i++) {
      double lost = dropped_mass(W + i, L, K, K);
      if (lost > 0.0)
        LATENS_ERRORF(LATENS_EDOM, "%s: component %zu, node %zu, parent state %zu: mass %g on "
                      "states %zu.. that its %zu categories leave out", fn, m, j, i, lost, L, L);
      for (size_t k = 0; k < L; k++) wt[k] = W[i + k * K];
      st = latens_pc_add_sum(pc, kids, wt, L, &ids[j * K + i]);
    }
  }
  return st;
}

int latens_pc_hclt_to_circuit(const latens_pc_hclt *h, latens_pc **out) {
  static const char fn[] = "latens_pc_hclt_to_circuit";
  if (!h || !out) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  *out = NULL;
  int fst = latens_pc_hclt_check_finite(fn, h); /* a NaN table would become a NaN circuit */
  if (fst) return fst;
  const size_t n = h->n, K = h->K, M = h->M;
  latens_pc *pc = latens_pc_alloc(n, h->ncat); /* ncat NULL: every variable binary */
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
