/* sde/infer_impl.h: helpers shared by the sde inference sources; not installed. */
#ifndef LATENS_SDE_INFER_IMPL_H
#define LATENS_SDE_INFER_IMPL_H

#include "../core/internal.h"

#include <latens/sde_infer.h>

/* Exact transition of the affine SDE over dt: z(t+dt) = Ad z(t) + bd + N(0, Qd).  Ad, Qd:
 * n x n, bd: n.  The constant is carried as an extra state with zero drift so that one Van
 * Loan call integrates it exactly.  w: a workspace of order >= n + 1, or NULL. */
LATENS_INTERNAL int latens_sde_lti_transition(const latens_sde_lti *M, double dt, double *Ad,
                                              double *bd, double *Qd, latens_lti_workspace *w);

/* Compact the observed entries of x (p) into idx (their indices); returns their count. */
LATENS_INTERNAL size_t latens_sde_observed(const double *x, size_t p, size_t *idx);

/* ---- Re-estimating a particle fit's log-likelihood (infer_rerun.c; why: see there). */
enum { SDE_PF_NREP = 8 };
/* The seed of re-estimate j = 0..SDE_PF_NREP-1: seed + (j + 1) golden, never the fit's. */
static inline uint64_t sde_pf_rerun_seed(uint64_t seed, int j) {
  return seed + (uint64_t)(j + 1) * UINT64_C(0x9E3779B97F4A7C15);
}
/* One re-estimate on the calling thread (stream j): its log-likelihood in *ll, -Inf when
 * every particle lost its weight (a zero likelihood estimate); on failure a status, with its
 * message in why. */
typedef int (*sde_pf_rerun_fn)(void *ctx, int j, double *ll, char *why, size_t nwhy);
/* run(ctx, j) for j < SDE_PF_NREP on min(threads or the OpenMP default, SDE_PF_NREP) threads
 * (the values do not depend on the count); *ll the log of the mean likelihood, *se the
 * standard error of the mean of the logs (+Inf when one is -Inf).  A failing run is reported
 * again on the calling thread, naming fn and the lowest failing stream. */
LATENS_INTERNAL int sde_pf_pool(const char *fn, sde_pf_rerun_fn run, void *ctx, int threads,
                                double *ll, double *se);

/* ---- SDE matching internals shared by match.c (closed form) and match_mc.c (Monte Carlo). */
struct latens_sde_match {
  size_t n, nl, S, K, T, nq; /* state, L entries, pieces, basis functions, obs, nodes */
  double t0;
  latens_sde_match_options opt;
  double *pb;         /* S + 1 piece boundaries */
  size_t *obs_node;   /* T: basis index of each observation time */
  double *qu, *qw;    /* nq Gauss-Legendre nodes and weights on [0, 1] */
  double *phi, *dphi; /* 4 x nq basis values and u-derivatives at the nodes */
  double *scratch;    /* per-node temporaries */
  size_t *idx;        /* observed rows */
};

LATENS_INTERNAL void latens_sde_match_lagrange(double u, double phi[4], double dphi[4]);
/* m, L (and m', L' when dm, dL are non-NULL) at basis index j0 with local weights phi, dphi
 * (derivatives already divided by the piece width) over nb basis functions. */
LATENS_INTERNAL void latens_sde_match_eval_node(const latens_sde_match *w, const double *coef,
                                                size_t j0, const double *phi, const double *dphi,
                                                int nb, double *m, double *dm, double *L,
                                                double *dL);
/* Gradients with respect to m, m', L, L' at a node back onto the coefficients. */
LATENS_INTERNAL void latens_sde_match_scatter(const latens_sde_match *w, size_t j0,
                                              const double *phi, const double *dphi, int nb,
                                              const double *L, const double *dL, const double *gm,
                                              const double *gdm, const double *gL,
                                              const double *gdL, double *gcoef);
LATENS_INTERNAL void latens_sde_match_tri_inv(const double *L, size_t n, double *Li);
LATENS_INTERNAL int latens_sde_match_spd_inverse(const char *fn, const char *name, const double *A,
                                                 size_t k, double *Ainv, double *logdet);
/* KL(q(z_t0) || N(m0, P0)); gradients into gm, gL (overwritten) and g (accumulated). */
LATENS_INTERNAL double latens_sde_match_kl(size_t n, const latens_sde_lti *M, const double *P0i,
                                           double logdetP0, const double *mq, const double *L,
                                           double *gm, double *gL, latens_sde_lti_grad *g,
                                           double *tmp);
/* E_q[-log p(x | z)] at one observation column, weight wt; gradients accumulated. */
LATENS_INTERNAL int latens_sde_match_recon(const latens_sde_match *w, const latens_sde_readout *ro,
                                           const double *x, const double *m, const double *L,
                                           double wt, double *gm, double *gL,
                                           latens_sde_lti_grad *g, double *val);
LATENS_INTERNAL int latens_sde_match_check_call(const char *fn, const latens_sde_match *w,
                                                const latens_sde_lti *M,
                                                const latens_sde_readout *ro,
                                                const latens_sde_data *y);

/* RTS smoother in place over stored filter moments (see infer_kalman.c). */
LATENS_INTERNAL int sde_rts_inplace(size_t n, size_t T, const double *A, double *mf, double *Pf,
                                    const double *mp, const double *Pp);
#endif
