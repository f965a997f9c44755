/* tests/core/test_rng_fast.c: latens_rng_fast, the xoshiro128++ stream for bulk normals.
 *
 * The oracle of the bitwise tests is ref_stream below: an independent, deliberately plain
 * re-implementation of the definition in include/latens/rng.h ("fast streams"), written from
 * that text and Blackman & Vigna's published xoshiro128++, one generator at a time with no
 * banks, lanes or vectors.  It shares only the Philox seed stream (latens_rng, tested in
 * test_rng.c against the Random123 vectors) and the ziggurat tables (rng_ziggurat.h, whose
 * defining equations test_rng.c checks) with the library.  xoshiro128++ itself is pinned by
 * the reference implementation's published outputs.  Rare cases (an attempt at a layer's
 * edge, 2^-23 per attempt at random; a wedge uniform next to the layer's chord) are planted
 * through the struct's documented fields (buf, used, s, aux) in both streams alike.
 *
 * Statistical thresholds: fixed seeds, so each test is deterministic; 5 standard errors
 * (two-sided probability 6e-7 per statistic on a fresh seed) and chi-square critical values at
 * 1e-6, chosen before running.  The spread over seeds was measured with the reference stream
 * (50 seeds: see the comments at each check). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <latens/latens.h>
#include "suites.h"
#include "fast_ref.h"
#include "../../src/core/rng_ziggurat.h"
#include "../../src/core/rng_impl.h" /* latens_rng_fast_fill_normal_kernel */

/* ---------------------------------------------------------------- the reference stream */

/* xo_gen, xo_next: fast_ref.h */

/* The fast stream word by word: main generator (h, l) is gen[8 h + l], which is also the
 * position of its output in each 16-word main block; aux is the seventeenth generator, whose
 * outputs are the aux words in order. */
typedef struct {
  xo_gen gen[16], aux;
  uint32_t block[16];
  int used;            /* main words of block consumed (16: refill first) */
  long tails, wedges;  /* normal attempts that reached the tail sampler / the wedge test */
} ref_stream;

static void ref_seed(xo_gen *g, const uint32_t *v, int stride) {
  g->a = v[0], g->b = v[stride], g->c = v[2 * stride], g->d = v[3 * stride];
  if (!(g->a | g->b | g->c | g->d)) g->a = 1;
}

static void ref_init(ref_stream *f, uint64_t seed, uint64_t stream) {
  latens_rng p;
  uint32_t v[68];
  latens_rng_init(&p, seed ^ UINT64_C(0x9E3779B97F4A7C15), stream);
  for (int i = 0; i < 68; i++) v[i] = latens_rng_uint32(&p);
  /* s[h][k][l] = v[32 h + 8 k + l]: word k of generator (h, l) is 8 apart from word k + 1 */
  for (int h = 0; h < 2; h++)
    for (int l = 0; l < 8; l++) ref_seed(&f->gen[8 * h + l], v + 32 * h + l, 8);
  ref_seed(&f->aux, v + 64, 1); /* aux[k] = v[64 + k] */
  f->used = 16;
  f->tails = f->wedges = 0;
}

static uint32_t ref_word(ref_stream *f) {
  if (f->used == 16) {
    for (int q = 0; q < 16; q++) f->block[q] = xo_next(&f->gen[q]);
    f->used = 0;
  }
  return f->block[f->used++];
}

static uint32_t ref_aux_word(ref_stream *f) { return xo_next(&f->aux); }

/* Two words, the first one low: k = top 53 bits of w0 + 2^32 w1, k 2^-53 (k = 0: 2^-54). */
static double ref_u01(uint64_t w0, uint64_t w1) {
  uint64_t k = (w0 | w1 << 32) >> 11;
  return k ? (double)k * 0x1p-53 : 0x1p-54;
}

static double ref_uniform(ref_stream *f) { /* latens_rng_fast_uniform: two main words */
  uint32_t w0 = ref_word(f);
  uint32_t w1 = ref_word(f);
  return ref_u01(w0, w1);
}

static double ref_aux_uniform(ref_stream *f) { /* the slow path's: two aux words */
  uint32_t w0 = ref_aux_word(f);
  uint32_t w1 = ref_aux_word(f);
  return ref_u01(w0, w1);
}

/* The 23-bit ziggurat of rng.h, on the 53-bit tables:
 *  - an attempt is accepted at once when j 2^30 < floor(2^53 X[i+1]/X[i]) = ZIG_K[i]
 *    (ref_inside: the one place that reads the rule);
 *  - ZIG_W[i] 2^30 is X[i] 2^-23 rounded to double, because scaling by a power of two is
 *    exact in the normal range (ZIG_W is near 1e-16, far from under- or overflow), and
 *    j < 2^23 is exact in a double, so j * (ZIG_W[i] 2^30) is j X[i] 2^-23 rounded once.
 * Normal n starts from main word n; the tail's and the wedge's uniforms and the attempts
 * after a rejected wedge take aux words. */
static int ref_inside(unsigned i, uint32_t j) { return ((uint64_t)j << 30) < ZIG_K[i]; }

static double ref_normal(ref_stream *f) {
  uint32_t w = ref_word(f);
  for (;;) {
    unsigned i = w & 255, neg = (w >> 8) & 1, j = w >> 9;
    double x = (double)j * (ZIG_W[i] * 0x1p30);
    if (ref_inside(i, j)) return neg ? -x : x;
    if (i == 0) { /* Marsaglia (1964): the tail beyond r */
      f->tails++;
      for (;;) {
        double t = -log(ref_aux_uniform(f)) / ZIG_R;
        double y = -log(ref_aux_uniform(f));
        if (2 * y > t * t) return neg ? -(ZIG_R + t) : ZIG_R + t;
      }
    }
    f->wedges++;
    double u = ref_aux_uniform(f);
    if (ZIG_F[i] + u * (ZIG_F[i + 1] - ZIG_F[i]) < exp(-x * x / 2)) return neg ? -x : x;
    w = ref_aux_word(f);
  }
}

/* What a fill gives: mu + sigma z, so mu = 0, sigma = 1 turns a -0 draw (j = 0 with the
 * sign bit, probability 2^-24) into +0. */
static double ref_gauss(ref_stream *f, double mu, double sigma) {
  return mu + sigma * ref_normal(f);
}

/* same_double, PAIRS: fast_ref.h */

/* ---------------------------------------------------------------- words */

START_TEST(xoshiro_known_answers) {
  /* By hand from the definition, state (a, b, c, d) = (1, 2, 3, 4):
   *   out1 = rotl(1 + 4, 7) + 1 = 641; step: t = 2 << 9 = 1024, c = 3^1 = 2, d = 4^2 = 6,
   *   b = 2^2 = 0, a = 1^6 = 7, c = 2^1024 = 1026, d = rotl(6, 11) = 12288;
   *   out2 = rotl(7 + 12288, 7) + 7 = 1573767; step: t = 0, c = 1026^7 = 1029, d = 12288,
   *   b = 1029, a = 7^12288 = 12295, c = 1029, d = rotl(12288, 11) = 25165824;
   *   out3 = rotl(12295 + 25165824, 7) + 12295 = 3222811527.
   * The ten values are those rand_xoshiro's test `reference` (rust-random/rngs,
   * rand_xoshiro/src/xoshiro128plusplus.rs) records from the reference xoshiro128plusplus.c;
   * PHP's test ext/random/tests/02_engine/user_xoshiro128plusplus.phpt gives output 102401
   * from the same state as the little-endian bytes fa3c872c. */
  static const uint32_t expect[10] = {641u,        1573767u,    3222811527u, 3517856514u,
                                      836907274u,  4247214768u, 3867114732u, 1355841295u,
                                      495546011u,  621204420u};
  xo_gen g = {1, 2, 3, 4};
  for (int i = 0; i < 10; i++) ck_assert_uint_eq(xo_next(&g), expect[i]);
  for (int i = 10; i < 102400; i++) xo_next(&g);
  ck_assert_uint_eq(xo_next(&g), 0x2c873cfau);
}
END_TEST

START_TEST(words_follow_definition) {
  /* Oracle: ref_stream.  5003 words per pair cross 312 blocks; the uniforms are taken at every
   * word offset, so some straddle two blocks. */
  enum { NW = 5003 };
  int bad = 0;
  for (size_t p = 0; p < NPAIRS; p++) {
    latens_rng_fast r;
    ref_stream f;
    ck_assert_int_eq(latens_rng_fast_init(&r, PAIRS[p][0], PAIRS[p][1]), LATENS_OK);
    ref_init(&f, PAIRS[p][0], PAIRS[p][1]);
    for (int i = 0; i < NW; i++) bad += latens_rng_fast_uint32(&r) != ref_word(&f);
    for (int i = 0; i < 40; i++) {
      bad += !same_double(latens_rng_fast_uniform(&r), ref_uniform(&f));
      if (i % 3 == 0) bad += latens_rng_fast_uint32(&r) != ref_word(&f);
    }
    ck_assert_msg(bad == 0, "pair %zu: %d words or uniforms differ from the definition", p, bad);
  }
  /* rng.h: normal n starts from main word n, whatever path the earlier normals took, so after
   * 1000 normals the next word is main word 1000 (oracle: a twin stream drawn by words). */
  latens_rng_fast r, twin;
  latens_rng_fast_init(&r, 31, 4);
  twin = r;
  for (int i = 0; i < 1000; i++) latens_rng_fast_normal(&r), latens_rng_fast_uint32(&twin);
  ck_assert_uint_eq(latens_rng_fast_uint32(&r), latens_rng_fast_uint32(&twin));
  /* Different streams and seeds start differently (a seeding that ignored either would not). */
  latens_rng_fast a, b, c;
  latens_rng_fast_init(&a, 5, 0), latens_rng_fast_init(&b, 5, 1), latens_rng_fast_init(&c, 6, 0);
  int same_ab = 0, same_ac = 0;
  for (int i = 0; i < 64; i++) {
    uint32_t wa = latens_rng_fast_uint32(&a);
    same_ab += wa == latens_rng_fast_uint32(&b), same_ac += wa == latens_rng_fast_uint32(&c);
  }
  ck_assert(same_ab < 3 && same_ac < 3);
  ck_assert_int_eq(latens_rng_fast_init(NULL, 1, 2), LATENS_EINVAL);
}
END_TEST

/* ---------------------------------------------------------------- normals */

START_TEST(normals_follow_definition) {
  /* Oracle: ref_normal, bitwise, through latens_rng_fast_normal, latens_rng_fast_fill_normal
   * (mu = 0, sigma = 1, and mu + sigma z with the same rounding), and a random mix of every
   * kind of draw.  The ~300000 normals per stream reach the tail sampler ~75 times and the
   * wedge test ~4400 times (measured over the seven streams: 528 and 31084); lower bounds on
   * both are asserted, so the slow paths are really compared. */
  enum { N = 200000 };
  double *x = malloc(N * sizeof *x);
  long tails = 0, wedges = 0;
  for (size_t p = 0; p < NPAIRS; p++) {
    latens_rng_fast r;
    ref_stream f;
    latens_rng_fast_init(&r, PAIRS[p][0], PAIRS[p][1]);
    ref_init(&f, PAIRS[p][0], PAIRS[p][1]);
    int bad = 0;
    for (int i = 0; i < N / 4; i++) bad += !same_double(latens_rng_fast_normal(&r), ref_normal(&f));
    ck_assert_msg(bad == 0, "pair %zu: %d single normals differ", p, bad);
    ck_assert_int_eq(latens_rng_fast_fill_normal(&r, x, N, 0.0, 1.0), LATENS_OK);
    for (int i = 0; i < N; i++) bad += !same_double(x[i], ref_gauss(&f, 0.0, 1.0));
    ck_assert_msg(bad == 0, "pair %zu: %d filled normals differ", p, bad);
    const double mu = -1.25, sigma = 0.3;
    ck_assert_int_eq(latens_rng_fast_fill_normal(&r, x, N / 4, mu, sigma), LATENS_OK);
    for (int i = 0; i < N / 4; i++) bad += !same_double(x[i], ref_gauss(&f, mu, sigma));
    ck_assert_msg(bad == 0, "pair %zu: %d normals mu + sigma z differ", p, bad);
    /* a mix: uint32, uniform, normal and short fills in a splitmix-chosen order */
    uint64_t sm = p;
    for (int i = 0; i < 3000; i++) {
      double c = test_unif(&sm);
      if (c < -0.5) bad += latens_rng_fast_uint32(&r) != ref_word(&f);
      else if (c < 0) bad += !same_double(latens_rng_fast_uniform(&r), ref_uniform(&f));
      else if (c < 0.5) bad += !same_double(latens_rng_fast_normal(&r), ref_normal(&f));
      else {
        size_t n = (size_t)(20 * (c - 0.5));
        latens_rng_fast_fill_normal(&r, x, n, 2.0, 0.5);
        for (size_t k = 0; k < n; k++) bad += !same_double(x[k], ref_gauss(&f, 2.0, 0.5));
      }
    }
    ck_assert_msg(bad == 0, "pair %zu: %d draws of the mix differ", p, bad);
    tails += f.tails, wedges += f.wedges;
  }
  ck_assert_msg(tails > 100 && wedges > 10000, "tail %ld, wedge %ld attempts", tails, wedges);
  free(x);
}
END_TEST

START_TEST(tables_23bit) {
  /* Oracle: the identities rng_ziggurat.h states for the 23-bit tables, on every entry:
   * ZIG_W23 = ZIG_W 2^30 (both halves, so the sign too), and j < ZIG_K23[i] exactly when
   * j 2^30 < ZIG_K[i] (rng.h's fast test, ref_inside; checked at j = ZIG_K23[i] - 1 and
   * ZIG_K23[i], which settles every j since both sides are monotone in j). */
  int bad_w = 0, bad_k = 0, first_k = -1;
  for (int i = 0; i < 512; i++) bad_w += !same_double(ZIG_W23[i], ZIG_W[i] * 0x1p30);
  for (unsigned i = 0; i < 256; i++) {
    const uint32_t k = ZIG_K23[i];
    int ok = k < 1u << 23 && !ref_inside(i, k) && (k == 0 || ref_inside(i, k - 1));
    if (!ok && !bad_k++) first_k = (int)i;
  }
  ck_assert_int_eq(bad_w, 0);
  ck_assert_msg(bad_k == 0, "%d of 256 ZIG_K23 entries are not the fast test's bound; layer %d",
                bad_k, first_k);
}
END_TEST

/* Stream (3, 9) with w as the last main word of its current block (the documented fields buf
 * and used of latens_rng_fast; the reference's block likewise), so the next normal starts
 * from w and the words after it come from the generators. */
static void plant_word(latens_rng_fast *r, ref_stream *f, uint32_t w) {
  r->buf[15] = f->block[15] = w;
  r->used = 15, f->used = 15;
}

START_TEST(attempts_at_the_layer_edges) {
  /* Oracle: ref_normal on chosen attempts, so the rare cases are all met: in every layer and
   * sign, for the smallest j outside the inner rectangle, jb = ceil(ZIG_K[i] / 2^30) (rng.h:
   * j 2^30 >= ZIG_K[i], so the wedge test with an aux uniform, or in layer 0 the tail), and
   * jb - 1 (the last one accepted at once) and jb + 1; j = 0 (an exact zero, negative with the
   * sign bit) and j = 2^23 - 1.  Then the next main word must agree, and a second planted
   * attempt that surely takes the tail (layer 0, j = 2^23 - 1) must give the same value, so
   * the draw consumed the same main and aux words.  At random each edge case has probability
   * 2^-23 per attempt. */
  int bad = 0;
  char first[240] = "";
  const uint32_t tail_word = ((1u << 23) - 1) << 9;
  for (uint32_t i = 0; i < 256; i++)
    for (uint32_t sign = 0; sign < 2; sign++) {
      const uint32_t jb = (uint32_t)((ZIG_K[i] + (UINT64_C(1) << 30) - 1) >> 30);
      const uint32_t js[5] = {jb ? jb - 1 : 0, jb, jb + 1, 0, (1u << 23) - 1};
      bad += !(!ref_inside(i, jb) && (jb == 0 || ref_inside(i, jb - 1)));
      for (int t = 0; t < 5; t++) {
        if (js[t] >= 1u << 23) continue;
        latens_rng_fast r;
        ref_stream f;
        latens_rng_fast_init(&r, 3, 9);
        ref_init(&f, 3, 9);
        const uint32_t w = js[t] << 9 | sign << 8 | i;
        plant_word(&r, &f, w);
        double got = latens_rng_fast_normal(&r), want = ref_normal(&f);
        plant_word(&r, &f, tail_word);
        double got_tail = latens_rng_fast_normal(&r), want_tail = ref_normal(&f);
        uint32_t got_next = latens_rng_fast_uint32(&r), want_next = ref_word(&f);
        if (!same_double(got, want) || !same_double(got_tail, want_tail) ||
            got_next != want_next) {
          if (!bad++)
            snprintf(first, sizeof first,
                     "layer %u sign %u j %u (bound %u): got %a, tail %a, word %08x; "
                     "definition %a, tail %a, word %08x",
                     i, sign, js[t], jb, got, got_tail, got_next, want, want_tail, want_next);
        }
      }
    }
  ck_assert_msg(bad == 0, "%d edge attempts differ from rng.h; the first: %s", bad, first);
}
END_TEST

/* Plant the next main block: generator (h, l)'s next output becomes wb[8 h + l], by choosing
 * its d word for its a (rotl(a + d, 7) + a = w when d = rotr(w - a, 7) - a), in the
 * documented state s of latens_rng_fast and in the reference alike.  r->used must be 16.
 * Returns how many a words differ between the two (the seeding layout, again). */
static int plant_block(latens_rng_fast *r, ref_stream *f, const uint32_t *wb) {
  int bad = 0;
  for (int h = 0; h < 2; h++)
    for (int l = 0; l < 8; l++) {
      xo_gen *g = &f->gen[8 * h + l];
      bad += r->s[h][0][l] != g->a;
      g->d = r->s[h][3][l] = rotl32(wb[8 * h + l] - g->a, 25) - g->a;
    }
  return bad;
}

/* The edge attempts of attempts_at_the_layer_edges as a list of words (at most 2560). */
static size_t edge_words(uint32_t *out) {
  size_t n = 0;
  for (uint32_t i = 0; i < 256; i++)
    for (uint32_t sign = 0; sign < 2; sign++) {
      const uint32_t jb = (uint32_t)((ZIG_K[i] + (UINT64_C(1) << 30) - 1) >> 30);
      const uint32_t js[5] = {jb ? jb - 1 : 0, jb, jb + 1, 0, (1u << 23) - 1};
      for (int t = 0; t < 5; t++)
        if (js[t] < 1u << 23) out[n++] = js[t] << 9 | sign << 8 | i;
    }
  return n;
}

START_TEST(fills_at_the_layer_edges) {
  /* Oracle: ref_normal, on the edge attempts above planted in main blocks, through the public
   * fill and each kernel, so the bulk inner-rectangle test meets its bound in every layer,
   * sign and lane: first each edge attempt alone among attempts accepted at once (j = 1000,
   * at block position c mod 16), then sixteen edge attempts to a block (several slow paths
   * in one block, in order).  19 values: the planted block and three from the next; then a
   * planted tail attempt and the next word check the aux and main positions. */
  uint32_t words[2560];
  const size_t nw = edge_words(words), nb = nw + (nw + 15) / 16;
  latens_rng_fast probe;
  double x[19];
  latens_rng_fast_init(&probe, 1, 0);
  const int avx2 = latens_rng_fast_fill_normal_kernel(&probe, x, 4, 0.0, 1.0, 1) == LATENS_OK;
  int bad = 0, seeding = 0;
  for (size_t b = 0; b < nb; b++)
    for (int mode = -1; mode <= avx2; mode++) {
      uint32_t wb[16];
      for (uint32_t q = 0; q < 16; q++)
        wb[q] = b < nw ? 1000u << 9 | (q & 1) << 8 | (1 + q * 37 % 254)
                       : words[((b - nw) * 16 + q * 7) % nw];
      if (b < nw) wb[b % 16] = words[b];
      latens_rng_fast r;
      ref_stream f;
      latens_rng_fast_init(&r, 5, b);
      ref_init(&f, 5, b);
      seeding += plant_block(&r, &f, wb);
      int st = mode < 0 ? latens_rng_fast_fill_normal(&r, x, 19, 0.5, 2.0)
                        : latens_rng_fast_fill_normal_kernel(&r, x, 19, 0.5, 2.0, mode);
      bad += st != LATENS_OK;
      for (int k = 0; k < 19; k++) bad += !same_double(x[k], ref_gauss(&f, 0.5, 2.0));
      plant_word(&r, &f, ((1u << 23) - 1) << 9);
      bad += !same_double(latens_rng_fast_normal(&r), ref_normal(&f));
      bad += latens_rng_fast_uint32(&r) != ref_word(&f);
    }
  ck_assert_int_eq(seeding, 0);
  ck_assert_msg(bad == 0, "%d values or words differ from rng.h at planted edge attempts", bad);
}
END_TEST

/* xoshiro128++'s step undone (the step is a bijection of the state).  From the step:
 * a' = a ^ d ^ b, b' = a ^ b ^ c, c' = a ^ c ^ (b << 9), d' = rotl(d ^ b, 11); so
 * b' ^ c' = b ^ (b << 9), which x ^ (x << 9) ^ (x << 18) ^ (x << 27) inverts. */
static void xo_prev(xo_gen *g) {
  const uint32_t d1 = rotl32(g->d, 21), a = g->a ^ d1, k = g->b ^ g->c;
  const uint32_t b = k ^ k << 9 ^ k << 18 ^ k << 27;
  g->c = g->b ^ b ^ a, g->d = d1 ^ b, g->a = a, g->b = b;
}

/* The aux generator's second next word becomes w1 (the high word of the next aux uniform,
 * so that uniform lies in [w1 2^-32, (w1 + 1) 2^-32)), in the documented field aux of
 * latens_rng_fast and in the reference alike: the state one step on is given the d word that
 * makes w1, then stepped back. */
static void plant_aux_high(latens_rng_fast *r, ref_stream *f, uint32_t w1) {
  xo_gen g = f->aux;
  g.d = rotl32(w1 - g.a, 25) - g.a;
  xo_prev(&g);
  f->aux = g;
  r->aux[0] = g.a, r->aux[1] = g.b, r->aux[2] = g.c, r->aux[3] = g.d;
}

START_TEST(wedge_decisions_near_the_chord) {
  /* Oracle: ref_normal, whose wedge test is the definition's y < exp(-x^2/2).  A faster test
   * may decide first against the chord of the layer, (X[i], F[i]) to (X[i+1], F[i+1]), at u
   * = t = (X[i] - x) / (X[i] - X[i+1]) (f is concave inside |x| < 1, convex outside), and
   * only such a shortcut can err, where f meets the chord: so in every layer, at x just
   * outside the inner rectangle (j = ceil(ZIG_K[i] / 2^30)), mid-layer and at the outer edge
   * (j = 2^23 - 1), the attempt is planted with its uniform at t, and 1e-9 + 2^-31 either side
   * (within 2^-32: the planted high word), and the value, a planted tail attempt after it and
   * the next word must agree.  First, xo_prev against xo_next. */
  xo_gen g = {0x12345678u, 0x9abcdef0u, 0x0fedcba9u, 0x87654321u}, h = g;
  xo_next(&h);
  xo_prev(&h);
  ck_assert(h.a == g.a && h.b == g.b && h.c == g.c && h.d == g.d);
  int bad = 0, cases = 0;
  char first[240] = "";
  for (uint32_t i = 1; i < 256; i++) {
    const uint32_t jb = (uint32_t)((ZIG_K[i] + (UINT64_C(1) << 30) - 1) >> 30);
    const uint32_t js[3] = {jb, (jb + (1u << 23)) / 2, (1u << 23) - 1};
    const double xi = ZIG_W[i] * 0x1p53, xn = i < 255 ? ZIG_W[i + 1] * 0x1p53 : 0.0;
    for (int a = 0; a < 3; a++) {
      const double x = (double)js[a] * (ZIG_W[i] * 0x1p30), t = (xi - x) / (xi - xn);
      const double us[3] = {t - 1e-9 - 0x1p-31, t, t + 1e-9 + 0x1p-31};
      for (int b = 0; b < 3; b++) {
        if (!(us[b] > 0 && us[b] < 1)) continue;
        latens_rng_fast r;
        ref_stream f;
        latens_rng_fast_init(&r, 11, i);
        ref_init(&f, 11, i);
        plant_word(&r, &f, js[a] << 9 | i);
        plant_aux_high(&r, &f, (uint32_t)(us[b] * 0x1p32));
        const long w0 = f.wedges;
        double got = latens_rng_fast_normal(&r), want = ref_normal(&f);
        cases += f.wedges > w0;
        int differ = !same_double(got, want);
        plant_word(&r, &f, ((1u << 23) - 1) << 9);
        differ += !same_double(latens_rng_fast_normal(&r), ref_normal(&f));
        differ += latens_rng_fast_uint32(&r) != ref_word(&f);
        if (differ && !bad++)
          snprintf(first, sizeof first,
                   "layer %u j %u u ~ %.12f (t %.12f): got %a, want %a (%d of 3 differ)", i,
                   js[a], us[b], t, got, want, differ);
      }
    }
  }
  ck_assert_msg(cases > 2000, "only %d planted wedge tests", cases);
  ck_assert_msg(bad == 0, "%d wedge decisions differ from rng.h; the first: %s", bad, first);
}
END_TEST

/* Fill n1 then n2 normals, then draw single normals, on stream t; the number of values (and
 * the next two words) that differ from the reference. */
static int split_mismatches(uint64_t t, size_t n1, size_t n2, double *x) {
  latens_rng_fast r;
  ref_stream f;
  latens_rng_fast_init(&r, 4242, t);
  ref_init(&f, 4242, t);
  int bad = 0;
  bad += latens_rng_fast_fill_normal(&r, x, n1, 0.0, 1.0) != LATENS_OK;
  for (size_t i = 0; i < n1; i++) bad += !same_double(x[i], ref_gauss(&f, 0.0, 1.0));
  bad += latens_rng_fast_fill_normal(&r, x, n2, 0.0, 1.0) != LATENS_OK;
  for (size_t i = 0; i < n2; i++) bad += !same_double(x[i], ref_gauss(&f, 0.0, 1.0));
  for (int i = 0; i < 5; i++) bad += !same_double(latens_rng_fast_normal(&r), ref_normal(&f));
  bad += latens_rng_fast_uint32(&r) != ref_word(&f);
  bad += latens_rng_fast_uint32(&r) != ref_word(&f);
  return bad;
}

START_TEST(fills_split_anywhere) {
  /* Oracle: ref_stream (itself checked against single draws above).  n1, n2 over 0..40 put
   * the split at every word offset of a block; the large ones cross many blocks and any
   * internal batch size a bulk generator may use.  Five single normals and two words follow:
   * the fills must leave the stream where the draws leave it. */
  static const size_t big[] = {255, 256, 257, 1000, 4099, 65537};
  double *x = malloc(65537 * sizeof *x);
  int bad = 0;
  for (size_t n1 = 0; n1 <= 40; n1++)
    for (size_t n2 = 0; n2 <= 40; n2++) bad += split_mismatches(n1 * 41 + n2, n1, n2, x);
  ck_assert_msg(bad == 0, "small splits: %d mismatches", bad);
  for (size_t a = 0; a < 6; a++)
    for (size_t b = 0; b < 6; b++) bad += split_mismatches(2000 + a * 6 + b, big[a], big[b], x);
  for (size_t a = 0; a < 6; a++) {
    bad += split_mismatches(3000 + a, big[a], a * 7, x);
    bad += split_mismatches(3100 + a, a * 7 + 1, big[a], x);
  }
  ck_assert_msg(bad == 0, "large splits: %d mismatches", bad);
  free(x);
}
END_TEST

/* Fills through kernel k of 0..300 values at word offsets 0..15, on streams of seed 77; the
 * number of cases that differ from the reference (values or the following word). */
static int kernel_mismatches(int kernel, double *x) {
  int bad = 0;
  for (int t = 0; t < 160; t++) {
    latens_rng_fast r;
    ref_stream f;
    latens_rng_fast_init(&r, 77, (uint64_t)t);
    ref_init(&f, 77, (uint64_t)t);
    for (int k = 0; k < t % 16; k++) bad += latens_rng_fast_uint32(&r) != ref_word(&f);
    size_t n = (size_t)(t * 37) % 301;
    const double mu = 0.5, sigma = 2.0;
    bad += latens_rng_fast_fill_normal_kernel(&r, x, n, mu, sigma, kernel) != LATENS_OK;
    for (size_t i = 0; i < n; i++) bad += !same_double(x[i], ref_gauss(&f, mu, sigma));
    bad += latens_rng_fast_uint32(&r) != ref_word(&f);
  }
  /* one long fill: every lane and block position of a slow attempt many times over */
  enum { NL = 300000 };
  latens_rng_fast r;
  ref_stream f;
  latens_rng_fast_init(&r, 78, (uint64_t)kernel);
  ref_init(&f, 78, (uint64_t)kernel);
  bad += latens_rng_fast_fill_normal_kernel(&r, x, NL, 0.0, 1.0, kernel) != LATENS_OK;
  for (size_t i = 0; i < NL; i++) bad += !same_double(x[i], ref_gauss(&f, 0.0, 1.0));
  bad += latens_rng_fast_uint32(&r) != ref_word(&f);
  return bad;
}

START_TEST(fill_kernels_agree) {
  /* Oracle: ref_stream, bitwise, for the portable kernel (0) and the AVX2 one (1) where this
   * CPU and build have it, so the portable kernel is checked on an AVX2 machine too; the two
   * kernels then agree with each other through it. */
  double *x = malloc(300000 * sizeof *x);
  ck_assert_int_eq(kernel_mismatches(0, x), 0);
  latens_rng_fast r;
  latens_rng_fast_init(&r, 1, 0);
  int avx2 = latens_rng_fast_fill_normal_kernel(&r, x, 4, 0.0, 1.0, 1);
  ck_assert(avx2 == LATENS_OK || avx2 == LATENS_EUNIMPL);
  if (avx2 == LATENS_OK) ck_assert_int_eq(kernel_mismatches(1, x), 0);
  else fprintf(stderr, "rng_fast: AVX2 kernel absent here (LATENS_EUNIMPL), kernel 1 skipped\n");
  /* the hook's checks are those of the public fill, and kernels other than 0 and 1 are
   * refused (as latens_rng_fill_normal_kernel's) */
  latens_clear_error();
  ck_assert_int_eq(latens_rng_fast_fill_normal_kernel(&r, x, 4, 0.0, 1.0, 2), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_fast_fill_normal_kernel(&r, x, 4, 0.0, 1.0, -1), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_fast_fill_normal_kernel(&r, NULL, 4, 0.0, 1.0, 0), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_fast_fill_normal_kernel(&r, x, 4, 0.0, -1.0, 0), LATENS_EDOM);
  ck_assert_int_eq(latens_rng_fast_fill_normal_kernel(&r, x, 4, NAN, 1.0, 0), LATENS_ENOTFINITE);
  latens_clear_error();
  free(x);
}
END_TEST

/* ---------------------------------------------------------------- distributions */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Pearson's statistic of x against nb equiprobable bins whose nb - 1 inner edges are e. */
static double chisq_equiprobable(const double *x, size_t n, const double *e, size_t nb) {
  size_t *cnt = calloc(nb, sizeof *cnt);
  for (size_t i = 0; i < n; i++) {
    size_t lo = 0, hi = nb - 1; /* the bin is the number of edges <= x[i] */
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (e[mid] <= x[i]) lo = mid + 1;
      else hi = mid;
    }
    cnt[lo]++;
  }
  double expct = (double)n / nb, stat = 0;
  for (size_t b = 0; b < nb; b++) stat += ((double)cnt[b] - expct) * ((double)cnt[b] - expct);
  free(cnt);
  return stat / expct;
}

/* Sample correlation of x and y. */
static double corr(const double *x, const double *y, size_t n) {
  long double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; i++) mx += x[i], my += y[i];
  mx /= n, my /= n;
  for (size_t i = 0; i < n; i++) {
    long double dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy, sxx += dx * dx, syy += dy * dy;
  }
  return (double)(sxy / sqrtl(sxx * syy));
}

START_TEST(normal_distribution) {
  /* Oracles (closed forms): on 2e6 normals of stream (20261129, 0), the sampling sds of the
   * mean (1/sqrt n), variance (sqrt(2/n)), skewness (sqrt(6/n)) and excess kurtosis
   * (sqrt(24/n)), 5 of each; Pearson's chi-square on 100 bins equiprobable under Phi, below
   * its 1e-6 critical value on 99 df; the counts beyond r = 3.6542 and 5 in |z| against
   * Binomial(n, 2 Phi(-t)), 5 sds; lag-1 and cross-stream (stream 1) correlations ~N(0, 1/n),
   * 5/sqrt(n).  Measured over 50 seeds with the reference stream (seeds 1000003 k + 17):
   * the largest |z-score| of every statistic here was 2.95 (cross-stream correlation; the
   * moments 2.74, the tail counts 2.67), the largest chi-square 128.8 (critical value 180.8). */
  if (test_under_valgrind()) return;
  enum { N = 2000000, NB = 100 };
  double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
  latens_rng_fast r, s;
  latens_rng_fast_init(&r, 20261129, 0);
  latens_rng_fast_init(&s, 20261129, 1);
  ck_assert_int_eq(latens_rng_fast_fill_normal(&r, x, N, 0.0, 1.0), LATENS_OK);
  ck_assert_int_eq(latens_rng_fast_fill_normal(&s, y, N, 0.0, 1.0), LATENS_OK);
  long double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
  double tail_r = 0, tail_5 = 0;
  for (size_t i = 0; i < N; i++) {
    long double z = x[i];
    s1 += z;
    tail_r += fabs(x[i]) > ZIG_R, tail_5 += fabs(x[i]) > 5.0;
  }
  long double m = s1 / N;
  for (size_t i = 0; i < N; i++) {
    long double d = x[i] - m, d2 = d * d;
    s2 += d2, s3 += d2 * d, s4 += d2 * d2;
  }
  double var = (double)(s2 / (N - 1)), skew = (double)(s3 / N / powl(s2 / N, 1.5L));
  double kurt = (double)(s4 / N / (s2 / N * s2 / N)) - 3.0;
  ck_assert_msg(fabs((double)m) < 5 / sqrt(N), "mean %g", (double)m);
  ck_assert_msg(fabs(var - 1) < 5 * sqrt(2.0 / N), "variance %.6f", var);
  ck_assert_msg(fabs(skew) < 5 * sqrt(6.0 / N), "skewness %g", skew);
  ck_assert_msg(fabs(kurt) < 5 * sqrt(24.0 / N), "excess kurtosis %g", kurt);
  double e[NB - 1];
  for (int b = 1; b < NB; b++) e[b - 1] = gsl_cdf_ugaussian_Pinv((double)b / NB);
  double chi = chisq_equiprobable(x, N, e, NB), crit = gsl_cdf_chisq_Qinv(1e-6, NB - 1);
  ck_assert_msg(chi < crit, "normal chi-square %g on %d df (1e-6 critical value %g)", chi, NB - 1,
                crit);
  /* 2 Phi(-t) = erfc(t / sqrt 2) */
  const double t[2] = {ZIG_R, 5.0}, obs[2] = {tail_r, tail_5};
  for (int k = 0; k < 2; k++) {
    double p = erfc(t[k] / M_SQRT2), mean = N * p, sd = sqrt(N * p * (1 - p));
    ck_assert_msg(fabs(obs[k] - mean) < 5 * sd, "|z| > %g: %g draws, expected %g (sd %g)", t[k],
                  obs[k], mean, sd);
  }
  double rho1 = corr(x, x + 1, N - 1), rho_st = corr(x, y, N);
  ck_assert_msg(fabs(rho1) < 5 / sqrt(N - 1), "lag-1 correlation %g", rho1);
  ck_assert_msg(fabs(rho_st) < 5 / sqrt(N), "streams 0 and 1: correlation %g", rho_st);
  /* the extremes stay inside the documented bound |z| <= r - log(2^-54) / r */
  qsort(x, N, sizeof *x, cmp_double);
  double zmax = ZIG_R - log(0x1p-54) / ZIG_R;
  ck_assert(x[0] >= -zmax && x[N - 1] <= zmax);
  free(x), free(y);
}
END_TEST

START_TEST(uniform_distribution) {
  /* Oracles (closed forms): 2e6 uniforms in (0, 1); mean 1/2 with sd sqrt(1/12/n), 5 sds;
   * Pearson's chi-square on 100 equal bins below its 1e-6 critical value on 99 df (180.8).
   * Over 50 seeds (reference stream): largest |z| of the mean 1.9, largest chi-square 123.5. */
  if (test_under_valgrind()) return;
  enum { N = 2000000, NB = 100 };
  double *x = malloc(N * sizeof *x), lo = 1, hi = 0;
  long double s = 0;
  latens_rng_fast r;
  latens_rng_fast_init(&r, 8128, 3);
  for (size_t i = 0; i < N; i++) {
    x[i] = latens_rng_fast_uniform(&r);
    s += x[i], lo = fmin(lo, x[i]), hi = fmax(hi, x[i]);
  }
  ck_assert(lo > 0.0 && hi < 1.0);
  double mean = (double)(s / N);
  ck_assert_msg(fabs(mean - 0.5) < 5 * sqrt(1.0 / 12 / N), "uniform mean %g", mean);
  double e[NB - 1];
  for (int b = 1; b < NB; b++) e[b - 1] = (double)b / NB;
  double chi = chisq_equiprobable(x, N, e, NB), crit = gsl_cdf_chisq_Qinv(1e-6, NB - 1);
  ck_assert_msg(chi < crit, "uniform chi-square %g on %d df (critical %g)", chi, NB - 1, crit);
  free(x);
}
END_TEST

/* ---------------------------------------------------------------- bad input */

START_TEST(fill_rejects_bad_input) {
  /* The rules of latens_rng_fill_normal (test_rng.c, rng_bad_input): NULL r, or NULL x with
   * n > 0, is LATENS_EINVAL; NaN or Inf mu or sigma LATENS_ENOTFINITE; sigma < 0 LATENS_EDOM;
   * the status is also recorded for the thread, and nothing is drawn (oracle: a twin
   * stream's next word).  n = 0 with x NULL is a no-op; sigma = 0 gives mu exactly. */
  latens_rng_fast r, twin;
  double x[4];
  latens_rng_fast_init(&r, 3, 4);
  twin = r;
  latens_clear_error();
  ck_assert_int_eq(latens_rng_fast_fill_normal(NULL, x, 2, 0.0, 1.0), LATENS_EINVAL);
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_rng_fast_fill_normal(&r, NULL, 2, 0.0, 1.0), LATENS_EINVAL);
  const double bad_mu[] = {NAN, INFINITY, -INFINITY}, bad_sigma[] = {NAN, INFINITY, -1.0};
  const int sigma_status[] = {LATENS_ENOTFINITE, LATENS_ENOTFINITE, LATENS_EDOM};
  for (int k = 0; k < 3; k++) {
    latens_clear_error();
    ck_assert_int_eq(latens_rng_fast_fill_normal(&r, x, 2, bad_mu[k], 1.0), LATENS_ENOTFINITE);
    ck_assert_int_eq(latens_last_error(NULL), LATENS_ENOTFINITE);
    ck_assert_int_eq(latens_rng_fast_fill_normal(&r, x, 2, 0.0, bad_sigma[k]), sigma_status[k]);
    ck_assert_int_eq(latens_last_error(NULL), sigma_status[k]);
  }
  ck_assert_int_eq(latens_rng_fast_fill_normal(&r, x, 2, 0.0, -0.0), LATENS_OK); /* -0 >= 0 */
  latens_rng_fast_normal(&twin), latens_rng_fast_normal(&twin);
  ck_assert_int_eq(latens_rng_fast_fill_normal(&r, NULL, 0, 0.0, 1.0), LATENS_OK);
  ck_assert_uint_eq(latens_rng_fast_uint32(&r), latens_rng_fast_uint32(&twin));
  latens_clear_error();
  ck_assert_int_eq(latens_rng_fast_fill_normal(&r, x, 3, 2.5, 0.0), LATENS_OK);
  ck_assert(x[0] == 2.5 && x[1] == 2.5 && x[2] == 2.5);
  ck_assert_int_eq(latens_last_error(NULL), LATENS_OK);
}
END_TEST

Suite *rng_fast_suite(void) {
  Suite *s = suite_create("rng_fast");
  TCase *tc = tcase_create("rng_fast");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, xoshiro_known_answers);
  tcase_add_test(tc, words_follow_definition);
  tcase_add_test(tc, normals_follow_definition);
  tcase_add_test(tc, tables_23bit);
  tcase_add_test(tc, attempts_at_the_layer_edges);
  tcase_add_test(tc, fills_at_the_layer_edges);
  tcase_add_test(tc, wedge_decisions_near_the_chord);
  tcase_add_test(tc, fills_split_anywhere);
  tcase_add_test(tc, fill_kernels_agree);
  tcase_add_test(tc, normal_distribution);
  tcase_add_test(tc, uniform_distribution);
  tcase_add_test(tc, fill_rejects_bad_input);
  suite_add_tcase(s, tc);
  return s;
}
