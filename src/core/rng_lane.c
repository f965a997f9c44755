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

#define LN2H 0x1.62e4p-1f      /* ln 2 to 16 bits: k LN2H is exact for |k| < 2^8 */
#define LN2L 0x1.7f7d1cp-20f   /* ln 2 - LN2H */
#define PI33 0x1.921fb6p-32f   /* pi 2^-33: angle per unit of t */
#define MBIAS 0x3f2aaaab       /* bits of 2/3: m is reduced to [2/3, 4/3) */

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
static void bm_pair(uint32_t a, uint32_t b, float *z0, float *z1) {
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

static inline float lane_draw(latens_rng_lane *r) {
  if (r->pending) {
    r->pending = 0;
    return r->spare;
  }
  const uint32_t a = lane_word(r), b = lane_word(r);
  float z0;
  bm_pair(a, b, &z0, &r->spare);
  r->pending = 1;
  return z0;
}

int latens_rng_fast_lane(const latens_rng_fast *r, unsigned l, latens_rng_lane *lane) {
  if (!r || !lane)
    LATENS_ERRORF(LATENS_EINVAL, "latens_rng_fast_lane: %s is NULL", r ? "lane" : "r");
  if (l > 15) LATENS_ERRORF(LATENS_EINVAL, "latens_rng_fast_lane: lane %u is not 0..15", l);
  for (int k = 0; k < 4; k++) lane->s[k] = r->s[l / 8][k][l % 8];
  lane->spare = 0.0f, lane->pending = 0;
  return LATENS_OK;
}

double latens_rng_lane_normal(latens_rng_lane *r) { return (double)lane_draw(r); }

static int check_fill(const char *fn, const void *r, const double *x, size_t n, double mu,
                      double sigma) {
  if (!r || (!x && n)) LATENS_ERRORF(LATENS_EINVAL, "%s: %s is NULL", fn, r ? "x" : "r");
  if (!isfinite(mu) || !isfinite(sigma))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: mu %g, sigma %g (both must be finite)", fn, mu, sigma);
  if (!(sigma >= 0.0)) LATENS_ERRORF(LATENS_EDOM, "%s: sigma %g is negative", fn, sigma);
  return LATENS_OK;
}

int latens_rng_lane_fill_normal(latens_rng_lane *r, double *x, size_t n, double mu,
                                double sigma) {
  int s = check_fill("latens_rng_lane_fill_normal", r, x, n, mu, sigma);
  if (s) return s;
  for (size_t i = 0; i < n; i++) x[i] = mu + sigma * (double)lane_draw(r);
  return LATENS_OK;
}

/* ---------------------------------------------------------------- sixteen lanes */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_LANE_AVX2 1

#define ROTL8(v, k) _mm256_or_si256(_mm256_slli_epi32(v, k), _mm256_srli_epi32(v, 32 - (k)))
/* One step of eight generators (the lanes of a, b, c, d); their outputs. */
#define XOSHIRO8(a, b, c, d, out)                                                             \
  do {                                                                                        \
    out = _mm256_add_epi32(ROTL8(_mm256_add_epi32(a, d), 7), a);                              \
    const __m256i t_ = _mm256_slli_epi32(b, 9);                                               \
    c = _mm256_xor_si256(c, a), d = _mm256_xor_si256(d, b);                                   \
    b = _mm256_xor_si256(b, c), a = _mm256_xor_si256(a, d);                                   \
    c = _mm256_xor_si256(c, t_), d = ROTL8(d, 11);                                            \
  } while (0)
#define VF(x) _mm256_set1_ps(x)
#define VI(x) _mm256_set1_epi32((int)(x))
#define VFMA _mm256_fmadd_ps

/* bm_pair on eight lanes. */
__attribute__((target("avx2,fma"))) static inline void bm8(__m256i a, __m256i b, __m256 *z0,
                                                           __m256 *z1) {
  const __m256 u = _mm256_mul_ps(
      _mm256_cvtepi32_ps(_mm256_or_si256(_mm256_srli_epi32(a, 1), VI(1))), VF(0x1p-31f));
  const __m256i i = _mm256_sub_epi32(_mm256_castps_si256(u), VI(MBIAS));
  const __m256 k = _mm256_cvtepi32_ps(_mm256_srai_epi32(i, 23));
  const __m256 m = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_and_si256(i, VI(0x7fffff)), VI(MBIAS)));
  const __m256 f = _mm256_sub_ps(m, VF(1.0f)), s = _mm256_div_ps(f, _mm256_add_ps(VF(2.0f), f));
  const __m256 w = _mm256_mul_ps(s, s), s2 = _mm256_add_ps(s, s);
  const __m256 R = _mm256_mul_ps(
      w, VFMA(w, VFMA(w, VFMA(w, VF(1.0f / 9), VF(1.0f / 7)), VF(1.0f / 5)), VF(1.0f / 3)));
  const __m256 lu = VFMA(k, VF(LN2H), VFMA(k, VF(LN2L), VFMA(s2, R, s2)));
  const __m256 r = _mm256_sqrt_ps(_mm256_mul_ps(VF(-2.0f), lu));
  const __m256 p = _mm256_mul_ps(
      _mm256_cvtepi32_ps(_mm256_or_si256(_mm256_slli_epi32(b, 2), VI(2))), VF(PI33));
  const __m256 v = _mm256_mul_ps(p, p);
  const __m256 S = _mm256_mul_ps(
      v, VFMA(v, VFMA(v, VFMA(v, VF(1.0f / 362880), VF(-1.0f / 5040)), VF(1.0f / 120)),
              VF(-1.0f / 6)));
  const __m256 sn = VFMA(p, S, p);
  const __m256 cs = VFMA(
      v, VFMA(v, VFMA(v, VFMA(v, VFMA(v, VF(-1.0f / 3628800), VF(1.0f / 40320)), VF(-1.0f / 720)),
                      VF(1.0f / 24)),
              VF(-0.5f)),
      VF(1.0f));
  /* bit 30 of b (the odd quarter turns) to the sign bit selects; the sign bits of
   * b ^ (b << 1) and of b negate X and Y */
  const __m256 odd = _mm256_castsi256_ps(_mm256_slli_epi32(b, 1));
  const __m256i sign = VI(0x80000000u);
  const __m256 nx = _mm256_castsi256_ps(_mm256_and_si256(_mm256_xor_si256(b, _mm256_slli_epi32(b, 1)), sign));
  const __m256 ny = _mm256_castsi256_ps(_mm256_and_si256(b, sign));
  *z0 = _mm256_mul_ps(r, _mm256_xor_ps(_mm256_blendv_ps(cs, sn, odd), nx));
  *z1 = _mm256_mul_ps(r, _mm256_xor_ps(_mm256_blendv_ps(sn, cs, odd), ny));
}

/* Eight floats widened to z[0..7]. */
__attribute__((target("avx2,fma"))) static inline void put8(double *z, __m256 v) {
  _mm256_storeu_pd(z, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  _mm256_storeu_pd(z + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

/* Word k (a, b, c, d) of lanes 8h .. 8h+7, and back. */
__attribute__((target("avx2,fma"))) static inline __m256i lanes_load(latens_rng_lane *const *L,
                                                                      int h, int k) {
  return _mm256_setr_epi32((int)L[8 * h]->s[k], (int)L[8 * h + 1]->s[k], (int)L[8 * h + 2]->s[k],
                           (int)L[8 * h + 3]->s[k], (int)L[8 * h + 4]->s[k], (int)L[8 * h + 5]->s[k],
                           (int)L[8 * h + 6]->s[k], (int)L[8 * h + 7]->s[k]);
}
__attribute__((target("avx2,fma"))) static inline void lanes_store(latens_rng_lane *const *L,
                                                                   int h, int k, __m256i v) {
  uint32_t t[8];
  _mm256_storeu_si256((__m256i *)(void *)t, v);
  for (int l = 0; l < 8; l++) L[8 * h + l]->s[k] = t[l];
}

/* 2 np normals of sixteen lanes with nothing pending: pair i to z[32 i ..]. */
__attribute__((target("avx2,fma"))) static void pairs_avx2(latens_rng_lane *const *L, double *z,
                                                           size_t np) {
  __m256i a0 = lanes_load(L, 0, 0), b0 = lanes_load(L, 0, 1), c0 = lanes_load(L, 0, 2),
          d0 = lanes_load(L, 0, 3);
  __m256i a1 = lanes_load(L, 1, 0), b1 = lanes_load(L, 1, 1), c1 = lanes_load(L, 1, 2),
          d1 = lanes_load(L, 1, 3);
  for (size_t i = 0; i < np; i++, z += 32) {
    __m256i ra, rb, qa, qb; /* radius and angle words of banks 0 and 1 */
    XOSHIRO8(a0, b0, c0, d0, ra);
    XOSHIRO8(a1, b1, c1, d1, rb);
    XOSHIRO8(a0, b0, c0, d0, qa);
    XOSHIRO8(a1, b1, c1, d1, qb);
    __m256 z0a, z1a, z0b, z1b;
    bm8(ra, qa, &z0a, &z1a);
    bm8(rb, qb, &z0b, &z1b);
    put8(z, z0a), put8(z + 8, z0b), put8(z + 16, z1a), put8(z + 24, z1b);
  }
  lanes_store(L, 0, 0, a0), lanes_store(L, 0, 1, b0), lanes_store(L, 0, 2, c0), lanes_store(L, 0, 3, d0);
  lanes_store(L, 1, 0, a1), lanes_store(L, 1, 1, b1), lanes_store(L, 1, 2, c1), lanes_store(L, 1, 3, d1);
}
#endif

static int have_avx2_fma(void) {
#ifdef HAVE_LANE_AVX2
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

static void fill16(latens_rng_lane *const *L, double *z, size_t n, int simd) {
  size_t i = 0;
  const uint32_t pend = L[0]->pending;
  int same = 1;
  for (int l = 1; l < 16; l++) same &= L[l]->pending == pend;
  if (!same || !simd) {
    for (int l = 0; l < 16; l++)
      for (size_t j = 0; j < n; j++) z[16 * j + (size_t)l] = (double)lane_draw(L[l]);
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
                          size_t n, int simd) {
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
  fill16(all, z, n, simd);
  return LATENS_OK;
}

int latens_rng_lane_fill16(latens_rng_lane *const *L, size_t nl, double *z, size_t n) {
  return fill16_checked("latens_rng_lane_fill16", L, nl, z, n, have_avx2_fma());
}

int latens_rng_lane_fill16_kernel(latens_rng_lane *const *L, size_t nl, double *z, size_t n,
                                  int kernel) {
  static const char fn[] = "latens_rng_lane_fill16_kernel";
  if (kernel != 0 && kernel != 1)
    LATENS_ERRORF(LATENS_EINVAL, "%s: kernel %d is not 0 or 1", fn, kernel);
  if (kernel == 1 && !have_avx2_fma())
    LATENS_ERRORF(LATENS_EUNIMPL, "%s: no AVX2 + FMA kernel on this CPU or build", fn);
  return fill16_checked(fn, L, nl, z, n, kernel);
}
