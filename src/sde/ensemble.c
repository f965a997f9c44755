/* sde/ensemble.c: many paths in parallel.
 *
 * Path p always draws from stream (seed, p) (Philox), or with options.rng = FAST from lane
 * p mod 16 of fast stream (seed, p / 16), and is advanced by exactly the code of a single
 * solve, or, for Euler-Maruyama and SRIW1 on a built-in scalar model (EM: also
 * Lotka-Volterra), sixteen or four paths at a time by the same arithmetic interleaved or in
 * vector lanes (sde_em_steps_group, sde_sri_steps_group; tests/sde/test_ensemble.c checks
 * bitwise), so a path never depends on the thread count, the schedule or its neighbours;
 * reductions over paths run serially in path order.  Summaries advance all paths together
 * one output interval at a time, so memory is O(npaths (d + m)) whatever the grid, and
 * quantiles are exact. */
#include "sde_impl.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Per-path state. */
typedef struct {
  double *x, *wacc; /* d, m */
  latens_rng rng;
  latens_rng_lane lane; /* options.rng = FAST: the path's lane, set at its first interval */
  sde_adapt *ad;
} path_state;

typedef struct {
  const latens_sde_model *md;
  const latens_sde_options *opt;
  const double *t;
  size_t nt, npaths, d, m;
  int need_dz, nth;
  uint64_t seed;
  int fast;              /* options.rng = FAST: paths draw from their lanes */
  int group;             /* paths advance in groups (sde_em_steps_group, or ... */
  int sri;               /* ... sde_sri_steps_group for SRI: by eights and fours) */
  sde_ws *ws;            /* one per thread */
  double *tbuf;          /* per thread: dw, dz (2m) */
  latens_sde_stats *tst; /* per thread */
  path_state *ps;
  double *pbuf;
  sde_adapt *grid;       /* shared output positions (adaptive) */
  int *pstatus;          /* per path */
  size_t msg_path;       /* the lowest failing path so far, and its error message */
  char msg[400];
} ens;

static void ens_free(ens *e) {
  if (e->ws)
    for (int i = 0; i < e->nth; i++) sde_ws_free(&e->ws[i]);
  if (e->ps)
    for (size_t p = 0; p < e->npaths; p++) sde_adapt_free(e->ps[p].ad);
  sde_adapt_free(e->grid);
  free(e->ws), free(e->tbuf), free(e->tst), free(e->ps), free(e->pbuf), free(e->pstatus);
}

static int ens_init(ens *e, const char *fn, const latens_sde_model *md,
                    const latens_sde_options *opt, const double *x0, const double *t, size_t nt,
                    size_t npaths, uint64_t seed) {
  memset(e, 0, sizeof *e);
  int s = sde_grid_check(fn, md, opt, x0, t, nt, &e->need_dz);
  if (s) return s;
  if (npaths == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: npaths is 0", fn);
  e->md = md, e->opt = opt, e->t = t, e->nt = nt, e->npaths = npaths, e->d = md->d, e->m = md->m;
  e->nth = 1, e->seed = seed;
  e->fast = opt->rng == LATENS_SDE_RNG_FAST;
  e->sri = opt->scheme == LATENS_SDE_SRI;
  /* the SRI kernel knows the scalar built-ins only, the EM kernels Lotka-Volterra too */
  const sde_builtin_kind kind = sde_builtin_of(md);
  e->group = !opt->adaptive && kind != SDE_BUILTIN_NONE &&
             (opt->scheme == LATENS_SDE_EM || (e->sri && kind != SDE_BUILTIN_LV));
#ifdef _OPENMP
  e->nth = opt->threads > 0 ? opt->threads : omp_get_max_threads();
  if ((size_t)e->nth > npaths) e->nth = (int)npaths;
#endif
  size_t d = e->d, m = e->m;
  e->ws = calloc((size_t)e->nth, sizeof *e->ws);
  e->tbuf = malloc((size_t)e->nth * 2 * m * sizeof *e->tbuf);
  e->tst = malloc((size_t)e->nth * sizeof *e->tst);
  e->ps = calloc(npaths, sizeof *e->ps);
  e->pbuf = calloc(npaths, (d + m) * sizeof *e->pbuf);
  e->pstatus = calloc(npaths, sizeof *e->pstatus);
  if (!e->ws || !e->tbuf || !e->tst || !e->ps || !e->pbuf || !e->pstatus) {
    ens_free(e);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for %zu paths of dimension %zu", fn, npaths, d);
  }
  for (int i = 0; i < e->nth; i++) {
    if ((s = sde_ws_init(&e->ws[i], md, opt, fn))) {
      ens_free(e);
      return s;
    }
    sde_stats_clear(&e->tst[i]);
  }
  if (opt->adaptive && nt > 1) {
    latens_rng r0;
    latens_rng_init(&r0, seed, 0);
    if (!(e->grid = sde_adapt_alloc(m, opt, t, nt, NULL, &r0, fn, &s))) {
      ens_free(e);
      return s;
    }
  }
  for (size_t p = 0; p < npaths && !s; p++) {
    path_state *q = &e->ps[p];
    q->x = e->pbuf + p * (d + m), q->wacc = q->x + d;
    memcpy(q->x, x0 ? x0 : md->x0, d * sizeof *q->x);
    latens_rng_init(&q->rng, seed, p);
    if (e->grid && !(q->ad = sde_adapt_alloc(m, opt, t, nt, e->grid, &q->rng, fn, &s))) break;
  }
  if (s) ens_free(e);
  return s;
}

/* M is (a*b) x ncol; a*b is checked for overflow first (a wrapped product could match a
 * small matrix and let the solver write past it). */
static int check_rows(const char *fn, const char *name, const latens_mat *M, size_t a, size_t b,
                      size_t ncol) {
  size_t rows = latens_mul_size(a, b);
  if (a && b && !rows)
    LATENS_ERRORF(LATENS_EINVAL, "%s: %s would need %zu x %zu rows: overflow", fn, name, a, b);
  return latens_check_mat(fn, name, M, rows, ncol);
}

/* Record path p's failure (its message is this thread's last error) when it is the lowest
 * failing path so far. */
static void ens_note(ens *e, size_t p) {
  const char *why = NULL;
  latens_last_error(&why);
#pragma omp critical(latens_sde_ensemble_msg)
  if (p < e->msg_path) {
#pragma omp atomic write
    e->msg_path = p;
    snprintf(e->msg, sizeof e->msg, "%s", why ? why : "");
  }
}

/* The lanes of paths [p0, p1): lane p mod 16 of fast stream (seed, p / 16), each stream
 * set up once for its run of paths (a set-up costs ~17 Philox blocks). */
static void ens_fast_start(ens *e, size_t p0, size_t p1) {
  latens_rng_fast f;
  for (size_t p = p0; p < p1; p++) {
    if (p == p0 || p % 16 == 0) latens_rng_fast_init(&f, e->seed, p / 16);
    latens_rng_fast_lane(&f, (unsigned)(p % 16), &e->ps[p].lane);
  }
}

static sde_normals path_normals(ens *e, path_state *q) {
  return e->fast ? (sde_normals){NULL, &q->lane} : sde_normals_philox(&q->rng);
}

/* Advance path p over output intervals k0..k1 (writing X/W columns when given). */
static int ens_path(ens *e, int tid, size_t p, size_t k0, size_t k1, double *X, size_t ldx,
                    double *W, size_t ldw) {
  path_state *q = &e->ps[p];
  sde_ws *w = &e->ws[tid];
  double *dw = e->tbuf + (size_t)tid * 2 * e->m;
  if (!q->ad) {
    const sde_normals src = path_normals(e, q);
    return sde_fixed_span(w, e->t, k0, k1, q->x, &src, dw, e->need_dz ? dw + e->m : NULL,
                          q->wacc, X, ldx, W, ldw, &e->tst[tid]);
  }
  for (size_t k = k0; k < k1; k++) {
    int s = sde_adapt_span(q->ad, w, k, q->x, q->wacc, &e->tst[tid]);
    if (s) return s;
    if (X) memcpy(X + (k + 1) * ldx, q->x, e->d * sizeof *q->x);
    if (W) memcpy(W + (k + 1) * ldw, q->wacc, e->m * sizeof *q->wacc);
  }
  return LATENS_OK;
}

/* np paths p.. (SDE_WIDE, 2 SDE_WIDE on lanes, or a multiple of SDE_GROUP) together over
 * intervals k0..k1, as
 * ens_path would advance each; a path that becomes non-finite is reported (st[q]) and no
 * longer written, though still stepped. */
static void ens_group(ens *e, int tid, size_t p, size_t np, size_t k0, size_t k1, latens_mat *X,
                      latens_mat *W, int *st) {
  double *x[2 * SDE_WIDE], *wacc[2 * SDE_WIDE];
  sde_normals r[2 * SDE_WIDE];
  const double dt = e->opt->dt, *t = e->t;
  for (size_t q = 0; q < np; q++) {
    path_state *ps = &e->ps[p + (size_t)q];
    x[q] = ps->x, wacc[q] = ps->wacc, r[q] = path_normals(e, ps), st[q] = LATENS_OK;
  }
  for (size_t k = k0; k < k1; k++) {
    /* the step count and last step of sde_fixed_span */
    double nf = ceil((t[k + 1] - t[k]) / dt * (1 - 1e-12));
    size_t ns = nf < 1 ? 1 : (size_t)nf;
    const double hlast = t[k + 1] - (t[k] + (double)(ns - 1) * dt);
    sde_ws *w = &e->ws[tid];
    if (e->sri) sde_sri_steps_group(w, t[k], dt, ns, hlast, np, x, r, wacc, &e->tst[tid]);
    else sde_em_steps_group(w, t[k], dt, ns, hlast, np, x, r, W ? wacc : NULL, &e->tst[tid]);
    for (size_t q = 0; q < np; q++) {
      if (st[q]) continue;
      if ((st[q] = sde_x_finite(x[q], e->d, t[k + 1]))) {
        ens_note(e, p + q);
        continue;
      }
      size_t pq = p + q;
      if (X) memcpy(X->data + pq * X->ld + (k + 1) * e->d, x[q], e->d * sizeof *x[q]);
      if (W) memcpy(W->data + pq * W->ld + (k + 1) * e->m, wacc[q], e->m * sizeof *wacc[q]);
    }
  }
}

/* Run paths [p0, p1) over intervals k0..k1 in parallel; the first failing path's status. */
static int ens_run(ens *e, size_t p0, size_t p1, size_t k0, size_t k1, latens_mat *X,
                   latens_mat *W) {
  const size_t d = e->d, m = e->m;
  e->msg_path = SIZE_MAX, e->msg[0] = 0;
  long lp0 = (long)p0, lp1 = (long)p1;
#pragma omp parallel num_threads(e->nth)
  {
    int tid = 0;
#ifdef _OPENMP
    tid = omp_get_thread_num();
#endif
    /* units of work: SDE_WIDE paths in group mode, twice that for EM on lanes (a short
     * last one by sixteens, groups of SDE_GROUP, then path by path) */
    const long wide = e->fast && !e->sri ? 2 * SDE_WIDE : SDE_WIDE;
    const long unit = e->group ? wide : 1, nu = (lp1 - lp0 + unit - 1) / unit;
#pragma omp for schedule(dynamic, 8)
    for (long u = 0; u < nu; u++) {
      size_t p = (size_t)(lp0 + u * unit), pend = p + (size_t)unit, low;
      if (pend > (size_t)lp1) pend = (size_t)lp1;
      /* Skip only paths above a known failure: every path below the lowest failing one
       * still runs, so the reported path and message do not depend on the schedule. */
#pragma omp atomic read
      low = e->msg_path;
      if (p > low) {
        for (size_t q = p; q < pend; q++) e->pstatus[q] = LATENS_OK;
        continue;
      }
      if (e->fast && k0 == 0) ens_fast_start(e, p, pend);
      while (e->group && pend - p >= SDE_GROUP) {
        const size_t left = pend - p;
        const size_t np = left >= (size_t)wide && !e->sri ? (size_t)wide
                          : left >= SDE_WIDE && !e->sri     ? SDE_WIDE
                                                            : left / SDE_GROUP * SDE_GROUP;
        ens_group(e, tid, p, np, k0, k1, X, W, e->pstatus + p);
        p += np;
      }
      for (; p < pend; p++) {
        double *xp = X ? X->data + p * X->ld : NULL, *wp = W ? W->data + p * W->ld : NULL;
        int st = ens_path(e, tid, p, k0, k1, xp, d, wp, m);
        e->pstatus[p] = st;
        if (st) ens_note(e, p);
      }
    }
  }
  for (size_t p = p0; p < p1; p++)
    if (e->pstatus[p]) {
      /* The worker recorded its error on its own thread; record it again, with the path, on
       * the caller's thread, where latens_last_error will look for it. */
      LATENS_ERRORF(e->pstatus[p], "sde ensemble: path %zu (stream %zu) failed: %s", p, p,
                    e->msg[0] ? e->msg : latens_strerror(e->pstatus[p]));
    }
  return LATENS_OK;
}

static void ens_stats(ens *e, latens_sde_stats *stats) {
  if (!stats) return;
  sde_stats_clear(stats);
  for (int i = 0; i < e->nth; i++) {
    e->tst[i].f_evals = e->ws[i].nf, e->tst[i].g_evals = e->ws[i].ng;
    sde_stats_add(stats, &e->tst[i]);
  }
}

int latens_sde_ensemble(const latens_sde_model *md, const latens_sde_options *opt,
                        const double *x0, const double *t, size_t nt, size_t npaths,
                        uint64_t seed, latens_mat *X, latens_mat *W, latens_sde_stats *stats,
                        const latens_progress *progress) {
  const char *fn = "latens_sde_ensemble";
  int s;
  if (md && (s = check_rows(fn, "X", X, md->d, nt, npaths))) return s;
  if (md && W && (s = check_rows(fn, "W", W, md->m, nt, npaths))) return s;
  ens e;
  if ((s = ens_init(&e, fn, md, opt, x0, t, nt, npaths, seed))) return s;
  for (size_t p = 0; p < npaths; p++) {
    memcpy(X->data + p * X->ld, e.ps[p].x, e.d * sizeof(double));
    if (W) memset(W->data + p * W->ld, 0, e.m * sizeof(double));
  }
  /* blocks of paths between progress reports: at most ~16 parallel regions, since each ends
   * in a barrier that waits for the slowest thread (costly on a busy machine) */
  size_t block = 64 * (size_t)e.nth, sixteenth = (npaths + 15) / 16;
  if (block < sixteenth) block = (sixteenth + SDE_WIDE - 1) / SDE_WIDE * SDE_WIDE;
  for (size_t p0 = 0; p0 < npaths && !s; p0 += block) {
    size_t p1 = p0 + block < npaths ? p0 + block : npaths;
    s = ens_run(&e, p0, p1, 0, nt - 1, X, W);
    if (!s) s = latens_progress_report(progress, "sde ensemble", (double)p1, (double)npaths);
  }
  ens_stats(&e, stats);
  ens_free(&e);
  return s;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Mean, variance and type-7 quantiles of component i over all paths at output column k. */
static void summarise(ens *e, size_t k, double *col, const double *prob, size_t nq,
                      latens_mat *mean, latens_mat *var, latens_mat *quant) {
  size_t n = e->npaths, d = e->d;
  for (size_t i = 0; i < d; i++) {
    double s = 0, ss = 0;
    for (size_t p = 0; p < n; p++) s += (col[p] = e->ps[p].x[i]);
    double mu = s / (double)n;
    for (size_t p = 0; p < n; p++) ss += (col[p] - mu) * (col[p] - mu);
    if (mean) LATENS_MAT(mean, i, k) = mu;
    if (var) LATENS_MAT(var, i, k) = n > 1 ? ss / (double)(n - 1) : 0.0;
    if (!nq) continue;
    qsort(col, n, sizeof *col, cmp_double);
    for (size_t q = 0; q < nq; q++) {
      double hq = (double)(n - 1) * prob[q];
      size_t lo = (size_t)floor(hq);
      double v = lo + 1 < n ? col[lo] + (hq - (double)lo) * (col[lo + 1] - col[lo]) : col[n - 1];
      LATENS_MAT(quant, i + q * d, k) = v;
    }
  }
}

int latens_sde_ensemble_summary(const latens_sde_model *md, const latens_sde_options *opt,
                                const double *x0, const double *t, size_t nt, size_t npaths,
                                uint64_t seed, const double *prob, size_t nq, latens_mat *mean,
                                latens_mat *var, latens_mat *quant, latens_sde_stats *stats,
                                const latens_progress *progress) {
  const char *fn = "latens_sde_ensemble_summary";
  int s;
  if (md) {
    if (mean && (s = latens_check_mat(fn, "mean", mean, md->d, nt))) return s;
    if (var && (s = latens_check_mat(fn, "var", var, md->d, nt))) return s;
    if (nq && (s = check_rows(fn, "quant", quant, md->d, nq, nt))) return s;
  }
  if (nq && !prob) LATENS_ERRORF(LATENS_EINVAL, "%s: prob is NULL with nq = %zu", fn, nq);
  for (size_t q = 0; q < nq; q++)
    if (!(prob[q] >= 0 && prob[q] <= 1))
      LATENS_ERRORF(LATENS_EDOM, "%s: probability prob[%zu] = %g outside [0, 1]", fn, q, prob[q]);
  ens e;
  if ((s = ens_init(&e, fn, md, opt, x0, t, nt, npaths, seed))) return s;
  double *col = malloc(npaths * sizeof *col);
  if (!col) {
    ens_free(&e);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  }
  summarise(&e, 0, col, prob, nq, mean, var, quant);
  for (size_t k = 0; k + 1 < nt && !s; k++) {
    s = ens_run(&e, 0, npaths, k, k + 1, NULL, NULL);
    if (!s) summarise(&e, k + 1, col, prob, nq, mean, var, quant);
    if (!s) s = latens_progress_report(progress, "sde ensemble", (double)(k + 1), (double)(nt - 1));
  }
  free(col);
  ens_stats(&e, stats);
  ens_free(&e);
  return s;
}
