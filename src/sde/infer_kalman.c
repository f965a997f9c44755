/* sde/infer_kalman.c: argument checks shared by the inference routines, observation
 * densities, and exact Kalman filtering / RTS smoothing of linear SDEs observed at irregular
 * times (the reference every approximate method here is tested against). */
#include "infer_impl.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double LOG_2PI = 1.8378770664093454836;

static int check_model(const char *fn, const latens_sde_lti *M) {
  if (!M->A || !M->Sigma || !M->m0 || !M->P0)
    LATENS_ERRORF(LATENS_EINVAL, "%s: model array A, Sigma, m0 or P0 is NULL", fn);
  const size_t n = M->n, nn = latens_mul_size(n, n);
  if (n == 0 || nn == 0 || latens_too_big(nn))
    LATENS_ERRORF(LATENS_EINVAL, "%s: state dimension n = %zu (need 1 .. 46340)", fn, n);
  if (!isfinite(M->t0)) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: t0 = %g is not finite", fn, M->t0);
  if (!latens_all_finite(M->A, nn) || !latens_all_finite(M->Sigma, nn) ||
      !latens_all_finite(M->P0, nn) || !latens_all_finite(M->m0, n) ||
      (M->b && !latens_all_finite(M->b, n)))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: NaN or Inf in the model (A, b, Sigma, m0 or P0)", fn);
  return LATENS_OK;
}

static int check_readout(const char *fn, const latens_sde_readout *ro, size_t n) {
  if (ro->kind != LATENS_SDE_READOUT_GAUSSIAN && ro->kind != LATENS_SDE_READOUT_POISSON)
    LATENS_ERRORF(LATENS_EINVAL, "%s: unknown readout kind %d", fn, (int)ro->kind);
  if (!ro->C || (ro->kind == LATENS_SDE_READOUT_GAUSSIAN && !ro->R))
    LATENS_ERRORF(LATENS_EINVAL, "%s: readout C%s is NULL", fn, ro->C ? " or R" : "");
  if (ro->p == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: readout dimension p = 0", fn);
  if (n != LATENS_ANY && (!latens_all_finite(ro->C, latens_mul_size(ro->p, n)) ||
                          (ro->d && !latens_all_finite(ro->d, ro->p))))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: NaN or Inf in the readout C or d", fn);
  if (ro->kind == LATENS_SDE_READOUT_GAUSSIAN &&
      !latens_all_finite(ro->R, latens_mul_size(ro->p, ro->p)))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: NaN or Inf in the readout noise R", fn);
  return LATENS_OK;
}

static int check_data(const char *fn, const latens_sde_data *y, const latens_sde_readout *ro,
                      double t0) {
  if (!y->t || !y->x) LATENS_ERRORF(LATENS_EINVAL, "%s: data times or values are NULL", fn);
  if (y->T == 0 || y->p == 0)
    LATENS_ERRORF(LATENS_EINVAL, "%s: empty data (T = %zu, p = %zu)", fn, y->T, y->p);
  if (y->ldx < y->p)
    LATENS_ERRORF(LATENS_EINVAL, "%s: data leading dimension %zu < p = %zu", fn, y->ldx, y->p);
  if (ro && ro->p != y->p)
    LATENS_ERRORF(LATENS_EBADLEN, "%s: readout has p = %zu, data p = %zu", fn, ro->p, y->p);
  for (size_t k = 0; k < y->T; k++) {
    if (!isfinite(y->t[k])) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: time %zu is %g", fn, k, y->t[k]);
    if (k ? y->t[k] < y->t[k - 1] : y->t[0] < t0)
      LATENS_ERRORF(LATENS_EDOM,
                    "%s: time %zu = %g is before %g (times must be >= t0 and "
                    "non-decreasing)",
                    fn, k, y->t[k], k ? y->t[k - 1] : t0);
    for (size_t i = 0; i < y->p; i++) {
      double x = y->x[i + k * y->ldx];
      if (isinf(x)) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: value (%zu, %zu) is %g", fn, i, k, x);
      if (ro && ro->kind == LATENS_SDE_READOUT_POISSON && !isnan(x) &&
          (x < 0 || x != floor(x) || x > 9007199254740992.0))
        LATENS_ERRORF(LATENS_EDOM,
                      "%s: Poisson count (%zu, %zu) = %g is not a non-negative "
                      "integer",
                      fn, i, k, x);
    }
  }
  return LATENS_OK;
}

int latens_sde_check(const char *fn, const latens_sde_lti *M, const latens_sde_readout *ro,
                     const latens_sde_data *y) {
  int s;
  if (!fn) fn = "latens_sde_check";
  if (!y) LATENS_ERRORF(LATENS_EINVAL, "%s: data is NULL", fn);
  if (M && (s = check_model(fn, M))) return s;
  if (ro && (s = check_readout(fn, ro, M ? M->n : LATENS_ANY))) return s;
  return check_data(fn, y, ro, M ? M->t0 : -INFINITY);
}

size_t latens_sde_observed(const double *x, size_t p, size_t *idx) {
  size_t q = 0;
  for (size_t i = 0; i < p; i++)
    if (!isnan(x[i])) idx[q++] = i;
  return q;
}

int latens_sde_readout_logpdf(const latens_sde_readout *ro, size_t n, const double *z,
                              const double *x, double *logpdf) {
  static const char fn[] = "latens_sde_readout_logpdf";
  int s;
  if (!ro || !z || !x || !logpdf) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  *logpdf = NAN;
  if (n == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: n = 0", fn);
  if ((s = check_readout(fn, ro, n))) return s;
  if (!latens_all_finite(z, n)) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: NaN or Inf in z", fn);
  const size_t p = ro->p;
  size_t *idx = malloc(p * sizeof *idx);
  double *r = malloc((p + p * p) * sizeof *r);
  if (!idx || !r) {
    free(idx), free(r);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory (p = %zu)", fn, p);
  }
  size_t q = latens_sde_observed(x, p, idx);
  double lp = 0.0;
  for (size_t a = 0; a < q; a++) { /* eta = (C z + d)_i at the observed rows */
    size_t i = idx[a];
    double e = ro->d ? ro->d[i] : 0.0;
    for (size_t j = 0; j < n; j++) e += ro->C[i + j * p] * z[j];
    if (ro->kind == LATENS_SDE_READOUT_POISSON) {
      if (x[i] < 0 || x[i] != floor(x[i])) {
        free(idx), free(r);
        LATENS_ERRORF(LATENS_EDOM, "%s: Poisson count %zu = %g is not a non-negative integer", fn,
                      i, x[i]);
      }
      lp += latens_rng_poisson_logpmf((uint64_t)x[i], exp(e));
    } else {
      r[a] = x[i] - e;
    }
  }
  if (ro->kind == LATENS_SDE_READOUT_GAUSSIAN && q > 0) {
    double *Rq = r + p;
    for (size_t b = 0; b < q; b++)
      for (size_t a = 0; a < q; a++) Rq[a + b * q] = ro->R[idx[a] + idx[b] * p];
    latens_mat L = latens_mat_view(Rq, q, q, q);
    latens_vec rv = latens_vec_view(r, q, 1);
    if ((s = latens_chol_decomp(&L, NULL, NULL)) ||
        (s = latens_gauss_logpdf(&rv, NULL, &L, NULL, &lp))) {
      free(idx), free(r);
      LATENS_ERRORF(s,
                    "%s: readout noise R (observed block of order %zu) is not positive "
                    "definite",
                    fn, q);
    }
  }
  free(idx), free(r);
  *logpdf = lp;
  return LATENS_OK;
}

int latens_sde_lti_transition(const latens_sde_lti *M, double dt, double *Ad, double *bd,
                              double *Qd, latens_lti_workspace *w) {
  const size_t n = M->n, na = n + 1;
  double *buf = malloc(4 * na * na * sizeof *buf);
  if (!buf) LATENS_ERRORF(LATENS_ENOMEM, "latens_sde_lti_transition: out of memory (n = %zu)", n);
  double *F = buf, *LQ = F + na * na, *Aa = LQ + na * na, *Qa = Aa + na * na;
  memset(F, 0, 2 * na * na * sizeof *F);
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < n; i++) {
      F[i + j * na] = M->A[i + j * n];
      LQ[i + j * na] = M->Sigma[i + j * n];
    }
  for (size_t i = 0; i < n; i++) F[i + n * na] = M->b ? M->b[i] : 0.0;
  latens_mat Fm = latens_mat_view(F, na, na, na), Lm = latens_mat_view(LQ, na, na, na);
  latens_mat Am = latens_mat_view(Aa, na, na, na), Qm = latens_mat_view(Qa, na, na, na);
  int s = latens_lti_discretize(&Fm, &Lm, dt, &Am, &Qm, w);
  if (!s) {
    for (size_t j = 0; j < n; j++)
      for (size_t i = 0; i < n; i++) {
        Ad[i + j * n] = Aa[i + j * na];
        Qd[i + j * n] = Qa[i + j * na];
      }
    for (size_t i = 0; i < n; i++) bd[i] = Aa[i + n * na];
  }
  free(buf);
  return s;
}

/* Steps that differ only by the rounding of t[k] - t[k-1] (times k h computed in floating
 * point) count as equal: the transition changes by far less than its own rounding. */
static int same_step(double dt, double prev, double t) {
  return fabs(dt - prev) <= 8 * DBL_EPSILON * fmax(fabs(t), fabs(dt));
}

/* One predict + update of a scalar state with a scalar readout, in the core's forms
 * (Joseph's covariance update, NaN = missing); the dense tests compare it with them. */
static int scalar_step(double a, double b, double q, const latens_sde_readout *ro, double x,
                       double *m, double *P, double *mp, double *Pp, double *ll) {
  const double c = ro->C[0], r = ro->R[0];
  *m = a * *m + b, *P = a * a * *P + q;
  if (mp) *mp = *m, *Pp = *P;
  *ll = 0;
  if (isnan(x)) return LATENS_OK;
  const double S = c * c * *P + r, v = x - (c * *m + (ro->d ? ro->d[0] : 0.0)), K = *P * c / S;
  if (!(S > 0) || !isfinite(S) || !isfinite(v))
    LATENS_ERRORF(LATENS_ENOTPOSDEF,
                  "latens_sde_lti_filter: innovation variance %g "
                  "(predicted %g, noise %g) is not positive",
                  S, *P, r);
  *ll = -0.5 * (LOG_2PI + log(S) + v * v / S);
  *m += K * v;
  *P = (1 - K * c) * (1 - K * c) * *P + K * K * r;
  return LATENS_OK;
}

/* Filter pass; stores the predicted moments and transitions too when the smoother asks. */
static int kf(const char *fn, const latens_sde_lti *M, const latens_sde_readout *ro,
              const latens_sde_data *y, double *mf, double *Pf, double *mp, double *Pp, double *Ad,
              double *loglik) {
  int s;
  if (loglik) *loglik = NAN;
  if (!M || !ro || !y) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL model, readout or data", fn);
  if ((s = latens_sde_check(fn, M, ro, y))) return s;
  if (ro->kind != LATENS_SDE_READOUT_GAUSSIAN)
    LATENS_ERRORF(LATENS_EUNIMPL,
                  "%s: the exact filter needs a Gaussian readout (use the "
                  "particle filter for Poisson counts)",
                  fn);
  const size_t n = M->n, p = y->p, nn = n * n;
  latens_kalman_workspace *kw = latens_kalman_workspace_alloc(n, p);
  latens_lti_workspace *lw = latens_lti_workspace_alloc(n + 1);
  double *buf = malloc((3 * nn + 3 * n + p) * sizeof *buf);
  if (!kw || !lw || !buf) {
    latens_kalman_workspace_free(kw), latens_lti_workspace_free(lw), free(buf);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory (n = %zu, p = %zu)", fn, n, p);
  }
  double *P = buf, *A = P + nn, *Q = A + nn, *m = Q + nn, *b = m + n, *yhat = b + n;
  memcpy(m, M->m0, n * sizeof *m), memcpy(P, M->P0, nn * sizeof *P);
  latens_vec mv = latens_vec_view(m, n, 1), bv = latens_vec_view(b, n, 1);
  latens_vec yh = latens_vec_view(yhat, p, 1);
  latens_mat Pm = latens_mat_view(P, n, n, n), Am = latens_mat_view(A, n, n, n);
  latens_mat Qm = latens_mat_view(Q, n, n, n);
  latens_mat H = latens_mat_view((double *)ro->C, p, n, p);
  latens_mat R = latens_mat_view((double *)ro->R, p, p, p);
  double ll = 0.0, tprev = M->t0, dt_done = NAN;
  for (size_t k = 0; k < y->T && !s; k++) {
    double dt = y->t[k] - tprev, llk = 0.0;
    tprev = y->t[k];
    /* Regularly spaced data reuse one transition: the Van Loan exponential is the cost. */
    if (!same_step(dt, dt_done, y->t[k]) && (s = latens_sde_lti_transition(M, dt, A, b, Q, lw)))
      break;
    dt_done = dt;
    if (n == 1 && p == 1) { /* scalar model: the core step's generality costs ~50x here */
      s = scalar_step(A[0], b[0], Q[0], ro, y->x[k * y->ldx], m, P, mp ? mp + k : NULL,
                      Pp ? Pp + k : NULL, &llk);
      if (Ad) Ad[k] = A[0];
      if (s) break;
    } else {
      if ((s = latens_kalman_predict(&Am, &bv, &Qm, &mv, &Pm, kw))) break;
      if (mp) memcpy(mp + k * n, m, n * sizeof *m);
      if (Pp) memcpy(Pp + k * nn, P, nn * sizeof *P);
      if (Ad) memcpy(Ad + k * nn, A, nn * sizeof *A);
      latens_vec yk = latens_vec_view((double *)y->x + k * y->ldx, p, 1);
      for (size_t i = 0; i < p && ro->d; i++) {
        double e = ro->d[i];
        for (size_t j = 0; j < n; j++) e += ro->C[i + j * p] * m[j];
        yhat[i] = e;
      }
      if ((s = latens_kalman_update(&yk, ro->d ? &yh : NULL, &H, &R, NULL, &mv, &Pm, &llk, kw)))
        break;
    }
    ll += llk;
    if (mf) memcpy(mf + k * n, m, n * sizeof *m);
    if (Pf) memcpy(Pf + k * nn, P, nn * sizeof *P);
  }
  if (s)
    latens_errorf(__FILE__, __LINE__, s, "%s: filter step failed (%s)", fn, latens_strerror(s));
  latens_kalman_workspace_free(kw), latens_lti_workspace_free(lw), free(buf);
  if (loglik) *loglik = s ? NAN : ll;
  return s;
}

int latens_sde_lti_filter(const latens_sde_lti *M, const latens_sde_readout *ro,
                          const latens_sde_data *y, double *mf, double *Pf, double *loglik) {
  return kf("latens_sde_lti_filter", M, ro, y, mf, Pf, NULL, NULL, NULL, loglik);
}

int latens_sde_lti_smooth(const latens_sde_lti *M, const latens_sde_readout *ro,
                          const latens_sde_data *y, double *ms, double *Ps, double *loglik) {
  static const char fn[] = "latens_sde_lti_smooth";
  if (loglik) *loglik = NAN;
  if (!M || !y) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL model or data", fn);
  const size_t n = M->n, T = y->T, nn = latens_mul_size(n, n);
  const size_t tot = latens_mul_size(T, 2 * nn + 2 * n + nn);
  double *buf = tot ? malloc(tot * sizeof *buf) : NULL;
  if (!buf) LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory (n = %zu, T = %zu)", fn, n, T);
  double *mf = buf, *mp = mf + T * n, *Pf = mp + T * n, *Pp = Pf + T * nn, *Ad = Pp + T * nn;
  int s = kf(fn, M, ro, y, mf, Pf, mp, Pp, Ad, loglik);
  if (!s) s = sde_rts_inplace(n, T, Ad, mf, Pf, mp, Pp);
  if (!s) {
    if (ms) memcpy(ms, mf, T * n * sizeof *ms);
    if (Ps) memcpy(Ps, Pf, T * nn * sizeof *Ps);
  } else if (loglik) {
    *loglik = NAN;
  }
  free(buf);
  return s;
}

/* RTS backwards in place over stored moments: A[k] (n x n, column-major, k = 1..T-1) is the
 * transition into time k, mp/Pp the predictions; mf/Pf (filtered) become the smoothed ones. */
int sde_rts_inplace(size_t n, size_t T, const double *A, double *mf, double *Pf, const double *mp,
                    const double *Pp) {
  size_t nn = n * n;
  latens_kalman_workspace *kw = latens_kalman_workspace_alloc(n, 1);
  if (!kw) return LATENS_ENOMEM;
  int s = LATENS_OK;
  for (size_t k = T - 1; k-- > 0 && !s;) {
    latens_mat A1 = latens_mat_view((double *)A + (k + 1) * nn, n, n, n);
    latens_vec mfk = latens_vec_view(mf + k * n, n, 1),
               mp1 = latens_vec_view((double *)mp + (k + 1) * n, n, 1);
    latens_vec ms1 = latens_vec_view(mf + (k + 1) * n, n, 1);
    latens_mat Pfk = latens_mat_view(Pf + k * nn, n, n, n);
    latens_mat Pp1 = latens_mat_view((double *)Pp + (k + 1) * nn, n, n, n);
    latens_mat Ps1 = latens_mat_view(Pf + (k + 1) * nn, n, n, n);
    s = latens_kalman_smooth(&A1, &mfk, &Pfk, &mp1, &Pp1, &ms1, &Ps1, &mfk, &Pfk, NULL, kw);
  }
  latens_kalman_workspace_free(kw);
  return s;
}
