/* core/logspace_kernels.c: vectorised exp/log loops for log-space sums and products.
 *
 * glibc's <math.h> announces the libmvec vector variants of exp and log (_ZGVbN2v_exp, ...)
 * only under -ffast-math, which we refuse (it would also license the compiler to drop the
 * NaN and Inf handling this module promises).  Redeclaring the two functions with
 * `omp declare simd` tells GCC the variants exist; -fno-math-errno (set by configure) makes
 * the calls side-effect free, and `omp simd` on each loop allows the reassociated
 * reductions.  Nothing else in the library sees these declarations, so scalar code elsewhere
 * keeps calling the scalar libm.
 *
 * Shifts: a maximum that is not finite (all terms -Inf, or a +Inf term) is replaced by 0
 * before subtracting, so -Inf - -Inf never produces a NaN: all -Inf sums to exp(-Inf) = 0 and
 * gives log 0 = -Inf, a +Inf term gives exp(+Inf) = Inf, and a NaN term stays NaN. */
#include "internal.h"

#include <math.h>
#include "logspace_kernels.h"

#pragma omp declare simd notinbranch
extern double exp(double);
#pragma omp declare simd notinbranch
extern double log(double);

/* Rows handled per block by the row-wise kernel: the block's maxima and sums stay in L1, and
 * the block of X (read twice, for the maximum and for the sum) stays in L2 for ~256 columns. */
#define LSE_ROW_BLOCK 64

#if defined(__GNUC__)
#define KERNEL_INLINE static inline __attribute__((always_inline))
#else
#define KERNEL_INLINE static inline
#endif

KERNEL_INLINE double finite_or_zero(double m) { return (m > -INFINITY && m < INFINITY) ? m : 0.0; }

/* NaN-sticky maximum step: once r is NaN neither test can replace it. */
KERNEL_INLINE double max_nan(double r, double v) { return ((v > r) | (v != v)) ? v : r; }

/* One body for every stride combination: the callers below pass literal strides and flags so
 * that each inlined copy is specialised (contiguous loads, no weight load).
 *
 * The partial maxima and sums live in LSE_LANES explicit lanes rather than in an
 * `omp simd reduction`: at -O2 GCC keeps a reduction's privatised accumulator in memory,
 * which serialises the max pass on store-to-load latency; explicit lanes give independent
 * chains (the column-wise reduction got ~25% faster, within noise of the same file at -O3,
 * so no per-file -O3 is needed).  8 lanes cover every x86 vector width up to AVX-512. */
#define LSE_LANES 8

KERNEL_INLINE double lse_term(const double *x, size_t xs, int has_w, const double *w, size_t ws,
                              size_t i) {
  return has_w ? x[i * xs] + w[i * ws] : x[i * xs];
}

KERNEL_INLINE double lse_body(const double *x, size_t xs, int has_w, const double *w, size_t ws,
                              size_t n) {
  double mm[LSE_LANES], ss[LSE_LANES];
  for (int l = 0; l < LSE_LANES; l++) mm[l] = -INFINITY, ss[l] = 0.0;
  size_t nv = n / LSE_LANES * LSE_LANES;
  for (size_t i = 0; i < nv; i += LSE_LANES) {
#pragma omp simd
    for (int l = 0; l < LSE_LANES; l++) {
      double v = lse_term(x, xs, has_w, w, ws, i + l);
      mm[l] = v > mm[l] ? v : mm[l];
    }
  }
  double m = -INFINITY;
  for (int l = 0; l < LSE_LANES; l++) m = mm[l] > m ? mm[l] : m;
  for (size_t i = nv; i < n; i++) {
    double v = lse_term(x, xs, has_w, w, ws, i);
    m = v > m ? v : m;
  }
  double sh = finite_or_zero(m), s = 0.0;
  for (size_t i = 0; i < nv; i += LSE_LANES) {
#pragma omp simd
    for (int l = 0; l < LSE_LANES; l++) ss[l] += exp(lse_term(x, xs, has_w, w, ws, i + l) - sh);
  }
  for (size_t i = nv; i < n; i++) s += exp(lse_term(x, xs, has_w, w, ws, i) - sh);
  for (int l = 0; l < LSE_LANES; l++) s += ss[l];
  return sh + log(s);
}

double latens_lse_kernel(const double *x, size_t xs, const double *w, size_t ws, size_t n) {
  if (xs == 1 && !w) return lse_body(x, 1, 0, NULL, 0, n);
  if (xs == 1 && ws == 1) return lse_body(x, 1, 1, w, 1, n);
  if (!w) return lse_body(x, xs, 0, NULL, 0, n);
  return lse_body(x, xs, 1, w, ws, n);
}

/* Rows i0 .. i0+nb-1 of the row-wise reduction; vectorised across rows, so every load is
 * contiguous in column-major storage. */
KERNEL_INLINE void lse_rows_block(const double *X, size_t ld, size_t nb, size_t ncol,
                                  const double *w, size_t ws, double *out, size_t os) {
  double m[LSE_ROW_BLOCK], s[LSE_ROW_BLOCK];
  for (size_t i = 0; i < nb; i++) m[i] = -INFINITY, s[i] = 0.0;
  for (size_t j = 0; j < ncol; j++) {
    const double *c = X + j * ld;
    double wj = w ? w[j * ws] : 0.0;
#pragma omp simd
    for (size_t i = 0; i < nb; i++) {
      double v = c[i] + wj;
      m[i] = v > m[i] ? v : m[i];
    }
  }
#pragma omp simd
  for (size_t i = 0; i < nb; i++) m[i] = finite_or_zero(m[i]);
  for (size_t j = 0; j < ncol; j++) {
    const double *c = X + j * ld;
    double wj = w ? w[j * ws] : 0.0;
#pragma omp simd
    for (size_t i = 0; i < nb; i++) s[i] += exp(c[i] + wj - m[i]);
  }
#pragma omp simd
  for (size_t i = 0; i < nb; i++) s[i] = m[i] + log(s[i]);
  for (size_t i = 0; i < nb; i++) out[i * os] = s[i];
}

void latens_lse_rows_kernel(const double *X, size_t ld, size_t nrow, size_t ncol, const double *w,
                            size_t ws, double *out, size_t os) {
  for (size_t i0 = 0; i0 < nrow; i0 += LSE_ROW_BLOCK) {
    size_t nb = nrow - i0 < LSE_ROW_BLOCK ? nrow - i0 : LSE_ROW_BLOCK;
    if (w)
      lse_rows_block(X + i0, ld, nb, ncol, w, ws, out + i0 * os, os);
    else
      lse_rows_block(X + i0, ld, nb, ncol, NULL, 0, out + i0 * os, os);
  }
}

void latens_rowmax_kernel(const double *A, size_t lda, size_t m, size_t k, double *ra) {
  for (size_t i = 0; i < m; i++) ra[i] = -INFINITY;
  for (size_t c = 0; c < k; c++) {
    const double *a = A + c * lda;
#pragma omp simd
    for (size_t i = 0; i < m; i++) ra[i] = max_nan(ra[i], a[i]);
  }
}

double latens_max_kernel(const double *x, size_t n) {
  double mm[LSE_LANES], m = -INFINITY; /* lanes: see lse_body */
  for (int l = 0; l < LSE_LANES; l++) mm[l] = -INFINITY;
  size_t nv = n / LSE_LANES * LSE_LANES;
  for (size_t i = 0; i < nv; i += LSE_LANES) {
#pragma omp simd
    for (int l = 0; l < LSE_LANES; l++) mm[l] = max_nan(mm[l], x[i + l]);
  }
  for (int l = 0; l < LSE_LANES; l++) m = max_nan(m, mm[l]);
  for (size_t i = nv; i < n; i++) m = max_nan(m, x[i]);
  return m;
}

void latens_exp_rowshift_kernel(const double *A, size_t lda, size_t m, size_t k,
                                const double *shift, double *E, size_t lde) {
  for (size_t c = 0; c < k; c++) {
    const double *a = A + c * lda;
    double *e = E + c * lde;
#pragma omp simd
    for (size_t i = 0; i < m; i++) e[i] = exp(a[i] - shift[i]);
  }
}

void latens_exp_shift_kernel(const double *x, size_t n, double shift, double *e) {
#pragma omp simd
  for (size_t i = 0; i < n; i++) e[i] = exp(x[i] - shift);
}

int latens_log_shift_kernel(double *c, size_t m, const double *ra, const double *rs, double cs,
                            double thr) {
  /* Rows with a non-finite maximum are the caller's to overwrite, so only finite rows can
   * veto.  Flags are doubles, in lanes, so the test vectorises beside the double loads. */
  double bad[LSE_LANES] = {0};
  size_t nv = m / LSE_LANES * LSE_LANES;
  for (size_t i0 = 0; i0 < nv; i0 += LSE_LANES) {
#pragma omp simd
    for (int l = 0; l < LSE_LANES; l++) {
      size_t i = i0 + l;
      bad[l] = ((c[i] >= thr) | !(ra[i] > -INFINITY) | !(ra[i] < INFINITY)) ? bad[l] : 1.0;
    }
  }
  for (size_t i = nv; i < m; i++) bad[0] = ((c[i] >= thr) | !isfinite(ra[i])) ? bad[0] : 1.0;
  for (int l = 0; l < LSE_LANES; l++)
    if (bad[l] != 0.0) return 0;
#pragma omp simd
  for (size_t i = 0; i < m; i++) c[i] = rs[i] + cs + log(c[i]);
  return 1;
}
