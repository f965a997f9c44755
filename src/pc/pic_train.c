/* pc/pic_train.c: training an integral circuit through its materialisation: each step
 * re-materialises with K points, takes the circuit's expected counts on a mini-batch (its
 * backward pass), turns them into the networks' gradient and makes an Adam step on the mean
 * log-likelihood; cosine-annealed learning rate with warm restarts (Loshchilov & Hutter
 * 2017; period 500 steps as in the reference code), early stopping on validation data. */
#include "pic_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void latens_pc_pic_train_options_default(latens_pc_pic_train_options *opt) {
  if (!opt) return;
  /* 6000 steps: on nltcs (K = 64) 2000 steps stopped still climbing, validation LL -5.967;
   * 6000 reached -5.947 (bench_pc_pic), past the EM-learned HCLT's -5.956.  Early stopping
   * on validation data bounds the cost where it has converged sooner. */
  opt->K = 64, opt->batch = 256, opt->steps = 6000, opt->lr = 0.01;
  opt->validate = 250, opt->patience = 5;
}

typedef struct {
  latens_pc_pic_fw *fw;
  latens_pc_hclt *mat;
  latens_pc_hclt_counts *c;
  latens_pc_adam *adam;
  latens_mat *Y;
  size_t *perm;
  double *grad, *best;
} train_ws;

static void ws_free(train_ws *w) {
  latens_pc_pic_fw_free(w->fw);
  latens_pc_hclt_free(w->mat), latens_pc_hclt_counts_free(w->c), latens_pc_adam_free(w->adam);
  latens_mat_free(w->Y), free(w->perm), free(w->grad), free(w->best);
}

static int materialize(const latens_pc_pic *p, train_ws *w) {
  int st = latens_pc_pic_fw_eval(p, w->fw);
  return st ? st : latens_pc_pic_fw_tables(p, w->fw, w->mat);
}

static int validate(latens_pc_pic *p, train_ws *w, const latens_mat *X, double *ll) {
  int st = materialize(p, w);
  return st ? st : latens_pc_hclt_mean_loglik(w->mat, X, ll);
}

/* The networks are evaluated once: the tables and the gradient share that evaluation. */
static int one_step(latens_pc_pic *p, train_ws *w, size_t r0, size_t r1, double lr) {
  int st = materialize(p, w);
  latens_pc_hclt_counts_zero(w->c);
  if (!st) st = latens_pc_hclt_accumulate(w->mat, w->Y, r0, r1, w->c);
  if (!st) st = latens_pc_pic_fw_grad(p, w->fw, w->mat, w->c, w->grad);
  if (st) return st;
  const size_t np = latens_pc_pic_nparams(p);
  for (size_t k = 0; k < np; k++) w->grad[k] /= (double)(r1 - r0);
  return latens_pc_adam_step(w->adam, latens_pc_pic_params(p), w->grad, lr);
}

int latens_pc_pic_train(latens_pc_pic *p, const latens_mat *train, const latens_mat *valid,
                        const latens_pc_pic_train_options *opt, latens_rng *rng,
                        const latens_progress *progress, double *best_valid) {
  static const char fn[] = "latens_pc_pic_train";
  latens_pc_pic_train_options o;
  if (opt) o = *opt;
  else latens_pc_pic_train_options_default(&o);
  if (!p || !rng) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL pic or rng", fn);
  const size_t n = p->n, np = latens_pc_pic_nparams(p);
  int st = latens_pc_check_binary(fn, "train", train, n, 1);
  if (st) return st;
  if (valid && (st = latens_pc_check_binary(fn, "valid", valid, n, 1))) return st;
  if (train->nrow == 0 || o.K < 2 || o.batch == 0 || o.steps == 0 || o.validate == 0 ||
      !(o.lr > 0.0) || !isfinite(o.lr))
    LATENS_ERRORF(LATENS_EDOM, "%s: need rows (%zu), K >= 2 (%zu), batch, steps, validate >= 1 "
                  "(%zu, %zu, %zu), lr > 0 (%g)", fn, train->nrow, o.K, o.batch, o.steps,
                  o.validate, o.lr);
  train_ws w = {NULL, latens_pc_hclt_alloc(n, o.K, 1, p->parent), NULL, latens_pc_adam_alloc(np),
                latens_mat_alloc(train->nrow, n), malloc(train->nrow * sizeof(size_t)),
                malloc(np * sizeof(double)), malloc(np * sizeof(double))};
  if (w.mat) w.c = latens_pc_hclt_counts_alloc(w.mat);
  if ((st = latens_pc_pic_fw_alloc(p, o.K, &w.fw))) return ws_free(&w), st;
  if (!w.mat || !w.c || !w.adam || !w.Y || !w.perm || !w.grad || !w.best) {
    ws_free(&w);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory", fn);
  }
  const latens_mat *V = valid && valid->nrow ? valid : train;
  double best = -INFINITY, ll;
  size_t bad = 0, r0 = train->nrow;
  memcpy(w.best, p->theta, np * sizeof(double));
  if (!(st = validate(p, &w, V, &ll))) best = ll;
  for (size_t s = 0; s < o.steps && !st; s++) {
    if (r0 >= train->nrow) latens_pc_shuffle_rows(train, w.Y, w.perm, rng), r0 = 0;
    size_t r1 = r0 + o.batch < train->nrow ? r0 + o.batch : train->nrow;
    double ph = (double)(s % 500) / 500.0, eta_min = o.lr / 100.0;
    double lr = eta_min + (o.lr - eta_min) * 0.5 * (1.0 + cos(M_PI * ph));
    st = one_step(p, &w, r0, r1, lr);
    r0 = r1;
    if (st || ((s + 1) % o.validate && s + 1 < o.steps)) continue;
    if ((st = validate(p, &w, V, &ll))) break;
    if (ll > best) best = ll, bad = 0, memcpy(w.best, p->theta, np * sizeof(double));
    else if (valid && ++bad >= o.patience) break;
    st = latens_progress_report(progress, "pic adam", (double)(s + 1), (double)o.steps);
  }
  /* Interrupted: keep the best parameters too, a usable model (as latens_pc_em's keep_best). */
  if (!st || st == LATENS_EINTERRUPTED) memcpy(p->theta, w.best, np * sizeof(double));
  if (!st && best_valid) *best_valid = best;
  ws_free(&w);
  return st;
}
