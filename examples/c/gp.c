/* examples/c/gp.c: smooth the Nile's annual flow with a Gaussian process.
 *
 * The flow of the Nile at Aswan, 1871-1970, is modelled as a zero-mean GP with a Matérn-3/2
 * kernel around its sample mean, plus Gaussian measurement noise; the hyperparameters are
 * fitted by maximum likelihood (Kalman filtering, linear time) and the smoothed flow printed
 * for a few years (the drop around 1899, when the old Aswan dam was built, shows up).
 * The example checks itself against the textbook dense GP: the log marginal likelihood and
 * the posterior mean from a Cholesky factorisation of the 100 x 100 covariance matrix.
 *
 *   usage: gp [DATA_DIR]   (default: $LATENS_SRCDIR/data) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <latens/latens.h>

/* Dense reference: Ky = K + noise I = L L^T; alpha = Ky^{-1} y; mean = K alpha. */
static int dense_gp(const latens_gp_kernel *k, double noise, const double *t, const double *y,
                    size_t n, double *mean, double *loglik) {
  double *K = malloc(n * n * sizeof *K), *L = malloc(n * n * sizeof *L), *a = malloc(n * sizeof *a);
  int st = K && L && a ? LATENS_OK : LATENS_ENOMEM;
  for (size_t i = 0; i < n && !st; i++)
    for (size_t j = 0; j < n && !st; j++) st = latens_gp_kernel_eval(k, t[i] - t[j], &K[i + j * n]);
  for (size_t j = 0; j < n && !st; j++) { /* column-oriented Cholesky of K + noise I */
    for (size_t i = j; i < n; i++) {
      double s = K[i + j * n] + (i == j ? noise : 0);
      for (size_t c = 0; c < j; c++) s -= L[i + c * n] * L[j + c * n];
      L[i + j * n] = i == j ? sqrt(s) : s / L[j + j * n];
    }
  }
  double logdet = 0, quad = 0;
  for (size_t i = 0; i < n && !st; i++) { /* forward: L u = y */
    double s = y[i];
    for (size_t c = 0; c < i; c++) s -= L[i + c * n] * a[c];
    a[i] = s / L[i + i * n];
    quad += a[i] * a[i], logdet += 2 * log(L[i + i * n]);
  }
  for (size_t i = n; i-- > 0 && !st;) { /* backward: L^T alpha = u */
    double s = a[i];
    for (size_t r = i + 1; r < n; r++) s -= L[r + i * n] * a[r];
    a[i] = s / L[i + i * n];
  }
  for (size_t i = 0; i < n && !st; i++) {
    mean[i] = 0;
    for (size_t j = 0; j < n; j++) mean[i] += K[i + j * n] * a[j];
  }
  *loglik = -0.5 * (quad + logdet + n * log(2 * M_PI));
  free(K), free(L), free(a);
  return st;
}

int main(int argc, char **argv) {
  const char *src = getenv("LATENS_SRCDIR");
  char path[4200];
  if (argc > 1) snprintf(path, sizeof path, "%s/nile.csv", argv[1]);
  else snprintf(path, sizeof path, "%s/data/nile.csv", src ? src : ".");
  latens_table *tab = NULL;
  if (latens_table_read_numeric(path, NULL, &tab)) return 1; /* the handler said why */
  const latens_mat *d = latens_table_data(tab);
  size_t n = latens_table_nrow(tab);
  if (latens_table_ncol(tab) != 2 || n < 3)
    return fprintf(stderr, "%s: expected columns time,value\n", path), latens_table_free(tab), 1;
  const double *year = d->data;
  double *y = malloc(n * sizeof *y), *mean = malloc(n * sizeof *mean), *var = malloc(n * sizeof *var);
  double *dmean = malloc(n * sizeof *dmean), ybar = 0;
  if (!y || !mean || !var || !dmean) return fprintf(stderr, "gp: out of memory\n"), 1;
  for (size_t i = 0; i < n; i++) ybar += d->data[i + d->ld] / n;
  for (size_t i = 0; i < n; i++) y[i] = d->data[i + d->ld] - ybar; /* the GP has mean zero */

  latens_gp_kernel *k = latens_gp_kernel_parse("matern32");
  latens_gp_series s = {n, year, y, NULL};
  latens_gp_fit_options opt;
  latens_gp_fit_options_default(&opt);
  latens_gp_fit_result fit;
  int st = k ? latens_gp_fit(k, &s, 1, &opt, &fit) : LATENS_EFAILED;
  if (!st) st = latens_gp_posterior(k, fit.noise, &s, NULL, 0, mean, var);
  double dll = NAN, theta[2] = {NAN, NAN};
  if (!st) st = dense_gp(k, fit.noise, year, y, n, dmean, &dll);
  if (!st) st = latens_gp_kernel_get_params(k, theta);
  if (st) return fprintf(stderr, "gp: %s\n", latens_strerror(st)), 1;
  printf("Nile %g-%g, Matern-3/2 GP: sd %.1f, lengthscale %.1f years, noise sd %.1f "
         "(10^8 m^3); log-likelihood %.3f after %zu iterations\n", year[0], year[n - 1],
         sqrt(theta[0]), theta[1], sqrt(fit.noise), fit.loglik, fit.iterations);
  printf("  year   flow  smoothed  +/- 2 sd\n");
  for (size_t i = 0; i < n; i += 14)
    printf("  %4.0f  %5.0f  %8.1f  %8.1f\n", year[i], y[i] + ybar, mean[i] + ybar, 2 * sqrt(var[i]));

  double err = 0; /* oracle: the dense O(n^3) GP */
  for (size_t i = 0; i < n; i++) err = fmax(err, fabs(mean[i] - dmean[i]));
  printf("check: dense GP log-likelihood %.9f (state space %.9f), max |mean difference| %.1e\n",
         dll, fit.loglik, err);
  /* Both are exact inference: they differ by rounding only (~1e-12 relative measured). */
  int ok = fabs(dll - fit.loglik) < 1e-9 * fabs(dll) && err < 1e-9 * ybar;
  latens_gp_kernel_free(k), latens_table_free(tab);
  free(y), free(mean), free(var), free(dmean);
  if (!ok) fprintf(stderr, "gp: the state-space result disagrees with the dense GP\n");
  return ok ? 0 : 1;
}
