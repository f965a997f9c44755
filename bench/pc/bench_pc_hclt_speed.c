/* bench/pc/bench_pc_hclt_speed.c: throughput of the HCLT kernels that EM learning runs on
 * (src/pc/hclt_kernels.c: per tree edge max-shift, exp, a batch x K x K GEMM, log; the EM
 * pass adds two GEMMs per edge for the flows), on the Chow-Liu tree of audio (baudio, 100
 * variables) for K = 16, 32, 64, 128, in edge-samples per second, beside the same run's DGEMM
 * rate on the blocks' shape (chunk x K times K x K) and the ratio of flop rates.
 *
 * Rates are per CPU-second of this process (the machine is shared), best of three, with one
 * OpenMP and one OpenBLAS thread.  Then the same passes with 2 OpenMP threads (the kernels'
 * fixed chunks run in parallel; OpenBLAS still one thread, so the pools do not oversubscribe)
 * against 1, in wall-clock seconds, best of 4 (noisy on a loaded machine: it is a same-run
 * ratio), with a check that the results are bit-identical.  "EM GF/s" counts the forward
 * pass's flops per EM step (the step does about three times as many), so EM/fwd is the
 * ratio of throughputs in edge-samples per second.  Peak memory: the kernels' workspace per thread
 * (M n rows K doubles, twice) plus the counts (M n K^2), printed in MiB: linear in batch x
 * width, never in edges x batch.  Data: $LATENS_DEBD or $LATENS_SRCDIR/../shared/data/debd;
 * skipped with a message when absent. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dlfcn.h>
#include <gsl/gsl_cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <latens/latens.h>
#include <latens/pc_learn.h>
#include "../bench.h"

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The bench owns its process: both pools, as the CLI's --threads does (OpenBLAS at 1). */
static void set_threads(int omp) {
#ifdef _OPENMP
  omp_set_num_threads(omp);
#endif
  void (*ob)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
  if (ob) ob(1);
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define BEST3(out, body) BEST3_CLOCK(out, cpu_now, body)
#define BEST3_CLOCK(out, clk, body)                                                           \
  do {                                                                                        \
    double b_ = 1e300;                                                                        \
    for (int r_ = 0; r_ < 3; r_++) {                                                          \
      double t_ = clk();                                                                      \
      body;                                                                                   \
      t_ = clk() - t_;                                                                        \
      b_ = t_ < b_ ? t_ : b_;                                                                 \
    }                                                                                         \
    (out) = b_;                                                                               \
  } while (0)

/* DGEMM flop rate on rows x K times K x K (the shape of one edge block), reps times. */
static double dgemm_rate(size_t rows, size_t K) {
  double *A = malloc(rows * K * sizeof *A), *B = malloc(K * K * sizeof *B), *C = malloc(rows * K * sizeof *C);
  uint64_t s = 1;
  for (size_t q = 0; q < rows * K; q++) A[q] = bench_unif(&s);
  for (size_t q = 0; q < K * K; q++) B[q] = bench_unif(&s);
  size_t reps = 1 + (size_t)(2e9 / (2.0 * rows * K * K));
  double t;
  BEST3(t, for (size_t r = 0; r < reps; r++) cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans,
                                                          (int)rows, (int)K, (int)K, 1.0, A, (int)rows,
                                                          B, (int)K, 0.0, C, (int)rows));
  free(A), free(B), free(C);
  return 2.0 * rows * K * K * reps / t;
}

/* Wall seconds of a forward pass and of an EM counts pass with 1 and with 2 OpenMP threads,
 * best of 4, the two settings alternating so that both see the same load; ll/cnt keep the
 * 1-thread results, ll2/c2 the 2-thread ones. */
static void timed(latens_pc_hclt *h, const latens_mat *X, double *ll, double *ll2,
                  latens_pc_hclt_counts *cnt, latens_pc_hclt_counts *c2, double t[4]) {
  for (int q = 0; q < 4; q++) t[q] = 1e300;
  for (int r = 0; r < 4; r++)
    for (int nt = 1; nt <= 2; nt++) {
      latens_pc_hclt_counts *c = nt == 1 ? cnt : c2;
      set_threads(nt);
      double a = wall_now();
      latens_pc_hclt_loglik(h, X, nt == 1 ? ll : ll2);
      double b = wall_now();
      latens_pc_hclt_counts_zero(c);
      latens_pc_hclt_accumulate(h, X, 0, X->nrow, c);
      double e = wall_now();
      t[2 * (nt - 1)] = fmin(t[2 * (nt - 1)], b - a), t[2 * nt - 1] = fmin(t[2 * nt - 1], e - b);
    }
  set_threads(1);
}

static int same(const double *a, const double *b, size_t n) { return !memcmp(a, b, n * sizeof *a); }

int main(void) {
  char path[4096];
  const char *d = getenv("LATENS_DEBD"), *src = getenv("LATENS_SRCDIR");
  if (d) snprintf(path, sizeof path, "%s/baudio/baudio.train.data", d);
  else snprintf(path, sizeof path, "%s/../shared/data/debd/baudio/baudio.train.data", src ? src : ".");
  latens_table_options o;
  latens_table_options_default(&o);
  o.header = LATENS_HEADER_NO;
  latens_table *t = NULL;
  FILE *f = fopen(path, "r");
  if (!f || latens_table_read_numeric(path, &o, &t)) {
    if (f) fclose(f);
    printf("bench_pc_hclt_speed: skipped, %s not found\n", path);
    return 0;
  }
  fclose(f);
  const latens_mat *X = latens_table_data(t);
  set_threads(1);
  latens_pc_hclt *c = NULL;
  latens_pc_cltree_fit(X, 0.1, &c);
  printf("HCLT kernels on audio (%zu rows x %zu vars), per CPU-second, best of 3\n", X->nrow, X->ncol);
  printf("%5s %12s %12s %7s %9s %9s %10s %9s %8s %8s %9s %9s\n", "K", "fwd e*s/s", "EM e*s/s",
         "EM/fwd", "fwd GF/s", "EM GF/s", "DGEMM GF/s", "fwd/DGEMM", "EM/DGEMM", "MiB/thr",
         "2thr fwd", "2thr EM");
  size_t Ks[4] = {16, 32, 64, 128};
  double *ll = malloc(X->nrow * sizeof *ll);
  for (int q = 0; q < 4; q++) {
    size_t K = Ks[q];
    latens_rng r;
    latens_rng_init(&r, 1, 0);
    latens_pc_hclt *h = latens_pc_hclt_alloc(X->ncol, K, 1, c->parent);
    latens_pc_hclt_randomize(h, 0.4, &r);
    latens_pc_hclt_counts *cnt = latens_pc_hclt_counts_alloc(h);
    double tf, te, tt[4];
    BEST3(tf, latens_pc_hclt_loglik(h, X, ll));
    /* an EM step: the counts pass and the M-step, on a copy so every repeat sees the same h */
    latens_pc_hclt *g = latens_pc_hclt_alloc(X->ncol, K, 1, c->parent);
    BEST3(te, memcpy(g->trans, h->trans, X->ncol * K * K * sizeof(double));
          memcpy(g->leaf, h->leaf, X->ncol * K * sizeof(double));
          memcpy(g->root, h->root, K * sizeof(double)); latens_pc_hclt_counts_zero(cnt);
          latens_pc_hclt_accumulate(g, X, 0, X->nrow, cnt); latens_pc_hclt_mstep(g, cnt, 0.1, 1.0));
    latens_pc_hclt_free(g);
    /* 1 vs 2 OpenMP threads, wall clock, and bit-identical results */
    latens_pc_hclt_counts *c2 = latens_pc_hclt_counts_alloc(h);
    double *ll2 = malloc(X->nrow * sizeof *ll2);
    timed(h, X, ll, ll2, cnt, c2, tt);
    int ok = same(ll, ll2, X->nrow) && same(cnt->trans, c2->trans, X->ncol * K * K) &&
             same(cnt->leaf1, c2->leaf1, X->ncol * K) && cnt->loglik == c2->loglik;
    double es = ((double)(X->ncol - 1) * K * K + K) * (double)X->nrow;
    /* the kernels' chunk: 32 MiB of workspace, at most 2048 rows (hclt.c) */
    size_t rows = ((size_t)32 << 20) / (2 * X->ncol * K * sizeof(double));
    rows = rows < 64 ? 64 : rows > 2048 ? 2048 : rows;
    double mib = (2.0 * X->ncol * rows * K + (double)X->ncol * (rows + 3 * K * K)) * 8 / 1048576.0;
    double g1 = dgemm_rate(rows, K);
    printf("%5zu %12.3g %12.3g %7.2f %9.2f %9.2f %10.2f %8.0f%% %7.0f%% %8.1f %8.2fx %8.2fx%s\n",
           K, es / tf, es / te, tf / te, 2 * es / tf / 1e9, 2 * es / te / 1e9, g1 / 1e9,
           100.0 * 2 * es / tf / g1, 100.0 * 2 * es / te / g1, mib, tt[0] / tt[2], tt[1] / tt[3],
           ok ? "" : "  RESULTS DIFFER 1 vs 2 threads");
    free(ll2), latens_pc_hclt_counts_free(c2);
    latens_pc_hclt_counts_free(cnt), latens_pc_hclt_free(h);
  }
  free(ll), latens_pc_hclt_free(c), latens_table_free(t);
  return 0;
}
