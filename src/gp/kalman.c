/* src/gp/kalman.c: exact Gaussian log marginal likelihood of state-space GPs by Kalman
 * filtering, with its gradient by forward sensitivity recursions, over many trials.
 *
 * The observation is scalar (f = H x), so the update needs no factorisation: the innovation
 * variance S = H P Hᵀ + r is a number.  The gradient differentiates every filter step
 * (predict m⁻ = A m, P⁻ = A P Aᵀ + Q; update with gain K = P⁻Hᵀ/S):
 *   dm⁻ = dA m + A dm,   dP⁻ = dA P Aᵀ + (dA P Aᵀ)ᵀ + A dP Aᵀ + dQ,
 *   dS = H dP⁻ Hᵀ + dr,  dv = −H dm⁻,
 *   dℓ = −½ (dS/S + 2 v dv/S − v² dS/S²),
 *   dm = dm⁻ + dK v + K dv,  dK = (dP⁻Hᵀ − K dS)/S,
 *   dP = dP⁻ − (dhᵀ h + hᵀ dh)/S + hᵀh dS/S²,  h = H P⁻, dh = H dP⁻,
 * started from m = 0, P = P∞, dP = dP∞.  This costs O(n_θ d³) per step, against the O(n d³)
 * of an adjoint pass that would need the whole filtered trajectory stored; n_θ <= 24 and
 * d <= 32 keep it small, and regular grids reuse A, Q and their derivatives across steps.
 */
#include "gp_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LOG_2PI 1.8378770664093454836

int gp_check_series(const char *fn, const latens_gp_series *s, size_t ntrials, double noise) {
  if (!s && ntrials > 0) LATENS_ERRORF(LATENS_EINVAL, "%s: series is NULL", fn);
  int need_noise = 0;
  for (size_t r = 0; r < ntrials; r++) {
    const latens_gp_series *x = &s[r];
    if (x->n == 0) continue;
    if (!x->t || !x->y) LATENS_ERRORF(LATENS_EINVAL, "%s: trial %zu has NULL t or y", fn, r);
    for (size_t i = 0; i < x->n; i++) {
      if (!isfinite(x->t[i]))
        LATENS_ERRORF(LATENS_ENOTFINITE, "%s: trial %zu: time t[%zu] = %g is not finite", fn, r,
                      i, x->t[i]);
      if (i > 0 && x->t[i] < x->t[i - 1])
        LATENS_ERRORF(LATENS_EDOM,
                      "%s: trial %zu: times not sorted: t[%zu] = %g < t[%zu] = %g (sort first)",
                      fn, r, i, x->t[i], i - 1, x->t[i - 1]);
      if (isinf(x->y[i]))
        LATENS_ERRORF(LATENS_ENOTFINITE, "%s: trial %zu: y[%zu] is infinite (NaN = missing)", fn,
                      r, i);
      if (x->noise_var && !(isfinite(x->noise_var[i]) && x->noise_var[i] > 0))
        LATENS_ERRORF(LATENS_EDOM, "%s: trial %zu: noise_var[%zu] = %g must be finite and > 0",
                      fn, r, i, x->noise_var[i]);
    }
    if (!x->noise_var) need_noise = 1;
  }
  if (need_noise && !(isfinite(noise) && noise > 0))
    LATENS_ERRORF(LATENS_EDOM, "%s: noise variance %g must be finite and > 0", fn, noise);
  return LATENS_OK;
}

/* Filter state and scratch, sized for the kernel's d and n_θ + 1 derivatives. */
typedef struct {
  size_t d, np; /* np includes the noise */
  double *m, *P, *A, *Q, *AP, *tmp, *Pinf;
  double *dm, *dP, *dA, *dQ; /* np blocks of d or d² */
} filt;

static void filt_free(filt *f) {
  free(f->m);
  memset(f, 0, sizeof *f);
}

static int filt_alloc(filt *f, size_t d, size_t np) {
  size_t d2 = d * d;
  size_t total = 2 * d + 5 * d2 + (np ? np * (d + 3 * d2) : 0);
  f->d = d, f->np = np;
  f->m = malloc(total * sizeof(double));
  /* silent (gp_filter_loglik's contract): the caller reports, once, outside any thread */
  if (!f->m) return LATENS_ENOMEM;
  double *p = f->m + d;
  f->P = p, p += d2;
  f->A = p, p += d2;
  f->Q = p, p += d2;
  f->AP = p, p += d2;
  f->Pinf = p, p += d2;
  f->tmp = p, p += d;
  f->dm = p, p += np * d;
  f->dP = p, p += np * d2;
  f->dA = p, p += np * d2;
  f->dQ = p;
  return LATENS_OK;
}

/* C = A B (d x d), or C = A Bᵀ when bt. */
static void mm(size_t d, const double *A, const double *B, int bt, double *C) {
  /* column-oriented (axpy) order: unit-stride inner loops the compiler vectorises */
  for (size_t j = 0; j < d; j++) {
    double *c = C + j * d;
    for (size_t i = 0; i < d; i++) c[i] = 0;
    for (size_t l = 0; l < d; l++) {
      double b = bt ? B[j + l * d] : B[l + j * d];
      const double *a = A + l * d;
      for (size_t i = 0; i < d; i++) c[i] += a[i] * b;
    }
  }
}

/* Predict step with sensitivities: uses the cached A, Q, dA, dQ. */
static void predict(filt *f, int grad) {
  size_t d = f->d, d2 = d * d;
  double *W = f->tmp; /* d */
  double B[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM], C[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM];
  if (grad) {
    for (size_t q = 0; q < f->np; q++) {
      double *dm = f->dm + q * d, *dP = f->dP + q * d2;
      const double *dA = f->dA + q * d2, *dQ = f->dQ + q * d2;
      /* dm <- dA m + A dm */
      for (size_t i = 0; i < d; i++) {
        double s = 0;
        for (size_t l = 0; l < d; l++) s += dA[i + l * d] * f->m[l] + f->A[i + l * d] * dm[l];
        W[i] = s;
      }
      memcpy(dm, W, d * sizeof(double));
      /* dP <- dA P Aᵀ + (.)ᵀ + A dP Aᵀ + dQ */
      mm(d, dA, f->P, 0, B);
      mm(d, B, f->A, 1, C);
      mm(d, f->A, dP, 0, B);
      mm(d, B, f->A, 1, dP);
      for (size_t j = 0; j < d; j++)
        for (size_t i = 0; i < d; i++)
          dP[i + j * d] += C[i + j * d] + C[j + i * d] + dQ[i + j * d];
    }
  }
  for (size_t i = 0; i < d; i++) {
    double s = 0;
    for (size_t l = 0; l < d; l++) s += f->A[i + l * d] * f->m[l];
    W[i] = s;
  }
  memcpy(f->m, W, d * sizeof(double));
  if (!grad) {
    /* P⁻ = P∞ + A (P − P∞) Aᵀ, equal to A P Aᵀ + Q without forming Q (whose closed form
     * costs more than this product on irregular grids, and cancels at small Δ) */
    for (size_t i = 0; i < d2; i++) f->P[i] -= f->Pinf[i];
  }
  mm(d, f->A, f->P, 0, f->AP);
  mm(d, f->AP, f->A, 1, B);
  const double *add = grad ? f->Q : f->Pinf;
  for (size_t j = 0; j < d; j++)
    for (size_t i = 0; i <= j; i++) {
      double v = 0.5 * (B[i + j * d] + B[j + i * d]) + add[i + j * d];
      f->P[i + j * d] = v;
      f->P[j + i * d] = v;
    }
}

/* Update with scalar y at observation rows hidx[0..nh); returns the log-likelihood term and
 * adds its derivatives to g.  noise_q: index of the noise parameter in the sensitivities
 * (np - 1) when the scalar noise applies, else (size_t)-1. */
static double update(filt *f, const size_t *hidx, size_t nh, double y, double r, int grad,
                     size_t noise_q, double *g) {
  size_t d = f->d, d2 = d * d;
  double h[LATENS_GP_MAX_DIM], dh[LATENS_GP_MAX_DIM];
  double S = r, hm = 0;
  for (size_t j = 0; j < d; j++) {
    double s = 0;
    for (size_t a = 0; a < nh; a++) s += f->P[hidx[a] + j * d];
    h[j] = s;
  }
  for (size_t a = 0; a < nh; a++) S += h[hidx[a]], hm += f->m[hidx[a]];
  double v = y - hm, iS = 1.0 / S;
  double ll = -0.5 * (LOG_2PI + log(S) + v * v * iS);
  if (grad) {
    for (size_t q = 0; q < f->np; q++) {
      double *dm = f->dm + q * d, *dP = f->dP + q * d2;
      double dS = (q == noise_q) ? 1.0 : 0.0, dv = 0;
      for (size_t j = 0; j < d; j++) {
        double s = 0;
        for (size_t a = 0; a < nh; a++) s += dP[hidx[a] + j * d];
        dh[j] = s;
      }
      for (size_t a = 0; a < nh; a++) dS += dh[hidx[a]], dv -= dm[hidx[a]];
      g[q] += -0.5 * (dS * iS + 2 * v * dv * iS - v * v * dS * iS * iS);
      for (size_t i = 0; i < d; i++) {
        double K = h[i] * iS, dK = (dh[i] - K * dS) * iS;
        dm[i] += dK * v + K * dv;
      }
      for (size_t j = 0; j < d; j++)
        for (size_t i = 0; i < d; i++)
          dP[i + j * d] += -(dh[i] * h[j] + h[i] * dh[j]) * iS + h[i] * h[j] * dS * iS * iS;
    }
  }
  for (size_t i = 0; i < d; i++) f->m[i] += h[i] * iS * v;
  for (size_t j = 0; j < d; j++)
    for (size_t i = 0; i < d; i++) f->P[i + j * d] -= h[i] * h[j] * iS;
  return ll;
}

int gp_filter_loglik(const latens_gp_kernel *k, double noise, const latens_gp_series *s,
                     double *loglik, double *grad) {
  size_t d = k->dim, nt = k->nparams, np = grad ? nt + 1 : 0, d2 = d * d;
  *loglik = 0;
  if (s->n == 0) return LATENS_OK;
  if (!grad && gp_loglik_fast(k, noise, s, loglik) == 1) {
    if (isfinite(*loglik)) return LATENS_OK;
    *loglik = NAN;
    return LATENS_ENOTPOSDEF;
  }
  filt f;
  int st = filt_alloc(&f, d, np);
  if (st) return st;
  size_t hidx[LATENS_GP_MAX_TERMS];
  for (size_t i = 0; i < k->nterms; i++) hidx[i] = k->off[i];
  memset(f.m, 0, d * sizeof(double));
  gp_fill_pinf(k, f.P);
  memcpy(f.Pinf, f.P, d2 * sizeof(double));
  if (grad) {
    memset(f.dm, 0, np * d * sizeof(double));
    for (size_t q = 0; q < nt; q++) gp_fill_pinf_deriv(k, q, f.dP + q * d2);
    memset(f.dP + nt * d2, 0, d2 * sizeof(double));
    memset(f.dA + nt * d2, 0, d2 * sizeof(double));
    memset(f.dQ + nt * d2, 0, d2 * sizeof(double));
  }
  double ll = 0, last_dt = -1;
  size_t noise_q = s->noise_var ? (size_t)-1 : nt;
  for (size_t i = 0; i < s->n; i++) {
    if (i > 0) {
      double dt = s->t[i] - s->t[i - 1];
      if (dt != last_dt) {
        gp_fill_transition(k, dt, f.A, grad ? f.Q : NULL);
        for (size_t q = 0; q < (grad ? nt : 0); q++)
          gp_fill_transition_deriv(k, dt, q, f.dA + q * d2, f.dQ + q * d2);
        last_dt = dt;
      }
      predict(&f, grad != NULL);
    }
    double y = s->y[i];
    if (isnan(y)) continue;
    double r = s->noise_var ? s->noise_var[i] : noise;
    ll += update(&f, hidx, k->nterms, y, r, grad != NULL, noise_q, grad);
  }
  filt_free(&f);
  if (grad)
    for (size_t q = 0; q < np; q++)
      if (!isfinite(grad[q])) ll = NAN;
  if (!isfinite(ll)) {
    *loglik = NAN;
    return LATENS_ENOTPOSDEF;
  }
  *loglik = ll;
  return LATENS_OK;
}

int gp_loglik_sum(const latens_gp_kernel *k, double noise, const latens_gp_series *series,
                  size_t ntrials, double *loglik, double *grad) {
  size_t ng = k->nparams + 1;
  *loglik = NAN;
  double *ll = calloc(ntrials ? ntrials : 1, sizeof(double) * (1 + (grad ? ng : 0)));
  int *sts = calloc(ntrials ? ntrials : 1, sizeof(int));
  if (!ll || !sts) {
    free(ll), free(sts);
    return LATENS_ENOMEM;
  }
  double *g = ll + ntrials;
  /* Each trial writes its own slot; the sums below run in trial order, so the result does
   * not depend on how many threads ran the loop. */
#pragma omp parallel for schedule(dynamic) if (ntrials > 1)
  for (long r = 0; r < (long)ntrials; r++)
    sts[r] = gp_filter_loglik(k, noise, &series[r], &ll[r], grad ? g + (size_t)r * ng : NULL);
  double tot = 0;
  int st = LATENS_OK;
  for (size_t r = 0; r < ntrials; r++) {
    if (sts[r]) {
      st = sts[r];
      break;
    }
    tot += ll[r];
  }
  if (!st && grad) {
    for (size_t q = 0; q < ng; q++) grad[q] = 0;
    for (size_t r = 0; r < ntrials; r++)
      for (size_t q = 0; q < ng; q++) grad[q] += g[r * ng + q];
  }
  free(ll), free(sts);
  if (!st) *loglik = tot;
  return st;
}

int latens_gp_loglik(const latens_gp_kernel *k, double noise, const latens_gp_series *series,
                     size_t ntrials, double *loglik, double *grad) {
  static const char fn[] = "latens_gp_loglik";
  if (!k || !loglik) LATENS_ERROR("latens_gp_loglik: NULL kernel or loglik", LATENS_EINVAL);
  *loglik = NAN;
  /* One series with a scalar-loop kernel: validate while filtering (one pass over memory). */
  if (ntrials == 1 && !grad && series && series->n > 0 && series->t &&
      (series->noise_var || (isfinite(noise) && noise > 0))) {
    double ll;
    int fast = gp_loglik_fast(k, noise, series, &ll);
    if (fast == 1 && isfinite(ll)) {
      *loglik = ll;
      return LATENS_OK;
    }
    if (fast == 1)
      LATENS_ERRORF(LATENS_ENOTPOSDEF, "%s: log-likelihood is not finite (noise %g)", fn, noise);
  }
  int st = gp_check_series(fn, series, ntrials, noise);
  if (st) return st;
  st = gp_loglik_sum(k, noise, series, ntrials, loglik, grad);
  if (st == LATENS_ENOMEM) LATENS_ERRORF(st, "%s: out of memory", fn);
  if (st)
    LATENS_ERRORF(st,
                  "%s: log-likelihood or gradient is not finite (innovation variance lost "
                  "positivity; noise %g)",
                  fn, noise);
  return LATENS_OK;
}
