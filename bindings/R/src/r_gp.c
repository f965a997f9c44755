/* r_gp.c: one-dimensional Gaussian processes (gp.h) and GPFA (gp_cvi.h) for R.
 *
 * A fitted GP is plain R data (kernel spec, hyperparameters, noise), so it survives save()
 * and needs no handle: every call rebuilds the C kernel from the spec and the parameters.
 * Times arrive sorted (the R side orders them) and y is centred by the R side. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "latens_r.h"

/* The kernel of spec with hyperparameters theta (R_NilValue: the parser's defaults).
 * Raises R errors only before allocating, returns NULL with *st set after. */
static latens_gp_kernel *gp_kernel(SEXP spec, SEXP theta, int *st) {
  const char *s = latens_r_string(spec, "kernel");
  SEXP th = PROTECT(Rf_isNull(theta) ? theta : latens_r_as_vector(theta, "params"));
  latens_gp_kernel *k = latens_gp_kernel_parse(s);
  *st = k ? LATENS_OK : LATENS_EDOM;
  if (k && !Rf_isNull(th)) {
    if ((size_t)XLENGTH(th) != latens_gp_kernel_nparams(k)) {
      latens_errorf(__FILE__, __LINE__, LATENS_EBADLEN,
                    "kernel '%s' has %zu hyperparameters, params has %ld", s,
                    latens_gp_kernel_nparams(k), (long)XLENGTH(th));
      *st = LATENS_EBADLEN;
    } else {
      *st = latens_gp_kernel_set_params(k, REAL(th));
    }
  }
  UNPROTECT(1);
  if (*st) latens_gp_kernel_free(k);
  return *st ? NULL : k;
}

/* The series (t, y) as doubles of equal length; the caller PROTECTs both. */
static latens_gp_series gp_series(SEXP *t, SEXP *y) {
  *t = latens_r_as_vector(*t, "time");
  PROTECT(*t);
  *y = latens_r_as_vector(*y, "y");
  UNPROTECT(1);
  if (XLENGTH(*t) != XLENGTH(*y))
    Rf_error("latens: time has %ld values, y has %ld", (long)XLENGTH(*t), (long)XLENGTH(*y));
  latens_gp_series s = {(size_t)XLENGTH(*t), REAL(*t), REAL(*y), NULL};
  return s;
}

static SEXP r_gp_fit(SEXP time, SEXP y, SEXP spec, SEXP theta, SEXP noise, SEXP fit_noise,
                     SEXP whittle, SEXP max_iter) {
  latens_gp_fit_options o;
  latens_gp_fit_options_default(&o);
  o.fit_noise = latens_r_flag(fit_noise, "fit_noise");
  o.whittle = latens_r_flag(whittle, "whittle");
  o.max_iter = (size_t)latens_r_int(max_iter, "max_iter", 1, 1000000);
  o.init_from_data = Rf_isNull(theta);
  if (!Rf_isNull(noise)) o.noise = latens_r_double(noise, "noise");
  latens_r_interrupt intr;
  o.progress = latens_r_progress_init(&intr);
  latens_gp_series s = gp_series(&time, &y);
  PROTECT(time), PROTECT(y);
  int st;
  latens_gp_kernel *k = gp_kernel(spec, theta, &st);
  latens_gp_fit_result res = {NAN, NAN, 0, 0};
  if (!st) st = latens_gp_fit(k, &s, 1, &o, &res);
  char err[LATENS_R_ERRLEN];
  if (st) {
    latens_r_format_error(st, err, sizeof err);
    latens_gp_kernel_free(k);
    Rf_error("%s", err);
  }
  static const char *const names[] = {"params", "noise", "loglik", "iterations", "converged"};
  SEXP out = PROTECT(latens_r_named_list(5, names));
  SET_VECTOR_ELT(out, 0, latens_r_gp_params(k));
  latens_gp_kernel_free(k);
  SET_VECTOR_ELT(out, 1, Rf_ScalarReal(res.noise));
  SET_VECTOR_ELT(out, 2, Rf_ScalarReal(res.loglik));
  SET_VECTOR_ELT(out, 3, Rf_ScalarInteger((int)res.iterations));
  SET_VECTOR_ELT(out, 4, Rf_ScalarLogical(res.converged));
  UNPROTECT(3);
  return out;
}

static SEXP r_gp_loglik(SEXP time, SEXP y, SEXP spec, SEXP theta, SEXP noise) {
  double nv = latens_r_double(noise, "noise");
  latens_gp_series s = gp_series(&time, &y);
  PROTECT(time), PROTECT(y);
  int st;
  latens_gp_kernel *k = gp_kernel(spec, theta, &st);
  double ll = NAN;
  if (!st) st = latens_gp_loglik(k, nv, &s, 1, &ll, NULL);
  char err[LATENS_R_ERRLEN];
  if (st) latens_r_format_error(st, err, sizeof err);
  latens_gp_kernel_free(k);
  UNPROTECT(2);
  if (st) Rf_error("%s", err);
  return Rf_ScalarReal(ll);
}

/* Posterior mean and variance of f at tq (R_NilValue: at the data's times). */
static SEXP r_gp_posterior(SEXP time, SEXP y, SEXP spec, SEXP theta, SEXP noise, SEXP tq) {
  double nv = latens_r_double(noise, "noise");
  latens_gp_series s = gp_series(&time, &y);
  PROTECT(time), PROTECT(y);
  SEXP q = PROTECT(Rf_isNull(tq) ? tq : latens_r_as_vector(tq, "newtimes"));
  size_t nq = Rf_isNull(q) ? s.n : (size_t)XLENGTH(q);
  SEXP mean = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)nq));
  SEXP var = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)nq));
  int st;
  latens_gp_kernel *k = gp_kernel(spec, theta, &st);
  if (!st && nq > 0)
    st = latens_gp_posterior(k, nv, &s, Rf_isNull(q) ? NULL : REAL(q), nq, REAL(mean), REAL(var));
  char err[LATENS_R_ERRLEN];
  if (st) latens_r_format_error(st, err, sizeof err);
  latens_gp_kernel_free(k);
  if (st) Rf_error("%s", err);
  static const char *const names[] = {"mean", "var"};
  SEXP out = PROTECT(latens_r_named_list(2, names));
  SET_VECTOR_ELT(out, 0, mean);
  SET_VECTOR_ELT(out, 1, var);
  UNPROTECT(6);
  return out;
}

/* The kernel value k(tau) at each tau, for R code that builds dense covariances. */
static SEXP r_gp_kernel_eval(SEXP spec, SEXP theta, SEXP tau) {
  SEXP tv = PROTECT(latens_r_as_vector(tau, "tau"));
  R_xlen_t n = XLENGTH(tv);
  SEXP out = PROTECT(Rf_allocVector(REALSXP, n));
  int st;
  latens_gp_kernel *k = gp_kernel(spec, theta, &st);
  for (R_xlen_t i = 0; i < n && !st; i++) st = latens_gp_kernel_eval(k, REAL(tv)[i], REAL(out) + i);
  char err[LATENS_R_ERRLEN];
  if (st) latens_r_format_error(st, err, sizeof err);
  latens_gp_kernel_free(k);
  if (st) Rf_error("%s", err);
  UNPROTECT(2);
  return out;
}

/* The default hyperparameters of spec, named (variance 1, lengthscale 1, frequency 1). */
static SEXP r_gp_kernel_defaults(SEXP spec) {
  int st;
  latens_gp_kernel *k = gp_kernel(spec, R_NilValue, &st);
  if (st) latens_r_fail(st);
  SEXP th = PROTECT(latens_r_gp_params(k));
  latens_gp_kernel_free(k);
  UNPROTECT(1);
  return th;
}

SEXP latens_r_gpfa(SEXP trials, SEXP times, SEXP K, SEXP spec, SEXP ell, SEXP lik, SEXP learn,
                   SEXP max_iter);
SEXP latens_r_gp_cvi_fit(SEXP time, SEXP y, SEXP spec, SEXP theta, SEXP lik, SEXP max_evals);
SEXP latens_r_gp_cvi_posterior(SEXP time, SEXP y, SEXP spec, SEXP theta, SEXP lik, SEXP tq);

const R_CallMethodDef latens_r_gp_calls[] = {
    {"r_gp_fit", (DL_FUNC)&r_gp_fit, 8},
    {"r_gp_loglik", (DL_FUNC)&r_gp_loglik, 5},
    {"r_gp_posterior", (DL_FUNC)&r_gp_posterior, 6},
    {"r_gp_kernel_eval", (DL_FUNC)&r_gp_kernel_eval, 3},
    {"r_gp_kernel_defaults", (DL_FUNC)&r_gp_kernel_defaults, 1},
    {"r_gp_gpfa", (DL_FUNC)&latens_r_gpfa, 8},
    {"r_gp_cvi_fit", (DL_FUNC)&latens_r_gp_cvi_fit, 6},
    {"r_gp_cvi_posterior", (DL_FUNC)&latens_r_gp_cvi_posterior, 6},
    {NULL, NULL, 0}};
