/* examples/c/pc.c: learn a probabilistic circuit on binary survey data and query it.
 * A hidden Chow-Liu tree (HCLT) is learnt from the NLTCS training split (16 yes/no
 * disability indicators), scored on the test split beside the fully factorised baseline,
 * and asked about a test respondent whose last 8 answers are hidden: the probability of the
 * 8 answers we see, and the most likely completion (MAP).  Checked by brute force: the
 * circuit sums to 1 over all 2^16 answer patterns, and the marginal of the evidence equals
 * the sum over its 2^8 completions.   usage: pc [DATA_DIR]  (default: $LATENS_SRCDIR/data) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <latens/latens.h>

static latens_mat *read_split(const char *dir, const char *split) {
  char path[4200];
  snprintf(path, sizeof path, "%s/nltcs.%s.data", dir, split);
  latens_table_options opt;
  latens_table_options_default(&opt);
  opt.header = LATENS_HEADER_NO; /* headerless 0/1 CSV */
  latens_table *t = NULL;
  latens_mat *X = latens_table_read_numeric(path, &opt, &t) ? NULL : latens_table_release_data(t);
  latens_table_free(t);
  return X;
}

/* Answers "yes" among the first k of row i. */
static size_t ones(const latens_mat *X, size_t i, size_t k) {
  size_t c = 0;
  for (size_t j = 0; j < k; j++) c += LATENS_MAT(X, i, j) == 1.0;
  return c;
}

/* log sum_i exp(ll[i]), stable. */
static double logsumexp(const double *ll, size_t n) {
  double m = -INFINITY, s = 0;
  for (size_t i = 0; i < n; i++) m = ll[i] > m ? ll[i] : m;
  for (size_t i = 0; i < n; i++) s += exp(ll[i] - m);
  return m + log(s);
}

/* Every 0/1 pattern of the variables from `first` on, with the others copied from row. */
static latens_mat *completions(const latens_mat *row, size_t first) {
  size_t n = row->ncol, nh = n - first, N = (size_t)1 << nh;
  latens_mat *C = latens_mat_alloc(N, n);
  for (size_t i = 0; C && i < N; i++)
    for (size_t j = 0; j < n; j++)
      LATENS_MAT(C, i, j) = j < first ? LATENS_MAT(row, 0, j) : (double)((i >> (j - first)) & 1);
  return C;
}

int main(int argc, char **argv) {
  const char *src = getenv("LATENS_SRCDIR");
  char dir[4096];
  if (argc > 1) snprintf(dir, sizeof dir, "%s", argv[1]);
  else snprintf(dir, sizeof dir, "%s/data", src ? src : ".");
  latens_mat *train = read_split(dir, "train"), *valid = read_split(dir, "valid");
  latens_mat *test = read_split(dir, "test");
  if (!train || !valid || !test) return 1; /* the error handler said why */
  const size_t n = train->ncol, half = n / 2;
  if (valid->ncol != n || test->ncol != n || n < 2 || n > 24) /* 2^n patterns below */
    return fprintf(stderr, "pc: expected 2 to 24 binary columns in every split\n"), 1;
  latens_rng rng;
  latens_rng_init(&rng, 42, 0);
  latens_pc_hclt *h = NULL;
  latens_pc *pc = NULL, *base = NULL;
  latens_pc_hclt_em_options em;
  latens_pc_hclt_em_options_default(&em);
  em.epochs_minibatch = 5, em.epochs_full = 5; /* a quick fit; the full recipe runs 100 + 100 */
  int st = latens_pc_hclt_structure(train, 8, 1, &rng, &h);
  if (!st) st = latens_pc_hclt_em(h, train, valid, &em, &rng, NULL, NULL);
  if (!st) st = latens_pc_hclt_to_circuit(h, &pc);
  if (!st) st = latens_pc_factorized_fit(train, 1.0, &base);
  latens_vec *ll = latens_vec_alloc(test->nrow), *lb = latens_vec_alloc(test->nrow);
  if (!st) st = ll && lb ? latens_pc_loglik(pc, test, ll, NULL) : LATENS_ENOMEM;
  if (!st) st = latens_pc_loglik(base, test, lb, NULL);
  if (st) return fprintf(stderr, "pc: %s\n", latens_strerror(st)), 1;
  double mean = 0, mean_base = 0;
  for (size_t i = 0; i < test->nrow; i++)
    mean += ll->data[i] / test->nrow, mean_base += lb->data[i] / test->nrow;
  printf("HCLT (K = 8, %zu units): test mean log-likelihood %.3f nats; independent answers %.3f\n",
         latens_pc_nunits(pc), mean, mean_base);
  /* Evidence: the first 8 answers of a respondent with 3+ "yes" there; the rest NaN. */
  size_t r = 0;
  while (r + 1 < test->nrow && ones(test, r, half) < 3) r++;
  latens_mat *q = latens_mat_alloc(1, n);
  for (size_t j = 0; q && j < n; j++) LATENS_MAT(q, 0, j) = j < half ? LATENS_MAT(test, r, j) : NAN;
  double lev, lmap;
  latens_vec v1 = latens_vec_view(&lev, 1, 1), v2 = latens_vec_view(&lmap, 1, 1);
  latens_mat *C = q ? completions(q, half) : NULL, *U = q ? completions(q, 0) : NULL;
  latens_vec *lc = C ? latens_vec_alloc(C->nrow) : NULL, *lu = U ? latens_vec_alloc(U->nrow) : NULL;
  st = lc && lu ? latens_pc_loglik(pc, q, &v1, NULL) : LATENS_ENOMEM;
  if (!st) st = latens_pc_loglik(pc, C, lc, NULL);
  if (!st) st = latens_pc_loglik(pc, U, lu, NULL);
  if (!st) st = latens_pc_map(pc, q, &v2, NULL);
  if (st) return fprintf(stderr, "pc: %s\n", latens_strerror(st)), 1;
  printf("test respondent %zu, answers 1-8: ", r);
  for (size_t j = 0; j < half; j++) printf("%.0f", LATENS_MAT(q, 0, j));
  printf("  log p = %.4f\nMAP completion of answers 9-16: ", lev);
  for (size_t j = half; j < n; j++) printf("%.0f", LATENS_MAT(q, 0, j));
  size_t best = 0, imap = 0; /* the most likely completion by brute force, for comparison */
  for (size_t i = 1; i < C->nrow; i++) best = lc->data[i] > lc->data[best] ? i : best;
  for (size_t j = half; j < n; j++) imap |= (size_t)LATENS_MAT(q, 0, j) << (j - half);
  printf("  p(it | answers 1-8) = %.3f%s\nbest completion by brute force: ", exp(lc->data[imap] - lev),
         latens_pc_is_deterministic(pc) ? "" : " (max-product: the HCLT is not deterministic)");
  for (size_t j = half; j < n; j++) printf("%.0f", LATENS_MAT(C, best, j));
  printf("  p(it | answers 1-8) = %.3f; true answers ", exp(lc->data[best] - lev));
  for (size_t j = half; j < n; j++) printf("%.0f", LATENS_MAT(test, r, j));
  printf("\n");

  /* Brute-force oracles: p sums to 1 over all 2^16 patterns; the marginal of the evidence
   * is the sum over its completions. */
  double z = logsumexp(lu->data, U->nrow), zev = logsumexp(lc->data, C->nrow);
  printf("check: log sum over all 2^%zu patterns %.1e; evidence %.10f vs sum of completions"
         " %.10f\n", n, z, lev, zev);
  int ok = fabs(z) < 1e-9 && fabs(lev - zev) < 1e-9 && mean > mean_base;
  latens_mat_free(train), latens_mat_free(valid), latens_mat_free(test);
  latens_mat_free(q), latens_mat_free(C), latens_mat_free(U);
  latens_vec_free(ll), latens_vec_free(lb), latens_vec_free(lc), latens_vec_free(lu);
  latens_pc_free(pc), latens_pc_free(base), latens_pc_hclt_free(h);
  if (!ok) fprintf(stderr, "pc: a check failed\n");
  return ok ? 0 : 1;
}
