/* tests/core/test_matrix.c: views, copies and the BLAS wrappers.
 * Oracle: naive triple loops written here. */
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

Suite *matrix_suite(void) {
  Suite *s = suite_create("matrix");
  TCase *tc = tcase_create("matrix");
  tcase_add_test(tc, views_share_caller_memory);
  tcase_add_test(tc, gemm_matches_naive);
  tcase_add_test(tc, symmetrize_copy_identity);
  suite_add_tcase(s, tc);
  return s;
}
