/* core/rng_kernels.c: the normal sampler and the bulk fills.
 *
 * Normals come from a 256-layer ziggurat (rng_ziggurat.h).  One uint64 w per attempt: its
 * low 8 bits pick the layer, bit 8 the sign, its top 53 bits j the abscissa j X[i] 2^-53;
 * the bit fields do not overlap, so the layer and the abscissa are independent (Doornik 2005,
 * "An improved ziggurat method to generate normal random samples", on the correlation when
 * they share bits).  98.5% of attempts end at the first comparison; the rest take the
 * wedge test (one more uniform), the exact tail (Marsaglia 1964: two uniforms per trial) or
 * restart.  Everything is scalar double arithmetic and scalar libm, so a draw does not depend
 * on the vector width.
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
static void philox_batch(const uint32_t key[2], uint32_t s0, uint32_t s1, uint64_t first,
                         size_t nb, uint32_t *out) {
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
  philox_batch(r->key, r->ctr[2], r->ctr[3], next, nb, wd->words + 4 * (r->used < 4));
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

void rng_fill_normal_bulk(latens_rng *r, double *x, size_t n, double mu, double sigma) {
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
      for (; i < stop; i++, pos += 2) {
        uint64_t w = window_u64(wv, pos);
        if (!zig_fast(w)) break;
        x[i] = mu + sigma * zig_x(w);
      }
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
