/* sde/infer_rerun.c: re-estimating a particle log-likelihood at a fitted point.
 *
 * A simplex that minimises minus the log of a particle estimate on one stream (common random
 * numbers) ends where that stream's noise happened to help, so the estimate at its minimum is
 * biased high (a winner's curse: 0.4-0.6 nats on the OU and Nile tests).  The fits therefore
 * report the log-likelihood re-estimated at the estimate on SDE_PF_NREP streams they never
 * used.  The particle likelihood is unbiased on the likelihood scale, so the log of the mean
 * of the SDE_PF_NREP likelihoods is the pooled estimate, low only by Jensen's
 * O(var / SDE_PF_NREP). */
#include "infer_impl.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

int sde_pf_pool(const char *fn, sde_pf_rerun_fn run, void *ctx, int threads, double *ll,
                double *se) {
  double l[SDE_PF_NREP];
  int st[SDE_PF_NREP], nth = 1;
  char why[SDE_PF_NREP][256];
#ifdef _OPENMP
  nth = threads > 0 ? threads : omp_get_max_threads();
  if (nth > SDE_PF_NREP) nth = SDE_PF_NREP;
#else
  (void)threads;
#endif
  (void)nth; /* read only by the pragma */
#pragma omp parallel for num_threads(nth) schedule(static, 1)
  for (int j = 0; j < SDE_PF_NREP; j++) st[j] = run(ctx, j, &l[j], why[j], sizeof why[j]);
  for (int j = 0; j < SDE_PF_NREP; j++)
    if (st[j]) /* the worker recorded it on its own thread: again on the caller's */
      LATENS_ERRORF(st[j], "%s: the particle filter re-estimating the log-likelihood at the "
                    "estimate (stream %d of %d) failed: %s", fn, j + 1, SDE_PF_NREP, why[j]);
  double mx = -INFINITY, s1 = 0, s2 = 0, sw = 0;
  for (int j = 0; j < SDE_PF_NREP; j++) mx = fmax(mx, l[j]);
  for (int j = 0; j < SDE_PF_NREP; j++) {
    if (isfinite(mx)) sw += exp(l[j] - mx);
    s1 += l[j];
  }
  *ll = isfinite(mx) ? mx + log(sw / SDE_PF_NREP) : -INFINITY;
  if (!isfinite(s1)) {
    *se = INFINITY;
    return LATENS_OK;
  }
  const double mean = s1 / SDE_PF_NREP;
  for (int j = 0; j < SDE_PF_NREP; j++) s2 += (l[j] - mean) * (l[j] - mean);
  *se = sqrt(s2 / (SDE_PF_NREP - 1) / SDE_PF_NREP);
  return LATENS_OK;
}
