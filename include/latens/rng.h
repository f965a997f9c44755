/* latens/rng.h: reproducible, splittable random-number streams (Philox4x32-10).
 *
 * Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3",
 * SC'11) is a counter-based generator: block b of a stream is a keyed bijection of the
 * counter, so any block can be computed without the ones before it and streams never share
 * state.  A stream is the pair (seed, stream id):
 *     key     = (low 32 bits of seed, high 32 bits of seed)
 *     counter = (low, high 32 bits of the block index, low, high 32 bits of the stream id)
 * Every block yields four 32-bit words, consumed in order: a uint32 draw takes one word, a
 * uint64 draw two (low word first).  Streams with different ids are different counter
 * ranges of the same bijection, so they never overlap (2^64 blocks each).
 *
 * Reproducibility: give each independent unit of work (a Monte Carlo path, a bootstrap
 * replicate, an MPI rank's share) its own stream, keyed by its index rather than by the
 * thread that runs it, and results do not depend on the thread count, the schedule or the
 * rank layout.  latens_rng is a plain struct: initialise one on the stack per unit of work
 * with latens_rng_init or latens_rng_split, no allocation needed.
 *
 * Distributions and their costs in 32-bit words:
 *   uniform        (0, 1): k 2^-53 from the top 53 bits of a uint64 (k = 0 maps to 2^-54),
 *                  so never 0 or 1; one uint64.
 *   normal         a 256-layer ziggurat (Marsaglia & Tsang 2000) with exact tail sampling
 *                  beyond r = 3.6542 (Marsaglia 1964).  Each attempt takes one uint64: its
 *                  low 8 bits pick the layer, bit 8 the sign, the top 53 bits the abscissa
 *                  (disjoint bits, so layer and abscissa are independent); 98.5% of attempts
 *                  are accepted at once, the rest draw uniforms for the wedge or the tail, or
 *                  restart.  Scalar double arithmetic and scalar libm only, so a value does
 *                  not depend on vector width.  |z| <= 13.9 (r - log(2^-54)/r, the tail's
 *                  smallest uniform), a truncation of probability ~1e-43.  Earlier versions
 *                  drew Box-Muller pairs: seeded normal (and gamma) streams differ from theirs.
 *   exponential    -log(u) / rate.
 *   gamma          Marsaglia & Tsang (2000) squeeze for shape >= 1; for shape < 1 a
 *                  Gamma(shape + 1) draw times u^(1/shape).
 *   poisson        inversion by sequential search for lambda < 10, Hormann's PTRS (1993,
 *                  "The transformed rejection method for generating Poisson random
 *                  variables") above, its acceptance test on the log-pmf in Loader's
 *                  saddle-point form (see latens_rng_poisson_logpmf), which stays exact to
 *                  rounding for every lambda up to the maximum.
 *   categorical    inversion of the cumulative weights: one uniform per draw.
 * The rejection samplers (normal, gamma, Poisson for lambda >= 10) consume a variable number
 * of words; reproducibility is unaffected because the count depends only on the stream.
 */
#ifndef LATENS_RNG_H
#define LATENS_RNG_H

#include <stddef.h>
#include <stdint.h>
#include <gsl/gsl_rng.h>
#include <latens/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A stream.  Treat the fields as private; copying the struct forks the stream (both copies
 * produce the same numbers from then on). */
typedef struct {
  uint32_t key[2];
  uint32_t ctr[4];   /* next block: its index in ctr[0..1], the stream id in ctr[2..3] */
  uint32_t buf[4];   /* the current block */
  unsigned int used; /* words of buf already consumed (4: none left) */
  int have_normal;   /* unused since the ziggurat (always 0); kept for the struct's layout */
  double normal;     /* unused, likewise */
} latens_rng;

/* The raw bijection: out = Philox4x32-10(ctr, key). */
LATENS_EXPORT void latens_rng_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2],
                                            uint32_t out[4]);

/* Start stream (seed, stream) at its first word.  LATENS_EINVAL if r is NULL. */
LATENS_EXPORT int latens_rng_init(latens_rng *r, uint64_t seed, uint64_t stream);
/* Heap-allocated stream, for callers that want an opaque handle; NULL on failure. */
LATENS_EXPORT latens_rng *latens_rng_alloc(uint64_t seed, uint64_t stream);
LATENS_EXPORT void latens_rng_free(latens_rng *r); /* NULL-safe */
/* Child stream number child_id of parent: same seed, a stream id derived from (parent's
 * stream id, child_id) by a Philox hash under a separate key.  It depends only on the
 * parent's seed and stream id, not on how far the parent has been drawn, so split(root, i)
 * names the same stream in every run.  Distinct (stream, child_id) pairs collide with
 * probability 2^-64 per pair; splitting can be nested.  child may not alias parent. */
LATENS_EXPORT int latens_rng_split(latens_rng *child, const latens_rng *parent, uint64_t child_id);
/* Jump to the position-th uint64 of the stream (word 2 * position), as if that many uint64
 * values had been drawn since init. */
LATENS_EXPORT int latens_rng_seek(latens_rng *r, uint64_t position);

/* Draws.  The stream must have been initialised (these functions do not check r). */
LATENS_EXPORT uint32_t latens_rng_uint32(latens_rng *r);
LATENS_EXPORT uint64_t latens_rng_uint64(latens_rng *r);
LATENS_EXPORT double latens_rng_uniform(latens_rng *r); /* (0, 1), 53 bits */
LATENS_EXPORT double latens_rng_normal(latens_rng *r);  /* N(0, 1) */
/* Status rules of the draws below (as everywhere in latens): a NULL pointer or n = 0 is
 * LATENS_EINVAL, a NaN or Inf parameter LATENS_ENOTFINITE, a finite parameter outside the
 * distribution's domain LATENS_EDOM.  The two scalar draws return NaN for bad parameters and
 * report the status through the error handler; nothing is drawn then. */

/* mu + sigma * N(0, 1), mu and sigma finite, sigma >= 0 (the checks of fill_normal). */
LATENS_EXPORT double latens_rng_gaussian(latens_rng *r, double mu, double sigma);
/* Exponential with the given finite rate > 0 (mean 1/rate). */
LATENS_EXPORT double latens_rng_exponential(latens_rng *r, double rate);

/* Gamma(shape, scale): mean shape * scale; both must be finite (LATENS_ENOTFINITE) and > 0
 * (LATENS_EDOM).  Very small shapes can return 0 (the draw is below the smallest double). */
LATENS_EXPORT int latens_rng_gamma(latens_rng *r, double shape, double scale, double *x);
/* Poisson(lambda), 0 <= lambda <= 1e15 (counts stay exact in a double): NaN or Inf is
 * LATENS_ENOTFINITE, a finite lambda outside that range LATENS_EDOM. */
LATENS_EXPORT int latens_rng_poisson(latens_rng *r, double lambda, uint64_t *k);
/* log P(K = k) for K ~ Poisson(lambda), in nats, within ~30 ulp of max(1, |result|) for
 * every finite lambda >= 0 (measured: below 20 ulp for lambda from 0.5 to 1e15).  Loader's
 * saddle-point form (C. Loader 2000, "Fast and Accurate Computation of Binomial
 * Probabilities"), -log(2 pi k)/2 - stirlerr(k) - bd0(k, lambda), avoids the cancellation of
 * -lambda + k log(lambda) - log(k!), which loses several nats at lambda ~ 1e15.  lambda = 0
 * gives 0 for k = 0 and -Inf otherwise.  k above 2^53 is rounded to a double.  Bad lambda:
 * NaN, reported as LATENS_ENOTFINITE (NaN, Inf) or LATENS_EDOM (lambda < 0). */
LATENS_EXPORT double latens_rng_poisson_logpmf(uint64_t k, double lambda);
/* An index in [0, n) drawn with probability p[i] / sum(p).  The p[i] must be finite
 * (LATENS_ENOTFINITE) and >= 0 with a positive sum that does not overflow (LATENS_EDOM);
 * zero-weight indices are never drawn.  n = 0: LATENS_EINVAL. */
LATENS_EXPORT int latens_rng_categorical(latens_rng *r, const double *p, size_t n, size_t *k);
/* The same from log-weights: probability exp(logw[i]) / sum exp(logw).  Any finite values
 * (1e4 or -1e4 alike) and -Inf (weight 0); NaN or +Inf gives LATENS_ENOTFINITE, all -Inf
 * LATENS_EDOM, n = 0 LATENS_EINVAL. */
LATENS_EXPORT int latens_rng_categorical_log(latens_rng *r, const double *logw, size_t n,
                                             size_t *k);

/* Bulk fills: exactly the values n successive single draws would give (fill_normal: each
 * mu + sigma * latens_rng_normal(r)), and the stream left exactly where those draws would
 * leave it, so fills and single draws of any kind can be mixed freely.  They compute many
 * Philox blocks at once (AVX2 where the CPU has it; integer arithmetic, so the words are the
 * same) and are several times faster per value: prefer them for more than a few values.
 * fill_normal checks mu and sigma as latens_rng_gaussian does, returning the status instead
 * of NaN. */
LATENS_EXPORT int latens_rng_fill_uniform(latens_rng *r, double *x, size_t n);
LATENS_EXPORT int latens_rng_fill_normal(latens_rng *r, double *x, size_t n, double mu,
                                         double sigma);

/* ------------------------------------------------------------------ fast streams
 * latens_rng_fast: a cheaper stream for bulk normals, where the draws themselves are the
 * cost.  An opt-in: latens_rng stays the default everywhere, and a fast stream never
 * reproduces a latens_rng stream.  Its sixteen generators also serve one by one as lanes
 * (below), which is how large SDE ensembles use it (options.rng = LATENS_SDE_RNG_FAST): the
 * stream's own normals are a ziggurat with exact tails, the lanes' a table-free Box-Muller
 * transform that sixteen paths compute together.
 *
 * Definition (every word is integer arithmetic, so the same on every machine and for every
 * vector width; tests/core/test_rng_fast.c re-implements it from this text):
 *   state   two banks h = 0, 1 of eight xoshiro128++ generators (Blackman & Vigna 2021,
 *           "Scrambled linear pseudorandom number generators"), lanes l = 0..7; generator
 *           (h, l) holds four 32-bit words (a, b, c, d) = s[h][0..3][l].  They make the
 *           main words.  A seventeenth generator, aux[0..3] = (a, b, c, d), makes the aux
 *           words, which only the normal's rare slow path reads.
 *   seeding latens_rng_fast_init(seed, stream) takes the first 68 32-bit words v[0..67] of
 *           the latens_rng stream (seed XOR 0x9E3779B97F4A7C15, stream) and sets
 *           s[h][k][l] = v[32 h + 8 k + l] and aux[k] = v[64 + k]; a generator whose four
 *           words are all 0 gets a = 1 (xoshiro's one forbidden state; probability 2^-128).
 *   words   main block t = 0, 1, ... holds 16 words: word 8 h + l is generator (h, l)'s
 *           output at its (t+1)-th step, out = rotl(a + d, 7) + a, after which the state
 *           advances (tmp = b << 9; c ^= a; d ^= b; b ^= c; a ^= d; c ^= tmp;
 *           d = rotl(d, 11)).  Main words are consumed in order, block after block; aux
 *           words are the aux generator's outputs in order.
 *   uniform two words w0, w1: the top 53 bits k of w0 + 2^32 w1, k 2^-53 (k = 0: 2^-54).
 *           latens_rng_fast_uniform takes two main words.
 *   normal  the 256-layer ziggurat of latens_rng_normal on 32-bit words: normal number n of
 *           the stream starts from main word n, always (w below); every other word it
 *           needs is an aux word, so a normal's position never depends on earlier ones.
 *           The attempt on w: layer i = w & 255, sign bit 8 (set: negative), j = w >> 9
 *           (23 bits), x = j X[i] 2^-23, accepted at once when x lies in the layer's inner rectangle,
 *           x < X[i+1], i.e. j 2^30 < floor(2^53 X[i+1] / X[i]) (98.5% of attempts).  That
 *           is latens_rng_normal's attempt on the 64-bit word (j << 41) | (w & 511).
 *           Otherwise layer 0 samples the tail beyond r (x = -log(u1) / r, y = -log(u2)
 *           from two aux uniforms per trial until 2 y > x^2; result r + x), and layers
 *           i > 0 test the wedge (one aux uniform u: accepted when F[i] + u (F[i+1] - F[i])
 *           < exp(-x^2 / 2)); a rejected wedge starts a new attempt on the next aux word.  The
 *           abscissa has 23 bits (latens_rng_normal: 53), a resolution of at most 4.7e-7
 *           in x; the tail reaches |z| <= 13.9 as there.
 * Why: a word costs about a tenth of a Philox word and one normal takes one word instead of
 * two, so a bulk normal costs about half (bench/sde/bench_sde prints both).  xoshiro128++
 * passes BigCrush; each generator has period 2^128 - 1, and randomly seeded generators
 * overlap with negligible probability for any feasible draw count.  Not for cryptography,
 * and a fast stream cannot seek: use latens_rng where a draw must be addressed by position. */
typedef struct {
  uint32_t s[2][4][8]; /* bank, word (a, b, c, d), lane */
  uint32_t aux[4];     /* the aux generator (a, b, c, d) */
  uint32_t buf[16];    /* the current main block */
  unsigned int used;   /* words of buf already consumed (16: none left) */
} latens_rng_fast;

/* Start stream (seed, stream).  LATENS_EINVAL if r is NULL. */
LATENS_EXPORT int latens_rng_fast_init(latens_rng_fast *r, uint64_t seed, uint64_t stream);
/* Draws as defined above (r must have been initialised; not checked); uint32 is the next
 * main word. */
LATENS_EXPORT uint32_t latens_rng_fast_uint32(latens_rng_fast *r);
LATENS_EXPORT double latens_rng_fast_uniform(latens_rng_fast *r); /* (0, 1), 53 bits */
LATENS_EXPORT double latens_rng_fast_normal(latens_rng_fast *r);  /* N(0, 1) */
/* x[i] = mu + sigma * latens_rng_fast_normal(r), i = 0..n-1, exactly (and the stream left
 * where those draws leave it), several times faster; the checks of latens_rng_fill_normal. */
LATENS_EXPORT int latens_rng_fast_fill_normal(latens_rng_fast *r, double *x, size_t n,
                                              double mu, double sigma);

/* ------------------------------------------------------------------ lanes
 * latens_rng_lane: one of a fast stream's sixteen generators on its own, with normals made
 * by a table-free Box-Muller transform in single precision.  Sixteen lanes step together
 * in the lanes of two AVX2 registers, so an ensemble whose path l draws from lane l makes
 * sixteen paths' normals per step without a table lookup, a branch or a transpose (large
 * SDE ensembles, options.rng = LATENS_SDE_RNG_FAST, give path p lane p mod 16 of stream
 * (seed, floor(p / 16))).  A lane is 24 bytes.
 *
 * Definition (IEEE single-precision operations in round-to-nearest, each rounded once;
 * fma() is fused; the same bits on every machine; tests/core/test_rng_lane.c re-implements
 * it from this text):
 *   state   latens_rng_fast_lane(r, l, lane) copies generator (h, k) = (l / 8, l mod 8) of
 *           fast stream r in its current state (s[h][0..3][k]), nothing pending; the lane's
 *           words are that generator's outputs from there on (xoshiro128++ as above; after
 *           latens_rng_fast_init, its first word is word l of main block 0).
 *   normals come in pairs: with no second value pending, a normal draw takes the next two
 *           words a, b, returns z0 and keeps z1 pending; the next draw returns z1.
 *   radius  j = (a >> 1) | 1 (odd, 1 .. 2^31 - 1);  u = float(j) * 2^-31;
 *           i = bits(u) - 0x3f2aaaab (as int32);  k = i >> 23 (arithmetic);
 *           m = the float with bits (i & 0x7fffff) + 0x3f2aaaab (m in [2/3, 4/3));
 *           f = m - 1;  s = f / (2 + f);  w = s * s;
 *           R = w * fma(w, fma(w, fma(w, c9, c7), c5), c3)  (c_n = 1/n rounded to float);
 *           L = fma(s + s, R, s + s)  (ln m = 2 atanh s);
 *           lu = fma(k, LN2H, fma(k, LN2L, L))  (ln u; LN2H = 0x1.62e4p-1, LN2L = 0x1.7f7d1cp-20);
 *           r = sqrt(-2 * lu).
 *   angle   t = int32((b << 2) | 2);  p = float(t) * PI33  (PI33 = 0x1.921fb6p-32, pi 2^-33;
 *           p in (-pi/4, pi/4));  v = p * p;
 *           S = v * fma(v, fma(v, fma(v, s9, s7), s5), s3)  (s_n = (-1)^((n-1)/2) / n!);
 *           sn = fma(p, S, p);
 *           C = fma(v, fma(v, fma(v, fma(v, fma(v, e10, e8), e6), e4), e2), 1)
 *           (e_n = (-1)^(n/2) / n!);  cs = C;
 *           quarter turns q = b >> 30: (X, Y) = (cs, sn), (-sn, cs), (-cs, -sn), (sn, -cs)
 *           for q = 0, 1, 2, 3 (negation flips the sign bit).
 *   values  z0 = r * X, z1 = r * Y, widened to double; a fill's x = mu + sigma * z in double.
 * What it gives: (u, theta = q pi/2 + p) is the midpoint grid of 2^30 x 2^30 cells, and the
 * float arithmetic stays within 2.5e-7 max(1, r) of the exact transform of that grid point
 * (a count of the roundings; the worst of 2^24 random pairs and every edge against
 * double-precision libm is 1.74e-7, tests/core/test_rng_lane.c).  |z| <= 6.56: the cells beyond
 * r = 6.44 (probability 2^-30 per pair, 1.5e-10 per value beyond |z| = 6.44) are one
 * cell.  Where far tails matter, use latens_rng. */
typedef struct {
  uint32_t s[4];      /* a, b, c, d */
  float spare;        /* z1, when pending */
  uint32_t pending;   /* 1: spare is the next normal */
} latens_rng_lane;

/* Lane l (0..15) of r, as defined above (r is not advanced).  LATENS_EINVAL for a NULL
 * pointer or l > 15. */
LATENS_EXPORT int latens_rng_fast_lane(const latens_rng_fast *r, unsigned l, latens_rng_lane *lane);
LATENS_EXPORT double latens_rng_lane_normal(latens_rng_lane *r); /* N(0, 1); r initialised */
/* x[i] = mu + sigma * latens_rng_lane_normal(r), i = 0..n-1, exactly; the checks of
 * latens_rng_fill_normal. */
LATENS_EXPORT int latens_rng_lane_fill_normal(latens_rng_lane *r, double *x, size_t n,
                                              double mu, double sigma);
/* The next n normals of each of the nl <= 16 lanes L[0..nl-1] together:
 * z[16 i + l] = lane l's normal i (entries of absent lanes l >= nl unspecified but
 * written), exactly as n latens_rng_lane_normal draws per lane would give, at the cost of
 * sixteen lanes in vector registers (AVX2 and FMA where the CPU has them) when the lanes
 * have the same pending state.  LATENS_EINVAL for NULL pointers or nl > 16. */
LATENS_EXPORT int latens_rng_lane_fill16(latens_rng_lane *const *L, size_t nl, double *z,
                                         size_t n);

/* GSL adaptor: a gsl_rng whose state is a latens_rng, so gsl_ran_* can draw from a stream.
 * get() returns the next 32-bit word (range [0, 2^32 - 1]); get_double() the 53-bit uniform.
 * gsl_rng_set(g, s) restarts stream (s, 0) (GSL hands set() uninitialised state, so no
 * stream id can survive it) and gsl_rng_alloc(type) starts (gsl_rng_default_seed, 0).
 * latens_rng_gsl_alloc copies r (the copy then advances on its own); free it with gsl_rng_free.
 * latens_rng_from_gsl returns the latens_rng inside a gsl_rng of this type (NULL, with
 * LATENS_EINVAL, for any other generator), so draws can be interleaved through either interface. */
LATENS_EXPORT const gsl_rng_type *latens_rng_gsl_type(void);
LATENS_EXPORT gsl_rng *latens_rng_gsl_alloc(const latens_rng *r);
LATENS_EXPORT latens_rng *latens_rng_from_gsl(gsl_rng *g);

#ifdef __cplusplus
}
#endif
#endif
