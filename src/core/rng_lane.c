/* core/rng_lane.c: latens_rng_lane, one xoshiro128++ generator of a fast stream with
 * single-precision Box-Muller normals (the definition is in latens/rng.h).
 *
 * Why: a ziggurat normal needs two table lookups per value, and on AVX2 machines gathers do
 * not pay, so its floor is ~1.5-2 ns a value.  The Box-Muller transform has no table and no
 * branch: eight pairs are a handful of vector multiplies and adds, and sixteen lanes stepped
 * together give sixteen paths one normal each per step, already in path order.
 *
 * The transform is written twice, once with scalar fmaf and once with AVX2 + FMA intrinsics,
 * as the same sequence of correctly rounded operations, so the two give the same bits
 * (-ffp-contract=off keeps the compiler from fusing anything else). */
#include "internal.h"

#include <math.h>
#include <string.h>
#include "rng_impl.h"
#include "rng_lane_simd.h"

#define LN2H LANE_LN2H
#define LN2L LANE_LN2L
#define PI33 LANE_PI33
#define MBIAS LANE_MBIAS

static inline uint32_t rotl32(uint32_t x, int k) { return x << k | x >> (32 - k); }
static inline float f_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}
static inline uint32_t bits_f(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static inline uint32_t lane_word(latens_rng_lane *r) {
  uint32_t a = r->s[0], b = r->s[1], c = r->s[2], d = r->s[3];
  const uint32_t out = rotl32(a + d, 7) + a, t = b << 9;
  c ^= a, d ^= b, b ^= c, a ^= d, c ^= t, d = rotl32(d, 11);
  r->s[0] = a, r->s[1] = b, r->s[2] = c, r->s[3] = d;
  return out;
}

/* The pair (z0, z1) of words (a, b), step by step as the header defines it. */
static inline __attribute__((always_inline)) void bm_pair_body(uint32_t a, uint32_t b, float *z0,
                                                               float *z1) {
  /* radius: -2 ln u with u on the odd grid j 2^-31 */
  const float u = (float)(int32_t)((a >> 1) | 1u) * 0x1p-31f;
  const int32_t i = (int32_t)(bits_f(u) - (uint32_t)MBIAS);
  const float k = (float)(i >> 23);
  const float m = f_bits((uint32_t)(i & 0x7fffff) + (uint32_t)MBIAS);
  const float f = m - 1.0f, s = f / (2.0f + f), w = s * s;
  const float R = w * fmaf(w, fmaf(w, fmaf(w, 1.0f / 9, 1.0f / 7), 1.0f / 5), 1.0f / 3);
  const float L = fmaf(s + s, R, s + s);
  const float lu = fmaf(k, LN2H, fmaf(k, LN2L, L));
  const float r = sqrtf(-2.0f * lu);
  /* angle: a quarter turn q and p in (-pi/4, pi/4), where the Taylor series of sin and cos
   * to p^9 and p^10 are below half an ulp */
  const float p = (float)(int32_t)((b << 2) | 2u) * PI33, v = p * p;
  const float S = v * fmaf(v, fmaf(v, fmaf(v, 1.0f / 362880, -1.0f / 5040), 1.0f / 120),
                           -1.0f / 6);
  const float sn = fmaf(p, S, p);
  const float cs =
      fmaf(v, fmaf(v, fmaf(v, fmaf(v, fmaf(v, -1.0f / 3628800, 1.0f / 40320), -1.0f / 720),
                           1.0f / 24),
                   -0.5f),
           1.0f);
  const int odd = (int)(b >> 30) & 1;
  const float X = f_bits(bits_f(odd ? sn : cs) ^ ((b ^ (b << 1)) & 0x80000000u));
  const float Y = f_bits(bits_f(odd ? cs : sn) ^ (b & 0x80000000u));
  *z0 = r * X, *z1 = r * Y;
}

/* Compiled twice: fmaf is one instruction where the target has FMA, and a libm call
 * (correctly rounded, so the same bits, but a call each) where it does not. */
static void bm_pair_base(uint32_t a, uint32_t b, float *z0, float *z1) {
  bm_pair_body(a, b, z0, z1);
}
#ifdef HAVE_LANE_AVX2
__attribute__((target("fma"))) static void bm_pair_fma(uint32_t a, uint32_t b, float *z0,
                                                       float *z1) {
  bm_pair_body(a, b, z0, z1);
}
#endif
static inline void bm_pair(uint32_t a, uint32_t b, float *z0, float *z1) {
#ifdef HAVE_LANE_AVX2
  if (__builtin_cpu_supports("fma")) {
    bm_pair_fma(a, b, z0, z1);
    return;
  }
#endif
  bm_pair_base(a, b, z0, z1);
}

/* base: the transform without FMA instructions whatever the CPU (the test hook's kernel 2,
 * so that the path of CPUs without FMA is checked everywhere) */
static inline float lane_draw_with(latens_rng_lane *r, int base) {
  if (r->pending) {
    r->pending = 0;
    return r->spare;
  }
  const uint32_t a = lane_word(r), b = lane_word(r);
  float z0;
  if (base) bm_pair_base(a, b, &z0, &r->spare);
  else bm_pair(a, b, &z0, &r->spare);
  r->pending = 1;
  return z0;
}
static inline float lane_draw(latens_rng_lane *r) { return lane_draw_with(r, 0); }

int latens_rng_fast_lane(const latens_rng_fast *r, unsigned l, latens_rng_lane *lane) {
  if (!r || !lane)
    LATENS_ERRORF(LATENS_EINVAL, "latens_rng_fast_lane: %s is NULL", r ? "lane" : "r");
  if (l > 15) LATENS_ERRORF(LATENS_EINVAL, "latens_rng_fast_lane: lane %u is not 0..15", l);
  for (int k = 0; k < 4; k++) lane->s[k] = r->s[l / 8][k][l % 8];
  lane->spare = 0.0f, lane->pending = 0;
  return LATENS_OK;
}

double latens_rng_lane_normal(latens_rng_lane *r) { return (double)lane_draw(r); }

static int have_avx2_fma(void) {
#ifdef HAVE_LANE_AVX2
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

static int check_fill(const char *fn, const void *r, const double *x, size_t n, double mu,
                      double sigma) {
  if (!r || (!x && n)) LATENS_ERRORF(LATENS_EINVAL, "%s: %s is NULL", fn, r ? "x" : "r");
  if (!isfinite(mu) || !isfinite(sigma))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: mu %g, sigma %g (both must be finite)", fn, mu, sigma);
  if (!(sigma >= 0.0)) LATENS_ERRORF(LATENS_EDOM, "%s: sigma %g is negative", fn, sigma);
  return LATENS_OK;
}

#ifdef HAVE_LANE_AVX2
/* Whole blocks of eight pairs of one lane: the words one after another (one generator is a
 * dependency chain), the transforms eight at a time.  Nothing pending on entry or exit;
 * returns the values written. */
__attribute__((target("avx2,fma"))) static size_t lane_pairs_avx2(latens_rng_lane *r, double *x,
                                                                  size_t n, double mu,
                                                                  double sigma) {
  size_t i = 0;
  for (; n - i >= 16; i += 16) {
    uint32_t a[8], b[8];
    float z0[8], z1[8];
    for (int k = 0; k < 8; k++) a[k] = lane_word(r), b[k] = lane_word(r);
    __m256 v0, v1;
    lane_bm8(_mm256_loadu_si256((const __m256i *)(const void *)a),
             _mm256_loadu_si256((const __m256i *)(const void *)b), &v0, &v1);
    _mm256_storeu_ps(z0, v0), _mm256_storeu_ps(z1, v1);
    for (int k = 0; k < 8; k++)
      x[i + 2 * k] = mu + sigma * (double)z0[k], x[i + 2 * k + 1] = mu + sigma * (double)z1[k];
  }
  return i;
}
#endif

int latens_rng_lane_fill_normal(latens_rng_lane *r, double *x, size_t n, double mu,
                                double sigma) {
  int s = check_fill("latens_rng_lane_fill_normal", r, x, n, mu, sigma);
  if (s) return s;
  size_t i = 0;
  if (n && r->pending) x[i++] = mu + sigma * (double)lane_draw(r);
#ifdef HAVE_LANE_AVX2
  if (have_avx2_fma()) i += lane_pairs_avx2(r, x + i, n - i, mu, sigma);
#endif
  for (; i < n; i++) x[i] = mu + sigma * (double)lane_draw(r);
  return LATENS_OK;
}

/* ---------------------------------------------------------------- sixteen lanes */

#ifdef HAVE_LANE_AVX2
/* 2 np normals of sixteen lanes with nothing pending: pair i to z[32 i ..]. */
__attribute__((target("avx2,fma"))) static void pairs_avx2(latens_rng_lane *const *L, double *z,
                                                           size_t np) {
  lane16 g;
  lane16_load(&g, L);
  for (size_t i = 0; i < np; i++, z += 32) {
    __m256 z0[2], z1[2];
    lane16_pair(&g, z0, z1);
    lane_put8(z, z0[0]), lane_put8(z + 8, z0[1]);
    lane_put8(z + 16, z1[0]), lane_put8(z + 24, z1[1]);
  }
  lane16_store(&g, L);
}
#endif

/* kernel: 0 lane by lane, 1 the AVX2 + FMA lockstep, 2 lane by lane without FMA. */
static void fill16(latens_rng_lane *const *L, double *z, size_t n, int kernel) {
  size_t i = 0;
  const uint32_t pend = L[0]->pending;
  int same = 1;
  for (int l = 1; l < 16; l++) same &= L[l]->pending == pend;
  if (!same || kernel != 1) {
    for (int l = 0; l < 16; l++)
      for (size_t j = 0; j < n; j++)
        z[16 * j + (size_t)l] = (double)lane_draw_with(L[l], kernel == 2);
    return;
  }
  if (pend && n) { /* the pending halves first */
    for (int l = 0; l < 16; l++) z[l] = (double)lane_draw(L[l]);
    i = 1;
  }
#ifdef HAVE_LANE_AVX2
  const size_t np = (n - i) / 2;
  pairs_avx2(L, z + 16 * i, np);
  i += 2 * np;
#endif
  for (; i < n; i++) /* an odd last one leaves a value pending */
    for (int l = 0; l < 16; l++) z[16 * i + (size_t)l] = (double)lane_draw(L[l]);
}

static int fill16_checked(const char *fn, latens_rng_lane *const *L, size_t nl, double *z,
                          size_t n, int kernel) {
  if (!L || (!z && n)) LATENS_ERRORF(LATENS_EINVAL, "%s: %s is NULL", fn, L ? "z" : "L");
  if (nl > 16) LATENS_ERRORF(LATENS_EINVAL, "%s: %zu lanes (at most 16)", fn, nl);
  for (size_t l = 0; l < nl; l++)
    if (!L[l]) LATENS_ERRORF(LATENS_EINVAL, "%s: lane %zu is NULL", fn, l);
  /* absent lanes: scratch copies of lane 0 (or a fixed state), so the kernel stays whole */
  latens_rng_lane spare[16], *all[16];
  for (size_t l = 0; l < 16; l++) {
    if (l < nl) {
      all[l] = L[l];
      continue;
    }
    spare[l] = nl ? *L[0] : (latens_rng_lane){{1, 2, 3, 4}, 0.0f, 0};
    all[l] = &spare[l];
  }
  fill16(all, z, n, kernel);
  return LATENS_OK;
}

int latens_rng_lane_fill16(latens_rng_lane *const *L, size_t nl, double *z, size_t n) {
  return fill16_checked("latens_rng_lane_fill16", L, nl, z, n, have_avx2_fma());
}

int latens_rng_lane_fill16_kernel(latens_rng_lane *const *L, size_t nl, double *z, size_t n,
                                  int kernel) {
  static const char fn[] = "latens_rng_lane_fill16_kernel";
  if (kernel < 0 || kernel > 2)
    LATENS_ERRORF(LATENS_EINVAL, "%s: kernel %d is not 0, 1 or 2", fn, kernel);
  if (kernel == 1 && !have_avx2_fma())
    LATENS_ERRORF(LATENS_EUNIMPL, "%s: no AVX2 + FMA kernel on this CPU or build", fn);
  return fill16_checked(fn, L, nl, z, n, kernel);
}
