/* core/internal.h: helpers shared by latens' own source files; not installed. */
#ifndef LATENS_CORE_INTERNAL_H
#define LATENS_CORE_INTERNAL_H

#include <config.h>
#include <stddef.h>
#include <stdint.h>
#include <latens/common.h>
#include <latens/matrix.h>

/* Overflow-checked n*m for allocation sizes: returns 0 on overflow (callers treat as ENOMEM). */
static inline size_t latens_mul_size(size_t n, size_t m) {
  if (n != 0 && m > SIZE_MAX / n) return 0;
  return n * m;
}

/* Hidden helpers: visible across liblatens' objects, not exported. */
#define LATENS_INTERNAL __attribute__((visibility("hidden")))

/* ---------------------------------------------------------------- argument checks (check.c)
 * The reporting ones return LATENS_OK or report through LATENS_ERRORF naming fn and name, in
 * this order: NULL or failed view (data NULL with a non-empty shape) -> LATENS_EINVAL; wrong
 * shape -> LATENS_EBADLEN naming both shapes; ld < nrow, or a size, ld or stride above
 * INT_MAX (CBLAS takes int) -> LATENS_EINVAL. */
/* A dimension the caller does not constrain. */
#define LATENS_ANY ((size_t)-1)

/* 1 unless m is NULL or a failed view (no report; ld and INT_MAX not looked at). */
LATENS_INTERNAL int latens_mat_ok(const latens_mat *m);
/* 1 unless v is NULL, a failed view or has stride 0 (no report). */
LATENS_INTERNAL int latens_vec_ok(const latens_vec *v);
/* 1 if n does not fit the int that CBLAS takes. */
LATENS_INTERNAL int latens_too_big(size_t n);
/* m is nrow x ncol (either may be LATENS_ANY) and can be handed to CBLAS. */
LATENS_INTERNAL int latens_check_mat(const char *fn, const char *name, const latens_mat *m,
                                     size_t nrow, size_t ncol);
/* m is square (any order) and can be handed to CBLAS. */
LATENS_INTERNAL int latens_check_square(const char *fn, const char *name, const latens_mat *m);
/* v has length n (or LATENS_ANY), a stride in [1, INT_MAX]. */
LATENS_INTERNAL int latens_check_vec(const char *fn, const char *name, const latens_vec *v,
                                     size_t n);
/* Every entry of m is finite, else LATENS_ENOTFINITE naming the first (column-major order). */
LATENS_INTERNAL int latens_check_finite_mat(const char *fn, const char *name, const latens_mat *m);
/* 1 if x[0..n) are all finite (no report). */
LATENS_INTERNAL int latens_all_finite(const double *x, size_t n);
/* 1 if every entry of m (data non-NULL or empty) is finite (no report). */
LATENS_INTERNAL int latens_mat_all_finite(const latens_mat *m);
/* 1 if every entry of v (data non-NULL or empty) is finite (no report). */
LATENS_INTERNAL int latens_vec_all_finite(const latens_vec *v);

/* ---------------------------------------------------------------- small dense kernels (dense.c) */

/* m*n*k above which latens_dense_mm hands a product to CBLAS (measured, see dense.c). */
enum { LATENS_DENSE_SMALL_MNK = 150 };

/* C <- alpha op(A) op(B) + beta C, column-major; ta/tb non-zero for transposes.  beta == 0
 * never reads C.  C must not overlap A or B.  Sizes and lds must fit an int (callers check).
 * Products of at most LATENS_DENSE_SMALL_MNK multiply-adds use plain loops. */
LATENS_INTERNAL void latens_dense_mm(int ta, int tb, size_t m, size_t n, size_t k, double alpha,
                                     const double *A, size_t lda, const double *B, size_t ldb,
                                     double beta, double *C, size_t ldc);
/* As latens_dense_mm with the caller's own loop/CBLAS threshold small_mnk. */
LATENS_INTERNAL void latens_dense_mm_cut(size_t small_mnk, int ta, int tb, size_t m, size_t n,
                                         size_t k, double alpha, const double *A, size_t lda,
                                         const double *B, size_t ldb, double beta, double *C,
                                         size_t ldc);
/* a <- (a + a^T) / 2 (n x n, ld ld). */
LATENS_INTERNAL void latens_dense_symmetrize(double *a, size_t n, size_t ld);

#endif
