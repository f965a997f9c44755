/* r_util.c: the helpers declared in latens_r.h. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <R_ext/Utils.h>
#include "latens_r.h"

void latens_r_format_error(int status, char *buf, size_t n) {
  const char *reason = NULL;
  int last = latens_last_error(&reason);
  /* The only progress callback the package passes is the interrupt bridge. */
  if (status == LATENS_EINTERRUPTED)
    snprintf(buf, n, "latens: interrupted by the user (%s)", last ? reason : "");
  else if (last != LATENS_OK && reason && reason[0])
    snprintf(buf, n, "latens: %s (%s)", reason, latens_strerror(status));
  else
    snprintf(buf, n, "latens: %s", latens_strerror(status));
}

void latens_r_fail(int status) {
  char err[LATENS_R_ERRLEN];
  latens_r_format_error(status, err, sizeof err);
  Rf_error("%s", err);
}

SEXP latens_r_as_matrix(SEXP x, const char *what, int *nrow, int *ncol) {
  if (!Rf_isNumeric(x) && !Rf_isLogical(x))
    Rf_error("latens: %s must be a numeric matrix, not of type '%s'", what,
             Rf_type2char(TYPEOF(x)));
  SEXP dim = Rf_getAttrib(x, R_DimSymbol);
  if (!Rf_isNull(dim) && XLENGTH(dim) != 2)
    Rf_error("latens: %s must be a matrix (2 dimensions), it has %d", what, (int)XLENGTH(dim));
  R_xlen_t len = XLENGTH(x);
  if (len > INT_MAX) Rf_error("latens: %s has %.0f entries, too many", what, (double)len);
  int nr = Rf_isNull(dim) ? (int)len : INTEGER(dim)[0];
  int nc = Rf_isNull(dim) ? 1 : INTEGER(dim)[1];
  *nrow = nr;
  *ncol = nc;
  /* A fresh vector (keeping dim) when the type differs; the caller's own otherwise. */
  return TYPEOF(x) == REALSXP ? x : Rf_coerceVector(x, REALSXP);
}

SEXP latens_r_as_vector(SEXP x, const char *what) {
  if (!Rf_isNumeric(x) && !Rf_isLogical(x))
    Rf_error("latens: %s must be numeric, not of type '%s'", what, Rf_type2char(TYPEOF(x)));
  return TYPEOF(x) == REALSXP ? x : Rf_coerceVector(x, REALSXP);
}

latens_mat latens_r_mat_view(SEXP x) {
  SEXP dim = Rf_getAttrib(x, R_DimSymbol);
  size_t nr = Rf_isNull(dim) ? (size_t)XLENGTH(x) : (size_t)INTEGER(dim)[0];
  size_t nc = Rf_isNull(dim) ? 1 : (size_t)INTEGER(dim)[1];
  /* A 0-row matrix still needs ld >= 1 for the library's checks. */
  return latens_mat_view(REAL(x), nr, nc, nr > 0 ? nr : 1);
}

double latens_r_double(SEXP x, const char *what) {
  if ((!Rf_isNumeric(x) && !Rf_isLogical(x)) || XLENGTH(x) != 1)
    Rf_error("latens: %s must be one number", what);
  double v = Rf_asReal(x);
  if (!R_FINITE(v)) Rf_error("latens: %s must be finite, got %g", what, v);
  return v;
}

int latens_r_int(SEXP x, const char *what, int lo, int hi) {
  double v = latens_r_double(x, what);
  if (v != floor(v) || v < lo || v > hi)
    Rf_error("latens: %s must be a whole number in [%d, %d], got %g", what, lo, hi, v);
  return (int)v;
}

int latens_r_flag(SEXP x, const char *what) {
  if (!Rf_isLogical(x) || XLENGTH(x) != 1 || LOGICAL(x)[0] == NA_LOGICAL)
    Rf_error("latens: %s must be TRUE or FALSE", what);
  return LOGICAL(x)[0];
}

const char *latens_r_string(SEXP x, const char *what) {
  if (!Rf_isString(x) || XLENGTH(x) != 1 || STRING_ELT(x, 0) == NA_STRING)
    Rf_error("latens: %s must be one string", what);
  return Rf_translateCharUTF8(STRING_ELT(x, 0));
}

uint64_t latens_r_seed(SEXP x, const char *what) {
  double v = latens_r_double(x, what);
  if (v != floor(v) || v < 0 || v >= 9007199254740992.0)
    Rf_error("latens: %s must be a whole number in [0, 2^53), got %g", what, v);
  return (uint64_t)v;
}

SEXP latens_r_named_list(int n, const char *const *names) {
  SEXP out = PROTECT(Rf_allocVector(VECSXP, n));
  SEXP nm = PROTECT(Rf_allocVector(STRSXP, n));
  for (int i = 0; i < n; i++) SET_STRING_ELT(nm, i, Rf_mkChar(names[i]));
  Rf_setAttrib(out, R_NamesSymbol, nm);
  UNPROTECT(2);
  return out;
}

SEXP latens_r_matrix_from(const latens_mat *m) {
  SEXP out = PROTECT(Rf_allocMatrix(REALSXP, (int)m->nrow, (int)m->ncol));
  double *o = REAL(out);
  for (size_t j = 0; j < m->ncol; j++)
    for (size_t i = 0; i < m->nrow; i++) o[i + j * m->nrow] = LATENS_MAT(m, i, j);
  UNPROTECT(1);
  return out;
}

SEXP latens_r_gp_params(const latens_gp_kernel *k) {
  size_t np = latens_gp_kernel_nparams(k);
  SEXP th = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)np));
  SEXP nm = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)np));
  latens_gp_kernel_get_params(k, REAL(th));
  for (size_t i = 0; i < np; i++)
    SET_STRING_ELT(nm, (R_xlen_t)i, Rf_mkChar(latens_gp_kernel_param_name(k, i)));
  Rf_setAttrib(th, R_NamesSymbol, nm);
  UNPROTECT(2);
  return th;
}

/* Runs under R_ToplevelExec: a pending interrupt longjmps out of here only, which makes
 * R_ToplevelExec return FALSE instead of unwinding through the library. */
static void check_interrupt(void *unused) {
  (void)unused;
  R_CheckUserInterrupt();
}

static int progress_bridge(void *user, const char *what, double done, double total) {
  (void)what;
  (void)done;
  (void)total;
  latens_r_interrupt *state = (latens_r_interrupt *)user;
  if (state->interrupted) return 1;
  if (!R_ToplevelExec(check_interrupt, NULL)) state->interrupted = 1;
  return state->interrupted;
}

latens_progress latens_r_progress_init(latens_r_interrupt *state) {
  latens_progress p;
  state->interrupted = 0;
  p.fn = progress_bridge;
  p.user = state;
  return p;
}

SEXP latens_r_handle_new(void *p, const char *type, R_CFinalizer_t fin) {
  SEXP h = PROTECT(R_MakeExternalPtr(p, Rf_install(type), R_NilValue));
  R_RegisterCFinalizerEx(h, fin, TRUE);
  UNPROTECT(1);
  return h;
}

void *latens_r_handle(SEXP x, const char *type, const char *what) {
  if (TYPEOF(x) != EXTPTRSXP || R_ExternalPtrTag(x) != Rf_install(type))
    Rf_error("latens: %s is not a %s handle", what, type);
  void *p = R_ExternalPtrAddr(x);
  if (!p)
    Rf_error("latens: %s is an empty %s handle (a model restored by load() or readRDS(); "
             "write it with its _write function and read it back instead)",
             what, type);
  return p;
}
