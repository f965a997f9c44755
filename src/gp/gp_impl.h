/* src/gp/gp_impl.h: what the gp source files share (not installed). */
#ifndef LATENS_GP_IMPL_H
#define LATENS_GP_IMPL_H

#include "../core/internal.h"
#include <latens/gp.h>

struct latens_gp_kernel {
  size_t nterms, dim, nparams;
  latens_gp_term term[LATENS_GP_MAX_TERMS];
  size_t off[LATENS_GP_MAX_TERMS];   /* first state index of each term */
  size_t tdim[LATENS_GP_MAX_TERMS];  /* state dimension of each term */
  size_t pfirst[LATENS_GP_MAX_TERMS];/* index of each term's variance in theta */
  char names[3 * LATENS_GP_MAX_TERMS][24];
};

/* Beyond this λΔ the transition is zero to double precision ((λΔ)^3 e^{-λΔ} < 1e-295). */
#define GP_Z_ZERO 700.0

/* Order p of a kind (0..3) and whether it oscillates. */
static inline int gp_order(latens_gp_kind k) { return (int)k & 3; }
static inline int gp_is_hida(latens_gp_kind k) { return (int)k >= 4; }
/* λ = √(2p+1)/ℓ. */
LATENS_INTERNAL double gp_lambda(const latens_gp_term *t);

/* Dense block-diagonal state-space matrices of the whole kernel (d x d, leading dimension d,
 * column-major), written in full. */
LATENS_INTERNAL void gp_fill_pinf(const latens_gp_kernel *k, double *P);
LATENS_INTERNAL void gp_fill_transition(const latens_gp_kernel *k, double dt, double *A,
                                        double *Q);
/* Derivatives with respect to theta[param]; dP / dA / dQ may be NULL. */
LATENS_INTERNAL void gp_fill_pinf_deriv(const latens_gp_kernel *k, size_t param, double *dP);
LATENS_INTERNAL void gp_fill_transition_deriv(const latens_gp_kernel *k, double dt,
                                              size_t param, double *dA, double *dQ);
/* Which term a parameter belongs to, and its role: 0 variance, 1 lengthscale, 2 frequency. */
LATENS_INTERNAL void gp_param_role(const latens_gp_kernel *k, size_t param, size_t *term,
                                   int *role);

/* Checks shared by the inference entry points: times finite and non-decreasing, y not
 * +-Inf, noise_var valid, noise valid when needed.  fn names the caller. */
LATENS_INTERNAL int gp_check_series(const char *fn, const latens_gp_series *s, size_t ntrials,
                                    double noise);

/* Forward filter of one series: log-likelihood and (grad != NULL) its gradient
 * (nparams + 1 entries, added to grad).  Silent: returns LATENS_ENOTPOSDEF (loglik NaN) when
 * the result is not finite, without reporting. */
LATENS_INTERNAL int gp_filter_loglik(const latens_gp_kernel *k, double noise,
                                     const latens_gp_series *s, double *loglik, double *grad);

/* Sum over already validated trials (parallel, trial-ordered sums); silent like
 * gp_filter_loglik (LATENS_ENOMEM too). */
LATENS_INTERNAL int gp_loglik_sum(const latens_gp_kernel *k, double noise,
                                  const latens_gp_series *series, size_t ntrials,
                                  double *loglik, double *grad);

/* Whittle's sum for a precomputed periodogram I[0..n/2] (|DFT|²/n); silent: LATENS_EDOM
 * when s(θ) is not positive and finite somewhere. */
LATENS_INTERNAL int gp_whittle_sum(const latens_gp_kernel *k, double noise, double dt,
                                   const double *I, size_t n, double *value);
/* The periodogram of y (n >= 2 finite values) into I[0..n/2]; LATENS_ENOMEM on failure. */
LATENS_INTERNAL int gp_periodogram(const double *y, size_t n, double *I);

/* The scalar hot loops of gp_kernels.c: returns 1 and sets *loglik when the kernel is one
 * Matérn-1/2 or -3/2 term (no gradient), 0 when the kernel is another, -1 when the data
 * failed validation (then gp_check_series names the problem).  s->n > 0, s->t non-NULL. */
LATENS_INTERNAL int gp_loglik_fast(const latens_gp_kernel *k, double noise,
                                   const latens_gp_series *s, double *loglik);

#endif
