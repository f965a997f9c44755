/* core/quad.c: fixed quadrature rules (nodes and log-weights).
 *
 * Every argument is checked before GSL is called: gsl_integration_glfixed_table_alloc and
 * gsl_integration_fixed_alloc report bad n or b through gsl_error, whose default handler
 * aborts the process. */
#include "internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_integration.h>
#include <latens/quad.h>

const char *latens_quad_kind_name(int kind) {
  switch (kind) {
  case LATENS_QUAD_GAUSS_LEGENDRE: return "gauss-legendre";
  case LATENS_QUAD_GAUSS_HERMITE: return "gauss-hermite";
  case LATENS_QUAD_TRAPEZOID: return "trapezoid";
  case LATENS_QUAD_SIMPSON: return "simpson";
  case LATENS_QUAD_MIDPOINT: return "midpoint";
  }
  return "unknown";
}

/* Equally spaced rules: trapezoid, Simpson (nodes a + i h, the last one exactly b) and
 * midpoint (a + (i + 1/2) h).  b - a is finite (checked), and every node is a plus at most
 * (n - 1) h ~ b - a, so none can overflow even next to DBL_MAX. */
static void newton_cotes(latens_quad_kind kind, size_t n, double a, double b, double *x,
                         double *logw) {
  if (kind == LATENS_QUAD_MIDPOINT) {
    double h = (b - a) / (double)n, lh = log(h);
    for (size_t i = 0; i < n; i++) x[i] = a + (i + 0.5) * h, logw[i] = lh;
    return;
  }
  double h = (b - a) / (double)(n - 1), lh = log(h);
  for (size_t i = 0; i < n; i++) x[i] = a + (double)i * h;
  x[n - 1] = b;
  if (kind == LATENS_QUAD_TRAPEZOID) {
    for (size_t i = 0; i < n; i++) logw[i] = lh;
    logw[0] = logw[n - 1] = lh - M_LN2;
    return;
  }
  /* Simpson: h/3 (1, 4, 2, 4, ..., 2, 4, 1). */
  double l3 = lh - log(3.0);
  for (size_t i = 0; i < n; i++) logw[i] = l3 + ((i & 1) ? 2 * M_LN2 : M_LN2);
  logw[0] = logw[n - 1] = l3;
}

/* Legendre P_n(u) and the log of 2 / ((1 - u^2) P_n'(u)^2), the Gauss weight at a root u. */
static double legendre_eval(size_t n, double u, double *dp, double *logw) {
  double prev = 1.0, cur = u; /* P_0, P_1; n >= 1 */
  for (size_t k = 1; k < n; k++) {
    double next = ((2.0 * k + 1.0) * u * cur - (double)k * prev) / (k + 1.0);
    prev = cur, cur = next;
  }
  double one_m_u2 = (1.0 - u) * (1.0 + u); /* no cancellation near |u| = 1 */
  *dp = (double)n * (prev - u * cur) / one_m_u2;
  *logw = M_LN2 - log(one_m_u2) - 2.0 * log(fabs(*dp));
  return cur;
}

/* GSL's precomputed tables carry 25 digits; for other n it runs Newton only until steps fall
 * below 1e-10 and takes the weight from the previous iterate's derivative, which leaves
 * errors near 1e-11 in the weights.  One or two more Newton steps here restore full
 * accuracy. */
static void legendre_polish(size_t n, double *u, double *logw) {
  for (int it = 0; it < 4; it++) {
    double dp, lw, p = legendre_eval(n, *u, &dp, &lw);
    double du = p / dp;
    *u -= du;
    if (fabs(du) <= 2 * DBL_EPSILON) break;
  }
  double dp;
  legendre_eval(n, *u, &dp, logw);
}

static int gauss_legendre(size_t n, double a, double b, double *x, double *logw) {
  gsl_integration_glfixed_table *t = gsl_integration_glfixed_table_alloc(n);
  if (!t) LATENS_ERRORF(LATENS_ENOMEM, "latens_quad_rule: Gauss-Legendre table for n = %zu", n);
  /* GSL keeps the non-negative half of the symmetric rule on [-1, 1], ascending; for odd n
   * its first abscissa is the centre.  0.5 (a + b) would overflow on [1e308, 1.7e308]; the
   * half-width from halves cannot, and the centre a + r lies in [a, b]. */
  double r = 0.5 * b - 0.5 * a, c = a + r, lr = log(r);
  for (size_t j = 0; j < (n + 1) / 2; j++) {
    double u = (n & 1) && j == 0 ? 0.0 : t->x[j], lw0 = log(t->w[j]); /* P_n(0) = 0, n odd */
    if (!t->precomputed && n > 1) legendre_polish(n, &u, &lw0);
    double off = r * u, lw = lw0 + lr;
    size_t up = n / 2 + j, down = n - 1 - up; /* the same index for the centre of odd n */
    x[up] = c + off, x[down] = c - off;
    logw[up] = logw[down] = lw;
  }
  gsl_integration_glfixed_table_free(t);
  return LATENS_OK;
}

/* ---------------------------------------------------------------- Gauss-Hermite */

/* Orthonormal Hermite polynomials for the weight exp(-t^2):
 *   p_0 = pi^(-1/4),  p_{k+1} = t sqrt(2/(k+1)) p_k - sqrt(k/(k+1)) p_{k-1}.
 * They grow like exp(t^2/2) beyond the oscillatory region, so the pair is rescaled by 2^-512
 * whenever it grows past 2^512 and the scale is kept as a logarithm.  On return *pn = p_n,
 * *pm = p_{n-1}, both divided by exp(*lscale). */
typedef struct {
  size_t n;
  double *c1, *c2; /* sqrt(2/(k+1)), sqrt(k/(k+1)) for k < n */
} hermite_coef;

static void hermite_eval(const hermite_coef *hc, double t, double *pn, double *pm, double *lscale) {
  double prev = 0.0, cur = 0.7511255444649425; /* pi^(-1/4) */
  double ls = 0.0;
  for (size_t k = 0; k < hc->n; k++) {
    double next = t * hc->c1[k] * cur - hc->c2[k] * prev;
    prev = cur, cur = next;
    if (fabs(cur) > 0x1p512) cur *= 0x1p-512, prev *= 0x1p-512, ls += 512 * M_LN2;
  }
  *pn = cur, *pm = prev, *lscale = ls;
}

/* Newton's method on p_n from GSL's Golub-Welsch estimate, using p_n' = sqrt(2n) p_{n-1}.
 * The estimate is accurate to a few ulp of the largest node, so two or three steps reach the
 * limiting accuracy; a step larger than a tenth of the gap to the neighbour means the
 * iteration left its root. */
static int hermite_polish(const hermite_coef *hc, double t0, double gap, double *t) {
  double x = t0, sq = sqrt(2.0 * (double)hc->n);
  for (int it = 0; it < 8; it++) {
    double pn, pm, ls;
    hermite_eval(hc, x, &pn, &pm, &ls);
    if (pm == 0.0) break;
    double dx = pn / (sq * pm);
    x -= dx;
    if (fabs(x - t0) > 0.1 * gap) return LATENS_EFAILED;
    if (fabs(dx) <= 2 * DBL_EPSILON * fabs(x)) break;
  }
  *t = x;
  return LATENS_OK;
}

static int gauss_hermite(size_t n, double mu, double sigma, double *x, double *logw) {
  hermite_coef hc = {n, malloc(n * sizeof(double)), malloc(n * sizeof(double))};
  gsl_integration_fixed_workspace *ws =
      hc.c1 && hc.c2
          ? gsl_integration_fixed_alloc(gsl_integration_fixed_hermite, n, 0.0, 1.0, 0.0, 0.0)
          : NULL;
  if (!ws) {
    free(hc.c1), free(hc.c2);
    LATENS_ERRORF(LATENS_ENOMEM, "latens_quad_rule: Gauss-Hermite workspace for n = %zu", n);
  }
  for (size_t k = 0; k < n; k++)
    hc.c1[k] = sqrt(2.0 / (k + 1.0)), hc.c2[k] = sqrt((double)k / (k + 1.0));
  const double *t = gsl_integration_fixed_nodes(ws);
  int st = LATENS_OK;
  /* Polish the non-negative half and mirror it: the rule is symmetric, and exact symmetry
   * makes odd moments about mu vanish to rounding.  For odd n the centre is exactly 0. */
  double lpre = -log((double)n) - 0.5 * log(M_PI), scale = sigma * M_SQRT2;
  for (size_t i = n / 2; i < n && st == LATENS_OK; i++) {
    double ti = 0.0;
    if (!((n & 1) && i == n / 2)) {
      double gap = i > 0 ? t[i] - t[i - 1] : 1.0;
      if (!(t[i] > 0.0) || !(gap > 0.0))
        st = LATENS_EFAILED;
      else
        st = hermite_polish(&hc, t[i], gap, &ti);
    }
    if (st != LATENS_OK) break;
    double pn, pm, ls;
    hermite_eval(&hc, ti, &pn, &pm, &ls);
    /* Christoffel: w_i = 1 / (n p_{n-1}(t_i)^2); probabilists' form divides by sqrt(pi). */
    double lw = lpre - 2.0 * (log(fabs(pm)) + ls);
    x[i] = mu + scale * ti, logw[i] = lw;
    x[n - 1 - i] = mu - scale * ti, logw[n - 1 - i] = lw;
  }
  gsl_integration_fixed_free(ws);
  free(hc.c1), free(hc.c2);
  if (st != LATENS_OK)
    LATENS_ERRORF(LATENS_EFAILED,
                  "latens_quad_rule: Gauss-Hermite nodes for n = %zu did not converge", n);
  if (!isfinite(x[0]) || !isfinite(x[n - 1]))
    LATENS_ERRORF(LATENS_ERANGE,
                  "latens_quad_rule: Gauss-Hermite nodes overflow (mu %g, sigma %g, n %zu)", mu,
                  sigma, n);
  return LATENS_OK;
}

/* ---------------------------------------------------------------- public entry */

/* Statuses in the order of common.h's rules: an unknown kind or too few points (EINVAL), then
 * non-finite a or b (ENOTFINITE), then finite values outside the rule's domain (EDOM), then
 * an interval whose width is not representable (ERANGE: the weights sum to b - a). */
static int check_rule_args(latens_quad_kind kind, size_t n, double a, double b) {
  const char *name = latens_quad_kind_name(kind);
  size_t nmin = 1;
  switch (kind) {
  case LATENS_QUAD_GAUSS_LEGENDRE:
  case LATENS_QUAD_GAUSS_HERMITE:
  case LATENS_QUAD_MIDPOINT: break;
  case LATENS_QUAD_TRAPEZOID: nmin = 2; break;
  case LATENS_QUAD_SIMPSON: nmin = 3; break;
  default: LATENS_ERRORF(LATENS_EINVAL, "latens_quad_rule: unknown rule kind %d", (int)kind);
  }
  if (n < nmin)
    LATENS_ERRORF(LATENS_EINVAL, "latens_quad_rule: %s needs n >= %zu, got %zu", name, nmin, n);
  if (!isfinite(a) || !isfinite(b))
    LATENS_ERRORF(LATENS_ENOTFINITE, "latens_quad_rule: %s with non-finite %s (%g, %g)", name,
                  kind == LATENS_QUAD_GAUSS_HERMITE ? "mu or sigma" : "a or b", a, b);
  if (kind == LATENS_QUAD_SIMPSON && n % 2 == 0)
    LATENS_ERRORF(LATENS_EDOM, "latens_quad_rule: simpson needs odd n, got %zu", n);
  if ((kind == LATENS_QUAD_GAUSS_LEGENDRE || kind == LATENS_QUAD_GAUSS_HERMITE) &&
      n > LATENS_QUAD_GAUSS_NMAX)
    LATENS_ERRORF(LATENS_EDOM, "latens_quad_rule: %s with n = %zu > %d", name, n,
                  LATENS_QUAD_GAUSS_NMAX);
  if (kind == LATENS_QUAD_GAUSS_HERMITE) {
    if (!(b > 0.0))
      LATENS_ERRORF(LATENS_EDOM, "latens_quad_rule: gauss-hermite needs sigma > 0, got %g", b);
  } else {
    if (!(a < b))
      LATENS_ERRORF(LATENS_EDOM, "latens_quad_rule: %s needs a < b, got [%g, %g]", name, a, b);
    if (!isfinite(b - a))
      LATENS_ERRORF(LATENS_ERANGE, "latens_quad_rule: %s interval [%g, %g] is too wide", name, a,
                    b);
  }
  return LATENS_OK;
}

int latens_quad_rule(latens_quad_kind kind, size_t n, double a, double b, double *nodes,
                     double *logw) {
  int st = check_rule_args(kind, n, a, b);
  if (st) return st;
  if (!nodes || !logw)
    LATENS_ERRORF(LATENS_EINVAL, "latens_quad_rule: %s is NULL", nodes ? "logw" : "nodes");
  switch (kind) {
  case LATENS_QUAD_GAUSS_LEGENDRE: return gauss_legendre(n, a, b, nodes, logw);
  case LATENS_QUAD_GAUSS_HERMITE: return gauss_hermite(n, a, b, nodes, logw);
  default: newton_cotes(kind, n, a, b, nodes, logw); return LATENS_OK;
  }
}
