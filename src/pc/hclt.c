/* pc/hclt.c: mixtures of hidden Chow-Liu trees: allocation, evaluation, expected counts and
 * the M-step.  The passes themselves are in hclt_kernels.c; EM and structures in hclt_em.c. */
#include "learn_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Rows per chunk: the workspace holds M n rows K doubles twice; about 32 MiB of it keeps the
 * memory linear in batch x width whatever the data size, and chunks of >= 64 rows keep the
 * GEMMs efficient. */
static size_t chunk_rows(const latens_pc_hclt *h, size_t N) {
  size_t per = 2 * h->M * h->n * h->K * sizeof(double), rows = ((size_t)32 << 20) / per;
  if (rows < 64) rows = 64;
  if (rows > 2048) rows = 2048;
  return rows < N ? rows : N;
}

static int fill_order(latens_pc_hclt *h, size_t m) {
  const size_t n = h->n;
  const long *par = h->parent + m * n;
  size_t *ord = h->order + m * n, head = 0, tail = 0, roots = 0;
  for (size_t j = 0; j < n; j++) {
    if (par[j] < 0) ord[tail++] = j, roots++;
    else if ((size_t)par[j] >= n || (size_t)par[j] == j)
      LATENS_ERRORF(LATENS_EDOM, "latens_pc_hclt_alloc: component %zu: parent[%zu] = %ld is not "
                    "a node of 0..%zu", m, j, par[j], n - 1);
  }
  if (roots != 1)
    LATENS_ERRORF(LATENS_EDOM, "latens_pc_hclt_alloc: component %zu has %zu roots, need one tree",
                  m, roots);
  while (head < tail) {
    size_t u = ord[head++];
    for (size_t j = 0; j < n; j++)
      if (par[j] == (long)u) ord[tail++] = j;
  }
  if (tail != n)
    LATENS_ERRORF(LATENS_EDOM, "latens_pc_hclt_alloc: component %zu: parent array has a cycle "
                  "(%zu of %zu nodes reachable from the root)", m, tail, n);
  return LATENS_OK;
}

latens_pc_hclt *latens_pc_hclt_alloc(size_t n, size_t K, size_t M, const long *parent) {
  if (n == 0 || K < 2 || M == 0)
    LATENS_ERROR_NULL("latens_pc_hclt_alloc: need n >= 1, K >= 2, M >= 1", LATENS_EINVAL);
  size_t nodes = latens_mul_size(n, M), kk = latens_mul_size(K, K), tr = latens_mul_size(nodes, kk);
  if (!nodes || !kk || !tr || tr > ((size_t)1 << 40)) {
    latens_errorf(__FILE__, __LINE__, LATENS_ENOMEM, "latens_pc_hclt_alloc: n = %zu, K = %zu, "
                  "M = %zu is too large", n, K, M);
    return NULL;
  }
  latens_pc_hclt *h = calloc(1, sizeof *h);
  if (!h) LATENS_ERROR_NULL("latens_pc_hclt_alloc: no memory", LATENS_ENOMEM);
  h->n = n, h->K = K, h->M = M;
  h->parent = malloc(nodes * sizeof *h->parent);
  h->order = malloc(nodes * sizeof *h->order);
  h->mix = malloc(M * sizeof *h->mix);
  h->root = malloc(M * K * sizeof *h->root);
  h->trans = calloc(tr, sizeof *h->trans);
  h->leaf = malloc(nodes * K * sizeof *h->leaf);
  if (!h->parent || !h->order || !h->mix || !h->root || !h->trans || !h->leaf) {
    latens_pc_hclt_free(h);
    LATENS_ERROR_NULL("latens_pc_hclt_alloc: no memory for the tables", LATENS_ENOMEM);
  }
  for (size_t m = 0; m < M; m++) {
    for (size_t j = 0; j < n; j++) h->parent[m * n + j] = parent ? parent[m * n + j] : (long)j - 1;
    if (fill_order(h, m)) {
      latens_pc_hclt_free(h);
      return NULL;
    }
    h->mix[m] = 1.0 / (double)M;
    for (size_t k = 0; k < K; k++) h->root[m * K + k] = 1.0 / (double)K;
    for (size_t j = 0; j < n; j++) {
      for (size_t k = 0; k < K; k++) h->leaf[(m * n + j) * K + k] = 0.5;
      if (h->parent[m * n + j] >= 0)
        for (size_t q = 0; q < kk; q++) h->trans[(m * n + j) * kk + q] = 1.0 / (double)K;
    }
  }
  return h;
}

void latens_pc_hclt_free(latens_pc_hclt *h) {
  if (!h) return;
  free(h->parent), free(h->order), free(h->mix), free(h->root), free(h->trans), free(h->leaf);
  free(h->ncat), free(h->catoff), free(h->cat);
  free(h);
}

latens_pc_hclt *latens_pc_hclt_alloc_cat(size_t n, const size_t *ncat, size_t K, size_t M,
                                         const long *parent) {
  static const char fn[] = "latens_pc_hclt_alloc_cat";
  int binary = 1;
  for (size_t j = 0; ncat && j < n; j++) {
    if (ncat[j] < 2 || ncat[j] > ((size_t)1 << 24)) {
      latens_errorf(__FILE__, __LINE__, LATENS_EDOM, "%s: ncat[%zu] = %zu, need 2..2^24", fn, j,
                    ncat[j]);
      return NULL;
    }
    binary &= ncat[j] == 2;
  }
  latens_pc_hclt *h = latens_pc_hclt_alloc(n, K, M, parent);
  if (!h || binary) return h;
  h->ncat = malloc(n * sizeof *h->ncat);
  h->catoff = malloc((n + 1) * sizeof *h->catoff);
  if (h->ncat && h->catoff) {
    h->catoff[0] = 0;
    for (size_t j = 0; j < n; j++) h->ncat[j] = ncat[j], h->catoff[j + 1] = h->catoff[j] + ncat[j];
    size_t len = latens_mul_size(latens_mul_size(M, h->catoff[n]), K);
    h->cat = len && len < ((size_t)1 << 40) ? malloc(len * sizeof *h->cat) : NULL;
  }
  if (!h->cat) {
    latens_pc_hclt_free(h);
    LATENS_ERROR_NULL("latens_pc_hclt_alloc_cat: no memory for the leaf tables", LATENS_ENOMEM);
  }
  for (size_t m = 0; m < M; m++)
    for (size_t j = 0; j < n; j++)
      for (size_t q = 0; q < K * ncat[j]; q++)
        h->cat[(m * h->catoff[n] + h->catoff[j]) * K + q] = 1.0 / (double)ncat[j];
  return h;
}

/* Non-finite tables: the passes would turn them into NaN likelihoods with a success status.
 * One latens_all_finite sweep per table (O(parameters), against O(rows x parameters) for a
 * pass) keeps the common case cheap; only a failing table is searched for its first entry. */
static int table_finite(const char *fn, const char *what, const double *t, size_t len,
                        size_t per) {
  if (!len || latens_all_finite(t, len)) return LATENS_OK;
  size_t q = 0;
  while (q < len && isfinite(t[q])) q++;
  LATENS_ERRORF(LATENS_ENOTFINITE, "%s: %s[%zu] = %g is not finite (block %zu, entry %zu)", fn,
                what, q, t[q], q / per, q % per);
}

int latens_pc_hclt_check_finite(const char *fn, const latens_pc_hclt *h) {
  const size_t M = h->M, n = h->n, K = h->K;
  int st = table_finite(fn, "mix", h->mix, M, M);
  if (!st) st = table_finite(fn, "root", h->root, M * K, K);
  if (!st) st = table_finite(fn, "trans", h->trans, M * n * K * K, K * K);
  if (!st && !h->ncat) st = table_finite(fn, "leaf", h->leaf, M * n * K, K);
  if (!st && h->ncat) st = table_finite(fn, "cat", h->cat, M * h->catoff[n] * K, K);
  return st;
}

static int counts_finite(const char *fn, const latens_pc_hclt_counts *c) {
  const size_t M = c->M, nodes = M * c->n, K = c->K;
  int st = table_finite(fn, "counts mix", c->mix, M, M);
  if (!st) st = table_finite(fn, "counts root", c->root, M * K, K);
  if (!st) st = table_finite(fn, "counts trans", c->trans, nodes * K * K, K * K);
  if (!st) st = table_finite(fn, "counts leaf1", c->leaf1, nodes * K, K);
  if (!st) st = table_finite(fn, "counts leafn", c->leafn, nodes * K, K);
  if (!st && c->cat) st = table_finite(fn, "counts cat", c->cat, c->ncatlen, K);
  return st;
}

size_t latens_pc_hclt_nparams(const latens_pc_hclt *h) {
  if (!h) return 0;
  size_t n = h->n, K = h->K, leaves = h->ncat ? K * (h->catoff[n] - n) : n * K;
  return h->M - 1 + h->M * ((K - 1) + (n - 1) * K * (K - 1) + (h->fixed_leaves ? 0 : leaves));
}

static void perturb_row(double *p, size_t len, size_t stride, double a, latens_rng *rng) {
  double s = 0.0;
  for (size_t k = 0; k < len; k++) s += (p[k * stride] = 1.0 + a * (2.0 * latens_rng_uniform(rng) - 1.0));
  for (size_t k = 0; k < len; k++) p[k * stride] /= s;
}

int latens_pc_hclt_randomize(latens_pc_hclt *h, double perturb, latens_rng *rng) {
  if (!h || !rng) LATENS_ERROR("latens_pc_hclt_randomize: NULL argument", LATENS_EINVAL);
  if (!(perturb >= 0.0 && perturb < 1.0))
    LATENS_ERRORF(LATENS_EDOM, "latens_pc_hclt_randomize: perturb = %g not in [0, 1)", perturb);
  const size_t n = h->n, K = h->K;
  perturb_row(h->mix, h->M, 1, perturb, rng);
  for (size_t m = 0; m < h->M; m++) {
    perturb_row(h->root + m * K, K, 1, perturb, rng);
    for (size_t j = 0; j < n; j++) {
      if (h->parent[m * n + j] >= 0)
        for (size_t i = 0; i < K; i++) perturb_row(h->trans + (m * n + j) * K * K + i, K, K, perturb, rng);
      if (h->ncat && !h->fixed_leaves)
        for (size_t k = 0; k < K; k++)
          perturb_row(h->cat + (m * h->catoff[n] + h->catoff[j]) * K + k * h->ncat[j],
                      h->ncat[j], 1, perturb, rng);
      else if (!h->fixed_leaves)
        for (size_t k = 0; k < K; k++)
          h->leaf[(m * n + j) * K + k] = 0.5 + 0.5 * perturb * (2.0 * latens_rng_uniform(rng) - 1.0);
    }
  }
  return LATENS_OK;
}

/* Threading: the rows are cut into fixed chunks (chunk_rows depends on the model and N only),
 * each chunk is one thread's work with its own workspace, and the expected counts of the
 * chunks are added to the caller's in chunk order, so results do not depend on the number of
 * threads.  The GEMMs inside call the BLAS from the OpenMP threads, so one level of
 * parallelism is picked per call: chunks in parallel only when OpenBLAS's own pool has one
 * thread (OPENBLAS_NUM_THREADS=1; Debian's pthread build ignores OpenMP's setting),
 * otherwise one chunk at a time with the BLAS's threads inside the GEMMs. */
static int blas_threads(void) {
  /* read, never set: the pool is the process's, not this call's */
  int (*get)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
  return get ? get() : 1;
}

typedef struct {
  size_t rows, nch;
  int nt;
  latens_pc_hclt_ws **ws;
} chunking;

static int thread_id(void) {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

static void chunking_free(chunking *ck) {
  for (int t = 0; ck->ws && t < ck->nt; t++) latens_pc_hclt_ws_free(ck->ws[t]);
  free(ck->ws);
}

static int chunking_init(chunking *ck, const latens_pc_hclt *h, size_t N, double beta) {
  ck->rows = chunk_rows(h, N);
  ck->nch = (N + ck->rows - 1) / ck->rows;
  /* Threads only pay for themselves past ~1 ms of work per pass (about 2^22 multiply-adds);
   * below that a parallel region's start and barrier, on a loaded machine, cost more. */
  double work = (double)N * (double)(h->M * h->n) * (double)(h->K * h->K + 8);
  int mt = work < 4194304.0 || blas_threads() > 1 ? 1 : latens_max_threads();
  ck->nt = (size_t)mt < ck->nch ? mt : (int)ck->nch;
  if (ck->nt < 1) ck->nt = 1;
  ck->ws = calloc((size_t)ck->nt, sizeof *ck->ws);
  if (!ck->ws) LATENS_ERROR("latens_pc_hclt: no memory for workspaces", LATENS_ENOMEM);
  for (int t = 0; t < ck->nt; t++)
    if (!(ck->ws[t] = latens_pc_hclt_ws_alloc(h, ck->rows))) {
      chunking_free(ck);
      return LATENS_ENOMEM;
    } else if (beta != 1.0) {
      latens_pc_hclt_ws_leaves(ck->ws[t], h, beta);
    }
  return LATENS_OK;
}

int latens_pc_hclt_loglik(const latens_pc_hclt *h, const latens_mat *X, double *ll) {
  static const char fn[] = "latens_pc_hclt_loglik";
  if (!h || !ll) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  int st = latens_pc_hclt_check_data(fn, "X", X, h);
  if (!st) st = latens_pc_hclt_check_finite(fn, h);
  if (st) return st;
  const size_t N = X->nrow;
  if (N == 0) return LATENS_OK;
  chunking ck;
  if ((st = chunking_init(&ck, h, N, 1.0))) return st;
#pragma omp parallel for num_threads(ck.nt) schedule(static, 1) if (ck.nt > 1)
  for (size_t q = 0; q < ck.nch; q++) {
    size_t r0 = q * ck.rows, nb = N - r0 < ck.rows ? N - r0 : ck.rows;
    latens_pc_hclt_up(h, X, r0, nb, ck.ws[thread_id()], ll + r0);
  }
  chunking_free(&ck);
  return LATENS_OK;
}

int latens_pc_hclt_mean_loglik(const latens_pc_hclt *h, const latens_mat *X, double *mean) {
  if (!h || !X || !mean) LATENS_ERROR("latens_pc_hclt_mean_loglik: NULL argument", LATENS_EINVAL);
  if (X->nrow == 0) LATENS_ERROR("latens_pc_hclt_mean_loglik: X has no rows", LATENS_EINVAL);
  double *ll = malloc(X->nrow * sizeof *ll);
  if (!ll) LATENS_ERROR("latens_pc_hclt_mean_loglik: no memory", LATENS_ENOMEM);
  int st = latens_pc_hclt_loglik(h, X, ll);
  if (!st) {
    double s = 0.0;
    for (size_t i = 0; i < X->nrow; i++) s += ll[i];
    *mean = s / (double)X->nrow;
  }
  free(ll);
  return st;
}

latens_pc_hclt_counts *latens_pc_hclt_counts_alloc(const latens_pc_hclt *h) {
  if (!h) LATENS_ERROR_NULL("latens_pc_hclt_counts_alloc: NULL model", LATENS_EINVAL);
  latens_pc_hclt_counts *c = calloc(1, sizeof *c);
  if (!c) LATENS_ERROR_NULL("latens_pc_hclt_counts_alloc: no memory", LATENS_ENOMEM);
  size_t nodes = h->M * h->n, K = h->K;
  c->n = h->n, c->K = K, c->M = h->M;
  c->mix = calloc(h->M, sizeof(double));
  c->root = calloc(h->M * K, sizeof(double));
  c->trans = calloc(nodes * K * K, sizeof(double));
  c->leaf1 = calloc(nodes * K, sizeof(double));
  c->leafn = calloc(nodes * K, sizeof(double));
  c->ncatlen = h->ncat ? h->M * h->catoff[h->n] * K : 0;
  c->cat = h->ncat ? calloc(c->ncatlen, sizeof(double)) : NULL;
  if (!c->mix || !c->root || !c->trans || !c->leaf1 || !c->leafn || (h->ncat && !c->cat)) {
    latens_pc_hclt_counts_free(c);
    LATENS_ERROR_NULL("latens_pc_hclt_counts_alloc: no memory", LATENS_ENOMEM);
  }
  return c;
}

void latens_pc_hclt_counts_free(latens_pc_hclt_counts *c) {
  if (!c) return;
  free(c->mix), free(c->root), free(c->trans), free(c->leaf1), free(c->leafn), free(c->cat);
  free(c);
}

void latens_pc_hclt_counts_zero(latens_pc_hclt_counts *c) {
  if (!c) return;
  size_t nodes = c->M * c->n, K = c->K;
  memset(c->mix, 0, c->M * sizeof(double));
  memset(c->root, 0, c->M * K * sizeof(double));
  memset(c->trans, 0, nodes * K * K * sizeof(double));
  memset(c->leaf1, 0, nodes * K * sizeof(double));
  memset(c->leafn, 0, nodes * K * sizeof(double));
  if (c->cat) memset(c->cat, 0, c->ncatlen * sizeof(double));
  c->loglik = 0.0;
}

/* c += d, in a fixed order of entries. */
static void counts_add(latens_pc_hclt_counts *c, const latens_pc_hclt_counts *d) {
  size_t nodes = c->M * c->n, K = c->K;
  for (size_t q = 0; q < c->M; q++) c->mix[q] += d->mix[q];
  for (size_t q = 0; q < c->M * K; q++) c->root[q] += d->root[q];
  for (size_t q = 0; q < nodes * K * K; q++) c->trans[q] += d->trans[q];
  for (size_t q = 0; q < nodes * K; q++) c->leaf1[q] += d->leaf1[q], c->leafn[q] += d->leafn[q];
  for (size_t q = 0; q < c->ncatlen; q++) c->cat[q] += d->cat[q];
  c->loglik += d->loglik;
}

static int accumulate_chunks(const latens_pc_hclt *h, const latens_mat *X, size_t r0, size_t r1,
                             double beta, latens_pc_hclt_counts *c) {
  chunking ck;
  int st = chunking_init(&ck, h, r1 - r0, beta);
  if (st) return st;
  /* One chunk (a mini-batch) adds straight into c: the same sums as through a zeroed copy
   * when c starts at zero, and no K^2 n copy per batch. */
  const int direct = ck.nch == 1;
  latens_pc_hclt_counts **cc = calloc((size_t)ck.nt, sizeof *cc);
  double *ll = malloc((size_t)ck.nt * ck.rows * sizeof *ll);
  for (int t = 0; cc && ll && t < ck.nt; t++)
    if (!(cc[t] = direct ? c : latens_pc_hclt_counts_alloc(h))) break;
  st = cc && ll && cc[ck.nt - 1] ? LATENS_OK : LATENS_ENOMEM;
  if (st) latens_error("latens_pc_hclt_accumulate: no memory", __FILE__, __LINE__, st);
  else {
#pragma omp parallel for ordered num_threads(ck.nt) schedule(static, 1) if (ck.nt > 1)
    for (size_t q = 0; q < ck.nch; q++) {
      int t = thread_id();
      size_t a = r0 + q * ck.rows, nb = r1 - a < ck.rows ? r1 - a : ck.rows;
      if (!direct) latens_pc_hclt_counts_zero(cc[t]);
      latens_pc_hclt_up(h, X, a, nb, ck.ws[t], ll + (size_t)t * ck.rows);
      latens_pc_hclt_down(h, X, a, nb, ck.ws[t], ll + (size_t)t * ck.rows, cc[t]);
#pragma omp ordered
      if (!direct) counts_add(c, cc[t]);
    }
  }
  for (int t = 0; cc && !direct && t < ck.nt; t++) latens_pc_hclt_counts_free(cc[t]);
  free(cc), free(ll);
  chunking_free(&ck);
  return st;
}

int latens_pc_hclt_accumulate(const latens_pc_hclt *h, const latens_mat *X, size_t r0, size_t r1,
                              latens_pc_hclt_counts *c) {
  return latens_pc_hclt_accumulate_soft(h, X, r0, r1, 1.0, c);
}

int latens_pc_hclt_accumulate_soft(const latens_pc_hclt *h, const latens_mat *X, size_t r0,
                                   size_t r1, double soften, latens_pc_hclt_counts *c) {
  static const char fn[] = "latens_pc_hclt_accumulate";
  if (!h || !c) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  if (!(soften > 0.5 && soften <= 1.0) || (h->ncat && soften != 1.0))
    LATENS_ERRORF(LATENS_EDOM, "%s: soften = %g, need (0.5, 1] (a categorical model: 1)", fn,
                  soften);
  if (c->n != h->n || c->K != h->K || c->M != h->M || !c->cat != !h->ncat)
    LATENS_ERRORF(LATENS_EBADLEN, "%s: counts for (n %zu, K %zu, M %zu, %s), model (n %zu, K %zu, "
                  "M %zu, %s)", fn, c->n, c->K, c->M, c->cat ? "categorical" : "binary", h->n,
                  h->K, h->M, h->ncat ? "categorical" : "binary");
  int st = latens_check_mat(fn, "X", X, LATENS_ANY, h->n);
  if (st) return st;
  if (r0 > r1 || r1 > X->nrow)
    LATENS_ERRORF(LATENS_EDOM, "%s: rows [%zu, %zu) not within 0..%zu", fn, r0, r1, X->nrow);
  latens_mat sub = latens_mat_submatrix(X, r0, 0, r1 - r0, X->ncol);
  if (r1 > r0 && (st = latens_pc_hclt_check_data(fn, "X", &sub, h))) return st;
  if ((st = latens_pc_hclt_check_finite(fn, h))) return st;
  if (r1 == r0) return LATENS_OK;
  return accumulate_chunks(h, X, r0, r1, soften, c);
}

/* p[k*stride] <- (1 - step) p + step (c + a/len) / (sum c + a), k < len. */
static void update(double *p, const double *c, size_t len, size_t stride, double a, double step) {
  double s = a;
  for (size_t k = 0; k < len; k++) s += c[k * stride];
  if (!(s > 0.0)) return; /* no data and no pseudocount: keep the old distribution */
  for (size_t k = 0; k < len; k++)
    p[k * stride] = (1.0 - step) * p[k * stride] + step * (c[k * stride] + a / (double)len) / s;
}

int latens_pc_hclt_mstep(latens_pc_hclt *h, const latens_pc_hclt_counts *c, double pseudocount,
                         double step) {
  static const char fn[] = "latens_pc_hclt_mstep";
  if (!h || !c) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  if (c->n != h->n || c->K != h->K || c->M != h->M || !c->cat != !h->ncat)
    LATENS_ERRORF(LATENS_EBADLEN, "%s: counts and model differ in shape", fn);
  if (!(pseudocount >= 0.0) || !isfinite(pseudocount) || !(step > 0.0 && step <= 1.0))
    LATENS_ERRORF(LATENS_EDOM, "%s: pseudocount = %g must be >= 0, step = %g in (0, 1]", fn,
                  pseudocount, step);
  int st = latens_pc_hclt_check_finite(fn, h);
  if (!st) st = counts_finite(fn, c);
  if (st) return st;
  const size_t n = h->n, K = h->K;
  update(h->mix, c->mix, h->M, 1, pseudocount, step);
  for (size_t m = 0; m < h->M; m++) {
    update(h->root + m * K, c->root + m * K, K, 1, pseudocount, step);
    for (size_t j = 0; j < n; j++) {
      size_t node = m * n + j;
      if (h->parent[node] >= 0)
        for (size_t i = 0; i < K; i++)
          update(h->trans + node * K * K + i, c->trans + node * K * K + i, K, K, pseudocount, step);
      if (h->fixed_leaves) continue;
      if (h->ncat) {
        size_t nc = h->ncat[j], off = (m * h->catoff[n] + h->catoff[j]) * K;
        for (size_t k = 0; k < K; k++)
          update(h->cat + off + k * nc, c->cat + off + k * nc, nc, 1, pseudocount, step);
        continue;
      }
      for (size_t k = 0; k < K; k++) {
        double n1 = c->leaf1[node * K + k], nn = c->leafn[node * K + k];
        if (!(nn + pseudocount > 0.0)) continue;
        double p = (n1 + pseudocount / 2.0) / (nn + pseudocount);
        h->leaf[node * K + k] = (1.0 - step) * h->leaf[node * K + k] + step * p;
      }
    }
  }
  return LATENS_OK;
}
