/* causal/skeleton.h: the PC-stable adjacency search shared by PC and FCI. */
#ifndef LATENS_CAUSAL_SKELETON_H
#define LATENS_CAUSAL_SKELETON_H

#include "causal_impl.h"

typedef struct {
  size_t p;
  unsigned char *adj;  /* p x p, symmetric */
  unsigned char *sepd; /* p x p: 1 when a separating set was found (the pair is separated) */
  size_t **sep;        /* p x p (entries i < j used): explicit separating sets (FCI's
                          Possible-D-SEP stage), sorted; level removals are lazy (below) */
  size_t *nsep;
  int depth;           /* the last depth searched */
  /* Separating sets found by the level search are not stored: the search stops at the first
   * set, and "v is in the union of all separating sets of the level where (i, j) went" is
   * decided when asked, from that level's frozen adjacencies (snap[d]), by testing only the
   * sets that contain v.  Same answers as computing every union, far fewer tests. */
  int *sepdepth;       /* p x p (i < j): the level of removal, -1 when the set is explicit */
  unsigned char **snap;/* snap[d]: p x p adjacency frozen at level d */
  latens_causal_citest *t;
  double alpha;
  int err;             /* first error of a lazy membership test */
} cg_skel;

static inline size_t cg_pair(size_t p, size_t i, size_t j) { return i < j ? i * p + j : j * p + i; }

LATENS_INTERNAL void latens_causal_skel_free(cg_skel *s);
/* PC-stable adjacency search (Colombo & Maathuis 2014, causal-learn's variant): at depth d,
 * with adjacencies frozen, every ordered adjacent pair (x, y) tests x _||_ y | S for every
 * S of size d in adj(x) \ {y} until one gives p > alpha; the pair is then removed, and its
 * separating set is (lazily, see above) the union of all such S from both directions at
 * that depth, as causal-learn computes it.  Tests of
 * one depth run in parallel; results are merged in a fixed order.  A pair forbidden both ways
 * starts nonadjacent; a required pair that the tests separated is made adjacent again after
 * the search (Tetrad's rule), with no separating set. */
LATENS_INTERNAL int latens_causal_skeleton(latens_causal_citest *t, const latens_causal_knowledge *k,
                                           const latens_causal_pc_options *o,
                                           const latens_progress *progress, cg_skel *s);
/* 1 when v is in the separating set of (i, j) (the union over the removal level; may run CI
 * tests, not thread-safe; a failing test sets s->err and answers 0). */
LATENS_INTERNAL int latens_causal_in_sepset(cg_skel *s, size_t i, size_t j, size_t v);
/* Remove i - j and set its separating set to S (FCI's possible-d-sep stage). */
LATENS_INTERNAL int latens_causal_skel_separate(cg_skel *s, size_t i, size_t j, const size_t *S,
                                                size_t k);
/* Reports and returns LATENS_EDOM/EINVAL for out-of-range options. */
LATENS_INTERNAL int latens_causal_check_options(const latens_causal_pc_options *o, const char *fn);
/* A graph without edges on the test's variables (named as the test names them). */
LATENS_INTERNAL latens_causal_graph *latens_causal_graph_from_test(const latens_causal_citest *t);
/* The common start of PC and FCI, reporting as fn: checks the arguments, fills *o (opt or the
 * defaults), runs the skeleton stage into *s and allocates the output graph *g over the test's
 * variables.  On failure nothing is left to free. */
LATENS_INTERNAL int latens_causal_search_begin(const char *fn, latens_causal_citest *t,
                                               const latens_causal_knowledge *k,
                                               const latens_causal_pc_options *opt,
                                               const latens_progress *progress,
                                               latens_causal_graph **out,
                                               latens_causal_pc_options *o, cg_skel *s,
                                               latens_causal_graph **g);
/* The number of OpenMP threads to use for o (1 without OpenMP). */
LATENS_INTERNAL int latens_causal_threads(const latens_causal_pc_options *o);

#endif
