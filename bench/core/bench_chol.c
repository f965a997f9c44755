/* bench/core/bench_chol.c: Cholesky and the Kalman filter + RTS smoother.
 *
 * 1. Dense Cholesky, n = 500, 1000, 2000: latens_chol_decomp vs GSL's
 *    gsl_linalg_cholesky_decomp1 on the same matrix in the same run, GFLOP/s = (n^3/3)/time.
 *    latens is timed with the default options (the jitter backup, allocated per call) and with
 *    a caller-supplied backup buffer.  Small orders (4, 16: the state-space sizes) in ns/call.
 * 2. Kalman filter + RTS smoother, T = 10^5, d = 4, p = 1: latens' workspace steps vs a
 *    straightforward version written here with GSL matrices allocated fresh at every step
 *    (the same algorithm: Joseph update, Cholesky-based gains).  ns/step and the ratio; both
 *    must agree on the log-likelihood and the smoothed moments.
 * Best of several runs, the contenders interleaved within each repetition so that load from
 * other processes on a shared machine hits them alike; inputs are restored outside the timed
 * region. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
#include <latens/latens.h>
#include "../bench.h"

/* Best times of two statements run alternately reps times. */
#define BENCH_PAIR(reps, t1, body1, t2, body2)                                                     \
  do {                                                                                             \
    (t1) = (t2) = 1e300;                                                                           \
    for (int r_ = 0; r_ < (reps); r_++) {                                                          \
      double t0_ = bench_now();                                                                    \
      body1;                                                                                       \
      double t_ = bench_now() - t0_;                                                               \
      if (t_ < (t1)) (t1) = t_;                                                                    \
      t0_ = bench_now();                                                                           \
      body2;                                                                                       \
      t_ = bench_now() - t0_;                                                                      \
      if (t_ < (t2)) (t2) = t_;                                                                    \
    }                                                                                              \
  } while (0)

#define unif bench_unif

/* ------------------------------------------------------------ dense Cholesky */

static latens_mat *random_spd(size_t n) {
  uint64_t s = 42 + n;
  latens_mat *X = latens_mat_alloc(n, n), *A = latens_mat_alloc(n, n);
  for (size_t k = 0; k < n * n; k++) X->data[k] = unif(&s);
  latens_mat_gemm('N', 'T', 1.0, X, X, 0.0, A);
  for (size_t i = 0; i < n; i++) LATENS_MAT(A, i, i) += (double)n;
  latens_mat_free(X);
  return A;
}

/* Best times of reps factorisations of each contender, interleaved within each repetition so
 * that load from other processes on a shared machine hits all three alike.  best[0]: latens
 * defaults (backup allocated per call), best[1]: latens with a work buffer, best[2]: GSL. */
static void time_chol(const latens_mat *A, int reps, double best[3]) {
  const size_t n = A->nrow;
  latens_mat *B = latens_mat_alloc(n, n);
  gsl_matrix *G = gsl_matrix_alloc(n, n);
  double *work = malloc(latens_chol_work_size(n) * sizeof *work);
  latens_chol_options o = LATENS_CHOL_OPTIONS_DEFAULT;
  o.work = work, o.lwork = latens_chol_work_size(n);
  best[0] = best[1] = best[2] = 1e300;
  for (int r = 0; r < reps; r++)
    for (int which = 0; which < 3; which++) {
      if (which == 2) /* A is symmetric: its row-major copy is the same array */
        memcpy(G->data, A->data, n * n * sizeof *G->data);
      else latens_mat_copy(B, A);
      double t0 = bench_now();
      int st = which == 2 ? gsl_linalg_cholesky_decomp1(G)
                          : latens_chol_decomp(B, which == 1 ? &o : NULL, NULL);
      double t = bench_now() - t0;
      if (st) fprintf(stderr, "factorisation failed: %d\n", st), exit(1);
      if (t < best[which]) best[which] = t;
    }
  double e = 0.0; /* B holds latens' factor, G GSL's */
  for (size_t j = 0; j < n; j++)
    for (size_t i = j; i < n; i++) e = fmax(e, fabs(LATENS_MAT(B, i, j) - gsl_matrix_get(G, i, j)));
  if (e > 1e-10) fprintf(stderr, "factor differs from GSL's by %g\n", e), exit(1);
  free(work);
  gsl_matrix_free(G);
  latens_mat_free(B);
}

/* The hardware ceiling in the same run: dgemm of the same order, GFLOP/s = 2 n^3 / time. */
static double dgemm_gflops(size_t n) {
  latens_mat *A = random_spd(n), *C = latens_mat_alloc(n, n);
  double t;
  BENCH_BEST(3, t, latens_mat_gemm('N', 'T', 1.0, A, A, 0.0, C));
  latens_mat_free(A), latens_mat_free(C);
  return 2.0 * n * n * n / t * 1e-9;
}

static void bench_dense(void) {
  printf("Cholesky (GFLOP/s = n^3/3 / time, best of interleaved runs; dgemm = 2n^3/time)\n");
  printf("%6s %12s %12s %12s %8s %8s %10s\n", "n", "latens", "latens+work", "GSL decomp1", "ratio",
         "ratio+w", "dgemm");
  const size_t sizes[] = {500, 1000, 2000};
  for (size_t k = 0; k < 3; k++) {
    const size_t n = sizes[k];
    latens_mat *A = random_spd(n);
    double t[3], f = (double)n * n * n / 3.0 * 1e-9;
    time_chol(A, n <= 500 ? 30 : n <= 1000 ? 12 : 6, t);
    printf("%6zu %12.2f %12.2f %12.2f %7.2fx %7.2fx %10.2f\n", n, f / t[0], f / t[1], f / t[2],
           t[2] / t[0], t[2] / t[1], dgemm_gflops(n));
    latens_mat_free(A);
  }
  printf("small orders (ns per factorisation)\n%6s %14s %14s %9s\n", "n", "latens", "GSL", "ratio");
  const size_t small[] = {4, 16};
  for (size_t k = 0; k < 2; k++) {
    const size_t n = small[k], calls = 200000;
    latens_mat *A = random_spd(n), *B = latens_mat_alloc(n, n);
    gsl_matrix *G = gsl_matrix_alloc(n, n);
    double tl, tg;
    BENCH_PAIR(
        7, tl,
        for (size_t c = 0; c < calls; c++) {
          latens_mat_copy(B, A);
          latens_chol_decomp(B, NULL, NULL);
        },
        tg,
        for (size_t c = 0; c < calls; c++) {
          memcpy(G->data, A->data, n * n * sizeof *G->data);
          gsl_linalg_cholesky_decomp1(G);
        });
    printf("%6zu %14.1f %14.1f %8.2fx   (copy of the input included in both)\n", n,
           tl / calls * 1e9, tg / calls * 1e9, tg / tl);
    latens_mat_free(A), latens_mat_free(B), gsl_matrix_free(G);
  }
}

/* ------------------------------------------------------------ Kalman filter + smoother */

enum { KD = 4 };
typedef struct {
  double A[KD * KD], b[KD], Q[KD * KD], H[KD], r, m0[KD], P0[KD * KD];
  size_t T;
  double *y;
} ssm;

/* Results: filtered/predicted moments per step, then smoothed in place of the filtered. */
typedef struct {
  double *mf, *Pf, *mp, *Pp, *Pc, loglik;
} run;

static void run_alloc(run *r, size_t T) {
  r->mf = malloc(T * KD * sizeof(double)), r->mp = malloc(T * KD * sizeof(double));
  r->Pf = malloc(T * KD * KD * sizeof(double)), r->Pp = malloc(T * KD * KD * sizeof(double));
  r->Pc = malloc(T * KD * KD * sizeof(double));
}

static void run_free(run *r) { free(r->mf), free(r->mp), free(r->Pf), free(r->Pp), free(r->Pc); }

static void latens_filter_smoother(const ssm *M, run *o, latens_kalman_workspace *w) {
  const size_t T = M->T, dd = KD * KD;
  latens_mat A = latens_mat_view((double *)M->A, KD, KD, KD),
             Q = latens_mat_view((double *)M->Q, KD, KD, KD);
  latens_mat H = latens_mat_view((double *)M->H, 1, KD, 1);
  latens_vec b = latens_vec_view((double *)M->b, KD, 1), R = latens_vec_view((double *)&M->r, 1, 1);
  memcpy(o->mp, M->m0, sizeof M->m0), memcpy(o->Pp, M->P0, sizeof M->P0);
  o->loglik = 0.0;
  for (size_t t = 0; t < T; t++) {
    memcpy(o->mf + t * KD, o->mp + t * KD, KD * sizeof(double));
    memcpy(o->Pf + t * dd, o->Pp + t * dd, dd * sizeof(double));
    latens_vec m = latens_vec_view(o->mf + t * KD, KD, 1), y = latens_vec_view(M->y + t, 1, 1);
    latens_mat P = latens_mat_view(o->Pf + t * dd, KD, KD, KD);
    double inc;
    latens_kalman_update(&y, NULL, &H, NULL, &R, &m, &P, &inc, w);
    o->loglik += inc;
    if (t + 1 == T) break;
    memcpy(o->mp + (t + 1) * KD, o->mf + t * KD, KD * sizeof(double));
    memcpy(o->Pp + (t + 1) * dd, o->Pf + t * dd, dd * sizeof(double));
    latens_vec mn = latens_vec_view(o->mp + (t + 1) * KD, KD, 1);
    latens_mat Pn = latens_mat_view(o->Pp + (t + 1) * dd, KD, KD, KD);
    latens_kalman_predict(&A, &b, &Q, &mn, &Pn, w);
  }
  for (size_t t = T - 1; t-- > 0;) {
    latens_vec m = latens_vec_view(o->mf + t * KD, KD, 1),
               mp = latens_vec_view(o->mp + (t + 1) * KD, KD, 1);
    latens_vec ms1 = latens_vec_view(o->mf + (t + 1) * KD, KD, 1);
    latens_mat P = latens_mat_view(o->Pf + t * dd, KD, KD, KD);
    latens_mat Pp = latens_mat_view(o->Pp + (t + 1) * dd, KD, KD, KD);
    latens_mat Ps1 = latens_mat_view(o->Pf + (t + 1) * dd, KD, KD, KD);
    latens_mat C = latens_mat_view(o->Pc + t * dd, KD, KD, KD);
    latens_kalman_smooth(&A, &m, &P, &mp, &Pp, &ms1, &Ps1, &m, &P, &C, w);
  }
}

/* The reference: the textbook code a user would write with GSL, allocating every temporary
 * at every step.  GSL matrices are row-major; all the matrices here are handled as GSL sees
 * them, and A, Q are copied in transposed so that the model is the same. */
static void naive_filter_smoother(const ssm *M, run *o) {
  const size_t T = M->T, dd = KD * KD;
  gsl_matrix *A = gsl_matrix_alloc(KD, KD), *Q = gsl_matrix_alloc(KD, KD);
  for (size_t i = 0; i < KD; i++)
    for (size_t j = 0; j < KD; j++)
      gsl_matrix_set(A, i, j, M->A[i + j * KD]), gsl_matrix_set(Q, i, j, M->Q[i + j * KD]);
  gsl_matrix_const_view H = gsl_matrix_const_view_array(M->H, 1, KD);
  memcpy(o->mp, M->m0, sizeof M->m0), memcpy(o->Pp, M->P0, sizeof M->P0);
  o->loglik = 0.0;
  for (size_t t = 0; t < T; t++) {
    gsl_vector *m = gsl_vector_alloc(KD);
    gsl_matrix *P = gsl_matrix_alloc(KD, KD), *PHt = gsl_matrix_alloc(KD, 1),
               *S = gsl_matrix_alloc(1, 1);
    gsl_matrix *K = gsl_matrix_alloc(KD, 1), *Mj = gsl_matrix_alloc(KD, KD),
               *MP = gsl_matrix_alloc(KD, KD);
    memcpy(m->data, o->mp + t * KD, KD * sizeof(double)),
        memcpy(P->data, o->Pp + t * dd, dd * sizeof(double));
    gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, P, &H.matrix, 0.0, PHt);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &H.matrix, PHt, 0.0, S);
    gsl_matrix_set(S, 0, 0, gsl_matrix_get(S, 0, 0) + M->r);
    gsl_linalg_cholesky_decomp1(S);
    double l = gsl_matrix_get(S, 0, 0), hm;
    gsl_vector_const_view h = gsl_matrix_const_row(&H.matrix, 0);
    gsl_blas_ddot(&h.vector, m, &hm);
    double v = M->y[t] - hm;
    o->loglik += -0.5 * (log(2 * M_PI) + v * v / (l * l)) - log(l);
    gsl_matrix_memcpy(K, PHt);
    gsl_blas_dtrsm(CblasRight, CblasLower, CblasTrans, CblasNonUnit, 1.0, S, K);
    gsl_blas_dtrsm(CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, 1.0, S, K);
    gsl_vector_view k = gsl_matrix_column(K, 0);
    gsl_blas_daxpy(v, &k.vector, m);
    gsl_matrix_set_identity(Mj);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, -1.0, K, &H.matrix, 1.0, Mj);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, Mj, P, 0.0, MP);
    gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, MP, Mj, 0.0, P);
    gsl_blas_dger(M->r, &k.vector, &k.vector, P);
    for (size_t i = 0; i < KD; i++)
      for (size_t j = i + 1; j < KD; j++) {
        double a = 0.5 * (gsl_matrix_get(P, i, j) + gsl_matrix_get(P, j, i));
        gsl_matrix_set(P, i, j, a), gsl_matrix_set(P, j, i, a);
      }
    memcpy(o->mf + t * KD, m->data, KD * sizeof(double)),
        memcpy(o->Pf + t * dd, P->data, dd * sizeof(double));
    if (t + 1 < T) {
      gsl_vector *mn = gsl_vector_alloc(KD);
      gsl_matrix *AP = gsl_matrix_alloc(KD, KD), *Pn = gsl_matrix_alloc(KD, KD);
      gsl_vector_const_view b = gsl_vector_const_view_array(M->b, KD);
      gsl_vector_memcpy(mn, &b.vector);
      gsl_blas_dgemv(CblasNoTrans, 1.0, A, m, 1.0, mn);
      gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, A, P, 0.0, AP);
      gsl_matrix_memcpy(Pn, Q);
      gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, AP, A, 1.0, Pn);
      memcpy(o->mp + (t + 1) * KD, mn->data, KD * sizeof(double));
      memcpy(o->Pp + (t + 1) * dd, Pn->data, dd * sizeof(double));
      gsl_vector_free(mn), gsl_matrix_free(AP), gsl_matrix_free(Pn);
    }
    gsl_vector_free(m);
    gsl_matrix_free(P), gsl_matrix_free(PHt), gsl_matrix_free(S), gsl_matrix_free(K);
    gsl_matrix_free(Mj), gsl_matrix_free(MP);
  }
  for (size_t t = T - 1; t-- > 0;) {
    gsl_matrix_view Pf = gsl_matrix_view_array(o->Pf + t * dd, KD, KD);
    gsl_matrix_view Pp = gsl_matrix_view_array(o->Pp + (t + 1) * dd, KD, KD);
    gsl_matrix_view Ps1 = gsl_matrix_view_array(o->Pf + (t + 1) * dd, KD, KD);
    gsl_matrix_view Pc = gsl_matrix_view_array(o->Pc + t * dd, KD, KD);
    gsl_matrix *L = gsl_matrix_alloc(KD, KD), *G = gsl_matrix_alloc(KD, KD),
               *Dm = gsl_matrix_alloc(KD, KD);
    gsl_matrix *GD = gsl_matrix_alloc(KD, KD);
    gsl_vector *u = gsl_vector_alloc(KD);
    gsl_matrix_memcpy(L, &Pp.matrix);
    gsl_linalg_cholesky_decomp1(L);
    gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, &Pf.matrix, A, 0.0, G);
    gsl_blas_dtrsm(CblasRight, CblasLower, CblasTrans, CblasNonUnit, 1.0, L, G);
    gsl_blas_dtrsm(CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, 1.0, L, G);
    for (size_t i = 0; i < KD; i++)
      gsl_vector_set(u, i, o->mf[(t + 1) * KD + i] - o->mp[(t + 1) * KD + i]);
    gsl_vector_view mf = gsl_vector_view_array(o->mf + t * KD, KD);
    gsl_blas_dgemv(CblasNoTrans, 1.0, G, u, 1.0, &mf.vector);
    gsl_matrix_memcpy(Dm, &Ps1.matrix);
    gsl_matrix_sub(Dm, &Pp.matrix);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, G, Dm, 0.0, GD);
    gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, GD, G, 1.0, &Pf.matrix);
    gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, &Ps1.matrix, G, 0.0, &Pc.matrix);
    for (size_t i = 0; i < KD; i++)
      for (size_t j = i + 1; j < KD; j++) {
        double a = 0.5 * (gsl_matrix_get(&Pf.matrix, i, j) + gsl_matrix_get(&Pf.matrix, j, i));
        gsl_matrix_set(&Pf.matrix, i, j, a), gsl_matrix_set(&Pf.matrix, j, i, a);
      }
    gsl_matrix_free(L), gsl_matrix_free(G), gsl_matrix_free(Dm), gsl_matrix_free(GD),
        gsl_vector_free(u);
  }
  gsl_matrix_free(A), gsl_matrix_free(Q);
}

static void bench_kalman(void) {
  ssm M;
  M.T = 100000;
  uint64_t s = 7;
  for (size_t j = 0; j < KD; j++)
    for (size_t i = 0; i < KD; i++) M.A[i + j * KD] = (i == j ? 0.9 : 0.0) + 0.05 * unif(&s);
  for (size_t j = 0; j < KD; j++)
    for (size_t i = 0; i < KD; i++) M.Q[i + j * KD] = M.P0[i + j * KD] = i == j ? 0.1 : 0.02;
  for (size_t i = 0; i < KD; i++) M.b[i] = 0.01 * unif(&s), M.m0[i] = 0.0, M.H[i] = i == 0;
  M.r = 0.5;
  M.y = malloc(M.T * sizeof *M.y);
  for (size_t t = 0; t < M.T; t++) M.y[t] = sin(1e-3 * t) + 0.7 * unif(&s);
  run a, b;
  run_alloc(&a, M.T), run_alloc(&b, M.T);
  latens_kalman_workspace *w = latens_kalman_workspace_alloc(KD, 1);
  double tl, tn;
  BENCH_PAIR(5, tl, latens_filter_smoother(&M, &a, w), tn, naive_filter_smoother(&M, &b));
  /* P is symmetric, so the row-major naive results compare entry for entry; the cross
   * covariance is not: compare it transposed. */
  double e = fabs(a.loglik - b.loglik) / fabs(b.loglik);
  for (size_t t = 0; t < M.T; t++)
    for (size_t i = 0; i < KD; i++) {
      e = fmax(e, fabs(a.mf[t * KD + i] - b.mf[t * KD + i]));
      for (size_t j = 0; j < KD; j++) {
        e = fmax(e, fabs(a.Pf[t * KD * KD + i + j * KD] - b.Pf[t * KD * KD + i + j * KD]));
        if (t + 1 < M.T)
          e = fmax(e, fabs(a.Pc[t * KD * KD + i + j * KD] - b.Pc[t * KD * KD + j + i * KD]));
      }
    }
  printf("Kalman filter + RTS smoother, T = %zu, d = %d, p = 1 (ns per time step, both passes)\n",
         M.T, KD);
  printf("  latens workspace steps: %8.1f ns/step\n", tl / M.T * 1e9);
  printf("  naive GSL, fresh allocs: %8.1f ns/step\n", tn / M.T * 1e9);
  printf("  ratio naive/latens:     %8.2fx   (loglik %.10g; max difference %.2g)\n", tn / tl,
         a.loglik, e);
  if (!(e < 1e-9)) fprintf(stderr, "latens and the naive version disagree\n"), exit(1);
  latens_kalman_workspace_free(w);
  run_free(&a), run_free(&b);
  free(M.y);
}

int main(void) {
  printf("BLAS: %s (%s), threads %d\n", latens_blas_name(), latens_blas_runtime(),
         latens_max_threads());
  bench_dense();
  bench_kalman();
  return 0;
}
