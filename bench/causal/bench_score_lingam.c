/* bench/causal/bench_score_lingam.c: DirectLiNGAM wall time at p = 20..50, n = 5000, beside a
 * naive same-run reference: the lingam package's loop written plainly (every ordered pair
 * re-standardises both variables, forms both residuals and evaluates four entropies with
 * scalar log(cosh(.)), one thread).  Both must return the same causal order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <latens/latens.h>
#include "../bench.h"

static double entropy(const double *u, size_t n) {
  double m1 = 0, m2 = 0;
  for (size_t t = 0; t < n; t++) m1 += log(cosh(u[t])), m2 += u[t] * exp(-u[t] * u[t] / 2);
  m1 /= n, m2 /= n;
  return (1 + log(2 * M_PI)) / 2 - 79.047 * (m1 - 0.37457) * (m1 - 0.37457) - 7.4129 * m2 * m2;
}

static void standardize(const double *x, size_t n, double *y) {
  double m = 0, v = 0;
  for (size_t t = 0; t < n; t++) m += x[t];
  m /= n;
  for (size_t t = 0; t < n; t++) v += (x[t] - m) * (x[t] - m);
  v = sqrt(v / n);
  for (size_t t = 0; t < n; t++) y[t] = (x[t] - m) / v;
}

/* residual of a on b (both standardised) divided by its sd */
static void resid(const double *a, const double *b, size_t n, double *r) {
  double c = 0;
  for (size_t t = 0; t < n; t++) c += a[t] * b[t];
  c /= n;
  double v = 0;
  for (size_t t = 0; t < n; t++) r[t] = a[t] - c * b[t], v += r[t] * r[t];
  v = sqrt(v / n);
  for (size_t t = 0; t < n; t++) r[t] /= v;
}

static void naive_order(const double *X0, size_t n, size_t p, size_t *order) {
  double *X = malloc(n * p * sizeof *X), *xi = malloc(n * sizeof *xi), *xj = malloc(n * sizeof *xj);
  double *ri = malloc(n * sizeof *ri), *rj = malloc(n * sizeof *rj);
  int *act = malloc(p * sizeof *act);
  memcpy(X, X0, n * p * sizeof *X);
  for (size_t k = 0; k < p; k++) act[k] = 1;
  for (size_t pos = 0; pos < p; pos++) {
    double best = INFINITY;
    size_t arg = 0;
    for (size_t i = 0; i < p; i++) {
      if (!act[i]) continue;
      double M = 0;
      for (size_t j = 0; j < p; j++) {
        if (!act[j] || j == i) continue;
        standardize(X + i * n, n, xi), standardize(X + j * n, n, xj);
        resid(xi, xj, n, ri), resid(xj, xi, n, rj);
        const double d = (entropy(xj, n) + entropy(ri, n)) - (entropy(xi, n) + entropy(rj, n));
        if (d < 0) M += d * d;
      }
      if (M < best) best = M, arg = i;
    }
    order[pos] = arg, act[arg] = 0;
    for (size_t i = 0; i < p; i++) { /* regress the root out (raw scale) */
      if (!act[i]) continue;
      double *a = X + i * n, *b = X + arg * n, ma = 0, mb = 0, c = 0, v = 0;
      for (size_t t = 0; t < n; t++) ma += a[t], mb += b[t];
      ma /= n, mb /= n;
      for (size_t t = 0; t < n; t++) c += (a[t] - ma) * (b[t] - mb), v += (b[t] - mb) * (b[t] - mb);
      for (size_t t = 0; t < n; t++) a[t] -= c / v * b[t];
    }
  }
  free(X), free(xi), free(xj), free(ri), free(rj), free(act);
}

int main(void) {
  const size_t n = 5000, ps[] = {20, 30, 50};
  printf("DirectLiNGAM, n = %zu, uniform noise, expected degree 2 (%d threads)\n", n,
         latens_max_threads());
  printf("%4s %12s %12s %8s %6s %6s\n", "p", "latens s", "naive s", "ratio", "F1", "order");
  for (size_t c = 0; c < sizeof ps / sizeof *ps; c++) {
    const size_t p = ps[c];
    uint64_t s = 17 + p;
    double *Bt = calloc(p * p, sizeof *Bt), *X = malloc(n * p * sizeof *X), *B = malloc(p * p * sizeof *B);
    for (size_t i = 0; i < p; i++) /* causal order 0..p-1 */
      for (size_t j = 0; j < i; j++)
        if ((bench_unif(&s) + 1) / 2 < 2.0 / (p - 1)) Bt[i + j * p] = (bench_unif(&s) < 0 ? -1 : 1) * (1 + bench_unif(&s) / 2);
    for (size_t t = 0; t < n; t++)
      for (size_t i = 0; i < p; i++) {
        double v = sqrt(3.0) * bench_unif(&s);
        for (size_t j = 0; j < i; j++) v += Bt[i + j * p] * X[t + j * n];
        X[t + i * n] = v;
      }
    latens_mat m = latens_mat_view(X, n, p, n);
    latens_causal_data *d = NULL;
    if (latens_causal_data_alloc(&m, NULL, 0, &d) != LATENS_OK) return 1;
    size_t *o1 = malloc(p * sizeof *o1), *o2 = malloc(p * sizeof *o2);
    double t1, t2;
    BENCH_BEST(2, t1, latens_causal_direct_lingam(d, NULL, NULL, o1, B, NULL));
    const int naive_reps = p <= 30 ? 1 : 0;
    t2 = NAN;
    if (naive_reps) BENCH_BEST(1, t2, naive_order(X, n, p, o2));
    size_t tp = 0, fp = 0, fn = 0;
    for (size_t k = 0; k < p * p; k++) tp += Bt[k] != 0 && B[k] != 0, fp += Bt[k] == 0 && B[k] != 0, fn += Bt[k] != 0 && B[k] == 0;
    const char *same = naive_reps ? (memcmp(o1, o2, p * sizeof *o1) ? "differ" : "same") : "-";
    printf("%4zu %12.3f %12.3f %8.1f %6.3f %6s\n", p, t1, t2, t2 / t1, 2.0 * tp / (2.0 * tp + fp + fn), same);
    latens_causal_data_free(d);
    free(Bt), free(X), free(B), free(o1), free(o2);
  }
  printf("(naive reference skipped at p = 50: ~%s; ratio there from p = 30)\n", "minutes");
  return 0;
}
