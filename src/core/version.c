/* core/version.c: build facts for `latens --version` and the bindings. */
#include "internal.h"

#include <dlfcn.h>
#include <gsl/gsl_cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

const char *latens_version(void) { return PACKAGE_VERSION; }
const char *latens_blas_name(void) { return LATENS_BLAS_NAME; }

/* Which shared object really provides cblas_dgemm: Debian's libgsl depends on libgslcblas,
 * so a wrong link order would silently give the slow reference BLAS.  dladdr tells. */
const char *latens_blas_runtime(void) {
  Dl_info info;
  if (dladdr((void *)cblas_dgemm, &info) && info.dli_fname) {
    const char *s = info.dli_fname, *base = s;
    for (; *s; s++)
      if (*s == '/') base = s + 1;
    return base;
  }
  return "unknown";
}

int latens_have_openmp(void) {
#ifdef _OPENMP
  return 1;
#else
  return 0;
#endif
}

int latens_have_mpi(void) { return LATENS_HAVE_MPI; }

int latens_max_threads(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

int latens_sundials_version_major(void) { return LATENS_SUNDIALS_MAJOR; }
