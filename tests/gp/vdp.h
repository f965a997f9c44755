/* tests/gp/vdp.h: the cvHM-style Poisson latent benchmark data, shared by the test and the
 * benchmark: Van der Pol latents observed through Poisson neurons.
 *
 * Latents: x' = v, v' = mu (1 - x^2) v - x with mu = 1, Euler-Maruyama at step dt with
 * diffusion sd sigma on both coordinates (increments sigma sqrt(dt) N(0,1)), each trial from
 * N(0, 2^2 I) after a burn-in of 5 time units so that it starts near the limit cycle; then the
 * T recorded steps of every trial are standardised (pooled mean 0, sd 1 per coordinate).
 * Neurons: C has N(0,1) entries with unit-norm columns, d = log(base rate per bin), counts
 * y ~ Poisson(exp(C x + d)).  Stream (seed, 0) draws everything, in that order. */
#ifndef LATENS_TESTS_GP_VDP_H
#define LATENS_TESTS_GP_VDP_H
#include <math.h>
#include <stdlib.h>
#include <latens/latens.h>

typedef struct {
  size_t R, T, N;  /* trials, steps per trial, neurons */
  double dt;
  double *X;       /* R blocks of T x 2 (ld T): standardised latents */
  double *Y;       /* R blocks of T x N (ld T): counts */
  double *C, *d;   /* N x 2, N */
} vdp_data;

static inline int vdp_make(vdp_data *v, size_t R, size_t T, size_t N, double dt, double sigma,
                           double rate, uint64_t seed) {
  latens_rng g;
  latens_rng_init(&g, seed, 0);
  v->R = R, v->T = T, v->N = N, v->dt = dt;
  v->X = malloc(R * T * 2 * sizeof *v->X), v->Y = malloc(R * T * N * sizeof *v->Y);
  v->C = malloc(N * 2 * sizeof *v->C), v->d = malloc(N * sizeof *v->d);
  if (!v->X || !v->Y || !v->C || !v->d) return -1;
  const double sq = sigma * sqrt(dt);
  const size_t burn = (size_t)(5.0 / dt);
  for (size_t r = 0; r < R; r++) {
    double x = 2 * latens_rng_normal(&g), u = 2 * latens_rng_normal(&g);
    double *X = v->X + r * T * 2;
    for (size_t s = 0; s < burn + T; s++) {
      double dx = u * dt + sq * latens_rng_normal(&g);
      double du = ((1 - x * x) * u - x) * dt + sq * latens_rng_normal(&g);
      x += dx, u += du;
      if (s >= burn) X[s - burn] = x, X[s - burn + T] = u;
    }
  }
  for (int k = 0; k < 2; k++) {
    double m = 0, s2 = 0, n = (double)(R * T);
    for (size_t r = 0; r < R; r++)
      for (size_t t = 0; t < T; t++) m += v->X[r * T * 2 + t + k * T];
    m /= n;
    for (size_t r = 0; r < R; r++)
      for (size_t t = 0; t < T; t++) {
        double e = v->X[r * T * 2 + t + k * T] - m;
        s2 += e * e;
      }
    double sd = sqrt(s2 / n);
    for (size_t r = 0; r < R; r++)
      for (size_t t = 0; t < T; t++) {
        double *e = &v->X[r * T * 2 + t + k * T];
        *e = (*e - m) / sd;
      }
  }
  for (int k = 0; k < 2; k++) {
    double nn = 0;
    for (size_t n = 0; n < N; n++) v->C[n + k * N] = latens_rng_normal(&g), nn += v->C[n + k * N] * v->C[n + k * N];
    for (size_t n = 0; n < N; n++) v->C[n + k * N] /= sqrt(nn);
  }
  for (size_t n = 0; n < N; n++) v->d[n] = log(rate);
  for (size_t r = 0; r < R; r++)
    for (size_t n = 0; n < N; n++)
      for (size_t t = 0; t < T; t++) {
        const double *X = v->X + r * T * 2;
        double eta = v->d[n] + v->C[n] * X[t] + v->C[n + N] * X[t + T];
        uint64_t c;
        latens_rng_poisson(&g, exp(eta), &c);
        v->Y[r * T * N + t + n * T] = (double)c;
      }
  return 0;
}

static inline void vdp_free(vdp_data *v) { free(v->X), free(v->Y), free(v->C), free(v->d); }

/* Fit GPFA with two Matérn-3/2 latents (variance 1, lengthscale ell) on the regular grid and
 * return the pooled R^2 of the recovered means against the true latents after one affine
 * map fitted over all trials.  status receives the fit's status. */
static inline double vdp_fit_r2(const vdp_data *v, double ell, size_t max_iter, int *status,
                                size_t *iters) {
  latens_gp_term term = {LATENS_GP_MATERN32, 1.0, ell, 0};
  latens_gp_kernel *k = latens_gp_kernel_alloc(&term, 1);
  size_t dims[2] = {latens_gp_kernel_dim(k), latens_gp_kernel_dim(k)};
  double *t = malloc(v->T * sizeof *t), *M = malloc(v->R * v->T * 2 * sizeof *M), r2 = NAN;
  latens_gp_ssm **pr = calloc(v->R, sizeof *pr);
  const double **Y = malloc(v->R * sizeof *Y);
  size_t *ld = malloc(v->R * sizeof *ld);
  for (size_t i = 0; i < v->T; i++) t[i] = (double)i * v->dt;
  for (size_t r = 0; r < v->R; r++) {
    pr[r] = latens_gp_ssm_alloc(2, dims, v->T, 1);
    latens_gp_ssm_set_kernel(pr[r], 0, k, t);
    latens_gp_ssm_set_kernel(pr[r], 1, k, t);
    Y[r] = v->Y + r * v->T * v->N, ld[r] = v->T;
  }
  latens_gp_gpfa_options o;
  latens_gp_gpfa_options_default(&o);
  o.lik = LATENS_GP_CVI_POISSON, o.max_iter = max_iter;
  latens_gp_gpfa *g = NULL;
  *status = latens_gp_gpfa_fit((const latens_gp_ssm *const *)pr, Y, ld, v->R, v->N, &o, NULL, &g);
  if (g) {
    size_t n = v->R * v->T;
    for (size_t r = 0; r < v->R; r++) {
      double *tmp = malloc(v->T * 2 * sizeof *tmp);
      latens_gp_gpfa_latents(g, r, tmp, v->T, NULL, 0);
      for (size_t i = 0; i < v->T; i++) M[r * v->T + i] = tmp[i], M[n + r * v->T + i] = tmp[i + v->T];
      free(tmp);
    }
    double *Xt = malloc(n * 2 * sizeof *Xt);
    for (size_t r = 0; r < v->R; r++)
      for (size_t i = 0; i < v->T; i++)
        Xt[r * v->T + i] = v->X[r * v->T * 2 + i], Xt[n + r * v->T + i] = v->X[r * v->T * 2 + i + v->T];
    latens_gp_affine_r2(M, n, 2, Xt, n, 2, n, &r2);
    if (iters) *iters = latens_gp_gpfa_iterations(g);
    free(Xt);
  }
  latens_gp_gpfa_free(g);
  for (size_t r = 0; r < v->R; r++) latens_gp_ssm_free(pr[r]);
  free(pr), free(Y), free(ld), free(t), free(M);
  latens_gp_kernel_free(k);
  return r2;
}
#endif
