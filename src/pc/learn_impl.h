/* pc/learn_impl.h: what the learning files of pc share (not installed). */
#ifndef LATENS_PC_LEARN_IMPL_H
#define LATENS_PC_LEARN_IMPL_H
#include "../core/internal.h"
#include <latens/pc_learn.h>

/* Scratch of one pass over a chunk of at most `rows` samples: per component and node the
 * shifted exponentials E (later the posteriors) and the child-to-parent products Mx, each
 * rows x K column-major.  Memory O(M n rows K): linear in batch x circuit width. */
typedef struct {
  size_t rows;
  double *E, *Mx;  /* [(m*n + j) * rows*K] */
  double *s, *tmp; /* rows; rows*K (also K*K) */
  double *llm;     /* [m*rows + b]: log p(x_b | component m) */
  double *sc;      /* [j*rows + b]: log scale of node j's rows in the linear-space pass */
  double *logl1, *logl0; /* [(m*n + j)*K + k]: log leaf probabilities of x = 1, x = 0 */
  double *logcat;  /* categorical models: log of h->cat, same layout */
  /* Data softening (binary models): the pass sees each observed x_j kept with probability
   * beta and flipped otherwise, which is the hard pass with leaves lf = beta l + (1-beta)(1-l);
   * a1, a0 turn a latent's posterior into its expected count of x = 1 behind a soft 1, 0. */
  double beta;
  double *lf, *a1, *a0; /* [(m*n + j)*K + k]; lf is h->leaf when beta = 1 */
} latens_pc_hclt_ws;

LATENS_INTERNAL latens_pc_hclt_ws *latens_pc_hclt_ws_alloc(const latens_pc_hclt *h, size_t rows);
LATENS_INTERNAL void latens_pc_hclt_ws_free(latens_pc_hclt_ws *w);
/* Refresh the leaf tables from h (after every change of h's leaves), softened by beta in
 * (0.5, 1] (1: the data as they are; categorical models: 1 only). */
LATENS_INTERNAL void latens_pc_hclt_ws_leaves(latens_pc_hclt_ws *w, const latens_pc_hclt *h,
                                              double beta);
/* Upward pass over rows [r0, r0 + nb) of X (nb <= w->rows): fills E, Mx, llm and ll[0..nb). */
LATENS_INTERNAL void latens_pc_hclt_up(const latens_pc_hclt *h, const latens_mat *X, size_t r0,
                                       size_t nb, latens_pc_hclt_ws *w, double *ll);
/* Downward pass after latens_pc_hclt_up on the same rows; adds the expected counts to c. */
LATENS_INTERNAL void latens_pc_hclt_down(const latens_pc_hclt *h, const latens_mat *X,
                                         size_t r0, size_t nb, latens_pc_hclt_ws *w,
                                         const double *ll, latens_pc_hclt_counts *c);
/* Entries 0, 1 or (when allow_nan) NaN; otherwise LATENS_EDOM naming the first bad one. */
LATENS_INTERNAL int latens_pc_check_binary(const char *fn, const char *name, const latens_mat *X,
                                           size_t ncol, int allow_nan);
/* Data for model h: latens_pc_check_binary (NaN allowed) for a binary model, codes
 * 0..ncat[j]-1 or NaN for a categorical one. */
LATENS_INTERNAL int latens_pc_hclt_check_data(const char *fn, const char *name, const latens_mat *X,
                                              const latens_pc_hclt *h);
/* Every table of h finite (the ones its kind uses: leaf or cat), else LATENS_ENOTFINITE naming
 * the table and the first bad entry, reported as from fn. */
LATENS_INTERNAL int latens_pc_hclt_check_finite(const char *fn, const latens_pc_hclt *h);
/* Codes 0..ncat[j]-1 (ncat NULL: 0/1), NaN when allow_nan; LATENS_EDOM naming the first other. */
LATENS_INTERNAL int latens_pc_check_cat(const char *fn, const char *name, const latens_mat *X,
                                        size_t ncol, const size_t *ncat, int allow_nan);
/* The rows of X in a random order (Fisher-Yates from rng) into Y (same shape); perm: N. */
LATENS_INTERNAL void latens_pc_shuffle_rows(const latens_mat *X, latens_mat *Y, size_t *perm,
                                            latens_rng *rng);
#endif
