/* core/chol.c: lower Cholesky with a jitter ladder, solves and inverse from the factor, and the
 * multivariate normal log-density.
 *
 * Two regimes matter.  State-space models factor tiny matrices (d <= 16) millions of times, so
 * that path is a plain loop with no allocation and no BLAS call (whose fixed cost exceeds the
 * arithmetic there).  Dense GP references factor n ~ 2000, where only BLAS-3 reaches the
 * machine's speed, so larger orders run blocked right-looking over CBLAS dtrsm/dsyrk. */
#include "internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <latens/gauss.h>

/* Orders: up to CHOL_BASE the unblocked kernel; up to CHOL_NB recursive halving; beyond, a
 * right-looking loop over CHOL_NB-wide panels whose diagonal blocks are factored
 * recursively.  On the development machine (OpenBLAS, one thread, n = 500..2000) this ran at
 * 25-31 GFLOP/s, level with GSL's fully recursive decomp1 on the same BLAS (+-10%, run to
 * run), and 10-20% ahead of a plain 128-wide right-looking loop, whose unblocked diagonal
 * kernel and narrow dsyrk updates cost more than they save.  The inverse uses 128-wide
 * blocks, untuned: it is not on a hot path. */
enum { CHOL_BASE = 32, CHOL_NB = 256, INV_NB = 128 };
/* Orders whose backup fits on the stack: n(n+1)/2 doubles for n <= 32. */
enum { CHOL_STACK_N = 32, CHOL_STACK_WORK = CHOL_STACK_N * (CHOL_STACK_N + 1) / 2 };
/* Residual length kept on the stack by latens_gauss_logpdf. */
enum { LOGPDF_STACK_N = 64 };

static const double LOG_2PI = 1.8378770664093454836;

size_t latens_chol_work_size(size_t n) {
  if (n == 0) return 0;
  size_t a = n, b = n + 1; /* one of them is even: halve it before multiplying */
  if (a % 2 == 0) a /= 2;
  else b /= 2;
  return latens_mul_size(a, b);
}

/* Left-looking unblocked kernel on the lower triangle.  Column-major makes the update of
 * column j an axpy over contiguous memory for each earlier column.  Returns n on success,
 * else the 0-based column whose pivot was not positive (NaN counts as not positive). */
static size_t chol_unblocked(double *a, size_t n, size_t ld) {
  for (size_t j = 0; j < n; j++) {
    double *restrict cj = a + j * ld;
    for (size_t k = 0; k < j; k++) {
      const double *restrict ck = a + k * ld;
      const double ljk = ck[j];
      for (size_t i = j; i < n; i++) cj[i] -= ck[i] * ljk;
    }
    double d = cj[j];
    if (!(d > 0.0)) return j;
    d = sqrt(d);
    cj[j] = d;
    const double inv = 1.0 / d;
    for (size_t i = j + 1; i < n; i++) cj[i] *= inv;
  }
  return n;
}

/* Trailing update after a factored diagonal block a11 (kb x kb) with rest rows below:
 * A21 <- A21 L11^{-T}, A22 <- A22 - A21 A21^T (lower triangle only). */
static void chol_update(double *a11, size_t kb, size_t rest, size_t ld) {
  double *a21 = a11 + kb, *a22 = a21 + kb * ld;
  cblas_dtrsm(CblasColMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)rest, (int)kb,
              1.0, a11, (int)ld, a21, (int)ld);
  cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, (int)rest, (int)kb, -1.0, a21, (int)ld, 1.0,
              a22, (int)ld);
}

/* Recursive halving: the BLAS-3 calls stay as large as the block allows.  The split is
 * rounded to a multiple of CHOL_BASE so that every leaf but the last is a full unblocked
 * block. */
static size_t chol_recursive(double *a, size_t n, size_t ld) {
  if (n <= CHOL_BASE) return chol_unblocked(a, n, ld);
  size_t n1 = (n / 2 + CHOL_BASE - 1) / CHOL_BASE * CHOL_BASE, n2 = n - n1;
  size_t f = chol_recursive(a, n1, ld);
  if (f < n1) return f;
  chol_update(a, n1, n2, ld);
  f = chol_recursive(a + n1 + n1 * ld, n2, ld);
  return f < n2 ? n1 + f : n;
}

/* Right-looking blocked factorisation: factor a diagonal block, solve the panel below it and
 * push the rank-CHOL_NB update onto the trailing matrix, where almost all flops are spent. */
static size_t chol_factor(double *a, size_t n, size_t ld) {
  for (size_t k = 0; k < n; k += CHOL_NB) {
    size_t kb = n - k < CHOL_NB ? n - k : CHOL_NB, rest = n - k - kb;
    double *a11 = a + k + k * ld;
    size_t f = chol_recursive(a11, kb, ld);
    if (f < kb) return k + f;
    if (rest) chol_update(a11, kb, rest, ld);
  }
  return n;
}

/* Copies the lower triangle into packed storage and says whether it was all finite.  The
 * test accumulates x*0, which is NaN exactly when some x is NaN or Inf, so the loop stays a
 * branch-free stream that vectorises. */
static int backup_lower(const double *a, size_t n, size_t ld, double *buf) {
  double acc = 0.0;
  for (size_t j = 0; j < n; j++) {
    const double *restrict c = a + j * ld;
    double *restrict b = buf;
    for (size_t i = j; i < n; i++) {
      b[i - j] = c[i];
      acc += c[i] * 0.0;
    }
    buf += n - j;
  }
  return acc == 0.0;
}

static int lower_finite(const double *a, size_t n, size_t ld) {
  double acc = 0.0;
  for (size_t j = 0; j < n; j++)
    for (size_t i = j; i < n; i++) acc += a[i + j * ld] * 0.0;
  return acc == 0.0;
}

static void restore_lower(double *a, size_t n, size_t ld, const double *buf) {
  for (size_t j = 0; j < n; j++) {
    memcpy(a + j + j * ld, buf, (n - j) * sizeof *buf);
    buf += n - j;
  }
}

/* Where the backup of the lower triangle lives; *heap is set when it had to be allocated. */
static int backup_buffer(const latens_chol_options *o, size_t n, double *stack, double **buf,
                         double **heap) {
  size_t need = latens_chol_work_size(n);
  *heap = NULL;
  if (need == 0)
    LATENS_ERRORF(LATENS_ENOMEM, "latens_chol_decomp: backup for n = %zu overflows", n);
  if (o->work) {
    if (o->lwork < need)
      LATENS_ERRORF(LATENS_EBADLEN, "latens_chol_decomp: work has %zu doubles, n = %zu needs %zu",
                    o->lwork, n, need);
    *buf = o->work;
  } else if (n <= CHOL_STACK_N) {
    *buf = stack;
  } else {
    *buf = *heap = malloc(need * sizeof **buf);
    if (!*heap)
      LATENS_ERRORF(LATENS_ENOMEM, "latens_chol_decomp: no memory for the %zu-double backup", need);
  }
  return LATENS_OK;
}

void latens_chol_options_default(latens_chol_options *opt) {
  if (opt) *opt = (latens_chol_options)LATENS_CHOL_OPTIONS_DEFAULT;
}

static int check_options(const latens_chol_options *o) {
  if (o->max_tries == 0) return LATENS_OK; /* the ladder is off: jitter_start is unused */
  if (!isfinite(o->jitter_start))
    LATENS_ERRORF(LATENS_ENOTFINITE, "latens_chol_decomp: jitter_start is %g", o->jitter_start);
  if (!(o->jitter_start > 0.0))
    LATENS_ERRORF(LATENS_EDOM, "latens_chol_decomp: jitter_start %g is not positive",
                  o->jitter_start);
  return LATENS_OK;
}

/* Why the rung `jitter` cannot be tried, or NULL if it can.  A jitter that overflows, or
 * that makes a diagonal entry near DBL_MAX overflow, would factor into an infinite L that
 * passes every pivot test, so the ladder stops there instead; a rung that underflowed to 0
 * (a subnormal mean |diag|) cannot help either. */
static const char *rung_unusable(const double *a, size_t n, size_t ld, double jitter) {
  if (!(jitter > 0.0)) return "underflow to 0";
  if (!(jitter <= DBL_MAX)) return "overflow";
  for (size_t i = 0; i < n; i++)
    if (!(fabs(a[i + i * ld] + jitter) <= DBL_MAX)) return "make the diagonal overflow";
  return NULL;
}

int latens_chol_decomp(latens_mat *A, const latens_chol_options *opt, latens_chol_info *info) {
  static const latens_chol_options defaults = LATENS_CHOL_OPTIONS_DEFAULT;
  const latens_chol_options *o = opt ? opt : &defaults;
  if (info) *info = (latens_chol_info){0.0, 0, 0};
  int status = latens_check_square("latens_chol_decomp", "A", A);
  if (status || (status = check_options(o))) return status;
  const size_t n = A->nrow, ld = A->ld;
  double *a = A->data;
  if (n == 0) return LATENS_OK;

  double stack[CHOL_STACK_WORK], *backup = NULL, *heap = NULL;
  int finite;
  if (o->max_tries) {
    if ((status = backup_buffer(o, n, stack, &backup, &heap))) return status;
    finite = backup_lower(a, n, ld, backup);
  } else {
    finite = lower_finite(a, n, ld);
  }
  if (!finite) {
    free(heap);
    LATENS_ERRORF(LATENS_ENOTFINITE,
                  "latens_chol_decomp: NaN or Inf in the lower triangle of the %zux%zu matrix", n,
                  n);
  }
  /* Dividing each term (not the sum) by n keeps the mean finite for entries near DBL_MAX. */
  double scale = 0.0;
  for (size_t i = 0; i < n; i++) scale += fabs(a[i + i * ld]) / (double)n;

  size_t fail = chol_factor(a, n, ld);
  double jitter = 0.0;
  unsigned tries = 1;
  double next = 0.0;
  const char *stop = NULL;
  for (unsigned t = 0; fail < n && t < o->max_tries && scale > 0.0; t++) {
    next = t == 0 ? o->jitter_start * scale : 10.0 * jitter;
    restore_lower(a, n, ld, backup);
    if ((stop = rung_unusable(a, n, ld, next))) break;
    jitter = next;
    for (size_t i = 0; i < n; i++) a[i + i * ld] += jitter;
    fail = chol_factor(a, n, ld);
    tries++;
  }
  if (info) *info = (latens_chol_info){jitter, tries, fail < n ? fail + 1 : 0};
  if (fail < n) {
    if (backup) restore_lower(a, n, ld, backup);
    free(heap);
    if (stop)
      LATENS_ERRORF(LATENS_ENOTPOSDEF,
                    "latens_chol_decomp: leading minor of order %zu of the %zux%zu matrix is not "
                    "positive definite (%u attempts, largest jitter %g, mean|diag| %g); the "
                    "ladder stopped because the next jitter, %g, would %s",
                    fail + 1, n, n, tries, jitter, scale, next, stop);
    LATENS_ERRORF(LATENS_ENOTPOSDEF,
                  "latens_chol_decomp: leading minor of order %zu of the %zux%zu matrix is not "
                  "positive definite (%u attempts, largest jitter %g = %g x mean|diag| %g)",
                  fail + 1, n, n, tries, jitter, scale > 0.0 ? jitter / scale : 0.0, scale);
  }
  free(heap);
  for (size_t j = 1; j < n; j++) memset(a + j * ld, 0, j * sizeof *a);
  return LATENS_OK;
}

double latens_chol_logdet(const latens_mat *L) {
  if (latens_check_square("latens_chol_logdet", "L", L)) return NAN;
  double s = 0.0;
  for (size_t i = 0; i < L->nrow; i++) s += log(LATENS_MAT(L, i, i));
  return 2.0 * s;
}

static int trans_of(char t, enum CBLAS_TRANSPOSE *out, const char *fn) {
  if (t == 'N' || t == 'n') *out = CblasNoTrans;
  else if (t == 'T' || t == 't') *out = CblasTrans;
  else LATENS_ERRORF(LATENS_EINVAL, "%s: trans must be 'N' or 'T', not '%c'", fn, t);
  return LATENS_OK;
}

/* The two vector operations share their checks; op selects dtrsv or dtrmv. */
static int tri_vec(const latens_mat *L, char trans, latens_vec *x, int solve, const char *fn) {
  enum CBLAS_TRANSPOSE t;
  int s;
  if ((s = latens_check_square(fn, "L", L)) || (s = trans_of(trans, &t, fn)) ||
      (s = latens_check_vec(fn, "x", x, L->nrow)))
    return s;
  if (L->nrow == 0) return LATENS_OK;
  if (solve)
    cblas_dtrsv(CblasColMajor, CblasLower, t, CblasNonUnit, (int)L->nrow, L->data, (int)L->ld,
                x->data, (int)x->stride);
  else
    cblas_dtrmv(CblasColMajor, CblasLower, t, CblasNonUnit, (int)L->nrow, L->data, (int)L->ld,
                x->data, (int)x->stride);
  return LATENS_OK;
}

int latens_chol_trsv(const latens_mat *L, char trans, latens_vec *x) {
  return tri_vec(L, trans, x, 1, "latens_chol_trsv");
}

int latens_chol_trmv(const latens_mat *L, char trans, latens_vec *x) {
  return tri_vec(L, trans, x, 0, "latens_chol_trmv");
}

int latens_chol_solve_vec(const latens_mat *L, latens_vec *b) {
  int s = tri_vec(L, 'N', b, 1, "latens_chol_solve_vec");
  return s ? s : tri_vec(L, 'T', b, 1, "latens_chol_solve_vec");
}

static void trsm_left(const latens_mat *L, enum CBLAS_TRANSPOSE t, latens_mat *B) {
  cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, t, CblasNonUnit, (int)B->nrow, (int)B->ncol,
              1.0, L->data, (int)L->ld, B->data, (int)B->ld);
}

int latens_chol_trsm(const latens_mat *L, char trans, latens_mat *B) {
  enum CBLAS_TRANSPOSE t;
  int s;
  if ((s = latens_check_square("latens_chol_trsm", "L", L)) ||
      (s = trans_of(trans, &t, "latens_chol_trsm")) ||
      (s = latens_check_mat("latens_chol_trsm", "B", B, L->nrow, LATENS_ANY)))
    return s;
  if (B->nrow && B->ncol) trsm_left(L, t, B);
  return LATENS_OK;
}

int latens_chol_solve(const latens_mat *L, latens_mat *B) {
  int s;
  if ((s = latens_check_square("latens_chol_solve", "L", L)) ||
      (s = latens_check_mat("latens_chol_solve", "B", B, L->nrow, LATENS_ANY)))
    return s;
  if (B->nrow && B->ncol) trsm_left(L, CblasNoTrans, B), trsm_left(L, CblasTrans, B);
  return LATENS_OK;
}

/* In-place inverse of a lower triangular matrix, unblocked (LAPACK's dtrti2 ordering): column
 * j of the inverse needs only the already-inverted trailing block, so go right to left. */
static void trtri_unblocked(double *a, size_t n, size_t ld) {
  for (size_t j = n; j-- > 0;) {
    double *x = a + j * ld;
    x[j] = 1.0 / x[j];
    const double ajj = -x[j];
    /* x[j+1:] <- T22 x[j+1:], T22 lower (in place, last column first), then scale. */
    for (size_t k = n; k-- > j + 1;) {
      const double *tk = a + k * ld, xk = x[k];
      for (size_t i = k + 1; i < n; i++) x[i] += tk[i] * xk;
      x[k] = tk[k] * xk;
    }
    for (size_t i = j + 1; i < n; i++) x[i] *= ajj;
  }
}

/* In place L <- L^T L on the lower triangle (LAPACK's dlauu2): row i needs rows below it of
 * the columns left of it, which are still untouched when going top-down. */
static void lauum_unblocked(double *a, size_t n, size_t ld) {
  for (size_t i = 0; i < n; i++) {
    const double aii = a[i + i * ld];
    for (size_t k = 0; k <= i; k++) {
      const double *ck = a + k * ld, *ci = a + i * ld;
      double s = aii * ck[i];
      for (size_t r = i + 1; r < n; r++) s += ck[r] * ci[r];
      a[i + k * ld] = s;
    }
  }
}

static void trtri_blocked(double *a, size_t n, size_t ld) {
  for (size_t j = (n - 1) / INV_NB * INV_NB;; j -= INV_NB) {
    size_t jb = n - j < INV_NB ? n - j : INV_NB, rest = n - j - jb;
    double *a11 = a + j + j * ld, *a21 = a11 + jb, *a22 = a21 + jb * ld;
    if (rest) {
      cblas_dtrmm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, (int)rest,
                  (int)jb, 1.0, a22, (int)ld, a21, (int)ld);
      cblas_dtrsm(CblasColMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, (int)rest,
                  (int)jb, -1.0, a11, (int)ld, a21, (int)ld);
    }
    trtri_unblocked(a11, jb, ld);
    if (j == 0) break;
  }
}

static void lauum_blocked(double *a, size_t n, size_t ld) {
  for (size_t i = 0; i < n; i += INV_NB) {
    size_t ib = n - i < INV_NB ? n - i : INV_NB, rest = n - i - ib;
    double *a11 = a + i + i * ld, *arow = a + i, *a21 = a11 + ib, *abelow = a + i + ib;
    if (i)
      cblas_dtrmm(CblasColMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, (int)ib, (int)i,
                  1.0, a11, (int)ld, arow, (int)ld);
    lauum_unblocked(a11, ib, ld);
    if (rest == 0) continue;
    if (i)
      cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)ib, (int)i, (int)rest, 1.0, a21,
                  (int)ld, abelow, (int)ld, 1.0, arow, (int)ld);
    cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, (int)ib, (int)rest, 1.0, a21, (int)ld, 1.0,
                a11, (int)ld);
  }
}

int latens_chol_invert(const latens_mat *L, latens_mat *Ainv) {
  int s;
  if ((s = latens_check_square("latens_chol_invert", "L", L)) ||
      (s = latens_check_square("latens_chol_invert", "Ainv", Ainv)))
    return s;
  const size_t n = L->nrow;
  if (Ainv->nrow != n)
    LATENS_ERRORF(LATENS_EBADLEN, "latens_chol_invert: Ainv is %zux%zu, L is %zux%zu", Ainv->nrow,
                  Ainv->nrow, n, n);
  for (size_t i = 0; i < n; i++)
    if (!(LATENS_MAT(L, i, i) != 0.0 && isfinite(LATENS_MAT(L, i, i))))
      LATENS_ERRORF(LATENS_ESING, "latens_chol_invert: L(%zu,%zu) = %g", i, i, LATENS_MAT(L, i, i));
  double *a = Ainv->data;
  const size_t ld = Ainv->ld;
  if (a != L->data || ld != L->ld)
    for (size_t j = 0; j < n; j++)
      memcpy(a + j + j * ld, L->data + j + j * L->ld, (n - j) * sizeof *a);
  if (n <= INV_NB) {
    trtri_unblocked(a, n, ld);
    lauum_unblocked(a, n, ld);
  } else {
    trtri_blocked(a, n, ld);
    lauum_blocked(a, n, ld);
  }
  for (size_t j = 1; j < n; j++)
    for (size_t i = 0; i < j; i++) a[i + j * ld] = a[j + i * ld];
  return LATENS_OK;
}

int latens_gauss_logpdf(const latens_vec *x, const latens_vec *mu, const latens_mat *L,
                        latens_vec *work, double *logpdf) {
  const char *fn = "latens_gauss_logpdf";
  int s;
  if (!logpdf) LATENS_ERROR("latens_gauss_logpdf: logpdf is NULL", LATENS_EINVAL);
  if ((s = latens_check_square(fn, "L", L)) || (s = latens_check_vec(fn, "x", x, L->nrow)) ||
      (mu && (s = latens_check_vec(fn, "mu", mu, L->nrow))) ||
      (work && (s = latens_check_vec(fn, "work", work, L->nrow))))
    return s;
  const size_t n = L->nrow;
  double stack[LOGPDF_STACK_N], *heap = NULL, *r = stack;
  size_t inc = 1;
  if (work) r = work->data, inc = work->stride;
  else if (n > LOGPDF_STACK_N && !(r = heap = malloc(n * sizeof *r)))
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for a residual of length %zu", fn, n);
  double acc = 0.0;
  for (size_t i = 0; i < n; i++) {
    r[i * inc] = LATENS_VEC(x, i) - (mu ? LATENS_VEC(mu, i) : 0.0);
    acc += r[i * inc] * 0.0;
  }
  if (acc != 0.0) {
    free(heap);
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: NaN or Inf in x or mu (n = %zu)", fn, n);
  }
  if (n)
    cblas_dtrsv(CblasColMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)n, L->data, (int)L->ld,
                r, (int)inc);
  double q = 0.0, ld = 0.0;
  for (size_t i = 0; i < n; i++) q += r[i * inc] * r[i * inc], ld += log(LATENS_MAT(L, i, i));
  free(heap);
  *logpdf = -0.5 * ((double)n * LOG_2PI + q) - ld;
  return LATENS_OK;
}
