/* latens/lti.h: linear time-invariant machinery shared by state-space GPs and linear SDEs —
 * the matrix exponential, the exact discretisation of dx = F x dt + L dβ (Van Loan), and
 * the continuous Lyapunov equation for stationary covariances.
 *
 * Conventions:
 * - Matrices are column-major latens_mat with a leading dimension (latens/matrix.h).
 * - Inputs are const and never modified; outputs must not overlap inputs unless a function
 *   says otherwise.
 * - Covariance-like inputs (LQLt, C, Pinf) are read in full and only their symmetric part
 *   matters; covariance outputs are symmetrised exactly ((X + X^T)/2).
 * - NaN/Inf in an input: LATENS_ENOTFINITE, outputs untouched.  A finite input whose result
 *   overflows: LATENS_ERANGE.
 * - An empty (0 x 0) problem is valid and does nothing (LATENS_OK); workspaces need order
 *   >= 1.
 * - Sizes CBLAS cannot take are refused (LATENS_EINVAL): dimensions or leading dimensions
 *   beyond INT_MAX, and orders whose square would be (expm n > 46340, discretize d > 23170).
 */
#ifndef LATENS_LTI_H
#define LATENS_LTI_H

#include <stddef.h>
#include <latens/common.h>
#include <latens/matrix.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- matrix exponential */

/* Scratch for latens_expm of any order up to n: 7 n^2 + n doubles.  One per thread. */
typedef struct latens_expm_workspace latens_expm_workspace;

LATENS_EXPORT latens_expm_workspace *latens_expm_workspace_alloc(size_t n);
LATENS_EXPORT void latens_expm_workspace_free(latens_expm_workspace *w); /* NULL-safe */

/* E <- exp(A) for square A, by scaling and squaring with a diagonal Padé approximant of
 * degree m in {3, 5, 7, 9, 13} chosen from ||A||_1 (Higham 2005, SIAM J. Matrix Anal. Appl.
 * 26(4):1179-1193, Algorithm 2.3): backward error below the unit roundoff in exact
 * arithmetic.  A is first balanced by a diagonal similarity of powers of 2 (exact), kept only
 * if it lowers ||A||_1: graded matrices such as Matérn state-space F (state scales 1, λ, λ²)
 * then need far fewer squarings (1e-10 -> 3e-14 relative error measured on Matérn-5/2 at
 * λ = 25, λ dt = 20).  Like Higham's algorithm it may square more often than needed for
 * some highly non-normal matrices (Al-Mohy & Higham 2009 fix this), which costs accuracy
 * only in such cases.
 * E may be A itself (same data and ld); no other overlap.  w may be NULL: orders up to 8 then
 * use the stack, larger ones malloc (freed before returning); give a workspace to keep
 * repeated calls allocation-free.
 * Errors: NULL matrix: LATENS_EINVAL; non-square A or E of another shape: LATENS_EBADLEN;
 * workspace smaller than A: LATENS_EBADLEN; NaN/Inf in A: LATENS_ENOTFINITE; result overflows
 * (e.g. a large positive eigenvalue): LATENS_ERANGE, E unspecified. */
LATENS_EXPORT int latens_expm(const latens_mat *A, latens_mat *E, latens_expm_workspace *w);

/* ---------------------------------------------------------------- discretisation */

/* Scratch for latens_lti_discretize with state dimension up to d: 37 d^2 + 3d doubles. */
typedef struct latens_lti_workspace latens_lti_workspace;

LATENS_EXPORT latens_lti_workspace *latens_lti_workspace_alloc(size_t d);
LATENS_EXPORT void latens_lti_workspace_free(latens_lti_workspace *w); /* NULL-safe */

/* Exact transition of dx = F x dt + L dβ, where β has diffusion Qc and LQLt = L Qc L^T
 * (d x d), over a step dt >= 0:
 *   A = exp(F dt),   Q = ∫_0^dt exp(F s) LQLt exp(F s)^T ds   (the process-noise covariance).
 * Method: the state is first balanced (x = D z, D diagonal powers of 2, exact) when that
 * lowers ||F||.  Then Van Loan (1978, IEEE TAC 23(3):395-404) on a short step h = dt / 2^k
 * with ||F h|| <= 1/2 — A_h and Q_h from the exponential of [[-F, LQLt], [0, F^T]] h — and
 * k doublings A_2h = A_h^2, Q_2h = Q_h + A_h Q_h A_h^T give Q; A comes from exp(F dt)
 * directly (fewer squarings than the chain, so more accurate).  Van Loan applied to the
 * whole step multiplies exp(-F dt), which grows like exp(|λ| dt) for stable F, by
 * exp(F dt): with eigenvalues of different magnitude (sums of kernels) or long steps the
 * relative error grows like exp((|λ|max - |λ|min) dt), and it overflows for |λ| dt > 709.
 * The doublings only add positive semi-definite terms, so Q keeps its accuracy for any dt
 * and tends to the stationary covariance as dt grows.  Cost: one 2d x 2d exponential of
 * small norm, one d x d exponential and k = O(log2(||F|| dt)) steps of 3 d x d products.
 * dt = 0 gives A = I and Q = 0 exactly.  Q is symmetrised.  w may be NULL: d <= 4 then uses
 * the stack, larger d malloc.
 * Errors: NULL matrix: LATENS_EINVAL; non-square F, LQLt/A/Q of another shape, workspace
 * smaller than d: LATENS_EBADLEN; dt < 0: LATENS_EDOM; NaN/Inf in F, LQLt or dt:
 * LATENS_ENOTFINITE; A or Q overflows (unstable F over a long step): LATENS_ERANGE. */
LATENS_EXPORT int latens_lti_discretize(const latens_mat *F, const latens_mat *LQLt, double dt,
                                        latens_mat *A, latens_mat *Q, latens_lti_workspace *w);

/* Q <- Pinf - A Pinf A^T, symmetrised: the process noise of a stationary model whose
 * stationary covariance Pinf is known in closed form (gp's Matérn kernels).  Note that for
 * short steps this subtracts nearly equal matrices, so its absolute error is about
 * u ||Pinf|| rather than u ||Q||: latens_lti_discretize is the accurate route when it matters.
 * A, Pinf, Q are d x d; Q must not overlap A or Pinf.  For d > 64 one d-vector is malloc'd.
 * Errors: NULL: LATENS_EINVAL; shapes: LATENS_EBADLEN; NaN/Inf: LATENS_ENOTFINITE. */
LATENS_EXPORT int latens_lti_stationary_noise(const latens_mat *A, const latens_mat *Pinf,
                                              latens_mat *Q);

/* ---------------------------------------------------------------- Lyapunov */

/* Solve the continuous Lyapunov equation F P + P F^T + C = 0 for stable F (every eigenvalue
 * with negative real part): P is the stationary covariance of dx = F x dt + L dβ when
 * C = L Qc L^T.  Bartels-Stewart: F balanced by an exact diagonal similarity (as above, kept
 * if it lowers ||F||_1), F = Z T Z^T (real Schur form from GSL's Francis QR, whose own
 * balancing stays off so that Z is orthogonal), the quasi-triangular equation solved block by
 * block (1x1 and 2x2 diagonal blocks), P = Z Y Z^T.  O(d^3) flops, O(d^2) memory (malloc'd).
 * C's symmetric part is used (the solution for it is the symmetric part of the solution for
 * C); P is symmetrised.
 * Errors: NULL: LATENS_EINVAL; shapes: LATENS_EBADLEN; NaN/Inf: LATENS_ENOTFINITE; an
 * eigenvalue of F with real part >= -d u ||F||_1 (F balanced, u = 2^-53: unstable, or not
 * stable to working precision, such as the double integrator): LATENS_ESING, naming that
 * real part;
 * the QR iteration not converging: LATENS_EMAXITER; P overflows: LATENS_ERANGE; no memory:
 * LATENS_ENOMEM.  P is unspecified on failure. */
LATENS_EXPORT int latens_lyap_solve(const latens_mat *F, const latens_mat *C, latens_mat *P);

#ifdef __cplusplus
}
#endif
#endif
