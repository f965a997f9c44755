/* tests/core/test_ode.c: the CVODES front end: closed forms, a published stiff reference, the
 * matrix exponential, sensitivities, failure statuses and SUNDIALS' silence.
 *
 * Error bounds.  CVODE keeps each step's local error within the tolerances in its weighted
 * RMS norm over m components, so each component's local error is at most
 * sqrt(m) (rtol |y_i| + atol_i).  The global error is what the N steps commit, carried along
 * by the flow; where the flow does not amplify errors it is at most their sum:
 *   |y_i - exact_i| <= N sqrt(m) (rtol |y_i| + atol_i)                      (ACCUM)
 * with the size |y_i| each problem's argument gives (N = all steps of the solve, an upper
 * bound for the steps up to any output).  Each test derives its instance.  CVODE's guide
 * calls the accumulation factor problem-dependent and, as a rule of thumb, sets tolerances
 * ten times below the wanted global error; that is no bound: relative errors of decaying
 * components accumulate over the steps (the decay test below measured ~50 times rtol). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <latens/latens.h>
#include "suites.h"

#define ACCUM(st, m, rtol, size, atol)                                                         \
  ((double)(st).steps * sqrt(m) * ((rtol) * (size) + (atol)))

static latens_ode_options opts(latens_ode_method m, double rtol, double atol) {
  latens_ode_options o;
  latens_ode_options_default(&o);
  o.method = m, o.rtol = rtol, o.atol = atol;
  return o;
}

/* ---------------------------------------------------------------- test problems */

typedef struct {
  double k[3];
  int fail_mode; /* 0 fine; 1 return -1 for t > tfail; 2 -LATENS_EDOM; 3 +1 always;
                    4 +1 for t > tfail; 5 NaN always; 6 the Jacobian returns -1 */
  double tfail;
} decay_data;

/* y_i' = -k_i y_i: closed form y_i(t) = y_i(0) exp(-k_i t). */
static int decay(double t, const double *y, double *dy, void *user) {
  decay_data *d = user;
  if ((d->fail_mode == 1 || d->fail_mode == 2) && t > d->tfail)
    return d->fail_mode == 1 ? -1 : -LATENS_EDOM;
  if (d->fail_mode == 3 || (d->fail_mode == 4 && t > d->tfail)) return 1;
  for (int i = 0; i < 3; i++) dy[i] = d->fail_mode == 5 ? NAN : -d->k[i] * y[i];
  return 0;
}

static int decay_jac(double t, const double *y, double *J, size_t ld, void *user) {
  (void)t, (void)y;
  decay_data *d = user;
  if (d->fail_mode == 6) return -1;
  for (int i = 0; i < 3; i++) J[i + i * ld] = -d->k[i];
  return 0;
}

/* y1' = y2, y2' = -w^2 y1 with w = 2 pi (period 1): y1 = cos(wt), y2 = -w sin(wt). */
static int oscillator(double t, const double *y, double *dy, void *user) {
  (void)t, (void)user;
  const double w = 2.0 * M_PI;
  dy[0] = y[1];
  dy[1] = -w * w * y[0];
  return 0;
}

/* Robertson's chemical kinetics (stiff), with its analytic Jacobian. */
static int robertson(double t, const double *y, double *dy, void *user) {
  (void)t, (void)user;
  dy[0] = -0.04 * y[0] + 1e4 * y[1] * y[2];
  dy[2] = 3e7 * y[1] * y[1];
  dy[1] = -dy[0] - dy[2];
  return 0;
}

static int robertson_jac(double t, const double *y, double *J, size_t ld, void *user) {
  (void)t, (void)user;
  J[0 + 0 * ld] = -0.04, J[0 + 1 * ld] = 1e4 * y[2], J[0 + 2 * ld] = 1e4 * y[1];
  J[1 + 0 * ld] = 0.04, J[1 + 1 * ld] = -1e4 * y[2] - 6e7 * y[1], J[1 + 2 * ld] = -1e4 * y[1];
  J[2 + 1 * ld] = 6e7 * y[1];
  return 0;
}

/* ---------------------------------------------------------------- closed forms */

/* Oracle: closed form exp(-k t), forward (with t0 itself and a repeated time among the
 * outputs) and backward from t = 2, for both methods, with and without the Jacobian.
 * ACCUM, m = 3: the flow carries a local error made at t_j to t scaled by exp(-k (t - t_j)),
 * which turns rtol |y_i(t_j)| into exactly rtol |y_i(t)|, and atol into at most atol forwards
 * and atol exp(k_i |t - t_j|) <= atol exp(2 k_i) backwards over [0, 2]. */
START_TEST(decay_matches_closed_form) {
  decay_data d = {{0.7, 2.0, 0.05}, 0, 0.0};
  const double y0[3] = {1.0, -3.0, 0.5}, rtol = 1e-8, atol = 1e-12;
  const double times[] = {0.0, 0.1, 0.5, 1.0, 1.0, 2.5, 5.0, 10.0};
  enum { NT = sizeof times / sizeof *times };
  double Y[4 * NT]; /* ld = 4: one padding row that must stay untouched */
  for (int variant = 0; variant < 3; variant++) {
    latens_ode_options o = opts(variant == 2 ? LATENS_ODE_ADAMS : LATENS_ODE_BDF, rtol, atol);
    latens_ode *ode = latens_ode_alloc(3, decay, variant == 1 ? decay_jac : NULL, &d, &o);
    ck_assert_ptr_nonnull(ode);
    for (int i = 0; i < 4 * NT; i++) Y[i] = -99.0;
    latens_ode_stats st;
    ck_assert_int_eq(latens_ode_solve(ode, 0.0, y0, NT, times, Y, 4, &st), LATENS_OK);
    for (int k = 0; k < NT; k++) {
      for (int i = 0; i < 3; i++) {
        double exact = y0[i] * exp(-d.k[i] * times[k]);
        ck_assert_double_le(fabs(Y[i + 4 * k] - exact), ACCUM(st, 3, rtol, fabs(exact), atol));
      }
      ck_assert_double_eq(Y[3 + 4 * k], -99.0);
    }
    ck_assert_double_eq(Y[0], 1.0); /* times[0] == t0: y0 itself */
    ck_assert_uint_eq(st.nout, NT);
    ck_assert_double_eq(st.t, 10.0);
    ck_assert_int_gt(st.steps, 10);
    ck_assert_int_gt(st.rhs_evals, st.steps);
    if (variant < 2) ck_assert_int_gt(st.jac_evals, 0);
    else ck_assert_int_eq(st.jac_evals, 0);
    /* Backward: from t0 = 2 to 0, y(t) = y(2) exp(-k (t - 2)). */
    const double back[] = {2.0, 1.5, 0.0};
    double y2[3];
    for (int i = 0; i < 3; i++) y2[i] = y0[i] * exp(-2.0 * d.k[i]);
    ck_assert_int_eq(latens_ode_solve(ode, 2.0, y2, 3, back, Y, 4, &st), LATENS_OK);
    for (int k = 0; k < 3; k++)
      for (int i = 0; i < 3; i++) {
        double exact = y2[i] * exp(-d.k[i] * (back[k] - 2.0));
        ck_assert_double_le(fabs(Y[i + 4 * k] - exact),
                            ACCUM(st, 3, rtol, fabs(exact), atol * exp(2.0 * d.k[i])));
      }
    ck_assert_double_lt(st.last_step, 0.0);
    latens_ode_free(ode);
  }
}
END_TEST

/* Oracle: closed form cos/sin over 5 periods; energy (y1^2 + y2^2/w^2)/2 = 1/2 conserved.
 * ACCUM in the norm where the flow is a rotation, |(e1, e2/w)|_2: a local error has
 * |e1| <= sqrt(2) (rtol + atol), |e2| <= sqrt(2) (rtol w + atol), so norm <= 2 (rtol + atol);
 * rotations keep it, N steps add up to B = 2 N (rtol + atol): |E1| <= B, |E2| <= w B, and the
 * energy moves by at most |y| B + B^2 / 2 with |y| = 1 in that norm. */
START_TEST(oscillator_matches_closed_form_and_keeps_energy) {
  const double w = 2.0 * M_PI, rtol = 1e-10, atol = 1e-12, y0[2] = {1.0, 0.0};
  enum { NT = 21 };
  double times[NT], Y[2 * NT];
  for (int k = 0; k < NT; k++) times[k] = 0.25 * k; /* 5 periods */
  for (int m = 0; m < 2; m++) {
    latens_ode_options o = opts(m ? LATENS_ODE_ADAMS : LATENS_ODE_BDF, rtol, atol);
    latens_ode *ode = latens_ode_alloc(2, oscillator, NULL, NULL, &o);
    ck_assert_ptr_nonnull(ode);
    latens_ode_stats st;
    ck_assert_int_eq(latens_ode_solve(ode, 0.0, y0, NT, times, Y, 2, &st), LATENS_OK);
    double B = 2.0 * (double)st.steps * (rtol + atol);
    for (int k = 0; k < NT; k++) {
      double t = times[k], c = cos(w * t), s = -w * sin(w * t);
      ck_assert_double_le(fabs(Y[2 * k] - c), B);
      ck_assert_double_le(fabs(Y[2 * k + 1] - s), w * B);
      double e = 0.5 * (Y[2 * k] * Y[2 * k] + Y[2 * k + 1] * Y[2 * k + 1] / (w * w));
      ck_assert_double_le(fabs(e - 0.5), B + 0.5 * B * B);
    }
    latens_ode_free(ode);
  }
}
END_TEST

/* Oracle: published high-accuracy values of Robertson's problem at t = 40 (Hairer & Wanner,
 * Solving ODEs II, stiff test set; widely reproduced): y = (0.7158270687, 9.185534764e-6,
 * 0.2841637457).  Checked independently with GSL's gsl_odeiv2 bsimp and rk4imp at
 * rtol 1e-12, which agree to all ten digits.  Note: SUNDIALS' cvRoberts_dns.out (6.4) prints
 * 7.158017e-01 9.185037e-06 2.841892e-01 at t = 40, at its loose rtol = 1e-4: those are not
 * these figures.  Bound: ACCUM with m = 3 and |y_i| = ref_i, assuming the flow does not
 * amplify relative errors: at t = 40 the Jacobian's eigenvalues are 0 (mass conservation),
 * ~-0.4 and ~-3.4e3, and y2 is slaved to (y1, y3) on the slow manifold, so its relative
 * error follows theirs.  Plus the 10-digit rounding of the reference (<= 5e-11 relative). */
START_TEST(robertson_matches_published_values) {
  const double ref[3] = {0.7158270687, 9.185534764e-6, 0.2841637457};
  const double y0[3] = {1.0, 0.0, 0.0}, atolv[3] = {1e-12, 1e-16, 1e-12}, rtol = 1e-8;
  const double times[2] = {0.4, 40.0};
  for (int withjac = 0; withjac < 2; withjac++) {
    latens_ode_options o = opts(LATENS_ODE_BDF, rtol, 0.0);
    o.atolv = atolv;
    latens_ode *ode = latens_ode_alloc(3, robertson, withjac ? robertson_jac : NULL, NULL, &o);
    ck_assert_ptr_nonnull(ode);
    double Y[6];
    latens_ode_stats st;
    ck_assert_int_eq(latens_ode_solve(ode, 0.0, y0, 2, times, Y, 3, &st), LATENS_OK);
    for (int i = 0; i < 3; i++)
      ck_assert_double_le(fabs(Y[3 + i] - ref[i]),
                          ACCUM(st, 3, rtol, ref[i], atolv[i]) + 5e-11 * ref[i]);
    ck_assert_int_gt(st.jac_evals, 0);
    ck_assert_int_lt(st.steps, 5000); /* BDF handles the stiffness: no explosion of steps */
    latens_ode_free(ode);
  }
}
END_TEST

/* y' = A y with a non-normal, stable A.  Oracle: GSL's gsl_linalg_exponential_ss(A t)
 * (scaling and squaring, GSL_PREC_DOUBLE) applied to y0.  ACCUM with m = 3, amplified by
 * M = max_s |exp(A s)|_inf (a non-normal flow can grow errors for a while), with size
 * Ymax = max_s |y(s)|_inf; both maxima sampled every 0.01 on [0, 5] (they vary on time
 * scales >= 0.5, so sampling misses well under 1%; the bound takes 1.01 M). */
static const double lin_A[9] = {-1.0, -2.0, 0.0, /* column-major */
                                2.0,  -1.0, 0.3, 0.0, 0.5, -0.2};

static int linear(double t, const double *y, double *dy, void *user) {
  (void)t, (void)user;
  for (int i = 0; i < 3; i++)
    dy[i] = lin_A[i] * y[0] + lin_A[i + 3] * y[1] + lin_A[i + 6] * y[2];
  return 0;
}

static int linear_jac(double t, const double *y, double *J, size_t ld, void *user) {
  (void)t, (void)y, (void)user;
  for (int j = 0; j < 3; j++)
    for (int i = 0; i < 3; i++) J[i + j * ld] = lin_A[i + 3 * j];
  return 0;
}

START_TEST(linear_system_matches_matrix_exponential) {
  const double y0[3] = {1.0, 0.5, -2.0}, rtol = 1e-9, atol = 1e-12;
  const double times[] = {0.3, 1.0, 2.0, 5.0};
  enum { NT = sizeof times / sizeof *times };
  gsl_matrix *At = gsl_matrix_alloc(3, 3), *E = gsl_matrix_alloc(3, 3);
  double M = 0.0, Ymax = 0.0;
  for (int g = 0; g <= 500; g++) {
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) gsl_matrix_set(At, i, j, lin_A[i + 3 * j] * 0.01 * g);
    ck_assert_int_eq(gsl_linalg_exponential_ss(At, E, GSL_PREC_DOUBLE), 0);
    for (int i = 0; i < 3; i++) {
      double row = 0.0, yi = 0.0;
      for (int j = 0; j < 3; j++)
        row += fabs(gsl_matrix_get(E, i, j)), yi += gsl_matrix_get(E, i, j) * y0[j];
      M = fmax(M, row), Ymax = fmax(Ymax, fabs(yi));
    }
  }
  for (int m = 0; m < 3; m++) {
    latens_ode_options o = opts(m == 2 ? LATENS_ODE_ADAMS : LATENS_ODE_BDF, rtol, atol);
    latens_ode *ode = latens_ode_alloc(3, linear, m == 1 ? linear_jac : NULL, NULL, &o);
    double Y[3 * NT];
    latens_ode_stats st;
    ck_assert_int_eq(latens_ode_solve(ode, 0.0, y0, NT, times, Y, 3, &st), LATENS_OK);
    for (int k = 0; k < NT; k++) {
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) gsl_matrix_set(At, i, j, lin_A[i + 3 * j] * times[k]);
      ck_assert_int_eq(gsl_linalg_exponential_ss(At, E, GSL_PREC_DOUBLE), 0);
      for (int i = 0; i < 3; i++) {
        double exact = 0.0;
        for (int j = 0; j < 3; j++) exact += gsl_matrix_get(E, i, j) * y0[j];
        ck_assert_double_le(fabs(Y[i + 3 * k] - exact), 1.01 * M * ACCUM(st, 3, rtol, Ymax, atol));
      }
    }
    latens_ode_free(ode);
  }
  gsl_matrix_free(At), gsl_matrix_free(E);
}
END_TEST

/* Oracle: bitwise equality -- a reused object (after another solve) and a fresh one take the
 * same steps, as each solve restarts CVODE completely; options hmax and h0 are honoured. */
START_TEST(reuse_is_deterministic_and_options_apply) {
  decay_data d = {{0.7, 2.0, 0.05}, 0, 0.0};
  const double y0[3] = {1.0, 2.0, 3.0}, y0b[3] = {-1.0, 0.0, 4.0}, times[3] = {0.5, 1.0, 3.0};
  double A[9], B[9];
  latens_ode *fresh = latens_ode_alloc(3, decay, NULL, &d, NULL);
  latens_ode *used = latens_ode_alloc(3, decay, NULL, &d, NULL);
  ck_assert_int_eq(latens_ode_solve(used, 0.0, y0b, 3, times, B, 3, NULL), LATENS_OK);
  ck_assert_int_eq(latens_ode_solve(fresh, 0.0, y0, 3, times, A, 3, NULL), LATENS_OK);
  ck_assert_int_eq(latens_ode_solve(used, 0.0, y0, 3, times, B, 3, NULL), LATENS_OK);
  ck_assert_int_eq(memcmp(A, B, sizeof A), 0);
  latens_ode_free(fresh), latens_ode_free(used);
  latens_ode_options o = opts(LATENS_ODE_BDF, 1e-6, 1e-9);
  o.hmax = 0.01, o.h0 = 1e-3;
  latens_ode *ode = latens_ode_alloc(3, decay, NULL, &d, &o);
  latens_ode_stats st;
  ck_assert_int_eq(latens_ode_solve(ode, 0.0, y0, 3, times, A, 3, &st), LATENS_OK);
  ck_assert_int_ge(st.steps, 300); /* 3 time units at most 0.01 per step */
  ck_assert_double_le(st.last_step, 0.01);
  latens_ode_free(ode);
  ck_assert_str_eq(latens_ode_method_name(LATENS_ODE_ADAMS), "adams");
  ck_assert_str_eq(latens_ode_method_name(9), "unknown");
}
END_TEST

/* Objects on different threads share nothing.  Oracle: the serial result, bitwise. */
START_TEST(threads_are_independent) {
  const double y0[2] = {1.0, 0.0}, times[2] = {0.5, 2.0};
  double ref[4], out[8][4];
  latens_ode *ode = latens_ode_alloc(2, oscillator, NULL, NULL, NULL);
  ck_assert_int_eq(latens_ode_solve(ode, 0.0, y0, 2, times, ref, 2, NULL), LATENS_OK);
  latens_ode_free(ode);
  int bad = 0;
#pragma omp parallel for reduction(+ : bad)
  for (int r = 0; r < 8; r++) {
    latens_ode *o = latens_ode_alloc(2, oscillator, NULL, NULL, NULL);
    bad += !o || latens_ode_solve(o, 0.0, y0, 2, times, out[r], 2, NULL) != LATENS_OK;
    latens_ode_free(o);
  }
  ck_assert_int_eq(bad, 0);
  for (int r = 0; r < 8; r++) ck_assert_int_eq(memcmp(out[r], ref, sizeof ref), 0);
}
END_TEST

/* ---------------------------------------------------------------- sensitivities */

/* y' = -p y, y(0) = 1: y = exp(-p t), dy/dp = (S0 - t) exp(-p t) for dy(0)/dp = S0. */
static int decay_p(double t, const double *y, const double *p, double *dy, void *user) {
  (void)t, (void)user;
  dy[0] = -p[0] * y[0];
  return 0;
}

static int decay_p_sens(double t, const double *y, const double *dydt, const double *p,
                        const double *S, double *dS, size_t ld, void *user) {
  (void)t, (void)dydt, (void)ld, (void)user;
  dS[0] = -p[0] * S[0] - y[0];
  return 0;
}

/* The ACCUM argument for (y, S): CVODES bounds the state's and each sensitivity's WRMS norm
 * separately (m = 1 each), with the sensitivity tolerances rtol and atol / pbar (pbar = p).
 * The flow carries a y-error e made at t_j to S as -(t - t_j) exp(-p (t - t_j)) e, an S-error
 * as exp(-p (t - t_j)) e.  Summing N worst cases:
 *   |e_S(t)| <= N (rtol exp(-p t) (t + max(|S0|, |S0 - t|)) + atol t + atol / p).
 * Difference quotients of this f (linear in y and p) are exact up to rounding, ~1e-12 of f,
 * negligible beside N atol / p. */
static double decay_sens_bound(const latens_ode_stats *st, double p, double t, double S0,
                               double rtol, double atol) {
  double big = fmax(fabs(S0), fabs(S0 - t));
  return (double)st->steps * (rtol * exp(-p * t) * (t + big) + atol * t + atol / p);
}

/* Oracle: the closed form above; DQ and user sensitivity rhs, BDF and Adams. */
START_TEST(sensitivity_of_decay_matches_closed_form) {
  const double p = 0.8, y0 = 1.0, rtol = 1e-8, atol = 1e-12;
  const double times[] = {0.0, 0.5, 1.0, 2.0, 5.0};
  enum { NT = sizeof times / sizeof *times };
  for (int v = 0; v < 4; v++) {
    latens_ode_options o = opts(v & 2 ? LATENS_ODE_ADAMS : LATENS_ODE_BDF, rtol, atol);
    latens_ode *ode = latens_ode_alloc_param(1, 1, decay_p, NULL, v & 1 ? decay_p_sens : NULL,
                                             NULL, &o);
    ck_assert_ptr_nonnull(ode);
    double Y[NT], S[NT];
    latens_ode_stats st;
    ck_assert_int_eq(latens_ode_solve_param(ode, &p, 0.0, &y0, NULL, 0, NT, times, Y, 1, S, 1, &st),
                     LATENS_OK);
    for (int k = 0; k < NT; k++) {
      double t = times[k], ye = exp(-p * t), se = -t * exp(-p * t);
      ck_assert_double_le(fabs(Y[k] - ye), ACCUM(st, 1, rtol, ye, atol));
      ck_assert_double_le(fabs(S[k] - se), decay_sens_bound(&st, p, t, 0.0, rtol, atol));
    }
    ck_assert_int_gt(st.sens_rhs_evals, 0);
    /* Without dYdp: the state only; then sensitivities again, now with dy0/dp = S0. */
    ck_assert_int_eq(latens_ode_solve_param(ode, &p, 0.0, &y0, NULL, 0, NT, times, Y, 1, NULL, 0,
                                            &st), LATENS_OK);
    ck_assert_double_le(fabs(Y[NT - 1] - exp(-5.0 * p)), ACCUM(st, 1, rtol, exp(-5.0 * p), atol));
    ck_assert_int_eq(st.sens_rhs_evals, 0);
    const double S0 = 2.0;
    ck_assert_int_eq(latens_ode_solve_param(ode, &p, 0.0, &y0, &S0, 1, NT, times, Y, 1, S, 1,
                                            &st), LATENS_OK);
    for (int k = 0; k < NT; k++) {
      double t = times[k], se = (S0 - t) * exp(-p * t);
      ck_assert_double_le(fabs(S[k] - se), decay_sens_bound(&st, p, t, S0, rtol, atol));
    }
    latens_ode_free(ode);
  }
}
END_TEST

/* Logistic growth y' = r y (1 - y/K), p = (r, K), y(0) = 0.1. */
static int logistic(double t, const double *y, const double *p, double *dy, void *user) {
  (void)t, (void)user;
  dy[0] = p[0] * y[0] * (1.0 - y[0] / p[1]);
  return 0;
}

static int logistic_sens(double t, const double *y, const double *dydt, const double *p,
                         const double *S, double *dS, size_t ld, void *user) {
  (void)t, (void)dydt, (void)user;
  double r = p[0], K = p[1], u = y[0], J = r * (1.0 - 2.0 * u / K);
  dS[0] = J * S[0] + u * (1.0 - u / K);
  dS[ld] = J * S[ld] + r * u * u / (K * K);
  return 0;
}

/* Oracle: central differences of repeated solves at rtol = 1e-12, h_j = 1e-4 p_j.
 *
 * Amplification: the logistic equation's variational flow carries an error from s to t
 * scaled by (y(t)/y(s))^2 exp(-r (t - s)), at most M = (K/2)^2 / (y0 (K - y0)) ~ 5.3 (from
 * s = 0 to y = K/2); the sensitivity equations share that propagator.
 * FD error, per output time: truncation h^2/6 |d3y/dp3| from the closed form
 * y = K sigma(r t - ln(K/y0 - 1)): |d3y/dr3| = K t^3 |sigma^(3)| <= K t^3 / 8 and
 * d3y/dK3 = 6 y0^2 (1 - c) c^2 / (K c + y0 (1 - c))^4 with c = exp(-r t) (largest at K - h);
 * plus the two solves' errors (ACCUM amplified by M, N (1e-12 K + 1e-14) each) over 2h.
 * Sensitivity error (ACCUM, m = 1, amplified by M): sizes |S| <= 3 (dy/dr = t y (1 - y/K)
 * <= t K/4, 0 <= dy/dK <= 1), tolerance atol / p_j; and the y-error M N (rtol K + atol)
 * enters S through the forcing, |d(df/dp)/dy| <= 1.5, over t <= 6: 9 M times it. */
static double logistic_d3(int j, double t, const double *p, double y0, double h) {
  double r = p[0], K = p[1] - h, c = exp(-r * t), den = K * c + y0 * (1.0 - c);
  return j == 0 ? p[1] * t * t * t / 8.0 : 6.0 * y0 * y0 * (1.0 - c) * c * c / pow(den, 4.0);
}

START_TEST(sensitivity_of_logistic_matches_finite_differences) {
  const double p[2] = {1.5, 2.0}, y0 = 0.1, times[] = {1.0, 2.5, 6.0}, K = p[1];
  const double M = (K / 2) * (K / 2) / (y0 * (K - y0));
  enum { NT = sizeof times / sizeof *times };
  latens_ode_options fine = opts(LATENS_ODE_BDF, 1e-12, 1e-14);
  latens_ode *ref = latens_ode_alloc_param(1, 2, logistic, NULL, NULL, NULL, &fine);
  double fd[2][NT], fd_err[2][NT];
  for (int j = 0; j < 2; j++) {
    double pp[2] = {p[0], p[1]}, pm[2] = {p[0], p[1]}, Yp[NT], Ym[NT], h = 1e-4 * p[j];
    pp[j] += h, pm[j] -= h;
    latens_ode_stats sp, sm;
    ck_assert_int_eq(latens_ode_solve_param(ref, pp, 0.0, &y0, NULL, 0, NT, times, Yp, 1, NULL,
                                            0, &sp), LATENS_OK);
    ck_assert_int_eq(latens_ode_solve_param(ref, pm, 0.0, &y0, NULL, 0, NT, times, Ym, 1, NULL,
                                            0, &sm), LATENS_OK);
    double noise = M * (double)(sp.steps + sm.steps) * (1e-12 * K + 1e-14) / (2.0 * h);
    for (int k = 0; k < NT; k++) {
      fd[j][k] = (Yp[k] - Ym[k]) / (2.0 * h);
      fd_err[j][k] = h * h / 6.0 * logistic_d3(j, times[k], p, y0, h) + noise;
    }
  }
  latens_ode_free(ref);
  const double rtol = 1e-8, atol = 1e-12;
  for (int v = 0; v < 4; v++) {
    latens_ode_options o = opts(v & 2 ? LATENS_ODE_ADAMS : LATENS_ODE_BDF, rtol, atol);
    latens_ode *ode = latens_ode_alloc_param(1, 2, logistic, NULL, v & 1 ? logistic_sens : NULL,
                                             NULL, &o);
    double Y[NT], S[3 * 2 * NT]; /* ldd = 3 */
    latens_ode_stats st;
    ck_assert_int_eq(latens_ode_solve_param(ode, p, 0.0, &y0, NULL, 0, NT, times, Y, 1, S, 3,
                                            &st), LATENS_OK);
    for (int k = 0; k < NT; k++)
      for (int j = 0; j < 2; j++) {
        double bound = M * (double)st.steps *
                       (rtol * 3.0 + atol / p[j] + 9.0 * M * (rtol * K + atol));
        ck_assert_double_le(fabs(S[(k * 2 + j) * 3] - fd[j][k]), bound + fd_err[j][k]);
      }
    latens_ode_free(ode);
  }
}
END_TEST

/* Robertson with rates p = (0.04, 1e4, 3e7) as parameters. */
static int robertson_p(double t, const double *y, const double *p, double *dy, void *user) {
  (void)t, (void)user;
  dy[0] = -p[0] * y[0] + p[1] * y[1] * y[2];
  dy[2] = p[2] * y[1] * y[1];
  dy[1] = -dy[0] - dy[2];
  return 0;
}

static void robertson_jac_at(const double *y, const double *p, double *J, size_t ld) {
  J[0] = -p[0], J[ld] = p[1] * y[2], J[2 * ld] = p[1] * y[1];
  J[1] = p[0], J[1 + ld] = -p[1] * y[2] - 2.0 * p[2] * y[1], J[1 + 2 * ld] = -p[1] * y[1];
  J[2] = 0.0, J[2 + ld] = 2.0 * p[2] * y[1], J[2 + 2 * ld] = 0.0;
}

static int robertson_p_jac(double t, const double *y, const double *p, double *J, size_t ld,
                           void *user) {
  (void)t, (void)user;
  robertson_jac_at(y, p, J, ld);
  return 0;
}

/* dS_j = J S_j + df/dp_j. */
static int robertson_p_sens(double t, const double *y, const double *dydt, const double *p,
                            const double *S, double *dS, size_t ld, void *user) {
  (void)t, (void)dydt, (void)user;
  double J[9];
  robertson_jac_at(y, p, J, 3);
  const double dfdp[3][3] = {{-y[0], y[0], 0.0},
                             {y[1] * y[2], -y[1] * y[2], 0.0},
                             {0.0, -y[1] * y[1], y[1] * y[1]}};
  for (int j = 0; j < 3; j++)
    for (int i = 0; i < 3; i++)
      dS[i + j * ld] = J[i] * S[j * ld] + J[i + 3] * S[1 + j * ld] + J[i + 6] * S[2 + j * ld] +
                       dfdp[j][i];
  return 0;
}

/* Oracle: SUNDIALS' published cvsRoberts_FSA_dns output (6.4, "-sensi sim t") at t = 40:
 * five significant digits, computed there in 219 steps at rtol = 1e-4 with full error
 * control, so by ACCUM (m = 3) good to 219 sqrt(3) 1e-4 ~ 0.038 relative, plus 5e-5 from
 * printing; our own error (rtol <= 1e-6) is far smaller.  A check of the wiring (parameter
 * order, leading dimensions, magnitudes from 1e-13 to 4) more than of accuracy, which the
 * tests above cover.  DQ at rtol = 1e-6: at 1e-8 with full error control, DQ noise on the
 * tiny S3 (atol / pbar ~ 1e-24) is at the tolerance and the step size collapses. */
START_TEST(robertson_sensitivities_match_published_table) {
  const double p[3] = {0.04, 1e4, 3e7}, y0[3] = {1.0, 0.0, 0.0}, atolv[3] = {1e-12, 1e-16, 1e-12};
  const double table[3][3] = {{-4.2475e+00, 4.5913e-05, 4.2475e+00},
                              {1.3731e-05, -2.3573e-10, -1.3730e-05},
                              {-2.2883e-09, -1.1380e-13, 2.2884e-09}};
  for (int v = 0; v < 2; v++) {
    latens_ode_options o = opts(LATENS_ODE_BDF, v ? 1e-8 : 1e-6, 0.0);
    o.atolv = atolv;
    latens_ode *ode = latens_ode_alloc_param(3, 3, robertson_p, robertson_p_jac,
                                             v ? robertson_p_sens : NULL, NULL, &o);
    const double t = 40.0;
    double Y[3], S[4 * 3]; /* ldd = 4 */
    ck_assert_int_eq(latens_ode_solve_param(ode, p, 0.0, y0, NULL, 0, 1, &t, Y, 3, S, 4, NULL),
                     LATENS_OK);
    for (int j = 0; j < 3; j++)
      for (int i = 0; i < 3; i++)
        ck_assert_double_le(fabs(S[i + 4 * j] - table[j][i]), 0.04 * fabs(table[j][i]));
    latens_ode_free(ode);
  }
}
END_TEST

/* ---------------------------------------------------------------- failures */

/* Redirect stderr to a temporary file; stop_capture returns the number of bytes written. */
typedef struct {
  int saved;
  FILE *tmp;
} capture;

static capture start_capture(void) {
  capture c = {dup(STDERR_FILENO), tmpfile()};
  fflush(stderr);
  dup2(fileno(c.tmp), STDERR_FILENO);
  return c;
}

static long stop_capture(capture c) {
  fflush(stderr);
  dup2(c.saved, STDERR_FILENO);
  close(c.saved);
  fseek(c.tmp, 0, SEEK_END);
  long len = ftell(c.tmp);
  fclose(c.tmp);
  return len;
}

static int solve_decay(decay_data *d, latens_ode_options *o, int withjac, double *Y,
                       latens_ode_stats *st) {
  const double y0[3] = {1.0, 1.0, 1.0}, times[4] = {0.25, 0.5, 1.0, 2.0};
  latens_ode *ode = latens_ode_alloc(3, decay, withjac ? decay_jac : NULL, d, o);
  ck_assert_ptr_nonnull(ode);
  int s = latens_ode_solve(ode, 0.0, y0, 4, times, Y, 3, st);
  latens_ode_free(ode);
  return s;
}

/* Each failure gives its status, a message naming CVODE's flag, the columns done so far,
 * and not a byte on stderr (SUNDIALS' own handler would print there). */
START_TEST(failures_map_to_statuses_silently) {
  static const struct {
    int mode, jac;
    double tfail, rtol, atol;
    size_t max_steps;
    int status;
    const char *flag;
    size_t nout;
  } cases[] = {
      {1, 0, 0.6, 1e-6, 1e-9, 100000, LATENS_EFAILED, "CV_RHSFUNC_FAIL", 2},
      {2, 0, 0.6, 1e-6, 1e-9, 100000, LATENS_EDOM, "CV_RHSFUNC_FAIL", 2},
      {3, 0, 0.0, 1e-6, 1e-9, 100000, LATENS_EFAILED, "CV_FIRST_RHSFUNC_ERR", 0},
      {4, 0, 0.6, 1e-6, 1e-9, 1000, LATENS_EFAILED, "collapsed", 2},
      {5, 0, 0.0, 1e-6, 1e-9, 100000, LATENS_ENOTFINITE, "CV_FIRST_RHSFUNC_ERR", 0},
      {6, 1, 0.0, 1e-6, 1e-9, 100000, LATENS_EFAILED, "CV_LSETUP_FAIL", 0},
      {0, 0, 0.0, 1e-6, 1e-9, 5, LATENS_EMAXITER, "CV_TOO_MUCH_WORK", 0},
      {0, 0, 0.0, 1e-20, 1e-30, 100000, LATENS_EDOM, "CV_TOO_MUCH_ACC", 0},
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    decay_data d = {{0.7, 2.0, 0.05}, cases[c].mode, cases[c].tfail};
    latens_ode_options o = opts(LATENS_ODE_BDF, cases[c].rtol, cases[c].atol);
    o.max_steps = cases[c].max_steps;
    double Y[12];
    for (int i = 0; i < 12; i++) Y[i] = NAN;
    latens_ode_stats st;
    latens_clear_error();
    capture cap = start_capture();
    int s = solve_decay(&d, &o, cases[c].jac, Y, &st);
    long printed = stop_capture(cap);
    ck_assert_msg(s == cases[c].status, "case %zu: status %d, expected %d", c, s, cases[c].status);
    ck_assert_msg(printed == 0, "case %zu: %ld bytes on stderr", c, printed);
    const char *why = NULL;
    ck_assert_int_eq(latens_last_error(&why), cases[c].status);
    ck_assert_msg(strstr(why, cases[c].flag) != NULL, "case %zu: message '%s'", c, why);
    ck_assert_uint_eq(st.nout, cases[c].nout);
    for (size_t k = 0; k < 4; k++) ck_assert(isnan(Y[3 * k]) == (k >= cases[c].nout));
    if (cases[c].mode == 1 || cases[c].mode == 4) ck_assert_double_le(st.t, 0.6 + 1e-12);
    /* The stall at t = 0.6 makes CVODE warn "t + h = t" (v6 passes warnings to the handler;
     * v7 sends them to its logger, which latens silences). */
    if (cases[c].mode == 4 && latens_sundials_version_major() < 7)
      ck_assert_int_gt(st.warnings, 0);
  }
  /* An output time within rounding of t0 (but not equal): CVODE cannot start. */
  decay_data d = {{0.7, 2.0, 0.05}, 0, 0.0};
  latens_ode *ode = latens_ode_alloc(3, decay, NULL, &d, NULL);
  const double y0[3] = {1.0, 1.0, 1.0}, tnear = nextafter(1.0, 2.0);
  double Y[3];
  capture cap = start_capture();
  int s = latens_ode_solve(ode, 1.0, y0, 1, &tnear, Y, 3, NULL);
  ck_assert_int_eq(stop_capture(cap), 0);
  ck_assert_int_eq(s, LATENS_EDOM);
  const char *why = NULL;
  latens_last_error(&why);
  ck_assert_ptr_nonnull(strstr(why, "CV_TOO_CLOSE"));
  latens_ode_free(ode);
}
END_TEST

static int stop_after_two(void *user, const char *what, double done, double total) {
  (void)what, (void)total;
  ++*(int *)user;
  return done >= 2.0;
}

START_TEST(progress_stop_keeps_columns_done) {
  decay_data d = {{0.7, 2.0, 0.05}, 0, 0.0};
  int calls = 0;
  latens_ode_options o = opts(LATENS_ODE_BDF, 1e-6, 1e-9);
  o.progress = (latens_progress){stop_after_two, &calls};
  double Y[12];
  for (int i = 0; i < 12; i++) Y[i] = NAN;
  latens_ode_stats st;
  ck_assert_int_eq(solve_decay(&d, &o, 0, Y, &st), LATENS_EINTERRUPTED);
  ck_assert_int_eq(calls, 2);
  ck_assert_uint_eq(st.nout, 2);
  ck_assert_double_eq(st.t, 0.5);
  ck_assert(!isnan(Y[3]) && isnan(Y[6]));
}
END_TEST

START_TEST(bad_arguments_are_refused) {
  decay_data d = {{0.7, 2.0, 0.05}, 0, 0.0};
  const double y0[3] = {1.0, 1.0, 1.0}, times[3] = {0.5, 1.0, 2.0}, p = 1.0;
  double Y[9], S[9];
  latens_ode_options o;
  /* Allocation. */
  ck_assert_ptr_null(latens_ode_alloc(0, decay, NULL, &d, NULL));
  ck_assert_ptr_null(latens_ode_alloc(3, NULL, NULL, &d, NULL));
  ck_assert_ptr_null(latens_ode_alloc_param(1, 0, decay_p, NULL, NULL, NULL, NULL));
  ck_assert_ptr_null(latens_ode_alloc_param(0, 1, decay_p, NULL, NULL, NULL, NULL));
  ck_assert_ptr_null(latens_ode_alloc_param(1, 1, NULL, NULL, NULL, NULL, NULL));
  const double neg[3] = {1e-9, -1.0, 1e-9}, zero[3] = {0.0, 1e-9, 1e-9};
  for (int c = 0; c < 9; c++) {
    o = opts(LATENS_ODE_BDF, 1e-6, 1e-9);
    switch (c) {
    case 0: o.rtol = -1.0; break;
    case 1: o.atol = NAN; break;
    case 2: o.atolv = neg; break;
    case 3: o.rtol = 0.0, o.atolv = zero; break;
    case 4: o.max_steps = 0; break;
    case 5: o.method = (latens_ode_method)7; break;
    case 6: o.h0 = -1.0; break;
    case 7: o.hmax = NAN; break;
    case 8: o.rtol = INFINITY; break;
    }
    ck_assert_msg(latens_ode_alloc(3, decay, NULL, &d, &o) == NULL, "option case %d", c);
  }
  o = opts(LATENS_ODE_BDF, 1e-6, 1e-9);
  const double pbar0 = 0.0;
  o.pbar = &pbar0;
  ck_assert_ptr_null(latens_ode_alloc_param(1, 1, decay_p, NULL, NULL, NULL, &o));
  /* Solves. */
  latens_ode *ode = latens_ode_alloc(3, decay, NULL, &d, NULL);
  latens_ode *par = latens_ode_alloc_param(1, 1, decay_p, NULL, NULL, NULL, NULL);
  ck_assert_int_eq(latens_ode_solve(NULL, 0.0, y0, 3, times, Y, 3, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_ode_solve(ode, 0.0, NULL, 3, times, Y, 3, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_ode_solve(ode, 0.0, y0, 3, NULL, Y, 3, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_ode_solve(ode, 0.0, y0, 3, times, NULL, 3, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_ode_solve(ode, 0.0, y0, 0, times, Y, 3, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_ode_solve(ode, 0.0, y0, 3, times, Y, 2, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_ode_solve(ode, NAN, y0, 3, times, Y, 3, NULL), LATENS_ENOTFINITE);
  const double ynan[3] = {1.0, NAN, 1.0}, tnan[3] = {0.5, NAN, 2.0}, tbad[3] = {0.5, 2.0, 1.0};
  const double tmix[3] = {0.5, -1.0, -2.0};
  ck_assert_int_eq(latens_ode_solve(ode, 0.0, ynan, 3, times, Y, 3, NULL), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_ode_solve(ode, 0.0, y0, 3, tnan, Y, 3, NULL), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_ode_solve(ode, 0.0, y0, 3, tbad, Y, 3, NULL), LATENS_EDOM);
  ck_assert_int_eq(latens_ode_solve(ode, 0.0, y0, 3, tmix, Y, 3, NULL), LATENS_EDOM);
  ck_assert_int_eq(latens_ode_solve(par, 0.0, y0, 3, times, Y, 3, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_ode_solve_param(ode, &p, 0.0, y0, NULL, 0, 3, times, Y, 3, NULL, 0,
                                          NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_ode_solve_param(par, NULL, 0.0, y0, NULL, 0, 3, times, Y, 1, NULL, 0,
                                          NULL), LATENS_EINVAL);
  const double pnan = NAN, s0nan = NAN;
  ck_assert_int_eq(latens_ode_solve_param(par, &pnan, 0.0, y0, NULL, 0, 3, times, Y, 1, NULL, 0,
                                          NULL), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_ode_solve_param(par, &p, 0.0, y0, NULL, 0, 3, times, Y, 1, S, 0, NULL),
                   LATENS_EINVAL);
  ck_assert_int_eq(latens_ode_solve_param(par, &p, 0.0, y0, &s0nan, 0, 3, times, Y, 1, S, 1,
                                          NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_ode_solve_param(par, &p, 0.0, y0, &s0nan, 1, 3, times, Y, 1, S, 1,
                                          NULL), LATENS_ENOTFINITE);
  /* All times at t0: no integration, y0 and S0 (zero) returned. */
  const double t00[2] = {1.0, 1.0};
  ck_assert_int_eq(latens_ode_solve_param(par, &p, 1.0, y0, NULL, 0, 2, t00, Y, 1, S, 1, NULL),
                   LATENS_OK);
  ck_assert(Y[0] == 1.0 && Y[1] == 1.0 && S[0] == 0.0 && S[1] == 0.0);
  /* The objects still work after all this. */
  ck_assert_int_eq(latens_ode_solve(ode, 0.0, y0, 3, times, Y, 3, NULL), LATENS_OK);
  latens_ode_free(ode), latens_ode_free(par), latens_ode_free(NULL);
  latens_ode_options_default(NULL);
}
END_TEST

Suite *ode_suite(void) {
  Suite *s = suite_create("ode");
  TCase *tc = tcase_create("ode");
  tcase_add_test(tc, decay_matches_closed_form);
  tcase_add_test(tc, oscillator_matches_closed_form_and_keeps_energy);
  tcase_add_test(tc, robertson_matches_published_values);
  tcase_add_test(tc, linear_system_matches_matrix_exponential);
  tcase_add_test(tc, reuse_is_deterministic_and_options_apply);
  tcase_add_test(tc, threads_are_independent);
  tcase_add_test(tc, sensitivity_of_decay_matches_closed_form);
  tcase_add_test(tc, sensitivity_of_logistic_matches_finite_differences);
  tcase_add_test(tc, robertson_sensitivities_match_published_table);
  tcase_add_test(tc, failures_map_to_statuses_silently);
  tcase_add_test(tc, progress_stop_keeps_columns_done);
  tcase_add_test(tc, bad_arguments_are_refused);
  suite_add_tcase(s, tc);
  return s;
}
