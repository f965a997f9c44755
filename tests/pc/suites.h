/* tests/pc/suites.h: the circuit core's suites (runner.c) and the small circuits they share. */
#ifndef LATENS_TESTS_PC_SUITES_H
#define LATENS_TESTS_PC_SUITES_H
#include <check.h>
#include <stdint.h>
#include <latens/latens.h>

Suite *pc_build_suite(void);
Suite *pc_query_suite(void);
Suite *pc_em_suite(void);

/* A random smooth, decomposable, non-deterministic circuit over n binary variables: sums of
 * `k` products splitting the scope in two, Bernoulli leaves; random positive weights. */
latens_pc *pcu_random(size_t n, size_t k, uint64_t *seed);
/* A deterministic circuit over n binary variables: a decision tree on x0, x1, ... (each sum
 * splits on the next variable through indicators), Bernoulli leaves below depth `depth`. */
latens_pc *pcu_decision(size_t n, size_t depth, uint64_t *seed);
/* An HCLT-shaped circuit over n binary variables (a chain of latents with K states each), so
 * every sum layer is a dense K x K block and runs through DGEMM. */
latens_pc *pcu_hclt_chain(size_t n, size_t K, uint64_t *seed);
/* log p of every one of the 2^n complete states (row r: bit j of r is x_j), length 2^n. */
double *pcu_enumerate(const latens_pc *pc);

#include "../testutil.h"
#endif
