/* tests/gp/test_cvi.c: CVI for Gaussian, Poisson and Bernoulli likelihoods, and the
 * bidirectional information filter, against dense references. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cvi_suites.h"

static const double LOG_2PI = 1.8378770664093454836;

static latens_gp_kernel *kern1(latens_gp_kind kind, double var, double ell, double om) {
  latens_gp_term t = {kind, var, ell, om};
  return latens_gp_kernel_alloc(&t, 1);
}

/* Irregular times: gaps in (0.05, 0.35), a duplicate at index 10 and a gap of `gap` at n/2. */
static void irregular_times(double *t, size_t n, double gap, uint64_t seed) {
  uint64_t s = seed;
  t[0] = 0;
  for (size_t i = 1; i < n; i++) t[i] = t[i - 1] + 0.2 + 0.15 * test_unif(&s);
  if (n > 11) t[10] = t[9];
  for (size_t i = n / 2; i < n; i++) t[i] += gap;
}

/* ------------------------------------------------------------ Gaussian: exact in one step */

static void gaussian_exact(int smoother) {
  enum { T = 80 };
  const double r = 0.2;
  double t[T], f[T], y[T], mean[T], var[T];
  irregular_times(t, T, 20.0, 7);
  latens_gp_kernel *k = kern1(LATENS_GP_MATERN32, 1.3, 0.7, 0);
  ck_assert_ptr_nonnull(k);
  double *K = cvi_dense_cov(k, t, T);
  latens_rng rng;
  latens_rng_init(&rng, 11, 0);
  cvi_draw(K, T, &rng, f);
  for (size_t i = 0; i < T; i++) y[i] = f[i] + sqrt(r) * latens_rng_normal(&rng);
  y[5] = y[33] = NAN;
  /* Oracle: dense GP regression, posterior and log marginal likelihood by Cholesky. */
  size_t o[T], no = 0;
  for (size_t i = 0; i < T; i++)
    if (!isnan(y[i])) o[no++] = i;
  double *L = malloc(no * no * sizeof *L), *B = malloc(no * T * sizeof *B), a[T];
  for (size_t j = 0; j < no; j++)
    for (size_t i = 0; i < no; i++) L[i + j * no] = K[o[i] + o[j] * T] + (i == j ? r : 0);
  latens_mat Lm = latens_mat_view(L, no, no, no);
  ck_assert_int_eq(latens_chol_decomp(&Lm, NULL, NULL), LATENS_OK);
  for (size_t i = 0; i < no; i++) a[i] = y[o[i]];
  latens_vec av = latens_vec_view(a, no, 1);
  latens_chol_trsv(&Lm, 'N', &av);
  double ll = -0.5 * (double)no * LOG_2PI - 0.5 * latens_chol_logdet(&Lm);
  for (size_t i = 0; i < no; i++) ll -= 0.5 * a[i] * a[i];
  latens_chol_trsv(&Lm, 'T', &av); /* a = (K_oo + r I)^{-1} y_o */
  for (size_t j = 0; j < T; j++)
    for (size_t i = 0; i < no; i++) B[i + j * no] = K[o[i] + j * T];
  latens_mat Bm = latens_mat_view(B, no, T, no);
  latens_chol_trsm(&Lm, 'N', &Bm); /* L^{-1} K_oa */
  latens_gp_ssm *s = cvi_prior(k, t, T);
  latens_gp_cvi *w = latens_gp_cvi_alloc(s);
  ck_assert_ptr_nonnull(w);
  double one = 1.0;
  latens_gp_cvi_readout ro = {LATENS_GP_CVI_GAUSSIAN, 1, &one, 1, NULL, &r};
  latens_gp_cvi_options opt;
  latens_gp_cvi_options_default(&opt);
  opt.damping = 1.0, opt.max_iter = 1, opt.smoother = smoother;
  int st = latens_gp_cvi_run(w, &ro, y, T, &opt, NULL);
  ck_assert(st == LATENS_OK || st == LATENS_EMAXITER);
  ck_assert_int_eq(latens_gp_cvi_iterations(w), 1);
  latens_gp_cvi_latents(w, mean, T, var, T);
  double worst = 0;
  for (size_t j = 0; j < T; j++) {
    double mj = 0, vj = K[j + j * T];
    for (size_t i = 0; i < no; i++) mj += K[j + o[i] * T] * a[i], vj -= B[i + j * no] * B[i + j * no];
    worst = fmax(worst, fabs(mean[j] - mj) / (1 + fabs(mj)));
    worst = fmax(worst, fabs(var[j] - vj) / vj);
  }
  /* cond(K_oo + rI) <= 1 + 80 * 1.3 / 0.2 ~ 500: both routes are accurate to ~1e-13; 1e-9
   * leaves room for the recursions' error growth over 80 steps. */
  ck_assert_msg(worst < 1e-9, "posterior differs from the dense GP by %g", worst);
  double elbo = latens_gp_cvi_elbo(w);
  ck_assert_msg(fabs(elbo - ll) < 1e-9 * fabs(ll), "ELBO %.15g, exact log marginal %.15g", elbo, ll);
  /* a further step leaves the exact posterior where it is: converged */
  opt.max_iter = 10;
  ck_assert_int_eq(latens_gp_cvi_run(w, &ro, y, T, &opt, NULL), LATENS_OK);
  ck_assert(latens_gp_cvi_converged(w));
  latens_gp_cvi_free(w), latens_gp_ssm_free(s), latens_gp_kernel_free(k);
  free(K), free(L), free(B);
}

START_TEST(test_gaussian_exact_rts) { gaussian_exact(LATENS_GP_CVI_RTS); }
END_TEST
START_TEST(test_gaussian_exact_info) { gaussian_exact(LATENS_GP_CVI_INFO); }
END_TEST

START_TEST(test_predict_gaussian) {
  /* Oracle: dense GP prediction, mean K_qo (K_oo + rI)^{-1} y and variance
   * k(0) - K_qo (K_oo + rI)^{-1} K_oq, at queries in any order: before, inside, on an
   * observed time, after the data. */
  enum { T = 40, Q = 6 };
  const double r = 0.3;
  double t[T], y[T], tq[Q] = {-2.0, 3.3, 0, 50.0, 1.234, 7.9}, m[Q], v[Q], rate[Q];
  irregular_times(t, T, 0, 9);
  tq[2] = t[7];
  for (size_t i = 0; i < T; i++) y[i] = sin(t[i]) + 0.1 * cos(7 * t[i]);
  y[12] = NAN;
  latens_gp_kernel *k = kern1(LATENS_GP_MATERN52, 0.8, 1.1, 0);
  latens_gp_cvi_result res;
  ck_assert_int_eq(latens_gp_cvi_predict(k, LATENS_GP_CVI_GAUSSIAN, t, y, T, 0.0, r, NULL, tq, Q,
                                         m, v, rate, &res), LATENS_OK);
  size_t o[T], no = 0;
  for (size_t i = 0; i < T; i++)
    if (!isnan(y[i]) && !(i == 10)) o[no++] = i; /* t[10] duplicates t[9]: both observed */
  o[no++] = 10;
  double S[T * T], kq[T], a[T];
  for (size_t j = 0; j < no; j++)
    for (size_t i = 0; i < no; i++) {
      latens_gp_kernel_eval(k, t[o[i]] - t[o[j]], &S[i + j * no]);
      if (i == j) S[i + j * no] += r;
    }
  latens_mat Sm = latens_mat_view(S, no, no, no);
  ck_assert_int_eq(latens_chol_decomp(&Sm, NULL, NULL), LATENS_OK);
  for (size_t i = 0; i < no; i++) a[i] = y[o[i]];
  latens_vec av = latens_vec_view(a, no, 1);
  latens_chol_solve_vec(&Sm, &av);
  double worst = 0, k0;
  latens_gp_kernel_eval(k, 0, &k0);
  for (size_t q = 0; q < Q; q++) {
    double mq = 0;
    for (size_t i = 0; i < no; i++) latens_gp_kernel_eval(k, tq[q] - t[o[i]], &kq[i]), mq += kq[i] * a[i];
    latens_vec kv = latens_vec_view(kq, no, 1);
    latens_chol_trsv(&Sm, 'N', &kv);
    double vq = k0;
    for (size_t i = 0; i < no; i++) vq -= kq[i] * kq[i];
    worst = fmax(worst, fmax(fabs(m[q] - mq) / (1 + fabs(mq)), fabs(v[q] - vq) / vq));
    worst = fmax(worst, fabs(rate[q] - m[q]));
  }
  ck_assert_msg(worst < 1e-9, "prediction vs dense GP: %g", worst); /* as test_gaussian_exact */
  double tu[3] = {0, 2, 1}, yu[3] = {1, 2, 3};
  ck_assert_int_eq(latens_gp_cvi_predict(k, LATENS_GP_CVI_POISSON, tu, yu, 3, 0, 1, NULL, tq, 1, m,
                                         NULL, NULL, NULL), LATENS_EDOM);
  latens_gp_kernel_free(k);
}
END_TEST

/* ------------------------------------------------------------ dense Gaussian VI by brute force */

/* The optimal Gaussian q for a factorised likelihood has covariance
 * S = (K^{-1} + diag(lam))^{-1} (Opper & Archambeau 2009); the dense reference maximises the
 * ELBO over (m, log lam) with L-BFGS and central-difference gradients: no CVI, no
 * state space, its own 120-node Gauss-Hermite rule. */
typedef struct {
  size_t T;
  const double *K, *y;
  double off;
  int lik;
  double *Kinv, *Bm, *z, *w;
  double logdetK;
  size_t nq;
} dense_vi;

static double dense_elbo(dense_vi *p, const double *x, double *S_diag) {
  const size_t T = p->T;
  const double *m = x, *loglam = x + T;
  for (size_t j = 0; j < T; j++)
    for (size_t i = 0; i < T; i++) p->Bm[i + j * T] = p->Kinv[i + j * T] + (i == j ? exp(loglam[i]) : 0);
  latens_mat B = latens_mat_view(p->Bm, T, T, T);
  if (latens_chol_decomp(&B, NULL, NULL)) return NAN;
  double logdetS = -latens_chol_logdet(&B);
  latens_chol_invert(&B, &B); /* S */
  double kl = -(double)T + p->logdetK - logdetS;
  for (size_t i = 0; i < T; i++)
    for (size_t j = 0; j < T; j++) kl += p->Kinv[i + j * T] * (p->Bm[j + i * T] + m[i] * m[j]);
  kl *= 0.5;
  double E = 0;
  for (size_t i = 0; i < T; i++) {
    double y = p->y[i], mu = m[i] + p->off, s2 = p->Bm[i + i * T];
    if (S_diag) S_diag[i] = s2;
    if (isnan(y)) continue;
    if (p->lik == LATENS_GP_CVI_POISSON) E += y * mu - exp(mu + 0.5 * s2) - lgamma(y + 1);
    else
      for (size_t q = 0; q < p->nq; q++) {
        double f = mu + sqrt(s2) * p->z[q];
        E += p->w[q] * (y * f - (f > 0 ? f + log1p(exp(-f)) : log1p(exp(f))));
      }
  }
  return E - kl;
}

/* Expectations of one observation under N(mu, s2) with the reference's own quadrature:
 * alpha = dE/dmu, beta = -2 dE/ds2. */
static void dense_coef(const dense_vi *p, double y, double mu, double s2, double *al, double *be) {
  if (p->lik == LATENS_GP_CVI_POISSON) {
    double lam = exp(mu + 0.5 * s2);
    *al = y - lam, *be = lam;
    return;
  }
  double a = 0, b = 0;
  for (size_t q = 0; q < p->nq; q++) {
    double sg = 1 / (1 + exp(-(mu + sqrt(s2) * p->z[q])));
    a += p->w[q] * sg, b += p->w[q] * sg * (1 - sg);
  }
  *al = y - a, *be = b;
}

/* Polish the optimum with the dense stationarity conditions: Newton on m for the current S,
 * then lam = beta(m, S), to a fixed point (the L-BFGS start puts it in the basin). */
static void dense_polish(dense_vi *p, double *x) {
  const size_t T = p->T;
  double *Sd = malloc(T * sizeof *Sd), *g = malloc(T * sizeof *g), *be = malloc(T * sizeof *be);
  double *Hm = malloc(T * T * sizeof *Hm);
  for (int it = 0; it < 500; it++) {
    dense_elbo(p, x, Sd);
    double change = 0;
    for (size_t i = 0; i < T; i++) {
      double al;
      if (isnan(p->y[i])) al = 0, be[i] = 0;
      else dense_coef(p, p->y[i], x[i] + p->off, Sd[i], &al, &be[i]);
      g[i] = al;
      for (size_t j = 0; j < T; j++) g[i] -= p->Kinv[i + j * T] * x[j];
    }
    for (size_t j = 0; j < T; j++)
      for (size_t i = 0; i < T; i++) Hm[i + j * T] = p->Kinv[i + j * T] + (i == j ? be[i] : 0);
    latens_mat Hmm = latens_mat_view(Hm, T, T, T);
    latens_vec gv = latens_vec_view(g, T, 1);
    latens_chol_decomp(&Hmm, NULL, NULL);
    latens_chol_solve_vec(&Hmm, &gv);
    for (size_t i = 0; i < T; i++) {
      x[i] += g[i];
      double ll = be[i] > 0 ? log(be[i]) : -40;
      change = fmax(change, fmax(fabs(g[i]), fabs(ll - x[T + i])));
      x[T + i] = ll;
    }
    if (change < 1e-14) break;
  }
  free(Sd), free(g), free(be), free(Hm);
}

static int dense_fdf(const double *x, size_t n, void *user, double *f, double *grad) {
  dense_vi *p = user;
  double *xx = malloc(n * sizeof *xx);
  memcpy(xx, x, n * sizeof *xx);
  *f = -dense_elbo(p, x, NULL);
  for (size_t i = 0; grad && i < n; i++) {
    const double h = 1e-5;
    xx[i] = x[i] + h;
    double fp = -dense_elbo(p, xx, NULL);
    xx[i] = x[i] - h;
    double fm = -dense_elbo(p, xx, NULL);
    xx[i] = x[i];
    grad[i] = (fp - fm) / (2 * h);
  }
  free(xx);
  return isfinite(*f) ? LATENS_OK : LATENS_ENOTFINITE;
}

static void vi_vs_dense(int lik, int smoother) {
  enum { T = 12 };
  double t[T], f[T], y[T], mean[T], var[T], x[2 * T], Sd[T];
  for (size_t i = 0; i < T; i++) t[i] = 0.3 * (double)i + 0.12 * sin(3.0 * (double)i); /* irregular */
  latens_gp_kernel *k = kern1(LATENS_GP_MATERN32, 1.0, 1.0, 0);
  double *K = cvi_dense_cov(k, t, T);
  latens_rng rng;
  latens_rng_init(&rng, 5 + (uint64_t)lik, 1);
  cvi_draw(K, T, &rng, f);
  const double off = lik == LATENS_GP_CVI_POISSON ? 0.7 : -0.2;
  for (size_t i = 0; i < T; i++) {
    if (lik == LATENS_GP_CVI_POISSON) {
      uint64_t c;
      latens_rng_poisson(&rng, exp(f[i] + off), &c);
      y[i] = (double)c;
    } else y[i] = latens_rng_uniform(&rng) < 1 / (1 + exp(-f[i] - off));
  }
  y[4] = NAN;
  dense_vi p = {T, K, y, off, lik, malloc(T * T * sizeof(double)), malloc(T * T * sizeof(double)),
                malloc(120 * sizeof(double)), malloc(120 * sizeof(double)), 0, 120};
  memcpy(p.Kinv, K, T * T * sizeof(double));
  latens_mat Km = latens_mat_view(p.Kinv, T, T, T);
  ck_assert_int_eq(latens_chol_decomp(&Km, NULL, NULL), LATENS_OK);
  p.logdetK = latens_chol_logdet(&Km);
  latens_chol_invert(&Km, &Km);
  latens_quad_rule(LATENS_QUAD_GAUSS_HERMITE, p.nq, 0, 1, p.z, p.w);
  for (size_t q = 0; q < p.nq; q++) p.w[q] = exp(p.w[q]);
  for (size_t i = 0; i < T; i++) x[i] = 0, x[T + i] = 0;
  latens_optim_options oo;
  latens_optim_options_default(&oo);
  oo.gtol = 1e-7, oo.max_iter = 400; /* only a start for the polish below */
  latens_optim_result res = {.x = x};
  int ost = latens_optim_minimize(dense_fdf, x, 2 * T, &p, NULL, NULL, &oo, &res);
  ck_assert_msg(ost == LATENS_OK || ost == LATENS_ENOPROG || ost == LATENS_EMAXITER,
                "dense VI: status %d", ost);
  double elbo_lbfgs = dense_elbo(&p, x, NULL);
  dense_polish(&p, x);
  double ref_elbo = dense_elbo(&p, x, Sd);
  /* the polish must land on the optimum L-BFGS found, not elsewhere */
  ck_assert_msg(ref_elbo >= elbo_lbfgs - 1e-9 && ref_elbo - elbo_lbfgs < 1e-3,
                "dense polish moved the ELBO from %.12g to %.12g", elbo_lbfgs, ref_elbo);

  latens_gp_ssm *s = cvi_prior(k, t, T);
  latens_gp_cvi *w = latens_gp_cvi_alloc(s);
  double one = 1.0;
  latens_gp_cvi_readout ro = {lik, 1, &one, 1, &off, NULL};
  latens_gp_cvi_options opt;
  latens_gp_cvi_options_default(&opt);
  opt.tol = 1e-13, opt.max_iter = 2000, opt.smoother = smoother;
  ck_assert_int_eq(latens_gp_cvi_run(w, &ro, y, T, &opt, NULL), LATENS_OK);
  latens_gp_cvi_latents(w, mean, T, var, T);
  double worst = 0;
  for (size_t i = 0; i < T; i++) {
    worst = fmax(worst, fabs(mean[i] - x[i]));
    worst = fmax(worst, fabs(var[i] - Sd[i]));
  }
  /* The dense fixed point is iterated to steps below 1e-14 and CVI to 1e-13; with O(1)
   * curvature both sit within ~1e-12 of the optimum: 1e-9 leaves a margin for rounding in
   * the 12 x 12 inversions (cond(K) ~ 1e3 at this spacing). */
  ck_assert_msg(worst < 1e-9, "%s CVI vs dense VI: moments differ by %g",
                latens_gp_cvi_lik_name(lik), worst);
  ck_assert_msg(fabs(latens_gp_cvi_elbo(w) - ref_elbo) < 1e-9 * fmax(1, fabs(ref_elbo)),
                "ELBO %.15g vs dense %.15g", latens_gp_cvi_elbo(w), ref_elbo);
  /* the one-call entry point gives the same posterior, and rates from it */
  double m2[T], v2[T], rate[T];
  latens_gp_cvi_result sres;
  int st = latens_gp_cvi_series(k, lik, t, y, T, off, 1.0, &opt, m2, v2, rate, &sres);
  ck_assert_int_eq(st, LATENS_OK);
  double w2 = 0;
  for (size_t i = 0; i < T; i++) {
    double ex = lik == LATENS_GP_CVI_POISSON ? exp(m2[i] + off + 0.5 * v2[i]) : rate[i];
    w2 = fmax(w2, fmax(fabs(m2[i] - x[i]), fabs(v2[i] - Sd[i])));
    w2 = fmax(w2, fabs(rate[i] - ex) / ex);
    w2 = fmax(w2, lik == LATENS_GP_CVI_BERNOULLI && !(rate[i] > 0 && rate[i] < 1));
  }
  ck_assert_msg(w2 < 1e-9, "latens_gp_cvi_series: %g", w2);
  ck_assert(fabs(sres.elbo - ref_elbo) < 1e-9 * fmax(1, fabs(ref_elbo)));
  latens_gp_cvi_free(w), latens_gp_ssm_free(s), latens_gp_kernel_free(k);
  free(K), free(p.Kinv), free(p.Bm), free(p.z), free(p.w);
}

START_TEST(test_poisson_dense) { vi_vs_dense(LATENS_GP_CVI_POISSON, LATENS_GP_CVI_RTS); }
END_TEST
START_TEST(test_bernoulli_dense) { vi_vs_dense(LATENS_GP_CVI_BERNOULLI, LATENS_GP_CVI_RTS); }
END_TEST
START_TEST(test_poisson_dense_info) { vi_vs_dense(LATENS_GP_CVI_POISSON, LATENS_GP_CVI_INFO); }
END_TEST

/* ------------------------------------------------------------ information filter = RTS */

/* Oracle: the moment-form Kalman/RTS smoother over the same sites (both exact for the
 * conjugate model), run for the same number of damped CVI steps from the same start. */
static void info_vs_rts(size_t K, size_t N) {
  enum { T = 120 };
  double t[T], Y[T * 8], C[8 * 2], d[8];
  irregular_times(t, T, 1e4, 3); /* a gap where A underflows to 0: moment-form fallback */
  latens_gp_term terms[2] = {{LATENS_GP_MATERN52, 1.0, 0.8, 0}, {LATENS_GP_HIDA32, 0.5, 2.0, 3.0}};
  latens_gp_kernel *k0 = latens_gp_kernel_alloc(terms, 2), *k1 = kern1(LATENS_GP_MATERN12, 1, 0.5, 0);
  size_t dims[2] = {latens_gp_kernel_dim(k0), latens_gp_kernel_dim(k1)};
  latens_gp_ssm *s = latens_gp_ssm_alloc(K, dims, T, 0);
  ck_assert_int_eq(latens_gp_ssm_set_kernel(s, 0, k0, t), LATENS_OK);
  if (K > 1) ck_assert_int_eq(latens_gp_ssm_set_kernel(s, 1, k1, t), LATENS_OK);
  uint64_t sd = 99;
  for (size_t n = 0; n < N; n++) {
    d[n] = 0.5;
    for (size_t a = 0; a < K; a++) C[n + a * N] = test_unif(&sd);
  }
  latens_rng rng;
  latens_rng_init(&rng, 4, 0);
  for (size_t i = 0; i < T * N; i++) {
    uint64_t c;
    latens_rng_poisson(&rng, 2.0, &c);
    Y[i] = (double)c;
  }
  latens_gp_cvi_readout ro = {LATENS_GP_CVI_POISSON, N, C, N, d, NULL};
  latens_gp_cvi_options opt;
  latens_gp_cvi_options_default(&opt);
  opt.damping = 0.5, opt.max_iter = 6;
  double m[2][T * 2], v[2][T * 2], elbo[2];
  for (int sm = 0; sm < 2; sm++) {
    latens_gp_cvi *w = latens_gp_cvi_alloc(s);
    opt.smoother = sm;
    int st = latens_gp_cvi_run(w, &ro, Y, T, &opt, NULL);
    ck_assert(st == LATENS_OK || st == LATENS_EMAXITER);
    latens_gp_cvi_latents(w, m[sm], T, v[sm], T);
    elbo[sm] = latens_gp_cvi_elbo(w);
    latens_gp_cvi_free(w);
  }
  double worst = 0;
  for (size_t i = 0; i < T * K; i++) {
    worst = fmax(worst, fabs(m[0][i] - m[1][i]) / (1 + fabs(m[0][i])));
    worst = fmax(worst, fabs(v[0][i] - v[1][i]) / v[0][i]);
  }
  /* Both are exact for the conjugate model; they differ only in rounding, amplified by the
   * conditioning of the precisions inverted (states up to 9, cond ~1e4 here). */
  ck_assert_msg(worst < 1e-8, "information filter vs RTS: %g", worst);
  ck_assert_msg(fabs(elbo[0] - elbo[1]) < 1e-9 * fabs(elbo[0]), "ELBO %.15g vs %.15g", elbo[0],
                elbo[1]);
  latens_gp_ssm_free(s), latens_gp_kernel_free(k0), latens_gp_kernel_free(k1);
}

START_TEST(test_info_vs_rts_one) { info_vs_rts(1, 1); }
END_TEST
START_TEST(test_info_vs_rts_two) { info_vs_rts(2, 5); }
END_TEST

/* ------------------------------------------------------------ ELBO hyperparameters */

START_TEST(test_elbo_fit_poisson) {
  /* Poisson counts (3 per bin at the mean) from a Matérn-3/2 draw with lengthscale 20 over
   * 1000 bins, fitted from lengthscale 5, variance 0.5.  Oracles: (1) the fit maximises the
   * ELBO, so its ELBO is at least the ELBO at the true parameters; (2) about 50
   * correlation lengths pin the lengthscale to roughly +-15% (measured over seeds 1-4:
   * 16.5, 20.9, 18.6, 19.6): it must land within 25% of 20. */
  if (test_under_valgrind()) return;
  enum { T = 1000 };
  static double t[T], f[T], y[T], m[T];
  latens_gp_kernel *k = kern1(LATENS_GP_MATERN32, 1.0, 20.0, 0);
  for (size_t i = 0; i < T; i++) t[i] = (double)i;
  latens_rng rng;
  latens_rng_init(&rng, 2, 0);
  ck_assert_int_eq(latens_gp_sample(k, &rng, t, T, f), LATENS_OK);
  const double off = log(3.0);
  for (size_t i = 0; i < T; i++) {
    uint64_t c;
    latens_rng_poisson(&rng, exp(f[i] + off), &c);
    y[i] = (double)c;
  }
  latens_gp_cvi_result truth, fit;
  ck_assert_int_eq(latens_gp_cvi_series(k, LATENS_GP_CVI_POISSON, t, y, T, off, 1, NULL, m, NULL,
                                        NULL, &truth), LATENS_OK);
  latens_gp_kernel *k0 = kern1(LATENS_GP_MATERN32, 0.5, 5.0, 0);
  ck_assert_int_eq(latens_gp_cvi_fit(k0, LATENS_GP_CVI_POISSON, t, y, T, off, NULL, NULL, 300, &fit),
                   LATENS_OK);
  double th[2];
  latens_gp_kernel_get_params(k0, th);
  ck_assert_msg(fit.elbo >= truth.elbo - 1e-6, "fitted ELBO %.10g below the truth's %.10g",
                fit.elbo, truth.elbo);
  ck_assert_msg(fabs(th[1] - 20.0) < 5.0, "lengthscale %g, true 20", th[1]);
  latens_gp_kernel_free(k), latens_gp_kernel_free(k0);
}
END_TEST

/* ------------------------------------------------------------ edge cases and errors */

START_TEST(test_all_missing) {
  /* Oracle: no data, so the posterior is the prior (mean 0, variance k(0)) and the ELBO,
   * E log p - KL(prior || prior), is 0. */
  enum { T = 30 };
  double t[T], y[T], m[T], v[T];
  irregular_times(t, T, 0, 1);
  for (size_t i = 0; i < T; i++) y[i] = NAN;
  latens_gp_kernel *k = kern1(LATENS_GP_MATERN32, 2.0, 1.0, 0);
  latens_gp_ssm *s = cvi_prior(k, t, T);
  latens_gp_cvi *w = latens_gp_cvi_alloc(s);
  double one = 1;
  latens_gp_cvi_readout ro = {LATENS_GP_CVI_POISSON, 1, &one, 1, NULL, NULL};
  ck_assert_int_eq(latens_gp_cvi_run(w, &ro, y, T, NULL, NULL), LATENS_OK);
  latens_gp_cvi_latents(w, m, T, v, T);
  int bad = 0;
  for (size_t i = 0; i < T; i++) bad += m[i] != 0 || fabs(v[i] - 2.0) > 1e-12;
  ck_assert_int_eq(bad, 0);
  ck_assert(fabs(latens_gp_cvi_elbo(w)) < 1e-12);
  latens_gp_cvi_free(w), latens_gp_ssm_free(s), latens_gp_kernel_free(k);
}
END_TEST

START_TEST(test_errors) {
  enum { T = 5 };
  double t[T] = {0, 1, 2, 3, 4}, y[T] = {0, 1, 2, 1, 0};
  latens_gp_kernel *k = kern1(LATENS_GP_MATERN12, 1.0, 1.0, 0);
  latens_gp_ssm *s = cvi_prior(k, t, T);
  latens_gp_cvi *w = latens_gp_cvi_alloc(s);
  double one = 1, zero = 0;
  latens_gp_cvi_readout ro = {LATENS_GP_CVI_POISSON, 1, &one, 1, NULL, NULL};
  y[2] = -1;
  ck_assert_int_eq(latens_gp_cvi_run(w, &ro, y, T, NULL, NULL), LATENS_EDOM);
  y[2] = 1.5;
  ck_assert_int_eq(latens_gp_cvi_run(w, &ro, y, T, NULL, NULL), LATENS_EDOM);
  y[2] = INFINITY;
  ck_assert_int_eq(latens_gp_cvi_run(w, &ro, y, T, NULL, NULL), LATENS_ENOTFINITE);
  y[2] = 2;
  ro.lik = LATENS_GP_CVI_BERNOULLI;
  ck_assert_int_eq(latens_gp_cvi_run(w, &ro, y, T, NULL, NULL), LATENS_EDOM);
  ro.lik = LATENS_GP_CVI_GAUSSIAN, ro.noise = &zero;
  ck_assert_int_eq(latens_gp_cvi_run(w, &ro, y, T, NULL, NULL), LATENS_EDOM);
  ro.noise = NULL;
  ck_assert_int_eq(latens_gp_cvi_run(w, &ro, y, T, NULL, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_gp_cvi_run(w, &ro, y, T - 1, NULL, NULL), LATENS_EINVAL);
  double tu[T] = {0, 2, 1, 3, 4};
  ck_assert_int_eq(latens_gp_ssm_set_kernel(s, 0, k, tu), LATENS_EDOM);
  ck_assert_ptr_null(latens_gp_ssm_alloc(0, NULL, 3, 0));
  int lik;
  ck_assert_int_eq(latens_gp_cvi_lik_parse("poisson", &lik), LATENS_OK);
  ck_assert_int_eq(lik, LATENS_GP_CVI_POISSON);
  ck_assert_int_eq(latens_gp_cvi_lik_parse("gamma", &lik), LATENS_EINVAL);
  latens_gp_cvi_free(w), latens_gp_ssm_free(s), latens_gp_kernel_free(k);
  latens_gp_cvi_free(NULL), latens_gp_ssm_free(NULL);
}
END_TEST

/* ------------------------------------------------------------ extreme lengthscales */

/* Oracle for a latent shared by c Poisson counts summing to Y, prior N(0, s2), offset off:
 * the Gaussian q = N(m, v) maximising Y (m + off) - c exp(m + off + v/2) - KL(q || prior)
 * satisfies Y - c lam - m / s2 = 0 and 1/v = 1/s2 + c lam with lam = exp(m + off + v/2)
 * (Opper & Archambeau 2009, one dimension); solved here by Newton in m for fixed v and
 * the closed-form v, to a fixed point. */
static void scalar_poisson_vi(double Y, double c, double s2, double off, double *m, double *v) {
  double mm = 0, vv = s2;
  for (int it = 0; it < 200; it++) {
    double lam = exp(mm + off + 0.5 * vv);
    double step = (Y - c * lam - mm / s2) / (c * lam + 1 / s2);
    mm += step;
    double vn = 1 / (1 / s2 + c * exp(mm + off + 0.5 * vv));
    double dv = fabs(vn - vv);
    vv = vn;
    if (fabs(step) < 1e-15 && dv < 1e-15 * vv) break;
  }
  *m = mm, *v = vv;
}

static void extreme_lengthscale(int smoother) {
  /* l = 1e-8 on a unit grid: A(1) = 0 exactly and every point has its own independent latent;
   * l = 1e8 over a span of 9: the Matérn-3/2 correlation is 1 - O(1e-15), one shared latent.
   * Both reduce to the scalar problem above.  Tolerance: the state-space Q of l = 1e8 is
   * formed as Pinf - A Pinf A^T from entries of size ~1 with a difference ~1e-15, so the
   * chain carries absolute rounding of ~1e-16 per step amplified by the precisions of the
   * sites (~30 here): 1e-9 relative (as the tests above; measured 4e-12) is far above that
   * and far below any modelling error. */
  enum { T = 10 };
  double t[T], y[T] = {0, 3, 1, 4, 2, 0, 5, 2, NAN, 1}, m[T], v[T], rate[T];
  for (size_t i = 0; i < T; i++) t[i] = (double)i;
  const double s2 = 1.7, off = 0.3;
  latens_gp_cvi_options opt;
  latens_gp_cvi_options_default(&opt);
  opt.smoother = smoother, opt.tol = 1e-12, opt.max_iter = 2000;
  double worst = 0;
  for (int big = 0; big < 2; big++) {
    latens_gp_kernel *k = kern1(LATENS_GP_MATERN32, s2, big ? 1e8 : 1e-8, 0);
    latens_gp_cvi_result res;
    ck_assert_int_eq(latens_gp_cvi_series(k, LATENS_GP_CVI_POISSON, t, y, T, off, 1, &opt, m, v,
                                          rate, &res), LATENS_OK);
    double Ysum = 0, c = 0, mo, vo;
    for (size_t i = 0; i < T; i++)
      if (!isnan(y[i])) Ysum += y[i], c += 1;
    if (big) scalar_poisson_vi(Ysum, c, s2, off, &mo, &vo);
    for (size_t i = 0; i < T; i++) {
      if (!big) {
        if (isnan(y[i])) mo = 0, vo = s2; /* no data: the prior */
        else scalar_poisson_vi(y[i], 1, s2, off, &mo, &vo);
      }
      double e = fmax(fabs(m[i] - mo) / (1 + fabs(mo)), fabs(v[i] - vo) / vo);
      worst = fmax(worst, isfinite(rate[i]) ? e : INFINITY);
    }
    latens_gp_kernel_free(k);
  }
  ck_assert_msg(worst < 1e-9, "extreme lengthscales vs scalar VI: %g", worst);
}

START_TEST(test_extreme_lengthscale_rts) { extreme_lengthscale(LATENS_GP_CVI_RTS); }
END_TEST
START_TEST(test_extreme_lengthscale_info) { extreme_lengthscale(LATENS_GP_CVI_INFO); }
END_TEST

START_TEST(test_argument_errors) {
  /* Contracts of latens/gp_cvi.h: a regular prior checks every step, not only the first;
   * latens_gp_cvi_fit names bad data before it starts; n = 0 is an empty, valid series. */
  enum { T = 6 };
  double t[T] = {0, 1, 2, 3, 4.5, 5}, y[T] = {0, 1, 2, 1, 0, 3};
  latens_gp_kernel *k = kern1(LATENS_GP_MATERN32, 1.0, 2.0, 0);
  size_t d = latens_gp_kernel_dim(k);
  latens_gp_ssm *s = latens_gp_ssm_alloc(1, &d, T, 1);
  ck_assert_int_eq(latens_gp_ssm_set_kernel(s, 0, k, t), LATENS_EDOM); /* step 3 -> 4 is 1.5 */
  t[4] = 4;
  ck_assert_int_eq(latens_gp_ssm_set_kernel(s, 0, k, t), LATENS_OK);
  t[2] = NAN;
  ck_assert_int_eq(latens_gp_ssm_set_kernel(s, 0, k, t), LATENS_ENOTFINITE);
  t[2] = 2;
  latens_gp_ssm_free(s);
  latens_gp_cvi_result res;
  y[3] = -1;
  ck_assert_int_eq(latens_gp_cvi_fit(k, LATENS_GP_CVI_POISSON, t, y, T, 0, NULL, NULL, 50, &res),
                   LATENS_EDOM);
  y[3] = 1;
  ck_assert_int_eq(latens_gp_cvi_fit(k, 7, t, y, T, 0, NULL, NULL, 50, &res), LATENS_EINVAL);
  ck_assert_int_eq(latens_gp_cvi_fit(k, LATENS_GP_CVI_POISSON, t, y, T, NAN, NULL, NULL, 50, &res),
                   LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_gp_cvi_series(k, LATENS_GP_CVI_BERNOULLI, t, y, 0, 0, 1, NULL, NULL,
                                        NULL, NULL, &res), LATENS_OK);
  ck_assert(res.elbo == 0 && res.converged);
  latens_gp_cvi_options o;
  latens_gp_cvi_options_default(&o);
  o.damping = 0;
  double m[T];
  ck_assert_int_eq(latens_gp_cvi_series(k, LATENS_GP_CVI_POISSON, t, y, T, 0, 1, &o, m, NULL,
                                        NULL, &res), LATENS_EDOM);
  latens_gp_kernel_free(k);
}
END_TEST

Suite *cvi_suite(void) {
  Suite *s = suite_create("cvi");
  TCase *tc = tcase_create("cvi");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_gaussian_exact_rts);
  tcase_add_test(tc, test_gaussian_exact_info);
  tcase_add_test(tc, test_predict_gaussian);
  tcase_add_test(tc, test_poisson_dense);
  tcase_add_test(tc, test_bernoulli_dense);
  tcase_add_test(tc, test_poisson_dense_info);
  tcase_add_test(tc, test_info_vs_rts_one);
  tcase_add_test(tc, test_info_vs_rts_two);
  tcase_add_test(tc, test_elbo_fit_poisson);
  tcase_add_test(tc, test_all_missing);
  tcase_add_test(tc, test_errors);
  tcase_add_test(tc, test_extreme_lengthscale_rts);
  tcase_add_test(tc, test_extreme_lengthscale_info);
  tcase_add_test(tc, test_argument_errors);
  suite_add_tcase(s, tc);
  return s;
}
