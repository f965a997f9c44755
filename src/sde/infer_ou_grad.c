/* sde/infer_ou_grad.c: the latent OU model's Kalman log-likelihood with its exact gradient,
 * by differentiating the scalar filter's recursion (forward mode: the derivatives of the
 * mean and variance with respect to theta travel alongside them).  The exact transition of
 * OU over dt is mean mu + (m - mu) e, variance P e^2 + v (1 - e^2), e = exp(-kappa dt),
 * v = sigma^2 / (2 kappa), so every step is a closed form in theta. */
#include "infer_impl.h"

#include <math.h>

enum { NP = LATENS_SDE_OU_NPARAM };
static const double LOG_2PI = 1.8378770664093454836;

int latens_sde_ou_loglik_grad(const double *theta, const latens_sde_data *y, double *loglik,
                              double *grad) {
  static const char fn[] = "latens_sde_ou_loglik_grad";
  if (!theta || !y || !loglik || !grad) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  int s = latens_sde_check(fn, NULL, NULL, y);
  if (s) return s;
  if (y->p != 1) LATENS_ERRORF(LATENS_EBADLEN, "%s: the OU model needs 1-D data (p = %zu)", fn, y->p);
  if (y->T == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: no observation times", fn);
  for (int i = 0; i < NP; i++)
    if (!isfinite(theta[i]) || (i != 1 && !(theta[i] > 0)))
      LATENS_ERRORF(LATENS_EDOM, "%s: %s = %g must be finite%s", fn, latens_sde_ou_param_name(i),
                    theta[i], i != 1 ? " and > 0" : "");
  const double k = theta[0], mu = theta[1], sg = theta[2], r = theta[3];
  const double v = sg * sg / (2 * k), dv[NP] = {-v / k, 0, sg / k, 0};
  const double dmu[NP] = {0, 1, 0, 0}, dr[NP] = {0, 0, 0, 1};
  double m = mu, P = v, dm[NP], dP[NP], ll = 0, g[NP] = {0, 0, 0, 0}, tprev = y->t[0];
  for (int i = 0; i < NP; i++) dm[i] = dmu[i], dP[i] = dv[i];
  for (size_t q = 0; q < y->T; q++) {
    const double dt = y->t[q] - tprev, e = exp(-k * dt), de[NP] = {-dt * e, 0, 0, 0};
    tprev = y->t[q];
    const double mp = mu + (m - mu) * e, Pp = P * e * e + v * (1 - e * e);
    double dmp[NP], dPp[NP];
    for (int i = 0; i < NP; i++) {
      dmp[i] = dmu[i] * (1 - e) + dm[i] * e + (m - mu) * de[i];
      dPp[i] = dP[i] * e * e + 2 * P * e * de[i] + dv[i] * (1 - e * e) - 2 * v * e * de[i];
    }
    const double x = y->x[q * y->ldx];
    if (isnan(x)) { /* missing: the prediction is the filter */
      m = mp, P = Pp;
      for (int i = 0; i < NP; i++) dm[i] = dmp[i], dP[i] = dPp[i];
      continue;
    }
    const double S = Pp + r, inn = x - mp;
    ll -= 0.5 * (LOG_2PI + log(S) + inn * inn / S);
    m = mp + Pp * inn / S, P = Pp * r / S;
    for (int i = 0; i < NP; i++) {
      const double dS = dPp[i] + dr[i], dinn = -dmp[i];
      g[i] -= 0.5 * (dS / S + 2 * inn * dinn / S - inn * inn * dS / (S * S));
      dm[i] = dmp[i] + (dPp[i] * inn + Pp * dinn) / S - Pp * inn * dS / (S * S);
      dP[i] = (dPp[i] * r + Pp * dr[i]) / S - Pp * r * dS / (S * S);
    }
  }
  if (!isfinite(ll) || !latens_all_finite(g, NP))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: log-likelihood or gradient not finite at theta", fn);
  *loglik = ll;
  for (int i = 0; i < NP; i++) grad[i] = g[i];
  return LATENS_OK;
}
