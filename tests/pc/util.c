/* tests/pc/util.c: small circuits for the oracles (built through the public builder only). */
#include <math.h>
#include <stdlib.h>
#include "suites.h"

static double u01(uint64_t *s) { return 0.5 * (test_unif(s) + 1.0); }

static size_t rnd_node(latens_pc *pc, const size_t *vars, size_t n, size_t k, uint64_t *s);

/* A product of two sums over a random split of vars. */
static size_t rnd_prod(latens_pc *pc, const size_t *vars, size_t n, size_t k, uint64_t *s) {
  size_t perm[64], ch[2], id;
  size_t cut = 1 + (size_t)(u01(s) * (double)(n - 1));
  if (cut >= n) cut = n - 1;
  for (size_t i = 0; i < n; i++) perm[i] = vars[i];
  for (size_t i = n - 1; i > 0; i--) {
    size_t j = (size_t)(u01(s) * (double)(i + 1)) % (i + 1), t = perm[i];
    perm[i] = perm[j], perm[j] = t;
  }
  ch[0] = rnd_node(pc, perm, cut, k, s);
  ch[1] = rnd_node(pc, perm + cut, n - cut, k, s);
  latens_pc_add_product(pc, ch, 2, &id);
  return id;
}

/* Sum of k products over vars[0..n) (two Bernoullis for one variable); returns its id. */
static size_t rnd_node(latens_pc *pc, const size_t *vars, size_t n, size_t k, uint64_t *s) {
  size_t ids[8], id;
  double w[8], tot = 0;
  if (n == 1) {
    k = 2;
    for (size_t c = 0; c < k; c++) latens_pc_add_bernoulli(pc, vars[0], 0.1 + 0.8 * u01(s), &ids[c]);
  } else {
    for (size_t c = 0; c < k; c++) ids[c] = rnd_prod(pc, vars, n, k, s);
  }
  for (size_t c = 0; c < k; c++) tot += (w[c] = 0.2 + u01(s));
  for (size_t c = 0; c < k; c++) w[c] /= tot;
  latens_pc_add_sum(pc, ids, w, k, &id);
  return id;
}

latens_pc *pcu_random(size_t n, size_t k, uint64_t *seed) {
  latens_pc *pc = latens_pc_alloc(n, NULL);
  size_t vars[64];
  for (size_t i = 0; i < n; i++) vars[i] = i;
  rnd_node(pc, vars, n, k, seed);
  if (latens_pc_finalize(pc)) {
    latens_pc_free(pc);
    return NULL;
  }
  return pc;
}

/* Decision node on variable j: sum over v of [x_j = v] * (subtree on j+1..n). */
static size_t dec_node(latens_pc *pc, size_t j, size_t n, size_t depth, uint64_t *s) {
  size_t id;
  if (j >= depth) { /* below the decision depth: a product of Bernoullis */
    size_t ids[64];
    for (size_t i = j; i < n; i++) latens_pc_add_bernoulli(pc, i, 0.1 + 0.8 * u01(s), &ids[i - j]);
    latens_pc_add_product(pc, ids, n - j, &id);
    return id;
  }
  size_t br[2];
  double w[2];
  w[0] = 0.15 + 0.7 * u01(s), w[1] = 1 - w[0];
  for (size_t v = 0; v < 2; v++) {
    size_t ch[2];
    latens_pc_add_indicator(pc, j, v, &ch[0]);
    if (j + 1 < n) {
      ch[1] = dec_node(pc, j + 1, n, depth, s);
      latens_pc_add_product(pc, ch, 2, &br[v]);
    } else {
      br[v] = ch[0];
    }
  }
  latens_pc_add_sum(pc, br, w, 2, &id);
  return id;
}

latens_pc *pcu_decision(size_t n, size_t depth, uint64_t *seed) {
  latens_pc *pc = latens_pc_alloc(n, NULL);
  dec_node(pc, 0, n, depth, seed);
  if (latens_pc_finalize(pc)) {
    latens_pc_free(pc);
    return NULL;
  }
  return pc;
}

latens_pc *pcu_hclt_chain(size_t n, size_t K, uint64_t *seed) {
  latens_pc *pc = latens_pc_alloc(n, NULL);
  size_t *msg = malloc(K * sizeof *msg), *prod = malloc(K * sizeof *prod);
  double *w = malloc(K * sizeof *w);
  /* Bottom-up from the last variable: prod_j[k] = leaf_j[k] * msg_{j+1}[k],
   * msg_j[i] = sum_k W_j[i, k] prod_j[k]; the root mixes prod_0. */
  for (size_t jj = n; jj-- > 0;) {
    for (size_t k = 0; k < K; k++) {
      size_t ch[2];
      latens_pc_add_bernoulli(pc, jj, 0.05 + 0.9 * u01(seed), &ch[0]);
      if (jj + 1 < n) {
        ch[1] = msg[k];
        latens_pc_add_product(pc, ch, 2, &prod[k]);
      } else {
        prod[k] = ch[0];
      }
    }
    size_t nout = jj == 0 ? 1 : K;
    for (size_t i = 0; i < nout; i++) {
      double tot = 0;
      for (size_t k = 0; k < K; k++) tot += (w[k] = 0.1 + u01(seed));
      for (size_t k = 0; k < K; k++) w[k] /= tot;
      latens_pc_add_sum(pc, prod, w, K, &msg[i]);
    }
  }
  free(msg), free(prod), free(w);
  if (latens_pc_finalize(pc)) {
    latens_pc_free(pc);
    return NULL;
  }
  return pc;
}

double *pcu_enumerate(const latens_pc *pc) {
  size_t n = latens_pc_nvars(pc), N = (size_t)1 << n;
  latens_mat *X = latens_mat_alloc(N, n);
  latens_vec *ll = latens_vec_alloc(N);
  for (size_t r = 0; r < N; r++)
    for (size_t j = 0; j < n; j++) LATENS_MAT(X, r, j) = (double)((r >> j) & 1);
  double *out = malloc(N * sizeof *out);
  if (latens_pc_loglik(pc, X, ll, NULL) == LATENS_OK)
    for (size_t r = 0; r < N; r++) out[r] = LATENS_VEC(ll, r);
  else
    for (size_t r = 0; r < N; r++) out[r] = NAN;
  latens_mat_free(X), latens_vec_free(ll);
  return out;
}
