/* bench/core/bench_table.c: reading numeric CSV with latens_table_read_numeric, beside the
 * loop everybody writes first (fgets + strtok + strtod into a growing row-major array),
 * timed in the same run on the same files.  Files: 200,000 x 20 random doubles written
 * with %.17g (the round-trip format: every number goes through strtod in both readers),
 * the same with %.6g (typical exported data: latens's exact fast path applies), and the
 * DEBD dna training set (headerless 0/1, 180 columns) when ../shared/data is present. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <latens/latens.h>
#include "../bench.h"

typedef struct {
  size_t nrow, ncol;
  uint64_t hash; /* of every value's bits and position: equal iff the readers agree exactly */
} result;

static uint64_t cell_hash(double x, size_t i, size_t j, size_t ncol) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return b * (2 * (uint64_t)(i * ncol + j) + 1);
}

/* The reference: line by line, fields by strtok, numbers by strtod. */
static int naive_read(const char *path, result *r) {
  FILE *f = fopen(path, "r");
  if (!f) return 1;
  static char line[1 << 16];
  size_t n = 0, cap = 1 << 16, ncol = 0, nrow = 0;
  double *data = malloc(cap * sizeof *data);
  while (data && fgets(line, sizeof line, f)) {
    size_t k = 0;
    for (char *tok = strtok(line, ",\r\n"); tok; tok = strtok(NULL, ",\r\n"), k++) {
      if (n == cap) {
        double *d = realloc(data, 2 * cap * sizeof *d);
        if (!d) break;
        data = d, cap *= 2;
      }
      data[n++] = strtod(tok, NULL);
    }
    if (!ncol) ncol = k;
    nrow++;
  }
  fclose(f);
  if (!data) return 1;
  uint64_t h = 0;
  for (size_t i = 0; i < n; i++) h += cell_hash(data[i], i / ncol, i % ncol, ncol);
  free(data);
  *r = (result){nrow, ncol, h};
  return 0;
}

static int latens_read(const char *path, result *r) {
  latens_table *t = NULL;
  if (latens_table_read_numeric(path, NULL, &t)) return 1;
  const latens_mat *m = latens_table_data(t);
  uint64_t h = 0;
  for (size_t j = 0; j < m->ncol; j++)
    for (size_t i = 0; i < m->nrow; i++) h += cell_hash(LATENS_MAT(m, i, j), i, j, m->ncol);
  *r = (result){m->nrow, m->ncol, h};
  latens_table_free(t);
  return 0;
}

static int compare(const char *label, const char *path, int reps) {
  struct stat st;
  if (stat(path, &st) != 0) return 1;
  double mb = st.st_size / 1e6, t_latens, t_naive;
  result a = {0, 0, 0}, b = {0, 0, 0};
  int bad = 0;
  /* Interleaved, best of each: load from other processes drifts over seconds and would
   * otherwise favour whichever reader ran in the quieter moment. */
  t_latens = t_naive = 1e300;
  for (int k = 0; k < reps && !bad; k++) {
    double t;
    BENCH_BEST(1, t, bad |= latens_read(path, &a));
    t_latens = t < t_latens ? t : t_latens;
    BENCH_BEST(1, t, bad |= naive_read(path, &b));
    t_naive = t < t_naive ? t : t_naive;
  }
  if (bad) {
    printf("%s: read failed (the error is on stderr)\n", label);
    return 1;
  }
  int agree = a.nrow == b.nrow && a.ncol == b.ncol && a.hash == b.hash;
  printf("%-28s %7.1f MB  %zu x %zu  values bit-identical: %s\n", label, mb, a.nrow, a.ncol,
         agree ? "yes" : "NO");
  printf("  latens_table_read_numeric  %8.1f MB/s  (%.3f s)\n", mb / t_latens, t_latens);
  printf("  fgets+strtok+strtod        %8.1f MB/s  (%.3f s)\n", mb / t_naive, t_naive);
  printf("  ratio latens / naive       %8.2fx\n", t_naive / t_latens);
  return !agree;
}

static uint64_t next(uint64_t *s) {
  *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
  return *s;
}

static int generate(const char *path, const char *fmt, size_t nrow, size_t ncol) {
  FILE *f = fopen(path, "w");
  if (!f) return 1;
  uint64_t s = 88172645463325252ull;
  for (size_t i = 0; i < nrow; i++)
    for (size_t j = 0; j < ncol; j++) {
      double u = (double)(next(&s) >> 11) * 0x1p-53;
      fprintf(f, fmt, (u - 0.5) * 2000.0);
      fputc(j + 1 < ncol ? ',' : '\n', f);
    }
  return fclose(f) != 0;
}

int main(void) {
  latens_set_error_handler(NULL);
  int bad = 0;
  char path[4096];
  int fd = bench_mkstemp(path, sizeof path, "table");
  if (fd < 0) {
    perror("mkstemp");
    return 1;
  }
  close(fd);
  const char *fmts[] = {"%.17g", "%.6g"};
  for (int k = 0; k < 2; k++) {
    char label[64];
    snprintf(label, sizeof label, "200000 x 20 random, %s", fmts[k]);
    if (generate(path, fmts[k], 200000, 20)) {
      printf("cannot write %s\n", path);
      bad = 1;
      break;
    }
    bad |= compare(label, path, 5);
  }
  unlink(path);

  const char *root = getenv("LATENS_SRCDIR");
  char dna[4096];
  snprintf(dna, sizeof dna, "%s/../shared/data/debd/dna/dna.train.data", root ? root : ".");
  if (access(dna, R_OK) == 0) bad |= compare("DEBD dna.train (0/1)", dna, 30);
  else printf("DEBD dna.train: skipped, %s not found (set LATENS_SRCDIR)\n", dna);
  return bad;
}
