/* causal/causal_impl.h: the causal module's private structures, shared by its source files. */
#ifndef LATENS_CAUSAL_IMPL_H
#define LATENS_CAUSAL_IMPL_H

#include "../core/internal.h"
#include <latens/causal.h>

struct latens_causal_graph {
  size_t p, cap;        /* nodes, allocated nodes */
  char **names;         /* p names */
  int *latent;          /* p flags */
  unsigned char *mark;  /* cap x cap: mark[i*cap + j] = mark at j on the edge i *-* j */
};

#define CG_MARK(g, i, j) ((g)->mark[(size_t)(i) * (g)->cap + (size_t)(j)])
#define CG_ADJ(g, i, j) (CG_MARK(g, i, j) != LATENS_CAUSAL_NONE)
/* i --> j */
#define CG_DIRECTED(g, i, j) \
  (CG_MARK(g, i, j) == LATENS_CAUSAL_ARROW && CG_MARK(g, j, i) == LATENS_CAUSAL_TAIL)
/* i --- j */
#define CG_UNDIRECTED(g, i, j) \
  (CG_MARK(g, i, j) == LATENS_CAUSAL_TAIL && CG_MARK(g, j, i) == LATENS_CAUSAL_TAIL)

static inline void cg_set(latens_causal_graph *g, size_t i, size_t j, int mi, int mj) {
  CG_MARK(g, j, i) = (unsigned char)mi;
  CG_MARK(g, i, j) = (unsigned char)mj;
}

struct latens_causal_knowledge {
  size_t p;
  unsigned char *forbid, *require; /* p x p, [i*p + j]: about i --> j */
  int *tier;
};

/* Meek rules R1-R3 (R4 too when k has required edges or tiers) to the fixpoint, on a graph of
 * -->, --- (and ignored <->) edges, in causal-learn's order of triples so that conflicting
 * inputs resolve the same way.  Returns LATENS_ENOMEM or LATENS_OK. */
LATENS_INTERNAL int latens_causal_meek(latens_causal_graph *g, const latens_causal_knowledge *k);

/* Ordered-pair adjacency list in causal-learn's find_adj order (tails first, then arrowheads,
 * each by row of its encoding): pairs (a[m], b[m]), m < *np.  Caller frees *a (b = a + cnt). */
LATENS_INTERNAL int latens_causal_find_adj(const latens_causal_graph *g, size_t **a, size_t *np);

/* Enumerate k-subsets of {0..m-1} in lexicographic order: idx holds the current subset; returns
 * 0 when there is no next subset. */
static inline int cg_next_subset(size_t *idx, size_t k, size_t m) {
  if (k == 0) return 0;
  size_t i = k;
  while (i > 0 && idx[i - 1] == m - k + i - 1) i--;
  if (i == 0) return 0;
  idx[i - 1]++;
  for (size_t t = i; t < k; t++) idx[t] = idx[t - 1] + 1;
  return 1;
}

#endif
