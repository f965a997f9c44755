/* gp/cvi_impl.h: what the CVI, information-filter and GPFA files of gp share; not installed. */
#ifndef LATENS_GP_CVI_IMPL_H
#define LATENS_GP_CVI_IMPL_H

#include "../core/internal.h"
#include <latens/gp_cvi.h>

struct latens_gp_ssm {
  size_t K, T, D, nsteps; /* nsteps: 1 on a regular grid, else T - 1 */
  int regular;
  size_t *dims, *off;     /* d_k and the offset of block k in the state */
  double *H;              /* K x D, ld K */
  double *Pinf;           /* D x D, ld D, block diagonal */
  double **A, **Q;        /* per latent: nsteps blocks of d_k x d_k (ld d_k) */
};

struct latens_gp_cvi {
  const latens_gp_ssm *s;
  size_t K, T, D;
  double *j, *J;        /* sites: K x T (ld K) and K*K per t */
  double *m, *V;        /* smoothed latent moments: K per t, K*K per t */
  double *mf, *Pf;      /* state filtered (then smoothed) moments: D per t, D*D per t */
  double *mp, *Pp;      /* state predicted moments */
  double *mprev;        /* K x T: latent means of the previous iteration */
  double *jt, *Jt;      /* natural-gradient targets of the sites, as j and J */
  double *Et;           /* T: expected log-likelihood per time point */
  double logZ, elbo;
  size_t iter;
  int converged;
  int fresh;            /* sites not yet set by a run (reset or new) */
};

/* Transition t -> t+1 of the stacked state as full D x D matrices (block diagonal; the
 * off-diagonal blocks of A and Q are written as zeros). */
LATENS_INTERNAL void latens_gp_ssm_step_full(const latens_gp_ssm *s, size_t t, double *A,
                                             double *Q);

/* Posterior of the conjugate model "prior x sites": latent moments into w->m, w->V and
 * log Z = log of the integral of prior times sites (for the ELBO).  Moment form (smooth.c)
 * or bidirectional information form (infofilter.c). */
LATENS_INTERNAL int latens_gp_cvi_smooth_rts(latens_gp_cvi *w, double *logZ);
LATENS_INTERNAL int latens_gp_cvi_smooth_info(latens_gp_cvi *w, double *logZ);
/* Latent moments m_t = H x_t, V_t = H P_t H^T from the smoothed state moments in mf, Pf. */
LATENS_INTERNAL void latens_gp_cvi_project(latens_gp_cvi *w);

/* Checks of Y against a likelihood: LATENS_OK or a reported error naming row and column. */
LATENS_INTERNAL int latens_gp_cvi_check_data(const char *fn, int lik, const double *Y, size_t ldy,
                                             size_t T, size_t N);
/* Checks of CVI options (ranges as documented in latens/gp_cvi.h). */
LATENS_INTERNAL int latens_gp_cvi_check_options(const char *fn, const latens_gp_cvi_options *o);
/* Checks of a readout against K latents. */
LATENS_INTERNAL int latens_gp_cvi_check_readout(const char *fn, const latens_gp_cvi_readout *ro,
                                                size_t K);

/* Expected log-density of one observation y under eta ~ N(mu, s2) (Poisson: without the
 * constant -log y!), and the coefficients of
 * its natural-gradient target: dE/dmu = alpha, dE/ds2 = -beta/2.  gh: standard-normal
 * Gauss-Hermite nodes z and weights wts (n of them), for Bernoulli only. */
typedef struct {
  size_t n;
  double *z, *wts;
} latens_gp_gh;
LATENS_INTERNAL int latens_gp_gh_init(latens_gp_gh *gh, size_t n);
LATENS_INTERNAL void latens_gp_gh_free(latens_gp_gh *gh);
LATENS_INTERNAL double latens_gp_cvi_expect(int lik, double y, double mu, double s2, double noise,
                                            const latens_gp_gh *gh, double *alpha, double *beta);

#endif
