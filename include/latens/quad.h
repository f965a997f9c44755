/* latens/quad.h: fixed quadrature rules as nodes and LOG-weights.
 *
 * Circuits integrate densities in log space and Gaussian-process code needs Gaussian
 * expectations, so every rule is returned as nodes x_i and log w_i:
 *     integral ~= sum_i w_i f(x_i),  log integral ~= latens_logsumexp_weighted(log f, logw, n).
 * All weights are positive, so their logarithms are finite (except where a weight truly
 * underflows: see Gauss-Hermite below).  Nodes are in increasing order.
 *
 * Kinds, and the meaning of (a, b):
 *   LATENS_QUAD_GAUSS_LEGENDRE  integral over [a, b]; exact for polynomials of degree 2n - 1.
 *                               Nodes and weights from GSL's gsl_integration_glfixed_table.
 *   LATENS_QUAD_GAUSS_HERMITE   expectation under N(mu = a, sigma^2 = b^2), probabilists'
 *                               form: nodes mu + sigma sqrt(2) t_i, weights w_i / sqrt(pi),
 *                               with (t_i, w_i) the physicists' rule for exp(-t^2); exact for
 *                               polynomials of degree 2n - 1 and the weights sum to 1.
 *                               Nodes come from GSL's gsl_integration_fixed (Golub-Welsch) and
 *                               are polished by Newton steps; the log-weights are evaluated
 *                               directly in log space from the Christoffel formula
 *                               w_i = 1 / (n p_{n-1}(t_i)^2) (p_k orthonormal), because
 *                               Golub-Welsch weights lose all relative accuracy (and
 *                               underflow) in the tails.  The log-weights stay finite for
 *                               every n accepted.
 *   LATENS_QUAD_TRAPEZOID       n >= 2 equally spaced points including a and b; error O(h^2).
 *   LATENS_QUAD_SIMPSON         odd n >= 3 equally spaced points; error O(h^4).
 *   LATENS_QUAD_MIDPOINT        n >= 1 cell midpoints of [a, b]; error O(h^2).
 *
 * Gauss-Legendre uses GSL's 25-digit tables where it has them and otherwise polishes GSL's
 * on-the-fly rule (accurate only to ~1e-11) with Newton steps, so every n is accurate to a
 * few ulp.
 *
 * Any finite a < b whose width b - a is representable works, including intervals next to
 * +-DBL_MAX (the centre is formed as a + (b/2 - a/2), which cannot overflow).
 *
 * Statuses: LATENS_EINVAL (NULL output, unknown kind, n below the rule's minimum: 1, or 2
 * for trapezoid, 3 for Simpson), LATENS_ENOTFINITE (NaN or Inf a or b), LATENS_EDOM (even n
 * for Simpson, n > LATENS_QUAD_GAUSS_NMAX for the Gauss rules, a >= b, sigma <= 0),
 * LATENS_ERANGE (b - a, whose value the weights sum to, or a Hermite node overflows),
 * LATENS_ENOMEM, LATENS_EFAILED (the Hermite node refinement did not converge; not seen for
 * any n up to the maximum). */
#ifndef LATENS_QUAD_H
#define LATENS_QUAD_H

#include <stddef.h>
#include <latens/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  LATENS_QUAD_GAUSS_LEGENDRE = 0,
  LATENS_QUAD_GAUSS_HERMITE = 1,
  LATENS_QUAD_TRAPEZOID = 2,
  LATENS_QUAD_SIMPSON = 3,
  LATENS_QUAD_MIDPOINT = 4
} latens_quad_kind;

/* Largest n accepted by the Gauss rules (their set-up costs O(n^2)). */
#define LATENS_QUAD_GAUSS_NMAX 4096

/* Fill nodes[0..n-1] and logw[0..n-1] with the rule `kind` (see above for a and b). */
LATENS_EXPORT int latens_quad_rule(latens_quad_kind kind, size_t n, double a, double b,
                                   double *nodes, double *logw);

/* A short name ("gauss-legendre", ...) of a latens_quad_kind value, or "unknown" (never
 * NULL).  Takes int, like every latens_*_name getter, so any value can be passed. */
LATENS_EXPORT const char *latens_quad_kind_name(int kind);

#ifdef __cplusplus
}
#endif
#endif
