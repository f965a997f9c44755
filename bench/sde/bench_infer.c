/* bench/sde/bench_infer.c: throughput of the sde inference routines beside references
 * measured in the same run.
 *
 *   1. Bootstrap particle filter on a 1-D OU observed with noise (exact transitions,
 *      systematic resampling every step): particle-steps per second, against
 *      (a) the floor: drawing the same normals with the core generator alone, and
 *      (b) a naive filter written here as one writes it first: a normal drawn per particle
 *          by a scalar call, the Gaussian log-density with its constants per particle, and
 *          multinomial resampling by binary search in the cumulative weights.
 *   2. Exact Kalman filter of the OU at regular times: steps per second against a
 *      hand-written scalar Kalman loop for the same model (the floor for a 1-D filter).
 *   3. Fitting the Nile OU: Kalman MLE and SDE matching wall time (data/nile.csv, or the
 *      bundled copy under LATENS_SRCDIR; skipped with a message when absent). */
#include "../bench.h"
#include <latens/latens.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T = 1000, N = 10000, TK = 100000 };

static double naive_pf(const double *x, double a, double q, double r, double P0, uint64_t seed) {
  double *z = malloc(N * sizeof *z), *zn = malloc(N * sizeof *zn), *cw = malloc(N * sizeof *cw);
  latens_rng g;
  latens_rng_init(&g, seed, 0);
  double ll = 0;
  for (int i = 0; i < N; i++) z[i] = sqrt(P0) * latens_rng_normal(&g);
  for (int k = 0; k < T; k++) {
    double mx = -INFINITY, sum = 0;
    for (int i = 0; i < N; i++) {
      if (k) z[i] = a * z[i] + sqrt(q) * latens_rng_normal(&g);
      double d = x[k] - z[i];
      cw[i] = -0.5 * log(2 * M_PI * r) - 0.5 * d * d / r;
      if (cw[i] > mx) mx = cw[i];
    }
    for (int i = 0; i < N; i++) sum += exp(cw[i] - mx), cw[i] = sum;
    ll += mx + log(sum / N);
    for (int i = 0; i < N; i++) { /* multinomial: binary search per draw */
      double u = latens_rng_uniform(&g) * sum;
      int lo = 0, hi = N - 1;
      while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cw[mid] < u)
          lo = mid + 1;
        else
          hi = mid;
      }
      zn[i] = z[lo];
    }
    double *t = z;
    z = zn, zn = t;
  }
  free(z), free(zn), free(cw);
  return ll;
}

static double kalman_ref(const double *x, double a, double q, double r, double P0) {
  double m = 0, P = P0, ll = 0;
  for (int k = 0; k < TK; k++) {
    if (k) m = a * m, P = a * a * P + q;
    double S = P + r, v = x[k] - m, K = P / S;
    ll += -0.5 * (log(2 * M_PI * S) + v * v / S);
    m += K * v, P = (1 - K) * P * (1 - K) + K * r * K;
  }
  return ll;
}

static int read_nile(const char *path, double *t, double *x, size_t *n) {
  FILE *f = fopen(path, "r");
  char line[256];
  if (!f) return 1;
  *n = 0;
  if (!fgets(line, sizeof line, f)) {
    fclose(f);
    return 1;
  }
  while (*n < 200 && fgets(line, sizeof line, f) && sscanf(line, "%lf,%lf", &t[*n], &x[*n]) == 2)
    (*n)++;
  fclose(f);
  return *n < 10;
}

int main(void) {
  const double kappa = 0.5, sigma = 1.0, r = 0.3, dt = 0.1;
  const double a = exp(-kappa * dt), P0 = sigma * sigma / (2 * kappa), q = P0 * (1 - a * a);
  double *t = malloc(TK * sizeof *t), *x = malloc(TK * sizeof *x),
         *tmp = malloc((size_t)N * T * sizeof *tmp);
  double th[4] = {kappa, 0.0, sigma, r};
  uint64_t s = 5;
  double z = 0;
  for (int k = 0; k < TK; k++) {
    t[k] = dt * k;
    z = a * z + sqrt(q) * bench_unif(&s);
    x[k] = z + sqrt(r) * bench_unif(&s);
  }
  double A = -kappa, b = 0, Sg = sigma * sigma, m0 = 0, C = 1, R = r;
  latens_sde_lti M = {1, 0.0, &A, &b, &Sg, &m0, &P0};
  latens_sde_readout ro = {LATENS_SDE_READOUT_GAUSSIAN, 1, &C, NULL, &R};
  latens_sde_data y = {T, 1, t, x, 1};
  latens_sde_lti_sampler *smp = latens_sde_lti_sampler_alloc(&M);
  latens_sde_pf_model pm = latens_sde_lti_sampler_model(smp);
  latens_sde_pf_options po;
  latens_sde_pf_options_default(&po);
  po.particles = N;
  double t_lib, t_floor, t_naive, ll_lib = 0, ll_naive = 0, ll_exact;
  latens_sde_lti_filter(&M, &ro, &y, NULL, NULL, &ll_exact);
  BENCH_BEST(3, t_lib, {
    latens_rng g;
    latens_rng_init(&g, 1, 0);
    latens_sde_pf_result res = {0};
    latens_sde_pf_run(&pm, &ro, &y, &po, &g, &res);
    ll_lib = res.loglik;
  });
  BENCH_BEST(3, t_floor, {
    latens_rng g;
    latens_rng_init(&g, 1, 0);
    latens_rng_fill_normal(&g, tmp, (size_t)N * T, 0.0, 1.0);
  });
  BENCH_BEST(3, t_naive, ll_naive = naive_pf(x, a, q, r, P0, 1));
  const double ps = (double)N * T;
  printf("particle filter, OU, %d particles x %d steps (log-likelihood %.2f, naive %.2f, exact "
         "%.2f)\n",
         N, T, ll_lib, ll_naive, ll_exact);
  printf("  latens_sde_pf_run        %8.2f M particle-steps/s  (%.1f ns each)\n", ps / t_lib / 1e6,
         t_lib / ps * 1e9);
  printf("  normal draws only        %8.2f M/s                 ratio lib/floor %.2f\n",
         ps / t_floor / 1e6, t_lib / t_floor);
  printf("  naive filter             %8.2f M particle-steps/s  speed-up %.2fx\n",
         ps / t_naive / 1e6, t_naive / t_lib);

  latens_sde_data yk = {TK, 1, t, x, 1};
  double t_kf, t_ref, llk = 0, llr = 0;
  BENCH_BEST(3, t_kf, latens_sde_lti_filter(&M, &ro, &yk, NULL, NULL, &llk));
  BENCH_BEST(3, t_ref, llr = kalman_ref(x, a, q, r, P0));
  printf("Kalman filter, OU, %d regular steps (log-likelihood %.4f, reference %.4f)\n", TK, llk,
         llr);
  printf("  latens_sde_lti_filter    %8.2f M steps/s\n", TK / t_kf / 1e6);
  printf("  scalar hand-written loop %8.2f M steps/s  ratio lib/ref %.2f\n", TK / t_ref / 1e6,
         t_kf / t_ref);

  const char *src = getenv("LATENS_SRCDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/data/nile.csv", src ? src : "..");
  double nt[200], nx[200];
  size_t nn;
  if (read_nile(path, nt, nx, &nn)) {
    printf("Nile fits skipped: %s not found (set LATENS_SRCDIR)\n", path);
  } else {
    latens_sde_data yn = {nn, 1, nt, nx, 1};
    latens_sde_fit_options fo;
    latens_sde_fit_options_default(&fo);
    latens_sde_fit_result r1, r2;
    double t_mle, t_match;
    BENCH_BEST(3, t_mle, latens_sde_ou_fit(&yn, &fo, &r1));
    fo.method = LATENS_SDE_FIT_MATCHING;
    BENCH_BEST(3, t_match, latens_sde_ou_fit(&yn, &fo, &r2));
    printf("Nile OU fit (%zu points): Kalman MLE %.1f ms (%zu iterations), SDE matching %.1f ms "
           "(%zu iterations, %zu spline coefficients + 4); ratio %.1f\n",
           nn, 1e3 * t_mle, r1.iterations, 1e3 * t_match, r2.iterations,
           (size_t)2 * (3 * 3 * (nn - 1) + 1), t_match / t_mle);
    printf("  kappa %.4f vs %.4f, mu %.2f vs %.2f, loglik %.4f vs %.4f\n", r1.theta[0], r2.theta[0],
           r1.theta[1], r2.theta[1], r1.loglik, r2.loglik);
  }
  (void)th;
  latens_sde_lti_sampler_free(smp);
  free(t), free(x), free(tmp);
  return 0;
}
