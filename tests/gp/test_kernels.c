/* tests/gp/test_kernels.c: kernel objects, k(τ) from the state space against closed forms,
 * spectral densities against k(0), parameter names and derivatives of A, Q, P∞. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_integration.h>
#include <latens/latens.h>
#include "suites.h"

/* The textbook Matérn ν = p + 1/2 correlation (Rasmussen & Williams 2006, eq. 4.16-4.17,
 * and m_3 from the general half-integer formula), written out independently of the library. */
static double matern_closed(int p, double d, double ell) {
  double x = sqrt(2.0 * p + 1.0) * d / ell;
  double poly = p == 0   ? 1
                : p == 1 ? 1 + x
                : p == 2 ? 1 + x + x * x / 3
                         : 1 + x + 2 * x * x / 5 + x * x * x / 15;
  return poly * exp(-x);
}

static latens_gp_kernel *one(latens_gp_kind kind, double var, double ell, double w) {
  latens_gp_term t = {kind, var, ell, w};
  return latens_gp_kernel_alloc(&t, 1);
}

/* Oracle: closed form σ² m_p(|τ|) cos(ωτ) against H A(τ) P∞ Hᵀ from the state space. */
START_TEST(test_k_from_state_space) {
  double ells[] = {1e-3, 0.7, 3.0, 1e4};
  size_t bad = 0;
  double worst = 0;
  for (int kind = 0; kind < LATENS_GP_NKINDS; kind++)
    for (size_t e = 0; e < 4; e++) {
      latens_gp_kernel *k = one((latens_gp_kind)kind, 2.5, ells[e], 1.3);
      ck_assert_ptr_nonnull(k);
      size_t d = latens_gp_kernel_dim(k);
      latens_mat *A = latens_mat_alloc(d, d), *P = latens_mat_alloc(d, d);
      latens_mat *AP = latens_mat_alloc(d, d);
      latens_vec *H = latens_vec_alloc(d);
      ck_assert_int_eq(latens_gp_kernel_pinf(k, P), LATENS_OK);
      ck_assert_int_eq(latens_gp_kernel_H(k, H), LATENS_OK);
      for (double tau = 0; tau < 5 * ells[e]; tau += 0.37 * ells[e]) {
        ck_assert_int_eq(latens_gp_kernel_transition(k, tau, A, NULL), LATENS_OK);
        latens_mat_gemm('N', 'N', 1.0, A, P, 0.0, AP);
        double ss = 0;
        for (size_t i = 0; i < d; i++)
          for (size_t j = 0; j < d; j++)
            ss += LATENS_VEC(H, i) * LATENS_MAT(AP, i, j) * LATENS_VEC(H, j);
        double ref = 2.5 * matern_closed(kind & 3, tau, ells[e]) * (kind >= 4 ? cos(1.3 * tau) : 1);
        double ev;
        latens_gp_kernel_eval(k, tau, &ev);
        /* rounding of a few d x d products: 1e-13 of σ² */
        double err = fmax(fabs(ss - ref), fabs(ev - ref)) / 2.5;
        if (err > 1e-13) bad++;
        worst = fmax(worst, err);
      }
      latens_mat_free(A), latens_mat_free(P), latens_mat_free(AP), latens_vec_free(H);
      latens_gp_kernel_free(k);
    }
  ck_assert_msg(bad == 0, "%zu lags off, worst %g", bad, worst);
}
END_TEST

/* Oracle: Q(Δ) = P∞ − A P∞ Aᵀ is PSD, A(0) = I, Q(0) = 0, A(huge) = 0 and Q(huge) = P∞
 * exactly (definitions), and A(s) A(t) = A(s + t) (semigroup, rounding). */
START_TEST(test_transition_identities) {
  size_t bad = 0;
  for (int kind = 0; kind < LATENS_GP_NKINDS; kind++) {
    latens_gp_kernel *k = one((latens_gp_kind)kind, 0.3, 2.0, 0.9);
    size_t d = latens_gp_kernel_dim(k);
    latens_mat *A = latens_mat_alloc(d, d), *Q = latens_mat_alloc(d, d);
    latens_mat *B = latens_mat_alloc(d, d), *C = latens_mat_alloc(d, d), *P = latens_mat_alloc(d, d);
    latens_gp_kernel_pinf(k, P);
    latens_gp_kernel_transition(k, 0.0, A, Q);
    for (size_t i = 0; i < d; i++)
      for (size_t j = 0; j < d; j++)
        bad += LATENS_MAT(A, i, j) != (i == j) || LATENS_MAT(Q, i, j) != 0;
    latens_gp_kernel_transition(k, 1e9, A, Q);
    for (size_t i = 0; i < d; i++)
      for (size_t j = 0; j < d; j++)
        bad += LATENS_MAT(A, i, j) != 0 || LATENS_MAT(Q, i, j) != LATENS_MAT(P, i, j);
    latens_gp_kernel_transition(k, 0.7, A, Q);
    latens_gp_kernel_transition(k, 1.1, B, NULL);
    latens_mat_gemm('N', 'N', 1.0, A, B, 0.0, C);
    latens_gp_kernel_transition(k, 1.8, B, NULL);
    bad += !(latens_mat_max_abs_diff(B, C) < 1e-14);
    latens_gp_kernel_transition(k, 0.7, A, Q);
    bad += latens_chol_decomp(Q, NULL, NULL) != LATENS_OK;
    latens_mat_free(A), latens_mat_free(Q), latens_mat_free(B), latens_mat_free(C);
    latens_mat_free(P);
    latens_gp_kernel_free(k);
  }
  ck_assert_uint_eq(bad, 0);
}
END_TEST

typedef struct {
  latens_gp_kernel *k;
} sd_ctx;
static double sd_fn(double w, void *u) {
  double s;
  latens_gp_kernel_spectral_density(((sd_ctx *)u)->k, w, &s);
  return s;
}

/* Oracle: ∫ S(w) dw / 2π = k(0) = σ² (Wiener-Khinchin), by GSL's QAGI quadrature. */
START_TEST(test_spectral_integrates_to_variance) {
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(2000);
  size_t bad = 0;
  for (int kind = 0; kind < LATENS_GP_NKINDS; kind++) {
    sd_ctx c = {one((latens_gp_kind)kind, 1.7, 0.6, 2.0)};
    gsl_function F = {sd_fn, &c};
    double r, e;
    gsl_integration_qagi(&F, 1e-12, 1e-10, 2000, w, &r, &e);
    /* QAGI relative tolerance 1e-10 requested; Matérn-1/2's w^-2 tail converges slowest */
    if (fabs(r / (2 * M_PI) - 1.7) > 1e-8 * 1.7) bad++;
    latens_gp_kernel_free(c.k);
  }
  gsl_integration_workspace_free(w);
  ck_assert_uint_eq(bad, 0);
}
END_TEST

START_TEST(test_names_and_params) {
  latens_gp_kernel *k = latens_gp_kernel_parse("matern32");
  ck_assert_ptr_nonnull(k);
  ck_assert_str_eq(latens_gp_kernel_param_name(k, 0), "variance");
  ck_assert_str_eq(latens_gp_kernel_param_name(k, 1), "lengthscale");
  ck_assert_ptr_null(latens_gp_kernel_param_name(k, 2));
  latens_gp_kernel_free(k);
  k = latens_gp_kernel_parse("matern12,hida-matern");
  ck_assert_ptr_nonnull(k);
  ck_assert_uint_eq(latens_gp_kernel_nparams(k), 5);
  ck_assert_uint_eq(latens_gp_kernel_dim(k), 1 + 4);
  ck_assert_str_eq(latens_gp_kernel_param_name(k, 4), "frequency2");
  size_t idx;
  ck_assert_int_eq(latens_gp_kernel_param_index(k, "lengthscale2", &idx), LATENS_OK);
  ck_assert_uint_eq(idx, 3);
  ck_assert_int_eq(latens_gp_kernel_param_index(k, "frequency", &idx), LATENS_EDOM);
  double th[5];
  latens_gp_kernel_get_params(k, th);
  th[3] = -1;
  ck_assert_int_eq(latens_gp_kernel_set_params(k, th), LATENS_EDOM);
  latens_gp_kernel_free(k);
  ck_assert_ptr_null(latens_gp_kernel_parse("matern32,,matern12"));
  ck_assert_ptr_null(latens_gp_kernel_parse("rbf"));
  latens_gp_term t = {LATENS_GP_MATERN32, NAN, 1, 0};
  ck_assert_ptr_null(latens_gp_kernel_alloc(&t, 1));
  t.variance = 1, t.lengthscale = 0;
  ck_assert_ptr_null(latens_gp_kernel_alloc(&t, 1));
  latens_gp_kernel_free(NULL);
}
END_TEST

/* Oracle: central differences of A, Q and P∞ in each parameter (step 1e-6 relative:
 * truncation ~1e-12, rounding ~1e-10). */
START_TEST(test_state_space_derivatives) {
  latens_gp_kernel *k = latens_gp_kernel_parse("matern52,hida-matern72,hida-matern12");
  double th0[8] = {1.3, 0.8, 0.5, 2.0, 1.1, 0.7, 0.4, 3.0};
  ck_assert_int_eq(latens_gp_kernel_set_params(k, th0), LATENS_OK);
  size_t d = latens_gp_kernel_dim(k), np = latens_gp_kernel_nparams(k);
  ck_assert_uint_eq(np, 8);
  latens_mat *dA = latens_mat_alloc(d, d), *dQ = latens_mat_alloc(d, d), *dP = latens_mat_alloc(d, d);
  latens_mat *Ap = latens_mat_alloc(d, d), *Qp = latens_mat_alloc(d, d), *Pp = latens_mat_alloc(d, d);
  latens_mat *Am = latens_mat_alloc(d, d), *Qm = latens_mat_alloc(d, d), *Pm = latens_mat_alloc(d, d);
  double worst = 0, dt = 0.45;
  for (size_t q = 0; q < np; q++) {
    double th[8];
    memcpy(th, th0, sizeof th);
    double h = 1e-6 * th0[q];
    ck_assert_int_eq(latens_gp_kernel_transition_deriv(k, dt, q, dA, dQ), LATENS_OK);
    ck_assert_int_eq(latens_gp_kernel_pinf_deriv(k, q, dP), LATENS_OK);
    th[q] = th0[q] + h;
    latens_gp_kernel_set_params(k, th);
    latens_gp_kernel_transition(k, dt, Ap, Qp);
    latens_gp_kernel_pinf(k, Pp);
    th[q] = th0[q] - h;
    latens_gp_kernel_set_params(k, th);
    latens_gp_kernel_transition(k, dt, Am, Qm);
    latens_gp_kernel_pinf(k, Pm);
    latens_gp_kernel_set_params(k, th0);
    for (size_t i = 0; i < d; i++)
      for (size_t j = 0; j < d; j++) {
        double fa = (LATENS_MAT(Ap, i, j) - LATENS_MAT(Am, i, j)) / (2 * h);
        double fq = (LATENS_MAT(Qp, i, j) - LATENS_MAT(Qm, i, j)) / (2 * h);
        double fp = (LATENS_MAT(Pp, i, j) - LATENS_MAT(Pm, i, j)) / (2 * h);
        worst = fmax(worst, fabs(fa - LATENS_MAT(dA, i, j)));
        worst = fmax(worst, fabs(fq - LATENS_MAT(dQ, i, j)));
        worst = fmax(worst, fabs(fp - LATENS_MAT(dP, i, j)));
      }
  }
  ck_assert_msg(worst < 1e-7, "worst derivative error %g", worst);
  latens_mat_free(dA), latens_mat_free(dQ), latens_mat_free(dP);
  latens_mat_free(Ap), latens_mat_free(Qp), latens_mat_free(Pp);
  latens_mat_free(Am), latens_mat_free(Qm), latens_mat_free(Pm);
  latens_gp_kernel_free(k);
}
END_TEST

Suite *gp_kernel_suite(void) {
  Suite *s = suite_create("gp_kernel");
  TCase *tc = tcase_create("kernel");
  tcase_add_test(tc, test_k_from_state_space);
  tcase_add_test(tc, test_transition_identities);
  tcase_add_test(tc, test_spectral_integrates_to_variance);
  tcase_add_test(tc, test_names_and_params);
  tcase_add_test(tc, test_state_space_derivatives);
  suite_add_tcase(s, tc);
  return s;
}
