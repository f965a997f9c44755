/* latens/optim.h: unconstrained and box-constrained minimisation of smooth objectives.
 *
 * One front end, five methods: L-BFGS (the default, implemented here with a strong-Wolfe
 * line search), GSL's BFGS2 and Fletcher-Reeves / Polak-Ribiere conjugate gradients, and
 * GSL's Nelder-Mead simplex (nmsimplex2) for objectives without a gradient.
 *
 * Box constraints are handled by a change of variables, per parameter:
 *   no bounds          x = u
 *   lower lo only      x = lo + exp(u)
 *   upper up only      x = up - exp(u)
 *   both lo < up       x = lo + (up - lo) / (1 + exp(-u))
 * The methods work in u, where the problem is unconstrained; gradients are chained
 * (df/du = df/dx * dx/du) and the objective only ever sees x.  Consequences:
 *   - x stays strictly inside the box.  A solution can approach a bound as closely as the
 *     tolerances ask, but never sits on it (where rounding would put x on a bound, x is
 *     moved to the nearest representable number inside).  The starting point must be
 *     strictly inside too.
 *   - The gradient tolerance is applied to the gradient in u: at an active bound the
 *     gradient in x does not vanish, the one in u does (dx/du -> 0).  For unbounded
 *     parameters the two are the same.
 *
 * Convergence rules (k is the iteration, f_k the objective there, g_k its gradient in u):
 *   gradient     |g_k|_inf <= gtol * max(1, |f_k|)        (checked at the start too)
 *   f tolerance  f_{k-1} - f_k <= ftol * max(1, |f_{k-1}|, |f_k|)
 *   size         Nelder-Mead only (it has no gradient): GSL's simplex size <= xtol
 * Scaling by max(1, |f|) makes the tests relative for large objectives (log-likelihoods of
 * many observations) and absolute near f = 0.  Nelder-Mead applies the f rule to its best
 * vertex across blocks of 5 (n + 1) iterations (most iterations leave the best vertex
 * alone); it is the only rule that stops the simplex when the solution is at a bound, where
 * f is flat in u and the simplex never shrinks.
 *
 * Reachable accuracy: GSL's BFGS2 and conjugate gradients insist that every step lowers f,
 * so they stop (LATENS_ENOPROG) once steps no longer change f in floating point, at about
 * |g| ~ sqrt(2 * curvature * ulp(f)) -- ~1e-8 to 1e-7 for f of order one.  Keep gtol above
 * that for them (the default 1e-6 is).  L-BFGS's Wolfe line search also accepts a step by
 * its slope when f is flat to rounding, and reaches gradients a few orders smaller.
 *
 * Statuses: LATENS_OK when a rule above was met.  Otherwise, once the start has been
 * evaluated successfully, result->x holds the best point found and result->f its value:
 *   LATENS_EMAXITER      max_iter iterations without convergence.  Often the answer is still
 *                        usable; the caller decides whether this is fatal.
 *   LATENS_ENOPROG       the line search found no decrease (typically gtol is below what the
 *                        objective's rounding allows) or GSL reported no progress.
 *   LATENS_EINTERRUPTED  the progress callback asked to stop.
 *   the objective's own status, when it returned one other than LATENS_OK.
 *   LATENS_ENOTFINITE    f or the gradient is NaN/Inf at the start, or (GSL gradient methods)
 *                        the gradient is not finite at a point where f is.
 * A non-finite f (or, for L-BFGS, gradient) at a trial point of a line search is not an
 * error: the step is treated as too long and shortened.
 *
 * Reentrant: no global state; the objective is called from the calling thread only.
 */
#ifndef LATENS_OPTIM_H
#define LATENS_OPTIM_H

#include <stddef.h>
#include <latens/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The objective: store f(x) in *f and, when grad is not NULL, the gradient df/dx in
 * grad[0..n-1].  Return LATENS_OK, or another status to abort the minimisation with it.
 * Nelder-Mead and the f-only steps of GSL's line searches pass grad = NULL. */
typedef int latens_optim_fdf(const double *x, size_t n, void *user, double *f, double *grad);

typedef enum {
  LATENS_OPTIM_LBFGS = 0,   /* limited-memory BFGS, memory m (default) */
  LATENS_OPTIM_BFGS2 = 1,   /* gsl_multimin_fdfminimizer_vector_bfgs2 */
  LATENS_OPTIM_CG_FR = 2,   /* gsl_multimin_fdfminimizer_conjugate_fr */
  LATENS_OPTIM_CG_PR = 3,   /* gsl_multimin_fdfminimizer_conjugate_pr */
  LATENS_OPTIM_SIMPLEX = 4, /* gsl_multimin_fminimizer_nmsimplex2: f only, no gradient */
  LATENS_OPTIM_NMETHODS = 5
} latens_optim_method;

/* Why the run stopped (latens_optim_result.reason). */
enum {
  LATENS_OPTIM_STOP_NONE = 0,    /* not started: bad arguments */
  LATENS_OPTIM_STOP_GTOL = 1,    /* gradient rule met (converged) */
  LATENS_OPTIM_STOP_FTOL = 2,    /* f tolerance rule met (converged) */
  LATENS_OPTIM_STOP_XTOL = 3,    /* simplex size rule met (converged, Nelder-Mead) */
  LATENS_OPTIM_STOP_MAXITER = 4, /* LATENS_EMAXITER */
  LATENS_OPTIM_STOP_NOPROG = 5,  /* LATENS_ENOPROG */
  LATENS_OPTIM_STOP_INTERRUPTED = 6,
  LATENS_OPTIM_STOP_ERROR = 7    /* the objective failed or was not finite */
};

typedef struct {
  latens_optim_method method; /* LATENS_OPTIM_LBFGS */
  size_t max_iter;            /* 1000; >= 1 */
  double gtol;                /* 1e-6; >= 0 (0: the gradient rule needs an exact zero) */
  double ftol;                /* 1e-12; >= 0 (0 disables the rule) */
  double xtol;                /* 1e-8; >= 0; Nelder-Mead only */
  double step;                /* 1.0; > 0.  Length in u of the first trial step (gradient
                                 methods) or the initial simplex edge (Nelder-Mead) */
  size_t m;                   /* 10; L-BFGS memory (pairs kept), >= 1 */
  latens_progress progress;   /* {NULL, NULL}: called once per iteration with
                                 done = iteration, total = max_iter */
} latens_optim_options;

/* Fill *opt with the defaults above (NULL: nothing happens). */
LATENS_EXPORT void latens_optim_options_default(latens_optim_options *opt);

typedef struct {
  double *x;          /* set by the caller: n doubles receiving the best point */
  double f;           /* objective at x */
  double grad_norm;   /* |df/du|_inf at x (see above); NaN for Nelder-Mead */
  size_t iterations;  /* iterations completed */
  size_t fevals;      /* calls of the objective (with or without gradient) */
  int converged;      /* 1 when reason is GTOL, FTOL or XTOL */
  int reason;         /* LATENS_OPTIM_STOP_* */
  int status;         /* the value returned */
} latens_optim_result;

/* Minimise fdf over x in the box (lower[i], upper[i]) starting from x0.
 * lower / upper may be NULL (no bounds on that side); entries may be -INFINITY / +INFINITY.
 * opt may be NULL (defaults).  x0 and result->x may be the same array.
 * Errors up to the start's evaluation leave result->x untouched: LATENS_EINVAL (NULL
 * pointer, n = 0, unknown method, max_iter = 0, m = 0 for L-BFGS), LATENS_ENOTFINITE (a NaN
 * bound; a NaN or Inf gtol, ftol, xtol or step; x0, or f or the gradient at x0, not
 * finite), LATENS_EDOM (a negative tolerance, step <= 0, lower >= upper, lower = +Inf,
 * upper = -Inf, up - lo overflowing, x0 not strictly inside), the objective's status if it
 * fails there.  Messages name the option or the parameter.  Each call allocates its
 * workspace once (O(n m) doubles for L-BFGS); the iterations allocate nothing. */
LATENS_EXPORT int latens_optim_minimize(latens_optim_fdf *fdf, const double *x0, size_t n,
                                        void *user, const double *lower, const double *upper,
                                        const latens_optim_options *opt,
                                        latens_optim_result *result);

/* Compare fdf's gradient at x with central differences of f:
 *   fd_i = (f(x + h_i e_i) - f(x - h_i e_i)) / (2 h_i),  h_i = h * max(1, |x_i|),
 *   *max_rel_err = max_i |grad_i - fd_i| / max(1, |grad_i|, |fd_i|)
 * (relative for components larger than one, absolute below).  h = 0 picks cbrt(DBL_EPSILON)
 * ~ 6e-6, which balances the O(h^2) truncation and O(eps/h) rounding errors; a correct
 * gradient then typically gives 1e-8 or less.  Returns LATENS_ENOTFINITE if x or h is NaN or
 * Inf, or f or the gradient is not finite at x or at a difference point (the message names
 * the parameter: use a smaller h near the edge of the objective's domain), the objective's
 * own status if it fails, LATENS_EDOM for h < 0 or an h too small to move x, LATENS_EINVAL
 * for NULL pointers or n = 0; *max_rel_err is NaN then (when it is not NULL).
 * The objective sees x perturbed, never bounds: keep x +- h_i inside its domain. */
LATENS_EXPORT int latens_optim_check_gradient(latens_optim_fdf *fdf, const double *x, size_t n,
                                              void *user, double h, double *max_rel_err);

/* Names for logs: "lbfgs", "bfgs2", "conjugate_fr", "conjugate_pr", "nmsimplex2";
 * "gradient", "f tolerance", "simplex size", "max_iter", "no progress", "interrupted",
 * "error", "none".  Never NULL ("unknown" for out-of-range values). */
LATENS_EXPORT const char *latens_optim_method_name(int method);
LATENS_EXPORT const char *latens_optim_reason_name(int reason);

#ifdef __cplusplus
}
#endif
#endif
