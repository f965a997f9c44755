/* pc/hclt_em.c: EM for mixtures of HCLTs (mini-batch then full batch, early stopping on a
 * validation set), Chow-Liu trees and the HCLT structure learner. */
#include "learn_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void latens_pc_hclt_em_options_default(latens_pc_hclt_em_options *opt) {
  if (!opt) return;
  opt->batch = 1024;
  opt->epochs_minibatch = 100;
  opt->epochs_full = 100;
  opt->step_start = 0.1;
  opt->step_end = 0.9;
  opt->pseudocount = 0.1;
  opt->patience = 3;
  opt->soften = 1.0;
}

/* The tables of h as one block each, for keeping the best parameters. */
typedef struct {
  double *mix, *root, *trans, *leaf, *cat;
} snapshot;

static size_t ntrans(const latens_pc_hclt *h) { return h->M * h->n * h->K * h->K; }
static size_t ncat_len(const latens_pc_hclt *h) {
  return h->ncat ? h->M * h->catoff[h->n] * h->K : 0;
}

static int snap_alloc(snapshot *s, const latens_pc_hclt *h) {
  s->mix = malloc(h->M * sizeof(double));
  s->root = malloc(h->M * h->K * sizeof(double));
  s->trans = malloc(ntrans(h) * sizeof(double));
  s->leaf = malloc(h->M * h->n * h->K * sizeof(double));
  s->cat = h->ncat ? malloc(ncat_len(h) * sizeof(double)) : NULL;
  return s->mix && s->root && s->trans && s->leaf && (!h->ncat || s->cat) ? LATENS_OK : LATENS_ENOMEM;
}

static void snap_free(snapshot *s) {
  free(s->mix), free(s->root), free(s->trans), free(s->leaf), free(s->cat);
}

static void snap_copy(const latens_pc_hclt *h, snapshot *s, int save) {
  size_t len[5] = {h->M, h->M * h->K, ntrans(h), h->M * h->n * h->K, ncat_len(h)};
  double *a[5] = {h->mix, h->root, h->trans, h->leaf, h->cat};
  double *b[5] = {s->mix, s->root, s->trans, s->leaf, s->cat};
  for (int t = 0; t < 5; t++)
    if (len[t]) memcpy(save ? b[t] : a[t], save ? a[t] : b[t], len[t] * sizeof(double));
}

/* Rows of X in a random order (Fisher-Yates from rng) into Y, same shape, ld = N. */
void latens_pc_shuffle_rows(const latens_mat *X, latens_mat *Y, size_t *perm, latens_rng *rng) {
  const size_t N = X->nrow;
  for (size_t i = 0; i < N; i++) perm[i] = i;
  for (size_t i = N; i-- > 1;) {
    size_t k = (size_t)(latens_rng_uniform(rng) * (double)(i + 1)), t;
    if (k > i) k = i;
    t = perm[i], perm[i] = perm[k], perm[k] = t;
  }
  for (size_t j = 0; j < X->ncol; j++)
    for (size_t i = 0; i < N; i++) LATENS_MAT(Y, i, j) = LATENS_MAT(X, perm[i], j);
}

typedef struct {
  latens_pc_hclt *h;
  const latens_mat *valid, *train;
  snapshot best;
  double best_ll;
  size_t bad;
} tracker;

/* After an epoch: keep the parameters if the validation LL is the best so far; returns 1 when
 * the phase should stop (patience used up). */
static int track(tracker *t, size_t patience, int *st) {
  double v;
  *st = latens_pc_hclt_mean_loglik(t->h, t->valid ? t->valid : t->train, &v);
  if (*st) return 1;
  if (v > t->best_ll || isnan(t->best_ll)) {
    t->best_ll = v, t->bad = 0;
    snap_copy(t->h, &t->best, 1);
    return 0;
  }
  return t->valid && ++t->bad >= patience;
}

static int minibatch_phase(tracker *t, const latens_pc_hclt_em_options *o, latens_pc_hclt_counts *c,
                           latens_rng *rng, const latens_progress *pr) {
  const latens_mat *X = t->train;
  const size_t N = X->nrow, E = o->epochs_minibatch;
  latens_mat *Y = latens_mat_alloc(N, X->ncol);
  size_t *perm = malloc(N * sizeof *perm);
  int st = Y && perm ? LATENS_OK : LATENS_ENOMEM;
  if (st) latens_error("latens_pc_hclt_em: no memory for a shuffled copy", __FILE__, __LINE__, st);
  t->bad = 0;
  for (size_t e = 0; e < E && !st; e++) {
    double step = E > 1 ? o->step_start + (o->step_end - o->step_start) * (double)e / (double)(E - 1)
                        : o->step_end;
    latens_pc_shuffle_rows(X, Y, perm, rng);
    for (size_t r0 = 0; r0 < N && !st; r0 += o->batch) {
      size_t r1 = r0 + o->batch < N ? r0 + o->batch : N;
      latens_pc_hclt_counts_zero(c);
      if (!(st = latens_pc_hclt_accumulate_soft(t->h, Y, r0, r1, o->soften, c)))
        st = latens_pc_hclt_mstep(t->h, c, o->pseudocount, step);
    }
    if (st || track(t, o->patience, &st)) break;
    st = latens_progress_report(pr, "em minibatch", (double)e + 1, (double)E);
  }
  latens_mat_free(Y), free(perm);
  return st;
}

static int full_phase(tracker *t, const latens_pc_hclt_em_options *o, latens_pc_hclt_counts *c,
                      const latens_progress *pr) {
  int st = LATENS_OK;
  t->bad = 0;
  if (t->best_ll == t->best_ll) snap_copy(t->h, &t->best, 0); /* start from the best so far */
  for (size_t e = 0; e < o->epochs_full && !st; e++) {
    latens_pc_hclt_counts_zero(c);
    if ((st = latens_pc_hclt_accumulate_soft(t->h, t->train, 0, t->train->nrow, o->soften, c)))
      break;
    if ((st = latens_pc_hclt_mstep(t->h, c, o->pseudocount, 1.0))) break;
    if (track(t, o->patience, &st)) break;
    st = latens_progress_report(pr, "em full", (double)e + 1, (double)o->epochs_full);
  }
  return st;
}

int latens_pc_hclt_em(latens_pc_hclt *h, const latens_mat *train, const latens_mat *valid,
                      const latens_pc_hclt_em_options *opt, latens_rng *rng,
                      const latens_progress *progress, double *best_valid) {
  static const char fn[] = "latens_pc_hclt_em";
  latens_pc_hclt_em_options o;
  if (opt) o = *opt;
  else latens_pc_hclt_em_options_default(&o);
  if (!h || !rng) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL model or rng", fn);
  int st = latens_pc_hclt_check_data(fn, "train", train, h);
  if (!st) st = latens_pc_hclt_check_finite(fn, h);
  if (st) return st;
  if (train->nrow == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: train has no rows", fn);
  if (valid && (st = latens_pc_hclt_check_data(fn, "valid", valid, h))) return st;
  if (valid && valid->nrow == 0) valid = NULL;
  if (o.batch == 0 || !(o.step_start > 0.0 && o.step_start <= 1.0) ||
      !(o.step_end > 0.0 && o.step_end <= 1.0) || !(o.pseudocount >= 0.0) || o.patience == 0 ||
      !(o.soften > 0.5 && o.soften <= 1.0) || (h->ncat && o.soften != 1.0))
    LATENS_ERRORF(LATENS_EDOM, "%s: options need batch >= 1 (%zu), steps in (0, 1] (%g, %g), "
                  "pseudocount >= 0 (%g), patience >= 1 (%zu), soften in (0.5, 1] (%g; 1 for "
                  "categorical data)", fn, o.batch, o.step_start, o.step_end, o.pseudocount,
                  o.patience, o.soften);
  tracker t = {h, valid, train, {NULL, NULL, NULL, NULL, NULL}, NAN, 0};
  latens_pc_hclt_counts *c = latens_pc_hclt_counts_alloc(h);
  if (!c || snap_alloc(&t.best, h)) {
    latens_pc_hclt_counts_free(c), snap_free(&t.best);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory", fn);
  }
  st = minibatch_phase(&t, &o, c, rng, progress);
  if (!st) st = full_phase(&t, &o, c, progress);
  if (!st && t.best_ll == t.best_ll) snap_copy(h, &t.best, 0);
  if (!st && best_valid) *best_valid = t.best_ll;
  latens_pc_hclt_counts_free(c), snap_free(&t.best);
  return st;
}

/* Chow-Liu parent array of X (root 0) into parent[0..n); ncat NULL: binary. */
static int clt_parent(const latens_mat *X, const size_t *ncat, long *parent) {
  latens_mat *MI = latens_mat_alloc(X->ncol, X->ncol);
  if (!MI) return LATENS_ENOMEM;
  int st = latens_pc_mutual_info_cat(X, ncat, 0.01, MI);
  if (!st) st = latens_pc_max_spanning_tree(MI, 0, parent, NULL);
  latens_mat_free(MI);
  return st;
}

int latens_pc_cltree_fit(const latens_mat *train, double alpha, latens_pc_hclt **out) {
  static const char fn[] = "latens_pc_cltree_fit";
  if (!out) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL out", fn);
  *out = NULL;
  int st = latens_pc_check_binary(fn, "train", train, LATENS_ANY, 1);
  if (st) return st;
  if (train->nrow == 0 || train->ncol == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: empty train", fn);
  if (!(alpha >= 0.0) || !isfinite(alpha)) LATENS_ERRORF(LATENS_EDOM, "%s: alpha = %g", fn, alpha);
  const size_t n = train->ncol, N = train->nrow;
  long *parent = malloc(n * sizeof *parent);
  if (!parent) LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory", fn);
  if ((st = clt_parent(train, NULL, parent))) return free(parent), st;
  latens_pc_hclt *h = latens_pc_hclt_alloc(n, 2, 1, parent);
  free(parent);
  if (!h) return LATENS_ENOMEM;
  h->fixed_leaves = 1;
  for (size_t j = 0; j < n; j++) h->leaf[j * 2] = 0.0, h->leaf[j * 2 + 1] = 1.0;
  /* Counts of (x_parent, x_j): the complete-data maximum-likelihood estimate, which is what
   * the M-step computes from hard "latent" assignments z = x. */
  latens_pc_hclt_counts *c = latens_pc_hclt_counts_alloc(h);
  if (!c) return latens_pc_hclt_free(h), LATENS_ENOMEM;
  c->mix[0] = (double)N;
  for (size_t j = 0; j < n; j++) {
    long p = h->parent[j];
    for (size_t i = 0; i < N; i++) {
      double x = LATENS_MAT(train, i, j), y = p < 0 ? 0.0 : LATENS_MAT(train, i, (size_t)p);
      if (isnan(x) || isnan(y)) continue;
      if (p < 0) c->root[x == 1.0] += 1.0;
      else c->trans[j * 4 + (y == 1.0) + 2 * (x == 1.0)] += 1.0;
    }
  }
  st = latens_pc_hclt_mstep(h, c, 2.0 * alpha, 1.0);
  latens_pc_hclt_counts_free(c);
  if (st) return latens_pc_hclt_free(h), st;
  *out = h;
  return LATENS_OK;
}

int latens_pc_hclt_structure(const latens_mat *train, size_t K, size_t M, latens_rng *rng,
                             latens_pc_hclt **out) {
  return latens_pc_hclt_structure_cat(train, NULL, K, M, rng, out);
}

int latens_pc_hclt_structure_cat(const latens_mat *train, const size_t *ncat, size_t K, size_t M,
                                 latens_rng *rng, latens_pc_hclt **out) {
  static const char fn[] = "latens_pc_hclt_structure";
  if (!out || !rng) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL out or rng", fn);
  *out = NULL;
  int st = latens_check_mat(fn, "train", train, LATENS_ANY, LATENS_ANY);
  if (!st) st = latens_pc_check_cat(fn, "train", train, LATENS_ANY, ncat, 1);
  if (st) return st;
  if (train->nrow == 0 || train->ncol == 0 || K < 2 || M == 0)
    LATENS_ERRORF(LATENS_EINVAL, "%s: need non-empty train, K >= 2 (%zu), M >= 1 (%zu)", fn, K, M);
  const size_t n = train->ncol, N = train->nrow;
  const size_t bytes = latens_mul_size(latens_mul_size(n, M), sizeof(long));
  if (bytes == 0)
    LATENS_ERRORF(LATENS_ENOMEM, "%s: %zu variables x %zu components overflow", fn, n, M);
  long *parent = malloc(bytes);
  latens_mat *B = M > 1 ? latens_mat_alloc(N, n) : NULL;
  if (!parent || (M > 1 && !B)) {
    free(parent), latens_mat_free(B);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory", fn);
  }
  st = clt_parent(train, ncat, parent);
  for (size_t m = 1; m < M && !st; m++) { /* bootstrap resamples diversify the trees */
    for (size_t i = 0; i < N; i++) {
      size_t r = (size_t)(latens_rng_uniform(rng) * (double)N);
      r = r < N ? r : N - 1;
      for (size_t j = 0; j < n; j++) LATENS_MAT(B, i, j) = LATENS_MAT(train, r, j);
    }
    st = clt_parent(B, ncat, parent + m * n);
  }
  latens_mat_free(B);
  latens_pc_hclt *h = st ? NULL : latens_pc_hclt_alloc_cat(n, ncat, K, M, parent);
  free(parent);
  if (st) return st;
  if (!h) return LATENS_ENOMEM;
  if ((st = latens_pc_hclt_randomize(h, 0.4, rng))) return latens_pc_hclt_free(h), st;
  *out = h;
  return LATENS_OK;
}
