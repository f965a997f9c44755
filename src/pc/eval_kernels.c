/* pc/eval_kernels.c: the exp/log loops around each dense sum block's DGEMM.
 *
 * As in core/logspace_kernels.c, exp and log are redeclared `omp declare simd` so that GCC
 * calls libmvec's vector variants inside `omp simd` loops without -ffast-math; nothing else
 * sees these declarations.  The shift is per sample (the maximum over the block's inputs), so
 * every exp argument is <= 0 and the largest term is exactly 1: no overflow, and underflow
 * only for terms more than ~745 nats below the sample's best, which cannot matter. */
#include "pc_impl.h"

#include <math.h>

#pragma omp declare simd notinbranch
extern double exp(double);
#pragma omp declare simd notinbranch
extern double log(double);

/* The library is built for baseline x86-64 (SSE2), where libmvec's exp/log take 2 lanes;
 * an AVX2 clone of each kernel, picked at load time by the CPU, uses the 4-lane variants.
 * The clones compute the same correctly-rounded-or-not libmvec results per lane width, so a
 * machine always gives the same numbers; different CPUs may differ in the last bit. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define PC_KERNEL __attribute__((target_clones("avx2", "default")))
#else
#define PC_KERNEL
#endif

PC_KERNEL void pc_k_gather_exp(const double *V, size_t ld, const size_t *slots, size_t nch, size_t nb,
                     double *m, double *E, size_t lde) {
  for (size_t b = 0; b < nb; b++) m[b] = -INFINITY;
  for (size_t c = 0; c < nch; c++) {
    const double *v = V + slots[c] * ld;
#pragma omp simd
    for (size_t b = 0; b < nb; b++) m[b] = v[b] > m[b] ? v[b] : m[b];
  }
  for (size_t b = 0; b < nb; b++)
    if (!(m[b] > -INFINITY)) m[b] = 0; /* all children impossible: exp gives 0 below */
  for (size_t c = 0; c < nch; c++) {
    const double *v = V + slots[c] * ld;
    double *e = E + c * lde;
#pragma omp simd
    for (size_t b = 0; b < nb; b++) e[b] = exp(v[b] - m[b]);
  }
}

PC_KERNEL void pc_k_log_shift(double *out, size_t ld, size_t nout, size_t nb, const double *m) {
  for (size_t i = 0; i < nout; i++) {
    double *o = out + i * ld;
#pragma omp simd
    for (size_t b = 0; b < nb; b++) o[b] = log(o[b]) + m[b];
  }
}

PC_KERNEL void pc_k_scatter_flow(double *F, size_t ld, const size_t *slots, size_t nch, size_t nb,
                                 const double *E, const double *T, size_t lde,
                                 unsigned char *touched) {
  for (size_t c = 0; c < nch; c++) {
    double *f = F + slots[c] * ld;
    const double *e = E + c * lde, *t = T + c * lde;
    if (touched[slots[c]]) {
#pragma omp simd
      for (size_t b = 0; b < nb; b++) f[b] += e[b] * t[b];
    } else {
#pragma omp simd
      for (size_t b = 0; b < nb; b++) f[b] = e[b] * t[b];
      touched[slots[c]] = 1;
    }
  }
}

PC_KERNEL void pc_k_product(double *V, size_t ld, const size_t *slots, size_t nch, size_t nb,
                            double *out) {
  const double *a = V + slots[0] * ld;
  if (nch == 1) {
    for (size_t b = 0; b < nb; b++) out[b] = a[b];
    return;
  }
  const double *c1 = V + slots[1] * ld;
  if (nch == 3) { /* an inner HCLT node with two tree children: one pass */
    const double *c2 = V + slots[2] * ld;
#pragma omp simd
    for (size_t b = 0; b < nb; b++) out[b] = a[b] + c1[b] + c2[b];
    return;
  }
#pragma omp simd
  for (size_t b = 0; b < nb; b++) out[b] = a[b] + c1[b];
  for (size_t e = 2; e < nch; e++) {
    const double *v = V + slots[e] * ld;
#pragma omp simd
    for (size_t b = 0; b < nb; b++) out[b] += v[b];
  }
}

PC_KERNEL void pc_k_binary_leaf(const double *x, size_t nb, double t0, double t1, double miss,
                                double *out) {
#pragma omp simd
  for (size_t b = 0; b < nb; b++) out[b] = x[b] == 1.0 ? t1 : (x[b] == 0.0 ? t0 : miss);
}

PC_KERNEL void pc_k_log_shift_from(double *out, const double *in, size_t ld, size_t nout,
                                   size_t nb, const double *m) {
  for (size_t i = 0; i < nout; i++) {
    double *o = out + i * ld;
    const double *c = in + i * ld;
#pragma omp simd
    for (size_t b = 0; b < nb; b++) o[b] = log(c[b]) + m[b];
  }
}

PC_KERNEL void pc_k_div(const double *F, const double *C, size_t ld, size_t nout, size_t nb,
                        double *R, size_t ldr) {
  for (size_t i = 0; i < nout; i++) {
    const double *f = F + i * ld, *c = C + i * ld;
    double *r = R + i * ldr;
#pragma omp simd
    for (size_t b = 0; b < nb; b++) {
      double q = f[b] / c[b];
      r[b] = f[b] != 0 ? q : 0.0;
    }
  }
}

/* Sums over samples use 8 explicit lanes (see core/logspace_kernels.c): independent add
 * chains, and a fixed association order, so the result never depends on threads. */
#define PC_LANES 8

PC_KERNEL double pc_k_colsum(const double *f, size_t nb) {
  double acc[PC_LANES] = {0};
  size_t nv = nb / PC_LANES * PC_LANES;
  for (size_t b = 0; b < nv; b += PC_LANES)
#pragma omp simd
    for (int l = 0; l < PC_LANES; l++) acc[l] += f[b + l];
  double s = 0;
  for (size_t b = nv; b < nb; b++) s += f[b];
  for (int l = 0; l < PC_LANES; l++) s += acc[l];
  return s;
}

PC_KERNEL void pc_k_binary_stats(const double *x, const double *f, size_t nb, double out[3]) {
  double a0[PC_LANES] = {0}, a1[PC_LANES] = {0}, am[PC_LANES] = {0};
  size_t nv = nb / PC_LANES * PC_LANES;
  for (size_t b = 0; b < nv; b += PC_LANES)
#pragma omp simd
    for (int l = 0; l < PC_LANES; l++) {
      double xv = x[b + l], fv = f[b + l];
      a0[l] += xv == 0.0 ? fv : 0.0;
      a1[l] += xv == 1.0 ? fv : 0.0;
      am[l] += xv != xv ? fv : 0.0;
    }
  double s0 = 0, s1 = 0, sm = 0;
  for (size_t b = nv; b < nb; b++) {
    s0 += x[b] == 0.0 ? f[b] : 0.0;
    s1 += x[b] == 1.0 ? f[b] : 0.0;
    sm += x[b] != x[b] ? f[b] : 0.0;
  }
  for (int l = 0; l < PC_LANES; l++) s0 += a0[l], s1 += a1[l], sm += am[l];
  out[0] = s0, out[1] = s1, out[2] = sm;
}

PC_KERNEL void pc_k_add(double *dst, const double *src, size_t nb, unsigned char *touched) {
  if (*touched) {
#pragma omp simd
    for (size_t b = 0; b < nb; b++) dst[b] += src[b];
  } else {
    for (size_t b = 0; b < nb; b++) dst[b] = src[b];
    *touched = 1;
  }
}
