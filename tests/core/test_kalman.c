/* tests/core/test_kalman.c: Kalman predict/update, RTS smoothing, conditioning. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <latens/latens.h>
#include "suites.h"

static const double U = DBL_EPSILON / 2;

#define unif test_unif

/* A random linear-Gaussian model x_{t+1} = A x_t + b + w, y_t = H x_t + e, x_0 ~ N(m0, P0)
 * with d states and p observations per step over T steps; column-major arrays, y is p x T.
 * Entries (t, i) with (t + 2i) % 5 == 3 are missing, and so is all of step T/3. */
typedef struct {
  size_t d, p, T;
  double *A, *b, *Q, *H, *R, *m0, *P0, *y;
} model;

static double *spd(size_t n, double scale, double floor_, uint64_t *s) {
  double *X = malloc(n * n * sizeof *X), *S = malloc(n * n * sizeof *S);
  for (size_t k = 0; k < n * n; k++) X[k] = unif(s);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double v = 0.0;
      for (size_t k = 0; k < n; k++) v += X[i + k * n] * X[j + k * n];
      S[i + j * n] = scale * v + (i == j ? floor_ : 0.0);
    }
  free(X);
  return S;
}

static model make_model(size_t d, size_t p, size_t T) {
  uint64_t s = 2024 + 100 * d + p;
  model M = {d, p, T, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
  M.A = malloc(d * d * sizeof(double)), M.b = malloc(d * sizeof(double));
  M.m0 = malloc(d * sizeof(double)), M.H = malloc(p * d * sizeof(double));
  M.y = malloc(p * T * sizeof(double));
  for (size_t j = 0; j < d; j++) /* off-diagonal scale 1/sqrt(d) keeps A's spectrum near 0.6 */
    for (size_t i = 0; i < d; i++) M.A[i + j * d] = (i == j ? 0.6 : 0.0) + 0.4 / sqrt(d) * unif(&s);
  for (size_t i = 0; i < d; i++) M.b[i] = 0.1 * unif(&s), M.m0[i] = unif(&s);
  M.Q = spd(d, 0.1, 0.05, &s), M.P0 = spd(d, 0.5, 0.5, &s), M.R = spd(p, 0.2, 0.1, &s);
  for (size_t k = 0; k < p * d; k++) M.H[k] = unif(&s);
  for (size_t t = 0; t < T; t++)
    for (size_t i = 0; i < p; i++)
      M.y[i + t * p] = (t + 2 * i) % 5 == 3 || t == T / 3 ? NAN : 2.0 * unif(&s);
  return M;
}

static void free_model(model *M) {
  free(M->A), free(M->b), free(M->Q), free(M->H), free(M->R), free(M->m0), free(M->P0);
  free(M->y);
}

/* Dense reference: the joint Gaussian of the stacked states X (T d) and the observed entries
 * of y, built by brute force from the model's moment recursions (Cov(x_s, x_t) = A^{s-t}
 * Var(x_t)); evaluates log p(y) with GSL's dense Cholesky and conditions X on y.  Outputs:
 * loglik, posterior mean (T d), posterior covariance (T d x T d, row-major), and GSL's
 * reciprocal condition number of Cov(y). */
static void dense_reference(const model *M, double *loglik, gsl_vector *post_m, gsl_matrix *post_P,
                            double *rcond) {
  const size_t d = M->d, p = M->p, T = M->T, TD = T * d;
  gsl_vector *mu = gsl_vector_alloc(TD);
  gsl_matrix *Sig = gsl_matrix_alloc(TD, TD);
  gsl_matrix_view A = gsl_matrix_view_array(M->A, d, d); /* row-major view: A^T */
  gsl_matrix *V = gsl_matrix_alloc(d, d), *AV = gsl_matrix_alloc(d, d);
  gsl_vector *m = gsl_vector_alloc(d), *mn = gsl_vector_alloc(d);
  for (size_t i = 0; i < d; i++) {
    gsl_vector_set(m, i, M->m0[i]);
    for (size_t j = 0; j < d; j++) gsl_matrix_set(V, i, j, M->P0[i + j * d]);
  }
  for (size_t t = 0; t < T; t++) {
    gsl_vector_view mut = gsl_vector_subvector(mu, t * d, d);
    gsl_vector_memcpy(&mut.vector, m);
    gsl_matrix_view Stt = gsl_matrix_submatrix(Sig, t * d, t * d, d, d);
    gsl_matrix_memcpy(&Stt.matrix, V);
    for (size_t s = t + 1; s < T; s++) { /* Cov(x_s, x_t) = A Cov(x_{s-1}, x_t) */
      gsl_matrix_view prev = gsl_matrix_submatrix(Sig, (s - 1) * d, t * d, d, d);
      gsl_matrix_view cur = gsl_matrix_submatrix(Sig, s * d, t * d, d, d);
      gsl_matrix_view sym = gsl_matrix_submatrix(Sig, t * d, s * d, d, d);
      gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &A.matrix, &prev.matrix, 0.0, &cur.matrix);
      gsl_matrix_transpose_memcpy(&sym.matrix, &cur.matrix);
    }
    for (size_t i = 0; i < d; i++) gsl_vector_set(mn, i, M->b[i]);
    gsl_blas_dgemv(CblasTrans, 1.0, &A.matrix, m, 1.0, mn);
    gsl_vector_memcpy(m, mn);
    gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &A.matrix, V, 0.0, AV);
    for (size_t i = 0; i < d; i++)
      for (size_t j = 0; j < d; j++) gsl_matrix_set(V, i, j, M->Q[i + j * d]);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, AV, &A.matrix, 1.0, V);
  }
  size_t *ot = malloc(T * p * sizeof *ot), *oi = malloc(T * p * sizeof *oi), no = 0;
  for (size_t t = 0; t < T; t++)
    for (size_t i = 0; i < p; i++)
      if (!isnan(M->y[i + t * p])) ot[no] = t, oi[no] = i, no++;
  gsl_matrix *Hb = gsl_matrix_calloc(no, TD), *SH = gsl_matrix_alloc(TD, no);
  gsl_matrix *K = gsl_matrix_alloc(no, no), *W = gsl_matrix_alloc(no, TD);
  gsl_vector *y = gsl_vector_alloc(no), *my = gsl_vector_alloc(no), *r = gsl_vector_alloc(no);
  for (size_t a = 0; a < no; a++) {
    for (size_t c = 0; c < d; c++) gsl_matrix_set(Hb, a, ot[a] * d + c, M->H[oi[a] + c * p]);
    gsl_vector_set(y, a, M->y[oi[a] + ot[a] * p]);
  }
  gsl_blas_dgemv(CblasNoTrans, 1.0, Hb, mu, 0.0, my);
  gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, Sig, Hb, 0.0, SH); /* Cov(X, y) */
  gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, Hb, SH, 0.0, K);
  for (size_t a = 0; a < no; a++)
    for (size_t c = 0; c < no; c++)
      if (ot[a] == ot[c]) *gsl_matrix_ptr(K, a, c) += M->R[oi[a] + oi[c] * p];
  gsl_linalg_cholesky_decomp1(K);
  gsl_vector *work = gsl_vector_alloc(3 * no);
  gsl_linalg_cholesky_rcond(K, rcond, work);
  gsl_vector_view w = gsl_vector_subvector(work, 0, no);
  gsl_ran_multivariate_gaussian_log_pdf(y, my, K, loglik, &w.vector);
  /* posterior mean mu + SH K^{-1} (y - my); covariance Sig - W^T W with W = L^{-1} SH^T */
  gsl_vector_memcpy(r, y);
  gsl_vector_sub(r, my);
  gsl_linalg_cholesky_svx(K, r);
  gsl_vector_memcpy(post_m, mu);
  gsl_blas_dgemv(CblasNoTrans, 1.0, SH, r, 1.0, post_m);
  gsl_matrix_transpose_memcpy(W, SH);
  gsl_blas_dtrsm(CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, 1.0, K, W);
  gsl_matrix_memcpy(post_P, Sig);
  gsl_blas_dgemm(CblasTrans, CblasNoTrans, -1.0, W, W, 1.0, post_P);
  free(ot), free(oi);
  gsl_vector_free(mu), gsl_vector_free(m), gsl_vector_free(mn), gsl_vector_free(y);
  gsl_vector_free(my), gsl_vector_free(r), gsl_vector_free(work);
  gsl_matrix_free(Sig), gsl_matrix_free(V), gsl_matrix_free(AV), gsl_matrix_free(Hb);
  gsl_matrix_free(SH), gsl_matrix_free(K), gsl_matrix_free(W);
}

/* Runs the filter (update, then predict) and the RTS smoother over M; the smoothed moments
 * overwrite the filtered ones in mf, Pf (d x d blocks), Pc gets Cov(x_{t+1}, x_t | y).
 * Returns the summed log-likelihood increments. */
static double filter_smoother(const model *M, double *mf, double *Pf, double *Pc) {
  const size_t d = M->d, p = M->p, T = M->T, dd = d * d;
  double *mp = malloc(T * d * sizeof *mp), *Pp = malloc(T * dd * sizeof *Pp), ll = 0.0;
  latens_kalman_workspace *w = latens_kalman_workspace_alloc(d, p);
  ck_assert_ptr_nonnull(w);
  latens_mat A = latens_mat_view(M->A, d, d, d), Q = latens_mat_view(M->Q, d, d, d);
  latens_mat H = latens_mat_view(M->H, p, d, p), R = latens_mat_view(M->R, p, p, p);
  latens_vec b = latens_vec_view(M->b, d, 1);
  memcpy(mp, M->m0, d * sizeof *mp), memcpy(Pp, M->P0, dd * sizeof *Pp);
  for (size_t t = 0; t < T; t++) {
    memcpy(mf + t * d, mp + t * d, d * sizeof *mf),
        memcpy(Pf + t * dd, Pp + t * dd, dd * sizeof *Pf);
    latens_vec m = latens_vec_view(mf + t * d, d, 1), y = latens_vec_view(M->y + t * p, p, 1);
    latens_mat Pm = latens_mat_view(Pf + t * dd, d, d, d);
    double inc = NAN;
    ck_assert_int_eq(latens_kalman_update(&y, NULL, &H, &R, NULL, &m, &Pm, &inc, w), LATENS_OK);
    if (t == T / 3) ck_assert_double_eq(inc, 0.0); /* all missing */
    ll += inc;
    if (t + 1 == T) break;
    memcpy(mp + (t + 1) * d, mf + t * d, d * sizeof *mp);
    memcpy(Pp + (t + 1) * dd, Pf + t * dd, dd * sizeof *Pp);
    latens_vec mn = latens_vec_view(mp + (t + 1) * d, d, 1);
    latens_mat Pn = latens_mat_view(Pp + (t + 1) * dd, d, d, d);
    ck_assert_int_eq(latens_kalman_predict(&A, &b, &Q, &mn, &Pn, w), LATENS_OK);
  }
  for (size_t t = T - 1; t-- > 0;) { /* smoothed moments overwrite the filtered ones */
    latens_vec m = latens_vec_view(mf + t * d, d, 1), mpv = latens_vec_view(mp + (t + 1) * d, d, 1);
    latens_vec ms1 = latens_vec_view(mf + (t + 1) * d, d, 1);
    latens_mat Pm = latens_mat_view(Pf + t * dd, d, d, d);
    latens_mat Ppm = latens_mat_view(Pp + (t + 1) * dd, d, d, d);
    latens_mat Ps1 = latens_mat_view(Pf + (t + 1) * dd, d, d, d);
    latens_mat C = latens_mat_view(Pc + t * dd, d, d, d);
    ck_assert_int_eq(latens_kalman_smooth(&A, &m, &Pm, &mpv, &Ppm, &ms1, &Ps1, &m, &Pm, &C, w),
                     LATENS_OK);
  }
  latens_kalman_workspace_free(w);
  free(mp), free(Pp);
  return ll;
}

/* Oracle: the dense joint Gaussian (dense_reference).  The filter's log-likelihood (sum of
 * increments) must equal log N(y_obs; E y, Cov y) to 1e-10 relative, and the RTS smoothed
 * means, covariances and lag-one cross-covariances must equal the dense conditioning of the
 * stacked states.  Both sides are backward-stable computations; their difference is bounded
 * by c n u kappa(Cov y) max(|E X|, |Cov X|) with n the number of observations, which sets
 * the tolerance (kappa from GSL's estimate, c = 16).  Shapes: d = 3, p = 2, T = 25 (the
 * small-matrix loops) and d = 9, p = 8, T = 8 (products and solves past the CBLAS
 * threshold). */
START_TEST(filter_smoother_match_dense_gaussian) {
  const size_t shapes[][3] = {{3, 2, 25}, {9, 8, 8}};
  for (size_t k = 0; k < 2; k++) {
    const size_t d = shapes[k][0], p = shapes[k][1], T = shapes[k][2], TD = T * d;
    model M = make_model(d, p, T);
    double *mf = malloc(TD * sizeof *mf), *Pf = malloc(TD * d * sizeof *Pf);
    double *Pc = malloc(TD * d * sizeof *Pc);
    double ll = filter_smoother(&M, mf, Pf, Pc), ref, rcond;
    gsl_vector *pm = gsl_vector_alloc(TD);
    gsl_matrix *pP = gsl_matrix_alloc(TD, TD);
    dense_reference(&M, &ref, pm, pP, &rcond);
    ck_assert_double_eq_tol(ll, ref, 1e-10 * fabs(ref));
    double scale = 0.0;
    for (size_t i = 0; i < TD; i++) scale = fmax(scale, fabs(gsl_vector_get(pm, i)));
    for (size_t i = 0; i < TD; i++) scale = fmax(scale, gsl_matrix_get(pP, i, i));
    const double tol = 16.0 * (double)(T * p) * U / rcond * scale;
    ck_assert_double_lt(tol, 1e-9); /* the bound must stay meaningful */
    for (size_t t = 0; t < T; t++)
      for (size_t i = 0; i < d; i++) {
        ck_assert_double_eq_tol(mf[t * d + i], gsl_vector_get(pm, t * d + i), tol);
        for (size_t j = 0; j < d; j++) {
          ck_assert_double_eq_tol(Pf[t * d * d + i + j * d],
                                  gsl_matrix_get(pP, t * d + i, t * d + j), tol);
          if (t + 1 < T) /* Cov(x_{t+1}, x_t | y) */
            ck_assert_double_eq_tol(Pc[t * d * d + i + j * d],
                                    gsl_matrix_get(pP, (t + 1) * d + i, t * d + j), tol);
        }
      }
    gsl_vector_free(pm), gsl_matrix_free(pP);
    free(mf), free(Pf), free(Pc);
    free_model(&M);
  }
}
END_TEST

/* Oracle: the scalar local-level model by hand.  m = 1, P = 2, y = 3, r = 0.5: S = 2.5,
 * K = 0.8, m+ = 2.6, P+ = P r / S = 0.4, log-lik = -(log(2 pi 2.5) + 2^2/2.5)/2.  Predict with
 * a = 0.9, b = 0.2, q = 0.1: 2.54, 0.424.  RTS from (ms1, Ps1) = (2, 0.3): G = 0.4 * 0.9 /
 * 0.424, ms = 2.6 + G (2 - 2.54), Ps = 0.4 + G^2 (0.3 - 0.424), cross = 0.3 G.  A few
 * roundings each: 8 u relative. */
START_TEST(local_level_closed_form) {
  latens_kalman_workspace *w = latens_kalman_workspace_alloc(1, 1);
  double mv = 1.0, Pv = 2.0, yv = 3.0, rv = 0.5, av = 0.9, bv = 0.2, qv = 0.1, ll;
  latens_vec m = latens_vec_view(&mv, 1, 1), y = latens_vec_view(&yv, 1, 1),
             r = latens_vec_view(&rv, 1, 1);
  latens_vec bb = latens_vec_view(&bv, 1, 1);
  double one = 1.0;
  latens_mat Pm = latens_mat_view(&Pv, 1, 1, 1), H = latens_mat_view(&one, 1, 1, 1);
  latens_mat Am = latens_mat_view(&av, 1, 1, 1), Qm = latens_mat_view(&qv, 1, 1, 1);
  ck_assert_int_eq(latens_kalman_update(&y, NULL, &H, NULL, &r, &m, &Pm, &ll, w), LATENS_OK);
  ck_assert_double_eq_tol(mv, 2.6, 8 * U * 2.6);
  ck_assert_double_eq_tol(Pv, 0.4, 8 * U * 0.4);
  double llref = -0.5 * (log(2 * M_PI * 2.5) + 4.0 / 2.5);
  ck_assert_double_eq_tol(ll, llref, 8 * U * fabs(llref));
  double mf = mv, Pf = Pv;
  ck_assert_int_eq(latens_kalman_predict(&Am, &bb, &Qm, &m, &Pm, w), LATENS_OK);
  ck_assert_double_eq_tol(mv, 2.54, 8 * U * 2.54);
  ck_assert_double_eq_tol(Pv, 0.424, 8 * U * 0.424);
  double ms1 = 2.0, Ps1 = 0.3, ms, Ps, Pc;
  latens_vec vmf = latens_vec_view(&mf, 1, 1), vms1 = latens_vec_view(&ms1, 1, 1),
             vms = latens_vec_view(&ms, 1, 1);
  latens_mat mPf = latens_mat_view(&Pf, 1, 1, 1), mPs1 = latens_mat_view(&Ps1, 1, 1, 1);
  latens_mat mPs = latens_mat_view(&Ps, 1, 1, 1), mPc = latens_mat_view(&Pc, 1, 1, 1);
  ck_assert_int_eq(
      latens_kalman_smooth(&Am, &vmf, &mPf, &m, &Pm, &vms1, &mPs1, &vms, &mPs, &mPc, w), LATENS_OK);
  double G = 0.4 * 0.9 / 0.424;
  ck_assert_double_eq_tol(ms, 2.6 + G * (2.0 - 2.54), 8 * U * 3.0);
  ck_assert_double_eq_tol(Ps, 0.4 + G * G * (0.3 - 0.424), 8 * U);
  ck_assert_double_eq_tol(Pc, 0.3 * G, 8 * U);
  latens_kalman_workspace_free(w);
}
END_TEST

/* Oracles: identities between the entry points.  A diagonal R given as a matrix or as a
 * vector builds the same numbers (bitwise equal); latens_gauss_condition is the update with
 * yhat = H m (bitwise); an explicit yhat = H m (EKF form) agrees to rounding; the moment form
 * with C = P H^T, S = H P H^T + R is the same Gaussian conditioning written without Joseph's
 * form, so it agrees to ~d u kappa(S) (kappa < 10 here): 1e-14. */
START_TEST(update_variants_agree) {
  enum { D = 3, P = 2 };
  model M = make_model(D, P, 4);
  latens_kalman_workspace *w = latens_kalman_workspace_alloc(D, P);
  double rd[P] = {0.3, 0.7}, Rd[P * P] = {0.3, 0, 0, 0.7};
  double m[4][D], Pv[4][D * D], ll[4];
  double yv[P] = {0.5, -1.0}, yh[P];
  for (size_t i = 0; i < P; i++) {
    yh[i] = 0.0;
    for (size_t c = 0; c < D; c++) yh[i] += M.H[i + c * P] * M.m0[c];
  }
  latens_mat H = latens_mat_view(M.H, P, D, P), R = latens_mat_view(Rd, P, P, P);
  latens_vec r = latens_vec_view(rd, P, 1), y = latens_vec_view(yv, P, 1),
             yhat = latens_vec_view(yh, P, 1);
  latens_vec mv[4];
  latens_mat Pm[4];
  for (int k = 0; k < 4; k++) {
    memcpy(m[k], M.m0, sizeof m[k]), memcpy(Pv[k], M.P0, sizeof Pv[k]);
    mv[k] = latens_vec_view(m[k], D, 1), Pm[k] = latens_mat_view(Pv[k], D, D, D);
  }
  ck_assert_int_eq(latens_kalman_update(&y, NULL, &H, &R, NULL, &mv[0], &Pm[0], &ll[0], w),
                   LATENS_OK);
  ck_assert_int_eq(latens_kalman_update(&y, NULL, &H, NULL, &r, &mv[1], &Pm[1], &ll[1], w),
                   LATENS_OK);
  ck_assert_int_eq(latens_gauss_condition(&y, &H, NULL, &r, &mv[2], &Pm[2], &ll[2], w), LATENS_OK);
  ck_assert_int_eq(latens_kalman_update(&y, &yhat, &H, NULL, &r, &mv[3], &Pm[3], &ll[3], w),
                   LATENS_OK);
  ck_assert_int_eq(memcmp(m[0], m[1], sizeof m[0]), 0);
  ck_assert_int_eq(memcmp(Pv[0], Pv[1], sizeof Pv[0]), 0);
  ck_assert_int_eq(memcmp(m[1], m[2], sizeof m[0]), 0);
  ck_assert_int_eq(memcmp(Pv[1], Pv[2], sizeof Pv[0]), 0);
  ck_assert_double_eq(ll[0], ll[1]);
  ck_assert_double_eq(ll[1], ll[2]);
  for (size_t i = 0; i < D; i++) ck_assert_double_eq_tol(m[3][i], m[1][i], 1e-14);
  ck_assert_double_eq_tol(ll[3], ll[1], 1e-14);

  /* moment form */
  double C[D * P], S[P * P], mm_[D], PP[D * D], llm;
  for (size_t i = 0; i < D; i++)
    for (size_t j = 0; j < P; j++) {
      C[i + j * D] = 0.0;
      for (size_t k = 0; k < D; k++) C[i + j * D] += M.P0[i + k * D] * M.H[j + k * P];
    }
  for (size_t i = 0; i < P; i++)
    for (size_t j = 0; j < P; j++) {
      S[i + j * P] = Rd[i + j * P];
      for (size_t k = 0; k < D; k++) S[i + j * P] += M.H[i + k * P] * C[k + j * D];
    }
  memcpy(mm_, M.m0, sizeof mm_), memcpy(PP, M.P0, sizeof PP);
  latens_vec vm = latens_vec_view(mm_, D, 1);
  latens_mat mP = latens_mat_view(PP, D, D, D), mC = latens_mat_view(C, D, P, D),
             mS = latens_mat_view(S, P, P, P);
  ck_assert_int_eq(latens_kalman_update_moments(&y, &yhat, &mC, &mS, &vm, &mP, &llm, w), LATENS_OK);
  for (size_t i = 0; i < D; i++) ck_assert_double_eq_tol(mm_[i], m[0][i], 1e-14);
  for (size_t i = 0; i < D * D; i++) ck_assert_double_eq_tol(PP[i], Pv[0][i], 1e-14);
  ck_assert_double_eq_tol(llm, ll[0], 1e-14);
  latens_kalman_workspace_free(w);
  free_model(&M);
}
END_TEST

/* Oracle: exact arithmetic.  Two identical observations of x_0 with R = 0 and P = I make
 * S = ones(2), singular: the ladder adds 1e-10 (1e-10 x mean diag 1) and the update goes on;
 * x_1 is not observed, so its variance stays 1, and x_0 is pinned near y.  With P = 0 and
 * R = 0, S = 0 has a zero diagonal: no jitter can help, LATENS_ENOTPOSDEF, state unchanged. */
START_TEST(singular_innovation_uses_jitter) {
  latens_kalman_workspace *w = latens_kalman_workspace_alloc(2, 2);
  double H[4] = {1, 1, 0, 0}, r0[2] = {0, 0}, yv[2] = {2, 2}, mv[2] = {0, 0}, Pv[4] = {1, 0, 0, 1},
         ll;
  latens_mat Hm = latens_mat_view(H, 2, 2, 2), Pm = latens_mat_view(Pv, 2, 2, 2);
  latens_vec r = latens_vec_view(r0, 2, 1), y = latens_vec_view(yv, 2, 1),
             m = latens_vec_view(mv, 2, 1);
  ck_assert_int_eq(latens_kalman_update(&y, NULL, &Hm, NULL, &r, &m, &Pm, &ll, w), LATENS_OK);
  ck_assert_double_eq(latens_kalman_workspace_jitter(w), 1e-10);
  ck_assert_double_eq_tol(mv[0], 2.0, 1e-9);
  ck_assert_double_eq(mv[1], 0.0);
  ck_assert_double_ge(Pv[0], 0.0);
  ck_assert_double_le(Pv[0], 1e-9);
  ck_assert_double_eq(Pv[3], 1.0);
  ck_assert_double_eq(Pv[1], Pv[2]);
  double Z[4] = {0};
  latens_mat Zm = latens_mat_view(Z, 2, 2, 2);
  mv[0] = 5.0;
  ck_assert_int_eq(latens_kalman_update(&y, NULL, &Hm, NULL, &r, &m, &Zm, &ll, w),
                   LATENS_ENOTPOSDEF);
  ck_assert_double_eq(mv[0], 5.0);
  const char *msg;
  ck_assert_int_eq(latens_last_error(&msg), LATENS_ENOTPOSDEF);
  ck_assert_ptr_nonnull(strstr(msg, "innovation covariance S"));
  ck_assert_int_eq(latens_kalman_workspace_set_jitter(w, 1e-8, 2), LATENS_OK);
  ck_assert_int_eq(latens_kalman_workspace_set_jitter(w, -1.0, 2), LATENS_EDOM);
  ck_assert_int_eq(latens_kalman_workspace_set_jitter(w, NAN, 2), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_kalman_workspace_set_jitter(w, NAN, 0), LATENS_OK); /* ladder off */
  latens_kalman_workspace_free(w);
}
END_TEST

/* Oracle: the contract.  Non-finite numbers that reach the update only through observed
 * entries (yhat, the rows of H, R; the columns of C and the block of S in the moment form)
 * give LATENS_ENOTFINITE before m or P is touched (compared bitwise with copies), and every
 * failed step sets *loglik to NaN.  The same numbers at a missing entry are never read. */
typedef struct {
  double m[2], P[4], H[4], R[4], C[4], S[4], y[2], yhat[2];
} kf_case;

static kf_case kf_base(void) {
  kf_case c = {{0.5, -1.0}, {2.0, 0.3, 0.3, 1.0}, {1.0, 0.2, 0.0, 1.0}, {0.5, 0.0, 0.0, 0.5},
               {2.0, 0.3, 0.5, 1.0}, {2.5, 0.5, 0.5, 1.5}, {1.0, 0.0},   {0.5, -1.0}};
  return c;
}

/* Runs one update (moments or linear) and checks the status and that m, P are unchanged. */
static void kf_expect(kf_case *c, int moments, int status, latens_kalman_workspace *w) {
  const kf_case before = *c;
  latens_vec m = latens_vec_view(c->m, 2, 1), y = latens_vec_view(c->y, 2, 1),
             yh = latens_vec_view(c->yhat, 2, 1);
  latens_mat P = latens_mat_view(c->P, 2, 2, 2), H = latens_mat_view(c->H, 2, 2, 2),
             R = latens_mat_view(c->R, 2, 2, 2), C = latens_mat_view(c->C, 2, 2, 2),
             S = latens_mat_view(c->S, 2, 2, 2);
  double ll = 7.0;
  int got = moments ? latens_kalman_update_moments(&y, &yh, &C, &S, &m, &P, &ll, w)
                    : latens_kalman_update(&y, &yh, &H, &R, NULL, &m, &P, &ll, w);
  ck_assert_int_eq(got, status);
  if (status == LATENS_OK) return;
  ck_assert(isnan(ll));
  ck_assert_int_eq(memcmp(c->m, before.m, sizeof c->m), 0);
  ck_assert_int_eq(memcmp(c->P, before.P, sizeof c->P), 0);
}

START_TEST(nonfinite_observed_inputs_rejected) {
  latens_kalman_workspace *w = latens_kalman_workspace_alloc(2, 2);
  const double bad[] = {NAN, INFINITY, -INFINITY};
  for (int moments = 0; moments < 2; moments++)
    for (int b = 0; b < 3; b++) {
      kf_case c = kf_base();
      c.yhat[1] = bad[b]; /* observed entry */
      kf_expect(&c, moments, LATENS_ENOTFINITE, w);
      c = kf_base(), c.y[1] = NAN, c.yhat[1] = bad[b]; /* missing entry: never read */
      kf_expect(&c, moments, LATENS_OK, w);
      if (moments) {
        c = kf_base(), c.C[3] = bad[b]; /* C(1, 1): column of the observed y[1] */
        kf_expect(&c, 1, LATENS_ENOTFINITE, w);
        c = kf_base(), c.S[2] = bad[b]; /* S(0, 1): upper triangle, never factored */
        kf_expect(&c, 1, LATENS_ENOTFINITE, w);
        c = kf_base(), c.y[1] = NAN, c.C[3] = bad[b], c.S[2] = bad[b], c.S[3] = bad[b];
        kf_expect(&c, 1, LATENS_OK, w);
      } else {
        c = kf_base(), c.H[1] = bad[b]; /* H(1, 0) */
        kf_expect(&c, 0, LATENS_ENOTFINITE, w);
        c = kf_base(), c.R[2] = bad[b]; /* R(0, 1) */
        kf_expect(&c, 0, LATENS_ENOTFINITE, w);
        c = kf_base(), c.y[1] = NAN, c.H[1] = bad[b], c.R[2] = bad[b], c.R[3] = bad[b];
        kf_expect(&c, 0, LATENS_OK, w);
      }
    }
  /* An innovation that overflows although every input is finite. */
  kf_case c = kf_base();
  c.y[0] = DBL_MAX, c.yhat[0] = -DBL_MAX;
  kf_expect(&c, 0, LATENS_ENOTFINITE, w);
  kf_expect(&c, 1, LATENS_ENOTFINITE, w);
  /* Other failures also leave NaN: dimensions, a NULL workspace, a singular S. */
  c = kf_base();
  kf_expect(&c, 0, LATENS_EINVAL, NULL);
  memset(c.S, 0, sizeof c.S);
  kf_expect(&c, 1, LATENS_ENOTPOSDEF, w);
  latens_kalman_workspace *w1 = latens_kalman_workspace_alloc(2, 1);
  c = kf_base();
  kf_expect(&c, 0, LATENS_EBADLEN, w1);
  latens_kalman_workspace_free(w1);
  latens_kalman_workspace_free(w);
}
END_TEST

START_TEST(bad_input_gives_status) {
  ck_assert_ptr_null(latens_kalman_workspace_alloc(0, 1));
  latens_kalman_workspace_free(NULL);
  latens_clear_error();
  ck_assert(isnan(latens_kalman_workspace_jitter(NULL)));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EINVAL); /* reported, not only NaN */
  latens_kalman_workspace *w = latens_kalman_workspace_alloc(2, 1);
  double I2[4] = {1, 0, 0, 1}, Pv[4] = {1, 0, 0, 1}, mv[2] = {0, 0}, H[2] = {1, 0}, rv = 1.0;
  double y3[3] = {1, 1, 1}, yv = 1.0, ll = 7.0;
  latens_mat A = latens_mat_view(I2, 2, 2, 2), Pm = latens_mat_view(Pv, 2, 2, 2);
  latens_mat Hm = latens_mat_view(H, 1, 2, 1), Hbad = latens_mat_view(H, 2, 1, 2);
  latens_mat A1 = latens_mat_view(I2, 1, 1, 1);
  latens_vec m = latens_vec_view(mv, 2, 1), r = latens_vec_view(&rv, 1, 1);
  latens_vec y = latens_vec_view(&yv, 1, 1), ylong = latens_vec_view(y3, 3, 1);
  ck_assert_int_eq(latens_kalman_update(&y, NULL, &Hm, NULL, &r, &m, &Pm, &ll, NULL),
                   LATENS_EINVAL);
  ck_assert_int_eq(latens_kalman_update(&ylong, NULL, &Hm, NULL, &r, &m, &Pm, &ll, w),
                   LATENS_EBADLEN);
  ck_assert_int_eq(latens_kalman_update(&y, NULL, &Hbad, NULL, &r, &m, &Pm, &ll, w),
                   LATENS_EBADLEN);
  ck_assert_int_eq(latens_kalman_update(&y, NULL, &Hm, NULL, NULL, &m, &Pm, &ll, w), LATENS_EINVAL);
  ck_assert_int_eq(latens_kalman_update(&y, NULL, &Hm, &A1, &r, &m, &Pm, &ll, w), LATENS_EINVAL);
  ck_assert_int_eq(latens_kalman_update(NULL, NULL, &Hm, NULL, &r, &m, &Pm, &ll, w), LATENS_EINVAL);
  yv = INFINITY;
  ck_assert_int_eq(latens_kalman_update(&y, NULL, &Hm, NULL, &r, &m, &Pm, &ll, w),
                   LATENS_ENOTFINITE);
  yv = NAN; /* all missing: nothing changes, log-lik 0 */
  ck_assert_int_eq(latens_kalman_update(&y, NULL, &Hm, NULL, &r, &m, &Pm, &ll, w), LATENS_OK);
  ck_assert_double_eq(ll, 0.0);
  ck_assert_double_eq(Pv[0], 1.0);
  yv = 1.0;
  mv[1] = NAN;
  ck_assert_int_eq(latens_kalman_update(&y, NULL, &Hm, NULL, &r, &m, &Pm, &ll, w),
                   LATENS_ENOTFINITE);
  mv[1] = 0.0, Pv[1] = NAN;
  ck_assert_int_eq(latens_kalman_update(&y, NULL, &Hm, NULL, &r, &m, &Pm, &ll, w),
                   LATENS_ENOTFINITE);
  Pv[1] = 0.0;
  ck_assert_int_eq(latens_kalman_update_moments(&y, NULL, &Hbad, &A1, &m, &Pm, &ll, w),
                   LATENS_EINVAL);
  ck_assert_int_eq(latens_kalman_predict(&A1, NULL, NULL, &m, &Pm, w), LATENS_EBADLEN);
  ck_assert_int_eq(latens_kalman_predict(&A, NULL, NULL, &m, &Pm, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_kalman_predict(&A, NULL, NULL, &y, &Pm, w), LATENS_EBADLEN);
  ck_assert_int_eq(latens_kalman_predict(&A, NULL, NULL, &m, &Pm, w),
                   LATENS_OK); /* Q, b optional */
  double Z[4] = {0}, out[4];
  latens_mat Zm = latens_mat_view(Z, 2, 2, 2), Om = latens_mat_view(out, 2, 2, 2);
  ck_assert_int_eq(latens_kalman_smooth(&A, &m, &Pm, &m, &Zm, &m, &Pm, &m, &Om, NULL, w),
                   LATENS_ENOTPOSDEF); /* P_p = 0 */
  ck_assert_int_eq(latens_kalman_smooth(&A, &m, &Pm, &m, &Pm, &m, &Pm, &m, &Om, &A1, w),
                   LATENS_EBADLEN);
  ck_assert_int_eq(latens_kalman_smooth(&A, &m, &Pm, &m, &Pm, &y, &Pm, &m, &Om, NULL, w),
                   LATENS_EBADLEN);
  latens_kalman_workspace_free(w);
}
END_TEST

Suite *kalman_suite(void) {
  Suite *s = suite_create("kalman");
  TCase *tc = tcase_create("kalman");
  tcase_add_test(tc, filter_smoother_match_dense_gaussian);
  tcase_add_test(tc, local_level_closed_form);
  tcase_add_test(tc, update_variants_agree);
  tcase_add_test(tc, singular_innovation_uses_jitter);
  tcase_add_test(tc, nonfinite_observed_inputs_rejected);
  tcase_add_test(tc, bad_input_gives_status);
  suite_add_tcase(s, tc);
  return s;
}
