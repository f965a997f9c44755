/* tests/sde/plugin_model.c: a user model for `latens sde simulate --plugin`, built by
 * tests/sde/cli_sim.sh with  cc -shared -fPIC -I include plugin_model.c -o model.so.
 * Logistic growth with multiplicative noise: dX = r X (1 - X/K) dt + s X dW, K >= 0. */
#include <latens/sde.h>

static int drift(double t, const double *x, const double *p, void *u, double *f) {
  (void)t, (void)u;
  f[0] = p[0] * x[0] * (1 - x[0] / p[1]);
  return 0;
}

static int diffusion(double t, const double *x, const double *p, void *u, double *g) {
  (void)t, (void)u;
  g[0] = p[2] * x[0];
  return 0;
}

int latens_sde_plugin_init(latens_sde_model *md) {
  int s = latens_sde_model_resize(md, 1, 1, LATENS_SDE_NOISE_DIAGONAL, 3);
  if (!s) s = latens_sde_model_set_param(md, 0, "r", 1.0, -1e300, 1e300);
  if (!s) s = latens_sde_model_set_param(md, 1, "K", 2.0, 1e-300, 1e300);
  if (!s) s = latens_sde_model_set_param(md, 2, "s", 0.2, 0, 1e300);
  md->x0[0] = 0.1;
  md->drift = drift, md->diffusion = diffusion;
  md->name[0] = 'l', md->name[1] = 'o', md->name[2] = 'g', md->name[3] = 0;
  return s;
}
