/* latens/matrix.h: dense vectors and matrices shared by every module.
 *
 * Storage is column-major with a leading dimension, the layout of R matrices, Fortran arrays
 * and LAPACK: element (i, j) of an nrow x ncol matrix is data[i + j*ld], ld >= nrow.  A view
 * wraps caller memory without copying; `owner` says whether latens_mat_free releases it.
 * GSL matrices are row-major, so a column-major matrix is seen by GSL as its transpose:
 * latens_mat_gsl_view returns that view (gsl(j, i) == mat(i, j)).
 */
#ifndef LATENS_MATRIX_H
#define LATENS_MATRIX_H

#include <stddef.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <latens/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  double *data;
  size_t n;      /* length */
  size_t stride; /* distance between consecutive elements, >= 1 */
  int owner;     /* 1 if latens_vec_free releases data */
} latens_vec;

typedef struct {
  double *data;
  size_t nrow, ncol;
  size_t ld; /* leading dimension (column stride), >= nrow */
  int owner; /* 1 if latens_mat_free releases data */
} latens_mat;

#define LATENS_VEC(v, i) ((v)->data[(size_t)(i) * (v)->stride])
#define LATENS_MAT(m, i, j) ((m)->data[(size_t)(i) + (size_t)(j) * (m)->ld])

/* Views of caller memory (no allocation, never fail: bad sizes give a view with data NULL). */
LATENS_EXPORT latens_vec latens_vec_view(double *data, size_t n, size_t stride);
LATENS_EXPORT latens_mat latens_mat_view(double *data, size_t nrow, size_t ncol, size_t ld);
/* Sub-matrix rows [i0, i0+nr), columns [j0, j0+nc) of m (shares m's memory). */
LATENS_EXPORT latens_mat latens_mat_submatrix(const latens_mat *m, size_t i0, size_t j0, size_t nr,
                                              size_t nc);
LATENS_EXPORT latens_vec latens_mat_column(const latens_mat *m, size_t j);
LATENS_EXPORT latens_vec latens_mat_row(const latens_mat *m, size_t i);

/* Owning storage, zero-initialised.  NULL (and the error handler called) on failure. */
LATENS_EXPORT latens_vec *latens_vec_alloc(size_t n);
LATENS_EXPORT latens_mat *latens_mat_alloc(size_t nrow, size_t ncol);
LATENS_EXPORT void latens_vec_free(latens_vec *v); /* NULL-safe */
LATENS_EXPORT void latens_mat_free(latens_mat *m); /* NULL-safe */

/* Elementwise helpers. */
LATENS_EXPORT void latens_mat_set_zero(latens_mat *m);
LATENS_EXPORT void latens_mat_set_identity(latens_mat *m);
LATENS_EXPORT int latens_mat_copy(latens_mat *dst, const latens_mat *src);
LATENS_EXPORT int latens_vec_copy(latens_vec *dst, const latens_vec *src);
/* Symmetrise in place: m <- (m + m^T)/2 (square m). */
LATENS_EXPORT int latens_mat_symmetrize(latens_mat *m);
/* max |a_ij - b_ij|, +Inf when shapes differ, NaN for a NULL matrix or a NaN entry. */
LATENS_EXPORT double latens_mat_max_abs_diff(const latens_mat *a, const latens_mat *b);

/* The helpers below return LATENS_EINVAL for a NULL matrix/vector or a failed view (data
 * NULL with a non-empty shape); the void ones then do nothing.  Sizes, leading dimensions
 * and strides above INT_MAX (CBLAS takes int) are LATENS_EINVAL too. */

/* C <- alpha op(A) op(B) + beta C, through CBLAS.  trans* is 'N' or 'T'.  C must not overlap
 * A or B.  An empty inner dimension gives C <- beta C. */
LATENS_EXPORT int latens_mat_gemm(char transa, char transb, double alpha, const latens_mat *A,
                                  const latens_mat *B, double beta, latens_mat *C);
/* y <- alpha op(A) x + beta y.  y must not overlap A or x. */
LATENS_EXPORT int latens_mat_gemv(char trans, double alpha, const latens_mat *A,
                                  const latens_vec *x, double beta, latens_vec *y);

/* GSL view of the transpose of m (see the top of this file).  Requires m->ld >= m->nrow. */
LATENS_EXPORT gsl_matrix_view latens_mat_gsl_view(latens_mat *m);
LATENS_EXPORT gsl_vector_view latens_vec_gsl_view(latens_vec *v);

#ifdef __cplusplus
}
#endif
#endif
