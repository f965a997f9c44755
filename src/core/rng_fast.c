/* core/rng_fast.c: latens_rng_fast, xoshiro128++ banks feeding the ziggurat one 32-bit word
 * per attempt (the definition is in latens/rng.h).
 *
 * Why a second generator: in a large SDE ensemble the normals are the whole cost, and a
 * Philox normal (two words, ten rounds of two multiplies per block) costs several times the
 * arithmetic of an Euler step.  Sixteen xoshiro128++ lanes give sixteen words for ~30 vector
 * instructions, and one word per attempt halves the words per normal.
 *
 * Bulk fills work a block at a time: the block's sixteen attempts are tested together and
 * written without a branch per value; the 1.5% of attempts that fail take the slow path,
 * which reads only the aux generator, so normal n always starts from main word n and a fill
 * can be split anywhere.  The AVX2 kernel keeps the two banks in registers across blocks; the
 * portable one steps the same generators lane by lane (integer arithmetic: the same words). */
#include "internal.h"

#include <math.h>
#include <string.h>
#include "rng_impl.h"
#include "rng_ziggurat.h"
#include "rng_lane_simd.h"

#define FAST_SEED_XOR UINT64_C(0x9E3779B97F4A7C15)

static inline uint32_t rotl32(uint32_t x, int k) { return x << k | x >> (32 - k); }

int latens_rng_fast_init(latens_rng_fast *r, uint64_t seed, uint64_t stream) {
  if (!r) LATENS_ERROR("latens_rng_fast_init: r is NULL", LATENS_EINVAL);
  latens_rng p;
  latens_rng_init(&p, seed ^ FAST_SEED_XOR, stream);
  uint32_t v[68];
  /* the first 17 blocks of that stream, in bulk: a per-path set-up by single draws cost a
   * fifth of a 1000-step path's normals */
  rng_philox_batch(p.key, p.ctr[2], p.ctr[3], 0, 17, v);
  for (int h = 0; h < 2; h++)
    for (int k = 0; k < 4; k++)
      for (int l = 0; l < 8; l++) r->s[h][k][l] = v[32 * h + 8 * k + l];
  for (int k = 0; k < 4; k++) r->aux[k] = v[64 + k];
  for (int h = 0; h < 2; h++)
    for (int l = 0; l < 8; l++)
      if (!(r->s[h][0][l] | r->s[h][1][l] | r->s[h][2][l] | r->s[h][3][l])) r->s[h][0][l] = 1;
  if (!(r->aux[0] | r->aux[1] | r->aux[2] | r->aux[3])) r->aux[0] = 1;
  memset(r->buf, 0, sizeof r->buf);
  r->used = 16;
  return LATENS_OK;
}

/* The next block into out[16], portable: each generator stepped by its definition. */
static void block_scalar(latens_rng_fast *r, uint32_t *out) {
  for (int h = 0; h < 2; h++)
    for (int l = 0; l < 8; l++) {
      uint32_t a = r->s[h][0][l], b = r->s[h][1][l], c = r->s[h][2][l], d = r->s[h][3][l];
      out[8 * h + l] = rotl32(a + d, 7) + a;
      const uint32_t t = b << 9;
      c ^= a, d ^= b, b ^= c, a ^= d, c ^= t, d = rotl32(d, 11);
      r->s[h][0][l] = a, r->s[h][1][l] = b, r->s[h][2][l] = c, r->s[h][3][l] = d;
    }
}

/* The next aux word: the aux generator's step (the slow path's words). */
static uint32_t aux_word(latens_rng_fast *r) {
  uint32_t a = r->aux[0], b = r->aux[1], c = r->aux[2], d = r->aux[3];
  const uint32_t out = rotl32(a + d, 7) + a, t = b << 9;
  c ^= a, d ^= b, b ^= c, a ^= d, c ^= t, d = rotl32(d, 11);
  r->aux[0] = a, r->aux[1] = b, r->aux[2] = c, r->aux[3] = d;
  return out;
}

static inline uint32_t next_word(latens_rng_fast *r) {
  if (r->used >= 16) {
    block_scalar(r, r->buf);
    r->used = 0;
  }
  return r->buf[r->used++];
}

uint32_t latens_rng_fast_uint32(latens_rng_fast *r) { return next_word(r); }

double latens_rng_fast_uniform(latens_rng_fast *r) {
  const uint64_t lo = next_word(r);
  return rng_u01(lo | (uint64_t)next_word(r) << 32);
}

static double aux_u01(latens_rng_fast *r) {
  const uint64_t lo = aux_word(r);
  return rng_u01(lo | (uint64_t)aux_word(r) << 32);
}

/* ---------------------------------------------------------------- the ziggurat */

/* A 32-bit attempt as latens_rng_normal's 64-bit one: j = w >> 9 at bits 41.., the layer and
 * sign bits in place (rng_kernels.c's zig_fast and zig_x read exactly these fields). */
static inline uint64_t widen(uint32_t w) { return (uint64_t)(w >> 9) << 41 | (w & 511u); }
static inline int fast_ok(uint64_t w) { return (w >> 11) < ZIG_K[w & 255]; }
static inline double fast_x(uint64_t w) { return (double)(int64_t)(w >> 11) * ZIG_W[w & 511]; }

static double fast_tail(latens_rng_fast *r, int neg) {
  for (;;) {
    double a = -log(aux_u01(r)) / ZIG_R, b = -log(aux_u01(r));
    if (b + b > a * a) return neg ? -(ZIG_R + a) : ZIG_R + a;
  }
}

/* After the inner-rectangle test failed on w: the tail, the wedge, or a new attempt. */
/* The wedge test y < f(x), with y = F[i] + u (F[i+1] - F[i]), decided first against the
 * chord from (X[i+1], F[i+1]) to (X[i], F[i]): below it where f is concave (layers inside
 * |x| <= 1), f is above the chord, so u < t accepts; where f is convex (outside) it is below,
 * so u > t rejects; t is where x cuts the chord.  That settles half the tests without exp.
 * The margin 1e-9 (in u; the wedge is ~1e-3 of f high, f's rounding ~1e-16) keeps every
 * decision the exp test's, so the values are those of the definition. */
static int wedge_accept(unsigned i, double x, double u) {
  /* X[i] > X[i+1]; X[256] = 0 (ZIG_W[256] starts the negated half) */
  const double xi = ZIG_W[i] * 0x1p53, xn = i < 255 ? ZIG_W[i + 1] * 0x1p53 : 0.0;
  const double t = (xi - x) / (xi - xn);
  if (xi <= 1.0 && u < t - 1e-9) return 1;
  if (xn >= 1.0 && u > t + 1e-9) return 0;
  return ZIG_F[i] + u * (ZIG_F[i + 1] - ZIG_F[i]) < exp(-0.5 * x * x);
}

static double fast_slow(latens_rng_fast *r, uint64_t w) {
  for (;;) {
    unsigned i = (unsigned)(w & 255);
    int neg = (int)(w >> 8) & 1;
    if (i == 0) return fast_tail(r, neg);
    double x = (double)(int64_t)(w >> 11) * ZIG_W[i];
    if (wedge_accept(i, x, aux_u01(r))) return neg ? -x : x;
    w = widen(aux_word(r));
    if (fast_ok(w)) return fast_x(w);
  }
}

/* Inline for the fills: the exported function is called through the PLT (it may be
 * interposed), which cost more than the draw. */
static inline double normal_draw(latens_rng_fast *r) {
  const uint64_t w = widen(next_word(r));
  return fast_ok(w) ? fast_x(w) : fast_slow(r, w);
}

double latens_rng_fast_normal(latens_rng_fast *r) { return normal_draw(r); }

/* ---------------------------------------------------------------- bulk fills */

/* The sixteen attempts of main block wb to x (mu + sigma z).  The inner-rectangle tests of
 * a half block are combined so that a half whose attempts all pass (89%) takes no branch per
 * value; a failing attempt is finished by the slow path, which reads only aux words, so the
 * block's other attempts keep their words.  The 23-bit tables keep every operation in
 * 32-bit integers, and half blocks keep gcc from spilling the bank state (sixteen values at
 * once did). */
static inline void half_normals(latens_rng_fast *r, const uint32_t *wb, double *x, double mu,
                                double sigma) {
  unsigned ok = 1;
#pragma GCC unroll 8
  for (int k = 0; k < 8; k++) {
    const uint32_t w = wb[k], j = w >> 9;
    ok &= j < ZIG_K23[w & 255];
    x[k] = mu + sigma * ((double)(int32_t)j * ZIG_W23[w & 511]);
  }
  if (__builtin_expect(!ok, 0))
    for (int k = 0; k < 8; k++)
      if (!((wb[k] >> 9) < ZIG_K23[wb[k] & 255])) x[k] = mu + sigma * fast_slow(r, widen(wb[k]));
}

/* Whole main blocks while at least 16 values remain; r->used is 16 on entry and exit.
 * Returns the values written. */
static size_t run_scalar(latens_rng_fast *r, double *x, size_t n, double mu, double sigma) {
  size_t i = 0;
  for (; n - i >= 16; i += 16) {
    block_scalar(r, r->buf);
    half_normals(r, r->buf, x + i, mu, sigma);
    half_normals(r, r->buf + 8, x + i + 8, mu, sigma);
  }
  return i;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_FAST_AVX2 1

/* XOSHIRO8: rng_lane_simd.h (eight xoshiro128++ generators, one step) */
#define LOAD8(h, k) _mm256_loadu_si256((const __m256i *)(const void *)r->s[h][k])
#define STORE8(h, k, v) _mm256_storeu_si256((__m256i *)(void *)r->s[h][k], v)

/* half_normals with the inner-rectangle tests in vector lanes: the eight limits gathered by
 * scalar inserts (vpgatherdd was slower on Zen 3), one compare and a movemask for the eight
 * (signed compares are exact: j < 2^23 and the limits are <= 2^23).  The products stay in
 * the scalar code gcc vectorises itself.  Same values as half_normals. */
__attribute__((target("avx2"))) static inline void half_avx2(latens_rng_fast *r,
                                                               const uint32_t *wb, double *x,
                                                               double mu, double sigma) {
  const uint8_t *lb = (const uint8_t *)(const void *)wb; /* byte 4k: the layer of word k */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "half_avx2 reads the layer byte of a little-endian word"
#endif
  __m128i lo = _mm_cvtsi32_si128((int)ZIG_K23[lb[0]]), hi = _mm_cvtsi32_si128((int)ZIG_K23[lb[16]]);
  lo = _mm_insert_epi32(lo, (int)ZIG_K23[lb[4]], 1), hi = _mm_insert_epi32(hi, (int)ZIG_K23[lb[20]], 1);
  lo = _mm_insert_epi32(lo, (int)ZIG_K23[lb[8]], 2), hi = _mm_insert_epi32(hi, (int)ZIG_K23[lb[24]], 2);
  lo = _mm_insert_epi32(lo, (int)ZIG_K23[lb[12]], 3), hi = _mm_insert_epi32(hi, (int)ZIG_K23[lb[28]], 3);
  const __m256i lim = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
  const __m256i j = _mm256_srli_epi32(_mm256_loadu_si256((const __m256i *)(const void *)wb), 9);
  const int pass = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(lim, j)));
#pragma GCC unroll 8
  for (int k = 0; k < 8; k++)
    x[k] = mu + sigma * ((double)(int32_t)(wb[k] >> 9) * ZIG_W23[wb[k] & 511]);
  if (__builtin_expect(pass != 255, 0))
    for (int k = 0; k < 8; k++)
      if (!(pass >> k & 1)) x[k] = mu + sigma * fast_slow(r, widen(wb[k]));
}

/* run_scalar with both banks in registers (two independent chains of eight lanes). */
__attribute__((target("avx2"))) static size_t run_avx2(latens_rng_fast *r, double *x, size_t n,
                                                       double mu, double sigma) {
  __m256i a0 = LOAD8(0, 0), b0 = LOAD8(0, 1), c0 = LOAD8(0, 2), d0 = LOAD8(0, 3);
  __m256i a1 = LOAD8(1, 0), b1 = LOAD8(1, 1), c1 = LOAD8(1, 2), d1 = LOAD8(1, 3);
  /* the block in an aligned local: the loads that read it back are then forwarded from
   * the stores (r->buf is not 32-byte aligned); a run consumes its blocks whole, so r->buf
   * need not hold them */
  uint32_t wb[16] __attribute__((aligned(32)));
  size_t i = 0;
  for (; n - i >= 16; i += 16) {
    __m256i o0, o1;
    XOSHIRO8(a0, b0, c0, d0, o0);
    XOSHIRO8(a1, b1, c1, d1, o1);
    _mm256_store_si256((__m256i *)(void *)wb, o0);
    _mm256_store_si256((__m256i *)(void *)(wb + 8), o1);
    /* read the words back from memory: extracted lane by lane from the registers (what gcc
     * does unasked) they cost more instructions than the loads and spill the state */
    __asm__ volatile("" ::: "memory");
    half_avx2(r, wb, x + i, mu, sigma);
    half_avx2(r, wb + 8, x + i + 8, mu, sigma);
  }
  STORE8(0, 0, a0), STORE8(0, 1, b0), STORE8(0, 2, c0), STORE8(0, 3, d0);
  STORE8(1, 0, a1), STORE8(1, 1, b1), STORE8(1, 2, c1), STORE8(1, 3, d1);
  return i;
}
#endif

static int have_avx2(void) {
#ifdef HAVE_FAST_AVX2
  return __builtin_cpu_supports("avx2");
#else
  return 0;
#endif
}

static void fill_normal(latens_rng_fast *r, double *x, size_t n, double mu, double sigma,
                        int simd) {
  size_t i = 0;
  /* the current block's unread words, then whole blocks, then the start of one more */
  while (i < n && r->used < 16) x[i++] = mu + sigma * normal_draw(r);
#ifdef HAVE_FAST_AVX2
  i += simd ? run_avx2(r, x + i, n - i, mu, sigma) : run_scalar(r, x + i, n - i, mu, sigma);
#else
  (void)simd;
  i += run_scalar(r, x + i, n - i, mu, sigma);
#endif
  while (i < n) x[i++] = mu + sigma * normal_draw(r);
}

/* The checks of latens_rng_fill_normal (one rule for both generators). */
static int check_fill(const char *fn, const latens_rng_fast *r, const double *x, size_t n,
                      double mu, double sigma) {
  if (!r || (!x && n)) LATENS_ERRORF(LATENS_EINVAL, "%s: %s is NULL", fn, r ? "x" : "r");
  if (!isfinite(mu) || !isfinite(sigma))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: mu %g, sigma %g (both must be finite)", fn, mu, sigma);
  if (!(sigma >= 0.0)) LATENS_ERRORF(LATENS_EDOM, "%s: sigma %g is negative", fn, sigma);
  return LATENS_OK;
}

int latens_rng_fast_fill_normal(latens_rng_fast *r, double *x, size_t n, double mu,
                                double sigma) {
  int s = check_fill("latens_rng_fast_fill_normal", r, x, n, mu, sigma);
  if (s) return s;
  fill_normal(r, x, n, mu, sigma, have_avx2());
  return LATENS_OK;
}

int latens_rng_fast_fill_normal_kernel(latens_rng_fast *r, double *x, size_t n, double mu,
                                       double sigma, int kernel) {
  static const char fn[] = "latens_rng_fast_fill_normal_kernel";
  int s = check_fill(fn, r, x, n, mu, sigma);
  if (s) return s;
  if (kernel != 0 && kernel != 1)
    LATENS_ERRORF(LATENS_EINVAL, "%s: kernel %d is not 0 or 1", fn, kernel);
  if (kernel == 1 && !have_avx2())
    LATENS_ERRORF(LATENS_EUNIMPL, "%s: no AVX2 kernel on this CPU or build", fn);
  fill_normal(r, x, n, mu, sigma, kernel);
  return LATENS_OK;
}
