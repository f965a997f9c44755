/* tests/core/fast_ref.h: what test_rng_fast.c and test_rng_lane.c share.  xo_next is one
 * xoshiro128++ generator, stepped as xoshiro128plusplus.c (Blackman & Vigna 2019, public
 * domain) and rng.h define it: the output rotl(a + d, 7) + a, then the linear step; the
 * plain reference both oracles build on (no banks, lanes or vectors). */
#ifndef LATENS_TESTS_CORE_FAST_REF_H
#define LATENS_TESTS_CORE_FAST_REF_H
#include <stdint.h>
#include <string.h>

typedef struct {
  uint32_t a, b, c, d;
} xo_gen;

static inline uint32_t rotl32(uint32_t x, int k) { return x << k | x >> (32 - k); }

static inline uint32_t xo_next(xo_gen *g) {
  uint32_t out = rotl32(g->a + g->d, 7) + g->a, t = g->b << 9;
  g->c ^= g->a;
  g->d ^= g->b;
  g->b ^= g->c;
  g->a ^= g->d;
  g->c ^= t;
  g->d = rotl32(g->d, 11);
  return out;
}

/* Bitwise equality of doubles (distinguishes -0 and 0). */
static inline int same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* (seed, stream) pairs: small, neighbouring, large and extreme values. */
static const uint64_t PAIRS[][2] = {{0, 0},       {1, 0},        {1, 1},
                                    {2026, 7},    {UINT64_C(0x9E3779B97F4A7C15), 0},
                                    {UINT64_MAX, UINT64_MAX}, {123456789, UINT64_C(1) << 40}};
#define NPAIRS (sizeof PAIRS / sizeof *PAIRS)
#endif
