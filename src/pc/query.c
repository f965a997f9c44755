/* pc/query.c: conditionals, MAP by max-product with backtracking, and sampling.
 *
 * MAP and sampling both run the upward pass over a chunk (max-product for MAP, ordinary
 * marginals with the evidence for sampling) and then walk down one sample at a time with an
 * explicit stack: at a sum the walk takes one child (the arg-max of log w + value, or a draw
 * with probability w p_c(e) / p_n(e)), at a product all children.  In a decomposable circuit
 * the walk reaches each variable through exactly one input unit. */
#include "pc_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int latens_pc_conditional(const latens_pc *pc, const latens_mat *X, const size_t *query,
                          size_t nq, latens_vec *out, latens_pc_work *w) {
  static const char fn[] = "latens_pc_conditional";
  int st = pc_check_ready(fn, pc, w);
  if (st || (st = pc_check_data(fn, pc, X))) return st;
  if ((st = latens_check_vec(fn, "out", out, X->nrow))) return st;
  if (nq == 0 || !query) LATENS_ERRORF(LATENS_EINVAL, "%s: no query variables", fn);
  for (size_t q = 0; q < nq; q++) {
    if (query[q] >= pc->nvars)
      LATENS_ERRORF(LATENS_EDOM, "%s: query variable %zu out of range (nvars %zu)", fn, query[q],
                    pc->nvars);
    for (size_t i = 0; i < X->nrow; i++)
      if (isnan(LATENS_MAT(X, i, query[q])))
        LATENS_ERRORF(LATENS_EDOM, "%s: query variable %zu is missing in row %zu", fn, query[q], i);
  }
  latens_mat *E = latens_mat_alloc(X->nrow, pc->nvars);
  latens_vec *le = latens_vec_alloc(X->nrow);
  if (!E || !le || (st = latens_mat_copy(E, X)) != LATENS_OK) {
    latens_mat_free(E), latens_vec_free(le);
    return st ? st : LATENS_ENOMEM;
  }
  for (size_t q = 0; q < nq; q++)
    for (size_t i = 0; i < X->nrow; i++) LATENS_MAT(E, i, query[q]) = NAN;
  st = latens_pc_loglik(pc, X, out, w);
  if (!st) st = latens_pc_loglik(pc, E, le, w);
  for (size_t i = 0; !st && i < X->nrow; i++) {
    double e = LATENS_VEC(le, i);
    LATENS_VEC(out, i) = e > -INFINITY ? LATENS_VEC(out, i) - e : NAN;
  }
  latens_mat_free(E), latens_vec_free(le);
  return st;
}

/* Mode of an input unit (for a missing variable in MAP). */
static double input_mode(const latens_pc *pc, size_t u) {
  int t = pc->type[u];
  if (t == LATENS_PC_INDICATOR) return (double)pc->value[u];
  const double *p = pc->params + pc_param_offset(pc, u);
  if (t == LATENS_PC_GAUSSIAN) return p[0];
  size_t k = pc->ncat[pc->var[u]], best = 0;
  for (size_t c = 1; c < k; c++)
    if (p[c] > p[best]) best = c;
  return (double)best;
}

/* Draw from an input unit (for a missing variable in sampling). */
static int input_draw(const latens_pc *pc, size_t u, latens_rng *r, double *x) {
  int t = pc->type[u];
  if (t == LATENS_PC_INDICATOR) {
    *x = (double)pc->value[u];
    return LATENS_OK;
  }
  const double *p = pc->params + pc_param_offset(pc, u);
  if (t == LATENS_PC_GAUSSIAN) {
    *x = latens_rng_gaussian(r, p[0], p[1]);
    return LATENS_OK;
  }
  size_t k;
  int st = latens_rng_categorical(r, p, pc->ncat[pc->var[u]], &k);
  *x = (double)k;
  return st;
}

/* Walk down from the root for sample b of the chunk starting at row r0.  r NULL: MAP. */
static int walk(const latens_pc *pc, latens_pc_work *w, latens_mat *X, size_t r0, size_t b,
                latens_rng *r, size_t *stack, double *lw) {
  const pc_compiled *c = &pc->comp;
  size_t ld = w->batch, top = 0;
  stack[top++] = latens_pc_root(pc);
  while (top) {
    size_t u = stack[--top];
    int t = pc->type[u];
    const size_t *ch = pc->children + pc->choff[u];
    size_t n = pc->choff[u + 1] - pc->choff[u];
    if (t == LATENS_PC_PRODUCT) {
      for (size_t e = n; e-- > 0;) stack[top++] = ch[e];
    } else if (t == LATENS_PC_SUM) {
      const double *wt = pc->params + pc_param_offset(pc, u);
      size_t best = 0;
      for (size_t e = 0; e < n; e++) {
        lw[e] = log(wt[e]) + w->V[c->slot[ch[e]] * ld + b];
        if (lw[e] > lw[best]) best = e;
      }
      if (r) {
        int st = latens_rng_categorical_log(r, lw, n, &best);
        if (st) return st;
      }
      stack[top++] = ch[best];
    } else {
      double *x = &LATENS_MAT(X, r0 + b, pc->var[u]);
      if (!isnan(*x)) continue;
      if (!r) *x = input_mode(pc, u);
      else {
        int st = input_draw(pc, u, r, x);
        if (st) return st;
      }
    }
  }
  return LATENS_OK;
}

/* MAP (r NULL) or sampling (seed given) over all rows of X. */
static int topdown(const char *fn, const latens_pc *pc, latens_mat *X, latens_vec *logp,
                   const uint64_t *seed, latens_pc_work *w) {
  int st = pc_check_ready(fn, pc, w);
  if (st || (st = pc_check_data(fn, pc, X))) return st;
  if (logp && (st = latens_check_vec(fn, "logp", logp, X->nrow))) return st;
  latens_pc_work *own = w ? NULL : latens_pc_work_alloc(pc, pc_auto_batch(pc, X->nrow));
  if (!w && !own) return LATENS_ENOMEM;
  if (!w) w = own;
  size_t *stack = malloc((pc->nunits + 1) * sizeof *stack);
  double *lw = malloc((pc->comp.max_nch + 1) * sizeof *lw);
  if (!stack || !lw) {
    free(stack), free(lw), latens_pc_work_free(own);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  }
  size_t rs = pc->comp.root_slot;
  for (size_t r0 = 0; r0 < X->nrow && !st; r0 += w->batch) {
    size_t nb = X->nrow - r0 < w->batch ? X->nrow - r0 : w->batch;
    pc_forward(pc, w, X, r0, nb, seed ? PC_FWD_PLAIN : PC_FWD_MAX);
    for (size_t b = 0; b < nb && !st; b++) {
      double root = w->V[rs * w->batch + b];
      if (logp) LATENS_VEC(logp, r0 + b) = root;
      if (!(root > -INFINITY)) {
        if (!seed) continue; /* MAP of impossible evidence: leave the row as it is */
        latens_errorf(__FILE__, __LINE__, LATENS_EDOM,
                      "%s: the evidence of row %zu has probability 0", fn, r0 + b);
        st = LATENS_EDOM;
        break;
      }
      latens_rng r;
      if (seed) latens_rng_init(&r, *seed, r0 + b);
      st = walk(pc, w, X, r0, b, seed ? &r : NULL, stack, lw);
    }
  }
  free(stack), free(lw);
  latens_pc_work_free(own);
  return st;
}

int latens_pc_map(const latens_pc *pc, latens_mat *X, latens_vec *logp, latens_pc_work *w) {
  return topdown("latens_pc_map", pc, X, logp, NULL, w);
}

int latens_pc_sample(const latens_pc *pc, latens_mat *X, latens_rng *rng, latens_pc_work *w) {
  if (!rng) LATENS_ERROR("latens_pc_sample: rng is NULL", LATENS_EINVAL);
  uint64_t seed = latens_rng_uint64(rng);
  return topdown("latens_pc_sample", pc, X, NULL, &seed, w);
}
