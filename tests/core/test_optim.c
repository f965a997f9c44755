/* tests/core/test_optim.c: the optimiser front end, each method, bounds, statuses, the
 * gradient checker.
 *
 * Error bounds used throughout: near a minimiser x* with Hessian H (smallest eigenvalue
 * lmin), x - x* ~ H^{-1} g, so |x - x*|_2 <= |g|_2 / lmin <= sqrt(n) |g|_inf / lmin; the
 * factor 2 in `gradient_bound` covers the non-quadratic remainder so close to x*.  The
 * optimiser reports |g|_inf in its coordinates u; for unbounded parameters u = x. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
#include <latens/latens.h>
#include "suites.h"
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
#include <malloc.h>
#define HAVE_MALLINFO2 1
#endif

static const latens_optim_method gradient_methods[] = {LATENS_OPTIM_LBFGS, LATENS_OPTIM_BFGS2,
                                                       LATENS_OPTIM_CG_FR, LATENS_OPTIM_CG_PR};
enum { NGRAD = sizeof gradient_methods / sizeof *gradient_methods };

/* GSL's gradient methods need f to decrease at every step, so they stop (LATENS_ENOPROG)
 * once steps no longer change f in floating point: |g| ~ sqrt(2 lmax ulp(f)), 1e-8..3e-7 on
 * these problems.  They are asked for the default 1e-6; L-BFGS, whose Wolfe search also
 * accepts a step by its slope when f is flat to rounding, for the tighter value given. */
static latens_optim_options options(latens_optim_method method, double gtol) {
  latens_optim_options o;
  latens_optim_options_default(&o);
  o.method = method;
  o.gtol = method == LATENS_OPTIM_LBFGS ? gtol : fmax(gtol, 1e-6);
  o.ftol = 0.0; /* these tests check the gradient rule */
  o.max_iter = 20000;
  return o;
}

/* + 1e-13: rounding in x (~1e-16 each) and in g (a few ulp of its terms, ~1e-13 at most
 * for these objectives near their minimisers) divided by lmin >= 0.4. */
static double gradient_bound(const latens_optim_result *r, size_t n, double lmin) {
  return 2.0 * sqrt((double)n) * r->grad_norm / lmin + 1e-13;
}

static double dist2(const double *a, const double *b, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
  return sqrt(s);
}

/* Smallest eigenvalue of a symmetric n x n matrix (oracle: GSL's symmetric eigensolver). */
static double min_eigenvalue(const double *A, size_t n) {
  gsl_matrix *M = gsl_matrix_alloc(n, n);
  gsl_vector *ev = gsl_vector_alloc(n);
  gsl_eigen_symm_workspace *w = gsl_eigen_symm_alloc(n);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) gsl_matrix_set(M, i, j, A[i + j * n]);
  gsl_eigen_symm(M, ev, w);
  double m = gsl_vector_min(ev);
  gsl_eigen_symm_free(w), gsl_vector_free(ev), gsl_matrix_free(M);
  return m;
}

/* ---------------------------------------------------------------- objectives */

/* Chained Rosenbrock: sum 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2; minimum 0 at all ones. */
static int rosenbrock(const double *x, size_t n, void *user, double *f, double *g) {
  (void)user;
  *f = 0.0;
  if (g) memset(g, 0, n * sizeof *g);
  for (size_t i = 0; i + 1 < n; i++) {
    double r = x[i + 1] - x[i] * x[i], s = 1.0 - x[i];
    *f += 100.0 * r * r + s * s;
    if (g) g[i] += -400.0 * r * x[i] - 2.0 * s, g[i + 1] += 200.0 * r;
  }
  return LATENS_OK;
}

/* Its Hessian at the minimiser (all ones), column-major. */
static void rosenbrock_hessian_at_ones(double *H, size_t n) {
  memset(H, 0, n * n * sizeof *H);
  for (size_t i = 0; i + 1 < n; i++) {
    H[i + i * n] += 802.0, H[(i + 1) + (i + 1) * n] += 200.0;
    H[i + (i + 1) * n] -= 400.0, H[(i + 1) + i * n] -= 400.0;
  }
}

typedef struct {
  size_t n;
  double *A, *b; /* A column-major SPD */
} quad_problem;

/* 0.5 x'Ax - b'x. */
static int quadratic(const double *x, size_t n, void *user, double *f, double *g) {
  const quad_problem *q = user;
  double s = 0.0;
  for (size_t i = 0; i < n; i++) {
    double ax = 0.0;
    for (size_t j = 0; j < n; j++) ax += q->A[i + j * n] * x[j];
    s += x[i] * (0.5 * ax - q->b[i]);
    if (g) g[i] = ax - q->b[i];
  }
  *f = s;
  return LATENS_OK;
}

/* Deterministic numbers in [-1, 1) for test data (a 64-bit LCG, Knuth's MMIX constants). */
static double lcg(unsigned long long *state) {
  *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(*state >> 11) / 4503599627370496.0 - 1.0;
}

/* ---------------------------------------------------------------- unconstrained */

START_TEST(rosenbrock_2d_each_method) {
  /* Oracle: the closed-form minimiser (1, 1), f = 0. */
  double H[4], lmin;
  rosenbrock_hessian_at_ones(H, 2);
  lmin = min_eigenvalue(H, 2); /* ~0.3994 */
  const double x1[2] = {1.0, 1.0};
  for (int k = 0; k < NGRAD; k++) {
    latens_optim_options o = options(gradient_methods[k], 1e-9);
    double x[2] = {-1.2, 1.0};
    latens_optim_result r = {.x = x};
    int status = latens_optim_minimize(rosenbrock, x, 2, NULL, NULL, NULL, &o, &r);
    ck_assert_msg(status == LATENS_OK, "%s: status %d (%s) after %zu iterations, |g| = %g",
                  latens_optim_method_name(o.method), status,
                  latens_optim_reason_name(r.reason), r.iterations, r.grad_norm);
    ck_assert_int_eq(r.reason, LATENS_OPTIM_STOP_GTOL);
    ck_assert_int_eq(r.converged, 1);
    ck_assert_double_le(r.grad_norm, o.gtol);
    ck_assert_double_le(dist2(x, x1, 2), gradient_bound(&r, 2, lmin));
    ck_assert_uint_gt(r.fevals, r.iterations);
  }
}
END_TEST

START_TEST(rosenbrock_2d_simplex) {
  /* Oracle: minimiser (1, 1).  Nelder-Mead has no gradient rule; f - f* >= lmin/2 |x-x*|^2
   * bounds the distance by the value reached.  xtol 1e-10 leaves vertex values around
   * lmax * xtol^2 ~ 1e-17; 1e-12 allows a simplex well off-centre. */
  latens_optim_options o = options(LATENS_OPTIM_SIMPLEX, 0.0);
  o.xtol = 1e-10;
  double x[2] = {-1.2, 1.0}, H[4];
  rosenbrock_hessian_at_ones(H, 2);
  latens_optim_result r = {.x = x};
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x, 2, NULL, NULL, NULL, &o, &r), LATENS_OK);
  ck_assert_int_eq(r.reason, LATENS_OPTIM_STOP_XTOL);
  ck_assert(isnan(r.grad_norm));
  ck_assert_double_le(r.f, 1e-12);
  const double x1[2] = {1.0, 1.0};
  ck_assert_double_le(dist2(x, x1, 2), 2.0 * sqrt(2.0 * r.f / min_eigenvalue(H, 2)) + 1e-12);
}
END_TEST

START_TEST(rosenbrock_10d_each_method) {
  /* Oracle: minimiser all ones, f = 0.  The chained function has a second local minimum
   * near (-1, 1, ..., 1) for 4 <= n <= 30 (Kok & Sandrock 2009), so the start is in the
   * global basin: x_i = 0.5 + 0.3 sin(i). */
  enum { N = 10 };
  double H[N * N], ones[N], x0[N];
  rosenbrock_hessian_at_ones(H, N);
  double lmin = min_eigenvalue(H, N);
  for (size_t i = 0; i < N; i++) ones[i] = 1.0, x0[i] = 0.5 + 0.3 * sin((double)i);
  for (int k = 0; k < NGRAD; k++) {
    latens_optim_options o = options(gradient_methods[k], 1e-9);
    double x[N];
    latens_optim_result r = {.x = x};
    int status = latens_optim_minimize(rosenbrock, x0, N, NULL, NULL, NULL, &o, &r);
    ck_assert_msg(status == LATENS_OK, "%s: status %d (%s) after %zu iterations, |g| = %g",
                  latens_optim_method_name(o.method), status,
                  latens_optim_reason_name(r.reason), r.iterations, r.grad_norm);
    ck_assert_double_le(dist2(x, ones, N), gradient_bound(&r, N, lmin));
  }
}
END_TEST

/* A random SPD problem: A = M'M + n I (every eigenvalue >= n), b, and the oracle
 * x* = A^{-1} b by GSL's Cholesky solver.  Returns f at x*, which is -(b . x*)/2. */
static double spd_problem(size_t n, unsigned long long seed, double *A, double *b, double *xs) {
  double *M = malloc(n * n * sizeof *M);
  for (size_t i = 0; i < n * n; i++) M[i] = lcg(&seed);
  for (size_t i = 0; i < n; i++) b[i] = 3.0 * lcg(&seed);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double s = i == j ? (double)n : 0.0;
      for (size_t k = 0; k < n; k++) s += M[k + i * n] * M[k + j * n];
      A[i + j * n] = s;
    }
  free(M);
  gsl_matrix *L = gsl_matrix_alloc(n, n);
  gsl_matrix_const_view Av = gsl_matrix_const_view_array(A, n, n); /* symmetric */
  gsl_matrix_memcpy(L, &Av.matrix);
  gsl_vector_const_view bv = gsl_vector_const_view_array(b, n);
  gsl_vector_view xv = gsl_vector_view_array(xs, n);
  gsl_linalg_cholesky_decomp1(L);
  gsl_linalg_cholesky_solve(L, &bv.vector, &xv.vector);
  gsl_matrix_free(L);
  double fstar = 0.0;
  for (size_t i = 0; i < n; i++) fstar -= 0.5 * b[i] * xs[i];
  return fstar;
}

START_TEST(quadratic_each_method) {
  /* Oracle: x* = A^{-1} b (Cholesky).  Every eigenvalue of A is >= n, so
   * |x - x*|_2 <= |A^{-1}| |g|_2 <= sqrt(n) |g|_inf / n, plus rounding in g = Ax - b. */
  enum { N = 12 };
  double A[N * N], b[N], xs[N], x0[N] = {0}, x[N];
  double fstar = spd_problem(N, 42, A, b, xs);
  quad_problem q = {N, A, b};
  for (int k = 0; k < NGRAD; k++) {
    latens_optim_options o = options(gradient_methods[k], 1e-10);
    latens_optim_result r = {.x = x};
    int status = latens_optim_minimize(quadratic, x0, N, &q, NULL, NULL, &o, &r);
    ck_assert_msg(status == LATENS_OK, "%s: status %d (%s)", latens_optim_method_name(o.method),
                  status, latens_optim_reason_name(r.reason));
    ck_assert_double_le(dist2(x, xs, N), sqrt(N) * r.grad_norm / N + 1e-12);
    ck_assert_double_le(fabs(r.f - fstar), 1e-10 * fabs(fstar));
  }
  /* Nelder-Mead on a smaller problem (its cost grows fast with n).  For a quadratic
   * f - f* = (x - x*)'A(x - x*)/2 >= n/2 |x - x*|^2 exactly, where f - f* is known up to the
   * rounding of both values, a few ulp of the terms summed (|x'Ax|/2 + |b'x| = 3 |f*| at
   * x*): 16 n eps 3 |f*| is ample.  xtol 1e-8 leaves vertex values within ~lmax xtol^2 ~
   * 1e-14 of f*; 1e-10 allows an off-centre simplex. */
  double A4[16], b4[4], xs4[4], x4[4];
  double fstar4 = spd_problem(4, 7, A4, b4, xs4);
  quad_problem q4 = {4, A4, b4};
  latens_optim_options o = options(LATENS_OPTIM_SIMPLEX, 0.0);
  latens_optim_result r = {.x = x4};
  ck_assert_int_eq(latens_optim_minimize(quadratic, x0, 4, &q4, NULL, NULL, &o, &r), LATENS_OK);
  ck_assert_double_le(r.f - fstar4, 1e-10);
  double rounding = 16.0 * 4 * DBL_EPSILON * 3.0 * fabs(fstar4);
  ck_assert_double_le(dist2(x4, xs4, 4), sqrt(2.0 * (r.f - fstar4 + rounding) / 4.0));
}
END_TEST

#define LARGE_N 1000
typedef struct {
  double c[LARGE_N], t[LARGE_N];
  size_t calls;
  size_t heap_first, heap_changes; /* bytes in use at the 2nd call; later calls differing */
} separable;

static int separable_quadratic(const double *x, size_t n, void *user, double *f, double *g) {
  separable *s = user;
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = x[i] - s->t[i];
    sum += 0.5 * s->c[i] * d * d;
    if (g) g[i] = s->c[i] * d;
  }
  *f = sum;
  s->calls++;
#ifdef HAVE_MALLINFO2
  /* The first call is the front end's start evaluation; L-BFGS allocates its workspace after
   * it.  From the second call on, the heap in use must not change. */
  size_t heap = mallinfo2().uordblks;
  if (s->calls == 2) s->heap_first = heap;
  else if (s->calls > 2 && heap != s->heap_first) s->heap_changes++;
#endif
  return LATENS_OK;
}

START_TEST(lbfgs_large_separable) {
  /* Oracle: minimiser t (closed form).  Curvatures c_i spread over [1, 10] (condition 10):
   * conjugate-gradient theory needs ~ log(1e10)/log(1/0.52) ~ 35 iterations for a 1e-10
   * reduction; L-BFGS with inexact line searches is allowed 100 -- far below n = 1000, which
   * is what "few" means here.  Allocation-free iterations: the heap in use is constant
   * across objective calls (glibc's mallinfo2). */
  separable *s = calloc(1, sizeof *s);
  double *x = malloc(LARGE_N * sizeof *x), *x0 = calloc(LARGE_N, sizeof *x0);
  for (size_t i = 0; i < LARGE_N; i++) {
    double golden = fmod(0.6180339887498949 * (double)i, 1.0);
    s->c[i] = 1.0 + 9.0 * golden;
    s->t[i] = sin(0.37 * (double)i);
  }
  latens_optim_options o = options(LATENS_OPTIM_LBFGS, 1e-10);
  latens_optim_result r = {.x = x};
  ck_assert_int_eq(latens_optim_minimize(separable_quadratic, x0, LARGE_N, s, NULL, NULL, &o, &r),
                   LATENS_OK);
  ck_assert_uint_le(r.iterations, 100);
  ck_assert_uint_le(r.fevals, 3 * r.iterations + 2);
  ck_assert_uint_eq(r.fevals, s->calls);
  /* |x - t|_2 <= sqrt(n) |g|_inf / min c, min c >= 1. */
  ck_assert_double_le(dist2(x, s->t, LARGE_N), sqrt(LARGE_N) * r.grad_norm + 1e-12);
  ck_assert_uint_eq(s->heap_changes, 0);
  free(s), free(x), free(x0);
}
END_TEST

/* ---------------------------------------------------------------- bounds */

/* (x0 - 3)^2 + (x1 + 2)^2 + (x2 - 5)^2: unconstrained minimum (3, -2, 5). */
static int outside_box(const double *x, size_t n, void *user, double *f, double *g) {
  (void)n, (void)user;
  double a = x[0] - 3.0, b = x[1] + 2.0, c = x[2] - 5.0;
  *f = a * a + b * b + c * c;
  if (g) g[0] = 2.0 * a, g[1] = 2.0 * b, g[2] = 2.0 * c;
  return LATENS_OK;
}

START_TEST(box_minimum_on_the_bounds) {
  /* x0 in (0, 1), x1 in (0, inf), x2 in (-inf, 2): the infimum is at the corner (1, 0, 2),
   * f* = 4 + 4 + 9 = 17, never attained.  Oracle for the distance to each bound: the gradient
   * rule in u.  With x = lo + (up-lo) s(u), df/du = f'(x) (x - lo)(up - x)/(up - lo); with
   * x = lo + e^u, df/du = f'(x)(x - lo); with x = up - e^u, df/du = -f'(x)(up - x).  So the
   * distance to the active bound is |df/du| / (|f'(x)| * other factor) <= grad_norm / (...),
   * up to one ulp of the bound from rounding x itself. */
  const double lo[3] = {0.0, 0.0, -INFINITY}, up[3] = {1.0, INFINITY, 2.0};
  const double start[3] = {0.5, 1.0, 0.0}, ulp = 4.0 * DBL_EPSILON;
  for (int k = 0; k < NGRAD; k++) {
    latens_optim_options o = options(gradient_methods[k], 1e-10);
    double x[3];
    latens_optim_result r = {.x = x};
    int status = latens_optim_minimize(outside_box, start, 3, NULL, lo, up, &o, &r);
    ck_assert_msg(status == LATENS_OK, "%s: status %d (%s)", latens_optim_method_name(o.method),
                  status, latens_optim_reason_name(r.reason));
    ck_assert_int_eq(r.reason, LATENS_OPTIM_STOP_GTOL);
    ck_assert(x[0] > 0.0 && x[0] < 1.0 && x[1] > 0.0 && x[2] < 2.0); /* strictly inside */
    ck_assert_double_le(1.0 - x[0], r.grad_norm / (2.0 * fabs(x[0] - 3.0) * x[0]) + ulp);
    ck_assert_double_le(x[1], r.grad_norm / (2.0 * fabs(x[1] + 2.0)) * (1.0 + ulp));
    ck_assert_double_le(2.0 - x[2], r.grad_norm / (2.0 * fabs(x[2] - 5.0)) + ulp);
  }
  /* Nelder-Mead: the simplex never shrinks in u (f is flat towards u = -inf), so only the f
   * rule can stop it.  Oracle: f - 17 = (1-x0)(5-x0) + x1(x1+4) + (2-x2)(8-x2) >= 4 (1-x0) +
   * 4 x1 + 6 (2-x2) inside the box, so each distance is <= (f - 17)/4. */
  latens_optim_options o = options(LATENS_OPTIM_SIMPLEX, 0.0);
  o.ftol = 1e-15;
  double x[3];
  latens_optim_result r = {.x = x};
  ck_assert_int_eq(latens_optim_minimize(outside_box, start, 3, NULL, lo, up, &o, &r), LATENS_OK);
  ck_assert_int_eq(r.reason, LATENS_OPTIM_STOP_FTOL);
  ck_assert(x[0] > 0.0 && x[0] < 1.0 && x[1] > 0.0 && x[2] < 2.0);
  ck_assert_double_le(r.f - 17.0, 1e-9); /* the accuracy asked of it */
  double excess = (r.f - 17.0) / 4.0 + 17.0 * ulp; /* + rounding of f near 17 */
  ck_assert_double_le(1.0 - x[0], excess);
  ck_assert_double_le(x[1], excess);
  ck_assert_double_le(2.0 - x[2], excess);
}
END_TEST

static int one_dim(const double *x, size_t n, void *user, double *f, double *g) {
  (void)n, (void)user;
  *f = (x[0] - 3.0) * (x[0] - 3.0);
  if (g) g[0] = 2.0 * (x[0] - 3.0);
  return LATENS_OK;
}

START_TEST(box_simple_interval) {
  /* The task's example: minimise (x - 3)^2 over (0, 1): x -> 1 from below.  Oracle as above:
   * 1 - x = |df/du| / (2 |x - 3| x). */
  const double lo = 0.0, up = 1.0, x0 = 0.25;
  for (int k = 0; k < NGRAD; k++) {
    latens_optim_options o = options(gradient_methods[k], 1e-8);
    double x;
    latens_optim_result r = {.x = &x};
    ck_assert_int_eq(latens_optim_minimize(one_dim, &x0, 1, NULL, &lo, &up, &o, &r), LATENS_OK);
    ck_assert(x < 1.0);
    ck_assert_double_le(1.0 - x, r.grad_norm / (2.0 * (3.0 - x) * x) + 4.0 * DBL_EPSILON);
    ck_assert_double_le(1.0 - x, o.gtol * r.f / (2.0 * (3.0 - x) * x) + 4.0 * DBL_EPSILON);
  }
}
END_TEST

/* x - a log x over x > 0: minimum at x = a. */
static int gamma_like(const double *x, size_t n, void *user, double *f, double *g) {
  (void)n;
  double a = *(const double *)user;
  if (!(x[0] > 0.0)) return LATENS_EDOM; /* the transformation must never let this happen */
  *f = x[0] - a * log(x[0]);
  if (g) g[0] = 1.0 - a / x[0];
  return LATENS_OK;
}

START_TEST(positive_parameter) {
  /* Oracle: x* = a in closed form.  With x = e^u, df/du = x (1 - a/x) = x - a exactly, so the
   * gradient rule bounds |x - a| by grad_norm itself (plus rounding in x - a). */
  double a = 2.5, lo = 0.0;
  for (int k = 0; k < NGRAD; k++) {
    latens_optim_options o = options(gradient_methods[k], 1e-10);
    double x = 0.01;
    latens_optim_result r = {.x = &x};
    ck_assert_int_eq(latens_optim_minimize(gamma_like, &x, 1, &a, &lo, NULL, &o, &r), LATENS_OK);
    ck_assert_double_le(fabs(x - a), r.grad_norm + 2.0 * DBL_EPSILON * a);
    ck_assert_double_le(r.grad_norm, o.gtol); /* |f| < 1 */
  }
  /* Nelder-Mead: f - f* ~ (x - a)^2 / (2a) (f'' = a/x^2 = 1/a at a).  In one dimension the
   * simplex stalls on ties once f is flat to rounding (|x - a| ~ sqrt(2 a ulp(f)) ~ 1e-8), so
   * the f rule ends it; 1e-12 in f is the accuracy asked. */
  latens_optim_options o = options(LATENS_OPTIM_SIMPLEX, 0.0);
  o.ftol = 1e-15;
  double x = 0.01, fstar = a - a * log(a);
  latens_optim_result r = {.x = &x};
  ck_assert_int_eq(latens_optim_minimize(gamma_like, &x, 1, &a, &lo, NULL, &o, &r), LATENS_OK);
  ck_assert_double_le(r.f - fstar, 1e-12);
  /* f - f* up to rounding: a few ulp of the two terms, each <= 2.5 in size. */
  double rounding = 8.0 * DBL_EPSILON * 5.0;
  ck_assert_double_le(fabs(x - a), 2.0 * sqrt(2.0 * a * (r.f - fstar + rounding)));
}
END_TEST

/* Negative log-likelihood of N(mu, sigma^2) without the constant: n log sigma + SS/(2 sigma^2). */
static const double normal_data[20] = {4.12, 5.31, 3.87, 6.02, 4.95, 5.48, 4.33, 5.76,
                                       4.61, 5.09, 3.59, 6.44, 4.88, 5.21, 4.07, 5.63,
                                       4.79, 5.92, 4.45, 5.17};

static int normal_nll(const double *p, size_t n, void *user, double *f, double *g) {
  (void)n, (void)user;
  double mu = p[0], s = p[1], ss = 0.0, sr = 0.0;
  for (int i = 0; i < 20; i++) ss += (normal_data[i] - mu) * (normal_data[i] - mu);
  for (int i = 0; i < 20; i++) sr += normal_data[i] - mu;
  *f = 20.0 * log(s) + ss / (2.0 * s * s);
  if (g) g[0] = -sr / (s * s), g[1] = 20.0 / s - ss / (s * s * s);
  return LATENS_OK;
}

START_TEST(normal_mle) {
  /* Oracle: mu^ = sample mean, sigma^ = sqrt(mean squared deviation) (the biased sd).  In the
   * optimiser's coordinates (mu, u = log sigma) the Hessian at the optimum is
   * diag(n / sigma^2, 2n), lmin = min of the two. */
  double mean = 0.0, ss = 0.0;
  for (int i = 0; i < 20; i++) mean += normal_data[i] / 20.0;
  for (int i = 0; i < 20; i++) ss += (normal_data[i] - mean) * (normal_data[i] - mean);
  double sd = sqrt(ss / 20.0), lmin = fmin(20.0 / (sd * sd), 40.0);
  const double lo[2] = {-INFINITY, 0.0};
  for (int k = 0; k < NGRAD; k++) {
    latens_optim_options o = options(gradient_methods[k], 1e-10);
    double p[2] = {0.0, 1.0};
    latens_optim_result r = {.x = p};
    ck_assert_int_eq(latens_optim_minimize(normal_nll, p, 2, NULL, lo, NULL, &o, &r), LATENS_OK);
    double bound = gradient_bound(&r, 2, lmin);
    ck_assert_double_le(fabs(p[0] - mean), bound);
    ck_assert_double_le(fabs(log(p[1]) - log(sd)), bound);
  }
}
END_TEST

/* ---------------------------------------------------------------- statuses */

typedef struct {
  int stop_at;  /* progress: stop when done reaches this */
  int calls;
  double total;
  char what[32];
} progress_log;

static int progress_cb(void *user, const char *what, double done, double total) {
  progress_log *p = user;
  p->calls++;
  p->total = total;
  snprintf(p->what, sizeof p->what, "%s", what);
  return done >= p->stop_at;
}

START_TEST(max_iter_returns_best) {
  /* Oracle: the objective itself: the returned x must reproduce the returned f, below f(x0). */
  for (int method = 0; method < LATENS_OPTIM_NMETHODS; method++) {
    latens_optim_options o = options((latens_optim_method)method, 1e-12);
    o.max_iter = 3;
    double x0[2] = {-1.2, 1.0}, x[2], f0, f;
    rosenbrock(x0, 2, NULL, &f0, NULL);
    latens_optim_result r = {.x = x};
    ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, NULL, NULL, &o, &r),
                     LATENS_EMAXITER);
    ck_assert_int_eq(r.status, LATENS_EMAXITER);
    ck_assert_int_eq(r.reason, LATENS_OPTIM_STOP_MAXITER);
    ck_assert_int_eq(r.converged, 0);
    ck_assert_uint_eq(r.iterations, 3);
    rosenbrock(x, 2, NULL, &f, NULL);
    ck_assert_double_eq(f, r.f);
    ck_assert_double_lt(r.f, f0);
    ck_assert_int_eq(latens_last_error(NULL), LATENS_EMAXITER);
  }
}
END_TEST

START_TEST(progress_interrupts) {
  for (int method = 0; method < LATENS_OPTIM_NMETHODS; method++) {
    progress_log log = {.stop_at = 2};
    latens_optim_options o = options((latens_optim_method)method, 1e-12);
    o.max_iter = 500;
    o.progress = (latens_progress){progress_cb, &log};
    double x0[2] = {-1.2, 1.0}, x[2], f0, f;
    rosenbrock(x0, 2, NULL, &f0, NULL);
    latens_optim_result r = {.x = x};
    ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, NULL, NULL, &o, &r),
                     LATENS_EINTERRUPTED);
    ck_assert_int_eq(r.reason, LATENS_OPTIM_STOP_INTERRUPTED);
    ck_assert_uint_eq(r.iterations, 2);
    ck_assert_int_eq(log.calls, 2);
    ck_assert_double_eq(log.total, 500.0);
    ck_assert_str_eq(log.what + 6, latens_optim_method_name(method));
    rosenbrock(x, 2, NULL, &f, NULL);
    ck_assert_double_eq(f, r.f); /* the best point so far, with its value */
    ck_assert_double_le(r.f, f0);
  }
}
END_TEST

typedef struct {
  int calls, fail_at, status;
} failing;

static int failing_rosenbrock(const double *x, size_t n, void *user, double *f, double *g) {
  failing *s = user;
  if (++s->calls >= s->fail_at) return s->status;
  return rosenbrock(x, n, NULL, f, g);
}

START_TEST(objective_error_aborts) {
  for (int method = 0; method < LATENS_OPTIM_NMETHODS; method++) {
    for (int at = 1; at <= 12; at += 11) { /* at the start; in the middle of a run */
      failing s = {0, at, LATENS_ESING};
      latens_optim_options o = options((latens_optim_method)method, 1e-12);
      double x0[2] = {-1.2, 1.0}, x[2] = {7.0, 7.0}, f;
      latens_optim_result r = {.x = x};
      ck_assert_int_eq(latens_optim_minimize(failing_rosenbrock, x0, 2, &s, NULL, NULL, &o, &r),
                       LATENS_ESING);
      ck_assert_int_eq(r.status, LATENS_ESING);
      ck_assert_int_eq(r.reason, LATENS_OPTIM_STOP_ERROR);
      ck_assert_int_eq(s.calls, at); /* not called again after failing */
      if (at > 1) {
        rosenbrock(x, 2, NULL, &f, NULL);
        ck_assert_double_eq(f, r.f);
      } else {
        ck_assert_double_eq(x[0], 7.0); /* nothing to report: x untouched */
      }
    }
  }
}
END_TEST

static int nan_at_start(const double *x, size_t n, void *user, double *f, double *g) {
  (void)x, (void)n;
  *f = *(const int *)user ? 1.0 : NAN;
  if (g) g[0] = *(const int *)user ? NAN : 0.0;
  return LATENS_OK;
}

/* (x - 0.5)^2 where |x| < 1, NaN outside: a domain the optimiser is not told about. */
static int nan_outside(const double *x, size_t n, void *user, double *f, double *g) {
  (void)n, (void)user;
  *f = fabs(x[0]) < 1.0 ? (x[0] - 0.5) * (x[0] - 0.5) : NAN;
  if (g) g[0] = fabs(x[0]) < 1.0 ? 2.0 * (x[0] - 0.5) : NAN;
  return LATENS_OK;
}

/* (x - 0.5)^2 with a NaN gradient within 0.05 of the minimiser. */
static int nan_gradient_near_min(const double *x, size_t n, void *user, double *f, double *g) {
  (void)n, (void)user;
  *f = (x[0] - 0.5) * (x[0] - 0.5);
  if (g) g[0] = fabs(x[0] - 0.5) > 0.05 ? 2.0 * (x[0] - 0.5) : NAN;
  return LATENS_OK;
}

START_TEST(non_finite_values) {
  for (int method = 0; method < LATENS_OPTIM_NMETHODS; method++) {
    latens_optim_options o = options((latens_optim_method)method, 1e-10);
    double x = 0.3;
    latens_optim_result r = {.x = &x};
    int grad_nan = 0;
    ck_assert_int_eq(latens_optim_minimize(nan_at_start, &x, 1, &grad_nan, NULL, NULL, &o, &r),
                     LATENS_ENOTFINITE);
    grad_nan = 1; /* f fine, gradient NaN: the gradient methods cannot start */
    if (method != LATENS_OPTIM_SIMPLEX)
      ck_assert_int_eq(latens_optim_minimize(nan_at_start, &x, 1, &grad_nan, NULL, NULL, &o, &r),
                       LATENS_ENOTFINITE);
    /* NaN beyond the first trial step is "step too long", not a failure.  Oracle: minimiser
     * 0.5; quadratic with f'' = 2: |x - 0.5| = |g| / 2. */
    o.step = 100.0;
    o.max_iter = 2000;
    x = 0.9;
    int status = latens_optim_minimize(nan_outside, &x, 1, NULL, NULL, NULL, &o, &r);
    ck_assert_msg(status == LATENS_OK, "%s: status %d (%s)", latens_optim_method_name(method),
                  status, latens_optim_reason_name(r.reason));
    ck_assert_double_le(fabs(x - 0.5), method == LATENS_OPTIM_SIMPLEX ? 1e-6 : 1e-10);
    if (method == LATENS_OPTIM_SIMPLEX) continue;
    /* A NaN gradient where f is finite: GSL's methods stop with ENOTFINITE (best point so
     * far returned); L-BFGS treats it as a step too long and stays where the gradient is
     * finite, ending by the f rule or without progress. */
    o = options((latens_optim_method)method, 1e-10);
    o.ftol = 1e-12;
    x = 0.0;
    status = latens_optim_minimize(nan_gradient_near_min, &x, 1, NULL, NULL, NULL, &o, &r);
    double f;
    nan_gradient_near_min(&x, 1, NULL, &f, NULL);
    ck_assert_double_eq(f, r.f);
    if (method == LATENS_OPTIM_LBFGS) {
      ck_assert(status == LATENS_OK || status == LATENS_ENOPROG);
      ck_assert_double_gt(fabs(x - 0.5), 0.05);
    } else {
      ck_assert_int_eq(status, LATENS_ENOTFINITE);
      ck_assert_int_eq(r.reason, LATENS_OPTIM_STOP_ERROR);
    }
  }
}
END_TEST

START_TEST(bad_arguments) {
  latens_optim_options o;
  latens_optim_options_default(&o);
  double x0[2] = {0.5, 0.5}, x[2] = {9.0, 9.0};
  latens_optim_result r = {.x = x};
  ck_assert_int_eq(latens_optim_minimize(NULL, x0, 2, NULL, NULL, NULL, &o, &r), LATENS_EINVAL);
  ck_assert_int_eq(r.status, LATENS_EINVAL);
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, NULL, 2, NULL, NULL, NULL, &o, &r),
                   LATENS_EINVAL);
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, NULL, NULL, &o, NULL),
                   LATENS_EINVAL);
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 0, NULL, NULL, NULL, &o, &r),
                   LATENS_EINVAL);
  latens_optim_result nox = {.x = NULL};
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, NULL, NULL, &o, &nox),
                   LATENS_EINVAL);
  /* Options. */
  latens_optim_options bad = o;
  bad.method = (latens_optim_method)99;
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, NULL, NULL, &bad, &r),
                   LATENS_EINVAL);
  bad = o, bad.max_iter = 0;
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, NULL, NULL, &bad, &r),
                   LATENS_EINVAL);
  bad = o, bad.m = 0;
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, NULL, NULL, &bad, &r),
                   LATENS_EINVAL);
  /* Numeric options: NaN/Inf is LATENS_ENOTFINITE, a finite value out of range LATENS_EDOM. */
  bad = o, bad.gtol = NAN;
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, NULL, NULL, &bad, &r),
                   LATENS_ENOTFINITE);
  bad = o, bad.xtol = INFINITY;
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, NULL, NULL, &bad, &r),
                   LATENS_ENOTFINITE);
  bad = o, bad.ftol = -1.0;
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, NULL, NULL, &bad, &r),
                   LATENS_EDOM);
  bad = o, bad.step = 0.0;
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, NULL, NULL, &bad, &r),
                   LATENS_EDOM);
  bad = o, bad.step = INFINITY;
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, NULL, NULL, &bad, &r),
                   LATENS_ENOTFINITE);
  /* Bounds and the start. */
  const char *msg;
  double lo[2] = {0.0, 0.0}, up[2] = {1.0, 0.5};
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, lo, up, &o, &r), LATENS_EDOM);
  ck_assert_int_eq(latens_last_error(&msg), LATENS_EDOM);
  ck_assert_ptr_nonnull(strstr(msg, "parameter 1")); /* on the upper bound of parameter 1 */
  up[1] = 0.0;
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, lo, up, &o, &r), LATENS_EDOM);
  up[1] = NAN;
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, lo, up, &o, &r),
                   LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_last_error(&msg), LATENS_ENOTFINITE);
  ck_assert_ptr_nonnull(strstr(msg, "parameter 1"));
  up[1] = -INFINITY;
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, NULL, up, &o, &r), LATENS_EDOM);
  lo[0] = 0.6;
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x0, 2, NULL, lo, NULL, &o, &r), LATENS_EDOM);
  ck_assert_int_eq(latens_last_error(&msg), LATENS_EDOM);
  ck_assert_ptr_nonnull(strstr(msg, "parameter 0"));
  double xnan[2] = {0.5, NAN};
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, xnan, 2, NULL, NULL, NULL, &o, &r),
                   LATENS_ENOTFINITE);
  ck_assert_double_eq(x[0], 9.0); /* no start evaluated: result->x untouched */
  ck_assert_uint_eq(r.fevals, 0);
  ck_assert_int_eq(r.reason, LATENS_OPTIM_STOP_NONE);
  /* Names. */
  ck_assert_str_eq(latens_optim_method_name(LATENS_OPTIM_LBFGS), "lbfgs");
  ck_assert_str_eq(latens_optim_method_name(-1), "unknown");
  ck_assert_str_eq(latens_optim_reason_name(LATENS_OPTIM_STOP_FTOL), "f tolerance");
  ck_assert_str_eq(latens_optim_reason_name(42), "unknown");
  latens_optim_options_default(NULL);
}
END_TEST

START_TEST(defaults_and_ftol) {
  latens_optim_options o;
  latens_optim_options_default(&o);
  ck_assert_int_eq(o.method, LATENS_OPTIM_LBFGS);
  ck_assert_uint_eq(o.m, 10);
  ck_assert_ptr_null(o.progress.fn);
  /* NULL options = defaults; x0 and result->x may be the same array.  Oracle: the minimiser
   * (1, 1) of Rosenbrock; the defaults stop on gtol 1e-6 or ftol 1e-12, both of which leave
   * |x - x*| within ~1e-5 (ftol: f <~ 1e-12 after a stalled step, |x - x*| <= sqrt(2 f /
   * lmin) ~ 2e-6; gtol: 2 sqrt(2) 1e-6 / 0.4 ~ 7e-6). */
  double x[2] = {-1.2, 1.0};
  latens_optim_result r = {.x = x};
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, x, 2, NULL, NULL, NULL, NULL, &r), LATENS_OK);
  ck_assert(r.reason == LATENS_OPTIM_STOP_GTOL || r.reason == LATENS_OPTIM_STOP_FTOL);
  ck_assert_double_le(fabs(x[0] - 1.0) + fabs(x[1] - 1.0), 1e-5);
  /* Converged at the start: zero iterations, one evaluation. */
  double one[2] = {1.0, 1.0};
  r.x = x;
  ck_assert_int_eq(latens_optim_minimize(rosenbrock, one, 2, NULL, NULL, NULL, NULL, &r),
                   LATENS_OK);
  ck_assert_uint_eq(r.iterations, 0);
  ck_assert_uint_eq(r.fevals, 1);
  ck_assert_double_eq(r.f, 0.0);
}
END_TEST

/* ---------------------------------------------------------------- gradient checker */

static int wrong_gradient(const double *x, size_t n, void *user, double *f, double *g) {
  int status = rosenbrock(x, n, user, f, g);
  if (g) g[1] *= 1.01; /* a 1% error in one component */
  return status;
}

START_TEST(gradient_checker) {
  /* Oracle: central differences, error ~ h^2 |f'''| / 6 + eps |f| / h.  At (-1.2, 1, 0.5)
   * |f'''| <~ 3000, h ~ 6e-6 * 1.2: truncation ~ 3e-8 on components of size ~200, i.e.
   * ~1e-10 relative; rounding ~ 2e-16 * 30 / 7e-6 ~ 1e-9 absolute.  A correct gradient must
   * come out below 1e-7, a 1% error near 1e-2. */
  double x[3] = {-1.2, 1.0, 0.5}, err = -1.0;
  ck_assert_int_eq(latens_optim_check_gradient(rosenbrock, x, 3, NULL, 0.0, &err), LATENS_OK);
  ck_assert_double_le(err, 1e-7);
  ck_assert_int_eq(latens_optim_check_gradient(wrong_gradient, x, 3, NULL, 0.0, &err), LATENS_OK);
  ck_assert_double_gt(err, 5e-3);
  ck_assert_double_lt(err, 2e-2);
  /* An explicit step, and the positive parameter near its domain's edge. */
  double a = 2.5, small = 1e-7;
  ck_assert_int_eq(latens_optim_check_gradient(gamma_like, &a, 1, &a, 1e-4, &err), LATENS_OK);
  ck_assert_double_le(err, 1e-7); /* truncation h^2 |f'''|/6 ~ 1e-8 * 0.3 */
  ck_assert_int_eq(latens_optim_check_gradient(gamma_like, &small, 1, &a, 0.0, &err),
                   LATENS_EDOM); /* x - h < 0: the objective's own status */
  ck_assert_int_eq(latens_optim_check_gradient(nan_outside, (double[1]){0.999999}, 1, NULL,
                                               1e-3, &err),
                   LATENS_ENOTFINITE);
  ck_assert(isnan(err));
  /* Bad arguments. */
  ck_assert_int_eq(latens_optim_check_gradient(NULL, x, 3, NULL, 0.0, &err), LATENS_EINVAL);
  ck_assert_int_eq(latens_optim_check_gradient(rosenbrock, NULL, 3, NULL, 0.0, &err),
                   LATENS_EINVAL);
  ck_assert_int_eq(latens_optim_check_gradient(rosenbrock, x, 3, NULL, 0.0, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_optim_check_gradient(rosenbrock, x, 0, NULL, 0.0, &err), LATENS_EINVAL);
  ck_assert_int_eq(latens_optim_check_gradient(rosenbrock, x, 3, NULL, -1.0, &err), LATENS_EDOM);
  ck_assert_int_eq(latens_optim_check_gradient(rosenbrock, x, 3, NULL, NAN, &err),
                   LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_optim_check_gradient(rosenbrock, x, 3, NULL, INFINITY, &err),
                   LATENS_ENOTFINITE);
  err = 0.0;
  double xbad[3] = {-1.2, NAN, 0.5};
  ck_assert_int_eq(latens_optim_check_gradient(rosenbrock, xbad, 3, NULL, 0.0, &err),
                   LATENS_ENOTFINITE);
  ck_assert(isnan(err));
  int grad_nan = 1;
  ck_assert_int_eq(latens_optim_check_gradient(nan_at_start, x, 1, &grad_nan, 0.0, &err),
                   LATENS_ENOTFINITE);
}
END_TEST

Suite *optim_suite(void) {
  Suite *s = suite_create("optim");
  TCase *tc = tcase_create("optim");
  tcase_add_test(tc, rosenbrock_2d_each_method);
  tcase_add_test(tc, rosenbrock_2d_simplex);
  tcase_add_test(tc, rosenbrock_10d_each_method);
  tcase_add_test(tc, quadratic_each_method);
  tcase_add_test(tc, lbfgs_large_separable);
  tcase_add_test(tc, box_minimum_on_the_bounds);
  tcase_add_test(tc, box_simple_interval);
  tcase_add_test(tc, positive_parameter);
  tcase_add_test(tc, normal_mle);
  tcase_add_test(tc, max_iter_returns_best);
  tcase_add_test(tc, progress_interrupts);
  tcase_add_test(tc, objective_error_aborts);
  tcase_add_test(tc, non_finite_values);
  tcase_add_test(tc, bad_arguments);
  tcase_add_test(tc, defaults_and_ftol);
  tcase_add_test(tc, gradient_checker);
  suite_add_tcase(s, tc);
  return s;
}
