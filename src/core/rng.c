/* core/rng.c: Philox4x32-10 streams and the distributions drawn from them.
 *
 * Everything here is scalar on purpose: the same stream must give the same numbers whatever
 * the vector width or the libm/libmvec split, so no simd pragmas and no vector exp/log.  The
 * normal sampler and the bulk fills live in rng_kernels.c (their Philox is vectorised, but
 * integer arithmetic is exact, so the words are the same). */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <latens/rng.h>
#include "rng_impl.h"

/* Domain separation for latens_rng_split: its hash runs under the stream's key XOR these
 * words ("LATN", "SPLT"), so a hash output is never also an output of some stream. */
#define SPLIT_K0 0x4C41544Eu
#define SPLIT_K1 0x53504C54u

void latens_rng_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], k0 = key[0], k1 = key[1];
  /* unrolled: the single draws refill through here, and the rolled loop cost 230
   * instructions per block at -O2 (callgrind) */
#pragma GCC unroll 10
  for (int round = 0; round < 10; round++) {
    uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c1 = (uint32_t)p1, c3 = (uint32_t)p0, c0 = n0, c2 = n2;
    k0 += PHILOX_W0, k1 += PHILOX_W1;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

void rng_refill(latens_rng *r) {
  latens_rng_philox4x32_10(r->ctr, r->key, r->buf);
  if (++r->ctr[0] == 0) ++r->ctr[1];
  r->used = 0;
}

static void set_stream(latens_rng *r, const uint32_t key[2], uint64_t stream) {
  r->key[0] = key[0], r->key[1] = key[1];
  r->ctr[0] = r->ctr[1] = 0;
  r->ctr[2] = (uint32_t)stream, r->ctr[3] = (uint32_t)(stream >> 32);
  r->buf[0] = r->buf[1] = r->buf[2] = r->buf[3] = 0;
  r->used = 4;
  r->have_normal = 0;
  r->normal = 0.0;
}

int latens_rng_init(latens_rng *r, uint64_t seed, uint64_t stream) {
  if (!r) LATENS_ERROR("latens_rng_init: r is NULL", LATENS_EINVAL);
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  set_stream(r, key, stream);
  return LATENS_OK;
}

latens_rng *latens_rng_alloc(uint64_t seed, uint64_t stream) {
  latens_rng *r = malloc(sizeof *r);
  if (!r) LATENS_ERROR_NULL("latens_rng_alloc: out of memory", LATENS_ENOMEM);
  latens_rng_init(r, seed, stream);
  return r;
}

void latens_rng_free(latens_rng *r) { free(r); }

int latens_rng_split(latens_rng *child, const latens_rng *parent, uint64_t child_id) {
  if (!child || !parent)
    LATENS_ERRORF(LATENS_EINVAL, "latens_rng_split: %s is NULL", child ? "parent" : "child");
  if (child == parent) LATENS_ERROR("latens_rng_split: child aliases parent", LATENS_EINVAL);
  const uint32_t hkey[2] = {parent->key[0] ^ SPLIT_K0, parent->key[1] ^ SPLIT_K1};
  const uint32_t in[4] = {(uint32_t)child_id, (uint32_t)(child_id >> 32), parent->ctr[2],
                          parent->ctr[3]};
  uint32_t h[4];
  latens_rng_philox4x32_10(in, hkey, h);
  set_stream(child, parent->key, (uint64_t)h[0] | (uint64_t)h[1] << 32);
  return LATENS_OK;
}

int latens_rng_seek(latens_rng *r, uint64_t position) {
  if (!r) LATENS_ERROR("latens_rng_seek: r is NULL", LATENS_EINVAL);
  uint64_t block = position / 2;
  r->ctr[0] = (uint32_t)block, r->ctr[1] = (uint32_t)(block >> 32);
  rng_refill(r);
  r->used = (unsigned int)(position % 2) * 2;
  r->have_normal = 0;
  return LATENS_OK;
}

uint32_t latens_rng_uint32(latens_rng *r) {
  if (r->used >= 4) rng_refill(r);
  return r->buf[r->used++];
}

uint64_t latens_rng_uint64(latens_rng *r) { return rng_u64(r); }

/* k 2^-53 for the top 53 bits k; k = 0 would give exactly 0 (log(0) in Box-Muller and the
 * exponential), so it maps to half the grid spacing instead.  The largest value is
 * 1 - 2^-53 < 1. */
double latens_rng_uniform(latens_rng *r) { return rng_u01(rng_u64(r)); }

/* latens_rng_normal: rng_kernels.c. */

/* The checks of latens_rng_gaussian and latens_rng_fill_normal: one rule for both. */
static int check_normal(const char *fn, double mu, double sigma) {
  if (!isfinite(mu) || !isfinite(sigma))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: mu %g, sigma %g (both must be finite)", fn, mu, sigma);
  if (!(sigma >= 0.0)) LATENS_ERRORF(LATENS_EDOM, "%s: sigma %g is negative", fn, sigma);
  return LATENS_OK;
}

double latens_rng_gaussian(latens_rng *r, double mu, double sigma) {
  if (check_normal("latens_rng_gaussian", mu, sigma)) return NAN;
  return mu + sigma * latens_rng_normal(r);
}

double latens_rng_exponential(latens_rng *r, double rate) {
  if (!isfinite(rate) || !(rate > 0.0)) {
    latens_errorf(__FILE__, __LINE__, isfinite(rate) ? LATENS_EDOM : LATENS_ENOTFINITE,
                  "latens_rng_exponential: rate %g is not positive and finite", rate);
    return NAN;
  }
  return -log(latens_rng_uniform(r)) / rate;
}

/* Marsaglia & Tsang (2000), "A simple method for generating gamma variables", shape >= 1:
 * v = (1 + c z)^3 with z normal is accepted with the cheap squeeze first, then the exact
 * log test; acceptance is above 95% for every shape. */
static double gamma_mt(latens_rng *r, double shape) {
  double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double z, v;
    do {
      z = latens_rng_normal(r);
      v = 1.0 + c * z;
    } while (v <= 0.0);
    v = v * v * v;
    double u = latens_rng_uniform(r), z2 = z * z;
    if (u < 1.0 - 0.0331 * z2 * z2) return d * v;
    if (log(u) < 0.5 * z2 + d * (1.0 - v + log(v))) return d * v;
  }
}

int latens_rng_gamma(latens_rng *r, double shape, double scale, double *x) {
  if (!r || !x) LATENS_ERRORF(LATENS_EINVAL, "latens_rng_gamma: %s is NULL", r ? "x" : "r");
  if (!isfinite(shape) || !isfinite(scale))
    LATENS_ERRORF(LATENS_ENOTFINITE, "latens_rng_gamma: shape %g and scale %g must be finite",
                  shape, scale);
  if (!(shape > 0.0) || !(scale > 0.0))
    LATENS_ERRORF(LATENS_EDOM, "latens_rng_gamma: shape %g and scale %g must be > 0", shape,
                  scale);
  if (shape >= 1.0) {
    *x = scale * gamma_mt(r, shape);
  } else {
    /* Gamma(a) = Gamma(a + 1) U^(1/a) (Marsaglia & Tsang, section 6); the power is taken in
     * logs because 1/a can be huge. */
    double g = gamma_mt(r, shape + 1.0);
    *x = scale * g * exp(log(latens_rng_uniform(r)) / shape);
  }
  return LATENS_OK;
}

/* Sequential search from k = 0 (Devroye 1986, X.3.3); lambda < 10 keeps it short.  The
 * cumulative sum reaches 1 only up to rounding, so the search also stops when adding the next
 * term no longer changes it (the remaining tail is below one ulp). */
static uint64_t poisson_inversion(latens_rng *r, double lambda) {
  double u = latens_rng_uniform(r), p = exp(-lambda), cum = p;
  uint64_t k = 0;
  while (u > cum) {
    k++;
    p *= lambda / (double)k;
    double next = cum + p;
    if (next == cum) break;
    cum = next;
  }
  return k;
}

/* ---------------------------------------------------------------- Poisson log-pmf
 *
 * The textbook -lambda + k log(lambda) - log(k!) adds terms of size k log(lambda) to get a
 * result of size log(sqrt(lambda)): for lambda ~ 1e15 its rounding error is several nats.
 * Loader's saddle-point form (C. Loader 2000, "Fast and Accurate Computation of Binomial
 * Probabilities")
 *     log p(k) = -log(2 pi k)/2 - stirlerr(k) - bd0(k, lambda)
 * has no such cancellation: stirlerr is the small remainder of Stirling's formula and bd0 the
 * deviance term, each computed from a series when it is small. */

/* stirlerr(n) = log(n!) - log(sqrt(2 pi n) (n/e)^n) for n = 1..15, to 20 digits (evaluated in
 * 40-digit arithmetic); the asymptotic series below is not accurate enough there. */
static const double STIRLERR_TABLE[16] = {
    0.0, /* unused: k = 0 is handled apart */
    0.08106146679532725822,  0.041340695955409294094, 0.027677925684998339149,
    0.020790672103765093112, 0.016644691189821192163, 0.013876128823070747999,
    0.011896709945891770095, 0.010411265261972096497, 0.0092554621827127329177,
    0.0083305634333628712565, 0.007573675487951840795, 0.0069428401072095298657,
    0.0064089941880042070684, 0.0059513701127588477356, 0.005554733551962801371};

/* Stirling's series: stirlerr(n) = 1/(12n) - 1/(360n^3) + 1/(1260n^5) - 1/(1680n^7)
 * + 1/(1188n^9) - ...; for n >= 16 the next term, 691/(360360 n^11), is below 1e-16. */
static double stirlerr(double n) {
  if (n < 16.0) return STIRLERR_TABLE[(int)n];
  const double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680, s4 = 1.0 / 1188;
  const double nn = 1.0 / (n * n);
  return (s0 - nn * (s1 - nn * (s2 - nn * (s3 - nn * s4)))) / n;
}

/* bd0(x, m) = x log(x/m) + m - x >= 0.  Near x = m both terms are huge and cancel, so there
 * (|x - m| < (x + m)/10) it is summed as a series in v = (x - m)/(x + m):
 *     x log(x/m) = 2x atanh(v) = 2x (v + v^3/3 + v^5/5 + ...),  and 2x v - (x - m) = (x - m) v,
 * so bd0 = (x - m) v + 2x (v^3/3 + v^5/5 + ...), every term >= 0: no cancellation.  With
 * |v| < 0.1 each term is 1/100 of the one before, so ~8 terms reach full precision.
 * Just outside, the direct form still cancels ~10x; there log1p of the exact x - m (Sterbenz:
 * x/m in [1/2, 2]) keeps log(x/m) to an ulp of its own size, where log of the rounded ratio
 * would be 5x worse. */
static double bd0(double x, double m) {
  if (fabs(x - m) < 0.1 * (x + m)) {
    const double v = (x - m) / (x + m), v2 = v * v;
    double sum = (x - m) * v, term = 2.0 * x * v;
    for (int j = 1; j < 100; j++) {
      term *= v2;
      const double next = sum + term / (2 * j + 1);
      if (next == sum) break;
      sum = next;
    }
    return sum;
  }
  const double l = x >= 0.5 * m && x <= 2.0 * m ? log1p((x - m) / m) : log(x / m);
  return x * l - (x - m); /* not (x l + m) - x, whose intermediate rounds at the scale of m */
}

/* log Poisson(k; lambda) for finite lambda > 0. */
static double poisson_logpmf(double k, double lambda) {
  if (k == 0.0) return -lambda;
  return -0.5 * log(2.0 * M_PI * k) - stirlerr(k) - bd0(k, lambda);
}

double latens_rng_poisson_logpmf(uint64_t k, double lambda) {
  if (!isfinite(lambda))
    LATENS_ERROR_VAL("latens_rng_poisson_logpmf: lambda is not finite", LATENS_ENOTFINITE, NAN);
  if (!(lambda >= 0.0)) {
    latens_errorf(__FILE__, __LINE__, LATENS_EDOM, "latens_rng_poisson_logpmf: lambda %g < 0",
                  lambda);
    return NAN;
  }
  if (lambda == 0.0) return k == 0 ? 0.0 : -INFINITY;
  return poisson_logpmf((double)k, lambda);
}

/* PTRS: Hormann (1993), transformed rejection with squeeze, for lambda >= 10.  Constants from
 * the paper; the log-pmf of the acceptance test in Loader's form (above), which keeps the test
 * exact to rounding up to the largest lambda accepted. */
static uint64_t poisson_ptrs(latens_rng *r, double lambda) {
  double slam = sqrt(lambda);
  double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  double inv_alpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    double u = latens_rng_uniform(r) - 0.5, v = latens_rng_uniform(r);
    double us = 0.5 - fabs(u);
    double k = floor((2.0 * a / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr && k >= 0.0) return (uint64_t)k;
    if (k < 0.0 || (us < 0.013 && v > us)) continue;
    if (log(v) + log(inv_alpha) - log(a / (us * us) + b) <= poisson_logpmf(k, lambda))
      return (uint64_t)k;
  }
}

int latens_rng_poisson(latens_rng *r, double lambda, uint64_t *k) {
  if (!r || !k) LATENS_ERRORF(LATENS_EINVAL, "latens_rng_poisson: %s is NULL", r ? "k" : "r");
  if (!isfinite(lambda))
    LATENS_ERRORF(LATENS_ENOTFINITE, "latens_rng_poisson: lambda is %g", lambda);
  if (!(lambda >= 0.0 && lambda <= 1e15))
    LATENS_ERRORF(LATENS_EDOM, "latens_rng_poisson: lambda = %g outside [0, 1e15]", lambda);
  *k = lambda == 0.0 ? 0 : lambda < 10.0 ? poisson_inversion(r, lambda) : poisson_ptrs(r, lambda);
  return LATENS_OK;
}

int latens_rng_categorical(latens_rng *r, const double *p, size_t n, size_t *k) {
  if (!r || !p || !k) LATENS_ERROR("latens_rng_categorical: r, p or k is NULL", LATENS_EINVAL);
  if (n == 0) LATENS_ERROR("latens_rng_categorical: no categories (n = 0)", LATENS_EINVAL);
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(p[i]))
      LATENS_ERRORF(LATENS_ENOTFINITE, "latens_rng_categorical: p[%zu] = %g", i, p[i]);
    if (!(p[i] >= 0.0))
      LATENS_ERRORF(LATENS_EDOM, "latens_rng_categorical: p[%zu] = %g < 0", i, p[i]);
    total += p[i];
  }
  if (!(total > 0.0) || isinf(total))
    LATENS_ERRORF(LATENS_EDOM, "latens_rng_categorical: the weights sum to %g", total);
  /* The running sum repeats the additions above in the same order, so it ends exactly at
   * total; a target rounded up to total falls back to the last positive weight. */
  double target = latens_rng_uniform(r) * total, cum = 0.0;
  size_t last = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == 0.0) continue;
    cum += p[i], last = i;
    if (target < cum) break;
  }
  *k = last;
  return LATENS_OK;
}

int latens_rng_categorical_log(latens_rng *r, const double *logw, size_t n, size_t *k) {
  if (!r || !logw || !k)
    LATENS_ERROR("latens_rng_categorical_log: r, logw or k is NULL", LATENS_EINVAL);
  if (n == 0) LATENS_ERROR("latens_rng_categorical_log: no categories (n = 0)", LATENS_EINVAL);
  double m = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    if (isnan(logw[i]) || logw[i] == INFINITY)
      LATENS_ERRORF(LATENS_ENOTFINITE, "latens_rng_categorical_log: logw[%zu] = %g", i, logw[i]);
    if (logw[i] > m) m = logw[i];
  }
  if (m == -INFINITY)
    LATENS_ERROR("latens_rng_categorical_log: every weight is 0 (-Inf)", LATENS_EDOM);
  /* Weights relative to the largest lie in [0, 1] with one of them 1: no overflow, and the
   * total is in [1, n]. */
  double total = 0.0;
  for (size_t i = 0; i < n; i++) total += exp(logw[i] - m);
  double target = latens_rng_uniform(r) * total, cum = 0.0;
  size_t last = 0;
  for (size_t i = 0; i < n; i++) {
    double w = exp(logw[i] - m);
    if (w == 0.0) continue;
    cum += w, last = i;
    if (target < cum) break;
  }
  *k = last;
  return LATENS_OK;
}

int latens_rng_fill_uniform(latens_rng *r, double *x, size_t n) {
  if (!r || (!x && n))
    LATENS_ERRORF(LATENS_EINVAL, "latens_rng_fill_uniform: %s is NULL", r ? "x" : "r");
  rng_fill_uniform_bulk(r, x, n);
  return LATENS_OK;
}

int latens_rng_fill_normal(latens_rng *r, double *x, size_t n, double mu, double sigma) {
  if (!r || (!x && n))
    LATENS_ERRORF(LATENS_EINVAL, "latens_rng_fill_normal: %s is NULL", r ? "x" : "r");
  int s = check_normal("latens_rng_fill_normal", mu, sigma);
  if (s) return s;
  rng_fill_normal_bulk(r, x, n, mu, sigma);
  return LATENS_OK;
}

/* ---------------------------------------------------------------- GSL adaptor */

/* gsl_rng_alloc hands set() uninitialised memory, so set() cannot keep a stream id: it
 * always restarts stream 0 of the new seed. */
static void gsl_set(void *state, unsigned long int seed) { latens_rng_init(state, seed, 0); }
static unsigned long int gsl_get(void *state) { return latens_rng_uint32(state); }
static double gsl_get_double(void *state) { return latens_rng_uniform(state); }

static const gsl_rng_type philox_gsl_type = {
    "latens-philox4x32-10", 0xffffffffUL, 0, sizeof(latens_rng), gsl_set, gsl_get, gsl_get_double};

const gsl_rng_type *latens_rng_gsl_type(void) { return &philox_gsl_type; }

gsl_rng *latens_rng_gsl_alloc(const latens_rng *r) {
  if (!r) LATENS_ERROR_NULL("latens_rng_gsl_alloc: r is NULL", LATENS_EINVAL);
  /* Allocated by hand (not gsl_rng_alloc, whose failure path calls the aborting gsl_error);
   * the layout matches, so gsl_rng_free releases it. */
  gsl_rng *g = malloc(sizeof *g);
  latens_rng *state = malloc(sizeof *state);
  if (!g || !state) {
    free(g), free(state);
    LATENS_ERROR_NULL("latens_rng_gsl_alloc: out of memory", LATENS_ENOMEM);
  }
  *state = *r;
  g->type = &philox_gsl_type;
  g->state = state;
  return g;
}

latens_rng *latens_rng_from_gsl(gsl_rng *g) {
  if (!g || g->type != &philox_gsl_type)
    LATENS_ERROR_NULL("latens_rng_from_gsl: not a latens Philox generator", LATENS_EINVAL);
  return g->state;
}
