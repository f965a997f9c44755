/* core/rng_kernels.c: the normal sampler and the bulk fills.
 *
 * Normals come from a 256-layer ziggurat (rng_ziggurat.h).  One uint64 w per attempt: its
 * low 8 bits pick the layer, bit 8 the sign, its top 53 bits j the abscissa j X[i] 2^-53;
 * the bit fields do not overlap, so the layer and the abscissa are independent (Doornik 2005,
 * "An improved ziggurat method to generate normal random samples", on the correlation when
 * they share bits).  98.5% of attempts end at the first comparison; the rest take the
 * wedge test (one more uniform), the exact tail (Marsaglia 1964: two uniforms per trial) or
 * restart.  Every value is scalar double arithmetic and scalar libm (the AVX2 fast test does
 * the same operations lane by lane, without fma), so a draw does not depend on the vector
 * width.
 *
 * Where the time goes (bulk fill, CPU time on the Zen 3 of session 4): Philox ~1.5 ns per
 * uint64, the fast test ~1.2 ns per normal, the rest (window set-up, the 1.5% slow attempts
 * with their exp) ~0.7 ns, so ~3.4 ns per normal.  The Philox share is near the AVX2 floor
 * (two 32x32 multiplies per block and round; 32-bit lanes need more shuffles than they save).
 *
 * The bulk fills compute many Philox blocks at a time (integer arithmetic: bit-identical to
 * the scalar bijection whatever the instruction set) into a word buffer, consume it exactly as
 * successive single draws would, and leave the stream where those draws would have left it. */
#include "internal.h"

#include <math.h>
#include <string.h>
#include "rng_impl.h"
#include "rng_ziggurat.h"

#define BATCH_BLOCKS 128 /* fresh blocks per window: 512 words, 256 normal attempts */

/* ---------------------------------------------------------------- single normal */

/* The abscissa j X[i] 2^-53 of w, signed by bit 8 of w through the signed half of ZIG_W
 * (no branch to mispredict half the time); j < 2^53 converts exactly through a signed
 * integer (one instruction, where an unsigned conversion takes several). */
static inline double zig_x(uint64_t w) { return (double)(int64_t)(w >> 11) * ZIG_W[w & 511]; }

/* Whether w passes the fast test: its abscissa lies inside the layer's inner rectangle. */
static inline int zig_fast(uint64_t w) { return (w >> 11) < ZIG_K[w & 255]; }

/* Marsaglia's tail beyond r: x = -log(u1)/r, accepted when -2 log(u2) > x^2. */
static double zig_tail(latens_rng *r, int neg) {
  for (;;) {
    double a = -log(rng_u01(rng_u64(r))) / ZIG_R, b = -log(rng_u01(rng_u64(r)));
    if (b + b > a * a) return neg ? -(ZIG_R + a) : ZIG_R + a;
  }
}

/* After the fast test failed on w: tail (layer 0), wedge, or a fresh draw. */
static double zig_slow(latens_rng *r, uint64_t w) {
  for (;;) {
    unsigned i = (unsigned)(w & 255);
    int neg = (int)(w >> 8) & 1;
    if (i == 0) return zig_tail(r, neg);
    double x = (double)(int64_t)(w >> 11) * ZIG_W[i];
    double y = ZIG_F[i] + rng_u01(rng_u64(r)) * (ZIG_F[i + 1] - ZIG_F[i]);
    if (y < exp(-0.5 * x * x)) return neg ? -x : x;
    w = rng_u64(r);
    if (zig_fast(w)) return zig_x(w);
  }
}

double latens_rng_normal(latens_rng *r) {
  uint64_t w = rng_u64(r);
  return zig_fast(w) ? zig_x(w) : zig_slow(r, w);
}

/* ---------------------------------------------------------------- bulk Philox */

/* Portable path: the scalar bijection block by block. */
static void philox_blocks_scalar(const uint32_t key[2], uint32_t s0, uint32_t s1, uint64_t first,
                                 size_t nb, uint32_t *out) {
  for (size_t b = 0; b < nb; b++) {
    const uint32_t ctr[4] = {(uint32_t)(first + b), (uint32_t)((first + b) >> 32), s0, s1};
    latens_rng_philox4x32_10(ctr, key, out + 4 * b);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_PHILOX_AVX2 1

/* Four counters in the 64-bit lanes of a ymm register, two registers (a, b) at once for
 * latency.  Only the low 32 bits of a lane matter: _mm256_mul_epu32 reads only them, and the
 * junk that the unmasked high halves carry through the XORs never reaches a low half, so a
 * round is two multiplies, two shifts and four XORs per four blocks. */
#define PHILOX_ROUND_AVX2(c0, c1, c2, c3)                                                       \
  do {                                                                                        \
    __m256i p0_ = _mm256_mul_epu32(c0, m0), p1_ = _mm256_mul_epu32(c2, m1);                   \
    c0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1_, 32), c1), vk0);             \
    c2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0_, 32), c3), vk1);             \
    c1 = p1_, c3 = p0_;                                                                       \
  } while (0)

/* Blocks j = 0..3 of lanes (c0, c1, c2, c3) to out[4 j + k]: words 0,1 and 2,3 of each block
 * as 64-bit pairs, then interleaved into block order. */
#define PHILOX_STORE_AVX2(o, c0, c1, c2, c3)                                                    \
  do {                                                                                        \
    __m256i w01_ = _mm256_or_si256(_mm256_and_si256(c0, lo32), _mm256_slli_epi64(c1, 32));    \
    __m256i w23_ = _mm256_or_si256(_mm256_and_si256(c2, lo32), _mm256_slli_epi64(c3, 32));    \
    __m256i ev_ = _mm256_unpacklo_epi64(w01_, w23_), od_ = _mm256_unpackhi_epi64(w01_, w23_); \
    _mm256_storeu_si256((__m256i *)(o), _mm256_permute2x128_si256(ev_, od_, 0x20));          \
    _mm256_storeu_si256((__m256i *)((o) + 8), _mm256_permute2x128_si256(ev_, od_, 0x31));    \
  } while (0)

__attribute__((target("avx2"))) static void philox_blocks_avx2(const uint32_t key[2],
                                                               uint32_t s0, uint32_t s1,
                                                               uint64_t first, size_t nb,
                                                               uint32_t *out) {
  const __m256i lo32 = _mm256_set1_epi64x(0xffffffff), step = _mm256_set_epi64x(3, 2, 1, 0);
  const __m256i m0 = _mm256_set1_epi64x(PHILOX_M0), m1 = _mm256_set1_epi64x(PHILOX_M1);
  const __m256i vs0 = _mm256_set1_epi64x(s0), vs1 = _mm256_set1_epi64x(s1);
  __m256i rk0[10], rk1[10];
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; round++, k0 += PHILOX_W0, k1 += PHILOX_W1)
    rk0[round] = _mm256_set1_epi64x(k0), rk1[round] = _mm256_set1_epi64x(k1);
  size_t b = 0;
  /* four independent sets of four blocks: a round's chain (multiply, shift, two XORs) is
   * about six cycles long, so two sets left the vector units idle half the time */
  for (; b + 16 <= nb; b += 16) {
    __m256i a0 = _mm256_add_epi64(_mm256_set1_epi64x((long long)(first + b)), step);
    __m256i b0 = _mm256_add_epi64(_mm256_set1_epi64x((long long)(first + b + 4)), step);
    __m256i c0 = _mm256_add_epi64(_mm256_set1_epi64x((long long)(first + b + 8)), step);
    __m256i d0 = _mm256_add_epi64(_mm256_set1_epi64x((long long)(first + b + 12)), step);
    __m256i a1 = _mm256_srli_epi64(a0, 32), b1 = _mm256_srli_epi64(b0, 32);
    __m256i c1 = _mm256_srli_epi64(c0, 32), d1 = _mm256_srli_epi64(d0, 32);
    __m256i a2 = vs0, b2 = vs0, c2 = vs0, d2 = vs0, a3 = vs1, b3 = vs1, c3 = vs1, d3 = vs1;
#pragma GCC unroll 10
    for (int round = 0; round < 10; round++) {
      const __m256i vk0 = rk0[round], vk1 = rk1[round];
      PHILOX_ROUND_AVX2(a0, a1, a2, a3);
      PHILOX_ROUND_AVX2(b0, b1, b2, b3);
      PHILOX_ROUND_AVX2(c0, c1, c2, c3);
      PHILOX_ROUND_AVX2(d0, d1, d2, d3);
    }
    PHILOX_STORE_AVX2(out + 4 * b, a0, a1, a2, a3);
    PHILOX_STORE_AVX2(out + 4 * b + 16, b0, b1, b2, b3);
    PHILOX_STORE_AVX2(out + 4 * b + 32, c0, c1, c2, c3);
    PHILOX_STORE_AVX2(out + 4 * b + 48, d0, d1, d2, d3);
  }
  for (; b + 8 <= nb; b += 8) {
    __m256i a0 = _mm256_add_epi64(_mm256_set1_epi64x((long long)(first + b)), step);
    __m256i b0 = _mm256_add_epi64(_mm256_set1_epi64x((long long)(first + b + 4)), step);
    __m256i a1 = _mm256_srli_epi64(a0, 32), b1 = _mm256_srli_epi64(b0, 32);
    __m256i a2 = vs0, b2 = vs0, a3 = vs1, b3 = vs1;
#pragma GCC unroll 10
    for (int round = 0; round < 10; round++) {
      const __m256i vk0 = rk0[round], vk1 = rk1[round];
      PHILOX_ROUND_AVX2(a0, a1, a2, a3);
      PHILOX_ROUND_AVX2(b0, b1, b2, b3);
    }
    PHILOX_STORE_AVX2(out + 4 * b, a0, a1, a2, a3);
    PHILOX_STORE_AVX2(out + 4 * b + 16, b0, b1, b2, b3);
  }
  philox_blocks_scalar(key, s0, s1, first + b, nb - b, out + 4 * b);
}
#endif

/* nb blocks from block `first` of the stream (key, s0, s1); bitwise the scalar bijection
 * (tests/core/test_rng.c compares them at every offset). */
void rng_philox_batch(const uint32_t key[2], uint32_t s0, uint32_t s1, uint64_t first, size_t nb,
                      uint32_t *out) {
#ifdef HAVE_PHILOX_AVX2
  if (nb >= 8 && __builtin_cpu_supports("avx2")) {
    philox_blocks_avx2(key, s0, s1, first, nb, out);
    return;
  }
#endif
  philox_blocks_scalar(key, s0, s1, first, nb, out);
}

/* A window of the stream: words[0..len) are the words of blocks base, base+1, ... and the
 * stream stands at word pos of the window. */
typedef struct {
  uint32_t words[4 * (BATCH_BLOCKS + 1)]; /* the current block's rest, then fresh blocks */
  uint64_t base;
  size_t pos, len;
} window;

static uint64_t ctr_block(const latens_rng *r) {
  return (uint64_t)r->ctr[0] | (uint64_t)r->ctr[1] << 32;
}

/* Open a window at r's position holding at least `want` unread words when the batch allows:
 * the unread rest of r's current block first (it is the block before r->ctr), then fresh
 * blocks.  Small fills compute only the blocks they need. */
static void window_open(window *wd, const latens_rng *r, size_t want) {
  uint64_t next = ctr_block(r);
  size_t have = 0, nb;
  if (r->used < 4) {
    memcpy(wd->words, r->buf, sizeof r->buf);
    wd->base = next - 1, wd->pos = r->used, have = 4 - r->used;
  } else {
    wd->base = next, wd->pos = 0;
  }
  nb = want > have ? (want - have + 3) / 4 : 0;
  /* whole AVX2 batches of 8 blocks: extra blocks cost less than scalar ones, and words
   * computed but not consumed do not move the stream */
  if (nb > 2) nb = (nb + 7) / 8 * 8;
  if (nb > BATCH_BLOCKS) nb = BATCH_BLOCKS;
  if (have == 0 && nb == 0) nb = 1;
  rng_philox_batch(r->key, r->ctr[2], r->ctr[3], next, nb, wd->words + 4 * (r->used < 4));
  wd->len = 4 * (nb + (r->used < 4));
}

/* Leave r exactly as single draws up to word pos of the window would: the block holding the
 * last word read in buf, the counter just past it. */
static void window_sync(const window *wd, latens_rng *r) {
  if (wd->pos == 0) return; /* nothing read: r already stands at base */
  size_t blk = (wd->pos - 1) / 4;
  memcpy(r->buf, wd->words + 4 * blk, sizeof r->buf);
  uint64_t next = wd->base + blk + 1;
  r->ctr[0] = (uint32_t)next, r->ctr[1] = (uint32_t)(next >> 32);
  r->used = (unsigned)(wd->pos - 4 * blk);
}

/* Where r stands relative to the window after scalar draws moved it: its word offset, or
 * SIZE_MAX when it has left the window. */
static size_t window_where(const window *wd, const latens_rng *r) {
  uint64_t cur = ctr_block(r) - 1 - wd->base; /* block of r->buf, relative */
  if (cur >= wd->len / 4) return SIZE_MAX;
  return 4 * (size_t)cur + r->used;
}

/* The uint64 at word pos of the window (low word first, as latens_rng_uint64). */
static inline uint64_t window_u64(const uint32_t *wv, size_t pos) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t w;
  memcpy(&w, wv + pos, sizeof w);
  return w;
#else
  return (uint64_t)wv[pos] | (uint64_t)wv[pos + 1] << 32;
#endif
}

/* ---------------------------------------------------------------- bulk ziggurat */

/* The leading attempts of words wv[pos..] that pass the fast test, at most count of them,
 * written to x as mu + sigma z; returns how many.  The first attempt that fails is left to
 * the caller (zig_slow), so the words are consumed as by single draws. */
static size_t zig_fast_run_scalar(const uint32_t *wv, size_t pos, double *x, size_t count,
                                  double mu, double sigma) {
  size_t k = 0;
  for (; k < count; k++, pos += 2) {
    uint64_t w = window_u64(wv, pos);
    if (!zig_fast(w)) break;
    x[k] = mu + sigma * zig_x(w);
  }
  return k;
}

#ifdef HAVE_PHILOX_AVX2
#define HAVE_ZIG_AVX2 1
/* Four attempts per iteration, each lane the scalar arithmetic of zig_fast and zig_x:
 * the layer's limit and signed width come from scalar loads (vpgatherqq was slower still on
 * Zen 3), the 64-bit compare is signed but both sides are below 2^53, and j < 2^53
 * becomes a double exactly without AVX-512's conversion: hi 2^32 + lo from two
 * exponent-tagged halves (2^84 + hi 2^32 - (2^84 + 2^52) is exact, and adding 2^52 + lo
 * rounds nothing since the sum is an integer below 2^53).  No fma target: mu + sigma z stays
 * a rounded product then a rounded sum, as in the scalar code.  The block is stored whole
 * when a lane fails; the lanes from the failing one on are rewritten by the caller. */
__attribute__((target("avx2"))) static size_t zig_fast_run_avx2(const uint32_t *wv, size_t pos,
                                                                double *x, size_t count,
                                                                double mu, double sigma) {
  const __m256i lo32 = _mm256_set1_epi64x(0xffffffff);
  const __m256i e84 = _mm256_set1_epi64x(0x4530000000000000);
  const __m256i e52 = _mm256_set1_epi64x(0x4330000000000000);
  const __m256d magic = _mm256_set1_pd(0x1p84 + 0x1p52);
  const __m256d vmu = _mm256_set1_pd(mu), vsig = _mm256_set1_pd(sigma);
  size_t k = 0;
  for (; k + 4 <= count; k += 4) {
    const __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)(wv + pos + 2 * k));
    const __m256i j = _mm256_srli_epi64(w, 11);
    const uint32_t *lw = wv + pos + 2 * k; /* low words: layer and sign bits */
    const __m256i lim =
        _mm256_set_epi64x((long long)ZIG_K[lw[6] & 255], (long long)ZIG_K[lw[4] & 255],
                          (long long)ZIG_K[lw[2] & 255], (long long)ZIG_K[lw[0] & 255]);
    const int pass = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(lim, j)));
    const __m256d wid = _mm256_set_pd(ZIG_W[lw[6] & 511], ZIG_W[lw[4] & 511],
                                      ZIG_W[lw[2] & 511], ZIG_W[lw[0] & 511]);
    const __m256d hi =
        _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(j, 32), e84)), magic);
    const __m256d jd =
        _mm256_add_pd(hi, _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(j, lo32), e52)));
    _mm256_storeu_pd(x + k, _mm256_add_pd(vmu, _mm256_mul_pd(vsig, _mm256_mul_pd(jd, wid))));
    if (pass != 15) return k + (size_t)__builtin_ctz((unsigned)~pass);
  }
  return k + zig_fast_run_scalar(wv, pos + 2 * k, x + k, count - k, mu, sigma);
}
#endif

static size_t zig_fast_run(const uint32_t *wv, size_t pos, double *x, size_t count, double mu,
                           double sigma, int simd) {
#ifdef HAVE_ZIG_AVX2
  if (simd) return zig_fast_run_avx2(wv, pos, x, count, mu, sigma);
#else
  (void)simd;
#endif
  return zig_fast_run_scalar(wv, pos, x, count, mu, sigma);
}

/* simd: use the AVX2 fast test (the caller has checked the CPU). */
static void fill_normal(latens_rng *r, double *x, size_t n, double mu, double sigma, int simd) {
  window wd;
  size_t i = 0;
  while (i < n) {
    /* 2 words per attempt; the 1.5% of attempts that fail the first test draw 1-2 more */
    window_open(&wd, r, 2 * (n - i) + (n - i) / 32 + 2);
    const uint32_t *wv = wd.words;
    size_t pos = wd.pos;
    while (i < n && pos + 2 <= wd.len) {
      /* attempts that surely fit: no bounds checks inside */
      size_t k = (wd.len - pos) / 2, stop = n - i < k ? i + (n - i) : i + k;
      const size_t run = zig_fast_run(wv, pos, x + i, stop - i, mu, sigma, simd);
      i += run, pos += 2 * run;
      if (i == stop) break;
      wd.pos = pos + 2;
      window_sync(&wd, r);
      x[i++] = mu + sigma * zig_slow(r, window_u64(wv, pos));
      if ((pos = window_where(&wd, r)) == SIZE_MAX) break;
    }
    if (pos == SIZE_MAX) continue; /* r already stands past the window */
    wd.pos = pos;
    window_sync(&wd, r);
  }
}

static int have_avx2(void) {
#ifdef HAVE_ZIG_AVX2
  return __builtin_cpu_supports("avx2");
#else
  return 0;
#endif
}

/* The portable fast test even on AVX2 machines: the vector one (zig_fast_run_avx2) runs
 * fewer instructions (callgrind: 12 against 16 per normal) but takes longer on the Zen 3
 * this was measured on (ensemble of 10^4 x 10^3 double-well steps, CPU time: 6.2 against
 * 4.3 ns per path.step; with gathers for the tables, slower still).  It stays reachable
 * through latens_rng_fill_normal_kernel, and tested, for machines where it pays. */
void rng_fill_normal_bulk(latens_rng *r, double *x, size_t n, double mu, double sigma) {
  fill_normal(r, x, n, mu, sigma, 0);
}

int latens_rng_fill_normal_kernel(latens_rng *r, double *x, size_t n, double mu, double sigma,
                                  int kernel) {
  if (!r || (!x && n))
    LATENS_ERRORF(LATENS_EINVAL, "latens_rng_fill_normal_kernel: %s is NULL", r ? "x" : "r");
  if (kernel != 0 && kernel != 1)
    LATENS_ERRORF(LATENS_EINVAL, "latens_rng_fill_normal_kernel: kernel %d is not 0 or 1", kernel);
  if (kernel == 1 && !have_avx2())
    LATENS_ERROR("latens_rng_fill_normal_kernel: no AVX2 kernel on this CPU or build",
                 LATENS_EUNIMPL);
  int s = latens_rng_fill_normal(r, x, 0, mu, sigma); /* the public checks, nothing drawn */
  if (s) return s;
  fill_normal(r, x, n, mu, sigma, kernel);
  return LATENS_OK;
}

void rng_fill_uniform_bulk(latens_rng *r, double *x, size_t n) {
  window wd;
  size_t i = 0;
  while (i < n) {
    window_open(&wd, r, 2 * (n - i));
    size_t pos = wd.pos;
    for (; i < n && pos + 2 <= wd.len; i++, pos += 2)
      x[i] = rng_u01(window_u64(wd.words, pos));
    wd.pos = pos;
    window_sync(&wd, r);
  }
}
