/* latens/ode.h: initial-value problems y' = f(t, y), with optional forward sensitivities
 * dy/dp, through SUNDIALS CVODES.  No other latens module talks to SUNDIALS directly.
 *
 * Methods: BDF (orders 1-5) with Newton iterations and a dense direct linear solver, for
 * stiff problems (the Jacobian comes from the caller or from CVODE's difference quotients);
 * Adams-Moulton (orders 1-12) with fixed-point iterations, for non-stiff problems (no
 * Jacobian, no linear algebra, so it scales to large n; on a stiff problem it fails to
 * converge: use BDF there).
 *
 * Error control is CVODE's: each internal step keeps the local error e_i below
 * rtol |y_i| + atol_i in weighted RMS norm.  The global error is not controlled: it is what
 * the steps' local errors add up to, usually a modest multiple of the tolerances (tens of
 * times for components decaying over hundreds of steps).  Ask for tolerances well below the
 * accuracy needed.
 *
 * Output times: t0 <= times[0] <= times[1] <= ... (forward) or the same with >= (backward
 * integration is supported).  Times equal to t0 return y0; repeated times repeat the column.
 * The integrator never steps past the last output time (it is CVODE's stop time), so f is
 * only evaluated on [t0, times[ntimes-1]].
 *
 * Callbacks return 0 on success, > 0 for a recoverable failure (CVODE retries with a smaller
 * step: use it when y left f's domain), < 0 for a fatal one (the solve stops).  A fatal
 * return of -s, where s is a latens status (e.g. -LATENS_EDOM), makes the solve return s;
 * other negative values give LATENS_EFAILED.  A rhs that writes NaN or Inf is treated as a
 * recoverable failure.
 *
 * Statuses of the solves (after the argument checks: LATENS_EINVAL for NULL pointers, n = 0,
 * ld < n, bad options; LATENS_ENOTFINITE for non-finite t0, times, y0, p or S0;
 * LATENS_EDOM for times not monotone away from t0):
 *   LATENS_EMAXITER      max_steps internal steps taken before the last output time
 *                        (CV_TOO_MUCH_WORK, the step size still well above rounding level)
 *   LATENS_EDOM          the tolerances are too small for double precision (CV_TOO_MUCH_ACC),
 *                        an error weight became <= 0 (a component hit 0 with atol_i = 0), or
 *                        the first output time is too close to t0 (CV_TOO_CLOSE)
 *   LATENS_EFAILED       repeated error-test or convergence failures (CV_ERR_FAILURE,
 *                        CV_CONV_FAILURE), repeated recoverable callback failures, a fatal
 *                        callback failure with a non-status value, or a stall: out of steps
 *                        with the step size at the rounding level of t (a singularity, or f
 *                        failing recoverably beyond some t, which CVODE creeps up to)
 *   LATENS_ENOTFINITE    f was not finite at the start, or on every retry
 *   LATENS_EINTERRUPTED  the progress callback asked to stop
 *   LATENS_ENOMEM        allocation failed
 * The message names CVODE's flag (CVodeGetReturnFlagName), the time reached, the output time
 * aimed at and CVODE's own message.  On any failure after the checks, columns 0 .. nout-1 of
 * Y (stats->nout) hold the solution at those times; later columns are left untouched.
 * SUNDIALS never prints: its messages are captured and passed on in latens' error message
 * (the one exception: SUNDIALS 6 reports running out of memory inside CVodeCreate on stderr,
 * before a handler can be attached).
 *
 * Reentrant: each object owns its SUNContext and CVODE memory; use one object per thread.
 * Objects are reusable: each solve restarts CVODE (CVodeReInit) on workspace allocated once,
 * so repeated solves (an optimiser evaluating a likelihood) cost no set-up.
 */
#ifndef LATENS_ODE_H
#define LATENS_ODE_H

#include <stddef.h>
#include <latens/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* dydt <- f(t, y); y and dydt have n entries. */
typedef int latens_ode_rhs(double t, const double *y, double *dydt, void *user);
/* J <- df/dy at (t, y), n x n column-major with leading dimension ldj (J(i, j) =
 * J[i + j*ldj] = df_i/dy_j).  J is zeroed before the call: write the non-zeros only. */
typedef int latens_ode_jac(double t, const double *y, double *J, size_t ldj, void *user);

/* The same with parameters p (np entries).  During difference-quotient sensitivities p holds
 * perturbed values: always read the parameters from p, never from user data. */
typedef int latens_ode_rhs_p(double t, const double *y, const double *p, double *dydt,
                             void *user);
typedef int latens_ode_jac_p(double t, const double *y, const double *p, double *J, size_t ldj,
                             void *user);
/* Sensitivity right-hand side: dS <- (df/dy) S + df/dp, where S = dy/dp and dS are n x np
 * column-major with leading dimension ld (column j is d/dp_j); dydt = f(t, y, p). */
typedef int latens_ode_sens_rhs(double t, const double *y, const double *dydt, const double *p,
                                const double *S, double *dS, size_t ld, void *user);

typedef enum {
  LATENS_ODE_BDF = 0,   /* stiff: BDF + Newton + dense LU (CV_BDF) */
  LATENS_ODE_ADAMS = 1, /* non-stiff: Adams-Moulton + fixed point (CV_ADAMS) */
  LATENS_ODE_NMETHODS = 2
} latens_ode_method;

typedef struct {
  latens_ode_method method; /* LATENS_ODE_BDF */
  double rtol;              /* 1e-6; >= 0, finite */
  double atol;              /* 1e-9; >= 0, finite; used when atolv is NULL */
  const double *atolv;      /* NULL, or n per-component absolute tolerances (copied) */
  size_t max_steps;         /* 100000; >= 1.  Internal steps over a whole solve */
  double h0;                /* 0: CVODE estimates it.  Else |first step| (> 0) */
  double hmax;              /* 0 or INFINITY: unbounded.  Else max |step| (> 0) */
  /* Sensitivities (latens_ode_alloc_param problems): */
  int sens_errcon;          /* 1: sensitivities take part in the error test (more accurate,
                               more steps); 0: only y does */
  const double *pbar;       /* NULL: |p_j| (1 where p_j = 0), per solve.  Else np positive
                               scales (copied): the sensitivity tolerances are the state's
                               divided by pbar_j, and difference quotients perturb p_j by
                               about sqrt(rtol) pbar_j */
  latens_progress progress; /* {NULL, NULL}: called after each output time with done = the
                               number of columns written, total = ntimes */
} latens_ode_options;

/* Fill *opt with the defaults above. */
LATENS_EXPORT void latens_ode_options_default(latens_ode_options *opt);

/* Work counters of the last solve (CVODE's, since its restart). */
typedef struct {
  size_t nout;              /* output columns written */
  double t;                 /* time reached: the last output time written, or where a
                               failure happened; t0 before any step */
  double last_step;         /* size of the last internal step taken (signed; 0: none) */
  long steps;               /* internal steps */
  long rhs_evals;           /* calls of f, all purposes (steps, DQ Jacobian, DQ sensitivities) */
  long jac_evals;           /* Jacobian evaluations (the caller's or difference quotients) */
  long err_test_fails;      /* local error test failures */
  long nonlin_iters;        /* nonlinear (Newton or fixed-point) iterations */
  long nonlin_conv_fails;   /* nonlinear convergence failures */
  long sens_rhs_evals;      /* sensitivity right-hand side evaluations (0 without) */
  long sens_err_test_fails; /* error test failures due to the sensitivities */
  long warnings;            /* CVODE warnings (not errors: e.g. t + h == t) */
} latens_ode_stats;

typedef struct latens_ode latens_ode;

/* A problem y' = f(t, y) of dimension n >= 1.  jac may be NULL (difference quotients; BDF
 * only: Adams never needs it).  opt may be NULL (defaults); it is copied.  Returns NULL
 * (after reporting) on bad arguments or when SUNDIALS cannot be set up. */
LATENS_EXPORT latens_ode *latens_ode_alloc(size_t n, latens_ode_rhs *rhs, latens_ode_jac *jac,
                                           void *user, const latens_ode_options *opt);
/* A problem y' = f(t, y, p) with np >= 1 parameters, solved with latens_ode_solve_param.
 * jac as for latens_ode_alloc.  srhs may be NULL: sensitivities then come from CVODES'
 * centred difference quotients of f in (y, p) (CVodeSetSensParams), 2 np extra calls of f
 * per sensitivity evaluation. */
LATENS_EXPORT latens_ode *latens_ode_alloc_param(size_t n, size_t np, latens_ode_rhs_p *rhs,
                                                 latens_ode_jac_p *jac, latens_ode_sens_rhs *srhs,
                                                 void *user, const latens_ode_options *opt);
LATENS_EXPORT void latens_ode_free(latens_ode *ode); /* NULL-safe */

/* Integrate from (t0, y0) and write y(times[k]) into column k of Y (n x ntimes, column-major,
 * leading dimension ldy >= n).  ntimes >= 1.  stats may be NULL.  Only for latens_ode_alloc
 * problems. */
LATENS_EXPORT int latens_ode_solve(latens_ode *ode, double t0, const double *y0, size_t ntimes,
                                   const double *times, double *Y, size_t ldy,
                                   latens_ode_stats *stats);

/* As latens_ode_solve for latens_ode_alloc_param problems, at parameters p (np entries).
 * When dYdp is not NULL, also the sensitivities: dYdp is n x (np ntimes) with leading
 * dimension ldd >= n, column j + k np holding d y(times[k]) / d p_j.  S0 (n x np, leading
 * dimension lds0 >= n) is dy0/dp, NULL for zero (y0 independent of p).  With dYdp NULL, S0
 * and lds0 are ignored and no sensitivities are computed. */
LATENS_EXPORT int latens_ode_solve_param(latens_ode *ode, const double *p, double t0,
                                         const double *y0, const double *S0, size_t lds0,
                                         size_t ntimes, const double *times, double *Y,
                                         size_t ldy, double *dYdp, size_t ldd,
                                         latens_ode_stats *stats);

/* "bdf", "adams"; "unknown" for out-of-range values.  Never NULL. */
LATENS_EXPORT const char *latens_ode_method_name(int method);

#ifdef __cplusplus
}
#endif
#endif
