/* latens/pc.h: probabilistic circuits — representation, evaluation, queries, flows, EM.
 *
 * A circuit is a DAG of units over `nvars` variables.  Variable j has ncat[j] categories:
 * 2 for binary, >= 2 for categorical, 0 for continuous (Gaussian inputs only).  Data are
 * column-major n x nvars matrices (latens_mat, any ld >= n); a discrete value is the category
 * index 0..ncat-1 stored as a double; NaN means missing and is marginalised (summed out).
 *
 * Life cycle: latens_pc_alloc, latens_pc_add_* (children before parents; ids are returned in
 * creation order 0, 1, ...), latens_pc_set_root, latens_pc_finalize (validates, records
 * determinism, builds the layered flat form once).  After finalize the structure is frozen;
 * parameters can still be read and written (latens_pc_params_*).  Every query takes a const
 * circuit and a workspace, so one circuit serves many threads, one workspace per thread.
 *
 * Log space throughout.  A sum is evaluated as m = max_c l_c, m + log sum_c w_c exp(l_c - m).
 * Sum units created CONSECUTIVELY with the SAME children list (same ids, same order) form one
 * dense block evaluated with one DGEMM over the batch: build layers that way (as HCLT, RAT-SPN
 * and PIC materialisations naturally do) to get BLAS speed.
 *
 * Parameter vector (one flat double array, nparams entries), in this order:
 *   1. for each SUM unit in id order: its weights in child order (w >= 0; a normalised circuit
 *      has each sum's weights summing to 1);
 *   2. for each INPUT unit in id order:
 *        BERNOULLI:   2 entries (P(x=0), P(x=1));
 *        CATEGORICAL: ncat entries P(x=0..ncat-1);
 *        GAUSSIAN:    2 entries (mean, standard deviation > 0);
 *        INDICATOR:   no entries.
 * Product units have no parameters.  latens_pc_unit_param_offset gives each unit's first
 * entry.  Consecutive sum units of a dense block thus hold a row-major (nsums x nchildren)
 * weight matrix.
 */
#ifndef LATENS_PC_H
#define LATENS_PC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <latens/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Unit types.  Stable numbers: the file format and the bindings use them. */
enum {
  LATENS_PC_INDICATOR = 0,   /* [x_var == value]: log 1 or -inf; no parameters */
  LATENS_PC_BERNOULLI = 1,   /* binary variable (ncat 2) */
  LATENS_PC_CATEGORICAL = 2, /* discrete variable with ncat >= 2 categories */
  LATENS_PC_GAUSSIAN = 3,    /* continuous variable (ncat 0) */
  LATENS_PC_PRODUCT = 4,     /* children with pairwise disjoint scopes (decomposable) */
  LATENS_PC_SUM = 5          /* weighted mixture of children with equal scopes (smooth) */
};

typedef struct latens_pc latens_pc;
typedef struct latens_pc_work latens_pc_work;

/* ---------------------------------------------------------------- building */

/* A new empty circuit over nvars >= 1 variables; ncat[j] in {0} U [2, 2^31) is the number of
 * categories of variable j (0: continuous).  ncat NULL: every variable binary.  The array is
 * copied.  NULL (error handler called) on bad arguments or out of memory. */
LATENS_EXPORT latens_pc *latens_pc_alloc(size_t nvars, const size_t *ncat);
LATENS_EXPORT void latens_pc_free(latens_pc *pc); /* NULL-safe */
/* A deep copy (structure, parameters, finalised state).  NULL on failure. */
LATENS_EXPORT latens_pc *latens_pc_copy(const latens_pc *pc);

/* Input units on variable var.  *id (may be NULL) receives the new unit's id.
 * Bernoulli: p1 = P(x=1) in [0, 1], the variable must have ncat 2.
 * Categorical: probs[0..ncat) >= 0 (copied as given; normalise them yourself), ncat >= 2;
 *   probs NULL: uniform.
 * Gaussian: mean finite, sd > 0 finite, the variable continuous (ncat 0).
 * Indicator: value in [0, ncat), a discrete variable. */
LATENS_EXPORT int latens_pc_add_bernoulli(latens_pc *pc, size_t var, double p1, size_t *id);
LATENS_EXPORT int latens_pc_add_categorical(latens_pc *pc, size_t var, const double *probs,
                                            size_t *id);
LATENS_EXPORT int latens_pc_add_gaussian(latens_pc *pc, size_t var, double mean, double sd,
                                         size_t *id);
LATENS_EXPORT int latens_pc_add_indicator(latens_pc *pc, size_t var, size_t value, size_t *id);
/* Product of n >= 1 existing units (ids < the new id).  Decomposability is checked by
 * latens_pc_finalize. */
LATENS_EXPORT int latens_pc_add_product(latens_pc *pc, const size_t *children, size_t n,
                                        size_t *id);
/* Sum of n >= 1 existing units with weights[0..n) >= 0, finite (copied as given); weights
 * NULL: uniform 1/n.  Smoothness is checked by latens_pc_finalize. */
LATENS_EXPORT int latens_pc_add_sum(latens_pc *pc, const size_t *children, const double *weights,
                                    size_t n, size_t *id);
/* The root (default: the last unit added). */
LATENS_EXPORT int latens_pc_set_root(latens_pc *pc, size_t id);

/* Validate and compile.  Checks: at least one unit; every unit reachable from the root is
 * used as intended (units not reachable from the root are allowed and ignored); sums smooth
 * (every child has the sum's scope), products decomposable (children's scopes pairwise
 * disjoint); the root's scope is all nvars variables.  Errors (LATENS_EDOM) name the unit,
 * its type and the offending children/variable.  Determinism of every sum is tested with a
 * sufficient condition (each pair of children has a shared variable on which their indicator
 * supports are disjoint) and recorded (latens_pc_is_deterministic).  Idempotent. */
LATENS_EXPORT int latens_pc_finalize(latens_pc *pc);

/* ---------------------------------------------------------------- inspection */

LATENS_EXPORT size_t latens_pc_nvars(const latens_pc *pc);
LATENS_EXPORT size_t latens_pc_ncat(const latens_pc *pc, size_t var); /* 0 if out of range */
LATENS_EXPORT size_t latens_pc_nunits(const latens_pc *pc);
LATENS_EXPORT size_t latens_pc_nedges(const latens_pc *pc); /* total children over all units */
LATENS_EXPORT size_t latens_pc_nparams(const latens_pc *pc);
LATENS_EXPORT size_t latens_pc_root(const latens_pc *pc);
LATENS_EXPORT int latens_pc_is_finalized(const latens_pc *pc);
/* 1 if finalize proved every reachable sum deterministic (so MAP is exact), else 0. */
LATENS_EXPORT int latens_pc_is_deterministic(const latens_pc *pc);
/* LATENS_PC_* type of unit id, -1 if out of range. */
LATENS_EXPORT int latens_pc_unit_type(const latens_pc *pc, size_t id);
/* Variable of an input unit ((size_t)-1 for sums/products or out of range). */
LATENS_EXPORT size_t latens_pc_unit_var(const latens_pc *pc, size_t id);
/* Indicator value of an indicator unit ((size_t)-1 otherwise). */
LATENS_EXPORT size_t latens_pc_unit_value(const latens_pc *pc, size_t id);
/* Children of a sum/product (NULL and *n = 0 for inputs).  Owned by pc. */
LATENS_EXPORT const size_t *latens_pc_unit_children(const latens_pc *pc, size_t id, size_t *n);
/* First parameter entry of unit id and its count (*n may be NULL); (size_t)-1 if the unit has
 * none. */
LATENS_EXPORT size_t latens_pc_unit_param_offset(const latens_pc *pc, size_t id, size_t *n);

/* ---------------------------------------------------------------- parameters */

/* Parameter access needs a finalised circuit (before: NULL / LATENS_EINVAL); nparams and
 * unit offsets are known while building.
 * Read-only pointer to the nparams entries (layout at the top of this file). */
LATENS_EXPORT const double *latens_pc_params(const latens_pc *pc);
/* Copy out into v (length nparams). */
LATENS_EXPORT int latens_pc_params_get(const latens_pc *pc, latens_vec *v);
/* Replace all parameters from v (length nparams).  Checked: every entry finite, weights and
 * probabilities >= 0, Gaussian sd > 0 (LATENS_EDOM naming the entry and unit).  NOT
 * renormalised: queries assume a normalised circuit; unnormalised weights are allowed (e.g.
 * for finite-difference checks) and then loglik returns the log of the unnormalised value. */
LATENS_EXPORT int latens_pc_params_set(latens_pc *pc, const latens_vec *v);
/* Renormalise every sum's weights and every Bernoulli/categorical's probabilities to sum to
 * 1 (all-zero rows become uniform). */
LATENS_EXPORT int latens_pc_normalize(latens_pc *pc);

/* ---------------------------------------------------------------- workspace */

/* Buffers for evaluating batches of up to `batch` samples (0: a size that keeps the flow
 * buffers near 256 MiB, between 32 and 1024 rows).  Queries on more rows run in consecutive
 * chunks of `batch`.  Memory: batch x (reachable units + widest block) doubles, and for
 * latens_pc_flows about three times that; never batch x edges.  Bound to pc's structure (any
 * parameters).  NULL on failure or when pc is not finalised. */
LATENS_EXPORT latens_pc_work *latens_pc_work_alloc(const latens_pc *pc, size_t batch);
LATENS_EXPORT void latens_pc_work_free(latens_pc_work *w); /* NULL-safe */
/* Bytes held by w (for the benchmarks' memory report). */
LATENS_EXPORT size_t latens_pc_work_bytes(const latens_pc_work *w);

/* In every query below: pc finalised; X is n x nvars (n >= 1) with ld >= n; values must be
 * NaN or valid for the variable (an integer in [0, ncat) for discrete variables, finite for
 * continuous ones), else LATENS_EDOM naming row, column and value.  w: a workspace from
 * latens_pc_work_alloc(pc, ...), or NULL to allocate one for the call.  Results do not depend
 * on the number of OpenMP threads. */

/* ll[i] = log p(x_i) with NaN entries marginalised (so this is also the marginal query).
 * ll has length n. */
LATENS_EXPORT int latens_pc_loglik(const latens_pc *pc, const latens_mat *X, latens_vec *ll,
                                   latens_pc_work *w);

/* Conditional log p(x_Q | x_E) per row: Q = the variables listed in query[0..nq) (each must
 * be observed, i.e. non-NaN, in every row), E = the other non-NaN entries of the row;
 * computed as loglik(x_Q, x_E) - loglik(x_E).  A row whose evidence has probability 0 gets
 * NaN. */
LATENS_EXPORT int latens_pc_conditional(const latens_pc *pc, const latens_mat *X,
                                        const size_t *query, size_t nq, latens_vec *out,
                                        latens_pc_work *w);

/* MAP/MPE completion with evidence: NaN entries of X are filled in place with the
 * max-product assignment (sums replaced by max_c log w_c + l_c, then backtracking: arg-max
 * child at sums, all children at products, mode at inputs (Gaussian: its mean)); observed
 * entries are kept.  logp (may be NULL, length n) receives the max-product value, which is
 * max_x p(x, evidence) exactly when the circuit is deterministic
 * (latens_pc_is_deterministic); otherwise it is the usual approximation (the most probable
 * joint assignment of observed variables AND the latent sum selectors).  Ties go to the
 * lowest child index.  A row whose evidence has probability 0 is left as it is, with logp
 * -Inf. */
LATENS_EXPORT int latens_pc_map(const latens_pc *pc, latens_mat *X, latens_vec *logp,
                                latens_pc_work *w);

/* Sampling: NaN entries of X are drawn from p(. | non-NaN entries of the row), observed
 * entries are kept; an all-NaN X gives unconditional samples.  One uint64 u is drawn from rng
 * (so consecutive calls differ) and row i uses the stream latens_rng_init(u, i): results do
 * not depend on threads or batch size.  A row whose evidence has probability 0 is
 * LATENS_EDOM. */
LATENS_EXPORT int latens_pc_sample(const latens_pc *pc, latens_mat *X, latens_rng *rng,
                                   latens_pc_work *w);

/* ---------------------------------------------------------------- flows (E-step, gradient)
 *
 * One forward pass and one top-down pass over X (NaN = missing, marginalised).  With the
 * per-sample unit flow phi_i(n) = d log p(x_i) / d log p_n(x_i) (phi_i(root) = 1; a sum
 * passes phi(n) w_c p_c / p_n to child c, a product passes phi(n) to every child, a unit's
 * flow is the sum over its parents), and sample weights s_i (sw NULL: all 1),
 * flows (length nparams, ACCUMULATED into: zero it first) receives, in the parameter layout:
 *   sum unit n, child c:        sum_i s_i phi_i(n) w_nc p_c(x_i) / p_n(x_i)
 *                               (expected edge count; equals w_nc * d L / d w_nc where
 *                               L = sum_i s_i log p(x_i) and the weights vary freely);
 *   Bernoulli/categorical k:    sum_i s_i phi_i(n) [x_i,var == k] over rows observing var,
 *                               plus sum_i s_i phi_i(n) theta_k / sum_k' theta_k' over rows
 *                               where var is missing (expected count of category k; over
 *                               complete rows this equals theta_k dL/dtheta_k);
 *   Gaussian (mean, sd) entries: sum_i s_i phi_i(n) E[x] and sum_i s_i phi_i(n) E[x^2]
 *                               (x_i itself when observed, else the unit's mean and
 *                               mean^2 + sd^2): sufficient statistics, not gradients;
 * unit_flows (may be NULL; length nunits, ACCUMULATED) receives sum_i s_i phi_i(n) for each
 * unit n (for inputs, over all rows; the EM denominators).  Rows with p(x_i) = 0 contribute
 * nothing.  ll (may be NULL, length n) receives log p(x_i).  Sums over rows are formed in a
 * fixed order, independent of the thread count. */
LATENS_EXPORT int latens_pc_flows(const latens_pc *pc, const latens_mat *X, const latens_vec *sw,
                                  latens_vec *flows, latens_vec *unit_flows, latens_vec *ll,
                                  latens_pc_work *w);

/* ---------------------------------------------------------------- EM */

typedef struct {
  size_t epochs;          /* maximum passes over the training data (default 100) */
  size_t batch_size;      /* rows per mini-batch; 0 = full-batch EM (default 0) */
  double step_size;       /* mini-batch: theta <- (1-s) theta + s theta_EM; initial s in
                             (0, 1] (default 0.1); full batch uses s = 1 */
  double step_size_final; /* s annealed linearly to this at the last epoch (default 0.9;
                             set equal to step_size for a constant step) */
  double pseudocount;     /* a >= 0: w_nc = (count_nc + a/#children) / (count_n + a); the
                             same for categorical inputs; Gaussian sd floored at 1e-3
                             (default 0.1) */
  size_t patience;        /* stop when the validation mean LL has not improved for this
                             many epochs (0: no early stopping; default 5) */
  int keep_best;          /* with validation data: restore the best-validation parameters
                             at the end (default 1) */
  size_t work_batch;      /* evaluation chunk (0: automatic, as latens_pc_work_alloc) */
  double *train_history;  /* optional caller arrays of >= epochs entries: the epoch's mean */
  double *valid_history;  /* train LL over its E-steps (each batch under the parameters
                             before that batch's update), and the mean valid LL after the
                             epoch (NaN without validation data) */
} latens_pc_em_options;

LATENS_EXPORT void latens_pc_em_options_default(latens_pc_em_options *opt);

typedef struct {
  size_t epochs;        /* epochs run */
  double train_ll;      /* mean train LL per sample under the final parameters */
  double valid_ll;      /* mean valid LL under the final parameters (NaN: no valid data) */
  double best_valid_ll; /* best mean validation LL seen (NaN: no valid data) */
  size_t best_epoch;    /* epoch (1-based) where it was seen; 0 = the initial parameters */
  int stopped_early;    /* 1 if patience ran out */
} latens_pc_em_result;

/* EM on the parameters of a finalised pc from train (n x nvars, NaN = missing) with optional
 * validation data valid (NULL for none).  Mini-batches are drawn by shuffling the rows each
 * epoch with rng (may be NULL for full batch only).  progress (may be NULL) is called once per
 * epoch with what = "pc em".  Indicator units have no parameters; sums with one child keep
 * weight 1.  res may be NULL.  On LATENS_EINTERRUPTED the parameters are those of the last
 * completed epoch (or the best ones with keep_best). */
LATENS_EXPORT int latens_pc_em(latens_pc *pc, const latens_mat *train, const latens_mat *valid,
                               const latens_pc_em_options *opt, latens_rng *rng,
                               const latens_progress *progress, latens_pc_em_result *res);

/* ---------------------------------------------------------------- files
 *
 * Text format, line oriented (documented in src/pc/io.c):
 *   # latens-pc 1
 *   vars NVARS
 *   ncat c_0 c_1 ... c_{nvars-1}
 *   units NUNITS
 *   then one line per unit in id order:
 *     I var value            (indicator)
 *     B var p0 p1            (Bernoulli)
 *     C var ncat p_0 ... p_{ncat-1}
 *     G var mean sd
 *     P n c_1 ... c_n        (product)
 *     S n c_1 w_1 ... c_n w_n  (sum)
 *   root ID
 *   end
 * Numbers are written with %.17g so reading gives back bit-identical parameters; lines
 * starting with '#' after the first are comments. */

/* Write pc (finalised or not) to an open stream. */
LATENS_EXPORT int latens_pc_write(const latens_pc *pc, FILE *f);
/* Write to path atomically (temporary file renamed into place). */
LATENS_EXPORT int latens_pc_save(const latens_pc *pc, const char *path);
/* Read a circuit and finalise it.  name is used in messages ("file:line: ...").  Errors:
 * LATENS_EPARSE naming the line and what was expected, LATENS_EDOM for an invalid circuit. */
LATENS_EXPORT int latens_pc_read(FILE *f, const char *name, latens_pc **out);
LATENS_EXPORT int latens_pc_load(const char *path, latens_pc **out);

#ifdef __cplusplus
}
#endif
#endif
