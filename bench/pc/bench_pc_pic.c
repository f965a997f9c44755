/* bench/pc/bench_pc_pic.c: issue 3's PIC claim — a probabilistic integral circuit
 * materialised with K >= 64 quadrature points must match or beat an EM-learned HCLT of the
 * same K.  Per dataset of the density-estimation benchmark, on the Chow-Liu tree of the
 * training split (the same tree for both models):
 *   reference  HCLT, K latent states, uniform tables perturbed by 0.4, then the EM recipe of
 *              bench_pc_accuracy (pseudocount 0.1, mini-batch EM 0.1 -> 0.9, then full-batch
 *              EM, each phase stopped early on the validation split);
 *   ours       PIC with K trapezoid points (library defaults unless overridden), trained by
 *              Adam with early stopping on the validation split.
 * Prints validation and test mean log-likelihood of both, wall times, and "PIC >= EM" when
 * the PIC's test LL is at least the HCLT's.
 *
 * Data: $LATENS_DEBD, else $LATENS_SRCDIR/../shared/data/debd, else ../shared/data/debd.
 * Environment: LATENS_BENCH_DATASETS (default "nltcs dna jester plants baudio"),
 * LATENS_BENCH_K (default 64), LATENS_BENCH_EPOCHS (EM epochs per phase, default 100),
 * LATENS_BENCH_PIC_STEPS (Adam steps; default: the library's), LATENS_BENCH_SEED (default 1),
 * LATENS_BENCH_SKIP_EM=1 (PIC only, for tuning).  Settings are chosen on the validation
 * split; these override the library's PIC defaults for that purpose:
 * LATENS_BENCH_PIC_LR, _BATCH, _VALIDATE, _PATIENCE, _HIDDEN, _DEPTH, _FOURIER, _SIGMA, _RULE
 * (trapezoid|legendre|simpson|midpoint), _A, _B. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <latens/latens.h>
#include <latens/pc_learn.h>
#include "../bench.h"
#include "debd.h"

/* The PIC's options: the library's defaults, overridden from the environment. */
static void pic_options(latens_pc_pic_options *po, latens_pc_pic_train_options *to, size_t K) {
  latens_pc_pic_options_default(po);
  latens_pc_pic_train_options_default(to);
  to->K = K;
  to->steps = bench_env_size("LATENS_BENCH_PIC_STEPS", to->steps);
  to->batch = bench_env_size("LATENS_BENCH_PIC_BATCH", to->batch);
  to->validate = bench_env_size("LATENS_BENCH_PIC_VALIDATE", to->validate);
  to->patience = bench_env_size("LATENS_BENCH_PIC_PATIENCE", to->patience);
  to->lr = bench_env_double("LATENS_BENCH_PIC_LR", to->lr);
  po->hidden = bench_env_size("LATENS_BENCH_PIC_HIDDEN", po->hidden);
  po->depth = bench_env_size("LATENS_BENCH_PIC_DEPTH", po->depth);
  po->fourier = bench_env_size("LATENS_BENCH_PIC_FOURIER", po->fourier);
  po->sigma = bench_env_double("LATENS_BENCH_PIC_SIGMA", po->sigma);
  po->a = bench_env_double("LATENS_BENCH_PIC_A", po->a);
  po->b = bench_env_double("LATENS_BENCH_PIC_B", po->b);
  const char *r = getenv("LATENS_BENCH_PIC_RULE");
  if (r && !strcmp(r, "legendre")) po->rule = LATENS_QUAD_GAUSS_LEGENDRE;
  else if (r && !strcmp(r, "simpson")) po->rule = LATENS_QUAD_SIMPSON;
  else if (r && !strcmp(r, "midpoint")) po->rule = LATENS_QUAD_MIDPOINT;
  else if (r && !strcmp(r, "trapezoid")) po->rule = LATENS_QUAD_TRAPEZOID;
}

/* EM-learned HCLT with K states on the tree `parent`; valid and test mean LL, NAN on failure. */
static void em_hclt(const latens_mat *tr, const latens_mat *va, const latens_mat *te,
                    const long *parent, size_t K, size_t epochs, uint64_t seed, double *llv,
                    double *llt, double *secs) {
  double t0 = bench_now();
  latens_rng r;
  latens_rng_init(&r, seed, 0);
  latens_pc_hclt_em_options o;
  latens_pc_hclt_em_options_default(&o);
  o.epochs_minibatch = o.epochs_full = epochs;
  latens_pc_hclt *h = latens_pc_hclt_alloc(tr->ncol, K, 1, parent);
  *llv = *llt = NAN;
  if (h && !latens_pc_hclt_randomize(h, 0.4, &r) && !latens_pc_hclt_em(h, tr, va, &o, &r, NULL, NULL))
    latens_pc_hclt_mean_loglik(h, va, llv), latens_pc_hclt_mean_loglik(h, te, llt);
  latens_pc_hclt_free(h);
  *secs = bench_now() - t0;
}

static void pic(const latens_mat *tr, const latens_mat *va, const latens_mat *te,
                const long *parent, const latens_pc_pic_options *po,
                const latens_pc_pic_train_options *to, uint64_t seed, double *llv, double *llt,
                double *secs) {
  double t0 = bench_now();
  latens_rng r;
  latens_rng_init(&r, seed, 0);
  latens_pc_pic *p = latens_pc_pic_alloc(tr->ncol, parent, po, &r);
  latens_pc_hclt *m = latens_pc_hclt_alloc(tr->ncol, to->K, 1, parent);
  *llv = *llt = NAN;
  if (p && m && !latens_pc_pic_train(p, tr, va, to, &r, NULL, NULL) &&
      !latens_pc_pic_materialize(p, to->K, m))
    latens_pc_hclt_mean_loglik(m, va, llv), latens_pc_hclt_mean_loglik(m, te, llt);
  latens_pc_hclt_free(m), latens_pc_pic_free(p);
  *secs = bench_now() - t0;
}

int main(void) {
  char debd_dir[2048];
  debd_dir_resolve(debd_dir, sizeof debd_dir);
  const char *list = getenv("LATENS_BENCH_DATASETS");
  char names[512];
  snprintf(names, sizeof names, "%s", list && *list ? list : "nltcs dna jester plants baudio");
  const size_t K = bench_env_size("LATENS_BENCH_K", 64), epochs = bench_env_size("LATENS_BENCH_EPOCHS", 100);
  const uint64_t seed = bench_env_size("LATENS_BENCH_SEED", 1);
  const int skip_em = (int)bench_env_size("LATENS_BENCH_SKIP_EM", 0);
  latens_pc_pic_options po;
  latens_pc_pic_train_options to;
  pic_options(&po, &to, K);
  printf("pc PIC vs EM-learned HCLT of the same K: mean log-likelihood (nats/sample, higher is "
         "better); data %s\n", debd_dir);
  printf("K = %zu, EM epochs per phase %zu; PIC: rule %d on [%g, %g], fourier %zu, sigma %g, "
         "hidden %zu x %zu, Adam lr %g, batch %zu, steps %zu, validate %zu, patience %zu; seed %llu, "
         "%d threads\n", K, epochs, (int)po.rule, po.a, po.b, po.fourier, po.sigma, po.hidden, po.depth,
         to.lr, to.batch, to.steps, to.validate, to.patience, (unsigned long long)seed,
         latens_max_threads());
  printf("%-8s %4s %10s %10s %8s %10s %10s %8s  %s\n", "dataset", "K", "EM valid", "EM test",
         "EM s", "PIC valid", "PIC test", "PIC s", "verdict");
  int wins = 0, compared = 0;
  for (char *save = NULL, *ds = strtok_r(names, " ,", &save); ds; ds = strtok_r(NULL, " ,", &save)) {
    latens_mat *tr = debd_load(debd_dir, ds, "train"), *va = debd_load(debd_dir, ds, "valid");
    latens_mat *te = debd_load(debd_dir, ds, "test");
    latens_pc_hclt *c = NULL;
    if (!tr || !va || !te || latens_pc_cltree_fit(tr, 0.1, &c)) {
      printf("%-8s skipped: %s/%s/%s.{train,valid,test}.data not found or unreadable\n", ds,
             debd_dir, ds, ds);
      latens_mat_free(tr), latens_mat_free(va), latens_mat_free(te);
      continue;
    }
    double ev = NAN, et = NAN, es = 0.0, pv, pt, ps;
    if (!skip_em) em_hclt(tr, va, te, c->parent, K, epochs, seed, &ev, &et, &es);
    pic(tr, va, te, c->parent, &po, &to, seed, &pv, &pt, &ps);
    const char *verdict = skip_em ? "-" : pt >= et ? "PIC >= EM" : "PIC < EM";
    printf("%-8s %4zu %10.3f %10.3f %8.1f %10.3f %10.3f %8.1f  %s\n", ds, K, ev, et, es, pv, pt,
           ps, verdict);
    fflush(stdout);
    if (!skip_em && !isnan(pt) && !isnan(et)) compared++, wins += pt >= et;
    latens_pc_hclt_free(c);
    latens_mat_free(tr), latens_mat_free(va), latens_mat_free(te);
  }
  if (compared)
    printf("PIC matched or beat the EM-learned HCLT of the same K on %d of %d datasets\n", wins,
           compared);
  return 0;
}
