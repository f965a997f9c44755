/* bench/gp/bench_gpfa.c: the cvHM-style Poisson latent benchmark (Dowling, Zhao & Park 2023;
 * cvhmax's end-to-end test): Van der Pol latents, dt = 0.02, T = 500 bins, 10 trials,
 * 50 Poisson neurons at 5 counts per bin; GPFA with two Matérn-3/2 latents (variance 1,
 * lengthscale 1) learnt by CVI + readout updates.  Prints the pooled R^2 of the recovered
 * latents after one affine alignment (the bar is 0.96) and the wall time, beside two
 * references from the same run: the R^2 of the posterior means under the TRUE readout (what
 * the data allow at best) and the wall time of that single inference. */
#include <math.h>
#include <stdio.h>
#include <time.h>
#include "../bench.h"
#include "../../tests/gp/vdp.h"

static double true_readout_r2(const vdp_data *v, double *secs) {
  latens_gp_term term = {LATENS_GP_MATERN32, 1.0, 1.0, 0};
  latens_gp_kernel *k = latens_gp_kernel_alloc(&term, 1);
  size_t dims[2] = {latens_gp_kernel_dim(k), latens_gp_kernel_dim(k)}, n = v->R * v->T;
  double *t = malloc(v->T * sizeof *t), *M = malloc(n * 2 * sizeof *M), *X = malloc(n * 2 * sizeof *X);
  double *tmp = malloc(v->T * 2 * sizeof *tmp), r2 = NAN;
  for (size_t i = 0; i < v->T; i++) t[i] = (double)i * v->dt;
  latens_gp_cvi_readout ro = {LATENS_GP_CVI_POISSON, v->N, v->C, v->N, v->d, NULL};
  double t0 = bench_now();
  for (size_t r = 0; r < v->R; r++) {
    latens_gp_ssm *s = latens_gp_ssm_alloc(2, dims, v->T, 1);
    latens_gp_ssm_set_kernel(s, 0, k, t), latens_gp_ssm_set_kernel(s, 1, k, t);
    latens_gp_cvi *w = latens_gp_cvi_alloc(s);
    latens_gp_cvi_run(w, &ro, v->Y + r * v->T * v->N, v->T, NULL, NULL);
    latens_gp_cvi_latents(w, tmp, v->T, NULL, 0);
    for (size_t i = 0; i < v->T; i++) {
      M[r * v->T + i] = tmp[i], M[n + r * v->T + i] = tmp[i + v->T];
      X[r * v->T + i] = v->X[r * v->T * 2 + i], X[n + r * v->T + i] = v->X[r * v->T * 2 + i + v->T];
    }
    latens_gp_cvi_free(w), latens_gp_ssm_free(s);
  }
  *secs = bench_now() - t0;
  latens_gp_affine_r2(M, n, 2, X, n, 2, n, &r2);
  free(t), free(M), free(X), free(tmp);
  latens_gp_kernel_free(k);
  return r2;
}

int main(void) {
  vdp_data v;
  if (vdp_make(&v, 10, 500, 50, 0.02, 0.05, 5.0, 1)) {
    fprintf(stderr, "bench_gpfa: out of memory\n");
    return 1;
  }
  printf("cvHM Poisson benchmark: Van der Pol, 10 trials x 500 bins (dt 0.02) x 50 neurons, "
         "%d thread(s)\n", latens_max_threads());
  double fit_secs = NAN;
  for (size_t iters = 5; iters <= 20; iters *= 4) {
    int st;
    size_t done = 0;
    double t0 = bench_now();
    clock_t c0 = clock(); /* CPU time too: wall time on a shared machine mostly measures load */
    double r2 = vdp_fit_r2(&v, 1.0, iters, &st, &done);
    double secs = bench_now() - t0, cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    fit_secs = secs;
    printf("  GPFA (CVI + readout), %2zu outer iterations: pooled R^2 %.4f (bar 0.96: %s), "
           "%.2f s wall, %.2f s CPU, status %d\n", done, r2, r2 >= 0.96 ? "met" : "NOT met", secs,
           cpu, st);
  }
  clock_t c0 = clock();
  double ref_secs, ref = true_readout_r2(&v, &ref_secs);
  printf("  reference, CVI with the true readout:        pooled R^2 %.4f, %.2f s wall, %.2f s CPU\n",
         ref, ref_secs, (double)(clock() - c0) / CLOCKS_PER_SEC);
  printf("  ratio: the 20-iteration fit takes %.1f x the wall time of one inference with the "
         "true readout\n", fit_secs / ref_secs);
  vdp_free(&v);
  return 0;
}
