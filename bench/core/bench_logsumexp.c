/* bench/core/bench_logsumexp.c: the vectorised log-space kernels against scalar references
 * compiled in the same run.
 *
 *   1. row-wise logsumexp of a 4096 x 256 column-major matrix (a batch of 4096 circuit
 *      inputs through a sum node with 256 children);
 *   2. column-wise logsumexp of the same matrix;
 *   3. the log-space product of 256 x 256 by 256 x 512.
 *
 * References, written here without simd pragmas (so every exp and log is a scalar libm call;
 * at the benchmarks' -O3 GCC may still vectorise their max loops, which need no libm):
 *   "scalar, same algorithm": the library's blocking and max-shift, loop for loop;
 *   "naive": the loop one would write first (row-wise: one strided pass per row; product:
 *            a direct logsumexp over k for every entry, m n K exponentials).
 * The same-algorithm product reference calls the same cblas_dgemm as the library, so that
 * ratio isolates the exp/log work.  Figures are the best of REPS runs; exp throughput counts
 * one exp per matrix element (the maximum pass is not counted). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <gsl/gsl_cblas.h>
#include <latens/latens.h>
#include "../bench.h"

#define BLOCK 64

/* Row-wise, the library's algorithm (blocks of 64 rows, vectorisable loop shapes), scalar. */
static void rows_scalar_blocked(const double *X, size_t ld, size_t nr, size_t nc, double *out) {
  double m[BLOCK], s[BLOCK];
  for (size_t i0 = 0; i0 < nr; i0 += BLOCK) {
    size_t nb = nr - i0 < BLOCK ? nr - i0 : BLOCK;
    for (size_t i = 0; i < nb; i++) m[i] = -INFINITY, s[i] = 0.0;
    for (size_t j = 0; j < nc; j++)
      for (size_t i = 0; i < nb; i++) {
        double v = X[i0 + i + j * ld];
        m[i] = v > m[i] ? v : m[i];
      }
    for (size_t i = 0; i < nb; i++) m[i] = isfinite(m[i]) ? m[i] : 0.0;
    for (size_t j = 0; j < nc; j++)
      for (size_t i = 0; i < nb; i++) s[i] += exp(X[i0 + i + j * ld] - m[i]);
    for (size_t i = 0; i < nb; i++) out[i0 + i] = m[i] + log(s[i]);
  }
}

/* Row-wise, the obvious loop: each row is a strided vector. */
static void rows_naive(const double *X, size_t ld, size_t nr, size_t nc, double *out) {
  for (size_t i = 0; i < nr; i++) {
    double m = -INFINITY, s = 0.0;
    for (size_t j = 0; j < nc; j++) m = X[i + j * ld] > m ? X[i + j * ld] : m;
    if (!isfinite(m)) m = 0.0;
    for (size_t j = 0; j < nc; j++) s += exp(X[i + j * ld] - m);
    out[i] = m + log(s);
  }
}

static void cols_scalar(const double *X, size_t ld, size_t nr, size_t nc, double *out) {
  for (size_t j = 0; j < nc; j++) {
    const double *c = X + j * ld;
    double m = -INFINITY, s = 0.0;
    for (size_t i = 0; i < nr; i++) m = c[i] > m ? c[i] : m;
    if (!isfinite(m)) m = 0.0;
    for (size_t i = 0; i < nr; i++) s += exp(c[i] - m);
    out[j] = m + log(s);
  }
}

/* The library's product algorithm with scalar exp/log (finite inputs only: the benchmark
 * data has no infinities, so the special-value fallback is omitted). */
static void logmatmul_scalar(const double *A, const double *B, double *C, size_t m, size_t k,
                             size_t n, double *work) {
  double *EA = work, *EB = EA + m * k, *ra = EB + k * n, *rb = ra + m;
  for (size_t i = 0; i < m; i++) ra[i] = -INFINITY;
  for (size_t c = 0; c < k; c++)
    for (size_t i = 0; i < m; i++) ra[i] = A[i + c * m] > ra[i] ? A[i + c * m] : ra[i];
  for (size_t c = 0; c < k; c++)
    for (size_t i = 0; i < m; i++) EA[i + c * m] = exp(A[i + c * m] - ra[i]);
  for (size_t j = 0; j < n; j++) {
    rb[j] = -INFINITY;
    for (size_t i = 0; i < k; i++) rb[j] = B[i + j * k] > rb[j] ? B[i + j * k] : rb[j];
    for (size_t i = 0; i < k; i++) EB[i + j * k] = exp(B[i + j * k] - rb[j]);
  }
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0, EA, (int)m,
              EB, (int)k, 0.0, C, (int)m);
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < m; i++) C[i + j * m] = ra[i] + rb[j] + log(C[i + j * m]);
}

static void logmatmul_naive(const double *A, const double *B, double *C, size_t m, size_t k,
                            size_t n) {
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < m; i++) {
      double mx = -INFINITY, s = 0.0;
      for (size_t t = 0; t < k; t++)
        mx = A[i + t * m] + B[t + j * k] > mx ? A[i + t * m] + B[t + j * k] : mx;
      for (size_t t = 0; t < k; t++) s += exp(A[i + t * m] + B[t + j * k] - mx);
      C[i + j * m] = mx + log(s);
    }
}

static double max_diff(const double *a, const double *b, size_t n) {
  double d = 0;
  for (size_t i = 0; i < n; i++) d = fmax(d, fabs(a[i] - b[i]));
  return d;
}

static void report(const char *what, double t, double tref, const char *refname, double nexp) {
  printf("  %-34s %9.3f ms   %-26s %9.3f ms   speed-up %5.2fx", what, 1e3 * t, refname, 1e3 * tref,
         tref / t);
  if (nexp > 0) printf("   %.3f vs %.3f Gexp/s", nexp / t * 1e-9, nexp / tref * 1e-9);
  printf("\n");
}

int main(void) {
  enum { NR = 4096, NC = 256, M = 256, K = 256, N = 512, REPS = 40 };
  double *X = malloc(sizeof(double) * NR * NC), *o1 = malloc(sizeof(double) * NR),
         *o2 = malloc(sizeof(double) * NR);
  double *o3 = malloc(sizeof(double) * NR);
  for (size_t j = 0; j < NC; j++)
    for (size_t i = 0; i < NR; i++) X[i + j * NR] = 8.0 * sin(0.001 * i * j + 0.3 * j) - 0.01 * i;
  latens_mat Xm = latens_mat_view(X, NR, NC, NR);
  latens_vec out = latens_vec_view(o1, NR, 1), outc = latens_vec_view(o1, NC, 1);
  double t, tref, tnaive;

  printf("bench_logsumexp (BLAS %s, %d threads available; best of %d)\n", latens_blas_name(),
         latens_max_threads(), REPS);
  printf("row-wise logsumexp, %d x %d:\n", NR, NC);
  BENCH_BEST(REPS, t, latens_logsumexp_rows(&Xm, NULL, &out));
  BENCH_BEST(REPS, tref, rows_scalar_blocked(X, NR, NR, NC, o2));
  BENCH_BEST(REPS, tnaive, rows_naive(X, NR, NR, NC, o3));
  report("latens_logsumexp_rows (simd)", t, tref, "scalar, same algorithm", (double)NR * NC);
  report("latens_logsumexp_rows (simd)", t, tnaive, "naive strided rows", (double)NR * NC);
  printf("  max |difference|: %.2e (same algorithm), %.2e (naive)\n", max_diff(o1, o2, NR),
         max_diff(o1, o3, NR));

  printf("column-wise logsumexp, %d x %d:\n", NR, NC);
  BENCH_BEST(REPS, t, latens_logsumexp_cols(&Xm, NULL, &outc));
  BENCH_BEST(REPS, tref, cols_scalar(X, NR, NR, NC, o2));
  report("latens_logsumexp_cols (simd)", t, tref, "scalar, same algorithm", (double)NR * NC);
  printf("  max |difference|: %.2e\n", max_diff(o1, o2, NC));

  double *A = malloc(sizeof(double) * M * K), *B = malloc(sizeof(double) * K * N);
  double *C1 = malloc(sizeof(double) * M * N), *C2 = malloc(sizeof(double) * M * N),
         *C3 = malloc(sizeof(double) * M * N);
  double *work = malloc(sizeof(double) * latens_logmatmul_work_size(M, K, N));
  for (size_t j = 0; j < K; j++)
    for (size_t i = 0; i < M; i++) A[i + j * M] = 5.0 * cos(0.01 * i * j + j) - 0.02 * j;
  for (size_t j = 0; j < N; j++)
    for (size_t i = 0; i < K; i++) B[i + j * K] = 5.0 * sin(0.003 * i * j + i) - 0.01 * i;
  latens_mat Am = latens_mat_view(A, M, K, M), Bm = latens_mat_view(B, K, N, K),
             Cm = latens_mat_view(C1, M, N, M);
  printf("log-space product, (%d x %d)(%d x %d):\n", M, K, K, N);
  BENCH_BEST(REPS, t, latens_logmatmul(&Am, &Bm, &Cm, work));
  BENCH_BEST(REPS, tref, logmatmul_scalar(A, B, C2, M, K, N, work));
  BENCH_BEST(2, tnaive, logmatmul_naive(A, B, C3, M, K, N));
  /* The shifted algorithm does m K + K n exponentials and m n logs around one dgemm, so its
   * time is mostly the dgemm: no exp throughput is quoted for it. */
  report("latens_logmatmul (simd exp + dgemm)", t, tref, "scalar exp + same dgemm", 0);
  report("latens_logmatmul (simd exp + dgemm)", t, tnaive, "naive direct (m n K exp)", 0);
  printf("  naive direct: %.3f Gexp/s over %.0f exp\n", (double)M * N * K / tnaive * 1e-9,
         (double)M * N * K);
  printf("  max |difference|: %.2e (same algorithm), %.2e (naive)\n", max_diff(C1, C2, M * N),
         max_diff(C1, C3, M * N));
  free(X), free(o1), free(o2), free(o3), free(A), free(B), free(C1), free(C2), free(C3), free(work);
  return 0;
}
