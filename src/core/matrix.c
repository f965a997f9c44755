/* core/matrix.c: column-major views, owning storage and the few BLAS wrappers all modules use. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <latens/matrix.h>

latens_vec latens_vec_view(double *data, size_t n, size_t stride) {
  latens_vec v = {data, n, stride ? stride : 1, 0};
  return v;
}

latens_mat latens_mat_view(double *data, size_t nrow, size_t ncol, size_t ld) {
  latens_mat m = {data, nrow, ncol, ld, 0};
  if (ld < nrow || (ld == 0 && nrow == 0 && ncol > 0)) m.data = NULL;
  if (m.ld == 0) m.ld = 1;
  return m;
}

latens_mat latens_mat_submatrix(const latens_mat *m, size_t i0, size_t j0, size_t nr, size_t nc) {
  latens_mat s = {NULL, nr, nc, m->ld, 0};
  /* Written so that i0 + nr cannot wrap around. */
  if (m->data && i0 <= m->nrow && nr <= m->nrow - i0 && j0 <= m->ncol && nc <= m->ncol - j0)
    s.data = m->data + i0 + j0 * m->ld;
  return s;
}

latens_vec latens_mat_column(const latens_mat *m, size_t j) {
  latens_vec v = {NULL, m->nrow, 1, 0};
  if (j < m->ncol && m->data) v.data = m->data + j * m->ld;
  return v;
}

latens_vec latens_mat_row(const latens_mat *m, size_t i) {
  latens_vec v = {NULL, m->ncol, m->ld, 0};
  if (i < m->nrow && m->data) v.data = m->data + i;
  return v;
}

latens_vec *latens_vec_alloc(size_t n) {
  latens_vec *v = malloc(sizeof *v);
  double *d = calloc(n ? n : 1, sizeof *d);
  if (!v || !d) {
    free(v), free(d);
    LATENS_ERROR_NULL("latens_vec_alloc: out of memory", LATENS_ENOMEM);
  }
  *v = (latens_vec){d, n, 1, 1};
  return v;
}

latens_mat *latens_mat_alloc(size_t nrow, size_t ncol) {
  size_t count = latens_mul_size(nrow, ncol);
  if (count == 0 && nrow && ncol)
    LATENS_ERROR_NULL("latens_mat_alloc: size overflows", LATENS_ENOMEM);
  latens_mat *m = malloc(sizeof *m);
  double *d = calloc(count ? count : 1, sizeof *d);
  if (!m || !d) {
    free(m), free(d);
    LATENS_ERROR_NULL("latens_mat_alloc: out of memory", LATENS_ENOMEM);
  }
  *m = (latens_mat){d, nrow, ncol, nrow ? nrow : 1, 1};
  return m;
}

void latens_vec_free(latens_vec *v) {
  if (!v) return;
  if (v->owner) free(v->data);
  free(v);
}

void latens_mat_free(latens_mat *m) {
  if (!m) return;
  if (m->owner) free(m->data);
  free(m);
}

/* A view whose constructor failed has data NULL: the helpers below treat it as an error
 * (int-returning ones) or do nothing (void ones), never dereference it (latens_mat_ok). */

void latens_mat_set_zero(latens_mat *m) {
  if (!latens_mat_ok(m) || !m->data) return;
  for (size_t j = 0; j < m->ncol; j++) memset(m->data + j * m->ld, 0, m->nrow * sizeof(double));
}

void latens_mat_set_identity(latens_mat *m) {
  if (!latens_mat_ok(m) || !m->data) return;
  latens_mat_set_zero(m);
  for (size_t i = 0; i < m->nrow && i < m->ncol; i++) LATENS_MAT(m, i, i) = 1.0;
}

int latens_mat_copy(latens_mat *dst, const latens_mat *src) {
  if (!latens_mat_ok(dst) || !latens_mat_ok(src))
    LATENS_ERROR("latens_mat_copy: NULL matrix", LATENS_EINVAL);
  if (dst->nrow != src->nrow || dst->ncol != src->ncol)
    LATENS_ERRORF(LATENS_EBADLEN, "latens_mat_copy: %zux%zu into %zux%zu", src->nrow, src->ncol,
                  dst->nrow, dst->ncol);
  for (size_t j = 0; j < src->ncol; j++)
    memmove(dst->data + j * dst->ld, src->data + j * src->ld, src->nrow * sizeof(double));
  return LATENS_OK;
}

int latens_vec_copy(latens_vec *dst, const latens_vec *src) {
  if (!latens_vec_ok(dst) || !latens_vec_ok(src))
    LATENS_ERROR("latens_vec_copy: NULL vector", LATENS_EINVAL);
  if (dst->n != src->n)
    LATENS_ERRORF(LATENS_EBADLEN, "latens_vec_copy: length %zu into %zu", src->n, dst->n);
  for (size_t i = 0; i < src->n; i++) LATENS_VEC(dst, i) = LATENS_VEC(src, i);
  return LATENS_OK;
}

int latens_mat_symmetrize(latens_mat *m) {
  if (!latens_mat_ok(m)) LATENS_ERROR("latens_mat_symmetrize: NULL matrix", LATENS_EINVAL);
  if (m->nrow != m->ncol)
    LATENS_ERRORF(LATENS_EBADLEN, "latens_mat_symmetrize: %zux%zu is not square", m->nrow, m->ncol);
  latens_dense_symmetrize(m->data, m->nrow, m->ld);
  return LATENS_OK;
}

double latens_mat_max_abs_diff(const latens_mat *a, const latens_mat *b) {
  if (!latens_mat_ok(a) || !latens_mat_ok(b)) return NAN;
  if (a->nrow != b->nrow || a->ncol != b->ncol) return INFINITY;
  double d = 0.0;
  for (size_t j = 0; j < a->ncol; j++)
    for (size_t i = 0; i < a->nrow; i++) {
      double e = fabs(LATENS_MAT(a, i, j) - LATENS_MAT(b, i, j));
      if (isnan(e)) return NAN;
      if (e > d) d = e;
    }
  return d;
}

static int trans_flag(char t, enum CBLAS_TRANSPOSE *out) {
  if (t == 'N' || t == 'n') *out = CblasNoTrans;
  else if (t == 'T' || t == 't') *out = CblasTrans;
  else return 0;
  return 1;
}

int latens_mat_gemm(char transa, char transb, double alpha, const latens_mat *A, const latens_mat *B,
                    double beta, latens_mat *C) {
  enum CBLAS_TRANSPOSE ta, tb;
  if (!latens_mat_ok(A) || !latens_mat_ok(B) || !latens_mat_ok(C))
    LATENS_ERROR("latens_mat_gemm: NULL matrix", LATENS_EINVAL);
  if (!trans_flag(transa, &ta) || !trans_flag(transb, &tb))
    LATENS_ERROR("latens_mat_gemm: trans must be 'N' or 'T'", LATENS_EINVAL);
  size_t m = ta == CblasNoTrans ? A->nrow : A->ncol, k = ta == CblasNoTrans ? A->ncol : A->nrow;
  size_t kb = tb == CblasNoTrans ? B->nrow : B->ncol, n = tb == CblasNoTrans ? B->ncol : B->nrow;
  if (k != kb || C->nrow != m || C->ncol != n)
    LATENS_ERRORF(LATENS_EBADLEN, "latens_mat_gemm: (%zux%zu)(%zux%zu) into %zux%zu", m, k, kb, n,
                  C->nrow, C->ncol);
  if (m == 0 || n == 0) return LATENS_OK;
  if (latens_too_big(m) || latens_too_big(n) || latens_too_big(k) || latens_too_big(A->ld) ||
      latens_too_big(B->ld) || latens_too_big(C->ld))
    LATENS_ERROR("latens_mat_gemm: a dimension or leading dimension exceeds INT_MAX (CBLAS)",
                 LATENS_EINVAL);
  cblas_dgemm(CblasColMajor, ta, tb, (int)m, (int)n, (int)k, alpha, A->data, (int)A->ld, B->data,
              (int)B->ld, beta, C->data, (int)C->ld);
  return LATENS_OK;
}

int latens_mat_gemv(char trans, double alpha, const latens_mat *A, const latens_vec *x, double beta,
                    latens_vec *y) {
  enum CBLAS_TRANSPOSE ta;
  if (!latens_mat_ok(A) || !latens_vec_ok(x) || !latens_vec_ok(y))
    LATENS_ERROR("latens_mat_gemv: NULL matrix or vector", LATENS_EINVAL);
  if (!trans_flag(trans, &ta)) LATENS_ERROR("latens_mat_gemv: trans must be 'N' or 'T'", LATENS_EINVAL);
  size_t m = ta == CblasNoTrans ? A->nrow : A->ncol, k = ta == CblasNoTrans ? A->ncol : A->nrow;
  if (x->n != k || y->n != m)
    LATENS_ERRORF(LATENS_EBADLEN, "latens_mat_gemv: (%zux%zu) times %zu into %zu", m, k, x->n, y->n);
  if (m == 0) return LATENS_OK;
  if (k == 0) { /* BLAS returns early for an empty inner dimension without applying beta */
    for (size_t i = 0; i < m; i++) LATENS_VEC(y, i) = beta == 0.0 ? 0.0 : beta * LATENS_VEC(y, i);
    return LATENS_OK;
  }
  if (latens_too_big(A->nrow) || latens_too_big(A->ncol) || latens_too_big(A->ld) ||
      latens_too_big(x->stride) || latens_too_big(y->stride))
    LATENS_ERROR("latens_mat_gemv: a dimension, leading dimension or stride exceeds INT_MAX (CBLAS)",
                 LATENS_EINVAL);
  cblas_dgemv(CblasColMajor, ta, (int)A->nrow, (int)A->ncol, alpha, A->data, (int)A->ld, x->data,
              (int)x->stride, beta, y->data, (int)y->stride);
  return LATENS_OK;
}

gsl_matrix_view latens_mat_gsl_view(latens_mat *m) {
  /* GSL's view constructors call gsl_error (which aborts by default) on empty shapes. */
  if (!m->data || !m->nrow || !m->ncol || m->ld < m->nrow) {
    gsl_matrix_view none = {{0, 0, 0, NULL, NULL, 0}};
    return none;
  }
  return gsl_matrix_view_array_with_tda(m->data, m->ncol, m->nrow, m->ld);
}

gsl_vector_view latens_vec_gsl_view(latens_vec *v) {
  if (!v->data || !v->n || !v->stride) {
    gsl_vector_view none = {{0, 0, NULL, NULL, 0}};
    return none;
  }
  return gsl_vector_view_array_with_stride(v->data, v->stride, v->n);
}
