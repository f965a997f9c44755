/* causal/citest_impl.h: the statistical CI-test kernels (citest_kernels.c). */
#ifndef LATENS_CAUSAL_CITEST_IMPL_H
#define LATENS_CAUSAL_CITEST_IMPL_H

#include "causal_impl.h"

/* p-value of x _||_ y | S[0..k) (S sorted, distinct, without x, y) on continuous data. */
LATENS_INTERNAL int latens_causal_fisherz(const latens_causal_data *d, size_t x, size_t y,
                                          const size_t *S, size_t k, double *p);
/* Pearson chi-square (gsq = 0) or G^2 (gsq = 1) on discrete data, causal-learn's df rule. */
LATENS_INTERNAL int latens_causal_chisq(const latens_causal_data *d, size_t x, size_t y,
                                        const size_t *S, size_t k, int gsq, double *p);
/* LATENS_CAUSAL_TEST_* of t. */
LATENS_INTERNAL int latens_causal_citest_kind(const latens_causal_citest *t);

#endif
