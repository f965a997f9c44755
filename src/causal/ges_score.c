/* causal/ges_score.c: the decomposable local scores GES uses (Gaussian BIC, BDeu) and a
 * cache of them keyed by (node, parent set). */
#include "score_impl.h"
#include "ges_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_sf_gamma.h>

void latens_causal_ges_options_default(latens_causal_ges_options *opt) {
  if (!opt) return;
  opt->score = LATENS_CAUSAL_SCORE_AUTO;
  opt->penalty_discount = 1.0;
  opt->ess = 1.0;
  opt->max_parents = -1;
}

static double bic(const ges_scorer *sc, size_t y, const size_t *pa, size_t k) {
  const double rss = k ? cs_regress_cov(sc->S, sc->p, y, pa, k, sc->beta, sc->work)
                       : sc->S[y + y * sc->p];
  const double n = (double)sc->n;
  if (rss < 0 || !(rss > 0)) return -INFINITY; /* collinear parents: never chosen */
  return -0.5 * n * log(rss) - sc->c * 0.5 * (double)(k + 1) * log(n);
}

static int cmp_u64(const void *a, const void *b) {
  const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* BDeu: rows keyed by (parent configuration, y) in mixed radix, sorted, then counted. */
static double bdeu(const ges_scorer *sc, size_t y, const size_t *pa, size_t k) {
  const size_t n = sc->n, r = sc->levels[y];
  double q = 1.0;
  for (size_t a = 0; a < k; a++) q *= (double)sc->levels[pa[a]];
  if (q * (double)r > 1.8e19) return -INFINITY; /* beyond a 64-bit key: never chosen */
  uint64_t *key = sc->keys;
  for (size_t t = 0; t < n; t++) {
    uint64_t v = 0;
    for (size_t a = 0; a < k; a++) v = v * sc->levels[pa[a]] + (uint64_t)sc->codes[pa[a]][t];
    key[t] = v * r + (uint64_t)sc->codes[y][t];
  }
  qsort(key, n, sizeof *key, cmp_u64);
  const double ajk = sc->ess / (q * (double)r), aj = sc->ess / q;
  const double lg_ajk = gsl_sf_lngamma(ajk), lg_aj = gsl_sf_lngamma(aj);
  double s = 0.0;
  size_t t = 0;
  while (t < n) { /* one parent configuration j */
    const uint64_t j = key[t] / r;
    size_t Nj = 0;
    while (t < n && key[t] / r == j) {
      const uint64_t c = key[t];
      size_t Njk = 0;
      while (t < n && key[t] == c) Njk++, t++;
      s += gsl_sf_lngamma(ajk + (double)Njk) - lg_ajk;
      Nj += Njk;
    }
    s += lg_aj - gsl_sf_lngamma(aj + (double)Nj);
  }
  return s;
}

double ges_score_compute(ges_scorer *sc, size_t y, const size_t *pa, size_t k) {
  return sc->kind == LATENS_CAUSAL_SCORE_BIC ? bic(sc, y, pa, k) : bdeu(sc, y, pa, k);
}

/* Open-addressing cache for p <= 64 (parent sets as bit masks). */
static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static int cache_grow(ges_scorer *sc) {
  const size_t cap = sc->cap ? 2 * sc->cap : 1024;
  ges_entry *t = calloc(cap, sizeof *t);
  if (!t) return LATENS_ENOMEM;
  for (size_t i = 0; i < sc->cap; i++) {
    if (!sc->table[i].used) continue;
    size_t h = mix(sc->table[i].mask * 131 + sc->table[i].y) & (cap - 1);
    while (t[h].used) h = (h + 1) & (cap - 1);
    t[h] = sc->table[i];
  }
  free(sc->table);
  sc->table = t, sc->cap = cap;
  return LATENS_OK;
}

double ges_score(ges_scorer *sc, size_t y, const size_t *pa, size_t k) {
  if (sc->p > 64) return ges_score_compute(sc, y, pa, k);
  uint64_t mask = 0;
  for (size_t a = 0; a < k; a++) mask |= (uint64_t)1 << pa[a];
  if (sc->cap) {
    size_t h = mix(mask * 131 + y) & (sc->cap - 1);
    while (sc->table[h].used) {
      if (sc->table[h].mask == mask && sc->table[h].y == y) return sc->table[h].score;
      h = (h + 1) & (sc->cap - 1);
    }
  }
  const double s = ges_score_compute(sc, y, pa, k);
  sc->computed++;
  if (2 * (sc->size + 1) > sc->cap && cache_grow(sc) != LATENS_OK) return s; /* uncached */
  size_t h = mix(mask * 131 + y) & (sc->cap - 1);
  while (sc->table[h].used) h = (h + 1) & (sc->cap - 1);
  sc->table[h] = (ges_entry){mask, y, s, 1};
  sc->size++;
  return s;
}

void ges_scorer_free(ges_scorer *sc) {
  if (!sc) return;
  free(sc->S), free(sc->beta), free(sc->work), free(sc->keys), free(sc->codes);
  free(sc->levels), free(sc->table);
  memset(sc, 0, sizeof *sc);
}

int ges_scorer_init(ges_scorer *sc, const char *fn, const latens_causal_data *d,
                    const latens_causal_ges_options *o) {
  memset(sc, 0, sizeof *sc);
  if (!d) LATENS_ERRORF(LATENS_EINVAL, "%s: data is NULL", fn);
  if (!(o->penalty_discount > 0) || !isfinite(o->penalty_discount))
    LATENS_ERRORF(LATENS_EDOM, "%s: penalty_discount = %g is not positive", fn, o->penalty_discount);
  if (!(o->ess > 0) || !isfinite(o->ess))
    LATENS_ERRORF(LATENS_EDOM, "%s: ess = %g is not positive", fn, o->ess);
  const int disc = latens_causal_data_is_discrete(d);
  int kind = o->score == LATENS_CAUSAL_SCORE_AUTO ? (disc ? LATENS_CAUSAL_SCORE_BDEU : LATENS_CAUSAL_SCORE_BIC) : o->score;
  if (kind != LATENS_CAUSAL_SCORE_BIC && kind != LATENS_CAUSAL_SCORE_BDEU)
    LATENS_ERRORF(LATENS_EINVAL, "%s: unknown score %d", fn, o->score);
  if ((kind == LATENS_CAUSAL_SCORE_BDEU) != disc)
    LATENS_ERRORF(LATENS_EINVAL, "%s: the %s score needs %s data", fn,
                  kind == LATENS_CAUSAL_SCORE_BIC ? "BIC" : "BDeu",
                  kind == LATENS_CAUSAL_SCORE_BIC ? "continuous" : "discrete");
  sc->kind = kind, sc->c = o->penalty_discount, sc->ess = o->ess;
  sc->n = latens_causal_data_n(d), sc->p = latens_causal_data_p(d);
  const size_t n = sc->n, p = sc->p;
  if (kind == LATENS_CAUSAL_SCORE_BIC) {
    const double *X;
    size_t ldx;
    int status = cs_data_continuous(fn, d, &X, &sc->n, &sc->p, &ldx);
    if (status != LATENS_OK) return status;
    double *Y = malloc(latens_mul_size(n, p) * sizeof *Y);
    sc->S = malloc(p * p * sizeof *sc->S), sc->beta = malloc(p * sizeof *sc->beta);
    sc->work = malloc((p * p + p) * sizeof *sc->work);
    if (!Y || !sc->S || !sc->beta || !sc->work) {
      free(Y), ges_scorer_free(sc);
      LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for n = %zu, p = %zu", fn, n, p);
    }
    cs_center(X, n, p, ldx, Y, 0);
    cs_cov(Y, n, p, sc->S);
    free(Y);
    status = cs_check_collinear(fn, sc->S, p);
    if (status != LATENS_OK) ges_scorer_free(sc);
    return status;
  }
  sc->keys = malloc((n ? n : 1) * sizeof *sc->keys), sc->codes = malloc(p * sizeof *sc->codes);
  sc->levels = malloc(p * sizeof *sc->levels);
  if (!sc->keys || !sc->codes || !sc->levels) {
    ges_scorer_free(sc);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for n = %zu, p = %zu", fn, n, p);
  }
  for (size_t j = 0; j < p; j++) {
    sc->codes[j] = latens_causal_data_codes(d, j);
    sc->levels[j] = latens_causal_data_levels(d, j);
    if (!sc->codes[j] || sc->levels[j] == 0) {
      ges_scorer_free(sc);
      LATENS_ERRORF(LATENS_EINVAL, "%s: column %zu has no codes", fn, j + 1);
    }
  }
  return LATENS_OK;
}

int latens_causal_local_score(const latens_causal_data *d, const latens_causal_ges_options *opt,
                              size_t y, const size_t *pa, size_t k, double *score) {
  static const char fn[] = "latens_causal_local_score";
  latens_causal_ges_options o;
  latens_causal_ges_options_default(&o);
  if (opt) o = *opt;
  if (!score || (k && !pa)) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  ges_scorer sc;
  int status = ges_scorer_init(&sc, fn, d, &o);
  if (status != LATENS_OK) return status;
  if (y >= sc.p) status = LATENS_EINVAL;
  for (size_t a = 0; a < k && status == LATENS_OK; a++) {
    if (pa[a] >= sc.p || pa[a] == y) status = LATENS_EINVAL;
    for (size_t b = 0; b < a; b++)
      if (pa[b] == pa[a]) status = LATENS_EINVAL;
  }
  if (status != LATENS_OK) {
    ges_scorer_free(&sc);
    LATENS_ERRORF(status, "%s: node %zu with %zu parents: an index is out of range (p = %zu), "
                  "repeated or the node itself", fn, y, k, latens_causal_data_p(d));
  }
  *score = ges_score_compute(&sc, y, pa, k);
  ges_scorer_free(&sc);
  return LATENS_OK;
}
