/* tests/pc/learn_suites.h: the suites of the pc learning runner and their shared helpers. */
#ifndef LATENS_TESTS_PC_LEARN_SUITES_H
#define LATENS_TESTS_PC_LEARN_SUITES_H
#include <check.h>
#include <stdint.h>
#include <latens/latens.h>
#include <latens/pc_learn.h>
#include "../testutil.h"

Suite *learn_tree_suite(void);
Suite *learn_hclt_suite(void);
Suite *learn_pic_suite(void);
Suite *learn_circuit_suite(void);

/* Uniform in [0, 1) from the splitmix state. */
static inline double u01(uint64_t *s) { return 0.5 * (test_unif(s) + 1.0); }
/* N ancestral samples of h (every component, observed x only) into X (N x n), using the
 * splitmix state: the independent reference generator of the tests.  Z (may be NULL,
 * N x M n) receives the latent states of the component drawn (other components NaN). */
void learn_sample_hclt(const latens_pc_hclt *h, size_t N, uint64_t *s, latens_mat *X,
                       latens_mat *Z);
/* A random HCLT (n, K, M) on a random tree, tables drawn with concentration: rows are
 * normalised u^power (larger power: more peaked, easier to identify). */
latens_pc_hclt *learn_random_hclt(size_t n, size_t K, size_t M, double power, uint64_t *s);
/* log p(x) of every one of the 2^n binary states, by brute-force enumeration of the latent
 * states too (K^n per component): the reference for small models.  ll has 2^n entries,
 * state bits little-endian (bit j = x_j). */
void learn_brute_loglik(const latens_pc_hclt *h, double *ll);
/* Categorical HCLT helpers (test_learn_cat.c): a model on the tree `parent` with tables
 * randomised (perturb 0.9) from seed; its leaf p(x_j = v | z_j = k) in component m; p(x) by
 * enumerating every latent state (x[j] < 0 marginalises X_j); every observed state (mixed
 * radix over ncat, X_0 fastest) as rows, *S of them; N ancestral samples with the splitmix
 * state s (independent of the library's rng). */
latens_pc_hclt *learn_cat_random(size_t n, const size_t *ncat, size_t K, size_t M,
                                 const long *parent, uint64_t seed);
double learn_cat_leaf(const latens_pc_hclt *h, size_t m, size_t j, size_t k, size_t v);
double learn_cat_brute_p(const latens_pc_hclt *h, const int *x);
latens_mat *learn_cat_states(size_t n, const size_t *ncat, size_t *S);
void learn_cat_sample(const latens_pc_hclt *h, size_t N, uint64_t *s, latens_mat *X);
/* The tests of test_learn_cat_circuit.c, added to the given case. */
void learn_cat_circuit_add_tests(TCase *tc);
/* A bundled DEBD split, data/NAME.SPLIT.data of the source tree; NULL when absent. */
latens_mat *learn_read_debd(const char *name, const char *split);
#endif
