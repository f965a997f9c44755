/* tests/core/test_rng_lane.c: latens_rng_lane, one fast-stream generator with single-precision
 * Box-Muller normals.
 *
 * The oracle of the bitwise tests is ref_pair / ref_lane below: an independent, deliberately
 * plain re-implementation of the "lanes" definition in include/latens/rng.h, written from that
 * text alone (one lane at a time, scalar fmaf, no vectors), on top of the published
 * xoshiro128++ step (pinned by known answers in test_rng_fast.c) and the fast stream's Philox
 * seeding (re-implemented here as test_rng_fast.c does).  ref_pair itself is held to the
 * exact transform of its grid point in double-precision libm (transform_accuracy), which also
 * visits the transform's edge words that random lane states practically never reach.
 *
 * Statistical thresholds: fixed seeds, so each test is deterministic; 5 standard errors
 * (two-sided probability 6e-7 per statistic on a fresh seed) and chi-square critical values
 * at 1e-6, chosen before running.  The spread over seeds was measured with the library's fill16
 * (see the comment at lane_distribution). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <latens/latens.h>
#include "suites.h"
#include "fast_ref.h"
#include "../../src/core/rng_impl.h" /* latens_rng_lane_fill16_kernel */

/* ---------------------------------------------------------------- the reference */

/* xo_gen, xo_next: fast_ref.h */

/* Generator (h, l) of fast stream (seed, stream) as rng.h seeds it: s[h][k][l] =
 * v[32 h + 8 k + l] from the Philox stream (seed ^ 0x9E3779B97F4A7C15, stream); all zero:
 * a = 1. */
static xo_gen ref_seed_gen(uint64_t seed, uint64_t stream, unsigned l) {
  latens_rng p;
  uint32_t v[64];
  latens_rng_init(&p, seed ^ UINT64_C(0x9E3779B97F4A7C15), stream);
  for (int i = 0; i < 64; i++) v[i] = latens_rng_uint32(&p);
  const uint32_t *g = v + 32 * (l / 8) + l % 8;
  xo_gen x = {g[0], g[8], g[16], g[24]};
  if (!(x.a | x.b | x.c | x.d)) x.a = 1;
  return x;
}

static float float_of_bits(uint32_t b) {
  float f;
  memcpy(&f, &b, sizeof f);
  return f;
}

static uint32_t bits_of_float(float f) {
  uint32_t b;
  memcpy(&b, &f, sizeof b);
  return b;
}

/* The constants as rng.h names them, each rounded once to float (constant folding is exact
 * rational arithmetic rounded to nearest, and the integers are exact in float). */
static const float C3 = 1.0f / 3.0f, C5 = 1.0f / 5.0f, C7 = 1.0f / 7.0f, C9 = 1.0f / 9.0f;
static const float S3 = -1.0f / 6.0f, S5 = 1.0f / 120.0f, S7 = -1.0f / 5040.0f,
                   S9 = 1.0f / 362880.0f;
static const float E2 = -1.0f / 2.0f, E4 = 1.0f / 24.0f, E6 = -1.0f / 720.0f,
                   E8 = 1.0f / 40320.0f, E10 = -1.0f / 3628800.0f;
static const float LN2H = 0x1.62e4p-1f, LN2L = 0x1.7f7d1cp-20f, PI33 = 0x1.921fb6p-32f;

/* rng.h's radius r of word a (the build has -ffp-contract=off: each operation rounds once). */
static float ref_radius(uint32_t a) {
  const uint32_t j = (a >> 1) | 1u;
  const float u = (float)j * 0x1p-31f;
  const int32_t i = (int32_t)(bits_of_float(u) - 0x3f2aaaabu);
  const int32_t k = i >> 23; /* arithmetic shift (gcc, clang) */
  const float m = float_of_bits(((uint32_t)i & 0x7fffffu) + 0x3f2aaaabu);
  const float f = m - 1.0f, s = f / (2.0f + f), w = s * s;
  const float R = w * fmaf(w, fmaf(w, fmaf(w, C9, C7), C5), C3);
  const float L = fmaf(s + s, R, s + s);
  const float kf = (float)k;
  const float lu = fmaf(kf, LN2H, fmaf(kf, LN2L, L));
  return sqrtf(-2.0f * lu);
}

/* rng.h's pair (z0, z1) from words a, b. */
static void ref_pair(uint32_t a, uint32_t b, float *z0, float *z1) {
  const float r = ref_radius(a);
  const int32_t t = (int32_t)((b << 2) | 2u);
  const float p = (float)t * PI33, v = p * p;
  const float S = v * fmaf(v, fmaf(v, fmaf(v, S9, S7), S5), S3);
  const float sn = fmaf(p, S, p);
  const float cs = fmaf(v, fmaf(v, fmaf(v, fmaf(v, fmaf(v, E10, E8), E6), E4), E2), 1.0f);
  float X, Y;
  switch (b >> 30) {
  case 0: X = cs, Y = sn; break;
  case 1: X = -sn, Y = cs; break;
  case 2: X = -cs, Y = -sn; break;
  default: X = sn, Y = -cs; break;
  }
  *z0 = r * X;
  *z1 = r * Y;
}

typedef struct {
  xo_gen g;
  float spare;
  int pending;
} ref_lane;

static ref_lane ref_lane_of(uint64_t seed, uint64_t stream, unsigned l) {
  ref_lane x = {ref_seed_gen(seed, stream, l), 0.0f, 0};
  return x;
}

static double ref_normal(ref_lane *x) {
  if (x->pending) {
    x->pending = 0;
    return (double)x->spare;
  }
  const uint32_t a = xo_next(&x->g), b = xo_next(&x->g);
  float z0;
  ref_pair(a, b, &z0, &x->spare);
  x->pending = 1;
  return (double)z0;
}

static double ref_gauss(ref_lane *x, double mu, double sigma) {
  return mu + sigma * ref_normal(x);
}

/* same_double, PAIRS: fast_ref.h */

/* Lane l of fast stream (seed, stream) from the library, and the reference's twin. */
static void lane_pair(uint64_t seed, uint64_t stream, unsigned l, latens_rng_lane *x,
                      ref_lane *y) {
  latens_rng_fast r;
  latens_rng_fast_init(&r, seed, stream);
  latens_rng_fast_lane(&r, l, x);
  *y = ref_lane_of(seed, stream, l);
}

/* ---------------------------------------------------------------- lanes of a stream */

START_TEST(lane_copies_its_generator) {
  /* Oracles: rng.h's seeding re-implemented (ref_seed_gen), the fast stream's own fields
   * s[l / 8][k][l % 8], and its words: after init, lane l's first word is main word l of block
   * 0; after 16 t words drawn, it is word 16 t + l (the generator in its current state).  The
   * stream is not advanced (r is const: checked by memcmp). */
  int bad = 0;
  for (size_t p = 0; p < NPAIRS; p++) {
    latens_rng_fast r, r0, w;
    latens_rng_fast_init(&r, PAIRS[p][0], PAIRS[p][1]);
    for (int t = 0; t < 3; t++) {
      w = r;
      uint32_t words[16];
      for (int q = 0; q < 16; q++) words[q] = latens_rng_fast_uint32(&w);
      for (unsigned l = 0; l < 16; l++) {
        latens_rng_lane x;
        memset(&x, 0xA5, sizeof x);
        r0 = r;
        bad += latens_rng_fast_lane(&r, l, &x) != LATENS_OK;
        bad += memcmp(&r0, &r, sizeof r) != 0;
        for (int k = 0; k < 4; k++) bad += x.s[k] != r.s[l / 8][k][l % 8];
        bad += x.pending != 0;
        if (t == 0) {
          xo_gen g = ref_seed_gen(PAIRS[p][0], PAIRS[p][1], l);
          bad += g.a != x.s[0] || g.b != x.s[1] || g.c != x.s[2] || g.d != x.s[3];
        }
        xo_gen g = {x.s[0], x.s[1], x.s[2], x.s[3]};
        bad += xo_next(&g) != words[l];
      }
      r = w; /* 16 more words drawn */
    }
  }
  ck_assert_msg(bad == 0, "%d lane fields or first words differ from rng.h", bad);
}
END_TEST

/* ---------------------------------------------------------------- one lane */

START_TEST(single_draws_follow_definition) {
  /* Oracle: ref_lane, bitwise, through latens_rng_lane_normal (both halves of each pair) and
   * latens_rng_lane_fill_normal with mu + sigma z in double, on lanes 0, 7, 8 and 15 of each
   * stream, the fills starting with and without a value pending. */
  enum { N = 2001 };
  static const unsigned lanes[4] = {0, 7, 8, 15};
  double x[N];
  int bad = 0;
  for (size_t p = 0; p < NPAIRS; p++)
    for (int li = 0; li < 4; li++) {
      latens_rng_lane a;
      ref_lane b;
      lane_pair(PAIRS[p][0], PAIRS[p][1], lanes[li], &a, &b);
      for (int i = 0; i < N; i++) bad += !same_double(latens_rng_lane_normal(&a), ref_normal(&b));
      const double mu = -1.25, sigma = 0.3; /* N odd: this fill starts on a pending value */
      bad += latens_rng_lane_fill_normal(&a, x, N, mu, sigma) != LATENS_OK;
      for (int i = 0; i < N; i++) bad += !same_double(x[i], ref_gauss(&b, mu, sigma));
      bad += latens_rng_lane_fill_normal(&a, x, N - 1, 3.0, 1e-3) != LATENS_OK;
      for (int i = 0; i < N - 1; i++) bad += !same_double(x[i], ref_gauss(&b, 3.0, 1e-3));
      for (int i = 0; i < 3; i++) bad += !same_double(latens_rng_lane_normal(&a), ref_normal(&b));
    }
  ck_assert_msg(bad == 0, "%d lane normals differ from rng.h", bad);
}
END_TEST

START_TEST(fills_split_anywhere) {
  /* Oracle: ref_lane.  For n1, n2 in 0..40: a single draw in half the cases (so either fill
   * may start on a pending value), a fill of n1, a single draw, a fill of n2 and three single
   * draws: the fills give the draws' values and leave the lane where the draws leave it
   * (pending state included); n >= 16 reaches the fill's blocks of eight pairs. */
  double x[40];
  int bad = 0;
  for (size_t n1 = 0; n1 <= 40; n1++)
    for (size_t n2 = 0; n2 <= 40; n2++) {
      latens_rng_lane a;
      ref_lane b;
      lane_pair(99, n1 * 41 + n2, (unsigned)(n1 + n2) % 16, &a, &b);
      if ((n1 ^ n2) & 2) bad += !same_double(latens_rng_lane_normal(&a), ref_normal(&b));
      bad += latens_rng_lane_fill_normal(&a, x, n1, 0.5, 2.0) != LATENS_OK;
      for (size_t i = 0; i < n1; i++) bad += !same_double(x[i], ref_gauss(&b, 0.5, 2.0));
      bad += !same_double(latens_rng_lane_normal(&a), ref_normal(&b));
      bad += latens_rng_lane_fill_normal(&a, x, n2, 0.5, 2.0) != LATENS_OK;
      for (size_t i = 0; i < n2; i++) bad += !same_double(x[i], ref_gauss(&b, 0.5, 2.0));
      for (int i = 0; i < 3; i++) bad += !same_double(latens_rng_lane_normal(&a), ref_normal(&b));
    }
  ck_assert_msg(bad == 0, "%d mismatches in split fills", bad);
}
END_TEST

/* ---------------------------------------------------------------- sixteen lanes */

#define SENTINEL UINT64_C(0x7ff8dead0000beef) /* a NaN no widened float can be (low bits set) */

/* fill16 through `kernel` (-1: the public function) on nl lanes of stream (5, t) handed in a
 * shuffled order, n values each, starting pending in the lanes where pend(l) holds (mode 0:
 * none, 1: all, 2: every third); the number of values, absent-lane entries left unwritten,
 * entries written past z[16 n - 1] and following draws that differ from the reference.  L has
 * exactly nl entries (heap), so valgrind sees a read past them; z has room for 16 (n + 1). */
static int fill16_mismatches(int kernel, size_t nl, size_t n, int mode, uint64_t t, double *z) {
  latens_rng_lane a[16], **L = malloc(nl * sizeof *L);
  ref_lane b[16];
  int bad = 0;
  for (size_t l = 0; l < nl; l++) {
    const unsigned src = (unsigned)((l * 7 + t) % 16); /* lane of the stream behind L[l] */
    lane_pair(5, t, src, &a[l], &b[l]);
    L[l] = &a[l];
    if (mode == 1 || (mode == 2 && l % 3 == 0))
      bad += !same_double(latens_rng_lane_normal(&a[l]), ref_normal(&b[l]));
  }
  for (size_t i = 0; i < 16 * (n + 1); i++) memcpy(&z[i], &(uint64_t){SENTINEL}, sizeof *z);
  int st = kernel < 0 ? latens_rng_lane_fill16(L, nl, z, n)
                      : latens_rng_lane_fill16_kernel(L, nl, z, n, kernel);
  bad += st != LATENS_OK;
  for (size_t i = 0; i < n; i++)
    for (size_t l = 0; l < 16; l++) {
      if (l < nl) bad += !same_double(z[16 * i + l], ref_normal(&b[l]));
      else bad += memcmp(&z[16 * i + l], &(uint64_t){SENTINEL}, sizeof *z) == 0;
    }
  for (size_t l = 0; l < 16; l++)
    bad += memcmp(&z[16 * n + l], &(uint64_t){SENTINEL}, sizeof *z) != 0;
  for (size_t l = 0; l < nl; l++)
    for (int i = 0; i < 3; i++)
      bad += !same_double(latens_rng_lane_normal(&a[l]), ref_normal(&b[l]));
  free(L);
  return bad;
}

/* Every case of fill16_mismatches for one kernel. */
static int fill16_all(int kernel, double *z) {
  static const size_t nls[] = {16, 15, 5, 1}, ns[] = {0, 1, 2, 3, 8, 33, 100, 1001};
  int bad = 0;
  uint64_t t = 0;
  for (size_t a = 0; a < sizeof nls / sizeof *nls; a++)
    for (size_t c = 0; c < sizeof ns / sizeof *ns; c++)
      for (int mode = 0; mode < 3; mode++)
        bad += fill16_mismatches(kernel, nls[a], ns[c], mode, t++, z);
  return bad;
}

START_TEST(fill16_follows_definition) {
  /* Oracle: ref_lane, bitwise: z[16 i + l] is lane L[l]'s normal i for l < nl and the lanes are
   * then where n single draws leave them; the entries of absent lanes are written (no longer the
   * sentinel NaN, which a widened float cannot be).  nl = 16, 15, 5, 1; n even, odd and
   * crossing any internal batch; all lanes fresh, all pending, and mixed (the per-lane path).
   * The public function, the scalar kernel (0), the scalar one without FMA instructions (2,
   * libm's fmaf) and the AVX2 + FMA one (1) where this CPU and build have it: they then agree
   * with each other through the reference. */
  double *z = malloc(16 * 1002 * sizeof *z);
  ck_assert_int_eq(fill16_all(-1, z), 0);
  ck_assert_int_eq(fill16_all(0, z), 0);
  ck_assert_int_eq(fill16_all(2, z), 0); /* no FMA instruction: the path of CPUs without FMA */
  latens_rng_lane a;
  latens_rng_lane *L[1] = {&a};
  ref_lane b;
  lane_pair(1, 0, 0, &a, &b);
  int avx2 = latens_rng_lane_fill16_kernel(L, 1, z, 1, 1);
  ck_assert(avx2 == LATENS_OK || avx2 == LATENS_EUNIMPL);
  if (avx2 == LATENS_OK) ck_assert_int_eq(fill16_all(1, z), 0);
  else fprintf(stderr, "rng_lane: AVX2 kernel absent here (LATENS_EUNIMPL), kernel 1 skipped\n");
  free(z);
}
END_TEST

START_TEST(fill16_long_run) {
  /* Oracle: ref_lane, bitwise, on 2^24 values (2^23 pairs) of fill16 over the sixteen lanes of
   * stream (7, 3), in chunks of 4096 per lane: a constant that is off in a low bit changes only
   * a few pairs in a million (an LN2L wrong in its 5th hex digit: 25 of 2^24 radii), which the
   * shorter runs above would miss. */
  if (test_under_valgrind()) return;
  enum { CHUNK = 4096, NCHUNK = 256 };
  double *z = malloc(16 * CHUNK * sizeof *z);
  latens_rng_fast r;
  latens_rng_lane a[16], *L[16];
  ref_lane b[16];
  latens_rng_fast_init(&r, 7, 3);
  for (unsigned l = 0; l < 16; l++) {
    latens_rng_fast_lane(&r, l, &a[l]), L[l] = &a[l];
    b[l] = ref_lane_of(7, 3, l);
  }
  long bad = 0;
  for (int c = 0; c < NCHUNK; c++) {
    bad += latens_rng_lane_fill16(L, 16, z, CHUNK) != LATENS_OK;
    for (size_t i = 0; i < 16 * (size_t)CHUNK; i++)
      bad += !same_double(z[i], ref_normal(&b[i % 16]));
  }
  ck_assert_msg(bad == 0, "%ld of 2^24 values differ from rng.h", bad);
  free(z);
}
END_TEST

/* ---------------------------------------------------------------- the transform */

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

typedef struct {
  double max_err, at_r;  /* largest |z - exact| / max(1, r) and the exact r there */
  uint32_t at_a, at_b;
  long nonfinite;
  double max_abs;        /* largest |z| */
} acc_state;

/* ref_pair on (a, b) against the exact transform of its grid point: u = float(j) 2^-31,
 * theta = q pi/2 + float(t) PI33, in double with libm (errors ~1e-16, far below the claim). */
static void acc_check(acc_state *s, uint32_t a, uint32_t b) {
  float z0, z1;
  ref_pair(a, b, &z0, &z1);
  const double u = (double)(float)((a >> 1) | 1u) * 0x1p-31;
  const double r = sqrt(-2.0 * log(u));
  const double p = (double)(float)(int32_t)((b << 2) | 2u) * (double)PI33; /* exact */
  const double th = (double)(b >> 30) * M_PI_2 + p;
  const double e0 = fabs((double)z0 - r * cos(th)), e1 = fabs((double)z1 - r * sin(th));
  const double e = fmax(e0, e1) / fmax(1.0, r);
  s->nonfinite += !isfinite(z0) || !isfinite(z1);
  if (e > s->max_err) s->max_err = e, s->at_r = r, s->at_a = a, s->at_b = b;
  s->max_abs = fmax(s->max_abs, fmax(fabs((double)z0), fabs((double)z1)));
}

START_TEST(transform_accuracy) {
  /* Oracle: the exact Box-Muller transform of the same grid point (rng.h bounds the error by
   * 2.5e-7 max(1, r) from a count of the roundings; this asserts the tighter 2e-7, with the
   * worst case found well inside it), on 2^24 random word
   * pairs plus the edges: every a < 8192 (j = 1 .. 4095; j = 1, a = 0..3: the largest radius)
   * and the top 8192 words (j >= 2^31 - 64: u rounds to 1, r = 0, no NaN), a around each
   * power of two of u and each 2/3 2^-k (where k and m of the reduction step jump), each
   * against b at the quarter-turn boundaries (p = +-pi/4: low 30 bits 0x1fffffff, 0x20000000
   * and neighbours) and at p = 0, for every q; and b swept across those in b's order.
   * |z| <= 6.56 throughout.  Measured (LATENS_LANE_VERBOSE=1
   * prints it): largest error 1.74e-7 max(1, r), at r = 1.016 (a 98bbf390, b 8622617e); the
   * largest |z| 6.55554, at j = 1.  Under valgrind only 2^12 random pairs (and the edges). */
  acc_state s = {0, 0, 0, 0, 0, 0};
  const long nrand = test_under_valgrind() ? 1L << 12 : 1L << 24;
  uint64_t sm = 20261129;
  for (long i = 0; i < nrand; i++) {
    uint64_t w = splitmix64(&sm);
    acc_check(&s, (uint32_t)w, (uint32_t)(w >> 32));
  }
  /* b at and beside the quarter-turn boundaries and at p = 0, for every q */
  static const uint32_t low[] = {0x1fffffffu, 0x1ffffffeu, 0x20000000u, 0x20000001u,
                                 0x0u,        0x3fffffffu, 0x10000000u, 0x2fffffffu};
  uint32_t bs[32];
  for (uint32_t q = 0; q < 4; q++)
    for (int k = 0; k < 8; k++) bs[8 * q + k] = q << 30 | low[k];
  /* a at the edges: a < 8192, the top 8192 words, and around powers of two and 2/3 of u */
  for (uint32_t a = 0; a < 8192; a++)
    for (int k = 0; k < 32; k++) acc_check(&s, a, bs[k]), acc_check(&s, ~a, bs[k]);
  for (int e = 1; e <= 31; e++) {
    const uint32_t j0 = 1u << (e - 1), j23 = (uint32_t)llround(ldexp(2.0 / 3.0, e));
    for (int d = -64; d <= 64; d++) { /* u near 2^(e - 32) and near 2/3 2^(e - 31) */
      const uint32_t js[2] = {j0 + (uint32_t)d, j23 + (uint32_t)d};
      for (int c = 0; c < 2; c++) {
        const uint32_t j = js[c] & 0x7fffffffu;
        for (int k = 0; k < 32; k += 3) acc_check(&s, j << 1, bs[k]);
      }
    }
  }
  /* b swept across each boundary (p = +-pi/4 and 0) with a mid-range radius */
  for (uint32_t q = 0; q < 4; q++)
    for (uint32_t d = 0; d < 4096; d++) {
      acc_check(&s, 0x9e3779b9u, (q << 30 | 0x20000000u) + d - 2048);
      acc_check(&s, 0x9e3779b9u, (q << 30) + d - 2048);
    }
  if (getenv("LATENS_LANE_VERBOSE"))
    fprintf(stderr, "rng_lane: max |z - exact| / max(1, r) = %.3g at r = %.6g (a %08x, b %08x); "
            "max |z| = %.6g\n", s.max_err, s.at_r, s.at_a, s.at_b, s.max_abs);
  ck_assert_int_eq(s.nonfinite, 0);
  ck_assert_msg(s.max_err <= 2e-7, "max |z - exact| / max(1, r) = %g at a %08x, b %08x",
                s.max_err, s.at_a, s.at_b);
  ck_assert_msg(s.max_abs <= 6.56 && s.max_abs > 6.55, "max |z| %.9g", s.max_abs);
  /* the two extreme radii exactly as rng.h states them */
  ck_assert(fabs((double)ref_radius(2) - sqrt(62 * M_LN2)) <= 2e-7 * sqrt(62 * M_LN2));
  ck_assert(ref_radius(UINT32_MAX) == 0.0f);
}
END_TEST

/* ---------------------------------------------------------------- distribution */

/* Sample correlation of x[i s] and y[i s], i < n. */
static double corr(const double *x, const double *y, size_t n, size_t s) {
  long double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; i++) mx += x[i * s], my += y[i * s];
  mx /= n, my /= n;
  for (size_t i = 0; i < n; i++) {
    long double dx = x[i * s] - mx, dy = y[i * s] - my;
    sxy += dx * dy, sxx += dx * dx, syy += dy * dy;
  }
  return (double)(sxy / sqrtl(sxx * syy));
}

enum { DIST_N = 65536, NSCORE = 10 }; /* normals per lane (2^20 values in all) */
static const char *const SCORE_NAME[NSCORE] = {
    "mean", "variance", "skewness", "excess kurtosis", "|z| > 3", "|z| > 4",
    "z0 vs z1 of a pair", "z0 of consecutive pairs", "z1 vs next z0", "lane l vs l + 1"};

/* z-scores (statistic / its standard error under N(0, 1) draws) of the ten statistics above,
 * the chi-square on 100 bins equiprobable under Phi, and max |z|, for fill16 on the sixteen
 * lanes of fast stream (seed, 0); z holds 16 DIST_N values. */
static void dist_scores(uint64_t seed, double *z, double score[NSCORE], double *chi,
                        double *zmax) {
  const size_t N = 16 * (size_t)DIST_N, NP = DIST_N / 2, NB = 100;
  latens_rng_fast r;
  latens_rng_lane a[16], *L[16];
  latens_rng_fast_init(&r, seed, 0);
  for (unsigned l = 0; l < 16; l++) latens_rng_fast_lane(&r, l, &a[l]), L[l] = &a[l];
  latens_rng_lane_fill16(L, 16, z, DIST_N);
  long double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
  double t3 = 0, t4 = 0, mx = 0;
  size_t cnt[100] = {0};
  for (size_t i = 0; i < N; i++) {
    s1 += z[i];
    t3 += fabs(z[i]) > 3, t4 += fabs(z[i]) > 4, mx = fmax(mx, fabs(z[i]));
    size_t bin = (size_t)(gsl_cdf_ugaussian_P(z[i]) * NB);
    cnt[bin < NB ? bin : NB - 1]++;
  }
  long double m = s1 / N;
  for (size_t i = 0; i < N; i++) {
    long double d = z[i] - m, d2 = d * d;
    s2 += d2, s3 += d2 * d, s4 += d2 * d2;
  }
  double var = (double)(s2 / (N - 1)), skew = (double)(s3 / N / powl(s2 / N, 1.5L));
  double kurt = (double)(s4 / N / (s2 / N * s2 / N)) - 3.0;
  score[0] = (double)m * sqrt((double)N);
  score[1] = (var - 1) / sqrt(2.0 / N);
  score[2] = skew / sqrt(6.0 / N);
  score[3] = kurt / sqrt(24.0 / N);
  const double obs[2] = {t3, t4};
  for (int k = 0; k < 2; k++) { /* Binomial(N, 2 (1 - Phi(t))) */
    double p = 2 * gsl_cdf_ugaussian_Q(3.0 + k);
    score[4 + k] = (obs[k] - N * p) / sqrt(N * p * (1 - p));
  }
  /* pairs: lane l's normals 2 i and 2 i + 1 (every lane started with nothing pending) */
  double c_pair = 0, c_next = 0, c_z1z0 = 0, c_lane = 0;
  for (size_t l = 0; l < 16; l++) {
    c_pair += corr(z + l, z + 16 + l, NP, 32);
    c_next += corr(z + l, z + 32 + l, NP - 1, 32);
    c_z1z0 += corr(z + 16 + l, z + 32 + l, NP - 1, 32);
    if (l < 15) c_lane += corr(z + l, z + l + 1, DIST_N, 16);
  }
  /* the mean of 16 (15) independent correlations, each with sd 1/sqrt(count) */
  score[6] = c_pair / 16 * sqrt(16.0 * NP);
  score[7] = c_next / 16 * sqrt(16.0 * (NP - 1));
  score[8] = c_z1z0 / 16 * sqrt(16.0 * (NP - 1));
  score[9] = c_lane / 15 * sqrt(15.0 * DIST_N);
  double e = (double)N / NB, x2 = 0;
  for (size_t b = 0; b < NB; b++) x2 += ((double)cnt[b] - e) * ((double)cnt[b] - e) / e;
  *chi = x2, *zmax = mx;
}

START_TEST(lane_distribution) {
  /* Oracles (closed forms) on 2^20 normals from fill16 over the sixteen lanes of fast stream
   * (20261129, 0): the sampling sds of the mean (1/sqrt n), variance (sqrt(2/n)), skewness
   * (sqrt(6/n)) and excess kurtosis (sqrt(24/n)), 5 of each; the counts beyond |z| = 3 and 4
   * against Binomial(n, 2 (1 - Phi(t))), 5 sds; the correlations of z0 and z1 of a pair, of z0
   * of consecutive pairs, of z1 with the next pair's z0 and of lane l with lane l + 1 at the
   * same index, each averaged over the lanes, ~N(0, 1/count), 5 sds; Pearson's chi-square on
   * 100 bins equiprobable under Phi (gsl_cdf_ugaussian_P) below its 1e-6 critical value on 99
   * df (180.8); max |z| <= 6.56 (rng.h).  Measured over 50 seeds (1000003 k + 17, k < 50,
   * dist_scores on the library): the largest |z-score| of every statistic was 3.07 (excess
   * kurtosis; variance 2.82, z1 vs the next z0 2.82, |z| > 4 2.77, |z| > 3 2.64, consecutive
   * z0 2.56, skewness 2.49, mean 2.10, across lanes 2.01, within a pair 1.96), the largest
   * chi-square 130.2, the largest |z| 5.63.  This seed: all |z-scores| below 1.8, chi-square
   * 106.4. */
  if (test_under_valgrind()) return;
  double *z = malloc(16 * (size_t)DIST_N * sizeof *z), score[NSCORE], chi, zmax;
  dist_scores(20261129, z, score, &chi, &zmax);
  for (int k = 0; k < NSCORE; k++)
    ck_assert_msg(fabs(score[k]) < 5, "%s: %g standard errors", SCORE_NAME[k], score[k]);
  const double crit = gsl_cdf_chisq_Qinv(1e-6, 99);
  ck_assert_msg(chi < crit, "chi-square %g on 99 df (1e-6 critical value %g)", chi, crit);
  ck_assert_msg(zmax <= 6.56, "max |z| %g", zmax);
  free(z);
}
END_TEST

/* ---------------------------------------------------------------- bad input */

START_TEST(lane_rejects_bad_input) {
  /* rng.h: latens_rng_fast_lane: NULL pointer or l > 15 is LATENS_EINVAL; the lane fill has
   * latens_rng_fill_normal's checks (NULL lane, or NULL x with n > 0: LATENS_EINVAL; NaN or Inf
   * mu or sigma: LATENS_ENOTFINITE; sigma < 0: LATENS_EDOM); fill16: NULL L or z, a NULL entry
   * in L[0..nl-1], nl > 16: LATENS_EINVAL.  Each status is also the thread's last error, and
   * nothing is written: not the lane (memcmp), not the output (sentinel), and the next draws
   * are the reference's. */
  latens_rng_fast r;
  latens_rng_lane x, y, keep;
  ref_lane ref;
  double out[32];
  const uint64_t sent = SENTINEL;
  latens_rng_fast_init(&r, 3, 4);
  lane_pair(3, 4, 2, &x, &ref);
  /* a value pending: a failed call that drew or cleared it would show in the draws after */
  ck_assert(same_double(latens_rng_lane_normal(&x), ref_normal(&ref)));
  memset(&y, 0x5a, sizeof y);
  keep = y;
  latens_clear_error();
  ck_assert_int_eq(latens_rng_fast_lane(NULL, 0, &y), LATENS_EINVAL);
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_fast_lane(&r, 16, &y), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_fast_lane(&r, UINT32_MAX, &y), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_fast_lane(&r, 0, NULL), LATENS_EINVAL);
  ck_assert(memcmp(&y, &keep, sizeof y) == 0);
  int bad = 0;
  for (int i = 0; i < 32; i++) memcpy(&out[i], &sent, sizeof sent);
  keep = x;
  latens_clear_error();
  bad += latens_rng_lane_fill_normal(NULL, out, 2, 0.0, 1.0) != LATENS_EINVAL;
  bad += latens_last_error(NULL) != LATENS_EINVAL;
  bad += latens_rng_lane_fill_normal(&x, NULL, 2, 0.0, 1.0) != LATENS_EINVAL;
  const double bad_mu[] = {NAN, INFINITY, -INFINITY}, bad_sigma[] = {NAN, INFINITY, -1.0};
  const int sigma_status[] = {LATENS_ENOTFINITE, LATENS_ENOTFINITE, LATENS_EDOM};
  for (int k = 0; k < 3; k++) {
    latens_clear_error();
    bad += latens_rng_lane_fill_normal(&x, out, 2, bad_mu[k], 1.0) != LATENS_ENOTFINITE;
    bad += latens_last_error(NULL) != LATENS_ENOTFINITE;
    bad += latens_rng_lane_fill_normal(&x, out, 2, 0.0, bad_sigma[k]) != sigma_status[k];
    bad += latens_last_error(NULL) != sigma_status[k];
  }
  bad += latens_rng_lane_fill_normal(&x, NULL, 0, 0.0, 1.0) != LATENS_OK; /* n = 0: no-op */
  ck_assert_msg(bad == 0, "%d wrong statuses from latens_rng_lane_fill_normal", bad);
  /* fill16 */
  latens_rng_lane *L[17] = {&x, &x, &x};
  latens_rng_lane *Lnull[3] = {&x, NULL, &x};
  latens_clear_error();
  ck_assert_int_eq(latens_rng_lane_fill16(NULL, 1, out, 2), LATENS_EINVAL);
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_lane_fill16(L, 1, NULL, 2), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_lane_fill16(Lnull, 3, out, 2), LATENS_EINVAL);
  for (int l = 0; l < 17; l++) L[l] = &x;
  ck_assert_int_eq(latens_rng_lane_fill16(L, 17, out, 1), LATENS_EINVAL);
  for (int k = 0; k < 2; k++) { /* the hook has the same checks; kernel 1 may be absent */
    latens_clear_error();
    const int ok = k == 0 || latens_rng_lane_fill16_kernel(L, 1, out, 0, 1) == LATENS_OK;
    ck_assert_int_eq(latens_rng_lane_fill16_kernel(Lnull, 3, out, 2, k),
                     ok ? LATENS_EINVAL : LATENS_EUNIMPL);
    ck_assert_int_eq(latens_rng_lane_fill16_kernel(L, 17, out, 1, k),
                     ok ? LATENS_EINVAL : LATENS_EUNIMPL);
  }
  ck_assert_int_eq(latens_rng_lane_fill16_kernel(L, 1, out, 1, 3), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_lane_fill16_kernel(L, 1, out, 1, -1), LATENS_EINVAL);
  latens_clear_error();
  ck_assert(memcmp(&x, &keep, sizeof x) == 0);
  int written = 0;
  for (int i = 0; i < 32; i++) written += memcmp(&out[i], &sent, sizeof sent) != 0;
  ck_assert_int_eq(written, 0);
  for (int i = 0; i < 5; i++) bad += !same_double(latens_rng_lane_normal(&x), ref_normal(&ref));
  ck_assert_int_eq(bad, 0);
  /* sigma = 0 gives mu exactly, -0 is a valid sigma */
  ck_assert_int_eq(latens_rng_lane_fill_normal(&x, out, 3, 2.5, 0.0), LATENS_OK);
  ck_assert(out[0] == 2.5 && out[1] == 2.5 && out[2] == 2.5);
  ck_assert_int_eq(latens_rng_lane_fill_normal(&x, out, 1, 0.0, -0.0), LATENS_OK);
  ck_assert_int_eq(latens_last_error(NULL), LATENS_OK);
}
END_TEST

Suite *rng_lane_suite(void) {
  Suite *s = suite_create("rng_lane");
  TCase *tc = tcase_create("rng_lane");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, lane_copies_its_generator);
  tcase_add_test(tc, single_draws_follow_definition);
  tcase_add_test(tc, fills_split_anywhere);
  tcase_add_test(tc, fill16_follows_definition);
  tcase_add_test(tc, fill16_long_run);
  tcase_add_test(tc, transform_accuracy);
  tcase_add_test(tc, lane_distribution);
  tcase_add_test(tc, lane_rejects_bad_input);
  suite_add_tcase(s, tc);
  return s;
}
