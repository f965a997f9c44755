/* bench/causal/bench_score_notears.c: linear NOTEARS wall time beside a naive same-run
 * reference: the same augmented-Lagrangian loop and optimiser, but the least-squares loss
 * and gradient evaluated on the data (1/(2n) |X - X W|^2, O(n p^2) per call) as the
 * authors' reference code does, instead of on the covariance (O(p^3)). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <latens/latens.h>
#include "../bench.h"

typedef struct {
  const double *X;
  size_t n, p, m;
  double rho, alpha, lambda1;
  double *W, *R, *G;
} naive;

static void unpack(const naive *P, const double *x) {
  size_t k = 0;
  for (size_t j = 0; j < P->p; j++)
    for (size_t i = 0; i < P->p; i++) {
      if (i == j) { P->W[i + j * P->p] = 0; continue; }
      P->W[i + j * P->p] = x[k] - x[k + P->m];
      k++;
    }
}

static int fdf(const double *x, size_t nx, void *user, double *f, double *grad) {
  naive *P = user;
  const size_t n = P->n, p = P->p;
  (void)nx;
  unpack(P, x);
  double loss = 0;
  for (size_t j = 0; j < p; j++) /* R = X W - X */
    for (size_t t = 0; t < n; t++) {
      double v = -P->X[t + j * n];
      for (size_t k = 0; k < p; k++) v += P->X[t + k * n] * P->W[k + j * p];
      P->R[t + j * n] = v, loss += v * v;
    }
  loss /= 2.0 * n;
  double h, l1 = 0;
  if (latens_causal_notears_h(P->W, p, &h, P->G) != LATENS_OK) { *f = INFINITY; return LATENS_OK; }
  for (size_t k = 0; k < 2 * P->m; k++) l1 += x[k];
  *f = loss + 0.5 * P->rho * h * h + P->alpha * h + P->lambda1 * l1;
  if (grad) {
    size_t k = 0;
    for (size_t j = 0; j < p; j++)
      for (size_t i = 0; i < p; i++) {
        if (i == j) continue;
        double g = 0;
        for (size_t t = 0; t < n; t++) g += P->X[t + i * n] * P->R[t + j * n];
        g = g / n + (P->rho * h + P->alpha) * P->G[i + j * p];
        grad[k] = g + P->lambda1, grad[k + P->m] = -g + P->lambda1;
        k++;
      }
  }
  return LATENS_OK;
}

static void naive_notears(const double *X, size_t n, size_t p, double *Wout) {
  naive P = {X, n, p, p * (p - 1), 1.0, 0.0, 0.1, malloc(p * p * sizeof(double)),
             malloc(n * p * sizeof(double)), malloc(p * p * sizeof(double))};
  const size_t nx = 2 * P.m;
  double *x = malloc(nx * sizeof *x), *xn = malloc(nx * sizeof *xn), *lo = calloc(nx, sizeof *lo);
  for (size_t k = 0; k < nx; k++) x[k] = 1e-3;
  latens_optim_options oo;
  latens_optim_options_default(&oo);
  oo.max_iter = 500;
  double h = INFINITY;
  for (int it = 0; it < 100; it++) {
    double hn = INFINITY;
    while (P.rho < 1e16) {
      latens_optim_result r = {.x = xn};
      latens_optim_minimize(fdf, x, nx, &P, lo, NULL, &oo, &r);
      unpack(&P, xn);
      latens_causal_notears_h(P.W, p, &hn, NULL);
      if (hn > 0.25 * h) P.rho *= 10;
      else break;
    }
    memcpy(x, xn, nx * sizeof *x);
    h = hn;
    P.alpha += P.rho * h;
    if (h <= 1e-8 || P.rho >= 1e16) break;
  }
  unpack(&P, x);
  for (size_t k = 0; k < p * p; k++) Wout[k] = fabs(P.W[k]) < 0.3 ? 0 : P.W[k];
  free(P.W), free(P.R), free(P.G), free(x), free(xn), free(lo);
}

int main(void) {
  const size_t n = 2000, ps[] = {5, 10, 20};
  latens_set_error_handler_off();
  printf("NOTEARS (linear, lambda1 0.1, threshold 0.3), n = %zu, Gaussian equal-variance SEM\n", n);
  printf("%4s %10s %10s %8s %8s\n", "p", "latens s", "naive s", "ratio", "same W");
  for (size_t c = 0; c < sizeof ps / sizeof *ps; c++) {
    const size_t p = ps[c];
    uint64_t s = 99 + p;
    double *Bt = calloc(p * p, sizeof *Bt), *X = malloc(n * p * sizeof *X);
    for (size_t j = 0; j < p; j++) /* Bt[i + j p]: i --> j, order 0..p-1, degree ~2 */
      for (size_t i = 0; i < j; i++)
        if ((bench_unif(&s) + 1) / 2 < 2.0 / (p - 1)) Bt[i + j * p] = (bench_unif(&s) < 0 ? -1 : 1) * (1 + bench_unif(&s) / 2);
    for (size_t t = 0; t < n; t++)
      for (size_t j = 0; j < p; j++) {
        double u1 = 0.5 * (bench_unif(&s) + 1) + 1e-300, u2 = bench_unif(&s);
        double v = sqrt(-2 * log(u1)) * cos(M_PI * u2);
        for (size_t i = 0; i < j; i++) v += Bt[i + j * p] * X[t + i * n];
        X[t + j * n] = v;
      }
    for (size_t j = 0; j < p; j++) { /* centre, as the library does */
      double m = 0;
      for (size_t t = 0; t < n; t++) m += X[t + j * n];
      for (size_t t = 0; t < n; t++) X[t + j * n] -= m / n;
    }
    latens_mat mm = latens_mat_view(X, n, p, n);
    latens_causal_data *d = NULL;
    if (latens_causal_data_alloc(&mm, NULL, 0, &d) != LATENS_OK) return 1;
    double *W1 = malloc(p * p * sizeof *W1), *W2 = malloc(p * p * sizeof *W2), t1, t2;
    BENCH_BEST(1, t1, latens_causal_notears(d, NULL, NULL, W1, NULL));
    BENCH_BEST(1, t2, naive_notears(X, n, p, W2));
    size_t diff = 0;
    for (size_t k = 0; k < p * p; k++) diff += (W1[k] != 0) != (W2[k] != 0);
    printf("%4zu %10.3f %10.3f %8.1f %8s\n", p, t1, t2, t2 / t1, diff ? "support differs" : "yes");
    latens_causal_data_free(d);
    free(Bt), free(X), free(W1), free(W2);
  }
  return 0;
}
