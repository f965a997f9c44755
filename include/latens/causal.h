/* latens/causal.h: causal graphs, data sets, conditional-independence tests, background
 * knowledge, PC-stable, FCI, graph comparison and graph I/O.
 *
 * Graphs are mixed graphs over named nodes (some may be latent) whose edges carry one endpoint
 * mark at each end: tail, arrow or circle.  So one type holds DAGs, CPDAGs (--> and ---),
 * MAGs/PAGs (-->, <->, o->, o-o, --o) and graphs with latent nodes.  Node indices are 0-based
 * and follow the data's column order.  The score-based and LiNGAM-type methods
 * (latens/causal_score.h) return this same type.
 */
#ifndef LATENS_CAUSAL_H
#define LATENS_CAUSAL_H

#include <stdio.h>
#include <latens/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------ graphs */

/* Endpoint marks.  LATENS_CAUSAL_NONE at both ends means "not adjacent". */
enum {
  LATENS_CAUSAL_NONE = 0,
  LATENS_CAUSAL_TAIL = 1,
  LATENS_CAUSAL_ARROW = 2,
  LATENS_CAUSAL_CIRCLE = 3
};

typedef struct latens_causal_graph latens_causal_graph;

/* p nodes and no edges.  names: p strings (copied) or NULL for "X1".."Xp".  NULL (error
 * handler called) on failure.  Nodes start observed (latent flag 0). */
LATENS_EXPORT latens_causal_graph *latens_causal_graph_alloc(size_t p, const char *const *names);
LATENS_EXPORT void latens_causal_graph_free(latens_causal_graph *g); /* NULL-safe */
/* A deep copy, or NULL on failure. */
LATENS_EXPORT latens_causal_graph *latens_causal_graph_copy(const latens_causal_graph *g);
/* Append a node (name copied; NULL gives "L<k>"), latent or not; its index goes to *index
 * (may be NULL).  Existing indices are unchanged. */
LATENS_EXPORT int latens_causal_graph_add_node(latens_causal_graph *g, const char *name,
                                               int latent, size_t *index);
LATENS_EXPORT size_t latens_causal_graph_nnodes(const latens_causal_graph *g);
/* Number of adjacent pairs. */
LATENS_EXPORT size_t latens_causal_graph_nedges(const latens_causal_graph *g);
/* Node i's name (owned by g), NULL when i is out of range. */
LATENS_EXPORT const char *latens_causal_graph_name(const latens_causal_graph *g, size_t i);
/* Index of the node called name, or -1. */
LATENS_EXPORT long latens_causal_graph_index(const latens_causal_graph *g, const char *name);
LATENS_EXPORT int latens_causal_graph_set_latent(latens_causal_graph *g, size_t i, int latent);
/* 1 latent, 0 observed, -1 out of range. */
LATENS_EXPORT int latens_causal_graph_is_latent(const latens_causal_graph *g, size_t i);

/* Set the edge between i and j (i != j) to have mark_i at i and mark_j at j; both NONE
 * removes it; exactly one NONE is LATENS_EINVAL.  i --> j is (TAIL, ARROW). */
LATENS_EXPORT int latens_causal_graph_set_edge(latens_causal_graph *g, size_t i, size_t j,
                                               int mark_i, int mark_j);
/* Remove every edge (nodes kept). */
LATENS_EXPORT void latens_causal_graph_clear_edges(latens_causal_graph *g);
/* The mark at j on the edge i *-* j (LATENS_CAUSAL_NONE when not adjacent or out of range).
 * i --> j: mark(g, i, j) == ARROW and mark(g, j, i) == TAIL. */
LATENS_EXPORT int latens_causal_graph_mark(const latens_causal_graph *g, size_t i, size_t j);
LATENS_EXPORT int latens_causal_graph_adjacent(const latens_causal_graph *g, size_t i, size_t j);

/* Edge type text, from i to j: "-->", "<--", "---", "<->", "o->", "<-o", "o-o", "--o", "o--",
 * or "" when not adjacent / invalid marks. */
LATENS_EXPORT const char *latens_causal_edge_type(int mark_i, int mark_j);
/* Parse an edge type text ("-->", "<--", "---", "<->", "o->", "<-o", "o-o", "--o", "o--")
 * into the marks at its left and right ends.  LATENS_EPARSE if unknown. */
LATENS_EXPORT int latens_causal_edge_parse(const char *type, int *mark_left, int *mark_right);

/* Each adjacent pair once, in canonical orientation for printing: from < to by index except
 * that an edge with an arrow at one end only, or a circle at one end and a tail at the other,
 * is listed with the arrow (circle) at `to` — so the type is one of -->, ---, <->, o->, o-o,
 * --o.  Fills up to cap triples (from[k], to[k], type marks) and returns the number of edges
 * (call with cap 0 to count).  Order: by from, then to, after canonicalisation by index. */
LATENS_EXPORT size_t latens_causal_graph_edges(const latens_causal_graph *g, size_t *from,
                                               size_t *to, int *mark_from, int *mark_to,
                                               size_t cap);

/* 1 when g is directed (only -->) and has no directed cycle, 0 otherwise. */
LATENS_EXPORT int latens_causal_graph_is_dag(const latens_causal_graph *g);
/* The CPDAG (essential graph) of the DAG `dag` into *out (new graph, same nodes):
 * v-structures kept, then Meek R1-R3 to the fixpoint.  LATENS_EINVAL if dag is not a DAG. */
LATENS_EXPORT int latens_causal_graph_cpdag(const latens_causal_graph *dag,
                                            latens_causal_graph **out);

/* --------------------------------------------------------------------------- data sets */

typedef struct latens_causal_data latens_causal_data;

/* n x p data, column-major (copied).  discrete = 0: continuous, every entry finite, n >= 4;
 * the correlation matrix is computed once here (a constant column is LATENS_EDOM naming it).
 * discrete = 1: every entry an integer (any range; recoded internally to 0..k-1 in increasing
 * order of value; a non-integer or non-finite cell is LATENS_EDOM/LATENS_ENOTFINITE naming
 * row and column, 1-based), at most 2^20 levels per column.  names: p strings or NULL.
 * n < p is allowed (Fisher-z then returns p-values from a pseudo-inverse, see below). */
LATENS_EXPORT int latens_causal_data_alloc(const latens_mat *x, const char *const *names,
                                           int discrete, latens_causal_data **out);
/* From a table read by latens_table_read* (names from its header). */
LATENS_EXPORT int latens_causal_data_from_table(const latens_table *t, int discrete,
                                                latens_causal_data **out);
LATENS_EXPORT void latens_causal_data_free(latens_causal_data *d); /* NULL-safe */
LATENS_EXPORT size_t latens_causal_data_n(const latens_causal_data *d);
LATENS_EXPORT size_t latens_causal_data_p(const latens_causal_data *d);
LATENS_EXPORT int latens_causal_data_is_discrete(const latens_causal_data *d);
LATENS_EXPORT const char *latens_causal_data_name(const latens_causal_data *d, size_t j);
/* The data as given (n x p, owned by d). */
LATENS_EXPORT const latens_mat *latens_causal_data_matrix(const latens_causal_data *d);
/* p x p correlation matrix (continuous data; NULL for discrete). */
LATENS_EXPORT const latens_mat *latens_causal_data_corr(const latens_causal_data *d);
/* Number of levels of column j (discrete data; 0 otherwise). */
LATENS_EXPORT size_t latens_causal_data_levels(const latens_causal_data *d, size_t j);
/* Column j recoded to 0..levels-1 (discrete data; NULL otherwise), n entries. */
LATENS_EXPORT const int *latens_causal_data_codes(const latens_causal_data *d, size_t j);
/* A new data set with rows rows[0..m) of d (a bootstrap resample; rows may repeat).
 * Continuous: correlation recomputed; a column that becomes constant is LATENS_EDOM. */
LATENS_EXPORT int latens_causal_data_resample(const latens_causal_data *d, const size_t *rows,
                                              size_t m, latens_causal_data **out);

/* ------------------------------------------------------------ conditional-independence tests */

enum {
  LATENS_CAUSAL_TEST_FISHERZ = 0, /* Gaussian partial correlation, continuous data */
  LATENS_CAUSAL_TEST_CHISQ = 1,   /* Pearson chi-square, discrete data */
  LATENS_CAUSAL_TEST_GSQ = 2,     /* likelihood-ratio G^2, discrete data */
  LATENS_CAUSAL_TEST_DSEP = 3,    /* d-separation in a known DAG: p-value 1 or 0 */
  LATENS_CAUSAL_TEST_CUSTOM = 4
};

/* A user test: the p-value of x _||_ y | S (S[0..k), distinct, not containing x or y).
 * Must be callable from several threads at once (it is, for the PC/FCI drivers). */
typedef int latens_causal_test_fn(void *user, size_t x, size_t y, const size_t *S, size_t k,
                                  double *pvalue);

typedef struct latens_causal_citest latens_causal_citest;

/* A test on d (which must outlive the test): FISHERZ needs continuous data, CHISQ/GSQ
 * discrete.  cache != 0 keeps every result keyed by (min(x,y), max(x,y), sorted S), shared
 * between threads under a lock (results are deterministic, so caching never changes them).
 * Fisher-z (as pcalg/causal-learn): r = -P_xy / sqrt(P_xx P_yy) from P the inverse of the
 * correlation submatrix on {x, y} u S; when that submatrix is singular (collinear columns,
 * n <= p) the result is documented, never an error: when x or y is (to 1e-10 in residual
 * variance) a linear function of S, r = 0 and p = 1 (nothing is left to depend on); when S
 * itself is collinear, P is the Moore-Penrose pseudo-inverse (eigenvalues below 1e-10 times
 * the largest dropped).  |r| is clipped to 1 - 1e-7,
 * z = sqrt(n - k - 3) atanh(r), p = erfc(|z| / sqrt 2); n - k - 3 <= 0 gives p = 1 (no
 * evidence).  Chi-square / G^2 as causal-learn: strata are the configurations of S present
 * in the data; df = sum over strata of (|X| - 1 - zero rows)(|Y| - 1 - zero columns), where
 * levels with zero count in the stratum do not count; df = 0 gives p = 1. */
LATENS_EXPORT latens_causal_citest *latens_causal_citest_alloc(const latens_causal_data *d,
                                                               int test, int cache);
/* The d-separation oracle in the DAG dag (copied; must be a DAG; its latent nodes are not
 * test variables: x, y, S index the observed nodes in order). */
LATENS_EXPORT latens_causal_citest *latens_causal_citest_alloc_dsep(const latens_causal_graph *dag);
/* A user test on p variables named names (NULL: X1..Xp). */
LATENS_EXPORT latens_causal_citest *latens_causal_citest_alloc_custom(size_t p,
                                                                      const char *const *names,
                                                                      latens_causal_test_fn *fn,
                                                                      void *user, int cache);
LATENS_EXPORT void latens_causal_citest_free(latens_causal_citest *t); /* NULL-safe */
LATENS_EXPORT size_t latens_causal_citest_p(const latens_causal_citest *t);
/* Name of variable j, as in the data / observed DAG nodes. */
LATENS_EXPORT const char *latens_causal_citest_name(const latens_causal_citest *t, size_t j);
/* p-value of x _||_ y | S.  Thread-safe.  LATENS_EINVAL for bad indices (x == y, an index
 * out of range, x or y in S, a repeated element of S). */
LATENS_EXPORT int latens_causal_citest_pvalue(latens_causal_citest *t, size_t x, size_t y,
                                              const size_t *S, size_t k, double *pvalue);
/* Number of tests computed (not served from the cache) since allocation. */
LATENS_EXPORT unsigned long long latens_causal_citest_count(const latens_causal_citest *t);

/* ------------------------------------------------------------------- background knowledge */

typedef struct latens_causal_knowledge latens_causal_knowledge;

/* Knowledge about p variables: nothing required, nothing forbidden, every tier 0. */
LATENS_EXPORT latens_causal_knowledge *latens_causal_knowledge_alloc(size_t p);
LATENS_EXPORT void latens_causal_knowledge_free(latens_causal_knowledge *k); /* NULL-safe */
/* The edge i --> j is forbidden (i may still be an indirect cause of j). */
LATENS_EXPORT int latens_causal_knowledge_forbid(latens_causal_knowledge *k, size_t i, size_t j);
/* i --> j is required. */
LATENS_EXPORT int latens_causal_knowledge_require(latens_causal_knowledge *k, size_t i, size_t j);
/* Tier of i (>= 0): an edge from a later tier to an earlier one is forbidden. */
LATENS_EXPORT int latens_causal_knowledge_set_tier(latens_causal_knowledge *k, size_t i,
                                                   int tier);
/* 1 when i --> j is forbidden by an explicit rule or by the tiers. */
LATENS_EXPORT int latens_causal_knowledge_is_forbidden(const latens_causal_knowledge *k, size_t i,
                                                       size_t j);
LATENS_EXPORT int latens_causal_knowledge_is_required(const latens_causal_knowledge *k, size_t i,
                                                      size_t j);
/* Read a knowledge file for the variables of t.  One statement a line, names as in the data,
 * '#' comments:  "forbid A B" (A --> B forbidden), "require A B", "tier 0 A B C ...".
 * Errors name path:line. */
LATENS_EXPORT int latens_causal_knowledge_read(const char *path, const latens_causal_citest *t,
                                               latens_causal_knowledge **out);

/* -------------------------------------------------------------------------- PC-stable, FCI */

/* Unshielded-collider conflict handling (causal-learn's uc_priority, sepset rule). */
enum {
  LATENS_CAUSAL_UC_OVERWRITE = 0,        /* later orientations overwrite earlier ones */
  LATENS_CAUSAL_UC_BIDIRECTED = 1,       /* conflicting orientations give <-> */
  LATENS_CAUSAL_UC_PRIORITY_EXISTING = 2,/* an existing arrowhead is never undone */
  LATENS_CAUSAL_UC_PRIORITY_STRONGER = 3 /* colliders in ascending order of max p(x _||_ z | S
                                            with y in S); existing arrowheads kept */
};

typedef struct {
  double alpha;      /* significance level in (0, 1); default 0.05 */
  int max_depth;     /* largest conditioning-set size, -1 (default) unlimited */
  int uc_priority;   /* LATENS_CAUSAL_UC_*, default LATENS_CAUSAL_UC_PRIORITY_STRONGER */
  int threads;       /* OpenMP threads, 0 (default) the OpenMP default; output identical */
  int meek;          /* PC: apply Meek rules (default 1) */
  /* FCI's Possible-D-SEP stage: 0 skip it, 1 (default) Possible-D-SEP as Spirtes et al.
   * (2000) define it, 2 causal-learn's effective set (the adjacencies only: its search for
   * longer paths never adds a node), to reproduce its answers. */
  int fci_pdsep;
  int fci_max_path;  /* FCI: longest discriminating path searched, -1 unlimited (default) */
  /* FCI, fci_pdsep 1: largest subset of Possible-D-SEP tried as a separating set (also
   * bounded by max_depth); default 3, -1 unlimited.  The full search is exponential in the
   * size of Possible-D-SEP (tens of nodes on alarm or insurance: no end in minutes), so it is
   * bounded by default as in Tetrad's and pcalg's practice; only sets with a node outside
   * adj(x) are tested (the skeleton stage tested the others).  An exact PAG under the
   * d-separation oracle needs -1: a pair whose only separating sets are larger keeps its edge. */
  int fci_pds_depth;
} latens_causal_pc_options;

LATENS_EXPORT void latens_causal_pc_options_default(latens_causal_pc_options *opt);

/* PC-stable (Colombo & Maathuis 2014) with test t, as causal-learn runs it: skeleton by
 * levels with frozen adjacency sets (order-independent; the tests of one level run in
 * parallel and are merged in a fixed order, so the output does not depend on the thread
 * count); a pair's separating set is the union of every separating set of the level where it
 * was removed (both directions); colliders by the sepset rule resolved per opt->uc_priority;
 * then Meek's R1-R3 to the fixpoint.  Knowledge k (may be NULL, else about the test's p
 * variables): a pair forbidden both ways is never adjacent, a required or one-way-forbidden
 * edge is oriented before the colliders, and no rule orients against k; a required pair the
 * tests separate is made adjacent again after the search.  *out: a CPDAG-like
 * graph (-->, ---; <-> only with UC_BIDIRECTED).  opt NULL: defaults.  progress may be NULL
 * (called once per level; non-zero stops with LATENS_EINTERRUPTED). */
LATENS_EXPORT int latens_causal_pc(latens_causal_citest *t, const latens_causal_knowledge *k,
                                   const latens_causal_pc_options *opt,
                                   const latens_progress *progress, latens_causal_graph **out);

/* FCI (Spirtes, Meek & Richardson 1995; Zhang 2008): the PC-stable skeleton, colliders with
 * circle marks, the Possible-D-SEP removal stage (opt->fci_pdsep; its tests run in parallel),
 * colliders again, then Zhang's rules R1-R4 (R4 on discriminating paths, decided by the
 * separating sets) and R8-R10 to the fixpoint.  R5-R7 are not applied: they concern
 * selection variables, and the output is the PAG under latent confounding without selection
 * bias (also causal-learn's and Tetrad's default).  Knowledge k (may be NULL): a pair forbidden
 * both ways is never adjacent; before the collider rule (Tetrad's fciOrientbk) a required
 * i --> j is oriented i --> j and a forbidden i --> j (explicit or by tiers) gets an arrowhead
 * at i only (in an ancestral graph an adjacency with i an ancestor of j is i --> j, so the
 * arrowhead is all that is licensed); no rule then puts an arrowhead over a tail from k.  A
 * required pair that the tests separate is made adjacent again after the adjacency search,
 * with no separating set (Tetrad's rule), and the Possible-D-SEP stage skips it.  With the
 * d-separation oracle and fci_pds_depth -1 the output is the true PAG exactly (checked
 * against the PAG built by definition, tests/causal/test_fci_oracle.c); the default depth 3
 * can leave an edge whose only separating sets are larger.  *out: a PAG (-->, <->, o->, o-o).
 * Use a caching test: FCI repeats tests.  Other rule variants: latens_causal_fci_rules.
 * progress may be NULL: called per skeleton level, per batch of edges of the Possible-D-SEP
 * stage ("fci possible-d-sep", done/total edges) and per orientation round; non-zero stops
 * with LATENS_EINTERRUPTED and no graph. */
LATENS_EXPORT int latens_causal_fci(latens_causal_citest *t, const latens_causal_knowledge *k,
                                    const latens_causal_pc_options *opt,
                                    const latens_progress *progress, latens_causal_graph **out);

/* Orientation-rule variants of FCI (latens_causal_fci_rules). */
enum {
  /* Zhang (2008): R1-R4, R8-R10 with uncovered potentially directed paths; sound and complete
   * (no selection bias).  The default of latens_causal_fci. */
  LATENS_CAUSAL_FCI_RULES_ZHANG = 0,
  /* causal-learn's fci() orientation phase, to reproduce its answers: its rule order, its R4
   * (two fresh CI tests on the discriminating path before the separating set; b o-> c only),
   * R8 on one order of each neighbour pair, and R9/R10 on semi-directed reachability from
   * any neighbour whose mark at a is not an arrow.  Not sound: R9/R10 can put a tail with
   * no licence (b o-o a o-> c, b and c nonadjacent, gives a --> c).  Use with
   * fci_pdsep = 2 to reproduce causal-learn's whole run.  Knowledge is applied as in the
   * default (Tetrad's marks, without the extra tail causal-learn puts for a forbidden edge). */
  LATENS_CAUSAL_FCI_RULES_CAUSALLEARN = 1
};

/* FCI as latens_causal_fci with the orientation rules chosen by rules
 * (LATENS_CAUSAL_FCI_RULES_*; another value is LATENS_EINVAL). */
LATENS_EXPORT int latens_causal_fci_rules(latens_causal_citest *t, const latens_causal_knowledge *k,
                                          const latens_causal_pc_options *opt, int rules,
                                          const latens_progress *progress,
                                          latens_causal_graph **out);

/* The true PAG of the DAG dag with its latent nodes marginalised (no selection variables):
 * computed as FCI with the d-separation oracle.  Convenience for tests and `compare`. */
LATENS_EXPORT int latens_causal_graph_pag(const latens_causal_graph *dag,
                                          latens_causal_graph **out);

/* ------------------------------------------------------------------------------ compare */

typedef struct {
  size_t shd;           /* adjacency mismatches + endpoint mismatches on shared adjacencies */
  size_t tp_adj, fp_adj, fn_adj;
  double adj_precision, adj_recall, adj_f1; /* NaN-free: 0/0 counts as 1 */
  size_t tp_arrow, fp_arrow, fn_arrow;      /* arrowheads on shared or any adjacencies */
  double arrow_precision, arrow_recall, arrow_f1;
} latens_causal_compare_result;

/* Compare estimate against truth (same node names, matched by name; the truth's latent nodes
 * are ignored, and so are its edges touching them).  SHD as causal-learn: +1 per adjacency in
 * one graph only, +1 per differing endpoint mark on a shared adjacency (so a reversed arc
 * counts 2). Arrowheads: an arrow mark at a node of an edge, counted over all edges of each
 * graph.  LATENS_EINVAL when an estimate node is missing from the truth. */
LATENS_EXPORT int latens_causal_compare(const latens_causal_graph *truth,
                                        const latens_causal_graph *estimate,
                                        latens_causal_compare_result *res);

/* ---------------------------------------------------------------------------------- I/O */

/* Edge-list CSV: header "from,to,type"; then every node in index order as a "name,," line
 * ("name,,latent" for a latent node), so that reading it back keeps the indices; then one
 * edge a line in latens_causal_graph_edges order.  Names are quoted where needed. */
LATENS_EXPORT int latens_causal_graph_write_csv(FILE *f, const latens_causal_graph *g);
/* Graphviz DOT (digraph; dir=both with arrowhead/arrowtail normal, odot or none). */
LATENS_EXPORT int latens_causal_graph_write_dot(FILE *f, const latens_causal_graph *g);
/* {"nodes": [...], "edges": [{"from": "X1", "to": "X2", "type": "-->"}], "latent_nodes": [...]}
 * with a trailing newline. */
LATENS_EXPORT int latens_causal_graph_write_json(FILE *f, const latens_causal_graph *g);
/* Read a graph: the causal-learn graph.txt form ("Graph Nodes:" line of names separated by
 * ';', then "Graph Edges:" and lines "k. A --> B"), or the edge-list CSV above ("from,to,type";
 * a "name,," line adds an isolated node, "name,,latent" a latent one).  Errors name
 * path:line. */
LATENS_EXPORT int latens_causal_graph_read(const char *path, latens_causal_graph **out);
/* Read causal-learn's adjacency-matrix encoding (p rows of p integers; G[i][j] is the mark at
 * i: -1 tail, 1 arrow, 2 circle, 0 none) with the given node names (NULL: X1..Xp). */
LATENS_EXPORT int latens_causal_graph_read_causallearn(const char *path, size_t p,
                                                       const char *const *names,
                                                       latens_causal_graph **out);

#ifdef __cplusplus
}
#endif
#endif
