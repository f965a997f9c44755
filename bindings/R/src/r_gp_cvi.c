/* r_gp_cvi.c: Gaussian processes with Poisson or Bernoulli observations (gp_cvi.h), by
 * conjugate-computation variational inference, for R's gp_fit/gp_smooth/predict. */
#include <math.h>
#include <string.h>
#include "latens_r.h"

SEXP latens_r_gp_cvi_fit(SEXP time, SEXP y, SEXP spec, SEXP theta, SEXP lik, SEXP max_evals);
SEXP latens_r_gp_cvi_posterior(SEXP time, SEXP y, SEXP spec, SEXP theta, SEXP lik, SEXP tq);

static int cvi_lik(SEXP lik) {
  int l;
  if (latens_gp_cvi_lik_parse(latens_r_string(lik, "likelihood"), &l)) latens_r_fail(LATENS_EINVAL);
  return l;
}

/* The kernel of spec with hyperparameters theta (required here: CVI starts from them). */
static latens_gp_kernel *cvi_kernel(SEXP spec, SEXP theta, int *st) {
  latens_gp_kernel *k = latens_gp_kernel_parse(latens_r_string(spec, "kernel"));
  *st = k ? LATENS_OK : LATENS_EDOM;
  if (!*st && (size_t)XLENGTH(theta) != latens_gp_kernel_nparams(k)) {
    latens_errorf(__FILE__, __LINE__, LATENS_EBADLEN, "the kernel has %zu hyperparameters, params has %ld",
                  latens_gp_kernel_nparams(k), (long)XLENGTH(theta));
    *st = LATENS_EBADLEN;
  }
  if (!*st) *st = latens_gp_kernel_set_params(k, REAL(theta));
  if (*st) latens_gp_kernel_free(k);
  return *st ? NULL : k;
}

/* Arguments common to both entry points, checked before any C allocation. */
static size_t cvi_args(SEXP *time, SEXP *y, SEXP *theta) {
  *time = PROTECT(latens_r_as_vector(*time, "time"));
  *y = PROTECT(latens_r_as_vector(*y, "y"));
  *theta = PROTECT(latens_r_as_vector(*theta, "params"));
  UNPROTECT(3); /* the caller protects the three again */
  if (XLENGTH(*time) != XLENGTH(*y))
    Rf_error("latens: time has %ld values, y has %ld", (long)XLENGTH(*time), (long)XLENGTH(*y));
  return (size_t)XLENGTH(*time);
}

SEXP latens_r_gp_cvi_fit(SEXP time, SEXP y, SEXP spec, SEXP theta, SEXP lik, SEXP max_evals) {
  int l = cvi_lik(lik);
  size_t evals = (size_t)latens_r_int(max_evals, "max_iter", 1, 1000000);
  size_t n = cvi_args(&time, &y, &theta);
  PROTECT(time), PROTECT(y), PROTECT(theta);
  int st;
  latens_gp_kernel *k = cvi_kernel(spec, theta, &st);
  latens_gp_cvi_result res = {NAN, 0, 0};
  if (!st) st = latens_gp_cvi_fit(k, l, REAL(time), REAL(y), n, 0.0, NULL, NULL, evals, &res);
  if (st == LATENS_EMAXITER) st = LATENS_OK, res.converged = 0;
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
  SET_VECTOR_ELT(out, 1, Rf_ScalarReal(NA_REAL));
  SET_VECTOR_ELT(out, 2, Rf_ScalarReal(res.elbo));
  SET_VECTOR_ELT(out, 3, Rf_ScalarInteger((int)res.iterations));
  SET_VECTOR_ELT(out, 4, Rf_ScalarLogical(res.converged));
  UNPROTECT(4);
  return out;
}

/* Posterior mean and variance of f and the mean of the observation's mean ("rate") at tq
 * (R_NilValue: the data's times), and the ELBO. */
SEXP latens_r_gp_cvi_posterior(SEXP time, SEXP y, SEXP spec, SEXP theta, SEXP lik, SEXP tq) {
  int l = cvi_lik(lik);
  size_t n = cvi_args(&time, &y, &theta);
  PROTECT(time), PROTECT(y), PROTECT(theta);
  SEXP q = PROTECT(Rf_isNull(tq) ? tq : latens_r_as_vector(tq, "newtimes"));
  size_t nq = Rf_isNull(q) ? n : (size_t)XLENGTH(q);
  static const char *const names[] = {"mean", "var", "rate", "elbo"};
  SEXP out = PROTECT(latens_r_named_list(4, names));
  for (int i = 0; i < 3; i++) SET_VECTOR_ELT(out, i, Rf_allocVector(REALSXP, (R_xlen_t)nq));
  double *m = REAL(VECTOR_ELT(out, 0)), *v = REAL(VECTOR_ELT(out, 1)), *r = REAL(VECTOR_ELT(out, 2));
  int st;
  latens_gp_kernel *k = cvi_kernel(spec, theta, &st);
  latens_gp_cvi_result res = {NAN, 0, 0};
  if (!st && Rf_isNull(q))
    st = latens_gp_cvi_series(k, l, REAL(time), REAL(y), n, 0.0, 1.0, NULL, m, v, r, &res);
  else if (!st)
    st = latens_gp_cvi_predict(k, l, REAL(time), REAL(y), n, 0.0, 1.0, NULL, REAL(q), nq, m, v,
                               r, &res);
  if (st == LATENS_EMAXITER) st = LATENS_OK; /* the last iterate, as the CLI reports it */
  char err[LATENS_R_ERRLEN];
  if (st) latens_r_format_error(st, err, sizeof err);
  latens_gp_kernel_free(k);
  if (st) Rf_error("%s", err);
  SET_VECTOR_ELT(out, 3, Rf_ScalarReal(res.elbo));
  UNPROTECT(5);
  return out;
}
