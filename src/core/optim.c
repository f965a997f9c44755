/* core/optim.c: the optimiser front end: options, argument checks, the box transformation,
 * the stopping rules, GSL's multimin methods and the gradient checker.  L-BFGS itself is in
 * optim_lbfgs.c.
 *
 * GSL's minimisers report some conditions through gsl_error, whose default handler aborts
 * the process, and the handler is the user's to set.  So: sizes are checked here before any
 * GSL call, n > 0 always, and the objective is wrapped so that GSL never sees a non-finite
 * value (nmsimplex2 calls gsl_error on one).  A non-finite f becomes a finite penalty above
 * the current f, which GSL's line searches and the simplex treat as "too far"; a failing
 * objective is remembered, later calls return the penalty without calling it, and the run
 * ends after the current GSL iteration. */
#include "optim_impl.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_multimin.h>

enum { FREE = 0, LOWER = 1, UPPER = 2, BOTH = 3 };

/* GSL's line-search accuracy: its manual's advice of 0.1 for all fdf methods (only an
 * approximate line minimum is needed; BFGS2 uses it as the Wolfe curvature constant). */
static const double gsl_line_tol = 0.1;
/* Nelder-Mead's f rule compares the best f across blocks of NM_WINDOW (n + 1) iterations:
 * most iterations replace the worst vertex and leave the best alone, so comparing single
 * iterations would stop at once.  Five sweeps of the simplex was enough to never stop early
 * on the test problems, while stalls (ties at rounding level) end within a few blocks. */
enum { NM_WINDOW = 5 };

static const char *const method_names[LATENS_OPTIM_NMETHODS] = {
    "lbfgs", "bfgs2", "conjugate_fr", "conjugate_pr", "nmsimplex2"};
static const char *const method_labels[LATENS_OPTIM_NMETHODS] = {
    "optim lbfgs", "optim bfgs2", "optim conjugate_fr", "optim conjugate_pr",
    "optim nmsimplex2"};
static const char *const reason_names[] = {"none",     "gradient",    "f tolerance",
                                           "simplex size", "max_iter", "no progress",
                                           "interrupted",  "error"};

const char *latens_optim_method_name(int method) {
  return method >= 0 && method < LATENS_OPTIM_NMETHODS ? method_names[method] : "unknown";
}

const char *latens_optim_reason_name(int reason) {
  return reason >= 0 && reason <= LATENS_OPTIM_STOP_ERROR ? reason_names[reason] : "unknown";
}

void latens_optim_options_default(latens_optim_options *opt) {
  if (!opt) return;
  *opt = (latens_optim_options){.method = LATENS_OPTIM_LBFGS,
                                .max_iter = 1000,
                                .gtol = 1e-6,
                                .ftol = 1e-12,
                                .xtol = 1e-8,
                                .step = 1.0,
                                .m = 10,
                                .progress = {NULL, NULL}};
}

/* ---------------------------------------------------------------- box transformation */

void latens_optim_to_x(const latens_optim_problem *p, const double *u, double *x, double *jac) {
  for (size_t i = 0; i < p->n; i++) {
    double ui = u[i], xi = ui, ji = 1.0;
    double lo = p->lower ? p->lower[i] : -INFINITY, up = p->upper ? p->upper[i] : INFINITY;
    if (p->kind[i] == LOWER) { /* exp overflows for u > 709: keep x finite */
      ji = exp(ui);
      xi = lo + ji;
      if (xi > DBL_MAX) xi = DBL_MAX;
    } else if (p->kind[i] == UPPER) {
      ji = -exp(ui);
      xi = up + ji;
      if (xi < -DBL_MAX) xi = -DBL_MAX;
    } else if (p->kind[i] == BOTH) {
      /* logistic(-|u|) = t/(1+t) with t = exp(-|u|) <= 1: no overflow, and measuring from the
       * nearer bound keeps x's distance to it accurate. */
      double w = up - lo, t = exp(-fabs(ui)), near = w * (t / (1.0 + t));
      xi = ui >= 0.0 ? up - near : lo + near;
      ji = w * t / ((1.0 + t) * (1.0 + t));
    }
    /* Rounding must not put x on a bound (the objective may be undefined there). */
    if (xi <= lo) xi = nextafter(lo, INFINITY);
    if (xi >= up) xi = nextafter(up, -INFINITY);
    x[i] = xi;
    if (jac) jac[i] = ji;
  }
}

static double to_u(int kind, double lo, double up, double x) {
  if (kind == LOWER) return log(x - lo);
  if (kind == UPPER) return log(up - x);
  if (kind == BOTH) return log(x - lo) - log(up - x);
  return x;
}

int latens_optim_eval(latens_optim_problem *p, const double *u, double *f, double *g) {
  latens_optim_to_x(p, u, p->x, g ? p->jac : NULL);
  /* NaN first, so that an objective that forgets to fill something is caught as non-finite. */
  *f = NAN;
  if (g)
    for (size_t i = 0; i < p->n; i++) p->gx[i] = NAN;
  p->fevals++;
  int status = p->fdf(p->x, p->n, p->user, f, g ? p->gx : NULL);
  if (status != LATENS_OK)
    LATENS_ERRORF(status, "latens_optim_minimize: the objective returned status %d (%s) at "
                          "evaluation %zu",
                  status, latens_strerror(status), p->fevals);
  if (g)
    for (size_t i = 0; i < p->n; i++) g[i] = p->gx[i] * p->jac[i];
  return LATENS_OK;
}

int latens_optim_should_stop(const latens_optim_problem *p, const latens_optim_options *o,
                             size_t iter, double fprev, double f, double gnorm, double size,
                             latens_optim_result *res) {
  res->iterations = iter;
  if (latens_progress_report(&o->progress, p->what, (double)iter, (double)o->max_iter)) {
    res->reason = LATENS_OPTIM_STOP_INTERRUPTED;
    res->status = LATENS_EINTERRUPTED;
    return 1;
  }
  int reason = LATENS_OPTIM_STOP_NONE;
  if (o->method == LATENS_OPTIM_SIMPLEX) {
    if (size <= o->xtol) reason = LATENS_OPTIM_STOP_XTOL;
  } else if (gnorm <= o->gtol * fmax(1.0, fabs(f))) {
    reason = LATENS_OPTIM_STOP_GTOL;
  }
  if (reason == LATENS_OPTIM_STOP_NONE && o->ftol > 0.0 &&
      fprev - f <= o->ftol * fmax(1.0, fmax(fabs(fprev), fabs(f))))
    reason = LATENS_OPTIM_STOP_FTOL;
  if (reason != LATENS_OPTIM_STOP_NONE) {
    res->converged = 1;
    res->reason = reason;
    res->status = LATENS_OK;
    return 1;
  }
  if (iter >= o->max_iter) {
    res->reason = LATENS_OPTIM_STOP_MAXITER;
    res->status = LATENS_EMAXITER;
    return 1;
  }
  return 0;
}

/* ---------------------------------------------------------------- GSL methods */

typedef struct {
  latens_optim_problem *p;
  int status;     /* first failure inside a callback; the run ends after this iteration */
  int simplex;    /* the penalty only has to order points: the largest double does */
  double fcur;    /* f at GSL's current iterate: the penalty must exceed it */
  double *u, *g;  /* contiguous copies (GSL vectors may be strided) */
} gsl_ctx;

static double penalty(const gsl_ctx *c) {
  double pen = c->fcur + 1e3 * (1.0 + fabs(c->fcur));
  return c->simplex || !isfinite(pen) ? DBL_MAX : pen;
}

/* f at u, and df/du into g when g is not NULL; *ok = 0 when the penalty stands in for f. */
static double gsl_ctx_f(gsl_ctx *c, const gsl_vector *u, double *g, int *ok) {
  *ok = 0;
  if (c->status) return penalty(c);
  for (size_t i = 0; i < c->p->n; i++) c->u[i] = gsl_vector_get(u, i);
  double f;
  c->status = latens_optim_eval(c->p, c->u, &f, g);
  if (c->status || !isfinite(f)) return penalty(c);
  if (g && !isfinite(latens_optim_norm_inf(g, c->p->n))) {
    size_t i = 0;
    while (isfinite(g[i])) i++;
    latens_errorf(__FILE__, __LINE__, LATENS_ENOTFINITE,
                  "latens_optim_minimize: gradient component %zu is %g where f = %g", i,
                  c->p->gx[i], f);
    c->status = LATENS_ENOTFINITE;
    return penalty(c);
  }
  *ok = 1;
  return f;
}

static double gsl_f(const gsl_vector *u, void *params) {
  int ok;
  return gsl_ctx_f(params, u, NULL, &ok);
}

static void gsl_fdf(const gsl_vector *u, void *params, double *f, gsl_vector *grad) {
  gsl_ctx *c = params;
  int ok;
  *f = gsl_ctx_f(c, u, c->g, &ok);
  for (size_t i = 0; i < c->p->n; i++) gsl_vector_set(grad, i, ok ? c->g[i] : 0.0);
}

static void gsl_df(const gsl_vector *u, void *params, gsl_vector *grad) {
  double f;
  gsl_fdf(u, params, &f, grad);
}

static void copy_from_gsl(double *dst, const gsl_vector *v) {
  for (size_t i = 0; i < v->size; i++) dst[i] = gsl_vector_get(v, i);
}

/* BFGS2 and the conjugate gradients.  (u, f, g): in, the evaluated start; out, the best. */
static int run_gsl_fdf(gsl_ctx *c, const latens_optim_options *o, double *u, double *f,
                       double *g, latens_optim_result *res) {
  size_t n = c->p->n;
  const gsl_multimin_fdfminimizer_type *T =
      o->method == LATENS_OPTIM_BFGS2   ? gsl_multimin_fdfminimizer_vector_bfgs2
      : o->method == LATENS_OPTIM_CG_FR ? gsl_multimin_fdfminimizer_conjugate_fr
                                        : gsl_multimin_fdfminimizer_conjugate_pr;
  gsl_multimin_fdfminimizer *s = gsl_multimin_fdfminimizer_alloc(T, n);
  if (!s) {
    res->reason = LATENS_OPTIM_STOP_ERROR;
    LATENS_ERRORF(LATENS_ENOMEM, "latens_optim_minimize: no memory for %s, n = %zu",
                  method_names[o->method], n);
  }
  gsl_multimin_function_fdf fn = {gsl_f, gsl_df, gsl_fdf, n, c};
  gsl_vector_view uv = gsl_vector_view_array(u, n);
  c->fcur = *f;
  gsl_multimin_fdfminimizer_set(s, &fn, &uv.vector, o->step, gsl_line_tol);
  for (size_t iter = 1; !c->status; iter++) {
    int gsl_status = gsl_multimin_fdfminimizer_iterate(s);
    if (c->status) break;
    if (gsl_status != GSL_SUCCESS) {
      res->iterations = iter - 1;
      res->reason = LATENS_OPTIM_STOP_NOPROG;
      res->status = LATENS_ENOPROG;
      break;
    }
    double f_prev = *f;
    if (s->f <= *f) { /* the methods descend; keep the best point should one not */
      *f = s->f;
      copy_from_gsl(u, s->x);
      copy_from_gsl(g, s->gradient);
    }
    c->fcur = s->f;
    copy_from_gsl(c->g, s->gradient);
    double gnorm = latens_optim_norm_inf(c->g, n);
    if (latens_optim_should_stop(c->p, o, iter, f_prev, s->f, gnorm, NAN, res)) break;
  }
  if (c->status) res->reason = LATENS_OPTIM_STOP_ERROR, res->status = c->status;
  gsl_multimin_fdfminimizer_free(s);
  return res->status;
}

/* Nelder-Mead.  (u, f): in, the evaluated start; out, the best vertex. */
static int run_gsl_simplex(gsl_ctx *c, const latens_optim_options *o, double *u, double *f,
                           latens_optim_result *res) {
  size_t n = c->p->n;
  gsl_multimin_fminimizer *s = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, n);
  if (!s) {
    res->reason = LATENS_OPTIM_STOP_ERROR;
    LATENS_ERRORF(LATENS_ENOMEM, "latens_optim_minimize: no memory for nmsimplex2, n = %zu", n);
  }
  gsl_multimin_function fn = {gsl_f, n, c};
  gsl_vector_view uv = gsl_vector_view_array(u, n);
  for (size_t i = 0; i < n; i++) c->g[i] = o->step; /* c->g is unused by the simplex */
  gsl_vector_view step = gsl_vector_view_array(c->g, n);
  c->simplex = 1;
  gsl_multimin_fminimizer_set(s, &fn, &uv.vector, &step.vector);
  /* f_prev is NaN between block ends: the f rule is then not applied. */
  size_t window = NM_WINDOW * (n + 1);
  double f_block = *f;
  for (size_t iter = 1; !c->status; iter++) {
    int gsl_status = gsl_multimin_fminimizer_iterate(s);
    if (c->status) break;
    if (gsl_status != GSL_SUCCESS) { /* only on non-finite values, which it never sees */
      res->iterations = iter - 1;
      res->reason = LATENS_OPTIM_STOP_NOPROG;
      res->status = LATENS_ENOPROG;
      break;
    }
    *f = s->fval;
    copy_from_gsl(u, s->x);
    double size = gsl_multimin_fminimizer_size(s), f_prev = NAN;
    if (iter % window == 0) f_prev = f_block, f_block = *f;
    if (latens_optim_should_stop(c->p, o, iter, f_prev, *f, NAN, size, res)) break;
  }
  if (c->status) res->reason = LATENS_OPTIM_STOP_ERROR, res->status = c->status;
  gsl_multimin_fminimizer_free(s);
  return res->status;
}

/* ---------------------------------------------------------------- front end */

static int check_options(const latens_optim_options *o) {
  if ((unsigned)o->method >= LATENS_OPTIM_NMETHODS)
    LATENS_ERRORF(LATENS_EINVAL, "latens_optim_minimize: unknown method %d", (int)o->method);
  if (o->max_iter == 0) LATENS_ERROR("latens_optim_minimize: max_iter is 0", LATENS_EINVAL);
  if (o->m == 0 && o->method == LATENS_OPTIM_LBFGS)
    LATENS_ERROR("latens_optim_minimize: L-BFGS memory m is 0", LATENS_EINVAL);
  const double val[4] = {o->gtol, o->ftol, o->xtol, o->step};
  const char *const name[4] = {"gtol", "ftol", "xtol", "step"};
  for (int k = 0; k < 4; k++) {
    if (!isfinite(val[k]))
      LATENS_ERRORF(LATENS_ENOTFINITE, "latens_optim_minimize: option %s is %g", name[k], val[k]);
    if (k < 3 ? !(val[k] >= 0.0) : !(val[k] > 0.0))
      LATENS_ERRORF(LATENS_EDOM, "latens_optim_minimize: option %s = %g must be %s 0", name[k],
                    val[k], k < 3 ? ">=" : ">");
  }
  return LATENS_OK;
}

/* Classifies each parameter's bounds and maps x0 to u. */
static int setup_box(latens_optim_problem *p, const double *x0, double *u) {
  for (size_t i = 0; i < p->n; i++) {
    double lo = p->lower ? p->lower[i] : -INFINITY, up = p->upper ? p->upper[i] : INFINITY;
    if (isnan(lo) || isnan(up))
      LATENS_ERRORF(LATENS_ENOTFINITE, "latens_optim_minimize: parameter %zu: bounds (%g, %g)", i,
                    lo, up);
    int finite_both = isfinite(lo) && isfinite(up);
    if (!(lo < up) || lo == INFINITY || up == -INFINITY || (finite_both && !isfinite(up - lo)))
      LATENS_ERRORF(LATENS_EDOM,
                    "latens_optim_minimize: parameter %zu: bounds (%g, %g) are not an interval",
                    i, lo, up);
    if (!isfinite(x0[i]))
      LATENS_ERRORF(LATENS_ENOTFINITE, "latens_optim_minimize: parameter %zu: start %g", i,
                    x0[i]);
    if (!(x0[i] > lo && x0[i] < up))
      LATENS_ERRORF(LATENS_EDOM,
                    "latens_optim_minimize: parameter %zu: start %g is not strictly inside "
                    "(%g, %g)",
                    i, x0[i], lo, up);
    p->kind[i] = (unsigned char)((isfinite(lo) ? LOWER : FREE) | (isfinite(up) ? UPPER : FREE));
    u[i] = to_u(p->kind[i], lo, up, x0[i]);
    if (!isfinite(u[i])) /* x0 - lo overflowed */
      LATENS_ERRORF(LATENS_EDOM, "latens_optim_minimize: parameter %zu: start %g too far from "
                                 "its bound in (%g, %g)",
                    i, x0[i], lo, up);
  }
  return LATENS_OK;
}

/* The start must be finite: no method can recover from a NaN there. */
static int evaluate_start(latens_optim_problem *p, int gradient, const double *u, double *f,
                          double *g) {
  int status = latens_optim_eval(p, u, f, gradient ? g : NULL);
  if (status) return status;
  if (!isfinite(*f))
    LATENS_ERRORF(LATENS_ENOTFINITE, "latens_optim_minimize: the objective is %g at the start",
                  *f);
  for (size_t i = 0; gradient && i < p->n; i++)
    if (!isfinite(g[i]))
      LATENS_ERRORF(LATENS_ENOTFINITE,
                    "latens_optim_minimize: gradient component %zu is %g at the start", i,
                    p->gx[i]);
  return LATENS_OK;
}

/* Runs the method from the evaluated start (u, f, g); leaves the best point there.  scratch:
 * 2n doubles for the GSL wrappers. */
static int dispatch(latens_optim_problem *p, const latens_optim_options *o, double *u, double *f,
                    double *g, double *scratch, latens_optim_result *res) {
  if (o->method != LATENS_OPTIM_SIMPLEX &&
      latens_optim_norm_inf(g, p->n) <= o->gtol * fmax(1.0, fabs(*f))) {
    res->converged = 1, res->reason = LATENS_OPTIM_STOP_GTOL;
    return res->status = LATENS_OK;
  }
  if (o->method == LATENS_OPTIM_LBFGS) return latens_optim_lbfgs(p, o, u, f, g, res);
  gsl_ctx c = {.p = p, .u = scratch, .g = scratch + p->n};
  if (o->method == LATENS_OPTIM_SIMPLEX) return run_gsl_simplex(&c, o, u, f, res);
  return run_gsl_fdf(&c, o, u, f, g, res);
}

int latens_optim_minimize(latens_optim_fdf *fdf, const double *x0, size_t n, void *user,
                          const double *lower, const double *upper,
                          const latens_optim_options *opt, latens_optim_result *result) {
  if (!result) LATENS_ERROR("latens_optim_minimize: NULL result", LATENS_EINVAL);
  double *x_out = result->x;
  *result = (latens_optim_result){.x = x_out, .f = NAN, .grad_norm = NAN};
  latens_optim_options defaults;
  if (!opt) latens_optim_options_default(&defaults), opt = &defaults;
  int status = LATENS_EINVAL;
  if (!fdf || !x0 || !x_out)
    latens_error("latens_optim_minimize: NULL objective, start or result->x", __FILE__, __LINE__,
                 status);
  else if (n == 0)
    latens_error("latens_optim_minimize: no parameters (n = 0)", __FILE__, __LINE__, status);
  else
    status = check_options(opt);
  if (status) return result->status = status;
  /* One block: u, then g and two more n-vectors (GSL scratch), then x, gx, jac. */
  size_t count = latens_mul_size(n, 7), bytes = latens_mul_size(count, sizeof(double));
  double *mem = bytes ? malloc(bytes) : NULL;
  unsigned char *kind = malloc(n);
  if (!mem || !kind) {
    free(mem), free(kind);
    latens_errorf(__FILE__, __LINE__, LATENS_ENOMEM,
                  "latens_optim_minimize: no memory for n = %zu parameters", n);
    return result->status = LATENS_ENOMEM;
  }
  double *u = mem, *g = u + n, f = NAN;
  latens_optim_problem p = {.n = n, .fdf = fdf, .user = user, .lower = lower, .upper = upper,
                            .kind = kind, .x = g + 3 * n, .gx = g + 4 * n, .jac = g + 5 * n,
                            .what = method_labels[opt->method]};
  status = setup_box(&p, x0, u);
  if (!status) status = evaluate_start(&p, opt->method != LATENS_OPTIM_SIMPLEX, u, &f, g);
  if (status) {
    result->fevals = p.fevals;
    result->reason = p.fevals ? LATENS_OPTIM_STOP_ERROR : LATENS_OPTIM_STOP_NONE;
    free(mem), free(kind);
    return result->status = status;
  }
  status = dispatch(&p, opt, u, &f, g, g + n, result);
  latens_optim_to_x(&p, u, x_out, NULL);
  result->f = f;
  result->grad_norm = opt->method == LATENS_OPTIM_SIMPLEX ? NAN : latens_optim_norm_inf(g, n);
  result->fevals = p.fevals;
  result->status = status;
  if (status == LATENS_EMAXITER || status == LATENS_ENOPROG)
    latens_errorf(__FILE__, __LINE__, status,
                  "latens_optim_minimize: %s stopped (%s) after %zu iterations, f = %g, "
                  "|g|_inf = %g",
                  method_names[opt->method], reason_names[result->reason], result->iterations, f,
                  result->grad_norm);
  free(mem), free(kind);
  return status;
}

/* ---------------------------------------------------------------- gradient checker */

int latens_optim_check_gradient(latens_optim_fdf *fdf, const double *x, size_t n, void *user,
                                double h, double *max_rel_err) {
  if (!fdf || !x || !max_rel_err)
    LATENS_ERROR("latens_optim_check_gradient: NULL objective, x or max_rel_err", LATENS_EINVAL);
  *max_rel_err = NAN;
  if (n == 0) LATENS_ERROR("latens_optim_check_gradient: no parameters (n = 0)", LATENS_EINVAL);
  if (!isfinite(h))
    LATENS_ERRORF(LATENS_ENOTFINITE, "latens_optim_check_gradient: step h is %g", h);
  if (!(h >= 0.0)) LATENS_ERRORF(LATENS_EDOM, "latens_optim_check_gradient: step h = %g < 0", h);
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      LATENS_ERRORF(LATENS_ENOTFINITE, "latens_optim_check_gradient: parameter %zu is %g", i,
                    x[i]);
  if (h == 0.0) h = cbrt(DBL_EPSILON);
  size_t bytes = latens_mul_size(n, 2 * sizeof(double));
  double *xp = bytes ? malloc(bytes) : NULL;
  if (!xp)
    LATENS_ERRORF(LATENS_ENOMEM, "latens_optim_check_gradient: no memory for n = %zu", n);
  double *grad = xp + n;
  memcpy(xp, x, n * sizeof(double));
  double f = NAN, err = 0.0;
  for (size_t i = 0; i < n; i++) grad[i] = NAN;
  int status = fdf(xp, n, user, &f, grad);
  if (status)
    latens_errorf(__FILE__, __LINE__, status,
                  "latens_optim_check_gradient: the objective returned status %d (%s) at x",
                  status, latens_strerror(status));
  else if (!isfinite(f) || !isfinite(latens_optim_norm_inf(grad, n)))
    latens_errorf(__FILE__, __LINE__, status = LATENS_ENOTFINITE,
                  "latens_optim_check_gradient: f = %g or the gradient is not finite at x", f);
  for (size_t i = 0; i < n && !status; i++) {
    /* A step that is exact in binary, so that the difference quotient divides by the true
     * distance between the two points. */
    double hi = h * fmax(1.0, fabs(x[i])), fp = NAN, fm = NAN;
    double xi_plus = x[i] + hi;
    hi = xi_plus - x[i];
    if (!(hi > 0.0)) {
      latens_errorf(__FILE__, __LINE__, status = LATENS_EDOM,
                    "latens_optim_check_gradient: h = %g is below the spacing of doubles at "
                    "parameter %zu = %g",
                    h, i, x[i]);
      break;
    }
    xp[i] = x[i] + hi;
    status = fdf(xp, n, user, &fp, NULL);
    xp[i] = x[i] - hi;
    if (!status) status = fdf(xp, n, user, &fm, NULL);
    xp[i] = x[i];
    if (status) {
      latens_errorf(__FILE__, __LINE__, status,
                    "latens_optim_check_gradient: the objective returned status %d (%s) at "
                    "parameter %zu +- %g",
                    status, latens_strerror(status), i, hi);
    } else if (!isfinite(fp) || !isfinite(fm)) {
      latens_errorf(__FILE__, __LINE__, status = LATENS_ENOTFINITE,
                    "latens_optim_check_gradient: f not finite at parameter %zu = %g +- %g "
                    "(f = %g, %g): use a smaller h",
                    i, x[i], hi, fp, fm);
    } else {
      double fd = (fp - fm) / (2.0 * hi);
      double e = fabs(grad[i] - fd) / fmax(1.0, fmax(fabs(grad[i]), fabs(fd)));
      if (!(e <= err)) err = e;
    }
  }
  free(xp);
  if (!status) *max_rel_err = err;
  return status;
}
