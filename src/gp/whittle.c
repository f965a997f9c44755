/* src/gp/whittle.c: the Whittle likelihood of a regularly sampled state-space GP.
 *
 * The sampled process y_t = f(t dt) + e_t has autocovariance γ(h) = H A^{|h|} P∞ Hᵀ
 * (+ noise at h = 0), A = A(dt), so its spectral density sums a geometric series:
 *   s(θ) = Σ_h γ(h) e^{−iθh} = 2 Re[H (I − e^{−iθ} A)^{−1} P∞ Hᵀ] − H P∞ Hᵀ + noise.
 * This is the aliased density Σ_k S((θ + 2πk)/dt)/dt exactly, without truncating the alias
 * sum (which converges like k^{-2} for Matérn-1/2).  Each term of a sum contributes its own
 * block, so the complex solve is per block.
 */
#include "gp_impl.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_fft_real.h>

#define LOG_2PI 1.8378770664093454836

/* Solve (I − z A) x = b for one n x n block (column-major A, ld n) by Gaussian elimination
 * with partial pivoting; returns 0 on a zero pivot (A = I at θ = 0: a non-stationary
 * limit). */
static int csolve(int n, const double *A, double complex z, double complex *x) {
  double complex M[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM];
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++) M[i + j * n] = (i == j) - z * A[i + j * n];
  for (int c = 0; c < n; c++) {
    int piv = c;
    for (int i = c + 1; i < n; i++)
      if (cabs(M[i + c * n]) > cabs(M[piv + c * n])) piv = i;
    if (cabs(M[piv + c * n]) == 0) return 0;
    if (piv != c) {
      for (int j = 0; j < n; j++) {
        double complex t = M[c + j * n];
        M[c + j * n] = M[piv + j * n], M[piv + j * n] = t;
      }
      double complex t = x[c];
      x[c] = x[piv], x[piv] = t;
    }
    for (int i = c + 1; i < n; i++) {
      double complex f = M[i + c * n] / M[c + c * n];
      if (f == 0) continue;
      for (int j = c; j < n; j++) M[i + j * n] -= f * M[c + j * n];
      x[i] -= f * x[c];
    }
  }
  for (int i = n - 1; i >= 0; i--) {
    double complex s = x[i];
    for (int j = i + 1; j < n; j++) s -= M[i + j * n] * x[j];
    x[i] = s / M[i + i * n];
  }
  return 1;
}

/* Per-term blocks of A(dt) and P∞ Hᵀ, extracted once. */
typedef struct {
  int nb;
  int n[LATENS_GP_MAX_TERMS];
  double A[LATENS_GP_MAX_TERMS][64];
  double b[LATENS_GP_MAX_TERMS][8]; /* P∞ Hᵀ restricted to the block */
  double var0;                      /* H P∞ Hᵀ */
} blocks;

static void get_blocks(const latens_gp_kernel *k, double dt, blocks *B) {
  size_t d = k->dim;
  double A[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM], P[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM];
  gp_fill_transition(k, dt, A, NULL);
  gp_fill_pinf(k, P);
  B->nb = (int)k->nterms;
  B->var0 = 0;
  for (size_t t = 0; t < k->nterms; t++) {
    int n = (int)k->tdim[t];
    size_t o = k->off[t];
    B->n[t] = n;
    for (int j = 0; j < n; j++)
      for (int i = 0; i < n; i++) B->A[t][i + j * n] = A[o + i + (o + j) * d];
    for (int i = 0; i < n; i++) B->b[t][i] = P[o + i + o * d]; /* column of H within block */
    B->var0 += P[o + o * d];
  }
}

/* s(θ) for the blocks; NaN when a block is singular at θ. */
static double sdens(const blocks *B, double theta, double noise) {
  double complex z = cexp(-I * theta);
  double s = 0;
  for (int t = 0; t < B->nb; t++) {
    double complex x[8];
    for (int i = 0; i < B->n[t]; i++) x[i] = B->b[t][i];
    if (!csolve(B->n[t], B->A[t], z, x)) return NAN;
    s += 2 * creal(x[0]);
  }
  return s - B->var0 + noise;
}

int gp_periodogram(const double *y, size_t n, double *pg) {
  double *x = malloc(n * sizeof(double));
  if (!x) return LATENS_ENOMEM;
  memcpy(x, y, n * sizeof(double));
  gsl_fft_real_wavetable *wt = gsl_fft_real_wavetable_alloc(n);
  gsl_fft_real_workspace *ws = gsl_fft_real_workspace_alloc(n);
  int st = (wt && ws) ? gsl_fft_real_transform(x, 1, n, wt, ws) : -1;
  gsl_fft_real_wavetable_free(wt), gsl_fft_real_workspace_free(ws);
  /* GSL's halfcomplex layout: x[0] = Re X_0, then (Re X_j, Im X_j) at 2j-1, 2j; x[n-1] =
   * Re X_{n/2} for even n. */
  for (size_t j = 0; !st && j <= n / 2; j++) {
    double re = j == 0 ? x[0] : x[2 * j - 1];
    double im = (j == 0 || (n % 2 == 0 && j == n / 2)) ? 0 : x[2 * j];
    pg[j] = (re * re + im * im) / (double)n;
  }
  free(x);
  return st ? LATENS_ENOMEM : LATENS_OK;
}

int gp_whittle_sum(const latens_gp_kernel *k, double noise, double dt, const double *pg,
                   size_t n, double *value) {
  blocks B;
  get_blocks(k, dt, &B);
  double acc = 0;
  for (size_t j = 0; j <= n / 2; j++) {
    double s = sdens(&B, 2 * M_PI * (double)j / (double)n, noise);
    if (!(s > 0) || !isfinite(s)) {
      *value = NAN;
      return LATENS_EDOM;
    }
    /* frequencies j and n - j share s and pg */
    double w = (j == 0 || (n % 2 == 0 && j == n / 2)) ? 1 : 2;
    acc += w * (log(s) + pg[j] / s);
  }
  *value = -0.5 * acc - 0.5 * (double)n * LOG_2PI;
  return LATENS_OK;
}

int latens_gp_whittle(const latens_gp_kernel *k, double noise, double dt, const double *y,
                      size_t n, double *value) {
  static const char fn[] = "latens_gp_whittle";
  if (!k || !y || !value) LATENS_ERROR("latens_gp_whittle: NULL argument", LATENS_EINVAL);
  *value = NAN;
  if (n < 2) LATENS_ERRORF(LATENS_EINVAL, "%s: need at least 2 values, got %zu", fn, n);
  if (!(isfinite(dt) && dt > 0)) LATENS_ERRORF(LATENS_EDOM, "%s: step dt = %g must be > 0", fn, dt);
  if (!(isfinite(noise) && noise >= 0))
    LATENS_ERRORF(LATENS_EDOM, "%s: noise variance %g must be finite and >= 0", fn, noise);
  if (!latens_all_finite(y, n))
    LATENS_ERRORF(LATENS_ENOTFINITE,
                  "%s: y has NaN or Inf (Whittle needs a complete regular series)", fn);
  double *pg = malloc((n / 2 + 1) * sizeof(double));
  int st = pg ? gp_periodogram(y, n, pg) : LATENS_ENOMEM;
  if (st) {
    free(pg);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for the FFT of %zu values", fn, n);
  }
  st = gp_whittle_sum(k, noise, dt, pg, n, value);
  free(pg);
  if (st)
    LATENS_ERRORF(st,
                  "%s: spectral density not positive and finite at some frequency (lengthscale "
                  "too long for the record, or noise 0)",
                  fn);
  return LATENS_OK;
}
