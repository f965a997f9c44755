/* bench/pc/debd.h: the density-estimation benchmark's splits (binary CSV, no header) for the
 * pc accuracy benchmarks. */
#ifndef LATENS_BENCH_DEBD_H
#define LATENS_BENCH_DEBD_H
#include <stdio.h>
#include <stdlib.h>
#include <latens/latens.h>

/* The data folder: $LATENS_DEBD, else $LATENS_SRCDIR/../shared/data/debd, else
 * ../shared/data/debd (a build directory beside the checkout). */
static inline void debd_dir_resolve(char *dir, size_t n) {
  const char *d = getenv("LATENS_DEBD"), *src = getenv("LATENS_SRCDIR");
  if (d) snprintf(dir, n, "%s", d);
  else snprintf(dir, n, "%s/../shared/data/debd", src ? src : "..");
}

/* DIR/DS/DS.SPLIT.data as a matrix, or NULL when absent (the caller skips the dataset). */
static inline latens_mat *debd_load(const char *dir, const char *ds, const char *split) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s/%s.%s.data", dir, ds, ds, split);
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  fclose(f);
  latens_table_options o;
  latens_table_options_default(&o);
  o.header = LATENS_HEADER_NO, o.delim = ',';
  latens_table *t = NULL;
  if (latens_table_read_numeric(path, &o, &t)) return NULL;
  latens_mat *m = latens_table_release_data(t);
  latens_table_free(t);
  return m;
}
#endif
