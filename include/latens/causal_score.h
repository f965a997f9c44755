/* latens/causal_score.h: score-based and non-Gaussian causal discovery on a latens_causal_data
 * set (latens/causal.h) — DirectLiNGAM, ICA-LiNGAM (with FastICA), the higher-order-cumulant
 * latent-confounder method, NOTEARS, GES (Gaussian BIC, BDeu) — and bootstrap edge
 * frequencies for any method.
 *
 * Every method returns a latens_causal_graph (nodes named as the data's columns, in order;
 * the cumulant method appends latent nodes "L1", "L2", ...) plus its own numbers in caller
 * arrays.  Matrices are column-major p x p with leading dimension p.  Conventions follow each
 * method's paper, and differ:
 *   LiNGAM, cumulant:  x = B x + e,   B[i + j p] is the direct effect of x_j on x_i (j --> i)
 *   NOTEARS:           X = X W + E,   W[i + j p] is the weight of the edge i --> j
 * Continuous methods need continuous data (LATENS_EINVAL for a discrete data set).
 * Bad data: a constant column is refused when the data set is made; perfectly collinear
 * columns give LATENS_ESING naming the column; n < p + 2 gives LATENS_EDOM (the pruning
 * regressions need residual degrees of freedom; FastICA alone accepts n = p + 1).  Nothing here aborts or prints.
 */
#ifndef LATENS_CAUSAL_SCORE_H
#define LATENS_CAUSAL_SCORE_H
#include <stdint.h>
#include <latens/core.h>
#include <latens/causal.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ LiNGAM family */

typedef struct {
  /* Pruning: each variable is regressed (OLS) on all its predecessors in the causal order,
   * and parents are dropped one at a time (least significant first, refitting) until every
   * t-test has p <= prune_alpha.  Default 1e-3; in (0, 1]. */
  double prune_alpha;
  int threads;         /* OpenMP threads, 0 (default) the OpenMP default; output identical */
  /* ICA-LiNGAM only: FastICA settings. */
  int ica_nonlinearity;  /* LATENS_CAUSAL_ICA_LOGCOSH (default) or LATENS_CAUSAL_ICA_EXP */
  size_t ica_max_iter;   /* 1000 */
  double ica_tol;        /* 1e-6: stop when max |1 - |<w_new, w_old>|| < tol */
} latens_causal_lingam_options;

enum { LATENS_CAUSAL_ICA_LOGCOSH = 0, LATENS_CAUSAL_ICA_EXP = 1 };

LATENS_EXPORT void latens_causal_lingam_options_default(latens_causal_lingam_options *opt);

/* DirectLiNGAM (Shimizu et al., JMLR 2011) with the kernel-free pairwise likelihood-ratio
 * measure of Hyvarinen & Smith (JMLR 2013) as in the lingam package: at each step the
 * variable whose regression residuals look most independent is taken as the next root and
 * regressed out of the others (residual regressions use 1/n moments throughout, where the
 * package mixes 1/n and 1/(n-1): a relative difference of 1/n in one coefficient).
 * Deterministic; O(p^3 n) time, the pairs of one step in parallel.
 * order (p entries, may be NULL): the causal order, order[0] a root.  B (p x p, ld p, may be
 * NULL): pruned direct effects.  *out (may be NULL): the DAG of B's non-zeros.
 * opt NULL: defaults.  progress may be NULL (one call per step). */
LATENS_EXPORT int latens_causal_direct_lingam(const latens_causal_data *d,
                                              const latens_causal_lingam_options *opt,
                                              const latens_progress *progress, size_t *order,
                                              double *B, latens_causal_graph **out);

/* FastICA (Hyvarinen 1999) on the n x p data X (column-major, ld ldx >= n): centring,
 * whitening by the covariance's eigen-decomposition, then the symmetric fixed-point iteration
 * with decorrelation W <- (W W^T)^{-1/2} W, from a random orthogonal start drawn from rng.
 * Outputs (p x p, ld p, may be NULL): W the unmixing matrix (s = W (x - mean)), A its
 * inverse (the mixing, x - mean = A s); sources have unit variance.  LATENS_EMAXITER when
 * max_iter passes do not converge (W, A then hold the last iterate).  LATENS_ESING for
 * collinear columns, LATENS_ENOTFINITE naming a NaN/Inf cell, LATENS_EDOM for n < p + 1 or
 * a constant column. */
LATENS_EXPORT int latens_causal_fastica(const double *X, size_t n, size_t p, size_t ldx,
                                        const latens_causal_lingam_options *opt, latens_rng *rng,
                                        double *W, double *A);

/* ICA-LiNGAM (Shimizu et al., JMLR 2006): FastICA, the row permutation of W with the largest
 * |diagonal| (minimum sum of 1/|w_ii|, solved exactly by the Hungarian algorithm), rows scaled
 * to a unit diagonal, B = I - W, a causal order from B as the lingam package finds it (zero
 * the p(p+1)/2 smallest |B|, then one more at a time until B permutes to strictly lower
 * triangular), then pruning as DirectLiNGAM.  FastICA not converging is not an error here
 * (its last iterate is used).  Outputs as latens_causal_direct_lingam. */
LATENS_EXPORT int latens_causal_ica_lingam(const latens_causal_data *d,
                                           const latens_causal_lingam_options *opt,
                                           latens_rng *rng, size_t *order, double *B,
                                           latens_causal_graph **out);

/* ---------------------------------------------------------- higher-order-cumulant method */

typedef struct {
  /* An observed variable is taken as the next root when every pair test "x_i is the only
   * component x_i and x_j share" passes: the 3rd- and 4th-order cross-cumulants of x_i with
   * the regression residual of x_j on x_i (latent components identified so far deflated
   * out) have |z| < root_z, z from the sample standard deviation of the summands.
   * Default 4.0. */
  double root_z;
  /* Pairs whose (deflated) |correlation| is below min_corr are treated as sharing nothing.
   * Default 0.05. */
  double min_corr;
  /* Direct effects (B, Lambda) below prune in absolute value are set to 0 (data scale of
   * the child per unit of the parent; latents have unit variance).  Default 0.15. */
  double prune;
  size_t max_latent;   /* at most this many latent nodes (default 0: p / 2) */
} latens_causal_cumulant_options;

LATENS_EXPORT void latens_causal_cumulant_options_default(latens_causal_cumulant_options *opt);

/* What the cumulant method estimated: p observed variables, q latent ones (q <= p / 2). */
typedef struct {
  size_t p, q;
  double *B;       /* p x p: direct effects among observed variables, B[i + j p]: j --> i */
  double *Lambda;  /* p x q: direct effect of latent l (unit variance) on x_i at [i + l p] */
  double *A;       /* p x q: total effects of latent l on x_i (the closed-form mixing column) */
  double *M;       /* p x p: total effects of the observed noises, M = (I - B)^{-1} unpruned */
  double *kappa3;  /* q: third cumulant of each latent (unit variance) */
  double *kappa4;  /* q: fourth cumulant of each latent */
  size_t *order;   /* p + q: components in the order found; k < p is x_k, p + l is latent l */
  size_t *pair;    /* 2 q: the observed pair whose One-Latent-Component test found latent l */
} latens_causal_cumulant_result;

LATENS_EXPORT void latens_causal_cumulant_result_free(latens_causal_cumulant_result *r);

/* The method of Cai, Huang, Chen, Hao & Zhang (ICML 2023) for linear non-Gaussian models
 * with latent confounders, as reconstructed in the causal reference sheet (section 4; no
 * reference code was available): sample 3rd/4th-order cross-cumulants (plug-in moment
 * estimates with 1/n means, not the unbiased k-statistics: their O(1/n) bias is far below the
 * O(n^-1/2) noise the tests already allow for); repeat
 *   - an observed root if one passes the root test (the cross-cumulants of orders 3 and 4 of
 *     x_i with the residual of x_j on x_i vanish for every associated x_j, identified latents
 *     deflated out); several candidates are ranked by DirectLiNGAM's pairwise likelihood
 *     ratio.  Its total effects M are regression coefficients on deflated covariances, and it
 *     is regressed out of the rest;
 *   - otherwise a latent: among pairs whose residual test fails both ways, the one that best
 *     satisfies the One-Latent-Component condition (kappa4(iijj)^2 = kappa4(iiij)
 *     kappa4(ijjj), and the 3rd- and 4th-order estimates of a_j / a_i agree); loadings
 *     a_i a_j = cov_ij and the ratio in closed form, its loadings on every other variable from
 *     kappa3(i,j,k) and kappa4(i,i,j,k); its contributions are deflated from every later
 *     statistic.
 * Then B = I - M^{-1}, Lambda = M^{-1} A, pruned at opt->prune (standardised scale).
 * Assumes latents are roots with at least two observed children.  Measured: 49 of 50
 * seeded runs correct at n = 20,000 on the model of tests/causal/cumulant_gen.h.
 * *res (may be NULL) gets a new result to free; *out (may be NULL) the graph with latent
 * nodes L1..Lq (renamed L1_ ... if a column already has that name). */
LATENS_EXPORT int latens_causal_cumulant(const latens_causal_data *d,
                                         const latens_causal_cumulant_options *opt,
                                         const latens_progress *progress,
                                         latens_causal_cumulant_result **res,
                                         latens_causal_graph **out);

/* ---------------------------------------------------------------------------- NOTEARS */

typedef struct {
  double lambda1;     /* L1 penalty (default 0.1), >= 0; smoothed as in the paper's code
                         by splitting W = W+ - W- with W+- >= 0 */
  double w_threshold; /* |W| below this is dropped at the end (default 0.3) */
  double h_tol;       /* stop when h(W) <= h_tol (default 1e-8) */
  double rho_max;     /* stop when the penalty rho exceeds this (default 1e16) */
  size_t max_outer;   /* augmented-Lagrangian iterations (default 100) */
  int standardize;    /* 1: standardise the columns first (default 0: centre only) */
} latens_causal_notears_options;

LATENS_EXPORT void latens_causal_notears_options_default(latens_causal_notears_options *opt);

/* The acyclicity function of NOTEARS (Zheng et al., NeurIPS 2018): h(W) = tr(e^{W o W}) - p
 * (o the elementwise product), zero exactly when W's graph has no cycle, and its gradient
 * grad = (e^{W o W})^T o 2W (p x p, ld p; may be NULL).  W is p x p, ld p. */
LATENS_EXPORT int latens_causal_notears_h(const double *W, size_t p, double *h, double *grad);

/* Linear NOTEARS: minimise 1/(2n) |X - X W|_F^2 + lambda1 |W|_1 subject to h(W) = 0 by the
 * augmented Lagrangian (rho multiplied by 10 while h does not fall below a quarter; dual
 * ascent alpha += rho h), each subproblem by core L-BFGS with W+- >= 0 bounds; the diagonal
 * is fixed at 0.  W (p x p, ld p, may be NULL): the thresholded estimate.  *out (may be
 * NULL): the graph of W's non-zeros.  When h stalls above h_tol (rho_max or max_outer
 * reached; typical of columns on very different scales, where standardize = 1 helps) the
 * result still stands if the thresholded graph is acyclic, as in the authors' code;
 * otherwise LATENS_ENOPROG with W holding the last (cyclic) iterate and *out NULL. */
LATENS_EXPORT int latens_causal_notears(const latens_causal_data *d,
                                        const latens_causal_notears_options *opt,
                                        const latens_progress *progress, double *W,
                                        latens_causal_graph **out);

/* ------------------------------------------------------------------------------ GES */

enum {
  LATENS_CAUSAL_SCORE_AUTO = 0, /* BIC for continuous data, BDeu for discrete */
  LATENS_CAUSAL_SCORE_BIC = 1,  /* Gaussian BIC */
  LATENS_CAUSAL_SCORE_BDEU = 2  /* BDeu (discrete) */
};

typedef struct {
  int score;                   /* LATENS_CAUSAL_SCORE_*, default AUTO */
  double penalty_discount;     /* BIC: score = -n/2 log(sigma^2) - c k/2 log n (default c 1) */
  double ess;                  /* BDeu equivalent sample size (default 1) */
  int max_parents;             /* -1 (default) unlimited */
} latens_causal_ges_options;

LATENS_EXPORT void latens_causal_ges_options_default(latens_causal_ges_options *opt);

/* The local score of node y with parents pa[0..k) (distinct, not y) on d, higher is better:
 *   BIC:  -n/2 log(RSS/n) - c (k + 1)/2 log n   (RSS of the OLS fit with intercept)
 *   BDeu: sum_j [lgamma(a_j) - lgamma(a_j + N_j) + sum_k lgamma(a_jk + N_jk) - lgamma(a_jk)]
 *         with a_j = ess / q, a_jk = ess / (q r) over the q parent configurations (all of
 *         them, including unobserved ones, which add 0) and r levels of y.
 * The score of a DAG is the sum of its local scores. */
LATENS_EXPORT int latens_causal_local_score(const latens_causal_data *d,
                                            const latens_causal_ges_options *opt, size_t y,
                                            const size_t *pa, size_t k, double *score);

/* GES (Chickering, JMLR 2002): forward equivalence search with Insert(X, Y, T), then backward
 * with Delete(X, Y, H), on CPDAGs, always the best-scoring valid operator; local scores are
 * cached.  *out: the CPDAG (-->, ---).  *score (may be NULL): the final graph's score. */
LATENS_EXPORT int latens_causal_ges(const latens_causal_data *d,
                                    const latens_causal_ges_options *opt,
                                    const latens_progress *progress, latens_causal_graph **out,
                                    double *score);

/* -------------------------------------------------------------------------- bootstrap */

/* One run of a method on (a resample of) the data: *out a new graph whose first p nodes are
 * the data's columns (latent nodes may follow).  Called from several threads at once with
 * different data sets; rng is the replicate's own stream.  Built-in adaptors below take
 * their options struct (or NULL for defaults) as user. */
typedef int latens_causal_method_fn(const latens_causal_data *d, void *user, latens_rng *rng,
                                    latens_causal_graph **out);

LATENS_EXPORT int latens_causal_method_direct_lingam(const latens_causal_data *d, void *user,
                                                     latens_rng *rng, latens_causal_graph **out);
LATENS_EXPORT int latens_causal_method_ica_lingam(const latens_causal_data *d, void *user,
                                                  latens_rng *rng, latens_causal_graph **out);
LATENS_EXPORT int latens_causal_method_cumulant(const latens_causal_data *d, void *user,
                                                latens_rng *rng, latens_causal_graph **out);
LATENS_EXPORT int latens_causal_method_notears(const latens_causal_data *d, void *user,
                                               latens_rng *rng, latens_causal_graph **out);
LATENS_EXPORT int latens_causal_method_ges(const latens_causal_data *d, void *user,
                                           latens_rng *rng, latens_causal_graph **out);

/* PC-stable and FCI (latens/causal.h) as methods: user points to this struct (NULL: the
 * Fisher-z test for continuous data, chi-square for discrete, PC defaults).  Each replicate
 * builds its own test on its resample (cache as given). */
typedef struct {
  int test;                   /* LATENS_CAUSAL_TEST_FISHERZ, _CHISQ or _GSQ; -1: by data type */
  int cache;                  /* cache CI results within a replicate (default 1) */
  latens_causal_pc_options pc;
} latens_causal_pc_method_options;

LATENS_EXPORT void latens_causal_pc_method_options_default(latens_causal_pc_method_options *opt);
LATENS_EXPORT int latens_causal_method_pc(const latens_causal_data *d, void *user,
                                          latens_rng *rng, latens_causal_graph **out);
LATENS_EXPORT int latens_causal_method_fci(const latens_causal_data *d, void *user,
                                           latens_rng *rng, latens_causal_graph **out);

/* Edge types counted by the bootstrap (i to j, i < j unless directed-like). */
enum {
  LATENS_CAUSAL_BOOT_DIRECTED = 0,   /* i --> j */
  LATENS_CAUSAL_BOOT_UNDIRECTED = 1, /* i --- j */
  LATENS_CAUSAL_BOOT_BIDIRECTED = 2, /* i <-> j, or i and j children of one latent node */
  LATENS_CAUSAL_BOOT_PARTIAL = 3,    /* i o-> j */
  LATENS_CAUSAL_BOOT_NONDIRECTED = 4,/* i o-o j */
  LATENS_CAUSAL_BOOT_TAILCIRCLE = 5, /* i --o j */
  LATENS_CAUSAL_BOOT_NTYPES = 6
};

/* freq[(t p + j) p + i]: fraction of replicates with an edge of type t from i to j
 * (symmetric types --- <-> o-o are stored at i < j).  p observed nodes only. */
typedef struct {
  size_t p, replicates, failed;  /* failed: replicates whose method returned an error */
  double *freq;                  /* NTYPES p^2 */
} latens_causal_bootstrap_result;

LATENS_EXPORT void latens_causal_bootstrap_result_free(latens_causal_bootstrap_result *r);

/* Run method on `replicates` resamples of d (n rows drawn with replacement; replicate b uses
 * the stream latens_rng_split(rng, b) for both the rows and the method; rng itself is only
 * read, never advanced), in parallel over replicates with `threads` OpenMP threads (0: default).  The
 * counts are integers summed per replicate, so *res does not depend on the thread count.
 * A replicate whose resample or method fails counts in res->failed (frequencies are over
 * all replicates); all failing is LATENS_EFAILED.  progress: one call (from the calling
 * thread) after each block of 4 x threads replicates, so a stop request takes effect at the
 * end of the block under way. */
LATENS_EXPORT int latens_causal_bootstrap(const latens_causal_data *d,
                                          latens_causal_method_fn *method, void *user,
                                          size_t replicates, const latens_rng *rng, int threads,
                                          const latens_progress *progress,
                                          latens_causal_bootstrap_result **res);

#ifdef __cplusplus
}
#endif
#endif
