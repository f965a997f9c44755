/* core/optim_impl.h: what the optimiser front end (optim.c: options, box transformation, GSL
 * methods) shares with its L-BFGS (optim_lbfgs.c).  Not installed. */
#ifndef LATENS_CORE_OPTIM_IMPL_H
#define LATENS_CORE_OPTIM_IMPL_H

#include "internal.h"

#include <math.h>
#include <latens/optim.h>

/* The problem as the methods see it: unconstrained, in the coordinates u of latens/optim.h. */
typedef struct {
  size_t n;
  latens_optim_fdf *fdf;
  void *user;
  const double *lower, *upper; /* either may be NULL */
  unsigned char *kind;         /* per parameter: which transformation applies */
  double *x, *gx, *jac;        /* scratch: the point, gradient and dx/du in x space */
  size_t fevals;
  const char *what;            /* progress label, "optim lbfgs", ... */
} latens_optim_problem;

/* x = x(u), and dx/du into jac when jac is not NULL. */
LATENS_INTERNAL void latens_optim_to_x(const latens_optim_problem *p, const double *u, double *x,
                                       double *jac);

/* f(x(u)) and, when g is not NULL, df/du.  Returns the objective's status (reported); a
 * non-finite f or g is returned as is, for the caller to judge. */
LATENS_INTERNAL int latens_optim_eval(latens_optim_problem *p, const double *u, double *f,
                                      double *g);

/* The end of iteration `iter`, which moved f from fprev to f, with |g|_inf = gnorm (gradient
 * methods) or simplex size `size` (Nelder-Mead): reports progress and applies the stopping
 * rules.  Returns 1 to stop (res->reason and res->status set), 0 to go on. */
LATENS_INTERNAL int latens_optim_should_stop(const latens_optim_problem *p,
                                             const latens_optim_options *o, size_t iter,
                                             double fprev, double f, double gnorm, double size,
                                             latens_optim_result *res);

/* L-BFGS from (u, f, g), a finite start that does not meet the gradient rule.  On return
 * (u, f, g) is the best point found; res->iterations, reason, status set; returns status. */
LATENS_INTERNAL int latens_optim_lbfgs(latens_optim_problem *p, const latens_optim_options *o,
                                       double *u, double *f, double *g, latens_optim_result *res);

/* max |v_i|, NaN if any v_i is NaN (so that a NaN gradient never passes a test). */
static inline double latens_optim_norm_inf(const double *v, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++) {
    double a = fabs(v[i]);
    if (!(a <= m)) m = a;
  }
  return m;
}

#endif
