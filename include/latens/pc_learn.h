/* latens/pc_learn.h: structure and parameter learning of probabilistic circuits on binary
 * data: mutual information, Chow-Liu trees, hidden Chow-Liu trees (HCLT) and mixtures of
 * them, EM, latent variable distillation (LVD) and probabilistic integral circuits (PIC)
 * materialised by quadrature.
 *
 * Data: an N x n column-major matrix (latens_mat), one sample per row, entries 0 or 1; NaN
 * means missing (that variable is marginalised) wherever a routine says so.  HCLTs also take
 * categorical data (codes 0..ncat[j]-1 stored as doubles; latens_pc_hclt_alloc_cat,
 * latens_pc_mutual_info_cat, latens_pc_hclt_structure_cat); binary stays the fast path.
 *
 * Threads: latens_pc_hclt_loglik and _accumulate cut the rows into fixed chunks run in
 * parallel with OpenMP (one workspace per thread; counts added in chunk order), so results
 * do not depend on the thread count.  Their GEMMs call the BLAS from inside that parallel
 * region, so the chunks run in parallel only when OpenBLAS's pool has one thread
 * (OPENBLAS_NUM_THREADS=1 or openblas_set_num_threads(1)); otherwise the BLAS's threads do
 * the GEMMs and the chunks run one after another (one level of parallelism per call).
 *
 * HCLT (Liu & Van den Broeck, NeurIPS 2021): every observed X_j has a latent Z_j with K
 * states; the latents follow a tree (the Chow-Liu tree of the data) and Z_j emits X_j through
 * a Bernoulli leaf p(x_j = 1 | z_j = k).  A mixture of M such trees has mixing weights.
 * latens_pc_hclt keeps these tables directly and evaluates them with dense K x K blocks
 * (max-shift, exp, GEMM, log), which is the layered circuit of the tree without its index
 * arrays; latens_pc_hclt_to_circuit (below) hands the same model to the general circuit
 * of latens/pc.h (file format, MAP, sampling, conditionals).
 * A plain Chow-Liu tree is the HCLT with K = 2 whose leaves are the identity (x_j = z_j):
 * latens_pc_cltree_fit builds it with `fixed_leaves` set, so EM leaves its leaves alone.
 *
 * PIC (Gala et al., AISTATS 2024; NeurIPS 2024): the tree's latents are continuous on an
 * interval; each edge carries a kernel f_j(z_parent, z_j) > 0 and each leaf a logit g_j(z),
 * given by small MLPs on Fourier features with composite functional sharing (one trunk for
 * all edges, one for all leaves, one linear head per unit).  Materialising with a K-point
 * quadrature rule gives an HCLT whose rows are renormalised, i.e. a normalised circuit.
 */
#ifndef LATENS_PC_LEARN_H
#define LATENS_PC_LEARN_H
#include <stddef.h>
#include <stdint.h>
#include <latens/core.h>
#include <latens/pc.h>
#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- mutual information */

/* Pairwise mutual information (nats) of the binary columns of X (N x n, entries 0/1, NaN for
 * missing, N >= 1), from empirical joint frequencies smoothed with `alpha` >= 0 pseudo-counts
 * per cell of each 2 x 2 table (alpha > 0 keeps every log finite).  A pair is counted over the
 * rows that observe both (pairwise deletion).  MI is n x n, symmetric, written in full
 * (diagonal: the entropy of each column).  The (1,1) counts are one product X^T X.
 * Statuses: LATENS_EINVAL (NULL, empty X), LATENS_EBADLEN (MI not n x n), LATENS_EDOM (an
 * entry not 0/1/NaN, naming it; alpha < 0 or not finite). */
LATENS_EXPORT int latens_pc_mutual_info(const latens_mat *X, double alpha, latens_mat *MI);

/* The same for categorical columns: column j holds codes 0..ncat[j]-1 (or NaN), each pair's
 * ncat[j] x ncat[k] table smoothed with alpha per cell; ncat NULL: binary (the function
 * above).  LATENS_EDOM for a value that is not one of its column's codes, naming it. */
LATENS_EXPORT int latens_pc_mutual_info_cat(const latens_mat *X, const size_t *ncat, double alpha,
                                            latens_mat *MI);

/* Maximum spanning tree of the symmetric weight matrix W (n x n, finite off-diagonal entries;
 * Prim, O(n^2)), rooted at `root` < n: parent[root] = -1, parent[j] = the neighbour of j on
 * the path to the root.  order[0..n) (may be NULL) receives a breadth-first order from the
 * root, so every node comes after its parent.  Ties go to the lower index. */
LATENS_EXPORT int latens_pc_max_spanning_tree(const latens_mat *W, size_t root, long *parent,
                                              size_t *order);

/* ---------------------------------------------------------------- HCLT and mixtures */

/* A mixture of M tree-shaped latent models over n binary variables, K latent states each.
 * All tables are probabilities (not logs) and owned by the struct; the fields may be read and,
 * keeping each distribution normalised, written.  Component m, node j: */
typedef struct {
  size_t n, K, M;
  long *parent;   /* [m*n + j]: parent of j in component m's tree, -1 at its root */
  size_t *order;  /* [m*n + t]: the nodes of component m, every parent before its children */
  double *mix;    /* [m]: mixture weights, sum 1 */
  double *root;   /* [m*K + k]: p(z_root = k), sum over k is 1 */
  double *trans;  /* [(m*n + j)*K*K + i + k*K]: p(z_j = k | z_parent(j) = i), rows sum to 1;
                   * the root's block is unused (zero) */
  double *leaf;   /* [(m*n + j)*K + k]: p(x_j = 1 | z_j = k), in [0, 1] */
  int fixed_leaves; /* non-zero: EM and LVD keep the leaves (the Chow-Liu tree uses it) */
  /* Categorical models (latens_pc_hclt_alloc_cat); all NULL in a binary model, whose Bernoulli
   * leaves above are the fast path.  In a categorical model every leaf is categorical and
   * `leaf` is unused: */
  size_t *ncat;   /* [j]: categories of X_j (>= 2); data values are 0..ncat[j]-1 */
  size_t *catoff; /* [j]: ncat[0] + ... + ncat[j-1]; n + 1 entries */
  double *cat;    /* [(m*catoff[n] + catoff[j])*K + k*ncat[j] + v]: p(x_j = v | z_j = k),
                   * each (m, j, k) row sums to 1 */
} latens_pc_hclt;

/* A mixture with M components over n variables, K >= 2 states, the given trees (parent:
 * M*n entries as in the struct, each component a single tree; NULL: every component a
 * chain 0-1-...-n-1) and uniform tables.  NULL (error handler called) on failure. */
LATENS_EXPORT latens_pc_hclt *latens_pc_hclt_alloc(size_t n, size_t K, size_t M,
                                                   const long *parent);
LATENS_EXPORT void latens_pc_hclt_free(latens_pc_hclt *h); /* NULL-safe */
/* The same over categorical variables: ncat[j] >= 2 categories of X_j (n entries, copied),
 * uniform leaf tables.  ncat NULL, or every ncat[j] == 2, gives the binary model above (its
 * Bernoulli leaves are the fast path).  Data for a categorical model hold the codes
 * 0..ncat[j]-1 as doubles, NaN for missing; every routine below that takes an HCLT checks
 * them against h->ncat (LATENS_EDOM naming the entry).  Not yet for a categorical model:
 * PIC.  (The categorical Chow-Liu tree is latens_pc_cltree_fit_cat.) */
LATENS_EXPORT latens_pc_hclt *latens_pc_hclt_alloc_cat(size_t n, const size_t *ncat, size_t K,
                                                       size_t M, const long *parent);
/* Number of parameters counted as free: M-1 + M((K-1) + (n-1)K(K-1) + nK); categorical
 * leaves count K sum_j (ncat[j] - 1) instead of nK. */
LATENS_EXPORT size_t latens_pc_hclt_nparams(const latens_pc_hclt *h);

/* Randomise every table: each entry ~ 1 + perturb * (2u - 1), u uniform, then renormalised
 * (leaves: p = 0.5 + 0.5 perturb (2u - 1)); perturb in [0, 1).  The published recipe uses 0.4. */
LATENS_EXPORT int latens_pc_hclt_randomize(latens_pc_hclt *h, double perturb, latens_rng *rng);

/* Tables that are not finite (NaN, Inf in any table the model uses) are refused with
 * LATENS_ENOTFINITE naming the table and entry by latens_pc_hclt_loglik, _mean_loglik,
 * _accumulate(_soft), _mstep (which also checks the counts) and _em: a NaN parameter never
 * becomes a NaN log-likelihood with LATENS_OK.  The check is one O(parameters) sweep per call. */

/* log p(x) of every row of X (N x n; NaN entries are marginalised) into ll[0..N).
 * Work is O(N M n K^2) in dense K x K products, memory O(batch n K). */
LATENS_EXPORT int latens_pc_hclt_loglik(const latens_pc_hclt *h, const latens_mat *X, double *ll);
/* Mean of the above. */
LATENS_EXPORT int latens_pc_hclt_mean_loglik(const latens_pc_hclt *h, const latens_mat *X,
                                             double *mean);

/* Expected counts of one pass over a batch (the top-down flows of the circuit): */
typedef struct {
  size_t n, K, M;
  double *mix;   /* [m] */
  double *root;  /* [m*K + k] */
  double *trans; /* [(m*n + j)*K*K + i + k*K]: sum over samples of p(z_par = i, z_j = k | x) */
  double *leaf1; /* [(m*n + j)*K + k]: sum of p(z_j = k | x) over samples with x_j = 1 */
  double *leafn; /* [(m*n + j)*K + k]: the same over samples where x_j is observed */
  double loglik; /* sum of log p(x) over the batch */
  double *cat;   /* categorical models (else NULL), laid out as h->cat: sum of p(z_j = k | x)
                  * over samples with x_j = v; leaf1 and leafn stay zero */
  size_t ncatlen; /* entries of cat: M catoff[n] K */
} latens_pc_hclt_counts;

LATENS_EXPORT latens_pc_hclt_counts *latens_pc_hclt_counts_alloc(const latens_pc_hclt *h);
LATENS_EXPORT void latens_pc_hclt_counts_free(latens_pc_hclt_counts *c); /* NULL-safe */
LATENS_EXPORT void latens_pc_hclt_counts_zero(latens_pc_hclt_counts *c);
/* Add the expected counts of rows [r0, r1) of X to c (an upward and a downward pass).  The
 * counts are also the gradient: d sum log p / d trans[i,k] = counts->trans[i,k] / trans[i,k]
 * (treating the tables as free), and likewise for root, mix and the leaves. */
LATENS_EXPORT int latens_pc_hclt_accumulate(const latens_pc_hclt *h, const latens_mat *X,
                                            size_t r0, size_t r1, latens_pc_hclt_counts *c);
/* The same on softened data (Liu & Van den Broeck, NeurIPS 2021, "data softening"): every
 * observed x_j is taken as soft evidence, its value with probability `soften` and the other
 * with 1 - soften, in closed form through the leaves (a pass with leaves soften l +
 * (1 - soften)(1 - l)); the leaf counts are the expected counts of x_j = 1 under that
 * evidence.  soften in (0.5, 1]; 1 is latens_pc_hclt_accumulate exactly; categorical models:
 * 1 only (else LATENS_EDOM).  c->loglik is then the softened data's log-likelihood. */
LATENS_EXPORT int latens_pc_hclt_accumulate_soft(const latens_pc_hclt *h, const latens_mat *X,
                                                 size_t r0, size_t r1, double soften,
                                                 latens_pc_hclt_counts *c);
/* The M-step: theta_new = (1 - step) theta + step theta_EM, where theta_EM is the counts
 * normalised with `pseudocount` spread evenly over each distribution's entries (Laplace
 * smoothing; ProbabilisticCircuits.jl's convention).  step in (0, 1]; 1 is plain EM. */
LATENS_EXPORT int latens_pc_hclt_mstep(latens_pc_hclt *h, const latens_pc_hclt_counts *c,
                                       double pseudocount, double step);

typedef struct {
  size_t batch;             /* mini-batch size (default 1024) */
  size_t epochs_minibatch;  /* mini-batch EM epochs (default 100) */
  size_t epochs_full;       /* full-batch EM iterations after that (default 100) */
  double step_start;        /* mini-batch step size, annealed linearly ... (default 0.1) */
  double step_end;          /* ... to this at the last mini-batch epoch (default 0.9) */
  double pseudocount;       /* default 0.1 */
  size_t patience;          /* stop a phase after this many epochs in a row without a new best
                             * validation LL (default 3); the best parameters are kept */
  double soften;            /* data softening of the training passes (see
                             * latens_pc_hclt_accumulate_soft), in (0.5, 1]; default 1 (off).
                             * Validation and reported LLs are always on the data as given */
} latens_pc_hclt_em_options;

LATENS_EXPORT void latens_pc_hclt_em_options_default(latens_pc_hclt_em_options *opt);

/* EM training of h on `train` (N x n, NaN allowed): opt->epochs_minibatch epochs of
 * mini-batch EM, then opt->epochs_full full-batch iterations, each phase stopped early after
 * `patience` epochs without a new best mean LL on `valid`; h ends with the best parameters
 * seen.  valid NULL: no early stopping, the parameters with the best training LL are kept.
 * The mini-batches are a permutation drawn from rng each epoch.  *best_valid (may be NULL):
 * the best validation (or training) mean LL.  Progress: once per epoch, "em minibatch" /
 * "em full"; a stop request returns LATENS_EINTERRUPTED (h then holds the last epoch's
 * parameters, a valid model).  (Named apart from latens_pc_em of latens/pc.h, the general
 * circuit EM, which this specialises to dense tree blocks.) */
LATENS_EXPORT int latens_pc_hclt_em(latens_pc_hclt *h, const latens_mat *train,
                                    const latens_mat *valid, const latens_pc_hclt_em_options *opt,
                                    latens_rng *rng, const latens_progress *progress,
                                    double *best_valid);

/* Chow-Liu tree of train (0/1; a NaN skips that row in the tables it touches) as an HCLT with
 * K = 2, identity leaves and fixed_leaves set; its tables are the smoothed maximum-likelihood
 * conditionals (alpha pseudo-counts per cell).  Root: variable 0. */
LATENS_EXPORT int latens_pc_cltree_fit(const latens_mat *train, double alpha,
                                       latens_pc_hclt **out);
/* The Chow-Liu tree of categorical train (column j: codes 0..ncat[j]-1, NaN skips that row
 * in the tables it touches; 2 <= ncat[j] <= 4096): the maximum spanning tree (root 0) of
 * latens_pc_mutual_info_cat (alpha 0.01, as above), as an HCLT with K = max ncat, M = 1,
 * fixed identity leaves (z_j = x_j) and the smoothed maximum-likelihood conditionals
 * p(x_j = v | x_parent = u) = (N_uv + alpha) / (N_u + ncat[j] alpha) (root: N_v over the
 * rows observing it).  Latent states k >= ncat[j] carry zero probability (their rows are
 * unreachable) and latens_pc_hclt_to_circuit leaves them out.  Not meant for EM (smoothing
 * would revive those states).  ncat NULL or all 2: latens_pc_cltree_fit. */
LATENS_EXPORT int latens_pc_cltree_fit_cat(const latens_mat *train, const size_t *ncat,
                                           double alpha, latens_pc_hclt **out);

/* A mixture of M HCLTs with K states: the Chow-Liu tree of train (0/1/NaN; component 0) and of
 * bootstrap resamples of it (components 1.., drawn from rng), random tables as
 * latens_pc_hclt_randomize(perturb 0.4).  Train it with latens_pc_hclt_em. */
LATENS_EXPORT int latens_pc_hclt_structure(const latens_mat *train, size_t K, size_t M,
                                           latens_rng *rng, latens_pc_hclt **out);

/* latens_pc_hclt_structure for categorical data (codes 0..ncat[j]-1, NaN missing): the trees
 * from latens_pc_mutual_info_cat, leaves categorical; ncat NULL: the binary function. */
LATENS_EXPORT int latens_pc_hclt_structure_cat(const latens_mat *train, const size_t *ncat,
                                               size_t K, size_t M, latens_rng *rng,
                                               latens_pc_hclt **out);

/* The same model as a finalised general circuit (*out, free with latens_pc_free): per tree
 * node j and state k a Bernoulli input (an indicator when the leaf is exactly 0 or 1, as in
 * a Chow-Liu tree, so determinism is recorded), a product with the children's messages, and
 * per non-root node K consecutive sums over the same K products (the dense K x K block the
 * circuit compiler turns into one GEMM); a top sum with the mixture weights when M > 1.
 * latens_pc_loglik of the result equals latens_pc_hclt_loglik to rounding.  A categorical
 * model gets categorical inputs (indicators for one-hot rows); with fixed_leaves (the
 * categorical Chow-Liu tree) node j keeps only its first ncat[j] states, and mass on the
 * others is LATENS_EDOM. */
LATENS_EXPORT int latens_pc_hclt_to_circuit(const latens_pc_hclt *h, latens_pc **out);

/* RAT-SPN (Peharz et al., UAI 2019) over n binary variables: `reps` repetitions, each a random
 * permutation of the variables split in halves `depth` times (a random binary region graph);
 * a leaf region has I factorised Bernoulli distributions (random p in [0.25, 0.75]), an inner
 * region S sums over all products of its two halves' units (one dense block), the root one sum
 * over every repetition's top units.  Finalised circuit in *out; train it with latens_pc_em. */
LATENS_EXPORT int latens_pc_rat_alloc(size_t n, size_t depth, size_t reps, size_t S, size_t I,
                                      latens_rng *rng, latens_pc **out);
/* The same over categorical variables: ncat[j] >= 2 categories of variable j (NULL: binary,
 * the function above); leaves are categorical with entries 0.5 + u normalised. */
LATENS_EXPORT int latens_pc_rat_alloc_cat(size_t n, const size_t *ncat, size_t depth,
                                          size_t reps, size_t S, size_t I, latens_rng *rng,
                                          latens_pc **out);
/* The fully factorised circuit prod_j Bernoulli(p_j), p_j = (ones + alpha) / (observed +
 * 2 alpha) from train (0/1, NaN skipped). */
LATENS_EXPORT int latens_pc_factorized_fit(const latens_mat *train, double alpha,
                                           latens_pc **out);

/* ---------------------------------------------------------------- latent variable distillation */

/* Set h's tables from supervised latent assignments (Liu et al., ICML 2023).  Z is N x
 * (M n) (column m*n + j: the state of Z_j in component m, a value in [0, K) stored as a
 * double; NaN: unknown, that node's counts skipped), X the N x n data.  With hard
 * assignments the likelihood of (x, z) factorises, so this is the maximum-likelihood
 * estimate with `pseudocount` smoothing.  The mixture weights are not supervised: they are
 * set uniform.  Follow with latens_pc_hclt_em to fine-tune. */
LATENS_EXPORT int latens_pc_hclt_fit_latents(latens_pc_hclt *h, const latens_mat *X,
                                             const latens_mat *Z, double pseudocount);

/* The same from soft responsibilities R, N x (M n K): column (m n + j) K + k holds
 * p(Z_j = k) of component m for each sample (rows of each node need not sum to 1; a row of
 * zeros skips that sample).  Expected counts take (Z_parent, Z_j) as independent given the
 * sample, which is exact for one-hot R. */
LATENS_EXPORT int latens_pc_hclt_fit_soft(latens_pc_hclt *h, const latens_mat *X,
                                          const latens_mat *R, double pseudocount);
/* An external teacher's assignments from a CSV file (a header is optional): M n columns are
 * hard states (latens_pc_hclt_fit_latents), M n K columns responsibilities (fit_soft); any
 * other count is LATENS_EBADLEN.  Rows must match X's. */
LATENS_EXPORT int latens_pc_hclt_fit_latents_file(latens_pc_hclt *h, const latens_mat *X,
                                                  const char *path, double pseudocount);

/* The built-in teacher: for each node j of each component, k-means (k-means++ seeding from
 * rng, `iters` Lloyd iterations) with K clusters on the columns of j and its tree neighbours
 * gives Z_j's state per sample.  Z as above (N x M n), filled.  NaN in X counts as 0.5.
 * Categorical models: each neighbour's code enters one-hot (NaN: 1/ncat per category). */
LATENS_EXPORT int latens_pc_hclt_teacher_kmeans(const latens_pc_hclt *h, const latens_mat *X,
                                                size_t iters, latens_rng *rng, latens_mat *Z);

/* ---------------------------------------------------------------- PIC */

/* A probabilistic integral circuit with the tree of component 0 of an HCLT (M = 1 only), its
 * latents on [a, b] (Gauss-Legendre, trapezoid, Simpson, midpoint) or on R (Gauss-Hermite:
 * N(a, b^2) weight), its kernels MLPs as described at the top. */
typedef struct latens_pc_pic latens_pc_pic;

typedef struct {
  latens_quad_kind rule; /* default LATENS_QUAD_TRAPEZOID (the reference code's default) */
  double a, b;           /* default [-1, 1] */
  size_t fourier;        /* Fourier features per input dimension pair (default 16) */
  double sigma;          /* scale of the fixed N(0, sigma^2) Fourier matrix (default 1) */
  size_t hidden;         /* trunk width (default 64) */
  size_t depth;          /* tanh layers of the edge trunk, 1 or 2 (default 1; the reference
                          * code of Gala et al. uses 2) */
} latens_pc_pic_options;

LATENS_EXPORT void latens_pc_pic_options_default(latens_pc_pic_options *opt);

/* A PIC over the tree `parent` (n entries, one root) with random network weights from rng. */
LATENS_EXPORT latens_pc_pic *latens_pc_pic_alloc(size_t n, const long *parent,
                                                 const latens_pc_pic_options *opt,
                                                 latens_rng *rng);
LATENS_EXPORT void latens_pc_pic_free(latens_pc_pic *p); /* NULL-safe */
/* Number of trainable parameters, and a view of them (owned by p; Adam updates it). */
LATENS_EXPORT size_t latens_pc_pic_nparams(const latens_pc_pic *p);
LATENS_EXPORT double *latens_pc_pic_params(latens_pc_pic *p);

/* Materialise with K quadrature points into out (an HCLT with M = 1, K states and p's tree,
 * allocated by the caller with latens_pc_hclt_alloc(n, K, 1, parent)): trans[i,k] =
 * f(z_i, z_k) w_k / sum_k' f(z_i, z_k') w_k', root[k] = f_0(z_k) w_k / sum, leaf[k] =
 * sigmoid(g_j(z_k)).  Every row is renormalised, so out is a normalised circuit. */
LATENS_EXPORT int latens_pc_pic_materialize(const latens_pc_pic *p, size_t K,
                                            latens_pc_hclt *out);

/* Gradient of the materialised log-likelihood with respect to the network parameters:
 * given c, the expected counts of `mat` (= latens_pc_pic_materialize(p, K)) over some data,
 * grad[0..nparams) = d (sum log p) / d params, flowing from the circuit's counts through the
 * materialisation (row normalisation, softplus, sigmoid) into the networks. */
LATENS_EXPORT int latens_pc_pic_gradient(const latens_pc_pic *p, const latens_pc_hclt *mat,
                                         const latens_pc_hclt_counts *c, double *grad);

typedef struct {
  size_t K;        /* quadrature points (default 64) */
  size_t batch;    /* default 256 */
  size_t steps;    /* Adam steps (default 6000) */
  double lr;       /* Adam learning rate (default 0.01), cosine-annealed to lr/100 */
  size_t validate; /* validate every this many steps (default 250) */
  size_t patience; /* stop after this many validations without a new best (default 5) */
} latens_pc_pic_train_options;

LATENS_EXPORT void latens_pc_pic_train_options_default(latens_pc_pic_train_options *opt);

/* Adam on the materialised circuit's mean log-likelihood of mini-batches of train; the
 * parameters at the best validation LL (valid may be NULL: the last) are kept.  */
LATENS_EXPORT int latens_pc_pic_train(latens_pc_pic *p, const latens_mat *train,
                                      const latens_mat *valid,
                                      const latens_pc_pic_train_options *opt, latens_rng *rng,
                                      const latens_progress *progress, double *best_valid);

/* ---------------------------------------------------------------- Adam (a small optimiser
 * that core's optim.h does not have; kept here until core grows one) */
typedef struct {
  size_t n, t;
  double beta1, beta2, eps;
  double *m, *v;
} latens_pc_adam;

LATENS_EXPORT latens_pc_adam *latens_pc_adam_alloc(size_t n);
LATENS_EXPORT void latens_pc_adam_free(latens_pc_adam *a); /* NULL-safe */
/* One ascent step: x += lr * mhat / (sqrt(vhat) + eps) for the gradient g of a function to
 * MAXIMISE.  Non-finite g entries: LATENS_ENOTFINITE, x untouched. */
LATENS_EXPORT int latens_pc_adam_step(latens_pc_adam *a, double *x, const double *g, double lr);

#ifdef __cplusplus
}
#endif
#endif
