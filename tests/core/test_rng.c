/* tests/core/test_rng.c: Philox4x32-10 streams and the distributions built on them.
 *
 * Oracles: the Random123 known-answer vectors (published), the documented stream layout
 * (recomputed here from the raw bijection), the ziggurat's defining equations (closed-form
 * layer areas), closed-form moments and normal tail probabilities, Kolmogorov-Smirnov against
 * closed-form CDFs (GSL's gsl_cdf_* where no elementary form exists), chi-square against the
 * pmf, and bitwise comparison for reproducibility and thread-count independence.
 *
 * Statistical thresholds: every seed is fixed, so each test is deterministic; the thresholds
 * are the ones a correct generator would exceed with probability about 1e-3 (KS, chi-square)
 * or below 1e-6 (5 standard errors for means and variances) on a fresh seed, so a failure
 * means a real defect, not bad luck, and they were chosen before running. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <latens/latens.h>
#include "suites.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* Asymptotic Kolmogorov quantile: P(sqrt(n) D_n > 1.9495) = 1e-3. */
#define KS_CRIT_1E3 1.9495

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* KS statistic of x (sorted in place) against the CDF F. */
static double ks_stat(double *x, size_t n, double (*F)(double, const double *), const double *par) {
  qsort(x, n, sizeof *x, cmp_double);
  double d = 0;
  for (size_t i = 0; i < n; i++) {
    double f = F(x[i], par), a = f - (double)i / n, b = (double)(i + 1) / n - f;
    if (a > d) d = a;
    if (b > d) d = b;
  }
  return d;
}

static double cdf_uniform(double x, const double *p) {
  (void)p;
  return x;
}
static double cdf_normal(double x, const double *p) {
  return 0.5 * erfc(-(x - p[0]) / (p[1] * M_SQRT2));
}
static double cdf_exp(double x, const double *p) { return -expm1(-p[0] * x); }
static double cdf_gamma(double x, const double *p) { return gsl_cdf_gamma_P(x, p[0], p[1]); }

static void mean_var(const double *x, size_t n, double *mean, double *var) {
  long double s = 0, s2 = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  long double m = s / n;
  for (size_t i = 0; i < n; i++) s2 += (x[i] - m) * (x[i] - m);
  *mean = (double)m, *var = (double)(s2 / (n - 1));
}

START_TEST(philox_known_answers) {
  /* Random123 (D. E. Shaw Research) kat_vectors, the three "philox4x32 10" lines (counter,
   * key, output), as reproduced in DEShawResearch/fs123 core123/ut/ut_philox.cpp
   * (test_kat_philox4x32, "cut-and-pasted from the kat_vectors file in the original Random123
   * distribution"); plus two lines of the extended examples/kat_vectors file of
   * girving/random123-manual with non-trivial keys. */
  static const uint32_t kat[][10] = {
      {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
      {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
       0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
      {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
       0x94fdcceb, 0x5001e420, 0x24126ea1},
      {1, 0, 0, 0, 1, 0, 0xac08141b, 0xdfc5ccbe, 0x79c07a47, 0xa7f66093},
      {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0, 0xffffffff, 0x08f7720c, 0x845ee9e0,
       0x502ccd3d, 0xa9a00e27}};
  for (size_t t = 0; t < sizeof kat / sizeof *kat; t++) {
    uint32_t out[4];
    latens_rng_philox4x32_10(kat[t], kat[t] + 4, out);
    for (int w = 0; w < 4; w++) ck_assert_uint_eq(out[w], kat[t][6 + w]);
  }
}
END_TEST

START_TEST(stream_layout_and_seek) {
  /* Oracle: the layout documented in rng.h, recomputed from the raw bijection. */
  uint64_t seed = 0x0123456789abcdefULL, stream = 0xfedcba9876543210ULL;
  latens_rng r;
  ck_assert_int_eq(latens_rng_init(&r, seed, stream), LATENS_OK);
  uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)}, out[4];
  for (uint32_t b = 0; b < 3; b++) {
    uint32_t ctr[4] = {b, 0, (uint32_t)stream, (uint32_t)(stream >> 32)};
    latens_rng_philox4x32_10(ctr, key, out);
    for (int w = 0; w < 4; w++) ck_assert_uint_eq(latens_rng_uint32(&r), out[w]);
  }
  /* uint64 = low word | high word << 32; uniform = top 53 bits * 2^-53. */
  latens_rng_init(&r, seed, stream);
  uint32_t ctr0[4] = {0, 0, (uint32_t)stream, (uint32_t)(stream >> 32)};
  latens_rng_philox4x32_10(ctr0, key, out);
  uint64_t v0 = (uint64_t)out[0] | (uint64_t)out[1] << 32,
           v1 = (uint64_t)out[2] | (uint64_t)out[3] << 32;
  ck_assert(latens_rng_uint64(&r) == v0);
  ck_assert_double_eq(latens_rng_uniform(&r), (double)(v1 >> 11) * 0x1p-53);
  /* A uint64 straddling two blocks after an odd number of uint32 draws. */
  latens_rng_init(&r, seed, stream);
  for (int i = 0; i < 3; i++) latens_rng_uint32(&r);
  uint32_t ctr1[4] = {1, 0, (uint32_t)stream, (uint32_t)(stream >> 32)}, out1[4];
  latens_rng_philox4x32_10(ctr1, key, out1);
  ck_assert(latens_rng_uint64(&r) == ((uint64_t)out[3] | (uint64_t)out1[0] << 32));
  /* seek(p) lands on the p-th uint64, even and odd p. */
  uint64_t seq[41];
  latens_rng_init(&r, seed, stream);
  for (int i = 0; i < 41; i++) seq[i] = latens_rng_uint64(&r);
  for (uint64_t p = 0; p < 41; p += 7) {
    latens_rng_seek(&r, p);
    ck_assert(latens_rng_uint64(&r) == seq[p]);
  }
  /* A block counter far along carries into the high word. */
  latens_rng_seek(&r, 2 * 0xffffffffULL + 1);
  uint32_t ctrc[4] = {0xffffffff, 0, (uint32_t)stream, (uint32_t)(stream >> 32)}, outc[4];
  latens_rng_philox4x32_10(ctrc, key, outc);
  ck_assert(latens_rng_uint64(&r) == ((uint64_t)outc[2] | (uint64_t)outc[3] << 32));
  uint32_t ctrd[4] = {0, 1, (uint32_t)stream, (uint32_t)(stream >> 32)};
  latens_rng_philox4x32_10(ctrd, key, outc);
  ck_assert_uint_eq(latens_rng_uint32(&r), outc[0]);
}
END_TEST

START_TEST(reproducible_streams) {
  /* Oracle: bitwise equality.  Two streams started alike give the same mixed sequence; a
   * struct copy forks the stream; bulk fills equal single draws. */
  latens_rng a, b;
  latens_rng_init(&a, 42, 7), latens_rng_init(&b, 42, 7);
  double p[4] = {0.1, 0.2, 0.3, 0.4};
  for (int i = 0; i < 300; i++) {
    ck_assert(latens_rng_uint64(&a) == latens_rng_uint64(&b));
    ck_assert_uint_eq(latens_rng_uint32(&a), latens_rng_uint32(&b));
    double na = latens_rng_normal(&a), nb = latens_rng_normal(&b);
    ck_assert(memcmp(&na, &nb, sizeof na) == 0);
    double ga, gb;
    latens_rng_gamma(&a, 0.7, 1.0, &ga), latens_rng_gamma(&b, 0.7, 1.0, &gb);
    ck_assert(memcmp(&ga, &gb, sizeof ga) == 0);
    uint64_t ka, kb;
    latens_rng_poisson(&a, 40.0, &ka), latens_rng_poisson(&b, 40.0, &kb);
    ck_assert(ka == kb);
    size_t ca, cb;
    latens_rng_categorical(&a, p, 4, &ca), latens_rng_categorical(&b, p, 4, &cb);
    ck_assert_uint_eq(ca, cb);
  }
  latens_rng_normal(&a);
  latens_rng c = a;
  for (int i = 0; i < 20; i++) ck_assert_double_eq(latens_rng_normal(&a), latens_rng_normal(&c));
  double bulk[101], single[101];
  latens_rng_init(&a, 9, 1), latens_rng_init(&b, 9, 1);
  ck_assert_int_eq(latens_rng_fill_normal(&a, bulk, 101, 2.0, 3.0), LATENS_OK);
  for (int i = 0; i < 101; i++) single[i] = 2.0 + 3.0 * latens_rng_normal(&b);
  ck_assert(memcmp(bulk, single, sizeof bulk) == 0);
  ck_assert_int_eq(latens_rng_fill_uniform(&a, bulk, 101), LATENS_OK);
  for (int i = 0; i < 101; i++) single[i] = latens_rng_uniform(&b);
  ck_assert(memcmp(bulk, single, sizeof bulk) == 0);
  /* Heap-allocated streams are the same streams. */
  latens_rng *h = latens_rng_alloc(42, 7);
  latens_rng_init(&a, 42, 7);
  ck_assert(h && latens_rng_uint64(h) == latens_rng_uint64(&a));
  latens_rng_free(h);
  latens_rng_free(NULL);
}
END_TEST

/* Pearson correlation of n uniforms from two streams. */
static double stream_corr(latens_rng *a, latens_rng *b, size_t n) {
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (size_t i = 0; i < n; i++) {
    double x = latens_rng_uniform(a) - 0.5, y = latens_rng_uniform(b) - 0.5;
    sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
  }
  double cxy = sxy - sx * sy / n, cxx = sxx - sx * sx / n, cyy = syy - sy * sy / n;
  return cxy / sqrt(cxx * cyy);
}

START_TEST(streams_differ_and_are_uncorrelated) {
  /* Under independence the sample correlation of n pairs is ~N(0, 1/n): 5/sqrt(n) bounds it.
   * Pairs: neighbouring stream ids, neighbouring seeds, split siblings, parent and child. */
  enum { N = 40000 };
  latens_rng root, pairs[4][2];
  latens_rng_init(&root, 2024, 0);
  latens_rng_init(&pairs[0][0], 2024, 0), latens_rng_init(&pairs[0][1], 2024, 1);
  latens_rng_init(&pairs[1][0], 1, 5), latens_rng_init(&pairs[1][1], 2, 5);
  latens_rng_split(&pairs[2][0], &root, 0), latens_rng_split(&pairs[2][1], &root, 1);
  pairs[3][0] = root, latens_rng_split(&pairs[3][1], &root, 0);
  for (int t = 0; t < 4; t++) {
    latens_rng a = pairs[t][0], b = pairs[t][1];
    int same = 0;
    for (int i = 0; i < 1000; i++) same += latens_rng_uint64(&a) == latens_rng_uint64(&b);
    ck_assert_int_eq(same, 0);
    double r = stream_corr(&pairs[t][0], &pairs[t][1], N);
    ck_assert_msg(fabs(r) < 5.0 / sqrt(N), "pair %d: correlation %g", t, r);
  }
  /* A split names the same child however far the parent has been drawn, and nests. */
  latens_rng c1, c2, g1, g2;
  latens_rng_split(&c1, &root, 17);
  for (int i = 0; i < 5; i++) latens_rng_uint32(&root);
  latens_rng_split(&c2, &root, 17);
  ck_assert(latens_rng_uint64(&c1) == latens_rng_uint64(&c2));
  latens_rng_split(&g1, &c1, 3), latens_rng_split(&g2, &c2, 3);
  ck_assert(latens_rng_uint64(&g1) == latens_rng_uint64(&g2));
  latens_rng_split(&g2, &c2, 4);
  ck_assert(latens_rng_uint64(&g1) != latens_rng_uint64(&g2));
}
END_TEST

START_TEST(uniform_and_normal_distributions) {
  enum { N = 100000 };
  double *x = malloc(N * sizeof *x), mean, var;
  latens_rng r;
  latens_rng_init(&r, 12345, 0);
  latens_rng_fill_uniform(&r, x, N);
  double lo = 1, hi = 0;
  for (int i = 0; i < N; i++) lo = fmin(lo, x[i]), hi = fmax(hi, x[i]);
  ck_assert(lo > 0.0 && hi < 1.0);
  /* Closed forms: mean 1/2 (sd sqrt(1/12/N)), variance 1/12 (sd sqrt((1/80 - 1/144)/N)). */
  mean_var(x, N, &mean, &var);
  ck_assert_double_eq_tol(mean, 0.5, 5 * sqrt(1.0 / 12 / N));
  ck_assert_double_eq_tol(var, 1.0 / 12, 5 * sqrt((1.0 / 80 - 1.0 / 144) / N));
  ck_assert_msg(ks_stat(x, N, cdf_uniform, NULL) < KS_CRIT_1E3 / sqrt(N), "uniform KS");
  /* Normal: mean 0 (sd 1/sqrt(N)), variance 1 (sd sqrt(2/N)), skewness 0 (sd sqrt(6/N)),
   * excess kurtosis 0 (sd sqrt(24/N)), KS against Phi. */
  latens_rng_fill_normal(&r, x, N, 0.0, 1.0);
  mean_var(x, N, &mean, &var);
  double s3 = 0, s4 = 0;
  for (int i = 0; i < N; i++) s3 += pow(x[i] - mean, 3), s4 += pow(x[i] - mean, 4);
  double skew = s3 / N / pow(var, 1.5), kurt = s4 / N / (var * var) - 3.0;
  ck_assert_double_eq_tol(mean, 0.0, 5 / sqrt(N));
  ck_assert_double_eq_tol(var, 1.0, 5 * sqrt(2.0 / N));
  ck_assert_double_eq_tol(skew, 0.0, 5 * sqrt(6.0 / N));
  ck_assert_double_eq_tol(kurt, 0.0, 5 * sqrt(24.0 / N));
  double par[2] = {0.0, 1.0};
  ck_assert_msg(ks_stat(x, N, cdf_normal, par) < KS_CRIT_1E3 / sqrt(N), "normal KS");
  /* N(mu, sigma^2) through latens_rng_gaussian. */
  for (int i = 0; i < N; i++) x[i] = latens_rng_gaussian(&r, -3.0, 0.5);
  par[0] = -3.0, par[1] = 0.5;
  ck_assert_msg(ks_stat(x, N, cdf_normal, par) < KS_CRIT_1E3 / sqrt(N), "gaussian KS");
  /* Exponential(rate 2): KS against 1 - exp(-2x). */
  for (int i = 0; i < N; i++) x[i] = latens_rng_exponential(&r, 2.0);
  double rate = 2.0;
  ck_assert_msg(ks_stat(x, N, cdf_exp, &rate) < KS_CRIT_1E3 / sqrt(N), "exponential KS");
  free(x);
}
END_TEST

/* Bad parameters of the scalar draws: NaN, the status through the error handler (the same
 * rules as latens_rng_fill_normal), and nothing drawn (oracle: a copy of the stream). */
static void expect_bad_draw(double got, int status, const latens_rng *r, const latens_rng *before) {
  ck_assert(isnan(got));
  ck_assert_int_eq(latens_last_error(NULL), status);
  ck_assert_int_eq(memcmp(r, before, sizeof *r), 0); /* counter and buffer */
  latens_clear_error();
}

START_TEST(scalar_draws_report_bad_parameters) {
  latens_rng r, before;
  latens_rng_init(&r, 8, 1);
  latens_clear_error();
  const double bad_sigma[] = {-1.0, NAN, INFINITY}, bad_mu[] = {NAN, INFINITY, -INFINITY};
  const int sigma_status[] = {LATENS_EDOM, LATENS_ENOTFINITE, LATENS_ENOTFINITE};
  for (int t = 0; t < 3; t++) {
    before = r;
    expect_bad_draw(latens_rng_gaussian(&r, 0.0, bad_sigma[t]), sigma_status[t], &r, &before);
    before = r;
    expect_bad_draw(latens_rng_gaussian(&r, bad_mu[t], 1.0), LATENS_ENOTFINITE, &r, &before);
    double x[2];
    ck_assert_int_eq(latens_rng_fill_normal(&r, x, 2, 0.0, bad_sigma[t]), sigma_status[t]);
    ck_assert_int_eq(latens_rng_fill_normal(&r, x, 2, bad_mu[t], 1.0), LATENS_ENOTFINITE);
  }
  latens_clear_error();
  const double bad_rate[] = {0.0, -2.0, NAN, INFINITY};
  const int rate_status[] = {LATENS_EDOM, LATENS_EDOM, LATENS_ENOTFINITE, LATENS_ENOTFINITE};
  for (int t = 0; t < 4; t++) {
    before = r;
    expect_bad_draw(latens_rng_exponential(&r, bad_rate[t]), rate_status[t], &r, &before);
  }
  /* sigma = 0 is allowed: the draw is mu exactly (one normal consumed). */
  ck_assert_double_eq(latens_rng_gaussian(&r, 2.5, 0.0), 2.5);
  ck_assert_int_eq(latens_last_error(NULL), LATENS_OK);
}
END_TEST

START_TEST(gamma_distribution) {
  enum { N = 50000 };
  double *x = malloc(N * sizeof *x), shapes[] = {0.3, 1.0, 2.5, 50.0}, scale = 2.0, mean, var;
  latens_rng r;
  latens_rng_init(&r, 777, 3);
  for (int s = 0; s < 4; s++) {
    double k = shapes[s];
    int bad = 0; /* one assertion per sample would cost Check a pipe write each */
    for (int i = 0; i < N; i++) bad += latens_rng_gamma(&r, k, scale, x + i) != LATENS_OK;
    ck_assert_int_eq(bad, 0);
    /* Closed forms: mean k theta (sd theta sqrt(k/N)); variance k theta^2, whose sample value
     * has sd k theta^2 sqrt((2 + 6/k)/N) (excess kurtosis 6/k). */
    mean_var(x, N, &mean, &var);
    ck_assert_msg(fabs(mean - k * scale) < 5 * scale * sqrt(k / N), "shape %g mean %g", k, mean);
    ck_assert_msg(fabs(var - k * scale * scale) < 5 * k * scale * scale * sqrt((2 + 6 / k) / N),
                  "shape %g var %g", k, var);
    double par[2] = {k, scale};
    ck_assert_msg(ks_stat(x, N, cdf_gamma, par) < KS_CRIT_1E3 / sqrt(N), "gamma(%g) KS", k);
  }
  double g;
  ck_assert_int_eq(latens_rng_gamma(&r, 0.0, 1.0, &g), LATENS_EDOM);
  ck_assert_int_eq(latens_rng_gamma(&r, -1.0, 1.0, &g), LATENS_EDOM);
  ck_assert_int_eq(latens_rng_gamma(&r, NAN, 1.0, &g), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_rng_gamma(&r, INFINITY, 1.0, &g), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_rng_gamma(&r, 1.0, INFINITY, &g), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_rng_gamma(&r, 1.0, 0.0, &g), LATENS_EDOM);
  ck_assert_int_eq(latens_rng_gamma(&r, 1.0, -2.0, &g), LATENS_EDOM);
  ck_assert_int_eq(latens_rng_gamma(&r, 1.0, 1.0, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_gamma(NULL, 1.0, 1.0, &g), LATENS_EINVAL);
  free(x);
}
END_TEST

/* Pearson chi-square of observed counts against expected ones, merging adjacent bins until
 * each expects at least 5 (the usual validity rule); returns the statistic, *df the degrees
 * of freedom. */
static double chisq(const double *obs, const double *expct, size_t nb, int *df) {
  double stat = 0, o = 0, e = 0;
  int bins = 0;
  for (size_t i = 0; i < nb; i++) {
    o += obs[i], e += expct[i];
    int last = i + 1 == nb;
    double rest = 0;
    for (size_t j = i + 1; j < nb; j++) rest += expct[j];
    if ((e >= 5 && rest >= 5) || last) {
      stat += (o - e) * (o - e) / e, bins++;
      o = e = 0;
    }
  }
  *df = bins - 1;
  return stat;
}

START_TEST(poisson_distribution) {
  enum { N = 50000, KMAX = 800 };
  /* Both sides of the switch at lambda = 10, and well into PTRS. */
  double lambdas[] = {0.5, 3.0, 9.99, 10.0, 50.0, 500.0};
  double *obs = malloc(KMAX * sizeof *obs), *expct = malloc(KMAX * sizeof *expct);
  latens_rng r;
  latens_rng_init(&r, 99, 0);
  for (int t = 0; t < 6; t++) {
    double lam = lambdas[t];
    for (int k = 0; k < KMAX; k++) obs[k] = 0, expct[k] = N * gsl_ran_poisson_pdf(k, lam);
    expct[KMAX - 1] = N * gsl_cdf_poisson_Q(KMAX - 2, lam); /* the last bin is the tail */
    int bad = 0;
    for (int i = 0; i < N; i++) {
      uint64_t k = 0;
      bad += latens_rng_poisson(&r, lam, &k) != LATENS_OK;
      obs[k < KMAX ? k : KMAX - 1] += 1;
    }
    ck_assert_int_eq(bad, 0);
    int df;
    double stat = chisq(obs, expct, KMAX, &df);
    ck_assert_msg(stat < gsl_cdf_chisq_Qinv(1e-3, df), "lambda %g: chi2 %g on %d df", lam, stat,
                  df);
  }
  /* Large lambda: mean lambda (sd sqrt(lambda/N)), variance lambda (sd lambda sqrt(2/N)). */
  double big[] = {1e4, 1e7}, *x = malloc(N * sizeof *x), mean, var;
  for (int t = 0; t < 2; t++) {
    for (int i = 0; i < N; i++) {
      uint64_t k;
      latens_rng_poisson(&r, big[t], &k);
      x[i] = (double)k;
    }
    mean_var(x, N, &mean, &var);
    ck_assert_double_eq_tol(mean, big[t], 5 * sqrt(big[t] / N));
    ck_assert_double_eq_tol(var, big[t], 5 * big[t] * sqrt(2.0 / N));
  }
  uint64_t k = 7;
  ck_assert_int_eq(latens_rng_poisson(&r, 0.0, &k), LATENS_OK);
  ck_assert(k == 0);
  ck_assert_int_eq(latens_rng_poisson(&r, -1.0, &k), LATENS_EDOM);
  ck_assert_int_eq(latens_rng_poisson(&r, NAN, &k), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_rng_poisson(&r, INFINITY, &k), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_rng_poisson(&r, 1e16, &k), LATENS_EDOM);
  ck_assert_int_eq(latens_rng_poisson(&r, 1e15, &k), LATENS_OK); /* the largest accepted */
  ck_assert_int_eq(latens_rng_poisson(&r, 1.0, NULL), LATENS_EINVAL);
  free(obs), free(expct), free(x);
}
END_TEST

/* Oracle: the normal limit.  For lambda >= 1e10, z = (k - lambda)/sqrt(lambda) is N(0, 1) up
 * to a skewness 1/sqrt(lambda) <= 1e-5 and a lattice step of the same size, which move each
 * of 40 equiprobable bins (5000 expected draws) by well under one draw.  Pearson's chi-square
 * on 39 df must stay below its 1e-3 quantile (72.05), fixed before running.  The PTRS
 * acceptance test used to evaluate -lambda + k log(lambda) - log(k!), whose rounding error
 * is several nats at 1e15 (chi-square p ~ 1e-316 there). */
START_TEST(poisson_huge_lambda) {
  enum { N = 200000, BINS = 40 };
  const double lambdas[] = {1e10, 1e13, 1e15};
  const double crit = gsl_cdf_chisq_Qinv(1e-3, BINS - 1);
  latens_rng r;
  latens_rng_init(&r, 2024, 7);
  for (int t = 0; t < 3; t++) {
    const double lam = lambdas[t], sd = sqrt(lam);
    double obs[BINS] = {0};
    int bad = 0;
    for (int i = 0; i < N; i++) {
      uint64_t k = 0;
      bad += latens_rng_poisson(&r, lam, &k) != LATENS_OK;
      double z = ((double)k - lam) / sd; /* k - lam is exact: both are integers below 2^53 */
      int b = (int)(BINS * gsl_cdf_ugaussian_P(z));
      obs[b < BINS ? b : BINS - 1] += 1;
    }
    ck_assert_int_eq(bad, 0);
    double stat = 0.0, e = (double)N / BINS;
    for (int b = 0; b < BINS; b++) stat += (obs[b] - e) * (obs[b] - e) / e;
    ck_assert_msg(stat < crit, "lambda %g: chi2 %g on %d df (limit %g)", lam, stat, BINS - 1, crit);
  }
}
END_TEST

/* Reference log-pmf in long double.  Moderate lambda: the textbook form, whose terms are at
 * most ~2e4 here, so long double's 5e-20 relative rounding leaves ~1e-15 absolute.  Huge
 * lambda: the exact identity log p = -log(2 pi k)/2 - S(k) - lambda g(t), t = (k - lambda)/
 * lambda, with Stirling's series S(k) = 1/(12k) - 1/(360k^3) (next term < 1e-40 for k >= 1e9)
 * and g(t) = (1 + t) log(1 + t) - t = sum_{j>=2} (-t)^j / (j (j - 1)), |t| <= 1e-4 (six
 * terms: truncation < 1e-28 relative).  Neither is Loader's series in v = (k - m)/(k + m). */
/* Whether long double really carries more digits than double: valgrind emulates x87 long
 * double arithmetic in double precision, which would make the reference no better than the
 * code under test (the comparison is then skipped; the plain run checks it). */
static int long_double_is_wider(void) {
  volatile long double one = 1.0L, tiny = 0x1p-60L;
  return one + tiny != one;
}

static long double logpmf_ref(uint64_t k, double lambda) {
  const long double kl = (long double)k, lam = lambda;
  if (lambda < 1e6) return -lam + kl * logl(lam) - lgammal(kl + 1);
  const long double t = (kl - lam) / lam;
  long double g = 0, tj = -t; /* (-t)^1; the loop makes (-t)^j */
  for (int j = 2; j <= 7; j++) tj *= -t, g += tj / (j * (j - 1));
  const long double S = 1 / (12 * kl) - 1 / (360 * kl * kl * kl);
  return -0.5L * logl(2 * (long double)M_PI * kl) - S - lam * g;
}

/* Oracle: logpmf_ref above, plus the closed forms log p(0) = -lambda, log p(1) = log(lambda)
 * - lambda.  Tolerance: the three terms of Loader's form are all <= 0, so each is at most
 * |log p| in size and carries a few roundings, except bd0 away from k = lambda: its direct
 * form x log(x/m) + m - x cancels by up to ~10x at the switch to the series, turning ~3 u in
 * x log(x/m) into ~30 u of bd0.  Hence 64 u max(1, |log p|). */
START_TEST(poisson_logpmf_accuracy) {
  const double u = DBL_EPSILON / 2;
  const double moderate[] = {0.5, 3.5, 10.0, 47.3, 1000.0};
  for (int t = 0; t < 5 && long_double_is_wider(); t++) {
    const double lam = moderate[t];
    for (uint64_t k = 0; k <= (uint64_t)(3 * lam + 30); k++) {
      double got = latens_rng_poisson_logpmf(k, lam), ref = (double)logpmf_ref(k, lam);
      ck_assert_msg(fabs(got - ref) <= 64 * u * fmax(1.0, fabs(ref)),
                    "lambda %g k %llu: %.17g vs %.17g", lam, (unsigned long long)k, got, ref);
    }
  }
  const double huge[] = {1e10, 1e13, 1e15};
  for (int t = 0; t < 3; t++) {
    const double lam = huge[t];
    for (int z = -8; z <= 8 && long_double_is_wider(); z++) {
      const uint64_t k = (uint64_t)(lam + z * floor(sqrt(lam)));
      double got = latens_rng_poisson_logpmf(k, lam), ref = (double)logpmf_ref(k, lam);
      ck_assert_msg(fabs(got - ref) <= 64 * u * fabs(ref), "lambda %g z %d: %.17g vs %.17g", lam,
                    z, got, ref);
    }
    ck_assert_double_eq(latens_rng_poisson_logpmf(0, lam), -lam);
    ck_assert_double_eq_tol(latens_rng_poisson_logpmf(1, lam), log(lam) - lam, 4 * u * lam);
  }
  /* lambda = 0 is a point mass at 0; bad lambdas give NaN and are reported. */
  ck_assert_double_eq(latens_rng_poisson_logpmf(0, 0.0), 0.0);
  ck_assert(isinf(latens_rng_poisson_logpmf(3, 0.0)) && latens_rng_poisson_logpmf(3, 0.0) < 0);
  latens_clear_error();
  ck_assert(isnan(latens_rng_poisson_logpmf(1, -1.0)));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EDOM);
  ck_assert(isnan(latens_rng_poisson_logpmf(1, NAN)));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_ENOTFINITE);
  ck_assert(isnan(latens_rng_poisson_logpmf(1, INFINITY)));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_ENOTFINITE);
  latens_clear_error();
}
END_TEST

START_TEST(categorical_distribution) {
  enum { N = 60000 };
  /* Unnormalised weights with a zero category; chi-square on the 4 positive ones (3 df). */
  double p[5] = {0.3, 0.6, 0.0, 0.9, 1.2}, lw[5], lw2[5];
  for (int i = 0; i < 5; i++) lw[i] = log(p[i]) + 1000.0, lw2[i] = log(p[i]) - 1000.0;
  latens_rng r;
  latens_rng_init(&r, 5, 5);
  for (int form = 0; form < 3; form++) {
    double obs[5] = {0}, expct[5];
    int bad = 0;
    for (int i = 0; i < N; i++) {
      size_t k = 99;
      int st = form == 0 ? latens_rng_categorical(&r, p, 5, &k)
                         : latens_rng_categorical_log(&r, form == 1 ? lw : lw2, 5, &k);
      bad += st != LATENS_OK || k >= 5;
      if (k < 5) obs[k] += 1;
    }
    ck_assert_int_eq(bad, 0);
    ck_assert_double_eq(obs[2], 0.0); /* the zero-weight category */
    double o4[4] = {obs[0], obs[1], obs[3], obs[4]};
    for (int i = 0, j = 0; i < 5; i++)
      if (p[i] > 0) expct[j++] = N * p[i] / 3.0;
    int df;
    double stat = chisq(o4, expct, 4, &df);
    ck_assert_int_eq(df, 3);
    ck_assert_msg(stat < gsl_cdf_chisq_Qinv(1e-3, 3), "form %d: chi2 %g", form, stat);
  }
  size_t k;
  double bad[3] = {0.5, -0.1, 0.5}, zero[3] = {0, 0, 0}, inf[2] = {1, INFINITY}, nan[2] = {1, NAN};
  double big[2] = {DBL_MAX, DBL_MAX}; /* finite weights whose sum overflows */
  ck_assert_int_eq(latens_rng_categorical(&r, bad, 3, &k), LATENS_EDOM);
  ck_assert_int_eq(latens_rng_categorical(&r, zero, 3, &k), LATENS_EDOM);
  ck_assert_int_eq(latens_rng_categorical(&r, big, 2, &k), LATENS_EDOM);
  ck_assert_int_eq(latens_rng_categorical(&r, inf, 2, &k), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_rng_categorical(&r, nan, 2, &k), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_rng_categorical(&r, p, 0, &k), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_categorical(&r, NULL, 3, &k), LATENS_EINVAL);
  double linf[2] = {0, INFINITY}, lnan[2] = {0, NAN}, lall[2] = {-INFINITY, -INFINITY};
  ck_assert_int_eq(latens_rng_categorical_log(&r, linf, 2, &k), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_rng_categorical_log(&r, lnan, 2, &k), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_rng_categorical_log(&r, lall, 2, &k), LATENS_EDOM);
  ck_assert_int_eq(latens_rng_categorical_log(&r, lw, 0, &k), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_categorical_log(&r, lw, 5, NULL), LATENS_EINVAL);
  /* A single positive weight is always drawn. */
  double one[3] = {-INFINITY, 5.0, -INFINITY};
  for (int i = 0; i < 10; i++) {
    ck_assert_int_eq(latens_rng_categorical_log(&r, one, 3, &k), LATENS_OK);
    ck_assert_uint_eq(k, 1);
  }
}
END_TEST

/* Per-path work of a small Monte Carlo: everything a path draws comes from its own split. */
enum { PATHS = 64, PATH_LEN = 50 };
static void run_paths(const latens_rng *root, double *out, int threads, int reverse) {
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int q = 0; q < PATHS; q++) {
    int p = reverse ? PATHS - 1 - q : q;
    latens_rng r;
    latens_rng_split(&r, root, (uint64_t)p);
    double *o = out + (size_t)p * (PATH_LEN + 3);
    latens_rng_fill_normal(&r, o, PATH_LEN, 0.0, 1.0);
    uint64_t k;
    latens_rng_gamma(&r, 0.5 + p % 3, 1.0, o + PATH_LEN);
    latens_rng_poisson(&r, 5.0 + 10.0 * (p % 4), &k);
    o[PATH_LEN + 1] = (double)k;
    o[PATH_LEN + 2] = latens_rng_uniform(&r);
  }
}

START_TEST(thread_count_independence) {
  /* Oracle: bitwise equality of per-path results computed with 1 and 2 OpenMP threads and in
   * reversed path order. */
  size_t sz = (size_t)PATHS * (PATH_LEN + 3) * sizeof(double);
  double *a = malloc(sz), *b = malloc(sz), *c = malloc(sz);
  latens_rng root;
  latens_rng_init(&root, 31337, 0);
  run_paths(&root, a, 1, 0);
  run_paths(&root, b, 2, 0);
  run_paths(&root, c, 2, 1);
  ck_assert(memcmp(a, b, sz) == 0);
  ck_assert(memcmp(a, c, sz) == 0);
  free(a), free(b), free(c);
}
END_TEST

START_TEST(gsl_adaptor) {
  latens_rng r, copy;
  latens_rng_init(&r, 8, 2);
  latens_rng_uint32(&r);
  copy = r;
  gsl_rng *g = latens_rng_gsl_alloc(&r);
  ck_assert_ptr_nonnull(g);
  ck_assert_uint_eq(gsl_rng_max(g), 0xffffffffUL);
  ck_assert_uint_eq(gsl_rng_min(g), 0);
  /* The adaptor continues the copied stream word for word. */
  for (int i = 0; i < 10; i++) ck_assert_uint_eq(gsl_rng_get(g), latens_rng_uint32(&copy));
  ck_assert_double_eq(gsl_rng_uniform(g), latens_rng_uniform(&copy));
  /* Draws interleave through either interface. */
  latens_rng *inner = latens_rng_from_gsl(g);
  ck_assert_ptr_nonnull(inner);
  ck_assert(latens_rng_uint64(inner) == latens_rng_uint64(&copy));
  ck_assert_uint_eq(gsl_rng_get(g), latens_rng_uint32(&copy));
  /* gsl_ran_* works on it: gsl_ran_gaussian moments (closed form, 5 sd). */
  enum { N = 20000 };
  double s = 0, s2 = 0;
  for (int i = 0; i < N; i++) {
    double z = gsl_ran_gaussian(g, 2.0);
    s += z, s2 += z * z;
  }
  ck_assert_double_eq_tol(s / N, 0.0, 5 * 2.0 / sqrt(N));
  ck_assert_double_eq_tol(s2 / N, 4.0, 5 * 4.0 * sqrt(2.0 / N));
  gsl_rng *cl = gsl_rng_clone(g);
  ck_assert_uint_eq(gsl_rng_get(cl), gsl_rng_get(g));
  gsl_rng_free(cl);
  /* gsl_rng_set and gsl_rng_alloc start stream (seed, 0). */
  gsl_rng_set(g, 5);
  latens_rng_init(&copy, 5, 0);
  ck_assert_uint_eq(gsl_rng_get(g), latens_rng_uint32(&copy));
  gsl_rng_free(g);
  gsl_rng *d = gsl_rng_alloc(latens_rng_gsl_type());
  latens_rng_init(&copy, gsl_rng_default_seed, 0);
  ck_assert_uint_eq(gsl_rng_get(d), latens_rng_uint32(&copy));
  ck_assert_str_eq(gsl_rng_name(d), "latens-philox4x32-10");
  gsl_rng_free(d);
  gsl_rng *mt = gsl_rng_alloc(gsl_rng_mt19937);
  ck_assert_ptr_null(latens_rng_from_gsl(mt));
  gsl_rng_free(mt);
  ck_assert_ptr_null(latens_rng_from_gsl(NULL));
  ck_assert_ptr_null(latens_rng_gsl_alloc(NULL));
}
END_TEST

START_TEST(rng_bad_input) {
  latens_rng r;
  double x[2];
  ck_assert_int_eq(latens_rng_init(NULL, 1, 1), LATENS_EINVAL);
  latens_rng_init(&r, 1, 1);
  ck_assert_int_eq(latens_rng_split(NULL, &r, 0), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_split(&r, NULL, 0), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_split(&r, &r, 0), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_seek(NULL, 3), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_fill_normal(&r, NULL, 2, 0, 1), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_fill_normal(NULL, x, 2, 0, 1), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_fill_normal(&r, x, 2, 0, -1), LATENS_EDOM);
  ck_assert_int_eq(latens_rng_fill_normal(&r, x, 2, NAN, 1), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_rng_fill_normal(&r, x, 2, 0, INFINITY), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_rng_fill_normal(&r, NULL, 0, 0, 1), LATENS_OK);
  ck_assert_int_eq(latens_rng_fill_uniform(&r, NULL, 2), LATENS_EINVAL);
}
END_TEST

/* ---------------------------------------------------------------- the ziggurat normal */

#include "../../src/core/rng_ziggurat.h"
#include "../../src/core/rng_impl.h" /* the kernel test hook */

START_TEST(ziggurat_tables) {
  /* Oracle: the defining equations of the 256-layer ziggurat (Marsaglia & Tsang 2000),
   * evaluated here in long double from the closed forms f(x) = exp(-x^2/2) and
   * integral_r^inf f = sqrt(pi/2) erfc(r/sqrt 2): every layer has area V, the top one ends at
   * f = 1, F = f(X), and K is the fast-accept bound floor(2^53 X[i+1]/X[i]). */
  const long double r = ZIG_R, v = r * expl(-0.5L * r * r) + sqrtl(M_PI / 2) * erfcl(r / sqrtl(2));
  ck_assert_double_eq_tol(ZIG_V, (double)v, (1 + ZIG_R * ZIG_R) * 4 * DBL_EPSILON * ZIG_V);
  long double X[257];
  for (int i = 0; i < 256; i++) X[i] = ldexpl(ZIG_W[i], 53);
  X[256] = 0;
  ck_assert_double_eq_tol((double)X[1], ZIG_R, 1e-15 * ZIG_R);
  int bad = 0;
  for (int i = 0; i < 256; i++) bad += ZIG_W[256 + i] != -ZIG_W[i]; /* the signed half */
  /* F was computed from the unrounded X: the rounding of X to double (2^-53 relative) moves
   * f by X^2 2^-53 relative, and exp's own error here is up to (1 + X^2/2) ulp where long
   * double is only double (valgrind), so the bound is (1 + X^2) 4 eps. */
  for (int i = 0; i <= 256; i++) {
    long double f = expl(-0.5L * X[i] * X[i]);
    if (fabsl(f - ZIG_F[i]) > (1 + X[i] * X[i]) * 4 * DBL_EPSILON * f) bad++;
  }
  ck_assert_int_eq(bad, 0);
  ck_assert(ZIG_F[256] == 1.0);
  /* base strip: X[0] f(r) = V; layer i >= 1: X[i] (F[i+1] - F[i]) = V */
  ck_assert_double_eq_tol((double)(X[0] * ZIG_F[1]), (double)v, 1e-13 * (double)v);
  for (int i = 1; i < 256; i++) {
    long double area = X[i] * ((long double)ZIG_F[i + 1] - ZIG_F[i]);
    if (fabsl(area - v) > 1e-11L * v) bad++;
    /* the tables' X are the long double X rounded to double (relative error 2^-53 each),
     * so their ratio can move K by up to 2 at the 2^53 scale; floor adds 1 */
    uint64_t k = (uint64_t)floorl(ldexpl(X[i + 1] / X[i], 53));
    if (k > ZIG_K[i] + 3 || k + 3 < ZIG_K[i]) bad++;
  }
  ck_assert_int_eq(bad, 0);
  ck_assert(ZIG_K[255] == 0); /* the top layer always takes the wedge test */
}
END_TEST

START_TEST(normal_million_ks_and_tails) {
  /* Oracles: Kolmogorov-Smirnov against Phi (closed form through erfc) on 10^6 draws with
   * the 1e-3 critical value, moments against their closed-form sampling sds (5 sd), lag-1
   * correlation against N(0, 1/n), and the counts in the tail bins [3, r), [r, 4), [4, 4.5),
   * [4.5, 5), [5, inf) of |z| on 4 10^6 draws (r = 3.654, where the ziggurat switches to its
   * exact tail sampler) by chi-square against 2 (Phi(b) - Phi(a)) with the 1e-3 critical value. */
  enum { N = 1000000, NT = 4000000, CH = 100000 };
  double *x = malloc(NT * sizeof *x), mean, var;
  latens_rng r;
  latens_rng_init(&r, 20261128, 3);
  ck_assert_int_eq(latens_rng_fill_normal(&r, x, N, 0.0, 1.0), LATENS_OK);
  mean_var(x, N, &mean, &var);
  double s3 = 0, s4 = 0, c1 = 0;
  for (int i = 0; i < N; i++) {
    double d = x[i] - mean;
    s3 += d * d * d, s4 += d * d * d * d;
    if (i) c1 += (x[i] - mean) * (x[i - 1] - mean);
  }
  double skew = s3 / N / pow(var, 1.5), kurt = s4 / N / (var * var) - 3.0, rho = c1 / (N - 1) / var;
  ck_assert_double_eq_tol(mean, 0.0, 5 / sqrt(N));
  ck_assert_double_eq_tol(var, 1.0, 5 * sqrt(2.0 / N));
  ck_assert_double_eq_tol(skew, 0.0, 5 * sqrt(6.0 / N));
  ck_assert_double_eq_tol(kurt, 0.0, 5 * sqrt(24.0 / N));
  ck_assert_msg(fabs(rho) < 5 / sqrt(N), "lag-1 correlation %g", rho);
  double par[2] = {0.0, 1.0};
  double ks = ks_stat(x, N, cdf_normal, par);
  ck_assert_msg(ks < KS_CRIT_1E3 / sqrt(N), "normal KS D = %g on %d draws", ks, N);
  /* tails, drawn in chunks through both interfaces */
  for (size_t i = 0; i < NT; i += CH) {
    if ((i / CH) % 2) latens_rng_fill_normal(&r, x + i, CH, 0.0, 1.0);
    else
      for (size_t j = i; j < i + CH; j++) x[j] = latens_rng_normal(&r);
  }
  const double edge[6] = {3.0, ZIG_R, 4.0, 4.5, 5.0, INFINITY};
  double obs[5] = {0}, expct[5], pos = 0, neg = 0;
  for (size_t i = 0; i < NT; i++) {
    double a = fabs(x[i]);
    if (a < 3.0) continue;
    for (int b = 0; b < 5; b++)
      if (a < edge[b + 1]) {
        obs[b]++;
        break;
      }
    if (x[i] > 0) pos++;
    else neg++;
  }
  for (int b = 0; b < 5; b++)
    expct[b] = NT * (erfc(edge[b] / M_SQRT2) - erfc(edge[b + 1] / M_SQRT2));
  int df;
  double stat = chisq(obs, expct, 5, &df);
  ck_assert_msg(stat < gsl_cdf_chisq_Qinv(1e-3, df), "tail chi2 %g on %d df", stat, df);
  /* beyond 4 sigma alone: Poisson count, 5 sd */
  double e4 = NT * erfc(4.0 / M_SQRT2), o4 = obs[2] + obs[3] + obs[4];
  ck_assert_msg(fabs(o4 - e4) < 5 * sqrt(e4), "%g draws beyond 4 sd, expected %g", o4, e4);
  /* the tails are symmetric: a sign bias would show as pos - neg ~ N(0, pos + neg) */
  ck_assert_msg(fabs(pos - neg) < 5 * sqrt(pos + neg), "tail signs %g vs %g", pos, neg);
  free(x);
}
END_TEST

/* Fills of 1..1200 values (across the bulk batches and through the ziggurat's wedge and
 * tail) at every word offset through kernel (-1: the public latens_rng_fill_normal, 0 the
 * portable scalar kernel, 1 the AVX2 one); the number of cases that differ from single draws. */
static int fill_mismatches(int kernel) {
  int bad = 0;
  for (int t = 0; t < 400; t++) {
    latens_rng a, b;
    latens_rng_init(&a, (uint64_t)t * 977, (uint64_t)t);
    for (int k = 0; k < t % 5; k++) latens_rng_uint32(&a);
    b = a;
    size_t n = 1 + (size_t)(t * 37) % 1200;
    double x[1200], y[1200];
    if (kernel < 0) latens_rng_fill_normal(&a, x, n, 0.25, 1.5);
    else bad += latens_rng_fill_normal_kernel(&a, x, n, 0.25, 1.5, kernel) != LATENS_OK;
    for (size_t i = 0; i < n; i++) y[i] = 0.25 + 1.5 * latens_rng_normal(&b);
    bad += memcmp(x, y, n * sizeof *x) != 0 || memcmp(&a, &b, sizeof a) != 0;
    latens_rng_fill_uniform(&a, x, n);
    for (size_t i = 0; i < n; i++) y[i] = latens_rng_uniform(&b);
    bad += memcmp(x, y, n * sizeof *x) != 0 || memcmp(&a, &b, sizeof a) != 0;
    bad += latens_rng_uint32(&a) != latens_rng_uint32(&b);
  }
  return bad;
}

START_TEST(fill_normal_equals_single_draws) {
  /* Oracle: bitwise equality with successive single draws, including the stream state after
   * (so draws of any kind continue alike), through the public fill and through each kernel
   * it may dispatch to, so the portable kernel is checked on an AVX2 machine too. */
  ck_assert_int_eq(fill_mismatches(-1), 0);
  ck_assert_int_eq(fill_mismatches(0), 0);
  double x[4];
  latens_rng r;
  latens_rng_init(&r, 1, 0);
  int avx2 = latens_rng_fill_normal_kernel(&r, x, 4, 0.0, 1.0, 1);
  ck_assert(avx2 == LATENS_OK || avx2 == LATENS_EUNIMPL);
  if (avx2 == LATENS_OK) ck_assert_int_eq(fill_mismatches(1), 0);
  /* a long fill: every AVX2 block position of a failing lane, many times over (1.5% of
   * attempts fail the fast test) */
  enum { NL = 200000 };
  double *u = malloc(NL * sizeof *u), *v = malloc(NL * sizeof *v);
  for (int kernel = 0; kernel <= (avx2 == LATENS_OK); kernel++) {
    latens_rng a, b;
    latens_rng_init(&a, 99, (uint64_t)kernel);
    b = a;
    ck_assert_int_eq(latens_rng_fill_normal_kernel(&a, u, NL, -1.0, 0.5, kernel), LATENS_OK);
    for (size_t i = 0; i < NL; i++) v[i] = -1.0 + 0.5 * latens_rng_normal(&b);
    ck_assert(memcmp(u, v, NL * sizeof *u) == 0 && memcmp(&a, &b, sizeof a) == 0);
  }
  free(u), free(v);
  /* the hook's own checks */
  ck_assert_int_eq(latens_rng_fill_normal_kernel(&r, x, 4, 0.0, 1.0, 2), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_fill_normal_kernel(&r, x, 4, 0.0, -1.0, 0), LATENS_EDOM);
  ck_assert_int_eq(latens_rng_fill_normal_kernel(&r, NULL, 4, 0.0, 1.0, 0), LATENS_EINVAL);
}
END_TEST

Suite *rng_suite(void) {
  Suite *s = suite_create("rng");
  TCase *tc = tcase_create("rng");
  tcase_add_test(tc, philox_known_answers);
  tcase_add_test(tc, stream_layout_and_seek);
  tcase_add_test(tc, reproducible_streams);
  tcase_add_test(tc, streams_differ_and_are_uncorrelated);
  tcase_add_test(tc, uniform_and_normal_distributions);
  tcase_add_test(tc, scalar_draws_report_bad_parameters);
  tcase_add_test(tc, gamma_distribution);
  tcase_add_test(tc, poisson_distribution);
  tcase_add_test(tc, poisson_huge_lambda);
  tcase_add_test(tc, poisson_logpmf_accuracy);
  tcase_add_test(tc, categorical_distribution);
  tcase_add_test(tc, thread_count_independence);
  tcase_add_test(tc, gsl_adaptor);
  tcase_add_test(tc, rng_bad_input);
  tcase_add_test(tc, ziggurat_tables);
  tcase_add_test(tc, normal_million_ks_and_tails);
  tcase_add_test(tc, fill_normal_equals_single_draws);
  suite_add_tcase(s, tc);
  return s;
}
