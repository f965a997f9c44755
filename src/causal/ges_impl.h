/* causal/ges_impl.h: GES's local scores and their cache (ges_score.c), used by ges.c. */
#ifndef LATENS_CAUSAL_GES_IMPL_H
#define LATENS_CAUSAL_GES_IMPL_H
#include <stdint.h>
#include "score_impl.h"

typedef struct {
  uint64_t mask;
  size_t y;
  double score;
  int used;
} ges_entry;

typedef struct {
  int kind;              /* LATENS_CAUSAL_SCORE_BIC or _BDEU */
  size_t n, p;
  double c, ess;
  double *S, *beta, *work;          /* BIC: covariance (1/n) and regression scratch */
  const int **codes;                /* BDeu: columns as codes */
  size_t *levels;
  uint64_t *keys;                   /* BDeu: n sort keys */
  ges_entry *table;                 /* cache (p <= 64), power-of-two capacity */
  size_t cap, size;
  unsigned long long computed;      /* scores computed (not served from the cache) */
} ges_scorer;

LATENS_INTERNAL int ges_scorer_init(ges_scorer *sc, const char *fn, const latens_causal_data *d,
                                    const latens_causal_ges_options *o);
LATENS_INTERNAL void ges_scorer_free(ges_scorer *sc);
/* Local score of y given pa[0..k) (uncached / cached).  -Inf for a parent set the score
 * cannot use (collinear parents, too many configurations). */
LATENS_INTERNAL double ges_score_compute(ges_scorer *sc, size_t y, const size_t *pa, size_t k);
LATENS_INTERNAL double ges_score(ges_scorer *sc, size_t y, const size_t *pa, size_t k);
#endif
