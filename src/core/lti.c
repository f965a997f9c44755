/* core/lti.c: matrix exponential (Padé scaling and squaring), exact LTI discretisation (Van
 * Loan on a short step, then doubling) and the helpers they share with the continuous
 * Lyapunov solver in lyap.c (through lti_impl.h).
 *
 * The hot path is small: gp and sde discretise states of d = 2..12 once per distinct step
 * length, which on an irregular grid is once per time point.  So the exponential works in
 * a preallocated workspace, multiplies small matrices with plain loops (a CBLAS call costs
 * more than a 4x4 product) and solves the Padé system with its own partial-pivoting LU
 * instead of GSL's, which would need row-major copies and can reach gsl_error. */
#include "lti_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <latens/lti.h>

/* The order above which the Padé solve's triangular sweeps go to dtrsm, set by analogy with
 * the measured LATENS_DENSE_SMALL_MNK of the products (dense.c), not measured itself. */
enum { SMALL_TRSM = 16 };
/* Orders whose scratch fits on the stack when no workspace is given (under 5 KB). */
enum { EXPM_STACK_N = 8, LTI_STACK_D = 4, NOISE_STACK_D = 64 };
/* Buffers of order n^2 in an expm workspace. */
enum { EXPM_NBUF = 7 };

/* Higham (2005), Table 2.3: largest ||A||_1 for which the [m/m] Padé approximant has relative
 * backward error <= 2^-53, for m = 3, 5, 7, 9, 13. */
static const double THETA[5] = {1.495585217958292e-2, 2.539398330063230e-1,
                                 9.504178996162932e-1, 2.097847961257068e0, 5.371920351148152e0};
static const int PADE_M[5] = {3, 5, 7, 9, 13};

/* Coefficients b_j of the [m/m] numerator p_m(x) = sum_j b_j x^j, scaled to integers:
 * b_j proportional to (2m - j)! m! / ((2m)! j! (m - j)!); all exact in double.  The
 * denominator is p_m(-x). */
static const double PADE3[] = {120.0, 60.0, 12.0, 1.0};
static const double PADE5[] = {30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0};
static const double PADE7[] = {17297280.0, 8648640.0, 1995840.0, 277200.0,
                               25200.0,    1512.0,    56.0,      1.0};
static const double PADE9[] = {17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0,
                               2162160.0,     110880.0,     3960.0,       90.0,        1.0};
static const double PADE13[] = {64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
                                1187353796428800.0,  129060195264000.0,   10559470521600.0,
                                670442572800.0,      33522128640.0,       1323241920.0,
                                40840800.0,          960960.0,            16380.0,
                                182.0,               1.0};

struct latens_expm_workspace {
  size_t n;
  double *buf; /* expm_doubles(n): EXPM_NBUF n x n blocks (ld n), n balancing exponents */
};

struct latens_lti_workspace {
  size_t d;
  double *buf; /* lti_doubles(d) */
};

/* ---------------------------------------------------------------- small helpers */

/* max(||A||_1, ||A||_inf) = m 2^e with m returned and e in *e, computed on A 2^-e so that it
 * cannot overflow for finite A (the column sums of entries near DBL_MAX would).  Both norms:
 * the Van Loan block holds F and F^T. */
static double norm_1inf(const double *a, size_t n, size_t ld, int inf_too, int *e) {
  double mx = 0.0;
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(a[i + j * ld]));
  *e = 0;
  if (mx == 0.0) return 0.0;
  (void)frexp(mx, e);
  double best = 0.0; /* per entry: 2^-e itself overflows when mx is subnormal */
  for (size_t j = 0; j < n; j++) {
    double c = 0.0, r = 0.0;
    for (size_t i = 0; i < n; i++) {
      c += scale2(fabs(a[i + j * ld]), -*e);
      if (inf_too) r += scale2(fabs(a[j + i * ld]), -*e);
    }
    best = fmax(best, inf_too ? fmax(c, r) : c);
  }
  return best;
}

/* Smallest s >= 0 with m 2^(e - s) <= theta (m >= 0 finite). */
static int halvings(double m, int e, double theta) {
  if (m == 0.0) return 0;
  int t;
  double f = frexp(m / theta, &t); /* m / theta = f 2^t, f in [0.5, 1) */
  long s = (long)e + (f == 0.5 ? t - 1 : t);
  return s > 0 ? (int)s : 0;
}

static void copy_block(size_t m, size_t n, const double *src, size_t lds, double *dst, size_t ldd) {
  for (size_t j = 0; j < n; j++) memmove(dst + j * ldd, src + j * lds, m * sizeof *dst);
}

/* ---------------------------------------------------------------- Padé solve */

/* B <- A^{-1} B for n x n A and B (ld n), by LU with partial pivoting; A is overwritten.
 * Rows of B are swapped together with A's, so no permutation is stored.  Returns 0, or
 * 1 + the column of an exactly zero pivot. */
static size_t lu_solve(size_t n, double *a, double *b) {
  for (size_t j = 0; j < n; j++) {
    size_t p = j;
    double big = fabs(a[j + j * n]);
    for (size_t i = j + 1; i < n; i++)
      if (fabs(a[i + j * n]) > big) big = fabs(a[i + j * n]), p = i;
    if (big == 0.0) return j + 1;
    if (p != j)
      for (size_t k = 0; k < n; k++) {
        double t = a[j + k * n];
        a[j + k * n] = a[p + k * n], a[p + k * n] = t;
        t = b[j + k * n];
        b[j + k * n] = b[p + k * n], b[p + k * n] = t;
      }
    double *restrict cj = a + j * n;
    const double inv = 1.0 / cj[j];
    for (size_t i = j + 1; i < n; i++) cj[i] *= inv;
    for (size_t k = j + 1; k < n; k++) {
      double *restrict ck = a + k * n;
      const double akj = ck[j];
      if (akj != 0.0)
        for (size_t i = j + 1; i < n; i++) ck[i] -= cj[i] * akj;
    }
  }
  if (n > SMALL_TRSM) {
    cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasUnit, (int)n, (int)n, 1.0,
                a, (int)n, b, (int)n);
    cblas_dtrsm(CblasColMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, (int)n, (int)n,
                1.0, a, (int)n, b, (int)n);
    return 0;
  }
  for (size_t c = 0; c < n; c++) {
    double *restrict x = b + c * n;
    for (size_t j = 0; j < n; j++) /* unit lower: column-oriented forward substitution */
      for (size_t i = j + 1; i < n; i++) x[i] -= a[i + j * n] * x[j];
    for (size_t j = n; j-- > 0;) {
      x[j] /= a[j + j * n];
      for (size_t i = 0; i < j; i++) x[i] -= a[i + j * n] * x[j];
    }
  }
  return 0;
}

/* dst <- sum_t coef[t] P[t] + cI I (n x n, ld n). */
static void combo(size_t n, double *dst, int np, const double *coef, const double *const *P,
                  double cI) {
  const size_t nn = n * n;
  for (size_t k = 0; k < nn; k++) {
    double s = 0.0;
    for (int t = 0; t < np; t++) s += coef[t] * P[t][k];
    dst[k] = s;
  }
  for (size_t i = 0; i < n; i++) dst[i + i * n] += cI;
}

/* r_m(S) = (V - U)^{-1} (V + U) with U in u and V in v; result in u, v destroyed. */
static int pade_ratio(size_t n, double *u, double *v) {
  for (size_t k = 0; k < n * n; k++) {
    const double uk = u[k], vk = v[k];
    u[k] = vk + uk, v[k] = vk - uk;
  }
  size_t z = lu_solve(n, v, u);
  if (z)
    LATENS_ERRORF(LATENS_ESING, "latens_expm: Padé denominator singular at column %zu", z - 1);
  return LATENS_OK;
}

/* ---------------------------------------------------------------- balancing */

/* Parlett-Reinsch balancing by powers of 2, so exact: s <- D^{-1} s D with D = diag(2^ex),
 * chosen so that each row and column have similar off-diagonal norms (s is n x n, ld n).
 * State-space models are graded (the Matérn state (f, f', f'') scales like 1, λ, λ²): there
 * ||F|| overstates the problem by orders of magnitude, and balancing cuts the number of
 * squarings and the error they amplify.  Exponents stay within ±400 so that no entry of a
 * finite matrix is pushed into overflow.  Returns 1 if D != I. */
static int balance(size_t n, double *s, double *ex) {
  int changed = 0;
  for (size_t i = 0; i < n; i++) ex[i] = 0.0;
  for (int sweep = 0, again = 1; again && sweep < 64; sweep++) {
    again = 0;
    for (size_t i = 0; i < n; i++) {
      double c = 0.0, r = 0.0;
      for (size_t j = 0; j < n; j++)
        if (j != i) c += fabs(s[j + i * n]), r += fabs(s[i + j * n]);
      if (c == 0.0 || r == 0.0) continue;
      const double total = c + r;
      int k = 0; /* D_i *= 2^k scales column i by 2^k and row i by 2^-k */
      while (c < r / 2 && k < 64) c *= 4.0, k++;
      while (c >= 2 * r && k > -64) c /= 4.0, k--;
      if (k == 0 || !(scale2(c + r, -k) < 0.95 * total) || fabs(ex[i] + k) > 400.0) continue;
      for (size_t j = 0; j < n; j++) s[j + i * n] = scale2(s[j + i * n], k);
      for (size_t j = 0; j < n; j++) s[i + j * n] = scale2(s[i + j * n], -k);
      ex[i] += k, again = 1, changed = 1;
    }
  }
  return changed;
}

/* x 2^e < y 2^f for mantissa-exponent pairs from norm_1inf (mantissas >= 0, finite). */
static int norm_less(double x, int e, double y, int f) {
  if (x == 0.0 || y == 0.0) return x == 0.0 && y != 0.0;
  return scale2(x / y, e - f) < 1.0;
}

int latens_lti_balance_kept(size_t n, const double *a, size_t lda, double *s, double *ex,
                            int inf_too, double *nrm, int *e) {
  copy_block(n, n, a, lda, s, n);
  *nrm = norm_1inf(s, n, n, inf_too, e);
  if (n < 2 || !balance(n, s, ex)) return 0;
  int eb;
  const double nb = norm_1inf(s, n, n, inf_too, &eb);
  if (norm_less(nb, eb, *nrm, *e)) {
    *nrm = nb, *e = eb;
    return 1;
  }
  copy_block(n, n, a, lda, s, n);
  return 0;
}

/* ---------------------------------------------------------------- expm */

/* The exponential of the n x n matrix a (ld lda, finite) into e (ld lde) using scratch buf
 * (expm_doubles(n)).  e may equal a: a is read only before e is written.  Balancing is kept
 * only when it reduces ||A||_1: on matrices it does not help it can increase the error. */
static int expm_core(size_t n, const double *a, size_t lda, double *e, size_t lde, double *buf) {
  const size_t nn = n * n;
  double *S = buf, *P2 = S + nn, *P4 = P2 + nn, *P6 = P4 + nn, *X = P6 + nn, *Y = X + nn,
         *Z = Y + nn, *exv = Z + nn;
  int ex;
  double nrm;
  const int bal = latens_lti_balance_kept(n, a, lda, S, exv, 0, &nrm, &ex);
  int mi = 0; /* index of the degree: the first theta that bounds ||A||_1 */
  while (mi < 4 && scale2(nrm, ex) > THETA[mi]) mi++;
  const int s = mi == 4 ? halvings(nrm, ex, THETA[4]) : 0;
  if (s)
    for (size_t k = 0; k < nn; k++) S[k] = scale2(S[k], -s);
  latens_dense_mm(0, 0, n, n, n, 1.0, S, n, S, n, 0.0, P2, n);
  const int m = PADE_M[mi];
  if (m >= 5) latens_dense_mm(0, 0, n, n, n, 1.0, P2, n, P2, n, 0.0, P4, n);
  if (m >= 7) latens_dense_mm(0, 0, n, n, n, 1.0, P4, n, P2, n, 0.0, P6, n);
  double *R;
  int status;
  if (m <= 9) {
    const double *b = m == 3 ? PADE3 : m == 5 ? PADE5 : m == 7 ? PADE7 : PADE9;
    if (m == 9) latens_dense_mm(0, 0, n, n, n, 1.0, P4, n, P4, n, 0.0, Z, n);
    const double *pw[4] = {P2, P4, P6, Z};
    double odd[4] = {0}, even[4] = {0};
    const int np = (m - 1) / 2;
    for (int t = 0; t < np; t++) odd[t] = b[2 * t + 3], even[t] = b[2 * t + 2];
    combo(n, X, np, odd, pw, b[1]);
    latens_dense_mm(0, 0, n, n, n, 1.0, S, n, X, n, 0.0, Y, n); /* U */
    combo(n, X, np, even, pw, b[0]);                            /* V */
    if ((status = pade_ratio(n, Y, X))) return status;
    R = Y;
  } else {
    const double *b = PADE13;
    const double *pw[3] = {P6, P4, P2};
    const double c1[3] = {b[13], b[11], b[9]}, c2[3] = {b[7], b[5], b[3]};
    const double c3[3] = {b[12], b[10], b[8]}, c4[3] = {b[6], b[4], b[2]};
    combo(n, X, 3, c1, pw, 0.0);
    combo(n, Y, 3, c2, pw, b[1]);
    latens_dense_mm(0, 0, n, n, n, 1.0, P6, n, X, n, 1.0, Y, n);
    latens_dense_mm(0, 0, n, n, n, 1.0, S, n, Y, n, 0.0, Z, n); /* U */
    combo(n, X, 3, c3, pw, 0.0);
    combo(n, Y, 3, c4, pw, b[0]);
    latens_dense_mm(0, 0, n, n, n, 1.0, P6, n, X, n, 1.0, Y, n); /* V */
    if ((status = pade_ratio(n, Z, Y))) return status;
    R = Z;
    double *T = P2;
    for (int k = 0; k < s; k++) {
      latens_dense_mm(0, 0, n, n, n, 1.0, R, n, R, n, 0.0, T, n);
      double *t = R;
      R = T, T = t;
    }
  }
  if (bal) /* exp(A) = D exp(S) D^{-1} */
    for (size_t j = 0; j < n; j++)
      for (size_t i = 0; i < n; i++) R[i + j * n] = scale2(R[i + j * n], (int)(exv[i] - exv[j]));
  if (!latens_all_finite(R, nn))
    LATENS_ERRORF(LATENS_ERANGE, "latens_expm: exp(A) overflows (||A||_1 = %g, %d squarings)",
                  scale2(nrm, ex), s);
  copy_block(n, n, R, n, e, lde);
  return LATENS_OK;
}

/* Scratch of expm_core: EXPM_NBUF blocks of n^2 and the n balancing exponents. */
static size_t expm_doubles(size_t n) {
  size_t nn = latens_mul_size(n, n);
  return nn && nn <= SIZE_MAX / sizeof(double) / (EXPM_NBUF + 1) ? EXPM_NBUF * nn + n : 0;
}

latens_expm_workspace *latens_expm_workspace_alloc(size_t n) {
  if (n == 0) LATENS_ERROR_NULL("latens_expm_workspace_alloc: order n = 0", LATENS_EINVAL);
  if (n > 46340) /* keeps n^2 below INT_MAX for CBLAS */
    LATENS_ERROR_NULL("latens_expm_workspace_alloc: order too large for CBLAS", LATENS_EINVAL);
  latens_expm_workspace *w = calloc(1, sizeof *w);
  double *buf = w ? malloc(expm_doubles(n) * sizeof *buf) : NULL;
  if (!buf) {
    free(w);
    latens_errorf(__FILE__, __LINE__, LATENS_ENOMEM,
                  "latens_expm_workspace_alloc: no memory for order %zu", n);
    return NULL;
  }
  w->n = n, w->buf = buf;
  return w;
}

void latens_expm_workspace_free(latens_expm_workspace *w) {
  if (!w) return;
  free(w->buf);
  free(w);
}

int latens_expm(const latens_mat *A, latens_mat *E, latens_expm_workspace *w) {
  static const char fn[] = "latens_expm";
  int status;
  if ((status = latens_check_square(fn, "A", A))) return status;
  const size_t n = A->nrow;
  if ((status = latens_check_mat(fn, "E", E, n, n))) return status;
  if (n == 0) return LATENS_OK;
  if (n > 46340) LATENS_ERROR("latens_expm: order too large for CBLAS", LATENS_EINVAL);
  if (w && w->n < n)
    LATENS_ERRORF(LATENS_EBADLEN, "latens_expm: workspace of order %zu for a %zux%zu matrix",
                  w->n, n, n);
  if ((status = latens_check_finite_mat(fn, "A", A))) return status;
  double stack[EXPM_NBUF * EXPM_STACK_N * EXPM_STACK_N + EXPM_STACK_N], *heap = NULL, *buf = stack;
  if (w) buf = w->buf;
  else if (n > EXPM_STACK_N) {
    if (!(heap = malloc(expm_doubles(n) * sizeof *heap)))
      LATENS_ERRORF(LATENS_ENOMEM, "latens_expm: no memory for scratch of order %zu", n);
    buf = heap;
  }
  status = expm_core(n, A->data, A->ld, E->data, E->ld, buf);
  free(heap);
  return status;
}

/* ---------------------------------------------------------------- Van Loan discretisation */

/* Scratch of latens_lti_discretize for state dimension d: the 2d x 2d exponential's scratch,
 * the block M (4 d^2), then F and G balanced, A_h, Q_h and a product (d x d each) and the d
 * balancing exponents. */
static size_t lti_doubles(size_t d) {
  size_t big = d < SIZE_MAX / 2 ? expm_doubles(2 * d) : 0, dd = latens_mul_size(d, d);
  if (!big || dd > (SIZE_MAX / sizeof(double) - big) / 10) return 0;
  return big + 9 * dd + d;
}

latens_lti_workspace *latens_lti_workspace_alloc(size_t d) {
  if (d == 0) LATENS_ERROR_NULL("latens_lti_workspace_alloc: state dimension d = 0", LATENS_EINVAL);
  if (d > 23170) /* 2d x 2d products must stay below INT_MAX for CBLAS */
    LATENS_ERROR_NULL("latens_lti_workspace_alloc: d too large for CBLAS", LATENS_EINVAL);
  latens_lti_workspace *w = calloc(1, sizeof *w);
  size_t total = lti_doubles(d);
  double *buf = w && total ? malloc(total * sizeof *buf) : NULL;
  if (!buf) {
    free(w);
    latens_errorf(__FILE__, __LINE__, LATENS_ENOMEM,
                  "latens_lti_workspace_alloc: no memory for d = %zu", d);
    return NULL;
  }
  w->d = d, w->buf = buf;
  return w;
}

void latens_lti_workspace_free(latens_lti_workspace *w) {
  if (!w) return;
  free(w->buf);
  free(w);
}

static int all_zero(const double *a, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (a[k] != 0.0) return 0;
  return 1;
}

/* A_h and Q_h for the balanced F and G (d x d, ld d) over h = dt 2^-k, with k returned.
 * The step ||F h|| <= 1/2 keeps exp(±F h) within e^{1/2} of I, so the product A_h Φ12 loses
 * nothing to cancellation.  Q is linear in G and every operation on the (1,2) block is
 * homogeneous in it, so G may be scaled by 2^g (exact): shrinking a large G keeps the
 * block's norm <= 1, where the exponential needs no squaring of its own.  Entries are formed
 * as x fd 2^(ed - k + ...) from dt = fd 2^ed so that no intermediate overflows. */
static int van_loan(size_t d, const double *F, const double *G, double dt, double *Ah,
                    double *Qh, int *doublings, double *buf) {
  const size_t n2 = 2 * d;
  double *M = buf + expm_doubles(n2);
  int ef, eg, ed, tg = 0;
  const double nf = norm_1inf(F, d, d, 1, &ef), ng = norm_1inf(G, d, d, 0, &eg);
  const double fd = frexp(dt, &ed);
  const int k = halvings(nf * fd, ef + ed, 0.5);
  if (ng != 0.0) (void)frexp(ng * fd, &tg);
  const int top = tg + eg + ed - k;      /* ||G h|| in [2^(top-1), 2^top) */
  const int g = top > -1 ? -1 - top : 0; /* then ||2^g G h|| < 1/2 */
  for (size_t j = 0; j < n2; j++)
    for (size_t i = 0; i < n2; i++) {
      double v = 0.0;
      if (i < d && j < d) v = -scale2(F[i + j * d] * fd, ed - k);
      else if (i < d) v = scale2(G[i + (j - d) * d] * fd, ed - k + g);
      else if (j >= d) v = scale2(F[(j - d) + (i - d) * d] * fd, ed - k); /* F^T */
      M[i + j * n2] = v;
    }
  int status = expm_core(n2, M, n2, M, n2, buf);
  if (status) return status;
  for (size_t j = 0; j < d; j++) /* A_h = Φ22^T */
    for (size_t i = 0; i < d; i++) Ah[i + j * d] = M[(d + j) + (d + i) * n2];
  latens_dense_mm(0, 0, d, d, d, 1.0, Ah, d, M + d * n2, n2, 0.0, Qh, d); /* 2^g Q_h = A_h Φ12 */
  for (size_t t = 0; t < d * d; t++) Qh[t] = scale2(Qh[t], -g);
  latens_dense_symmetrize(Qh, d, d);
  *doublings = k;
  return LATENS_OK;
}

/* The state x = D z with D from balancing F has dz = F~ z dt + D^{-1} L dβ, F~ = D^{-1} F D:
 * its A~, Q~ give A = D A~ D^{-1} and Q = D Q~ D, all exact scalings by powers of 2. */
static int balance_model(size_t d, const latens_mat *F, const latens_mat *G, double *Fb,
                         double *Gb, double *ex) {
  double nrm;
  int e;
  const int bal = latens_lti_balance_kept(d, F->data, F->ld, Fb, ex, 1, &nrm, &e);
  for (size_t j = 0; j < d; j++)
    for (size_t i = 0; i < d; i++)
      Gb[i + j * d] = scale2(LATENS_MAT(G, i, j), bal ? -(int)(ex[i] + ex[j]) : 0);
  return bal;
}

int latens_lti_discretize(const latens_mat *F, const latens_mat *LQLt, double dt, latens_mat *A,
                          latens_mat *Q, latens_lti_workspace *w) {
  static const char fn[] = "latens_lti_discretize";
  int status;
  if ((status = latens_check_square(fn, "F", F))) return status;
  const size_t d = F->nrow;
  if ((status = latens_check_mat(fn, "LQLt", LQLt, d, d)) ||
      (status = latens_check_mat(fn, "A", A, d, d)) ||
      (status = latens_check_mat(fn, "Q", Q, d, d)))
    return status;
  if (!isfinite(dt)) LATENS_ERRORF(LATENS_ENOTFINITE, "latens_lti_discretize: dt = %g", dt);
  if (dt < 0.0) LATENS_ERRORF(LATENS_EDOM, "latens_lti_discretize: dt = %g < 0", dt);
  if (d == 0) return LATENS_OK;
  if (d > 23170) LATENS_ERROR("latens_lti_discretize: d too large for CBLAS", LATENS_EINVAL);
  if (w && w->d < d)
    LATENS_ERRORF(LATENS_EBADLEN, "latens_lti_discretize: workspace for d = %zu, state d = %zu",
                  w->d, d);
  if ((status = latens_check_finite_mat(fn, "F", F)) ||
      (status = latens_check_finite_mat(fn, "LQLt", LQLt)))
    return status;
  if (dt == 0.0) {
    latens_mat_set_identity(A);
    latens_mat_set_zero(Q);
    return LATENS_OK;
  }
  enum { SD = LTI_STACK_D, STACK = EXPM_NBUF * 4 * SD * SD + 2 * SD + 9 * SD * SD + SD };
  double stack[STACK], *heap = NULL, *buf = stack;
  if (w) buf = w->buf;
  else if (d > LTI_STACK_D) {
    size_t total = lti_doubles(d);
    if (!total || !(heap = malloc(total * sizeof *heap)))
      LATENS_ERRORF(LATENS_ENOMEM, "latens_lti_discretize: no memory for scratch of d = %zu", d);
    buf = heap;
  }
  const size_t dd = d * d;
  double *Fb = buf + expm_doubles(2 * d) + 4 * dd, *Gb = Fb + dd, *Ah = Gb + dd, *Qh = Ah + dd,
         *T = Qh + dd, *ex = T + dd;
  const int bal = balance_model(d, F, LQLt, Fb, Gb, ex);
  int k;
  if ((status = van_loan(d, Fb, Gb, dt, Ah, Qh, &k, buf))) goto done;
  /* Doubling: Q_2h = Q_h + A_h Q_h A_h^T, A_2h = A_h^2.  Once A_h underflows to zero the
   * remaining doublings change nothing. */
  for (int i = 0; i < k && !all_zero(Ah, dd); i++) {
    latens_dense_mm(0, 0, d, d, d, 1.0, Ah, d, Qh, d, 0.0, T, d);
    latens_dense_mm(0, 1, d, d, d, 1.0, T, d, Ah, d, 1.0, Qh, d);
    latens_dense_symmetrize(Qh, d, d);
    latens_dense_mm(0, 0, d, d, d, 1.0, Ah, d, Ah, d, 0.0, T, d);
    memcpy(Ah, T, dd * sizeof *T);
    if (!latens_all_finite(Ah, dd) || !latens_all_finite(Qh, dd)) break;
  }
  /* A itself straight from exp(F dt): the doubling chain squares log2(||F dt|| / (1/2)) times
   * where the exponential needs log2(||F dt|| / 5.37), and each squaring doubles the relative
   * error (a 10-20x gain measured on Matérn-5/2 at λ dt = 20).  The chain's A_h served Q,
   * where those errors enter only through the positive terms A_h Q_h A_h^T.  If F dt itself
   * overflows, the chain's A stands (it squares from a representable step). */
  double *Fdt = buf + expm_doubles(2 * d); /* the block M is free again */
  int ed;
  const double fd = frexp(dt, &ed);
  for (size_t t = 0; t < dd; t++) Fdt[t] = scale2(Fb[t] * fd, ed);
  if (latens_all_finite(Ah, dd) && latens_all_finite(Fdt, dd) &&
      (status = expm_core(d, Fdt, d, Ah, d, buf)))
    goto done;
  if (bal)
    for (size_t j = 0; j < d; j++)
      for (size_t i = 0; i < d; i++) {
        Ah[i + j * d] = scale2(Ah[i + j * d], (int)(ex[i] - ex[j]));
        Qh[i + j * d] = scale2(Qh[i + j * d], (int)(ex[i] + ex[j]));
      }
  if (!latens_all_finite(Ah, dd) || !latens_all_finite(Qh, dd)) {
    latens_errorf(__FILE__, __LINE__, LATENS_ERANGE,
                  "%s: A or Q overflows over dt = %g (F unstable, ||F|| dt large)", fn, dt);
    status = LATENS_ERANGE;
    goto done;
  }
  copy_block(d, d, Ah, d, A->data, A->ld);
  copy_block(d, d, Qh, d, Q->data, Q->ld);
done:
  free(heap);
  return status;
}

/* ---------------------------------------------------------------- stationary noise */

int latens_lti_stationary_noise(const latens_mat *A, const latens_mat *Pinf, latens_mat *Q) {
  static const char fn[] = "latens_lti_stationary_noise";
  int status;
  if ((status = latens_check_square(fn, "A", A))) return status;
  const size_t d = A->nrow;
  if ((status = latens_check_mat(fn, "Pinf", Pinf, d, d)) ||
      (status = latens_check_mat(fn, "Q", Q, d, d)))
    return status;
  if (d == 0) return LATENS_OK;
  if ((status = latens_check_finite_mat(fn, "A", A)) ||
      (status = latens_check_finite_mat(fn, "Pinf", Pinf)))
    return status;
  double stack[NOISE_STACK_D], *t = stack, *heap = NULL;
  if (d > NOISE_STACK_D) {
    if (!(heap = malloc(d * sizeof *heap)))
      LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for d = %zu", fn, d);
    t = heap;
  }
  /* Column j of A Pinf A^T is A t with t = Pinf (row j of A)^T: one d-vector of scratch. */
  for (size_t j = 0; j < d; j++) {
    latens_dense_mm(0, 1, d, 1, d, 1.0, Pinf->data, Pinf->ld, A->data + j, A->ld, 0.0, t, d);
    double *q = Q->data + j * Q->ld;
    memcpy(q, Pinf->data + j * Pinf->ld, d * sizeof *q);
    latens_dense_mm(0, 0, d, 1, d, -1.0, A->data, A->ld, t, d, 1.0, q, d);
  }
  free(heap);
  latens_dense_symmetrize(Q->data, d, Q->ld);
  if (!latens_mat_all_finite(Q))
    LATENS_ERRORF(LATENS_ERANGE, "%s: Pinf - A Pinf A^T overflows", fn);
  return LATENS_OK;
}
