/* r_core.c: build facts of the linked liblatens. */
#include "latens_r.h"

static SEXP r_latens_version(void) {
  static const char *const names[] = {"version", "blas", "blas_runtime", "openmp",
                                      "max_threads", "sundials"};
  SEXP out = PROTECT(latens_r_named_list(6, names));
  SET_VECTOR_ELT(out, 0, Rf_mkString(latens_version()));
  SET_VECTOR_ELT(out, 1, Rf_mkString(latens_blas_name()));
  SET_VECTOR_ELT(out, 2, Rf_mkString(latens_blas_runtime()));
  SET_VECTOR_ELT(out, 3, Rf_ScalarLogical(latens_have_openmp()));
  SET_VECTOR_ELT(out, 4, Rf_ScalarInteger(latens_max_threads()));
  SET_VECTOR_ELT(out, 5, Rf_ScalarInteger(latens_sundials_version_major()));
  UNPROTECT(1);
  return out;
}

const R_CallMethodDef latens_r_core_calls[] = {
    {"r_latens_version", (DL_FUNC)&r_latens_version, 0},
    {NULL, NULL, 0}};
