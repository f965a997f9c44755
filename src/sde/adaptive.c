/* sde/adaptive.c: adaptive steps on a Brownian tree.
 *
 * Rejecting a step must not change the Brownian path already committed to (else the error
 * control biases the solution: Gaines & Lyons 1997; Rackauckas & Nie 2017).  Instead of
 * RSwM's stack of future increments, the path here is a virtual Brownian tree over the whole
 * span: the root holds W(T) - W(T0) and the space-time Levy area H of the span; every dyadic
 * interval is split into its halves conditionally on its own (dW, H) with two fresh normals
 * read at a counter position given by the interval (Philox is counter-based: rng_seek).  So
 * the increment of any dyadic interval is a function of the stream alone, whatever steps
 * were tried, and steps are restricted to dyadic intervals (halve on rejection, double after
 * an easy step), which also makes the step sequence itself reproducible.
 *
 * The split: an interval of length h with increment a and H = Z/h - a/2 (Z the space-time
 * integral, Var H = h/12, independent of a) has halves (a1, H1), (a2, H2) with
 *   a = a1 + a2,  H = (H1 + H2)/2 + (a1 - a2)/4.
 * With u = a1 - a2 ~ N(0, h), s = H1 + H2 ~ N(0, h/12), v = H1 - H2 ~ N(0, h/12), all
 * independent of a and each other, H = s/2 + u/4 and u/4 | H ~ N(3H/4, h/64); v is free. */
#include "sde_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct sde_adapt {
  size_t m, nt;
  int L, lmin, level;
  double T0, T;
  uint64_t *pos, cur;
  int own_pos;         /* pos is ours to free (else shared by an ensemble) */
  latens_rng tree;
  uint64_t *cidx;      /* per level: index of the cached interval, UINT64_MAX if none */
  double *ca, *cH;     /* per level: m values of dW and of H */
  uint64_t *nid;       /* per level: the node whose normals nz holds, UINT64_MAX if none */
  double *nz;          /* per level: its 2 m normals (both children of a split read them) */
  double *pw;          /* pw[l] = 2^-l, l = 0..L (ldexp is a libm call a step) */
  double *dw, *dz, *xtry;
  size_t dcap;         /* length of xtry */
  size_t used;         /* trial steps so far */
};

static void node_normals(latens_rng *r, size_t m, uint64_t id, size_t q, double *z1, double *z2) {
  latens_rng_seek(r, 2 * (id * m + q));
  *z1 = latens_rng_normal(r), *z2 = latens_rng_normal(r);
}

void sde_adapt_free(sde_adapt *a) {
  if (!a) return;
  if (a->own_pos) free(a->pos);
  free(a->cidx), free(a->ca), free(a->cH), free(a->dw), free(a->xtry);
  free(a->nid), free(a->nz), free(a->pw);
  free(a);
}

sde_adapt *sde_adapt_alloc(size_t m, const latens_sde_options *opt, const double *t, size_t nt,
                           const sde_adapt *share, latens_rng *rng, const char *fn,
                           int *status) {
  int L = opt->max_depth;
  /* node normals sit at stream position 2 (id m + q) with node ids below 2^L: keep it in
   * a uint64 so that no two nodes share normals */
  if (m > (UINT64_MAX >> (L + 1))) {
    *status = LATENS_EDOM;
    latens_errorf(__FILE__, __LINE__, *status, "%s: max_depth = %d is too deep for m = %zu "
                  "Brownian components (need m <= 2^%d)", fn, L, m, 63 - L);
    return NULL;
  }
  sde_adapt *a = calloc(1, sizeof *a);
  if (a) {
    a->m = m, a->nt = nt, a->L = L, a->T0 = t[0], a->T = t[nt - 1] - t[0];
    a->own_pos = !share;
    a->pos = share ? share->pos : malloc(nt * sizeof *a->pos);
    a->cidx = malloc((size_t)(L + 1) * sizeof *a->cidx);
    a->ca = malloc((size_t)(L + 1) * m * sizeof *a->ca);
    a->cH = malloc((size_t)(L + 1) * m * sizeof *a->cH);
    a->dw = malloc(2 * m * sizeof *a->dw);
    a->nid = malloc((size_t)(L + 1) * sizeof *a->nid);
    a->nz = malloc((size_t)(L + 1) * 2 * m * sizeof *a->nz);
    a->pw = malloc((size_t)(L + 1) * sizeof *a->pw);
  }
  if (!a || !a->pos || !a->cidx || !a->ca || !a->cH || !a->dw || !a->nid || !a->nz || !a->pw) {
    sde_adapt_free(a);
    *status = LATENS_ENOMEM;
    latens_errorf(__FILE__, __LINE__, *status, "%s: no memory for the Brownian tree", fn);
    return NULL;
  }
  a->dz = a->dw + m;
  const double scale = ldexp(1.0, L);
  for (size_t k = 0; !share && k < nt; k++) {
    a->pos[k] = (uint64_t)llround((t[k] - t[0]) / a->T * scale);
    if (k && a->pos[k] <= a->pos[k - 1]) {
      *status = LATENS_EDOM;
      latens_errorf(__FILE__, __LINE__, *status, "%s: output times %g and %g are closer than the "
                    "finest adaptive step (span / 2^%d)", fn, t[k - 1], t[k], L);
      sde_adapt_free(a);
      return NULL;
    }
  }
  if (nt > 1 && !share) a->pos[nt - 1] = (uint64_t)1 << L;
  /* the tree's own stream: a child of the caller's stream named by one draw from it, so
   * successive solves with one rng get independent paths */
  latens_rng_split(&a->tree, rng, latens_rng_uint64(rng));
  for (int l = 0; l <= L; l++) a->cidx[l] = a->nid[l] = UINT64_MAX, a->pw[l] = ldexp(1.0, -l);
  a->cidx[0] = 0;
  for (size_t q = 0; q < m; q++) {
    double z1, z2;
    node_normals(&a->tree, m, 0, q, &z1, &z2);
    a->ca[q] = sqrt(a->T) * z1, a->cH[q] = sqrt(a->T / 12) * z2;
  }
  a->lmin = 0;
  if (isfinite(opt->dtmax) && opt->dtmax < a->T) a->lmin = (int)ceil(log2(a->T / opt->dtmax));
  if (a->lmin > L) a->lmin = L;
  int l0 = (int)lround(log2(a->T / opt->dt));
  a->level = l0 < a->lmin ? a->lmin : l0 > L ? L : l0;
  *status = LATENS_OK;
  return a;
}

/* dW and dZ of dyadic interval k at level l (memoised per level: a cached node with the same
 * index is the same node, since the tree is deterministic). */
static void interval(sde_adapt *a, int l, uint64_t k, double *dw, double *dz) {
  size_t m = a->m;
  /* the deepest cached ancestor (the root always is): the levels below it are computed from
   * it down, each from the parent just made; a step's interval usually shares its parent
   * with the last one, so this is one or two levels, not all l */
  int top = l;
  while (top > 0 && a->cidx[top] != k >> (l - top)) top--;
  for (int lev = top + 1; lev <= l; lev++) {
    uint64_t idx = k >> (l - lev);
    uint64_t parent = idx >> 1, id = ((uint64_t)1 << (lev - 1)) + parent;
    double hp = a->T * a->pw[lev - 1]; /* exactly ldexp(T, 1 - lev) */
    const double *pa = a->ca + (size_t)(lev - 1) * m, *pH = a->cH + (size_t)(lev - 1) * m;
    double *ca = a->ca + (size_t)lev * m, *cH = a->cH + (size_t)lev * m;
    double *nz = a->nz + (size_t)lev * 2 * m;
    if (a->nid[lev] != id) { /* the sibling's split read the same normals */
      for (size_t q = 0; q < m; q++) node_normals(&a->tree, m, id, q, &nz[2 * q], &nz[2 * q + 1]);
      a->nid[lev] = id;
    }
    for (size_t q = 0; q < m; q++) {
      const double n1 = nz[2 * q], n2 = nz[2 * q + 1];
      double X = 0.75 * pH[q] + sqrt(hp) / 8 * n1, Y = pH[q] - X;
      double u = 4 * X, s = 2 * Y, v = sqrt(hp / 12) * n2;
      if (idx & 1) ca[q] = 0.5 * (pa[q] - u), cH[q] = 0.5 * (s - v);
      else ca[q] = 0.5 * (pa[q] + u), cH[q] = 0.5 * (s + v);
    }
    a->cidx[lev] = idx;
  }
  double h = a->T * a->pw[l];
  for (size_t q = 0; q < m; q++) {
    dw[q] = a->ca[(size_t)l * m + q];
    dz[q] = h * (0.5 * dw[q] + a->cH[(size_t)l * m + q]);
  }
}

int sde_adapt_span(sde_adapt *a, sde_ws *w, size_t k, double *x, double *wacc,
                   latens_sde_stats *st) {
  size_t d = w->d;
  if (a->dcap < d) {
    free(a->xtry);
    if (!(a->xtry = malloc(d * sizeof *a->xtry)))
      LATENS_ERROR("sde adaptive: out of memory", LATENS_ENOMEM);
    a->dcap = d;
  }
  const int L = a->L;
  const uint64_t target = a->pos[k + 1];
  while (a->cur < target) {
    int l = a->level < a->lmin ? a->lmin : a->level;
    while (l < L && ((a->cur & ((((uint64_t)1) << (L - l)) - 1)) ||
                     a->cur + (((uint64_t)1) << (L - l)) > target))
      l++;
    uint64_t size = (uint64_t)1 << (L - l);
    double h = a->T * a->pw[l], t = a->T0 + a->T * ((double)a->cur * a->pw[L]), err = 0;
    if (++a->used > w->opt->max_steps)
      LATENS_ERRORF(LATENS_EMAXITER, "sde adaptive: %zu steps (accepted and rejected) used by "
                    "t = %g", w->opt->max_steps, t);
    interval(a, l, a->cur >> (L - l), a->dw, a->dz);
    memcpy(a->xtry, x, d * sizeof *x);
    int s = sde_step(w, t, h, a->xtry, a->dw, a->dz, &err);
    if (s) return s;
    if (!(err <= 1)) {
      if (l == L)
        LATENS_ERRORF(LATENS_ENOPROG, "sde adaptive: error %g at the finest step %g (t = %g): "
                      "tolerance not reachable", err, h, t);
      st->rejected++;
      a->level = l + 1;
      continue;
    }
    memcpy(x, a->xtry, d * sizeof *x);
    for (size_t q = 0; q < a->m; q++) wacc[q] += a->dw[q];
    a->cur += size;
    sde_stats_step(st, h);
    /* the local error of a strong order-1.5 step scales like h^2: doubling is safe below 1/4 */
    a->level = (err < 0.25 && l > a->lmin) ? l - 1 : l;
    if (!latens_all_finite(x, d))
      LATENS_ERRORF(LATENS_ENOTFINITE, "sde adaptive: the state became NaN or Inf at t = %g", t + h);
  }
  return LATENS_OK;
}
