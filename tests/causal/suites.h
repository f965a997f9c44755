/* tests/causal/suites.h: the causal (local part) suites and their shared helpers. */
#ifndef LATENS_TESTS_CAUSAL_SUITES_H
#define LATENS_TESTS_CAUSAL_SUITES_H
#include <check.h>
#include <latens/latens.h>
#include "../testutil.h"

Suite *causal_graph_suite(void);
Suite *causal_citest_suite(void);
Suite *causal_pc_suite(void);
Suite *causal_fci_suite(void);
Suite *causal_fci_oracle_suite(void);

/* The eight bnlearn networks whose true DAGs (and causal-learn's answers) are in data/. */
extern const char *const causal_nets[8];
/* tests/causal/data/NAME (a static buffer). */
const char *causal_data(const char *name);
/* A random DAG on p nodes (edges only from lower to higher index, each present with
 * probability deg / (p - 1)), from the splitmix stream *s. */
latens_causal_graph *causal_random_dag(size_t p, double deg, uint64_t *s);
/* n samples of the linear-Gaussian SEM on dag (weights +-[0.5, 1.5], unit-variance noise
 * from Box-Muller on splitmix), n x p column-major. */
latens_mat *causal_simulate(const latens_causal_graph *dag, size_t n, uint64_t *s);
/* 1 when a and b have the same nodes (by name) and identical marks. */
int causal_same_graph(const latens_causal_graph *a, const latens_causal_graph *b);
#endif
