/* core/rng_lane_simd.h: sixteen latens_rng_lane generators in AVX2 registers, and the
 * Box-Muller transform of rng_lane.c on eight lanes (the same operations, so the same bits).
 * The micro-kernel of rng_lane.c, apart from its plain framework (rng_fast.c steps its banks
 * with the same XOSHIRO8); callers compile with target("avx2,fma") and check the CPU. */
#ifndef LATENS_CORE_RNG_LANE_SIMD_H
#define LATENS_CORE_RNG_LANE_SIMD_H

#include <latens/rng.h>
#include <stdint.h>

#define LANE_LN2H 0x1.62e4p-1f    /* ln 2 to 16 bits: k LN2H is exact for |k| < 2^8 */
#define LANE_LN2L 0x1.7f7d1cp-20f /* ln 2 - LN2H */
#define LANE_PI33 0x1.921fb6p-32f /* pi 2^-33: angle per unit of t */
#define LANE_MBIAS 0x3f2aaaab     /* bits of 2/3: m is reduced to [2/3, 4/3) */

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
#define LANE_INLINE __attribute__((target("avx2,fma"), always_inline)) static inline

/* bm_pair on nb = 1 or 2 banks of eight lanes (a[h], b[h] -> z0[h], z1[h]).  Each line is
 * written for both banks so that their dependency chains (a divide, a square root and a
 * dozen dependent fmas each) run side by side.  Two exact rewrites of the definition save
 * multiplies: u's scaling by 2^-31 is taken off u's exponent field (u >= 2^-31 is normal),
 * and -2 lu is computed as fma(k, -2 LN2H, fma(k, -2 LN2L, fma(-4 s, R, -4 s))), every
 * factor -2 being exact, so the values are bm_pair's bit for bit. */
#define LANE_EACH(h, nb) _Pragma("GCC unroll 2") for (int h = 0; h < (nb); h++)
LANE_INLINE void lane_bm(int nb, const __m256i *a, const __m256i *b, __m256 *z0,
                         __m256 *z1) {
  __m256i i[2];
  __m256 p[2], v[2], k[2], f[2], s[2], w[2], s4[2], R[2], r[2], S[2], sn[2], cs[2];
  const __m256i sign = VI(0x80000000u);
  /* i = bits(u) - MBIAS with u = float(j) 2^-31: bits(float(j)) - 31 2^23 - MBIAS */
  LANE_EACH(h, nb) i[h] = _mm256_sub_epi32(
      _mm256_castps_si256(_mm256_cvtepi32_ps(_mm256_or_si256(_mm256_srli_epi32(a[h], 1), VI(1)))),
      VI(LANE_MBIAS + (31u << 23)));
  LANE_EACH(h, nb) p[h] = _mm256_mul_ps(
      _mm256_cvtepi32_ps(_mm256_or_si256(_mm256_slli_epi32(b[h], 2), VI(2))), VF(LANE_PI33));
  LANE_EACH(h, nb) k[h] = _mm256_cvtepi32_ps(_mm256_srai_epi32(i[h], 23));
  LANE_EACH(h, nb) f[h] = _mm256_sub_ps(
      _mm256_castsi256_ps(_mm256_add_epi32(_mm256_and_si256(i[h], VI(0x7fffff)), VI(LANE_MBIAS))),
      VF(1.0f));
  LANE_EACH(h, nb) s[h] = _mm256_div_ps(f[h], _mm256_add_ps(VF(2.0f), f[h]));
  LANE_EACH(h, nb) v[h] = _mm256_mul_ps(p[h], p[h]);
  LANE_EACH(h, nb) S[h] = _mm256_mul_ps(
      v[h], VFMA(v[h], VFMA(v[h], VFMA(v[h], VF(1.0f / 362880), VF(-1.0f / 5040)), VF(1.0f / 120)),
                 VF(-1.0f / 6)));
  LANE_EACH(h, nb) cs[h] = VFMA(
      v[h], VFMA(v[h], VFMA(v[h], VFMA(v[h], VFMA(v[h], VF(-1.0f / 3628800), VF(1.0f / 40320)),
                                       VF(-1.0f / 720)),
                            VF(1.0f / 24)),
                 VF(-0.5f)),
      VF(1.0f));
  LANE_EACH(h, nb) sn[h] = VFMA(p[h], S[h], p[h]);
  LANE_EACH(h, nb) w[h] = _mm256_mul_ps(s[h], s[h]), s4[h] = _mm256_mul_ps(s[h], VF(-4.0f));
  LANE_EACH(h, nb) R[h] = _mm256_mul_ps(
      w[h], VFMA(w[h], VFMA(w[h], VFMA(w[h], VF(1.0f / 9), VF(1.0f / 7)), VF(1.0f / 5)),
                 VF(1.0f / 3)));
  LANE_EACH(h, nb) r[h] = _mm256_sqrt_ps(
      VFMA(k[h], VF(-2 * LANE_LN2H), VFMA(k[h], VF(-2 * LANE_LN2L), VFMA(s4[h], R[h], s4[h]))));
  /* bit 30 of b (the odd quarter turns) to the sign bit selects; the sign bits of
   * b ^ (b << 1) and of b negate X and Y */
  LANE_EACH(h, nb) {
    const __m256i odd = _mm256_slli_epi32(b[h], 1);
    const __m256 sel = _mm256_castsi256_ps(odd);
    const __m256 nx = _mm256_castsi256_ps(_mm256_and_si256(_mm256_xor_si256(b[h], odd), sign));
    const __m256 ny = _mm256_castsi256_ps(_mm256_and_si256(b[h], sign));
    z0[h] = _mm256_mul_ps(r[h], _mm256_xor_ps(_mm256_blendv_ps(cs[h], sn[h], sel), nx));
    z1[h] = _mm256_mul_ps(r[h], _mm256_xor_ps(_mm256_blendv_ps(sn[h], cs[h], sel), ny));
  }
}
LANE_INLINE void lane_bm8(__m256i a, __m256i b, __m256 *z0, __m256 *z1) {
  lane_bm(1, &a, &b, z0, z1);
}

/* Eight floats widened to z[0..7]. */
LANE_INLINE void lane_put8(double *z, __m256 v) {
  _mm256_storeu_pd(z, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  _mm256_storeu_pd(z + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

/* Word k (a, b, c, d) of lanes 8h .. 8h+7, and back. */
LANE_INLINE __m256i lane_load8(latens_rng_lane *const *L, int h, int k) {
  latens_rng_lane *const *M = L + 8 * h;
  return _mm256_setr_epi32((int)M[0]->s[k], (int)M[1]->s[k], (int)M[2]->s[k], (int)M[3]->s[k],
                           (int)M[4]->s[k], (int)M[5]->s[k], (int)M[6]->s[k], (int)M[7]->s[k]);
}
LANE_INLINE void lane_store8(latens_rng_lane *const *L, int h, int k, __m256i v) {
  uint32_t t[8];
  _mm256_storeu_si256((__m256i *)(void *)t, v);
  for (int l = 0; l < 8; l++) L[8 * h + l]->s[k] = t[l];
}

/* Sixteen lanes: bank h holds lanes 8h .. 8h+7, word k of each in register v[h][k]. */
typedef struct {
  __m256i v[2][4];
} lane16;

LANE_INLINE void lane16_load(lane16 *g, latens_rng_lane *const *L) {
  for (int h = 0; h < 2; h++)
    for (int k = 0; k < 4; k++) g->v[h][k] = lane_load8(L, h, k);
}
LANE_INLINE void lane16_store(const lane16 *g, latens_rng_lane *const *L) {
  for (int h = 0; h < 2; h++)
    for (int k = 0; k < 4; k++) lane_store8(L, h, k, g->v[h][k]);
}
/* The next pair of every lane: z0[h], z1[h] hold lanes 8h .. 8h+7. */
LANE_INLINE void lane16_pair(lane16 *g, __m256 z0[2], __m256 z1[2]) {
  __m256i ra, rb, qa, qb; /* radius and angle words of banks 0 and 1 */
  XOSHIRO8(g->v[0][0], g->v[0][1], g->v[0][2], g->v[0][3], ra);
  XOSHIRO8(g->v[1][0], g->v[1][1], g->v[1][2], g->v[1][3], rb);
  XOSHIRO8(g->v[0][0], g->v[0][1], g->v[0][2], g->v[0][3], qa);
  XOSHIRO8(g->v[1][0], g->v[1][1], g->v[1][2], g->v[1][3], qb);
  const __m256i rad[2] = {ra, rb}, ang[2] = {qa, qb};
  lane_bm(2, rad, ang, z0, z1);
}
#endif
#endif
