/* tests/causal/cumulant_gen.h: the cumulant method's test model, shared by the test and
 * bench/causal/bench_score_cumulant (which runs all 50 seeds of the target). */
#ifndef LATENS_TESTS_CAUSAL_CUMULANT_GEN_H
#define LATENS_TESTS_CAUSAL_CUMULANT_GEN_H
#include <math.h>
#include <stdlib.h>
#include <latens/latens.h>
#include "../splitmix.h"

/* The generating model (oracle): latents L1 -> {x1, x2}, L2 -> {x3, x4}, one hidden
 * confounder per pair of its children, and observed edges x1 -> x3, x2 -> x5, x4 -> x6,
 * x5 -> x6 (0-based below).  Latents: centred Exp(1) (unit variance, skewness 2);
 * observed noises: uniform with unit variance.  Weights +-U(0.6, 1.2), fresh per seed. */
enum { CP = 6, CQ = 2 };
static const size_t LCH[CQ][2] = {{0, 1}, {2, 3}};
static const size_t EDGES[][2] = {{0, 2}, {1, 4}, {3, 5}, {4, 5}};
enum { NEDGE = sizeof EDGES / sizeof *EDGES };

static inline double *cumulant_data(size_t n, uint64_t seed) {
  uint64_t s = seed * 7919 + 13;
  double lam[CQ][2], w[NEDGE];
  for (int l = 0; l < CQ; l++)
    for (int c = 0; c < 2; c++) lam[l][c] = (latens_splitmix_unif(&s) < 0 ? -1 : 1) * (0.9 + 0.3 * latens_splitmix_unif(&s));
  for (int e = 0; e < NEDGE; e++) w[e] = (latens_splitmix_unif(&s) < 0 ? -1 : 1) * (0.9 + 0.3 * latens_splitmix_unif(&s));
  double *X = calloc(n * CP, sizeof *X);
  for (size_t t = 0; t < n; t++) {
    double x[CP];
    for (int i = 0; i < CP; i++) x[i] = sqrt(3.0) * latens_splitmix_unif(&s);
    for (int l = 0; l < CQ; l++) {
      const double L = -log(0.5 * (latens_splitmix_unif(&s) + 1.0) + 1e-300) - 1.0;
      for (int c = 0; c < 2; c++) x[LCH[l][c]] += lam[l][c] * L;
    }
    for (int e = 0; e < NEDGE; e++) x[EDGES[e][1]] += w[e] * x[EDGES[e][0]]; /* topological */
    for (int i = 0; i < CP; i++) X[t + i * n] = x[i];
  }
  return X;
}

/* 1 when the run found exactly the two latents with their true children and an order that
 * respects every true edge (observed edges and latent -> child). */
static inline int cumulant_ok(const latens_causal_cumulant_result *r) {
  if (r->q != CQ) return 0;
  int map[CQ] = {-1, -1};
  for (size_t l = 0; l < CQ; l++) {
    size_t ch[CP], k = 0;
    for (size_t i = 0; i < CP; i++)
      if (r->Lambda[i + l * CP] != 0) ch[k++] = i;
    for (int t = 0; t < CQ; t++)
      if (k == 2 && ch[0] == LCH[t][0] && ch[1] == LCH[t][1]) map[l] = t;
  }
  if (map[0] < 0 || map[1] < 0 || map[0] == map[1]) return 0;
  size_t pos[CP + CQ];
  for (size_t k = 0; k < CP + CQ; k++) {
    size_t c = r->order[k];
    pos[c < CP ? c : CP + (size_t)map[c - CP]] = k;
  }
  for (int e = 0; e < NEDGE; e++)
    if (pos[EDGES[e][0]] > pos[EDGES[e][1]]) return 0;
  for (int l = 0; l < CQ; l++)
    for (int c = 0; c < 2; c++)
      if (pos[CP + l] > pos[LCH[l][c]]) return 0;
  return 1;
}

#endif
