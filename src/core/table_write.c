/* core/table_write.c: a numeric matrix as CSV, readable back exactly by core/table.c.
 *
 * printf's %g follows LC_NUMERIC, so a program that set a German locale would write "0,5"
 * and break its own files: the writing thread switches to a private C locale (uselocale
 * is per thread, so other threads are not disturbed) and switches back before returning. */
#include "internal.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <string.h>
#include <latens/table.h>

static void put_name(FILE *f, const char *s) {
  size_t n = strlen(s);
  /* Blanks too: a one-column file would otherwise look whitespace-separated to the reader. */
  int quote = n == 0 || strpbrk(s, ",\";\t ");
  if (!quote) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static void put_value(FILE *f, double x) {
  if (isnan(x)) fputs("NA", f);
  else if (isinf(x)) fputs(x > 0 ? "Inf" : "-Inf", f);
  else fprintf(f, "%.17g", x);
}

static int check_args(FILE *f, const latens_mat *m, const char *const *colnames) {
  if (!f || !m) LATENS_ERROR("latens_table_write_csv: NULL stream or matrix", LATENS_EINVAL);
  if (!m->ncol) LATENS_ERROR("latens_table_write_csv: the matrix has no columns", LATENS_EINVAL);
  if (m->nrow && (!m->data || m->ld < m->nrow))
    LATENS_ERRORF(LATENS_EINVAL, "latens_table_write_csv: bad matrix (data %s, ld %zu < nrow %zu)",
                  m->data ? "set" : "NULL", m->ld, m->nrow);
  for (size_t j = 0; colnames && j < m->ncol; j++) {
    if (!colnames[j])
      LATENS_ERRORF(LATENS_EINVAL, "latens_table_write_csv: colnames[%zu] is NULL", j);
    /* The reader keeps a record on one line, so a line break could not be read back. */
    if (strpbrk(colnames[j], "\r\n"))
      LATENS_ERRORF(LATENS_EINVAL, "latens_table_write_csv: colnames[%zu] contains a line break",
                    j);
  }
  return LATENS_OK;
}

int latens_table_write_csv_stream(FILE *f, const latens_mat *m, const char *const *colnames) {
  int status = check_args(f, m, colnames);
  if (status) return status;
  locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  if (!c) LATENS_ERROR("latens_table_write_csv: cannot create the C locale", LATENS_ENOMEM);
  locale_t old = uselocale(c);
  for (size_t j = 0; colnames && j < m->ncol; j++) {
    if (j) fputc(',', f);
    put_name(f, colnames[j]);
  }
  if (colnames) fputc('\n', f);
  for (size_t i = 0; i < m->nrow; i++) {
    for (size_t j = 0; j < m->ncol; j++) {
      if (j) fputc(',', f);
      put_value(f, LATENS_MAT(m, i, j));
    }
    fputc('\n', f);
  }
  uselocale(old);
  freelocale(c);
  if (ferror(f)) {
    int e = errno;
    LATENS_ERRORF(LATENS_EIO, "latens_table_write_csv: write failed: %s", strerror(e));
  }
  return LATENS_OK;
}

int latens_table_write_csv(const char *path, const latens_mat *m, const char *const *colnames) {
  if (!path || !*path) LATENS_ERROR("latens_table_write_csv: empty path", LATENS_EINVAL);
  /* Checked before the temporary file exists, so bad arguments leave no trace on disk. */
  int status = check_args(stdout, m, colnames);
  if (status) return status;
  latens_atomic_file *af = latens_atomic_open(path);
  if (!af) {
    const char *why;
    return latens_last_error(&why);
  }
  status = latens_table_write_csv_stream(latens_atomic_stream(af), m, colnames);
  if (status) {
    latens_atomic_abort(af);
    return status;
  }
  return latens_atomic_commit(af);
}
