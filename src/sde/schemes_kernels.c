/* sde/schemes_kernels.c: the fixed-step Euler-Maruyama loops, the hot path of ensembles.
 *
 * The normals are drawn in bulk from the path's source (sde_normals_fill: Philox or, with
 * options.rng = FAST, xoshiro; either fill gives exactly the values single draws would),
 * never more than the span needs, so the stream is consumed exactly as by
 * sde_draw_step and paths do not depend on these fast paths.  The step itself skips the
 * scheme dispatch and the increment buffer of the general framework; scalar models skip the
 * loops over d and m, built-in scalar models the callbacks (their formulas inlined with the
 * same arithmetic), and ensembles of them advance sixteen paths at a time (AVX2: four
 * vectors of four) or four (scalar), so that the dependency chains through x overlap.  The
 * built-in Lotka-Volterra model (d = m = 2) has its own group kernel, four paths a vector. */
#include "sde_impl.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The built-in scalar models' drift F and diffusion G (p: theta), written exactly as in
 * models.c so every value is the one the callbacks would give; tests/sde/test_ensemble.c
 * compares paths bitwise with the same models driven through callbacks. */
#define GBM_F(xv) (p[0] * (xv))
#define GBM_G(xv) (p[1] * (xv))
#define DW_F(xv) ((xv) - (xv) * (xv) * (xv))
#define DW_G(xv) (p[0])
#define OU_F(xv) (p[0] * (p[1] - (xv)))
#define OU_G(xv) (p[2])

/* One step of size H (sqrt SH) from state xq with normal zi: x + (f H + g dW), as the
 * general loop groups it. */
#define EM_STEP(xq, wq, zi, F, G, H, SH)                                                      \
  do {                                                                                        \
    const double dw_ = (zi) * (SH), xc_ = xq, f_ = F(xc_), g_ = G(xc_);                       \
    xq = xc_ + (f_ * (H) + g_ * dw_);                                                         \
    wq += dw_;                                                                                \
  } while (0)

/* em_steps_1d for a built-in model: without a call per step the state stays in a register
 * and the step costs a few instructions beside its normal. */
#define EM_ONE(F, G, i0, i1, H, SH)                                                           \
  for (size_t i = (i0); i < (i1); i++) EM_STEP(xv, wa, z[i], F, G, H, SH);
static void em_steps_builtin(sde_builtin_kind kind, const double *p, const double *z, size_t nb,
                             size_t nlast, double dt, double sdt, double hlast, double *x,
                             double *wacc) {
  double xv = x[0], wa = wacc[0];
  const size_t nmain = nlast < nb ? nlast : nb; /* steps of dt */
  const double sh = sqrt(hlast);
  switch (kind) {
  case SDE_BUILTIN_GBM:
    EM_ONE(GBM_F, GBM_G, 0, nmain, dt, sdt)
    EM_ONE(GBM_F, GBM_G, nmain, nb, hlast, sh)
    break;
  case SDE_BUILTIN_DOUBLE_WELL:
    EM_ONE(DW_F, DW_G, 0, nmain, dt, sdt)
    EM_ONE(DW_F, DW_G, nmain, nb, hlast, sh)
    break;
  default:
    EM_ONE(OU_F, OU_G, 0, nmain, dt, sdt)
    EM_ONE(OU_F, OU_G, nmain, nb, hlast, sh)
    break;
  }
  x[0] = xv, wacc[0] = wa;
}

static int em_stats(latens_sde_stats *st, size_t ns, double dt, double hlast) {
  st->steps += ns;
  if (ns > 1) st->min_step = fmin(st->min_step, dt), st->max_step = fmax(st->max_step, dt);
  st->min_step = fmin(st->min_step, hlast), st->max_step = fmax(st->max_step, hlast);
  return LATENS_OK;
}

/* Four paths of a built-in scalar model at once.  A single path's step is a chain of six
 * dependent floating-point operations through x (double-well: x x, x x x, x - x^3, f h,
 * + g dW, x +), so one path at a time runs at the chain's latency; independent chains
 * interleaved run at the throughput.  Each path's arithmetic is that of em_steps_builtin,
 * value for value.  EM_GROUP: steps i0..i1 of size H (sqrt SH). */
#define EM_GROUP(F, G, i0, i1, H, SH)                                                         \
  for (size_t i = (i0); i < (i1); i++) {                                                      \
    EM_STEP(x0, w0, z0[i], F, G, H, SH);                                                      \
    EM_STEP(x1, w1, z1[i], F, G, H, SH);                                                      \
    EM_STEP(x2, w2, z2[i], F, G, H, SH);                                                      \
    EM_STEP(x3, w3, z3[i], F, G, H, SH);                                                      \
  }

static void em_group4(sde_builtin_kind kind, const double *p, double *zbuf, double dt, size_t ns,
                      double hlast, double *const *x, const sde_normals *r,
                      double *const *wacc) {
  const double sdt = sqrt(dt);
  const size_t per = SDE_ZBUF / SDE_GROUP;
  double *z0 = zbuf, *z1 = z0 + per, *z2 = z1 + per, *z3 = z2 + per;
  double x0 = x[0][0], x1 = x[1][0], x2 = x[2][0], x3 = x[3][0];
  double w0 = wacc[0][0], w1 = wacc[1][0], w2 = wacc[2][0], w3 = wacc[3][0];
  for (size_t i0 = 0; i0 < ns; i0 += per) {
    const size_t nb = ns - i0 < per ? ns - i0 : per;
    const size_t nlast = i0 + nb == ns ? nb - 1 : SIZE_MAX, nmain = nlast < nb ? nlast : nb;
    for (int q = 0; q < SDE_GROUP; q++) sde_normals_fill(&r[q], z0 + q * per, nb);
    switch (kind) {
    case SDE_BUILTIN_GBM: EM_GROUP(GBM_F, GBM_G, 0, nmain, dt, sdt) break;
    case SDE_BUILTIN_DOUBLE_WELL: EM_GROUP(DW_F, DW_G, 0, nmain, dt, sdt) break;
    default: EM_GROUP(OU_F, OU_G, 0, nmain, dt, sdt) break;
    }
    if (nlast < nb) { /* the span's short last step */
      const double sh = sqrt(hlast);
      switch (kind) {
      case SDE_BUILTIN_GBM: EM_GROUP(GBM_F, GBM_G, nlast, nb, hlast, sh) break;
      case SDE_BUILTIN_DOUBLE_WELL: EM_GROUP(DW_F, DW_G, nlast, nb, hlast, sh) break;
      default: EM_GROUP(OU_F, OU_G, nlast, nb, hlast, sh) break;
      }
    }
  }
  x[0][0] = x0, x[1][0] = x1, x[2][0] = x2, x[3][0] = x3;
  wacc[0][0] = w0, wacc[1][0] = w1, wacc[2][0] = w2, wacc[3][0] = w3;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_EM_AVX2 1

/* SDE_WIDE paths in four AVX2 vectors (lane l of vector v: path 4 v + l): four vector
 * chains of the six-operation step hide its latency, and one instruction does the work of
 * four scalar ones.  Lane by lane the operations are those of EM_STEP (vector multiplies and
 * adds round as scalar ones; no fma target, so nothing is contracted).  Each path's normals
 * are a row of zq; four steps of four paths are loaded as a 4x4 block and transposed. */
#define VGBM_F(xv) _mm256_mul_pd(P0, xv)
#define VGBM_G(xv) _mm256_mul_pd(P1, xv)
#define VDW_F(xv) _mm256_sub_pd(xv, _mm256_mul_pd(_mm256_mul_pd(xv, xv), xv))
#define VDW_G(xv) P0
#define VOU_F(xv) _mm256_mul_pd(P0, _mm256_sub_pd(P1, xv))
#define VOU_G(xv) P2
#define VEM_STEP(xv, wv, zv, F, G)                                                            \
  do {                                                                                        \
    const __m256d dw_ = _mm256_mul_pd(zv, SHv), f_ = F(xv), g_ = G(xv);                       \
    xv = _mm256_add_pd(xv, _mm256_add_pd(_mm256_mul_pd(f_, Hv), _mm256_mul_pd(g_, dw_)));     \
    wv = _mm256_add_pd(wv, dw_);                                                              \
  } while (0)
/* Rows zq[4 v + l][i .. i + 3] to columns c0..c3 (c_s: the four paths' normals of step i+s). */
#define VLOAD_T(v, c0, c1, c2, c3)                                                            \
  do {                                                                                        \
    const __m256d r0_ = _mm256_loadu_pd(zq[4 * (v)] + i);                                     \
    const __m256d r1_ = _mm256_loadu_pd(zq[4 * (v) + 1] + i);                                 \
    const __m256d r2_ = _mm256_loadu_pd(zq[4 * (v) + 2] + i);                                 \
    const __m256d r3_ = _mm256_loadu_pd(zq[4 * (v) + 3] + i);                                 \
    const __m256d t0_ = _mm256_unpacklo_pd(r0_, r1_), t1_ = _mm256_unpackhi_pd(r0_, r1_);    \
    const __m256d t2_ = _mm256_unpacklo_pd(r2_, r3_), t3_ = _mm256_unpackhi_pd(r2_, r3_);    \
    c0 = _mm256_permute2f128_pd(t0_, t2_, 0x20);                                              \
    c1 = _mm256_permute2f128_pd(t1_, t3_, 0x20);                                              \
    c2 = _mm256_permute2f128_pd(t0_, t2_, 0x31);                                              \
    c3 = _mm256_permute2f128_pd(t1_, t3_, 0x31);                                              \
  } while (0)
#define VCOL(v)                                                                               \
  _mm256_set_pd(zq[4 * (v) + 3][i], zq[4 * (v) + 2][i], zq[4 * (v) + 1][i], zq[4 * (v)][i])

/* Steps a..b of size H (sqrt SH) of the SDE_WIDE paths whose states are X[0..3], W[0..3]. */
#define DEFINE_EM_WIDE(NAME, F, G)                                                            \
  __attribute__((target("avx2"))) static void NAME(const double *p, const double *const *zq,  \
                                                   size_t a, size_t b, double H, double SH,   \
                                                   __m256d *X, __m256d *W) {                  \
    const __m256d P0 = _mm256_set1_pd(p[0]), P1 = _mm256_set1_pd(p[1]);                       \
    const __m256d P2 = _mm256_set1_pd(p[2]), Hv = _mm256_set1_pd(H), SHv = _mm256_set1_pd(SH); \
    (void)P1, (void)P2;                                                                       \
    __m256d x0 = X[0], x1 = X[1], x2 = X[2], x3 = X[3], w0 = W[0], w1 = W[1], w2 = W[2],      \
            w3 = W[3];                                                                        \
    size_t i = a;                                                                             \
    for (; i + 4 <= b; i += 4) {                                                              \
      __m256d c[4][4];                                                                        \
      VLOAD_T(0, c[0][0], c[0][1], c[0][2], c[0][3]);                                         \
      VLOAD_T(1, c[1][0], c[1][1], c[1][2], c[1][3]);                                         \
      VLOAD_T(2, c[2][0], c[2][1], c[2][2], c[2][3]);                                         \
      VLOAD_T(3, c[3][0], c[3][1], c[3][2], c[3][3]);                                         \
      for (int s_ = 0; s_ < 4; s_++) {                                                        \
        VEM_STEP(x0, w0, c[0][s_], F, G);                                                     \
        VEM_STEP(x1, w1, c[1][s_], F, G);                                                     \
        VEM_STEP(x2, w2, c[2][s_], F, G);                                                     \
        VEM_STEP(x3, w3, c[3][s_], F, G);                                                     \
      }                                                                                       \
    }                                                                                         \
    for (; i < b; i++) {                                                                      \
      VEM_STEP(x0, w0, VCOL(0), F, G);                                                        \
      VEM_STEP(x1, w1, VCOL(1), F, G);                                                        \
      VEM_STEP(x2, w2, VCOL(2), F, G);                                                        \
      VEM_STEP(x3, w3, VCOL(3), F, G);                                                        \
    }                                                                                         \
    X[0] = x0, X[1] = x1, X[2] = x2, X[3] = x3, W[0] = w0, W[1] = w1, W[2] = w2, W[3] = w3;   \
  }
DEFINE_EM_WIDE(em_wide_gbm, VGBM_F, VGBM_G)
DEFINE_EM_WIDE(em_wide_dw, VDW_F, VDW_G)
DEFINE_EM_WIDE(em_wide_ou, VOU_F, VOU_G)

/* The same steps when the paths draw from lanes (options.rng = FAST), NV = 4 or 8 vectors
 * (sixteen or thirty-two paths): the lockstep fill already puts step i's normals in path
 * order, z[16 i + q] for each sixteen (the second at z2), so a vector is one load and
 * nothing is transposed.  A step is a chain of six dependent operations per vector; eight
 * chains keep the pipes busy where four wait on latency.  KEEPW 0 drops the running W (no
 * one asked for it), which frees the registers eight chains need. */
#define DEFINE_EM_LANES(NAME, F, G, NV, KEEPW)                                                \
  __attribute__((target("avx2"))) static void NAME(const double *p, const double *z,         \
                                                   const double *z2, size_t a, size_t b,      \
                                                   double H, double SH, __m256d *X,           \
                                                   __m256d *W) {                              \
    const __m256d P0 = _mm256_set1_pd(p[0]), P1 = _mm256_set1_pd(p[1]);                       \
    const __m256d P2 = _mm256_set1_pd(p[2]), Hv = _mm256_set1_pd(H), SHv = _mm256_set1_pd(SH); \
    (void)P1, (void)P2, (void)z2;                                                             \
    __m256d x[NV], w[NV];                                                                     \
    _Pragma("GCC unroll 8") for (int v = 0; v < NV; v++) {                                    \
      x[v] = X[v];                                                                            \
      w[v] = KEEPW ? W[v] : _mm256_setzero_pd(); /* else dead: the sums are dropped */        \
    }                                                                                         \
    for (size_t i = a; i < b; i++) {                                                          \
      _Pragma("GCC unroll 8") for (int v = 0; v < NV; v++) {                                  \
        const double *zi = (v < 4 ? z : z2) + SDE_WIDE * i + 4 * (v % 4);                     \
        VEM_STEP(x[v], w[v], _mm256_loadu_pd(zi), F, G);                                      \
      }                                                                                       \
    }                                                                                         \
    _Pragma("GCC unroll 8") for (int v = 0; v < NV; v++) {                                    \
      X[v] = x[v];                                                                            \
      if (KEEPW) W[v] = w[v];                                                                 \
    }                                                                                         \
  }
#define DEFINE_EM_LANES_ALL(SUFFIX, F, G)                                                     \
  DEFINE_EM_LANES(em_lanes4_##SUFFIX, F, G, 4, 1)                                             \
  DEFINE_EM_LANES(em_lanes8_##SUFFIX, F, G, 8, 1)                                             \
  DEFINE_EM_LANES(em_lanes4x_##SUFFIX, F, G, 4, 0)                                            \
  DEFINE_EM_LANES(em_lanes8x_##SUFFIX, F, G, 8, 0)
DEFINE_EM_LANES_ALL(gbm, VGBM_F, VGBM_G)
DEFINE_EM_LANES_ALL(dw, VDW_F, VDW_G)
DEFINE_EM_LANES_ALL(ou, VOU_F, VOU_G)

typedef void (*em_lanes_fn)(const double *, const double *, const double *, size_t, size_t,
                            double, double, __m256d *, __m256d *);

/* np = 16 or 32 paths on lanes: per chunk, the lockstep fill of each sixteen, then the
 * steps. */
__attribute__((target("avx2"))) static void em_lanes(sde_builtin_kind kind, const double *p,
                                                     double *zbuf, double dt, size_t ns,
                                                     double hlast, size_t np,
                                                     double *const *x, const sde_normals *r,
                                                     double *const *wacc, int keep_w) {
  static const em_lanes_fn fns[3][4] = {
      {em_lanes4_gbm, em_lanes8_gbm, em_lanes4x_gbm, em_lanes8x_gbm},
      {em_lanes4_dw, em_lanes8_dw, em_lanes4x_dw, em_lanes8x_dw},
      {em_lanes4_ou, em_lanes8_ou, em_lanes4x_ou, em_lanes8x_ou}};
  const int nv = (int)np / 4;
  const int ik = kind == SDE_BUILTIN_GBM ? 0 : kind == SDE_BUILTIN_DOUBLE_WELL ? 1 : 2;
  const em_lanes_fn run = fns[ik][(nv == 8) + 2 * !keep_w];
  const size_t per = SDE_ZBUF / np; /* steps per chunk */
  double *z2 = zbuf + SDE_WIDE * per;
  latens_rng_lane *L[2 * SDE_WIDE];
  __m256d X[8], W[8];
  for (int v = 0; v < nv; v++) {
    X[v] = _mm256_set_pd(x[4 * v + 3][0], x[4 * v + 2][0], x[4 * v + 1][0], x[4 * v][0]);
    W[v] = _mm256_set_pd(wacc[4 * v + 3][0], wacc[4 * v + 2][0], wacc[4 * v + 1][0],
                         wacc[4 * v][0]);
  }
  for (size_t q = 0; q < np; q++) L[q] = r[q].lane;
  for (size_t i0 = 0; i0 < ns; i0 += per) {
    const size_t nb = ns - i0 < per ? ns - i0 : per;
    const size_t nlast = i0 + nb == ns ? nb - 1 : SIZE_MAX, nmain = nlast < nb ? nlast : nb;
    latens_rng_lane_fill16(L, SDE_WIDE, zbuf, nb);
    if (np > SDE_WIDE) latens_rng_lane_fill16(L + SDE_WIDE, SDE_WIDE, z2, nb);
    run(p, zbuf, z2, 0, nmain, dt, sqrt(dt), X, W);
    if (nlast < nb) run(p, zbuf, z2, nlast, nb, hlast, sqrt(hlast), X, W); /* the short last */
  }
  for (int v = 0; v < nv; v++) {
    double xs[4], ws[4];
    _mm256_storeu_pd(xs, X[v]), _mm256_storeu_pd(ws, W[v]);
    for (int l = 0; l < 4; l++) x[4 * v + l][0] = xs[l], wacc[4 * v + l][0] = ws[l];
  }
}

__attribute__((target("avx2"))) static void em_wide(sde_builtin_kind kind, const double *p,
                                                    double *zbuf, double dt, size_t ns,
                                                    double hlast, double *const *x,
                                                    const sde_normals *r, double *const *wacc) {
  void (*run)(const double *, const double *const *, size_t, size_t, double, double, __m256d *,
              __m256d *) = kind == SDE_BUILTIN_GBM           ? em_wide_gbm
                           : kind == SDE_BUILTIN_DOUBLE_WELL ? em_wide_dw
                                                             : em_wide_ou;
  const size_t per = SDE_ZBUF / SDE_WIDE;
  const double *zq[SDE_WIDE];
  __m256d X[4], W[4];
  for (int v = 0; v < 4; v++) {
    X[v] = _mm256_set_pd(x[4 * v + 3][0], x[4 * v + 2][0], x[4 * v + 1][0], x[4 * v][0]);
    W[v] = _mm256_set_pd(wacc[4 * v + 3][0], wacc[4 * v + 2][0], wacc[4 * v + 1][0],
                         wacc[4 * v][0]);
  }
  for (int q = 0; q < SDE_WIDE; q++) zq[q] = zbuf + (size_t)q * per;
  for (size_t i0 = 0; i0 < ns; i0 += per) {
    const size_t nb = ns - i0 < per ? ns - i0 : per;
    const size_t nlast = i0 + nb == ns ? nb - 1 : SIZE_MAX, nmain = nlast < nb ? nlast : nb;
    for (int q = 0; q < SDE_WIDE; q++)
      sde_normals_fill(&r[q], zbuf + (size_t)q * per, nb);
    run(p, zq, 0, nmain, dt, sqrt(dt), X, W);
    if (nlast < nb) run(p, zq, nlast, nb, hlast, sqrt(hlast), X, W); /* the short last step */
  }
  for (int v = 0; v < 4; v++) {
    double xs[4], ws[4];
    _mm256_storeu_pd(xs, X[v]), _mm256_storeu_pd(ws, W[v]);
    for (int l = 0; l < 4; l++) x[4 * v + l][0] = xs[l], wacc[4 * v + l][0] = ws[l];
  }
}
#endif

/* ------------------------------------------------- Lotka-Volterra, four paths per vector
 *
 * The built-in LV model (d = m = 2, diagonal noise; lv_f, lv_g in models.c) lane by lane:
 * each step is sde_em_steps' general loop for d = 2, diagonal noise, x_i + (f_i h + g_i dW_i)
 * with f and g written as lv_f and lv_g compute them, so a path is bitwise the general one's
 * (tests/sde/test_ensemble.c).  A path's normals come in its row as dW1, dW2 per step, the
 * order of the general bulk fill; two steps of four paths are one 4x4 block, transposed.
 * Written once with GCC vector types, compiled for AVX2 where the CPU has it and for the
 * baseline target otherwise; no fma is enabled, so nothing is contracted. */
typedef double lv_v4 __attribute__((vector_size(32)));
#if defined(__clang__) || __GNUC__ >= 12
#define LV_SHUF(a, b, i, j, k, l) __builtin_shufflevector(a, b, i, j, k, l)
#else
typedef long long lv_i4 __attribute__((vector_size(32)));
#define LV_SHUF(a, b, i, j, k, l) __builtin_shuffle(a, b, (lv_i4){i, j, k, l})
#endif
#define LV_BC(a) ((lv_v4){(a), (a), (a), (a)})
#define LV_STEP(v, za, zb)                                                                    \
  do {                                                                                        \
    const lv_v4 dwa_ = (za) * SH, dwb_ = (zb) * SH, x0_ = xa[v], x1_ = xb[v];                \
    const lv_v4 f0_ = P0 * x0_ - P1 * x0_ * x1_, f1_ = P2 * x0_ * x1_ - P3 * x1_;             \
    const lv_v4 g0_ = P4 * x0_, g1_ = P5 * x1_;                                               \
    xa[v] = x0_ + (f0_ * H + g0_ * dwa_), xb[v] = x1_ + (f1_ * H + g1_ * dwb_);               \
    wa[v] += dwa_, wb[v] += dwb_;                                                             \
  } while (0)

/* Steps a..b of size h (sqrt sh) of 4 nv paths (vector v: states xa[v], xb[v], running W
 * wa[v], wb[v]); zq[l]: path l's normals.  nv = 4 keeps four chains of the step's six
 * dependent operations in flight. */
static inline __attribute__((always_inline)) void lv_run(int nv, const double *p,
                                                         const double *const *zq, size_t a,
                                                         size_t b, double h, double sh,
                                                         lv_v4 *xa, lv_v4 *xb, lv_v4 *wa,
                                                         lv_v4 *wb) {
  const lv_v4 P0 = LV_BC(p[0]), P1 = LV_BC(p[1]), P2 = LV_BC(p[2]), P3 = LV_BC(p[3]);
  const lv_v4 P4 = LV_BC(p[4]), P5 = LV_BC(p[5]), H = LV_BC(h), SH = LV_BC(sh);
  size_t i = a;
  for (; i + 2 <= b; i += 2) {
    lv_v4 c[4][4];
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
      lv_v4 r0, r1, r2, r3; /* rows: dW1, dW2 of step i, then of step i + 1 */
      memcpy(&r0, zq[4 * v] + 2 * i, sizeof r0), memcpy(&r1, zq[4 * v + 1] + 2 * i, sizeof r1);
      memcpy(&r2, zq[4 * v + 2] + 2 * i, sizeof r2), memcpy(&r3, zq[4 * v + 3] + 2 * i, sizeof r3);
      const lv_v4 t0 = LV_SHUF(r0, r1, 0, 4, 2, 6);
      const lv_v4 t1 = LV_SHUF(r0, r1, 1, 5, 3, 7);
      const lv_v4 t2 = LV_SHUF(r2, r3, 0, 4, 2, 6);
      const lv_v4 t3 = LV_SHUF(r2, r3, 1, 5, 3, 7);
      c[v][0] = LV_SHUF(t0, t2, 0, 1, 4, 5);
      c[v][1] = LV_SHUF(t1, t3, 0, 1, 4, 5);
      c[v][2] = LV_SHUF(t0, t2, 2, 3, 6, 7);
      c[v][3] = LV_SHUF(t1, t3, 2, 3, 6, 7);
    }
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) LV_STEP(v, c[v][0], c[v][1]);
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) LV_STEP(v, c[v][2], c[v][3]);
  }
  for (; i < b; i++) {
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
      const double *const *zv = zq + 4 * v;
      const lv_v4 za = {zv[0][2 * i], zv[1][2 * i], zv[2][2 * i], zv[3][2 * i]};
      const lv_v4 zb = {zv[0][2 * i + 1], zv[1][2 * i + 1], zv[2][2 * i + 1], zv[3][2 * i + 1]};
      LV_STEP(v, za, zb);
    }
  }
}

/* lv_run for sixteen paths on lanes (options.rng = FAST): the lockstep fill puts step i's
 * dW1 of the sixteen paths at z[32 i ..], its dW2 at z[32 i + 16 ..], in path order. */
static inline __attribute__((always_inline)) void lv_run_lanes(const double *p, const double *z,
                                                               size_t a, size_t b, double h,
                                                               double sh, lv_v4 *xa, lv_v4 *xb,
                                                               lv_v4 *wa, lv_v4 *wb) {
  const lv_v4 P0 = LV_BC(p[0]), P1 = LV_BC(p[1]), P2 = LV_BC(p[2]), P3 = LV_BC(p[3]);
  const lv_v4 P4 = LV_BC(p[4]), P5 = LV_BC(p[5]), H = LV_BC(h), SH = LV_BC(sh);
  for (size_t i = a; i < b; i++) {
    const double *zi = z + 2 * SDE_WIDE * i;
#pragma GCC unroll 4
    for (int v = 0; v < 4; v++) {
      lv_v4 za, zb;
      memcpy(&za, zi + 4 * v, sizeof za), memcpy(&zb, zi + SDE_WIDE + 4 * v, sizeof zb);
      LV_STEP(v, za, zb);
    }
  }
}

/* ns steps (the last of hlast) of the 4 nv paths x[0..4 nv), as em_wide's chunks. */
static inline __attribute__((always_inline)) void lv_group(int nv, const double *p,
                                                           double *zbuf, double dt, size_t ns,
                                                           double hlast, double *const *x,
                                                           const sde_normals *r,
                                                           double *const *wacc) {
  const size_t np = 4 * (size_t)nv, per = SDE_ZBUF / (2 * np); /* steps per bulk draw */
  const double *zq[SDE_WIDE];
  lv_v4 xa[4], xb[4], wa[4], wb[4]; /* constant indices only (unrolled), so registers */
#pragma GCC unroll 4
  for (int v = 0; v < nv; v++) {
    double *const *xv = x + 4 * v, *const *wv = wacc + 4 * v;
    xa[v] = (lv_v4){xv[0][0], xv[1][0], xv[2][0], xv[3][0]};
    xb[v] = (lv_v4){xv[0][1], xv[1][1], xv[2][1], xv[3][1]};
    wa[v] = (lv_v4){wv[0][0], wv[1][0], wv[2][0], wv[3][0]};
    wb[v] = (lv_v4){wv[0][1], wv[1][1], wv[2][1], wv[3][1]};
  }
  for (size_t q = 0; q < np; q++) zq[q] = zbuf + q * 2 * per;
  const double sdt = sqrt(dt);
  for (size_t i0 = 0; i0 < ns; i0 += per) {
    const size_t nb = ns - i0 < per ? ns - i0 : per;
    const size_t nlast = i0 + nb == ns ? nb - 1 : SIZE_MAX, nmain = nlast < nb ? nlast : nb;
    if (nv == 4 && r[0].lane) { /* sixteen lanes (every path has one, or none) */
      latens_rng_lane *L[SDE_WIDE];
      for (int q = 0; q < SDE_WIDE; q++) L[q] = r[q].lane;
      latens_rng_lane_fill16(L, SDE_WIDE, zbuf, 2 * nb);
      lv_run_lanes(p, zbuf, 0, nmain, dt, sdt, xa, xb, wa, wb);
      if (nlast < nb) lv_run_lanes(p, zbuf, nlast, nb, hlast, sqrt(hlast), xa, xb, wa, wb);
      continue;
    }
    for (size_t q = 0; q < np; q++) sde_normals_fill(&r[q], zbuf + q * 2 * per, 2 * nb);
    lv_run(nv, p, zq, 0, nmain, dt, sdt, xa, xb, wa, wb);
    if (nlast < nb) lv_run(nv, p, zq, nlast, nb, hlast, sqrt(hlast), xa, xb, wa, wb);
  }
#pragma GCC unroll 4
  for (int v = 0; v < nv; v++) {
    double s[4][4];
    memcpy(s[0], &xa[v], sizeof s[0]), memcpy(s[1], &xb[v], sizeof s[1]);
    memcpy(s[2], &wa[v], sizeof s[2]), memcpy(s[3], &wb[v], sizeof s[3]);
    for (int l = 0; l < 4; l++) {
      double *xq = x[4 * v + l], *wq = wacc[4 * v + l];
      xq[0] = s[0][l], xq[1] = s[1][l], wq[0] = s[2][l], wq[1] = s[3][l];
    }
  }
}

/* 16 paths (nv = 4) or 4 (nv = 1), for the baseline target and for AVX2. */
static void lv_group_base(int nv, const double *p, double *zbuf, double dt, size_t ns,
                          double hlast, double *const *x, const sde_normals *r,
                          double *const *wacc) {
  if (nv == 4) lv_group(4, p, zbuf, dt, ns, hlast, x, r, wacc);
  else lv_group(1, p, zbuf, dt, ns, hlast, x, r, wacc);
}
#ifdef HAVE_EM_AVX2
__attribute__((target("avx2"))) static void lv_group_avx2(int nv, const double *p, double *zbuf,
                                                          double dt, size_t ns, double hlast,
                                                          double *const *x,
                                                          const sde_normals *r,
                                                          double *const *wacc) {
  if (nv == 4) lv_group(4, p, zbuf, dt, ns, hlast, x, r, wacc);
  else lv_group(1, p, zbuf, dt, ns, hlast, x, r, wacc);
}
#endif

static void lv_steps_group(const double *p, double *zbuf, double dt, size_t ns, double hlast,
                           size_t np, double *const *x, const sde_normals *r,
                           double *const *wacc) {
  int avx2 = 0;
#ifdef HAVE_EM_AVX2
  avx2 = __builtin_cpu_supports("avx2");
#endif
  for (size_t q = 0; q + SDE_GROUP <= np;) {
    const int nv = q + SDE_WIDE <= np ? 4 : 1;
#ifdef HAVE_EM_AVX2
    if (avx2) lv_group_avx2(nv, p, zbuf, dt, ns, hlast, x + q, r + q, wacc + q);
    else
#endif
      lv_group_base(nv, p, zbuf, dt, ns, hlast, x + q, r + q, wacc + q);
    q += (size_t)nv * SDE_GROUP;
  }
  (void)avx2;
}

int sde_em_steps_group(sde_ws *w, double t0, double dt, size_t ns, double hlast, size_t np,
                       double *const *x, const sde_normals *r, double *const *wacc,
                       latens_sde_stats *st) {
  (void)t0; /* the built-in models are autonomous */
  const sde_builtin_kind kind = sde_builtin_of(w->model);
  const double *p = w->model->theta;
  /* no running W wanted: scratch ones for the kernels that keep them anyway */
  const int keep_w = wacc != NULL;
  double wscr[2 * 2 * SDE_WIDE] = {0}, *wsp[2 * SDE_WIDE]; /* m <= 2 */
  if (!keep_w) {
    for (size_t q = 0; q < np; q++) wsp[q] = wscr + 2 * q;
    wacc = wsp;
  }
  size_t q = 0;
  if (kind == SDE_BUILTIN_LV) {
    lv_steps_group(p, w->zbuf, dt, ns, hlast, np, x, r, wacc);
    q = np;
  }
#ifdef HAVE_EM_AVX2
  if (q == 0 && (np == SDE_WIDE || np == 2 * SDE_WIDE) && __builtin_cpu_supports("avx2")) {
    if (r[0].lane) /* every path has a lane, or none */
      em_lanes(kind, p, w->zbuf, dt, ns, hlast, np, x, r, wacc, keep_w);
    else
      for (; q < np; q += SDE_WIDE)
        em_wide(kind, p, w->zbuf, dt, ns, hlast, x + q, r + q, wacc + q);
    q = np;
  }
#endif
  for (; q + SDE_GROUP <= np; q += SDE_GROUP)
    em_group4(kind, p, w->zbuf, dt, ns, hlast, x + q, r + q, wacc + q);
  for (q = 0; q < np; q++) em_stats(st, ns, dt, hlast);
  w->nf += np * ns, w->ng += np * ns;
  return LATENS_OK;
}

/* One state driven by one Brownian motion (the common case of big ensembles): the same
 * arithmetic as the general loop below, in the same order, without the loops over d and m and
 * the call through sde_eval_fg (the callbacks, counts and error reports are its own).  The
 * callback may write anywhere, so what the loop needs from the model is read into locals
 * once rather than reloaded after every call. */
static int em_steps_1d(sde_ws *w, double t0, double dt, size_t ns, double hlast, double *x,
                       const sde_normals *r, double *wacc) {
  const latens_sde_model *md = w->model;
  latens_sde_both_fn *both = md->both;
  latens_sde_drift_fn *drift = md->drift;
  latens_sde_diffusion_fn *diffusion = md->diffusion;
  const double *theta = md->theta;
  void *user = md->user;
  const sde_builtin_kind kind = sde_builtin_of(md);
  double *z = w->zbuf, f, g, wa = *wacc;
  const double sdt = sqrt(dt);
  size_t calls_f = 0, calls_g = 0;
  int rc = 0;
  const char *what = NULL;
  double t = t0;
  for (size_t i0 = 0; i0 < ns && !rc; i0 += SDE_ZBUF) {
    size_t nb = ns - i0 < SDE_ZBUF ? ns - i0 : SDE_ZBUF;
    sde_normals_fill(r, z, nb);
    /* the span's last step (of hlast) is the chunk's last when the chunk ends the span */
    const size_t nlast = i0 + nb == ns ? nb - 1 : SIZE_MAX;
    if (kind != SDE_BUILTIN_NONE) {
      em_steps_builtin(kind, theta, z, nb, nlast, dt, sdt, hlast, x, &wa);
      calls_f += nb, calls_g += nb;
      continue;
    }
    for (size_t i = 0; i < nb; i++) {
      const size_t step = i0 + i;
      double h = dt, dw;
      if (i != nlast) dw = z[i] * sdt;
      else h = hlast, dw = z[i] * sqrt(hlast);
      t = t0 + (double)(int64_t)step * dt; /* step < 2^52: the signed conversion is exact */
      calls_f++;
      if (both) {
        calls_g++;
        if ((rc = both(t, x, theta, user, &f, &g))) {
          what = "drift/diffusion";
          break;
        }
      } else {
        if ((rc = drift(t, x, theta, user, &f))) {
          what = "drift";
          break;
        }
        calls_g++;
        if ((rc = diffusion(t, x, theta, user, &g))) {
          what = "diffusion";
          break;
        }
      }
      x[0] += f * h + g * dw;
      wa += dw;
    }
  }
  w->nf += calls_f, w->ng += calls_g, *wacc = wa;
  return rc ? sde_callback_failed(rc, what, t) : LATENS_OK;
}

int sde_em_steps(sde_ws *w, double t0, double dt, size_t ns, double hlast, double *x,
                 const sde_normals *r, double *wacc, latens_sde_stats *st) {
  const size_t d = w->d, m = w->m;
  if (d == 1 && m == 1) {
    int s = em_steps_1d(w, t0, dt, ns, hlast, x, r, wacc);
    if (s) return s;
    return em_stats(st, ns, dt, hlast);
  }
  const int diag = w->diag, scalar = w->scalar;
  double *z = w->zbuf, *f = w->f1, *g = w->g1;
  const size_t per = SDE_ZBUF / m; /* steps per bulk draw */
  const double sdt = sqrt(dt);
  for (size_t i0 = 0; i0 < ns; i0 += per) {
    size_t nb = ns - i0 < per ? ns - i0 : per;
    sde_normals_fill(r, z, nb * m);
    for (size_t i = 0; i < nb; i++) {
      size_t step = i0 + i;
      double h = step + 1 < ns ? dt : hlast, sh = step + 1 < ns ? sdt : sqrt(hlast);
      double *dw = z + i * m;
      for (size_t q = 0; q < m; q++) dw[q] *= sh;
      int s = sde_eval_fg(w, t0 + (double)step * dt, x, f, g);
      if (s) return s;
      if (diag) {
        if (scalar)
          for (size_t k = 0; k < d; k++) x[k] += f[k] * h + g[k] * dw[0];
        else
          for (size_t k = 0; k < d; k++) x[k] += f[k] * h + g[k] * dw[k];
      } else {
        for (size_t k = 0; k < d; k++) x[k] += f[k] * h;
        for (size_t q = 0; q < m; q++)
          for (size_t k = 0; k < d; k++) x[k] += g[k + q * d] * dw[q];
      }
      for (size_t q = 0; q < m; q++) wacc[q] += dw[q];
    }
  }
  return em_stats(st, ns, dt, hlast);
}

/* ---------------------------------------------------------------- SRIW1, four paths at once
 *
 * step_sri (schemes.c) for d = m = 1 and a built-in model, four paths in the lanes of a
 * vector: the callbacks, the loops over d and the step's dispatch go, and the eight
 * divisions of a step (which the exact arithmetic keeps: x/3 is not x (1/3)) run four to an
 * instruction.  Every lane computes step_sri's expressions in their order (sde_scale_step's
 * increments, then c1..c3, the stages, E2 and u), so a path is bitwise the general one's
 * (tests/sde/test_ensemble.c).  Written once with GCC vector types: compiled for AVX2 where
 * the CPU has it and for baseline x86-64 (or any target) otherwise; no fma is enabled, so
 * nothing is contracted. */
typedef double sri_v4 __attribute__((vector_size(32)));

/* Broadcast, and the built-in drift and diffusion (EM's GBM_F ... OU_G) lane by lane; kind
 * and p come from the enclosing function.  Macros: a function returning a vector by value
 * would change the ABI between the two compilations. */
#define SRI_BC(a) ((sri_v4){(a), (a), (a), (a)})
#define SRI_F(xv)                                                                             \
  ({                                                                                          \
    const sri_v4 x_ = (xv);                                                                   \
    sri_v4 r_;                                                                                \
    if (kind == SDE_BUILTIN_GBM) r_ = SRI_BC(p[0]) * x_;                                      \
    else if (kind == SDE_BUILTIN_DOUBLE_WELL) r_ = x_ - x_ * x_ * x_;                         \
    else r_ = SRI_BC(p[0]) * (SRI_BC(p[1]) - x_);                                             \
    r_;                                                                                       \
  })
#define SRI_G(xv)                                                                             \
  (kind == SDE_BUILTIN_GBM ? SRI_BC(p[1]) * (xv)                                             \
                           : SRI_BC(kind == SDE_BUILTIN_DOUBLE_WELL ? p[0] : p[2]))

/* Steps a..b of size h of 4 nv paths (nv vectors: state xs[v], running W ws[v]); zq[l]: path
 * l's normals, two per step (dW's, then dZ's).  Two vectors interleave two chains of the
 * step's ~55-cycle dependency through x (a division among them). */
static inline __attribute__((always_inline)) void sri_run(sde_builtin_kind kind, int nv,
                                                          const double *p,
                                                          const double *const *zq, size_t a,
                                                          size_t b, double h, sri_v4 *xs,
                                                          sri_v4 *ws) {
  const double sh = sqrt(h);
  for (size_t i = a; i < b; i++) {
#pragma GCC unroll 2
    for (int v = 0; v < nv; v++) {
      const double *const *zv = zq + 4 * v;
      const sri_v4 x = xs[v];
      const sri_v4 z0 = {zv[0][2 * i], zv[1][2 * i], zv[2][2 * i], zv[3][2 * i]};
      const sri_v4 z1 = {zv[0][2 * i + 1], zv[1][2 * i + 1], zv[2][2 * i + 1], zv[3][2 * i + 1]};
      const sri_v4 dw = sh * z0, dz = 0.5 * h * (dw + sh * z1 * 0.57735026918962576451);
      const sri_v4 c1 = (dw * dw - h) / (2 * sh), c2 = dz / h;
      const sri_v4 c3 = (dw * dw * dw - 3 * h * dw) / (6 * h);
      const sri_v4 g1 = SRI_G(x), fH1 = SRI_F(x) * h;
      const sri_v4 H0 = x + 0.75 * fH1 + 1.5 * c2 * g1;
      const sri_v4 H11 = x + 0.25 * fH1 + 0.5 * sh * g1;
      const sri_v4 H12 = x + fH1 - sh * g1;
      const sri_v4 g2 = SRI_G(H11), g3 = SRI_G(H12);
      const sri_v4 H13 = x + 0.25 * fH1 + sh * (-5 * g1 + 3 * g2 + 0.5 * g3);
      const sri_v4 g4 = SRI_G(H13), fH2 = SRI_F(H0) * h;
      const sri_v4 E2 = c2 * (2 * g1 - 4 * g2 / 3 - 2 * g3 / 3) +
                        c3 * (-2 * g1 + 5 * g2 / 3 - 2 * g3 / 3 + g4);
      xs[v] = x + (fH1 + 2 * fH2) / 3 + dw * (-g1 + 4 * g2 / 3 + 2 * g3 / 3) +
              c1 * (-g1 + 4 * g2 / 3 - g3 / 3) + E2;
      ws[v] += dw;
    }
  }
}

/* ns steps (the last of hlast) of the 4 nv paths x[0..4 nv). */
static inline __attribute__((always_inline)) void sri_group(sde_builtin_kind kind, int nv,
                                                            const double *p, double *zbuf,
                                                            double dt, size_t ns, double hlast,
                                                            double *const *x,
                                                            const sde_normals *r,
                                                            double *const *wacc) {
  const size_t np = 4 * (size_t)nv, per = SDE_ZBUF / (2 * np); /* steps per bulk draw */
  const double *zq[8];
  sri_v4 xs[2], ws[2];
  for (int v = 0; v < nv; v++) {
    double *const *xv = x + 4 * v, *const *wv = wacc + 4 * v;
    xs[v] = (sri_v4){xv[0][0], xv[1][0], xv[2][0], xv[3][0]};
    ws[v] = (sri_v4){wv[0][0], wv[1][0], wv[2][0], wv[3][0]};
  }
  for (size_t q = 0; q < np; q++) zq[q] = zbuf + q * 2 * per;
  for (size_t i0 = 0; i0 < ns; i0 += per) {
    const size_t nb = ns - i0 < per ? ns - i0 : per;
    const size_t nlast = i0 + nb == ns ? nb - 1 : SIZE_MAX, nmain = nlast < nb ? nlast : nb;
    for (size_t q = 0; q < np; q++)
      sde_normals_fill(&r[q], zbuf + q * 2 * per, 2 * nb);
    switch (kind) { /* constant kinds: each case its own specialised loop */
    case SDE_BUILTIN_GBM:
      sri_run(SDE_BUILTIN_GBM, nv, p, zq, 0, nmain, dt, xs, ws);
      if (nlast < nb) sri_run(SDE_BUILTIN_GBM, nv, p, zq, nlast, nb, hlast, xs, ws);
      break;
    case SDE_BUILTIN_DOUBLE_WELL:
      sri_run(SDE_BUILTIN_DOUBLE_WELL, nv, p, zq, 0, nmain, dt, xs, ws);
      if (nlast < nb) sri_run(SDE_BUILTIN_DOUBLE_WELL, nv, p, zq, nlast, nb, hlast, xs, ws);
      break;
    default:
      sri_run(SDE_BUILTIN_OU, nv, p, zq, 0, nmain, dt, xs, ws);
      if (nlast < nb) sri_run(SDE_BUILTIN_OU, nv, p, zq, nlast, nb, hlast, xs, ws);
      break;
    }
  }
  for (size_t q = 0; q < np; q++) x[q][0] = xs[q / 4][q % 4], wacc[q][0] = ws[q / 4][q % 4];
}

/* 8 paths (nv = 2) or 4 (nv = 1), for baseline x86-64 and for AVX2. */
static void sri_group_base(sde_builtin_kind kind, int nv, const double *p, double *zbuf,
                           double dt, size_t ns, double hlast, double *const *x,
                           const sde_normals *r, double *const *wacc) {
  if (nv == 2) sri_group(kind, 2, p, zbuf, dt, ns, hlast, x, r, wacc);
  else sri_group(kind, 1, p, zbuf, dt, ns, hlast, x, r, wacc);
}
#ifdef HAVE_EM_AVX2
__attribute__((target("avx2"))) static void sri_group_avx2(sde_builtin_kind kind, int nv,
                                                           const double *p, double *zbuf,
                                                           double dt, size_t ns, double hlast,
                                                           double *const *x,
                                                           const sde_normals *r,
                                                           double *const *wacc) {
  if (nv == 2) sri_group(kind, 2, p, zbuf, dt, ns, hlast, x, r, wacc);
  else sri_group(kind, 1, p, zbuf, dt, ns, hlast, x, r, wacc);
}
#endif

int sde_sri_steps_group(sde_ws *w, double t0, double dt, size_t ns, double hlast, size_t np,
                        double *const *x, const sde_normals *r, double *const *wacc,
                        latens_sde_stats *st) {
  (void)t0; /* the built-in models are autonomous */
  const sde_builtin_kind kind = sde_builtin_of(w->model);
  const double *p = w->model->theta;
  int avx2 = 0;
#ifdef HAVE_EM_AVX2
  avx2 = __builtin_cpu_supports("avx2");
#endif
  for (size_t q = 0; q + SDE_GROUP <= np;) {
    const int nv = q + 2 * SDE_GROUP <= np ? 2 : 1;
#ifdef HAVE_EM_AVX2
    if (avx2) sri_group_avx2(kind, nv, p, w->zbuf, dt, ns, hlast, x + q, r + q, wacc + q);
    else
#endif
      sri_group_base(kind, nv, p, w->zbuf, dt, ns, hlast, x + q, r + q, wacc + q);
    q += (size_t)nv * SDE_GROUP;
  }
  (void)avx2;
  for (size_t q = 0; q < np; q++) em_stats(st, ns, dt, hlast);
  /* step_sri's calls: f and g at x, g at H11, H12, H13, f at H0 */
  w->nf += 2 * np * ns, w->ng += 4 * np * ns;
  return LATENS_OK;
}
