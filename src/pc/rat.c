/* pc/rat.c: RAT-SPN (Peharz et al., UAI 2019: random region graphs) and fully factorised
 * circuits, built through the circuit builder of latens/pc.h over binary or categorical
 * variables. */
#include "learn_impl.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
  latens_pc *pc;
  size_t S, I; /* sums per inner region, input distributions per leaf region */
  const size_t *ncat; /* categories per variable; NULL: binary */
  latens_rng *rng;
  size_t *buf; /* scratch for children lists, S*S entries */
  double *w;   /* scratch weights, also a categorical leaf's probabilities */
} rat_ctx;

/* A random input on variable v: Bernoulli p in [0.25, 0.75], or categorical with entries
 * 0.5 + u normalised (so no category starts far from uniform, as in the binary case). */
static int random_input(rat_ctx *c, size_t v, size_t *id) {
  if (!c->ncat) return latens_pc_add_bernoulli(c->pc, v, 0.25 + 0.5 * latens_rng_uniform(c->rng), id);
  double tot = 0.0;
  for (size_t k = 0; k < c->ncat[v]; k++) tot += (c->w[k] = 0.5 + latens_rng_uniform(c->rng));
  for (size_t k = 0; k < c->ncat[v]; k++) c->w[k] /= tot;
  return latens_pc_add_categorical(c->pc, v, c->w, id);
}

/* A leaf region over vars[0..nv): I factorised distributions (products of random inputs),
 * ids into out[0..I). */
static int leaf_region(rat_ctx *c, const size_t *vars, size_t nv, size_t *out) {
  size_t *kids = c->buf;
  for (size_t u = 0; u < c->I; u++) {
    for (size_t t = 0; t < nv; t++) {
      int st = random_input(c, vars[t], &kids[t]);
      if (st) return st;
    }
    int st = nv > 1 ? latens_pc_add_product(c->pc, kids, nv, &out[u]) : (out[u] = kids[0], 0);
    if (st) return st;
  }
  return LATENS_OK;
}

/* Region over vars[0..nv) split to the given depth; the ids of its `nout` units into out
 * (nout = S for inner regions, or 1 for the top when top != 0: then the caller makes the
 * root sum from the products instead, and out receives the products). */
static int region(rat_ctx *c, const size_t *vars, size_t nv, size_t depth, size_t *out,
                  size_t *nout) {
  if (depth == 0 || nv < 2) {
    *nout = c->I;
    return leaf_region(c, vars, nv, out);
  }
  size_t wide = c->I > c->S ? c->I : c->S, h = nv / 2, *l = malloc(2 * wide * sizeof *l);
  size_t nl = 0, nr = 0;
  if (!l) LATENS_ERROR("latens_pc_rat: no memory", LATENS_ENOMEM);
  size_t *r = l + wide;
  int st = region(c, vars, h, depth - 1, l, &nl);
  if (!st) st = region(c, vars + h, nv - h, depth - 1, r, &nr);
  size_t *prods = malloc(nl * nr * sizeof *prods);
  if (!st && !prods) {
    st = LATENS_ENOMEM;
    latens_error("latens_pc_rat: no memory", __FILE__, __LINE__, st);
  }
  for (size_t a = 0; a < nl && !st; a++) /* every pair of the children's units */
    for (size_t b = 0; b < nr && !st; b++) {
      size_t two[2] = {l[a], r[b]};
      st = latens_pc_add_product(c->pc, two, 2, &prods[a * nr + b]);
    }
  /* S sums over the same product list, created consecutively: one dense block */
  for (size_t s = 0; s < c->S && !st; s++) {
    double tot = 0.0;
    for (size_t q = 0; q < nl * nr; q++) tot += (c->w[q] = 0.5 + latens_rng_uniform(c->rng));
    for (size_t q = 0; q < nl * nr; q++) c->w[q] /= tot;
    st = latens_pc_add_sum(c->pc, prods, c->w, nl * nr, &out[s]);
  }
  *nout = c->S;
  free(prods), free(l);
  return st;
}

int latens_pc_rat_alloc(size_t n, size_t depth, size_t reps, size_t S, size_t I,
                        latens_rng *rng, latens_pc **out) {
  return latens_pc_rat_alloc_cat(n, NULL, depth, reps, S, I, rng, out);
}

int latens_pc_rat_alloc_cat(size_t n, const size_t *ncat, size_t depth, size_t reps, size_t S,
                            size_t I, latens_rng *rng, latens_pc **out) {
  static const char fn[] = "latens_pc_rat_alloc";
  if (!out || !rng) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL out or rng", fn);
  *out = NULL;
  if (n == 0 || reps == 0 || S == 0 || I == 0 || depth > 30)
    LATENS_ERRORF(LATENS_EINVAL, "%s: need n, reps, S, I >= 1 and depth <= 30 (n %zu, depth %zu, "
                  "reps %zu, S %zu, I %zu)", fn, n, depth, reps, S, I);
  /* A region yields S sums, or I inputs when it is a leaf (depth 0, or a single variable):
   * a product layer has at most wide^2 children and the root at most reps * wide. */
  const size_t wide = S > I ? S : I, wmax = latens_mul_size(wide, wide);
  const size_t ntop = latens_mul_size(reps, wide);
  size_t nw = wmax > ntop ? wmax : ntop;
  for (size_t j = 0; ncat && j < n; j++) nw = ncat[j] > nw ? ncat[j] : nw;
  if (wmax == 0 || ntop == 0 || latens_mul_size(nw, sizeof(double)) == 0 ||
      latens_mul_size(n, sizeof(size_t)) == 0)
    LATENS_ERRORF(LATENS_EINVAL, "%s: sizes overflow (n %zu, reps %zu, S %zu, I %zu)", fn, n, reps,
                  S, I);
  rat_ctx c = {latens_pc_alloc(n, ncat), S, I, ncat, rng, NULL, NULL}; /* checks ncat */
  size_t *vars = malloc(n * sizeof *vars), *tops = malloc(ntop * sizeof *tops), nt = 0;
  c.buf = malloc(n * sizeof *c.buf); /* a leaf region's inputs, at most n */
  c.w = malloc(nw * sizeof *c.w);
  int st = c.pc && vars && tops && c.buf && c.w ? LATENS_OK : LATENS_ENOMEM;
  if (st && c.pc) latens_error("latens_pc_rat_alloc: no memory", __FILE__, __LINE__, st);
  /* latens_pc_alloc has reported its own reason (a bad ncat entry, or memory) */
  if (!c.pc && latens_last_error(NULL)) st = latens_last_error(NULL);
  for (size_t r = 0; r < reps && !st; r++) {
    for (size_t j = 0; j < n; j++) vars[j] = j;
    for (size_t j = n; j-- > 1;) { /* a random split order per repetition */
      size_t k = (size_t)(latens_rng_uniform(rng) * (double)(j + 1)), t;
      k = k > j ? j : k, t = vars[j], vars[j] = vars[k], vars[k] = t;
    }
    size_t nr;
    st = region(&c, vars, n, depth, tops + nt, &nr);
    nt += nr;
  }
  if (!st) {
    for (size_t q = 0; q < nt; q++) c.w[q] = 1.0 / (double)nt;
    size_t root;
    st = latens_pc_add_sum(c.pc, tops, c.w, nt, &root);
    if (!st) st = latens_pc_set_root(c.pc, root);
  }
  if (!st) st = latens_pc_finalize(c.pc);
  free(vars), free(tops), free(c.buf), free(c.w);
  if (st) return latens_pc_free(c.pc), st;
  *out = c.pc;
  return LATENS_OK;
}

int latens_pc_factorized_fit(const latens_mat *train, double alpha, latens_pc **out) {
  static const char fn[] = "latens_pc_factorized_fit";
  if (!out) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL out", fn);
  *out = NULL;
  int st = latens_pc_check_binary(fn, "train", train, LATENS_ANY, 1);
  if (st) return st;
  if (train->ncol == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: train has no columns", fn);
  if (!(alpha >= 0.0) || !isfinite(alpha)) LATENS_ERRORF(LATENS_EDOM, "%s: alpha = %g", fn, alpha);
  const size_t n = train->ncol;
  latens_pc *pc = latens_pc_alloc(n, NULL);
  size_t *ids = malloc(n * sizeof *ids), root;
  st = pc && ids ? LATENS_OK : LATENS_ENOMEM;
  for (size_t j = 0; j < n && !st; j++) {
    double c1 = 0.0, cn = 0.0;
    for (size_t i = 0; i < train->nrow; i++) {
      double x = LATENS_MAT(train, i, j);
      if (!isnan(x)) c1 += x, cn += 1.0;
    }
    double p = cn + 2.0 * alpha > 0.0 ? (c1 + alpha) / (cn + 2.0 * alpha) : 0.5;
    st = latens_pc_add_bernoulli(pc, j, p, &ids[j]);
  }
  if (!st) st = latens_pc_add_product(pc, ids, n, &root);
  if (!st) st = latens_pc_set_root(pc, root);
  if (!st) st = latens_pc_finalize(pc);
  free(ids);
  if (st) return latens_pc_free(pc), st;
  *out = pc;
  return LATENS_OK;
}
