/* src/gp/posterior.c: posterior mean and variance of the latent f at observed and new times
 * (Kalman filter over the merged time grid, then core's RTS step).
 *
 * Query times enter the grid as missing observations, so predicting, interpolating and
 * smoothing are one pass; a query at an observed time sits at Δ = 0 from it (A = I, Q = 0)
 * and gets the same posterior.
 */
#include "gp_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  double t;
  size_t i; /* index into the series (obs) or into tq */
  int obs;
} node;

static int node_cmp(const void *a, const void *b) {
  const node *x = a, *y = b;
  if (x->t < y->t) return -1;
  if (x->t > y->t) return 1;
  if (x->obs != y->obs) return x->obs ? -1 : 1; /* observed first: stable and deterministic */
  return x->i < y->i ? -1 : (x->i > y->i);
}

/* Build the merged, sorted grid: observed times (already sorted) and queries. */
static node *merge_grid(const latens_gp_series *s, const double *tq, size_t nq, size_t *nn) {
  size_t n = s->n + nq;
  /* set also on failure, so that the caller sees a non-empty grid and reports ENOMEM */
  *nn = n < s->n ? SIZE_MAX : n;
  /* n < s->n: the sum wrapped; latens_mul_size is 0 when the byte count would */
  size_t bytes = n < s->n ? 0 : latens_mul_size(n ? n : 1, sizeof(node));
  node *g = bytes ? malloc(bytes) : NULL;
  if (!g) return NULL;
  for (size_t i = 0; i < s->n; i++) g[i] = (node){s->t[i], i, 1};
  for (size_t i = 0; i < nq; i++) g[s->n + i] = (node){tq[i], i, 0};
  qsort(g, n, sizeof *g, node_cmp);
  return g;
}

static int scalar_update(size_t d, const size_t *hidx, size_t nh, double y, double r, double *m,
                         double *P) {
  double h[LATENS_GP_MAX_DIM], S = r, hm = 0;
  for (size_t j = 0; j < d; j++) {
    double s = 0;
    for (size_t a = 0; a < nh; a++) s += P[hidx[a] + j * d];
    h[j] = s;
  }
  for (size_t a = 0; a < nh; a++) S += h[hidx[a]], hm += m[hidx[a]];
  if (!(S > 0)) return LATENS_ENOTPOSDEF;
  double v = y - hm;
  for (size_t i = 0; i < d; i++) m[i] += h[i] / S * v;
  for (size_t j = 0; j < d; j++)
    for (size_t i = 0; i < d; i++) P[i + j * d] -= h[i] * h[j] / S;
  latens_dense_symmetrize(P, d, d);
  return LATENS_OK;
}

/* Filtered (mf, Pf) and predicted (mp, Pp) moments at every grid node.  Silent: on a
 * non-positive innovation variance returns LATENS_ENOTPOSDEF with the node in *fail, so the
 * caller reports the error once. */
static int forward(const latens_gp_kernel *k, double noise, const latens_gp_series *s,
                   const node *g, size_t nn, double *mf, double *Pf, double *mp, double *Pp,
                   size_t *fail) {
  size_t d = k->dim, d2 = d * d;
  double A[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM], Q[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM];
  size_t hidx[LATENS_GP_MAX_TERMS];
  for (size_t i = 0; i < k->nterms; i++) hidx[i] = k->off[i];
  double last_dt = -1;
  for (size_t i = 0; i < nn; i++) {
    double *m = mp + i * d, *P = Pp + i * d2;
    if (i == 0) {
      memset(m, 0, d * sizeof(double));
      gp_fill_pinf(k, P);
    } else {
      double dt = g[i].t - g[i - 1].t;
      if (dt != last_dt) gp_fill_transition(k, dt, A, Q), last_dt = dt;
      latens_dense_mm(0, 0, d, 1, d, 1.0, A, d, mf + (i - 1) * d, d, 0.0, m, d);
      double AP[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM];
      latens_dense_mm(0, 0, d, d, d, 1.0, A, d, Pf + (i - 1) * d2, d, 0.0, AP, d);
      memcpy(P, Q, d2 * sizeof(double));
      latens_dense_mm(0, 1, d, d, d, 1.0, AP, d, A, d, 1.0, P, d);
      latens_dense_symmetrize(P, d, d);
    }
    memcpy(mf + i * d, m, d * sizeof(double));
    memcpy(Pf + i * d2, P, d2 * sizeof(double));
    if (g[i].obs && !isnan(s->y[g[i].i])) {
      double r = s->noise_var ? s->noise_var[g[i].i] : noise;
      if (scalar_update(d, hidx, k->nterms, s->y[g[i].i], r, mf + i * d, Pf + i * d2)) {
        *fail = i;
        return LATENS_ENOTPOSDEF;
      }
    }
  }
  return LATENS_OK;
}

/* RTS backwards in place on (mf, Pf) with core's step. */
static int backward(const latens_gp_kernel *k, const node *g, size_t nn, double *mf, double *Pf,
                    const double *mp, const double *Pp) {
  size_t d = k->dim, d2 = d * d;
  latens_kalman_workspace *w = latens_kalman_workspace_alloc(d, 1);
  if (!w) return LATENS_ENOMEM;
  double A[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM];
  double last_dt = -1;
  int st = LATENS_OK;
  for (size_t i = nn - 1; i-- > 0;) {
    double dt = g[i + 1].t - g[i].t;
    if (dt != last_dt) gp_fill_transition(k, dt, A, NULL), last_dt = dt;
    latens_mat Am = latens_mat_view(A, d, d, d);
    latens_vec mfv = latens_vec_view(mf + i * d, d, 1);
    latens_mat Pfv = latens_mat_view(Pf + i * d2, d, d, d);
    latens_vec mpv = latens_vec_view((double *)mp + (i + 1) * d, d, 1);
    latens_mat Ppv = latens_mat_view((double *)Pp + (i + 1) * d2, d, d, d);
    latens_vec msv = latens_vec_view(mf + (i + 1) * d, d, 1);
    latens_mat Psv = latens_mat_view(Pf + (i + 1) * d2, d, d, d);
    st = latens_kalman_smooth(&Am, &mfv, &Pfv, &mpv, &Ppv, &msv, &Psv, &mfv, &Pfv, NULL, w);
    if (st) break;
  }
  latens_kalman_workspace_free(w);
  return st;
}

int latens_gp_posterior(const latens_gp_kernel *k, double noise, const latens_gp_series *series,
                        const double *tq, size_t nq, double *mean, double *var) {
  static const char fn[] = "latens_gp_posterior";
  if (!k || !series || !mean) LATENS_ERROR("latens_gp_posterior: NULL argument", LATENS_EINVAL);
  int st = gp_check_series(fn, series, 1, noise);
  if (st) return st;
  if (!tq) nq = 0;
  for (size_t i = 0; i < nq; i++)
    if (!isfinite(tq[i]))
      LATENS_ERRORF(LATENS_ENOTFINITE, "%s: query time tq[%zu] = %g is not finite", fn, i, tq[i]);
  size_t nn = 0, d = k->dim, d2 = d * d;
  node *g = merge_grid(series, tq, nq, &nn);
  size_t nout = tq ? nq : series->n;
  if (nn == 0 || nout == 0) {
    free(g);
    return LATENS_OK;
  }
  size_t per = 2 * d + 2 * d2, tot = latens_mul_size(latens_mul_size(nn, per), sizeof(double));
  double *buf = (g && tot) ? malloc(tot) : NULL;
  if (!buf) {
    free(g);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory for %zu grid points", fn, nn);
  }
  double *mf = buf, *Pf = mf + nn * d, *mp = Pf + nn * d2, *Pp = mp + nn * d;
  size_t fail = 0;
  st = forward(k, noise, series, g, nn, mf, Pf, mp, Pp, &fail);
  if (st) {
    double tf = g[fail].t;
    free(buf), free(g);
    LATENS_ERRORF(st, "%s: innovation variance not positive at t = %g (noise %g)", fn, tf,
                  noise);
  }
  st = backward(k, g, nn, mf, Pf, mp, Pp);
  if (!st) {
    for (size_t i = 0; i < nn; i++) {
      if ((tq != NULL) == (g[i].obs != 0)) continue;
      double mu = 0, v = 0;
      for (size_t a = 0; a < k->nterms; a++) {
        mu += mf[i * d + k->off[a]];
        for (size_t b = 0; b < k->nterms; b++) v += Pf[i * d2 + k->off[a] + k->off[b] * d];
      }
      mean[g[i].i] = mu;
      if (var) var[g[i].i] = v > 0 ? v : 0;
    }
  }
  free(buf), free(g);
  if (st) LATENS_ERRORF(st, "%s: smoothing failed (%s)", fn, latens_strerror(st));
  return LATENS_OK;
}

int latens_gp_posterior_trials(const latens_gp_kernel *k, double noise,
                               const latens_gp_series *series, size_t ntrials,
                               double *const *mean, double *const *var) {
  static const char fn[] = "latens_gp_posterior_trials";
  if (!k || (ntrials && (!series || !mean)))
    LATENS_ERROR("latens_gp_posterior_trials: NULL argument", LATENS_EINVAL);
  int st = gp_check_series(fn, series, ntrials, noise);
  if (st) return st;
  for (size_t r = 0; r < ntrials; r++)
    if (series[r].n && !mean[r])
      LATENS_ERRORF(LATENS_EINVAL, "%s: mean[%zu] is NULL", fn, r);
  int *sts = calloc(ntrials ? ntrials : 1, sizeof(int));
  if (!sts) LATENS_ERROR("latens_gp_posterior_trials: out of memory", LATENS_ENOMEM);
  /* each trial is one independent pass writing only its own outputs */
#pragma omp parallel for schedule(dynamic) if (ntrials > 1)
  for (long r = 0; r < (long)ntrials; r++)
    sts[r] = series[r].n ? latens_gp_posterior(k, noise, &series[r], NULL, 0, mean[r],
                                               var ? var[r] : NULL)
                         : LATENS_OK;
  size_t bad = 0;
  while (bad < ntrials && !sts[bad]) bad++;
  st = bad < ntrials ? sts[bad] : LATENS_OK;
  free(sts);
  /* the trial's own report went to a worker thread's record: repeat it on this thread, where
   * latens_last_error will look */
  if (st)
    LATENS_ERRORF(st, "%s: trial %zu of %zu failed (%s)", fn, bad, ntrials, latens_strerror(st));
  return LATENS_OK;
}
