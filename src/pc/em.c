/* pc/em.c: full-batch and mini-batch EM from the flow pass.
 *
 * The E-step is latens_pc_flows (expected edge and category counts); the M-step normalises
 * them with the pseudocount spread equally over siblings, as ProbabilisticCircuits.jl does,
 * so a sum with no flow becomes uniform rather than 0/0.  Mini-batch EM moves the parameters
 * a step s towards each batch's M-step solution, s annealed linearly over all batch steps
 * (the HCLT recipe: 0.1 -> 0.9).  A convex combination of normalised parameters stays
 * normalised, so no renormalisation is needed between steps. */
#include "pc_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void latens_pc_em_options_default(latens_pc_em_options *opt) {
  if (!opt) return;
  memset(opt, 0, sizeof *opt);
  opt->epochs = 100;
  opt->batch_size = 0;
  opt->step_size = 0.1;
  opt->step_size_final = 0.9;
  opt->pseudocount = 0.1;
  opt->patience = 5;
  opt->keep_best = 1;
  opt->work_batch = 0;
}

static const double GAUSS_SD_FLOOR = 1e-3;

/* theta <- (1 - s) theta + s * M-step(counts). */
static void mstep(latens_pc *pc, const double *g, const double *uf, double a, double s) {
  double *th = pc->params;
  for (size_t u = 0; u < pc->nunits; u++) {
    size_t off = pc_param_offset(pc, u), n = pc->pcount[u];
    if (off == PC_NONE || pc->comp.slot[u] == PC_NONE) continue;
    int t = pc->type[u];
    if (t == LATENS_PC_GAUSSIAN) {
      double f = uf[u];
      if (!(f > 0)) continue;
      double mu = g[off] / f, var = g[off + 1] / f - mu * mu;
      double sd = sqrt(var > 0 ? var : 0);
      if (sd < GAUSS_SD_FLOOR) sd = GAUSS_SD_FLOOR;
      th[off] = (1 - s) * th[off] + s * mu;
      th[off + 1] = (1 - s) * th[off + 1] + s * sd;
      continue;
    }
    double tot = 0;
    for (size_t k = 0; k < n; k++) tot += g[off + k];
    if (tot + a <= 0) continue; /* no flow and no pseudocount: keep the old parameters */
    for (size_t k = 0; k < n; k++) {
      double nw = (g[off + k] + a / (double)n) / (tot + a);
      th[off + k] = (1 - s) * th[off + k] + s * nw;
    }
  }
}

static double mean_ll(const latens_pc *pc, const latens_mat *X, latens_vec *ll,
                      latens_pc_work *w, int *st) {
  *st = latens_pc_loglik(pc, X, ll, w);
  if (*st) return NAN;
  double s = 0;
  for (size_t i = 0; i < X->nrow; i++) s += LATENS_VEC(ll, i);
  return s / (double)X->nrow;
}

typedef struct {
  latens_pc_work *w;
  latens_vec *g, *uf, *ll, *vll;
  latens_mat *batch;
  size_t *perm;
  double *best;
  int need_uf;
} em_bufs;

static void bufs_free(em_bufs *b) {
  latens_pc_work_free(b->w);
  latens_vec_free(b->g), latens_vec_free(b->uf), latens_vec_free(b->ll), latens_vec_free(b->vll);
  latens_mat_free(b->batch);
  free(b->perm), free(b->best);
}

static int check_args(latens_pc *pc, const latens_mat *train, const latens_mat *valid,
                      const latens_pc_em_options *o, latens_rng *rng) {
  static const char fn[] = "latens_pc_em";
  int st = pc_check_ready(fn, pc, NULL);
  if (st || (st = pc_check_data(fn, pc, train))) return st;
  if (valid && (st = pc_check_data(fn, pc, valid))) return st;
  if (!(o->step_size > 0 && o->step_size <= 1) || !(o->step_size_final > 0 && o->step_size_final <= 1))
    LATENS_ERRORF(LATENS_EDOM, "%s: step sizes %g -> %g must be in (0, 1]", fn, o->step_size,
                  o->step_size_final);
  if (!(o->pseudocount >= 0 && isfinite(o->pseudocount)))
    LATENS_ERRORF(LATENS_EDOM, "%s: pseudocount %g must be finite and >= 0", fn, o->pseudocount);
  if (o->batch_size && o->batch_size < train->nrow && !rng)
    LATENS_ERRORF(LATENS_EINVAL, "%s: mini-batch EM (batch %zu of %zu rows) needs an rng", fn,
                  o->batch_size, train->nrow);
  return LATENS_OK;
}

/* One epoch: full batch, or shuffled mini-batches with annealed steps. */
static int epoch(latens_pc *pc, const latens_mat *train, const latens_pc_em_options *o,
                 latens_rng *rng, em_bufs *b, size_t ep, double *train_ll) {
  size_t n = train->nrow, bs = o->batch_size && o->batch_size < n ? o->batch_size : n;
  size_t nbat = (n + bs - 1) / bs, total = o->epochs * nbat;
  if (bs < n)
    for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates with the caller's stream */
      size_t j = (size_t)(latens_rng_uniform(rng) * (double)(i + 1));
      if (j > i) j = i;
      size_t t = b->perm[i];
      b->perm[i] = b->perm[j], b->perm[j] = t;
    }
  double acc = 0;
  for (size_t k = 0; k < nbat; k++) {
    size_t r0 = k * bs, nb = n - r0 < bs ? n - r0 : bs;
    const latens_mat *Xb = train;
    latens_mat view;
    if (bs < n) {
      for (size_t j = 0; j < pc->nvars; j++)
        for (size_t i = 0; i < nb; i++) LATENS_MAT(b->batch, i, j) = LATENS_MAT(train, b->perm[r0 + i], j);
      view = latens_mat_submatrix(b->batch, 0, 0, nb, pc->nvars);
      Xb = &view;
    }
    memset(b->g->data, 0, b->g->n * sizeof(double));
    memset(b->uf->data, 0, b->uf->n * sizeof(double));
    latens_vec llv = latens_vec_view(b->ll->data, nb, 1);
    /* unit flows are only the Gaussian M-step's denominators: skip that pass otherwise */
    int st = latens_pc_flows(pc, Xb, NULL, b->g, b->need_uf ? b->uf : NULL, &llv, b->w);
    if (st) return st;
    for (size_t i = 0; i < nb; i++) acc += llv.data[i];
    double s = 1;
    if (bs < n) {
      double t = total > 1 ? (double)(ep * nbat + k) / (double)(total - 1) : 0;
      s = o->step_size + (o->step_size_final - o->step_size) * t;
    }
    mstep(pc, b->g->data, b->uf->data, o->pseudocount, s);
  }
  *train_ll = acc / (double)n;
  return LATENS_OK;
}

int latens_pc_em(latens_pc *pc, const latens_mat *train, const latens_mat *valid,
                 const latens_pc_em_options *opt, latens_rng *rng, const latens_progress *progress,
                 latens_pc_em_result *res) {
  latens_pc_em_options o;
  if (opt) o = *opt;
  else latens_pc_em_options_default(&o);
  int st = check_args(pc, train, valid, &o, rng);
  if (st) return st;
  size_t n = train->nrow, np = pc->nw + pc->ni;
  size_t bs = o.batch_size && o.batch_size < n ? o.batch_size : n;
  em_bufs b = {0};
  b.w = latens_pc_work_alloc(pc, o.work_batch ? o.work_batch : pc_auto_batch(pc, bs));
  b.g = latens_vec_alloc(np ? np : 1), b.uf = latens_vec_alloc(pc->nunits);
  b.ll = latens_vec_alloc(n);
  b.vll = valid ? latens_vec_alloc(valid->nrow) : NULL;
  b.batch = bs < n ? latens_mat_alloc(bs, pc->nvars) : NULL;
  b.perm = malloc(n * sizeof *b.perm);
  b.best = malloc((np ? np : 1) * sizeof *b.best);
  if (!b.w || !b.g || !b.uf || !b.ll || (valid && !b.vll) || (bs < n && !b.batch) || !b.perm || !b.best) {
    bufs_free(&b);
    LATENS_ERROR("latens_pc_em: out of memory", LATENS_ENOMEM);
  }
  b.g->n = np;
  for (size_t u = 0; u < pc->nunits; u++) b.need_uf |= pc->type[u] == LATENS_PC_GAUSSIAN;
  for (size_t i = 0; i < n; i++) b.perm[i] = i;
  latens_pc_em_result r = {0, NAN, NAN, NAN, 0, 0};
  if (valid) r.best_valid_ll = mean_ll(pc, valid, b.vll, b.w, &st);
  memcpy(b.best, pc->params, np * sizeof(double));
  size_t since = 0;
  for (size_t ep = 0; ep < o.epochs && !st; ep++) {
    double tll;
    if ((st = epoch(pc, train, &o, rng, &b, ep, &tll))) break;
    r.epochs = ep + 1;
    if (o.train_history) o.train_history[ep] = tll;
    double vll = valid ? mean_ll(pc, valid, b.vll, b.w, &st) : NAN;
    if (st) break;
    if (o.valid_history) o.valid_history[ep] = vll;
    if (valid && vll > r.best_valid_ll) {
      r.best_valid_ll = vll, r.best_epoch = ep + 1, since = 0;
      memcpy(b.best, pc->params, np * sizeof(double));
    } else if (valid && o.patience && ++since >= o.patience) {
      r.stopped_early = 1;
      break;
    }
    st = latens_progress_report(progress, "pc em", (double)(ep + 1), (double)o.epochs);
  }
  if (valid && o.keep_best && (st == LATENS_OK || st == LATENS_EINTERRUPTED))
    memcpy(pc->params, b.best, np * sizeof(double));
  if (st == LATENS_OK) {
    r.train_ll = mean_ll(pc, train, b.ll, b.w, &st);
    if (valid && !st) r.valid_ll = mean_ll(pc, valid, b.vll, b.w, &st);
  }
  if (res) *res = r;
  bufs_free(&b);
  return st;
}
