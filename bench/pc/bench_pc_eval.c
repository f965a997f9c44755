/* bench/pc/bench_pc_eval.c: HCLT-shaped circuits (a binary tree of latents with K states over
 * the 100 variables of the audio benchmark, Bernoulli leaves) built with the circuit builder:
 * forward log-likelihood and one full EM step (flow pass + M-step: half the difference
 * between latens_pc_em with 3 epochs and with 1) in edge-samples per second, beside the
 * same run's DGEMM rate on the blocks' shape (batch x K times K x K), and the peak memory.
 *
 * Data: $LATENS_DEBD or ../shared/data/debd relative to the source tree (LATENS_SRCDIR);
 * skipped with a message when absent.  Rows: the first BENCH_ROWS of baudio's train split. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <gsl/gsl_cblas.h>
#include <latens/latens.h>
#include "../bench.h"

enum { BENCH_ROWS = 3000, BATCH = 512 };

/* The machine is shared (load far above the core count while this was written), so rates are
 * per CPU-second of this process (CLOCK_PROCESS_CPUTIME_ID, all threads), for both the
 * circuit and the DGEMM reference, best of three trials: contention from other processes
 * then inflates neither. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double unif01(uint64_t *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return ((*s >> 11) + 0.5) * 0x1.0p-53;
}

/* Tree parent of node j is (j - 1) / 2; nodes are built from the leaves up. */
static latens_pc *hclt_tree(size_t n, size_t K, uint64_t *seed) {
  latens_pc *pc = latens_pc_alloc(n, NULL);
  size_t *msg = malloc(n * K * sizeof *msg), *prod = malloc(K * sizeof *prod);
  double *w = malloc(K * sizeof *w);
  for (size_t j = n; j-- > 0;) {
    for (size_t k = 0; k < K; k++) {
      size_t ch[3], nc = 0;
      latens_pc_add_bernoulli(pc, j, 0.05 + 0.9 * unif01(seed), &ch[nc++]);
      for (size_t c = 2 * j + 1; c <= 2 * j + 2 && c < n; c++) ch[nc++] = msg[c * K + k];
      latens_pc_add_product(pc, ch, nc, &prod[k]);
    }
    for (size_t i = 0; i < (j ? K : 1); i++) {
      double t = 0;
      for (size_t k = 0; k < K; k++) t += (w[k] = 0.1 + unif01(seed));
      for (size_t k = 0; k < K; k++) w[k] /= t;
      latens_pc_add_sum(pc, prod, w, K, &msg[j * K + i]);
    }
  }
  free(msg), free(prod), free(w);
  if (latens_pc_finalize(pc)) latens_pc_free(pc), pc = NULL;
  return pc;
}

static double dgemm_gflops(size_t m, size_t k, double min_time) {
  double *A = malloc(m * k * sizeof *A), *B = malloc(k * k * sizeof *B), *C = malloc(m * k * sizeof *C);
  for (size_t i = 0; i < m * k; i++) A[i] = 1.0 / (double)(1 + i % 7);
  for (size_t i = 0; i < k * k; i++) B[i] = 1.0 / (double)(1 + i % 5);
  double best = 0;
  for (int trial = 0; trial < 3; trial++) {
    size_t reps = 0;
    double t0 = cpu_now(), t;
    do {
      cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)k, (int)k, 1.0, A, (int)m,
                  B, (int)k, 0.0, C, (int)m);
      reps++;
    } while ((t = cpu_now() - t0) < min_time);
    double gf = 2.0 * (double)m * (double)k * (double)k * (double)reps / t / 1e9;
    best = gf > best ? gf : best;
  }
  free(A), free(B), free(C);
  return best;
}

/* Best-of-three CPU seconds per call of f. */
typedef struct {
  latens_pc *pc;
  const latens_mat *X;
  latens_vec *ll;
  latens_pc_work *w;
  int em;
} job;

static void run_job(job *j) {
  if (!j->em) {
    latens_pc_loglik(j->pc, j->X, j->ll, j->w);
    return;
  }
  latens_pc_em_options o;
  latens_pc_em_options_default(&o);
  o.epochs = (size_t)j->em;
  o.work_batch = BATCH;
  latens_pc_em(j->pc, j->X, NULL, &o, NULL, NULL, NULL);
}

static double time_job(job *j, double min_time) {
  double best = INFINITY;
  for (int trial = 0; trial < 3; trial++) {
    size_t reps = 0;
    double t0 = cpu_now(), t;
    do {
      run_job(j);
      reps++;
    } while ((t = cpu_now() - t0) < min_time);
    best = fmin(best, t / (double)reps);
  }
  return best;
}

static long peak_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

int main(void) {
  const char *dir = getenv("LATENS_DEBD");
  char path[1024];
  if (dir) snprintf(path, sizeof path, "%s/baudio/baudio.train.data", dir);
  else snprintf(path, sizeof path, "%s/../shared/data/debd/baudio/baudio.train.data",
                getenv("LATENS_SRCDIR") ? getenv("LATENS_SRCDIR") : ".");
  latens_table *t = NULL;
  latens_set_error_handler_off();
  if (latens_table_read_numeric(path, NULL, &t)) {
    printf("bench_pc_eval: skipped, %s not readable (set LATENS_DEBD)\n", path);
    return 0;
  }
  latens_set_error_handler(NULL);
  const latens_mat *D = latens_table_data(t);
  size_t n = D->nrow < BENCH_ROWS ? D->nrow : BENCH_ROWS, nv = D->ncol;
  latens_mat X = latens_mat_view(D->data, n, nv, D->ld);
  latens_vec *ll = latens_vec_alloc(n);
  printf("HCLT-shaped tree over %zu variables, %zu rows of baudio, batch %d, %d thread(s)\n", nv, n,
         BATCH, latens_max_threads());
  printf("%5s %10s %9s %12s %12s %9s %12s %7s %7s %10s %10s\n", "K", "edges", "fwd cpu-s", "fwd e*s/s",
         "fwd GF/s", "DGEMM GF", "fwd/DGEMM", "EM s", "EM/fwd", "work MB", "peak MB");
  static const size_t Ks[] = {16, 32, 64, 128};
  for (size_t q = 0; q < 4; q++) {
    size_t K = Ks[q];
    uint64_t seed = 17;
    latens_pc *pc = hclt_tree(nv, K, &seed);
    if (!pc) return 1;
    size_t edges = latens_pc_nedges(pc);
    size_t sum_edges = (nv - 1) * K * K + K; /* the multiply-adds of the sum layers */
    latens_pc_work *w = latens_pc_work_alloc(pc, BATCH);
    job j = {pc, &X, ll, w, 0};
    run_job(&j); /* warm-up */
    double tf = time_job(&j, 0.5);
    double fwd_es = (double)edges * (double)n / tf;
    double fwd_gf = 2.0 * (double)sum_edges * (double)n / tf / 1e9;
    double gemm = dgemm_gflops(BATCH, K, 0.3);
    /* one EM step: (3 epochs - 1 epoch) / 2, which leaves out latens_pc_em's set-up
     * (workspace allocation) and its final train-LL pass */
    j.em = 1;
    double t1 = time_job(&j, 0.5);
    j.em = 3;
    double tem = (time_job(&j, 0.5) - t1) / 2;
    double em_es = (double)edges * (double)n / tem;
    printf("%5zu %10zu %9.4f %12.3e %12.2f %9.2f %12.3f %7.3f %7.3f %10.1f %10.1f\n", K, edges, tf,
           fwd_es, fwd_gf, gemm, fwd_gf / gemm, tem, em_es / fwd_es,
           (double)latens_pc_work_bytes(w) / 1048576.0, (double)peak_rss_kb() / 1024.0);
    latens_pc_work_free(w);
    latens_pc_free(pc);
  }
  printf("Rates per CPU-second.  fwd/DGEMM: forward flop rate (2 x sum-layer edges x rows / time) over DGEMM's on\n"
         "(batch x K) x (K x K); target >= 0.25 for K >= 64.  EM/fwd: edge-samples/s of one EM\n"
         "step (flows + M-step) over the forward's; target >= 1/3.\n"
         "work MB: the evaluation workspace (batch x units, never batch x edges).\n");
  latens_vec_free(ll);
  latens_table_free(t);
  return 0;
}
