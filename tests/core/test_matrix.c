/* tests/core/test_matrix.c: views, copies and the BLAS wrappers.
 * Oracle: naive triple loops written here. */
#include <limits.h>
#include <math.h>
#include <latens/latens.h>
#include "suites.h"

START_TEST(views_share_caller_memory) {
  double a[3 * 4]; /* 2x3 matrix stored with ld = 3 (one padding row), plus slack */
  for (int i = 0; i < 12; i++) a[i] = i;
  latens_mat m = latens_mat_view(a, 2, 3, 3);
  ck_assert_double_eq(LATENS_MAT(&m, 1, 2), 7.0);
  LATENS_MAT(&m, 0, 1) = -1.0;
  ck_assert_double_eq(a[3], -1.0);
  latens_vec r = latens_mat_row(&m, 1);
  ck_assert_uint_eq(r.n, 3);
  ck_assert_double_eq(LATENS_VEC(&r, 2), 7.0);
  latens_mat s = latens_mat_submatrix(&m, 1, 1, 1, 2);
  ck_assert_double_eq(LATENS_MAT(&s, 0, 1), 7.0);
  latens_mat bad = latens_mat_submatrix(&m, 1, 1, 2, 2);
  ck_assert_ptr_null(bad.data);
  latens_mat badld = latens_mat_view(a, 4, 2, 3);
  ck_assert_ptr_null(badld.data);
  /* GSL sees the transpose. */
  gsl_matrix_view g = latens_mat_gsl_view(&m);
  ck_assert_double_eq(gsl_matrix_get(&g.matrix, 2, 1), 7.0);
}
END_TEST

START_TEST(gemm_matches_naive) {
  latens_mat *A = latens_mat_alloc(5, 3), *B = latens_mat_alloc(5, 4), *C = latens_mat_alloc(3, 4);
  for (size_t j = 0; j < 3; j++)
    for (size_t i = 0; i < 5; i++) LATENS_MAT(A, i, j) = sin(1.0 + i + 7.0 * j);
  for (size_t j = 0; j < 4; j++)
    for (size_t i = 0; i < 5; i++) LATENS_MAT(B, i, j) = cos(2.0 + 3.0 * i + j);
  ck_assert_int_eq(latens_mat_gemm('T', 'N', 2.0, A, B, 0.0, C), LATENS_OK);
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 4; j++) {
      double s = 0;
      for (size_t k = 0; k < 5; k++) s += LATENS_MAT(A, k, i) * LATENS_MAT(B, k, j);
      ck_assert_double_eq_tol(LATENS_MAT(C, i, j), 2.0 * s, 1e-14);
    }
  ck_assert_int_eq(latens_mat_gemm('N', 'N', 1.0, A, B, 0.0, C), LATENS_EBADLEN);
  ck_assert_int_eq(latens_mat_gemm('X', 'N', 1.0, A, B, 0.0, C), LATENS_EINVAL);
  latens_vec x = latens_mat_column(B, 0), y = latens_mat_column(C, 0);
  ck_assert_int_eq(latens_mat_gemv('T', 1.0, A, &x, 0.0, &y), LATENS_OK);
  for (size_t i = 0; i < 3; i++) {
    double s = 0;
    for (size_t k = 0; k < 5; k++) s += LATENS_MAT(A, k, i) * LATENS_MAT(B, k, 0);
    ck_assert_double_eq_tol(LATENS_VEC(&y, i), s, 1e-14);
  }
  latens_mat_free(A), latens_mat_free(B), latens_mat_free(C);
  latens_mat_free(NULL), latens_vec_free(NULL);
}
END_TEST

START_TEST(symmetrize_copy_identity) {
  latens_mat *A = latens_mat_alloc(3, 3), *B = latens_mat_alloc(3, 3);
  LATENS_MAT(A, 0, 2) = 4.0;
  ck_assert_int_eq(latens_mat_symmetrize(A), LATENS_OK);
  ck_assert_double_eq(LATENS_MAT(A, 2, 0), 2.0);
  ck_assert_int_eq(latens_mat_copy(B, A), LATENS_OK);
  ck_assert_double_eq(latens_mat_max_abs_diff(A, B), 0.0);
  latens_mat_set_identity(B);
  ck_assert_double_eq(latens_mat_max_abs_diff(A, B), 2.0);
  latens_mat *R = latens_mat_alloc(2, 3);
  ck_assert_int_eq(latens_mat_symmetrize(R), LATENS_EBADLEN);
  ck_assert(isinf(latens_mat_max_abs_diff(A, R)));
  latens_mat_free(A), latens_mat_free(B), latens_mat_free(R);
}
END_TEST

/* Edge cases the review found (oracle: the definitions, by hand). */
START_TEST(empty_null_and_oversized) {
  double y[3] = {7, 7, 7}, x0[1] = {0}, a[4] = {1, 2, 3, 4};
  latens_mat A30 = latens_mat_view(a, 3, 0, 3);
  latens_vec x = latens_vec_view(x0, 0, 1), yv = latens_vec_view(y, 3, 1);
  /* An empty inner dimension: y <- beta y (BLAS itself would leave y alone). */
  ck_assert_int_eq(latens_mat_gemv('N', 1.0, &A30, &x, 0.0, &yv), LATENS_OK);
  for (int i = 0; i < 3; i++) ck_assert_double_eq(y[i], 0.0);
  y[0] = 2;
  ck_assert_int_eq(latens_mat_gemv('N', 1.0, &A30, &x, 0.5, &yv), LATENS_OK);
  ck_assert_double_eq(y[0], 1.0);

  /* NULL and failed views are statuses, never dereferenced. */
  latens_mat m = latens_mat_view(a, 2, 2, 2);
  latens_mat bad = latens_mat_submatrix(&m, (size_t)-1, 0, 2, 1); /* i0 + nr wraps around */
  ck_assert_ptr_null(bad.data);
  ck_assert_int_eq(latens_mat_copy(NULL, &m), LATENS_EINVAL);
  ck_assert_int_eq(latens_mat_copy(&bad, &m), LATENS_EINVAL);
  ck_assert_int_eq(latens_mat_gemm('N', 'N', 1.0, &m, &m, 0.0, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_mat_symmetrize(&bad), LATENS_EINVAL);
  latens_mat_set_zero(&bad), latens_mat_set_identity(&bad);
  latens_vec badcol = latens_mat_column(&m, 5);
  ck_assert_int_eq(latens_vec_copy(&x, &badcol), LATENS_EINVAL);
  ck_assert(isnan(latens_mat_max_abs_diff(&m, NULL)));

  /* Leading dimensions CBLAS cannot take (int) are refused before any BLAS call. */
  latens_mat huge = {a, 2, 2, (size_t)INT_MAX + 4, 0};
  latens_mat C = latens_mat_view(y, 1, 2, 1), r = latens_mat_view(a, 1, 2, 1);
  latens_mat col = latens_mat_view(a, 2, 1, 2);
  ck_assert_int_eq(latens_mat_gemm('N', 'N', 1.0, &r, &huge, 0.0, &C), LATENS_EINVAL);
  latens_vec x2 = latens_vec_view(a, 2, 1), y1 = latens_vec_view(y, 1, 1);
  ck_assert_int_eq(latens_mat_gemv('T', 1.0, &col, &x2, 0.0, &y1), LATENS_OK);
  ck_assert_double_eq(y[0], 1 * 1 + 2 * 2);

  /* max_abs_diff keeps a NaN even when a larger difference follows it. */
  double p[2] = {NAN, 0}, q[2] = {0, 100};
  latens_mat P = latens_mat_view(p, 2, 1, 2), Q = latens_mat_view(q, 2, 1, 2);
  ck_assert(isnan(latens_mat_max_abs_diff(&P, &Q)));
}
END_TEST

Suite *matrix_suite(void) {
  Suite *s = suite_create("matrix");
  TCase *tc = tcase_create("matrix");
  tcase_add_test(tc, views_share_caller_memory);
  tcase_add_test(tc, gemm_matches_naive);
  tcase_add_test(tc, symmetrize_copy_identity);
  tcase_add_test(tc, empty_null_and_oversized);
  suite_add_tcase(s, tc);
  return s;
}
