/* r_gpfa.c: Gaussian-process factor analysis (gp_cvi.h) for R: trials in, the readout and
 * the latent trajectories out. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "latens_r.h"

SEXP latens_r_gpfa(SEXP trials, SEXP times, SEXP K, SEXP spec, SEXP ell, SEXP lik, SEXP learn,
                   SEXP max_iter);

/* C memory of one call, released in one place before any R error. */
typedef struct {
  size_t R, K;
  latens_gp_ssm **pr;
  latens_gp_kernel **kk;
  const double **Y, **t;
  size_t *ld, *T;
  latens_gp_gpfa *g;
} gpfa_job;

static void job_free(gpfa_job *j) {
  for (size_t r = 0; j->pr && r < j->R; r++) latens_gp_ssm_free(j->pr[r]);
  for (size_t i = 0; j->kk && i < j->K; i++) latens_gp_kernel_free(j->kk[i]);
  latens_gp_gpfa_free(j->g);
  free(j->pr), free(j->kk), free(j->Y), free(j->t), free(j->ld), free(j->T);
}

static int regular_grid(const double *t, size_t T) {
  if (T < 3) return 1;
  double step = (t[T - 1] - t[0]) / (double)(T - 1);
  for (size_t i = 1; i < T; i++)
    if (fabs(t[i] - t[i - 1] - step) > 1e-10 * fmax(fabs(step), 1e-300) * (double)T) return 0;
  return 1;
}

/* One-term kernel of spec with variance 1 and lengthscale l (GPFA's identifiable scale). */
static latens_gp_kernel *unit_kernel(const char *spec, double l, int *st) {
  latens_gp_kernel *k = latens_gp_kernel_parse(spec);
  latens_gp_term term;
  *st = k ? LATENS_OK : LATENS_EDOM;
  if (!*st && latens_gp_kernel_nterms(k) != 1) {
    latens_errorf(__FILE__, __LINE__, LATENS_EDOM, "gpfa takes one kernel term, not '%s'", spec);
    *st = LATENS_EDOM;
  }
  if (!*st) *st = latens_gp_kernel_get_term(k, 0, &term);
  latens_gp_kernel_free(k);
  if (*st) return NULL;
  term.variance = 1.0, term.lengthscale = l;
  k = latens_gp_kernel_alloc(&term, 1);
  if (!k) *st = LATENS_EDOM;
  return k;
}

static int job_run(gpfa_job *j, const char *spec, double l, int lik, int learn, size_t N,
                   size_t iters, const latens_progress *p) {
  int st = LATENS_OK;
  if (!(j->kk = calloc(j->K, sizeof *j->kk)) || !(j->pr = calloc(j->R, sizeof *j->pr)))
    return LATENS_ENOMEM;
  for (size_t i = 0; i < j->K && !st; i++) j->kk[i] = unit_kernel(spec, l, &st);
  latens_gp_gpfa_options o;
  latens_gp_gpfa_options_default(&o);
  o.lik = lik, o.max_iter = iters;
  if (!st && learn)
    return latens_gp_gpfa_fit_timescales(j->kk, j->K, j->t, j->T, j->Y, j->ld, j->R, N, &o, 30,
                                         p, &j->g);
  size_t dims[64];
  for (size_t i = 0; i < j->K && i < 64; i++) dims[i] = latens_gp_kernel_dim(j->kk[0]);
  for (size_t r = 0; r < j->R && !st; r++) {
    j->pr[r] = latens_gp_ssm_alloc(j->K, dims, j->T[r], regular_grid(j->t[r], j->T[r]));
    if (!j->pr[r]) st = LATENS_ENOMEM;
    for (size_t i = 0; i < j->K && !st; i++)
      st = latens_gp_ssm_set_kernel(j->pr[r], i, j->kk[i], j->t[r]);
  }
  if (!st)
    st = latens_gp_gpfa_fit((const latens_gp_ssm *const *)j->pr, j->Y, j->ld, j->R, N, &o, p,
                            &j->g);
  return st;
}

/* The fitted object as an R list (the job is freed by the caller afterwards). */
static SEXP job_result(const gpfa_job *j, size_t N, int status) {
  static const char *const names[] = {"loadings", "offsets", "noise", "trace", "converged",
                                      "lengthscales", "latents", "latent_var", "orthonormal"};
  SEXP out = PROTECT(latens_r_named_list(9, names));
  size_t K = j->K, it = latens_gp_gpfa_iterations(j->g);
  SEXP C = PROTECT(Rf_allocMatrix(REALSXP, (int)N, (int)K));
  SEXP d = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)N));
  SEXP nz = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)N));
  if (latens_gp_gpfa_readout(j->g, REAL(C), N, REAL(d), REAL(nz))) {
    for (size_t i = 0; i < N * K; i++) REAL(C)[i] = NA_REAL;
    for (size_t i = 0; i < N; i++) REAL(d)[i] = REAL(nz)[i] = NA_REAL;
  }
  SET_VECTOR_ELT(out, 0, C), SET_VECTOR_ELT(out, 1, d), SET_VECTOR_ELT(out, 2, nz);
  SEXP tr = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)it));
  if (it) memcpy(REAL(tr), latens_gp_gpfa_trace(j->g), it * sizeof(double));
  SET_VECTOR_ELT(out, 3, tr);
  SET_VECTOR_ELT(out, 4, Rf_ScalarLogical(status == LATENS_OK));
  SEXP ls = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)K));
  for (size_t i = 0; i < K; i++) {
    latens_gp_term term;
    REAL(ls)[i] = latens_gp_kernel_get_term(j->kk[i], 0, &term) ? NAN : term.lengthscale;
  }
  SET_VECTOR_ELT(out, 5, ls);
  SEXP mu = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)j->R));
  SEXP va = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)j->R));
  SEXP on = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)j->R));
  for (size_t r = 0; r < j->R; r++) {
    int T = (int)j->T[r];
    SEXP m = Rf_allocMatrix(REALSXP, T, (int)K);
    SET_VECTOR_ELT(mu, (R_xlen_t)r, m);
    SEXP v = Rf_allocMatrix(REALSXP, T, (int)K);
    SET_VECTOR_ELT(va, (R_xlen_t)r, v);
    SEXP x = Rf_allocMatrix(REALSXP, T, (int)K);
    SET_VECTOR_ELT(on, (R_xlen_t)r, x);
    size_t nv = (size_t)T * K;
    if (latens_gp_gpfa_latents(j->g, r, REAL(m), (size_t)T, REAL(v), (size_t)T))
      for (size_t i = 0; i < nv; i++) REAL(m)[i] = REAL(v)[i] = NA_REAL; /* no garbage */
    if (latens_gp_gpfa_orthonormal(j->g, r, REAL(x), (size_t)T, NULL, 0))
      for (size_t i = 0; i < nv; i++) REAL(x)[i] = NA_REAL;
  }
  SET_VECTOR_ELT(out, 6, mu), SET_VECTOR_ELT(out, 7, va), SET_VECTOR_ELT(out, 8, on);
  UNPROTECT(9);
  return out;
}

SEXP latens_r_gpfa(SEXP trials, SEXP times, SEXP K, SEXP spec, SEXP ell, SEXP lik, SEXP learn,
                   SEXP max_iter) {
  if (TYPEOF(trials) != VECSXP || TYPEOF(times) != VECSXP || XLENGTH(trials) != XLENGTH(times) ||
      XLENGTH(trials) < 1)
    Rf_error("latens: trials and times must be lists of equal, non-zero length");
  gpfa_job j;
  memset(&j, 0, sizeof j);
  j.R = (size_t)XLENGTH(trials);
  j.K = (size_t)latens_r_int(K, "latents", 1, 64);
  const char *s = latens_r_string(spec, "kernel"), *lk = latens_r_string(lik, "likelihood");
  double l = latens_r_double(ell, "lengthscale");
  int lg = latens_r_flag(learn, "learn_timescales");
  size_t iters = (size_t)latens_r_int(max_iter, "max_iter", 1, 1000000);
  int likc = !strcmp(lk, "gaussian") ? LATENS_GP_CVI_GAUSSIAN
             : !strcmp(lk, "poisson") ? LATENS_GP_CVI_POISSON : -1;
  if (likc < 0) Rf_error("latens: likelihood must be gaussian or poisson, not '%s'", lk);
  int N = -1;
  for (size_t r = 0; r < j.R; r++) { /* checks first: no C memory is held yet */
    SEXP y = VECTOR_ELT(trials, (R_xlen_t)r), t = VECTOR_ELT(times, (R_xlen_t)r);
    SEXP dim = Rf_getAttrib(y, R_DimSymbol);
    if (TYPEOF(y) != REALSXP || XLENGTH(dim) != 2 || TYPEOF(t) != REALSXP ||
        XLENGTH(t) != INTEGER(dim)[0])
      Rf_error("latens: trial %d must be a double matrix with one row per time", (int)r + 1);
    if (N >= 0 && INTEGER(dim)[1] != N)
      Rf_error("latens: trial %d has %d units, trial 1 has %d", (int)r + 1, INTEGER(dim)[1], N);
    N = INTEGER(dim)[1];
  }
  j.Y = malloc(j.R * sizeof *j.Y), j.t = malloc(j.R * sizeof *j.t);
  j.ld = malloc(j.R * sizeof *j.ld), j.T = malloc(j.R * sizeof *j.T);
  int st = j.Y && j.t && j.ld && j.T ? LATENS_OK : LATENS_ENOMEM;
  for (size_t r = 0; r < j.R && !st; r++) {
    j.Y[r] = REAL(VECTOR_ELT(trials, (R_xlen_t)r));
    j.t[r] = REAL(VECTOR_ELT(times, (R_xlen_t)r));
    j.T[r] = j.ld[r] = (size_t)XLENGTH(VECTOR_ELT(times, (R_xlen_t)r));
  }
  latens_r_interrupt intr;
  latens_progress p = latens_r_progress_init(&intr);
  if (!st) st = job_run(&j, s, l, likc, lg, (size_t)N, iters, &p);
  char err[LATENS_R_ERRLEN];
  if (st && st != LATENS_EMAXITER) {
    latens_r_format_error(st, err, sizeof err);
    job_free(&j);
    Rf_error("%s", err);
  }
  /* Only an out-of-memory R error inside job_result could leak the job. */
  SEXP out = PROTECT(job_result(&j, (size_t)N, st));
  job_free(&j);
  UNPROTECT(1);
  return out;
}
