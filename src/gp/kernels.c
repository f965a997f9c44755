/* src/gp/kernels.c: (Hida-)Matérn kernels as state-space models in closed form.
 *
 * Scaled state: for a Matérn term of order p the state is (f, f'/λ, ..., f^(p)/λ^p).  Then
 * F = λ M with the constant companion matrix M (superdiagonal 1, last row −C(p+1, j)),
 * whose characteristic polynomial is (s + 1)^{p+1}, so N = M + I is nilpotent and
 *   A(Δ) = exp(M z) = e^{−z} Σ_{k<=p} N^k z^k / k!,   z = λΔ,
 * exactly, and P∞ = σ² P̃ with P̃_ij = (−1)^{(i−j)/2} c_{(i+j)/2} (0 for i + j odd), where
 * c_k = E[ω^{2k}]/λ^{2k} under the spectral density ∝ (λ² + ω²)^{−(p+1)}:
 *   c_k = Γ(k+½) Γ(p+½−k) / (Γ(½) Γ(p+½)).
 * Everything depends on ℓ only through z, and every entry is O(1) times σ², which keeps
 * extreme lengthscales (ℓ → 0: z huge, A = 0; ℓ → ∞: z → 0, A → I) well scaled.  The
 * oscillatory (Hida) term is the Kronecker product with the 2 x 2 rotation R(ωΔ).
 */
#include "gp_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[LATENS_GP_NKINDS] = {
    "matern12",      "matern32",      "matern52",      "matern72",
    "hida-matern12", "hida-matern32", "hida-matern52", "hida-matern72"};

const char *latens_gp_kind_name(int kind) {
  if (kind < 0 || kind >= LATENS_GP_NKINDS) return "unknown";
  return kind_names[kind];
}

int latens_gp_kind_from_name(const char *name, latens_gp_kind *kind) {
  if (!name || !kind) LATENS_ERROR("latens_gp_kind_from_name: NULL argument", LATENS_EINVAL);
  if (strcmp(name, "hida-matern") == 0) {
    *kind = LATENS_GP_HIDA32;
    return LATENS_OK;
  }
  for (int i = 0; i < LATENS_GP_NKINDS; i++)
    if (strcmp(name, kind_names[i]) == 0) {
      *kind = (latens_gp_kind)i;
      return LATENS_OK;
    }
  LATENS_ERRORF(LATENS_EDOM,
                "latens_gp_kind_from_name: unknown kernel '%.40s' (expected matern12, matern32, "
                "matern52, matern72, hida-matern or hida-matern12..72)",
                name);
}

double gp_lambda(const latens_gp_term *t) {
  return sqrt(2.0 * gp_order(t->kind) + 1.0) / t->lengthscale;
}

/* ---------------------------------------------------------------- kernel objects */

static int check_term(const latens_gp_term *t, size_t i) {
  if ((int)t->kind < 0 || (int)t->kind >= LATENS_GP_NKINDS)
    LATENS_ERRORF(LATENS_EDOM, "latens_gp_kernel: term %zu has unknown kind %d", i + 1,
                  (int)t->kind);
  if (!(isfinite(t->variance) && t->variance > 0 && t->variance < 1e300))
    LATENS_ERRORF(LATENS_EDOM, "latens_gp_kernel: term %zu variance %g must be finite and > 0",
                  i + 1, t->variance);
  if (!(isfinite(t->lengthscale) && t->lengthscale > 0))
    LATENS_ERRORF(LATENS_EDOM, "latens_gp_kernel: term %zu lengthscale %g must be finite and > 0",
                  i + 1, t->lengthscale);
  if (gp_is_hida(t->kind) && !(isfinite(t->frequency) && t->frequency >= 0))
    LATENS_ERRORF(LATENS_EDOM, "latens_gp_kernel: term %zu frequency %g must be finite and >= 0",
                  i + 1, t->frequency);
  return LATENS_OK;
}

latens_gp_kernel *latens_gp_kernel_alloc(const latens_gp_term *terms, size_t nterms) {
  if (!terms) LATENS_ERROR_NULL("latens_gp_kernel_alloc: terms is NULL", LATENS_EINVAL);
  if (nterms == 0 || nterms > LATENS_GP_MAX_TERMS) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL,
                  "latens_gp_kernel_alloc: %zu terms (need 1..%d)", nterms, LATENS_GP_MAX_TERMS);
    return NULL;
  }
  size_t dim = 0;
  for (size_t i = 0; i < nterms; i++) {
    if (check_term(&terms[i], i) != LATENS_OK) return NULL;
    dim += (size_t)(gp_order(terms[i].kind) + 1) * (gp_is_hida(terms[i].kind) ? 2 : 1);
  }
  if (dim > LATENS_GP_MAX_DIM) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL,
                  "latens_gp_kernel_alloc: state dimension %zu exceeds %d", dim,
                  LATENS_GP_MAX_DIM);
    return NULL;
  }
  latens_gp_kernel *k = calloc(1, sizeof *k);
  if (!k) LATENS_ERROR_NULL("latens_gp_kernel_alloc: out of memory", LATENS_ENOMEM);
  k->nterms = nterms;
  size_t off = 0, np = 0;
  for (size_t i = 0; i < nterms; i++) {
    k->term[i] = terms[i];
    if (!gp_is_hida(terms[i].kind)) k->term[i].frequency = 0;
    k->off[i] = off;
    k->tdim[i] = (size_t)(gp_order(terms[i].kind) + 1) * (gp_is_hida(terms[i].kind) ? 2 : 1);
    off += k->tdim[i];
    k->pfirst[i] = np;
    static const char *const base[3] = {"variance", "lengthscale", "frequency"};
    int nr = gp_is_hida(terms[i].kind) ? 3 : 2;
    for (int r = 0; r < nr; r++) {
      if (nterms == 1)
        snprintf(k->names[np + r], sizeof k->names[0], "%s", base[r]);
      else
        snprintf(k->names[np + r], sizeof k->names[0], "%s%zu", base[r], i + 1);
    }
    np += (size_t)nr;
  }
  k->dim = off;
  k->nparams = np;
  return k;
}

latens_gp_kernel *latens_gp_kernel_parse(const char *spec) {
  if (!spec) LATENS_ERROR_NULL("latens_gp_kernel_parse: spec is NULL", LATENS_EINVAL);
  latens_gp_term terms[LATENS_GP_MAX_TERMS];
  size_t n = 0;
  const char *p = spec;
  for (;;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char name[32];
    if (len == 0 || len >= sizeof name) {
      latens_errorf(__FILE__, __LINE__, LATENS_EDOM,
                    "latens_gp_kernel_parse: bad kernel list '%.60s' (empty or overlong name)",
                    spec);
      return NULL;
    }
    if (n == LATENS_GP_MAX_TERMS) {
      latens_errorf(__FILE__, __LINE__, LATENS_EDOM,
                    "latens_gp_kernel_parse: more than %d terms in '%.60s'", LATENS_GP_MAX_TERMS,
                    spec);
      return NULL;
    }
    memcpy(name, p, len);
    name[len] = 0;
    latens_gp_kind kind;
    if (latens_gp_kind_from_name(name, &kind) != LATENS_OK) return NULL;
    terms[n].kind = kind;
    terms[n].variance = 1;
    terms[n].lengthscale = 1;
    terms[n].frequency = gp_is_hida(kind) ? 1 : 0;
    n++;
    if (!e) break;
    p = e + 1;
  }
  return latens_gp_kernel_alloc(terms, n);
}

latens_gp_kernel *latens_gp_kernel_clone(const latens_gp_kernel *k) {
  if (!k) LATENS_ERROR_NULL("latens_gp_kernel_clone: k is NULL", LATENS_EINVAL);
  latens_gp_kernel *c = malloc(sizeof *c);
  if (!c) LATENS_ERROR_NULL("latens_gp_kernel_clone: out of memory", LATENS_ENOMEM);
  *c = *k;
  return c;
}

void latens_gp_kernel_free(latens_gp_kernel *k) { free(k); }

size_t latens_gp_kernel_nterms(const latens_gp_kernel *k) { return k ? k->nterms : 0; }
size_t latens_gp_kernel_dim(const latens_gp_kernel *k) { return k ? k->dim : 0; }
size_t latens_gp_kernel_nparams(const latens_gp_kernel *k) { return k ? k->nparams : 0; }
size_t latens_gp_kernel_term_offset(const latens_gp_kernel *k, size_t i) {
  return (k && i < k->nterms) ? k->off[i] : 0;
}

int latens_gp_kernel_get_term(const latens_gp_kernel *k, size_t i, latens_gp_term *term) {
  if (!k || !term) LATENS_ERROR("latens_gp_kernel_get_term: NULL argument", LATENS_EINVAL);
  if (i >= k->nterms)
    LATENS_ERRORF(LATENS_EDOM, "latens_gp_kernel_get_term: term %zu of %zu", i, k->nterms);
  *term = k->term[i];
  return LATENS_OK;
}

const char *latens_gp_kernel_param_name(const latens_gp_kernel *k, size_t i) {
  if (!k || i >= k->nparams) return NULL;
  return k->names[i];
}

int latens_gp_kernel_param_index(const latens_gp_kernel *k, const char *name, size_t *index) {
  if (!k || !name || !index)
    LATENS_ERROR("latens_gp_kernel_param_index: NULL argument", LATENS_EINVAL);
  for (size_t i = 0; i < k->nparams; i++)
    if (strcmp(k->names[i], name) == 0) {
      *index = i;
      return LATENS_OK;
    }
  LATENS_ERRORF(LATENS_EDOM, "latens_gp_kernel_param_index: this kernel has no parameter '%.40s'",
                name);
}

void gp_param_role(const latens_gp_kernel *k, size_t param, size_t *term, int *role) {
  size_t i = k->nterms - 1;
  while (i > 0 && k->pfirst[i] > param) i--;
  *term = i;
  *role = (int)(param - k->pfirst[i]);
}

int latens_gp_kernel_get_params(const latens_gp_kernel *k, double *theta) {
  if (!k || !theta) LATENS_ERROR("latens_gp_kernel_get_params: NULL argument", LATENS_EINVAL);
  for (size_t i = 0; i < k->nterms; i++) {
    double *th = theta + k->pfirst[i];
    th[0] = k->term[i].variance;
    th[1] = k->term[i].lengthscale;
    if (gp_is_hida(k->term[i].kind)) th[2] = k->term[i].frequency;
  }
  return LATENS_OK;
}

int latens_gp_kernel_set_params(latens_gp_kernel *k, const double *theta) {
  if (!k || !theta) LATENS_ERROR("latens_gp_kernel_set_params: NULL argument", LATENS_EINVAL);
  latens_gp_term t[LATENS_GP_MAX_TERMS];
  for (size_t i = 0; i < k->nterms; i++) {
    const double *th = theta + k->pfirst[i];
    t[i] = k->term[i];
    t[i].variance = th[0];
    t[i].lengthscale = th[1];
    if (gp_is_hida(t[i].kind)) t[i].frequency = th[2];
    int s = check_term(&t[i], i);
    if (s != LATENS_OK) return s;
  }
  memcpy(k->term, t, k->nterms * sizeof *t);
  return LATENS_OK;
}

/* ---------------------------------------------------------------- k(τ) and S(w) */

/* m_p(d) / e^{-x}, x = √(2p+1) d/ℓ: the polynomial factor. */
static double matern_poly(int p, double x) {
  switch (p) {
  case 0: return 1.0;
  case 1: return 1.0 + x;
  case 2: return 1.0 + x + x * x / 3.0;
  default: return 1.0 + x + 0.4 * x * x + x * x * x / 15.0;
  }
}

int latens_gp_kernel_eval(const latens_gp_kernel *k, double tau, double *value) {
  if (!k || !value) LATENS_ERROR("latens_gp_kernel_eval: NULL argument", LATENS_EINVAL);
  if (!isfinite(tau)) {
    *value = NAN;
    LATENS_ERRORF(LATENS_ENOTFINITE, "latens_gp_kernel_eval: tau = %g is not finite", tau);
  }
  double d = fabs(tau), s = 0;
  for (size_t i = 0; i < k->nterms; i++) {
    const latens_gp_term *t = &k->term[i];
    double x = gp_lambda(t) * d;
    double v = x > GP_Z_ZERO ? 0.0 : t->variance * matern_poly(gp_order(t->kind), x) * exp(-x);
    if (gp_is_hida(t->kind)) v *= cos(t->frequency * tau);
    s += v;
  }
  *value = s;
  return LATENS_OK;
}

/* Γ(k+½)Γ(p+½−k)/(Γ(½)Γ(p+½)): the scaled spectral moments c_k, tabulated (the filter
 * needs them at every step; tgamma there cost microseconds per point). */
static double moment_c(int p, int kk) {
  static const double c[4][4] = {
      {1, 0, 0, 0}, {1, 1, 0, 0}, {1, 1.0 / 3, 1, 0}, {1, 1.0 / 5, 1.0 / 5, 1}};
  return c[p][kk];
}

/* Matérn S(w) = σ² 2π λ^{2p+1} / (B(½, p+½) (λ² + w²)^{p+1}), computed in a scaled form
 * ((λ² + w²)/λ² = 1 + (w/λ)²) so that large and small λ neither overflow nor underflow. */
static double matern_sd(int p, double var, double lam, double w) {
  double beta = tgamma(0.5) * tgamma(p + 0.5) / tgamma(p + 1.0);
  double r = w / lam;
  return var * 2.0 * M_PI / (beta * lam) * pow(1.0 + r * r, -(p + 1.0));
}

int latens_gp_kernel_spectral_density(const latens_gp_kernel *k, double w, double *S) {
  if (!k || !S) LATENS_ERROR("latens_gp_kernel_spectral_density: NULL argument", LATENS_EINVAL);
  if (!isfinite(w)) {
    *S = NAN;
    LATENS_ERRORF(LATENS_ENOTFINITE, "latens_gp_kernel_spectral_density: w = %g is not finite",
                  w);
  }
  double s = 0;
  for (size_t i = 0; i < k->nterms; i++) {
    const latens_gp_term *t = &k->term[i];
    int p = gp_order(t->kind);
    double lam = gp_lambda(t);
    if (gp_is_hida(t->kind))
      s += 0.5 * (matern_sd(p, t->variance, lam, w - t->frequency) +
                  matern_sd(p, t->variance, lam, w + t->frequency));
    else
      s += matern_sd(p, t->variance, lam, w);
  }
  *S = s;
  return LATENS_OK;
}

/* ---------------------------------------------------------------- state-space blocks */

/* P̃ ((p+1) x (p+1), column-major, ld p+1). */
static void matern_ptilde(int p, double *P) {
  int n = p + 1;
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++) {
      if ((i + j) & 1) {
        P[i + j * n] = 0;
        continue;
      }
      double c = moment_c(p, (i + j) / 2);
      P[i + j * n] = (((i - j) / 2) & 1) ? -c : c;
    }
}

/* N^k (k = 0..p, column-major, padded to 4 x 4 storage of ld p+1) for N = M + I, exact
 * integers; N^{p+1} = 0.  Tabulated because the filter needs them at every step. */
static const double NPOW[4][4][16] = {
    {{1}, {0}, {0}, {0}},
    {{1, 0, 0, 1}, {1, -1, 1, -1}, {0}, {0}},
    {{1, 0, 0, 0, 1, 0, 0, 0, 1}, {1, 0, -1, 1, 1, -3, 0, 1, -2}, {1, -1, 1, 2, -2, 2, 1, -1, 1},
     {0}},
    {{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1},
     {1, 0, 0, -1, 1, 1, 0, -4, 0, 1, 1, -6, 0, 0, 1, -3},
     {1, 0, -1, 2, 2, 1, -4, 7, 1, 2, -5, 8, 0, 1, -2, 3},
     {1, -1, 1, -1, 3, -3, 3, -3, 3, -3, 3, -3, 1, -1, 1, -1}}};

/* A_m(z) = e^{−z} Σ N^k z^k/k! and, when dAz != NULL, dA_m/dz = M A_m = (N − I) A_m. */
static void matern_A(int p, double z, double *A, double *dAz) {
  int n = p + 1, nn = n * n;
  if (z > GP_Z_ZERO) {
    memset(A, 0, sizeof(double) * (size_t)nn);
    if (dAz) memset(dAz, 0, sizeof(double) * (size_t)nn);
    return;
  }
  double coef = exp(-z);
  for (int i = 0; i < nn; i++) A[i] = coef * NPOW[p][0][i];
  for (int k = 1; k <= p; k++) {
    coef *= z / k;
    for (int i = 0; i < nn; i++) A[i] += coef * NPOW[p][k][i];
  }
  if (dAz) {
    const double *N = NPOW[p][1];
    for (int j = 0; j < n; j++)
      for (int i = 0; i < n; i++) {
        double s = -A[i + j * n];
        for (int l = 0; l < n; l++) s += N[i + l * n] * A[l + j * n];
        dAz[i + j * n] = s;
      }
  }
}

/* Write the Matérn block X (n x n) into the kernel-sized matrix D (ld ld) at offset off,
 * expanded by R (2 x 2, column-major) when hida: D[2i+a, 2k+b] = X[i,k] R[a,b]. */
static void put_block(const double *X, int n, int hida, const double R[4], double *D, size_t ld,
                      size_t off) {
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++) {
      double x = X[i + j * n];
      if (!hida) {
        D[off + (size_t)i + (off + (size_t)j) * ld] = x;
        continue;
      }
      for (int b = 0; b < 2; b++)
        for (int a = 0; a < 2; a++)
          D[off + 2 * (size_t)i + a + (off + 2 * (size_t)j + b) * ld] = x * R[a + 2 * b];
    }
}

static const double R_ident[4] = {1, 0, 0, 1};

void gp_fill_pinf(const latens_gp_kernel *k, double *P) {
  size_t d = k->dim;
  memset(P, 0, sizeof(double) * d * d);
  for (size_t i = 0; i < k->nterms; i++) {
    const latens_gp_term *t = &k->term[i];
    int p = gp_order(t->kind), n = p + 1;
    double X[16];
    matern_ptilde(p, X);
    for (int q = 0; q < n * n; q++) X[q] *= t->variance;
    put_block(X, n, gp_is_hida(t->kind), R_ident, P, d, k->off[i]);
  }
}

/* Q_m = σ²(P̃ − A P̃ Aᵀ) for one Matérn block. */
static void matern_Q(int p, double var, const double *A, const double *dA, double *Q) {
  int n = p + 1;
  double P[16], AP[16], dAP[16];
  matern_ptilde(p, P);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      double s = 0, ds = 0;
      for (int l = 0; l < n; l++) {
        s += A[i + l * n] * P[l + j * n];
        if (dA) ds += dA[i + l * n] * P[l + j * n];
      }
      AP[i + j * n] = s;
      dAP[i + j * n] = ds;
    }
  for (int j = 0; j < n; j++)
    for (int i = 0; i <= j; i++) {
      double s = 0;
      for (int l = 0; l < n; l++) {
        if (dA)
          s -= dAP[i + l * n] * A[j + l * n] + AP[i + l * n] * dA[j + l * n];
        else
          s += AP[i + l * n] * A[j + l * n];
      }
      double q = dA ? var * s : var * (P[i + j * n] - s);
      Q[i + j * n] = q;
      Q[j + i * n] = q;
    }
}

void gp_fill_transition(const latens_gp_kernel *k, double dt, double *A, double *Q) {
  size_t d = k->dim;
  memset(A, 0, sizeof(double) * d * d);
  if (Q) memset(Q, 0, sizeof(double) * d * d);
  for (size_t i = 0; i < k->nterms; i++) {
    const latens_gp_term *t = &k->term[i];
    int p = gp_order(t->kind), n = p + 1, h = gp_is_hida(t->kind);
    double Am[16], Qm[16], R[4] = {1, 0, 0, 1};
    matern_A(p, gp_lambda(t) * dt, Am, NULL);
    if (h) {
      double c = cos(t->frequency * dt), s = sin(t->frequency * dt);
      R[0] = c, R[1] = s, R[2] = -s, R[3] = c;
    }
    put_block(Am, n, h, R, A, d, k->off[i]);
    if (Q) {
      matern_Q(p, t->variance, Am, NULL, Qm);
      put_block(Qm, n, h, R_ident, Q, d, k->off[i]);
    }
  }
}

void gp_fill_pinf_deriv(const latens_gp_kernel *k, size_t param, double *dP) {
  size_t d = k->dim, ti;
  int role;
  memset(dP, 0, sizeof(double) * d * d);
  gp_param_role(k, param, &ti, &role);
  if (role != 0) return;
  const latens_gp_term *t = &k->term[ti];
  int p = gp_order(t->kind);
  double X[16];
  matern_ptilde(p, X);
  put_block(X, p + 1, gp_is_hida(t->kind), R_ident, dP, d, k->off[ti]);
}

void gp_fill_transition_deriv(const latens_gp_kernel *k, double dt, size_t param, double *dA,
                              double *dQ) {
  size_t d = k->dim, ti;
  int role;
  if (dA) memset(dA, 0, sizeof(double) * d * d);
  if (dQ) memset(dQ, 0, sizeof(double) * d * d);
  gp_param_role(k, param, &ti, &role);
  const latens_gp_term *t = &k->term[ti];
  int p = gp_order(t->kind), n = p + 1, h = gp_is_hida(t->kind);
  double lam = gp_lambda(t), z = lam * dt;
  double Am[16], dAm[16], X[16];
  double c = cos(t->frequency * dt), s = sin(t->frequency * dt);
  double R[4] = {c, s, -s, c};
  if (!h) R[0] = 1, R[1] = 0, R[2] = 0, R[3] = 1;
  matern_A(p, z, Am, dAm);
  if (role == 0) { /* variance: only Q, linearly */
    if (dQ) {
      matern_Q(p, 1.0, Am, NULL, X);
      put_block(X, n, h, R_ident, dQ, d, k->off[ti]);
    }
  } else if (role == 1) { /* lengthscale: dz/dℓ = −z/ℓ */
    double f = -z / t->lengthscale;
    for (int q = 0; q < n * n; q++) dAm[q] *= f;
    if (dA) put_block(dAm, n, h, R, dA, d, k->off[ti]);
    if (dQ) {
      matern_Q(p, t->variance, Am, dAm, X);
      put_block(X, n, h, R_ident, dQ, d, k->off[ti]);
    }
  } else { /* frequency: dR/dω = Δ [[−s, −c], [c, −s]]; Q does not depend on ω */
    double dR[4] = {-s * dt, c * dt, -c * dt, -s * dt};
    if (dA) put_block(Am, n, 1, dR, dA, d, k->off[ti]);
  }
}

/* ---------------------------------------------------------------- public accessors */

static int check_square(const char *fn, const char *name, const latens_mat *M, size_t d) {
  return latens_check_mat(fn, name, M, d, d);
}

/* Copy a dense d x d (ld d) matrix into a latens_mat. */
static void put_mat(const double *X, size_t d, latens_mat *M) {
  for (size_t j = 0; j < d; j++)
    for (size_t i = 0; i < d; i++) LATENS_MAT(M, i, j) = X[i + j * d];
}

int latens_gp_kernel_H(const latens_gp_kernel *k, latens_vec *H) {
  if (!k) LATENS_ERROR("latens_gp_kernel_H: k is NULL", LATENS_EINVAL);
  int s = latens_check_vec("latens_gp_kernel_H", "H", H, k->dim);
  if (s) return s;
  for (size_t i = 0; i < k->dim; i++) LATENS_VEC(H, i) = 0;
  for (size_t i = 0; i < k->nterms; i++) LATENS_VEC(H, k->off[i]) = 1;
  return LATENS_OK;
}

int latens_gp_kernel_pinf(const latens_gp_kernel *k, latens_mat *Pinf) {
  if (!k) LATENS_ERROR("latens_gp_kernel_pinf: k is NULL", LATENS_EINVAL);
  int s = check_square("latens_gp_kernel_pinf", "Pinf", Pinf, k->dim);
  if (s) return s;
  double X[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM];
  gp_fill_pinf(k, X);
  put_mat(X, k->dim, Pinf);
  return LATENS_OK;
}

static int check_dt(const char *fn, double dt) {
  if (!isfinite(dt)) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: dt = %g is not finite", fn, dt);
  if (dt < 0) LATENS_ERRORF(LATENS_EDOM, "%s: dt = %g is negative", fn, dt);
  return LATENS_OK;
}

int latens_gp_kernel_transition(const latens_gp_kernel *k, double dt, latens_mat *A,
                                latens_mat *Q) {
  static const char fn[] = "latens_gp_kernel_transition";
  if (!k) LATENS_ERROR("latens_gp_kernel_transition: k is NULL", LATENS_EINVAL);
  int s = check_dt(fn, dt);
  if (!s) s = check_square(fn, "A", A, k->dim);
  if (!s && Q) s = check_square(fn, "Q", Q, k->dim);
  if (s) return s;
  double X[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM], Y[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM];
  gp_fill_transition(k, dt, X, Q ? Y : NULL);
  put_mat(X, k->dim, A);
  if (Q) put_mat(Y, k->dim, Q);
  return LATENS_OK;
}

int latens_gp_kernel_pinf_deriv(const latens_gp_kernel *k, size_t param, latens_mat *dPinf) {
  static const char fn[] = "latens_gp_kernel_pinf_deriv";
  if (!k) LATENS_ERROR("latens_gp_kernel_pinf_deriv: k is NULL", LATENS_EINVAL);
  if (param >= k->nparams)
    LATENS_ERRORF(LATENS_EDOM, "%s: parameter %zu of %zu", fn, param, k->nparams);
  int s = check_square(fn, "dPinf", dPinf, k->dim);
  if (s) return s;
  double X[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM];
  gp_fill_pinf_deriv(k, param, X);
  put_mat(X, k->dim, dPinf);
  return LATENS_OK;
}

int latens_gp_kernel_transition_deriv(const latens_gp_kernel *k, double dt, size_t param,
                                      latens_mat *dA, latens_mat *dQ) {
  static const char fn[] = "latens_gp_kernel_transition_deriv";
  if (!k) LATENS_ERROR("latens_gp_kernel_transition_deriv: k is NULL", LATENS_EINVAL);
  if (param >= k->nparams)
    LATENS_ERRORF(LATENS_EDOM, "%s: parameter %zu of %zu", fn, param, k->nparams);
  int s = check_dt(fn, dt);
  if (!s && dA) s = check_square(fn, "dA", dA, k->dim);
  if (!s && dQ) s = check_square(fn, "dQ", dQ, k->dim);
  if (s) return s;
  double X[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM], Y[LATENS_GP_MAX_DIM * LATENS_GP_MAX_DIM];
  gp_fill_transition_deriv(k, dt, param, dA ? X : NULL, dQ ? Y : NULL);
  if (dA) put_mat(X, k->dim, dA);
  if (dQ) put_mat(Y, k->dim, dQ);
  return LATENS_OK;
}
