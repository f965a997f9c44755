/* core/rng_impl.h: what rng.c and rng_kernels.c share.  Not installed. */
#ifndef LATENS_RNG_IMPL_H
#define LATENS_RNG_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <latens/rng.h>

/* Multipliers and Weyl key increments of Philox4x32 (Salmon et al. 2011, table 2). */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* Compute the block at r->ctr into r->buf and advance the counter (the one refill rule). */
void rng_refill(latens_rng *r);

/* The next uint64 of the stream (latens_rng_uint64 without the call through the PLT). */
static inline uint64_t rng_u64(latens_rng *r) {
  if (r->used > 2) {
    uint32_t lo;
    if (r->used == 3) {
      lo = r->buf[3];
      rng_refill(r);
    } else {
      rng_refill(r);
      lo = r->buf[r->used++];
    }
    return (uint64_t)lo | (uint64_t)r->buf[r->used++] << 32;
  }
  uint64_t v = (uint64_t)r->buf[r->used] | (uint64_t)r->buf[r->used + 1] << 32;
  r->used += 2;
  return v;
}

/* k 2^-53 for the top 53 bits k of w, k = 0 mapped to 2^-54 (see latens_rng_uniform). */
static inline double rng_u01(uint64_t w) {
  uint64_t k = w >> 11;
  return k ? (double)k * 0x1p-53 : 0x1p-54;
}

/* Bulk fills behind the public latens_rng_fill_* (arguments already checked). */
void rng_fill_normal_bulk(latens_rng *r, double *x, size_t n, double mu, double sigma);
void rng_fill_uniform_bulk(latens_rng *r, double *x, size_t n);

/* Test hook (exported, but not in the installed header): latens_rng_fill_normal through a
 * chosen kernel, 0 the portable scalar one, 1 the AVX2 one (LATENS_EUNIMPL when this CPU or
 * build lacks it), so tests/core/test_rng.c can check both against single draws on any
 * machine.  Same checks and results as latens_rng_fill_normal. */
LATENS_EXPORT int latens_rng_fill_normal_kernel(latens_rng *r, double *x, size_t n, double mu,
                                                double sigma, int kernel);

/* The same for latens_rng_fast_fill_normal: kernel 0 the portable block generator, 1 the
 * AVX2 one (LATENS_EUNIMPL where absent; another kernel number is LATENS_EINVAL);
 * tests/core/test_rng_fast.c compares them. */
LATENS_EXPORT int latens_rng_fast_fill_normal_kernel(latens_rng_fast *r, double *x, size_t n,
                                                     double mu, double sigma, int kernel);

/* The same for latens_rng_lane_fill16: kernel 0 lane by lane with scalar fmaf, 1 sixteen
 * lanes in AVX2 + FMA registers (LATENS_EUNIMPL where absent), 2 lane by lane with no FMA
 * instruction (libm's fmaf, as a CPU without FMA runs it); tests/core/test_rng_lane.c
 * compares them. */
LATENS_EXPORT int latens_rng_lane_fill16_kernel(latens_rng_lane *const *L, size_t nl, double *z,
                                                size_t n, int kernel);

/* nb Philox blocks from block `first` of stream (key, s0, s1) into out (4 nb words), bitwise
 * the scalar bijection (AVX2 where the CPU has it). */
void rng_philox_batch(const uint32_t key[2], uint32_t s0, uint32_t s1, uint64_t first, size_t nb,
                      uint32_t *out);

#endif
