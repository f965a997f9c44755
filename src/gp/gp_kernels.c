/* src/gp/gp_kernels.c: hot loops for the commonest case — the log-likelihood of a single
 * Matérn-1/2 or Matérn-3/2 term without gradient — in scalar code (the general filter in
 * kalman.c runs d x d loops and is 5-10 times slower for d <= 2).
 *
 * Two rewrites keep them both fast and accurate:
 * - predict as P⁻ = P∞ + A (P − P∞) Aᵀ (equal to A P Aᵀ + Q with Q = P∞ − A P∞ Aᵀ) — one
 *   product fewer, and at small Δ (A → I) it returns P unchanged to rounding, where
 *   P∞ − A P∞ Aᵀ would cancel;
 * - Σ log S_i is accumulated as the log of a running product, renormalised when it leaves
 *   [1e-150, 1e150], so the logarithm is taken rarely instead of once per point. */
#include "gp_impl.h"

#include <math.h>

#define LOG_2PI 1.8378770664093454836

/* Add log(*prod) to *acc and reset the product when it nears the range of a double. */
static inline void renorm(double *prod, double *acc) {
  if (*prod > 1e150 || *prod < 1e-150) {
    *acc += log(*prod);
    *prod = 1.0;
  }
}

/* Both loops validate their input as they go (times finite and sorted, y not infinite,
 * per-point noise positive) so that the data is read once; *bad is set on the first
 * violation and the caller produces the message. */
static double loglik_m12(double var, double lam, double noise, const latens_gp_series *s,
                         int *bad) {
  double m = 0, P = var, prod = 1, logacc = 0, quad = 0, last_dt = -1, a = 1, a2 = 1;
  size_t nobs = 0;
  const double *nv = s->noise_var;
  for (size_t i = 0; i < s->n; i++) {
    if (i > 0) {
      double dt = s->t[i] - s->t[i - 1];
      if (dt != last_dt) {
        if (!(dt >= 0 && dt < INFINITY)) {
          *bad = 1;
          return NAN;
        }
        double z = lam * dt;
        a = z > GP_Z_ZERO ? 0.0 : exp(-z);
        a2 = a * a;
        last_dt = dt;
      }
      m *= a;
      P = var + a2 * (P - var);
    }
    double y = s->y[i];
    if (isnan(y)) continue;
    double r = nv ? nv[i] : noise;
    if (isinf(y) || !(r > 0 && r < INFINITY)) {
      *bad = 1;
      return NAN;
    }
    double S = P + r, v = y - m, g = P / S;
    quad += v * v / S;
    prod *= S;
    renorm(&prod, &logacc);
    m += g * v;
    P -= g * P;
    nobs++;
  }
  return -0.5 * (quad + logacc + log(prod) + (double)nobs * LOG_2PI);
}

static double loglik_m32(double var, double lam, double noise, const latens_gp_series *s,
                         int *bad) {
  double m0 = 0, m1 = 0, P00 = var, P01 = 0, P11 = var;
  double prod = 1, logacc = 0, quad = 0, last_dt = -1;
  double a00 = 1, a01 = 0, a10 = 0, a11 = 1;
  size_t nobs = 0;
  const double *nv = s->noise_var;
  for (size_t i = 0; i < s->n; i++) {
    if (i > 0) {
      double dt = s->t[i] - s->t[i - 1];
      if (dt != last_dt) {
        if (!(dt >= 0 && dt < INFINITY)) {
          *bad = 1;
          return NAN;
        }
        /* scaled state (f, f'/λ): A = e^{−z} [[1+z, z], [−z, 1−z]], P∞ = σ² I */
        double z = lam * dt, e = z > GP_Z_ZERO ? 0.0 : exp(-z);
        a00 = e * (1 + z), a01 = e * z, a10 = -e * z, a11 = e * (1 - z);
        last_dt = dt;
      }
      double n0 = a00 * m0 + a01 * m1, n1 = a10 * m0 + a11 * m1;
      m0 = n0, m1 = n1;
      double D00 = P00 - var, D01 = P01, D11 = P11 - var;
      double b00 = a00 * D00 + a01 * D01, b01 = a00 * D01 + a01 * D11; /* (A D) row 0 */
      double b10 = a10 * D00 + a11 * D01, b11 = a10 * D01 + a11 * D11; /* (A D) row 1 */
      P00 = var + b00 * a00 + b01 * a01;
      P01 = b00 * a10 + b01 * a11;
      P11 = var + b10 * a10 + b11 * a11;
    }
    double y = s->y[i];
    if (isnan(y)) continue;
    double r = nv ? nv[i] : noise;
    if (isinf(y) || !(r > 0 && r < INFINITY)) {
      *bad = 1;
      return NAN;
    }
    double S = P00 + r, iS = 1.0 / S, v = y - m0;
    double k0 = P00 * iS, k1 = P01 * iS;
    quad += v * v * iS;
    prod *= S;
    renorm(&prod, &logacc);
    m0 += k0 * v, m1 += k1 * v;
    P11 -= k1 * P01;
    P01 -= k0 * P01;
    P00 -= k0 * P00;
    nobs++;
  }
  return -0.5 * (quad + logacc + log(prod) + (double)nobs * LOG_2PI);
}

int gp_loglik_fast(const latens_gp_kernel *k, double noise, const latens_gp_series *s,
                   double *loglik) {
  if (k->nterms != 1) return 0;
  const latens_gp_term *t = &k->term[0];
  int bad = s->n > 0 && (!isfinite(s->t[0]) || !s->y);
  if (bad || (t->kind != LATENS_GP_MATERN12 && t->kind != LATENS_GP_MATERN32)) return bad ? -1 : 0;
  if (t->kind == LATENS_GP_MATERN12)
    *loglik = loglik_m12(t->variance, gp_lambda(t), noise, s, &bad);
  else
    *loglik = loglik_m32(t->variance, gp_lambda(t), noise, s, &bad);
  return bad ? -1 : 1;
}
