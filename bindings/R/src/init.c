/* init.c: registers every glue file's .Call routines and makes the library quiet under R. */
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include "latens_r.h"

/* R reports errors itself (the glue turns them into R conditions carrying the library's
 * message), so the library's handler stays silent.  It must return: a longjmp from inside
 * the library would skip its clean-up. */
static void latens_r_quiet_handler(const char *reason, const char *file, int line, int status) {
  (void)reason;
  (void)file;
  (void)line;
  (void)status;
}

/* Restored when the package is unloaded; set once at load, read once at unload. */
static latens_error_handler_t *previous_handler;
static gsl_error_handler_t *previous_gsl_handler;

static size_t count_calls(const R_CallMethodDef *t) {
  size_t n = 0;
  while (t[n].name) n++;
  return n;
}

void R_init_latens(DllInfo *dll) {
  const R_CallMethodDef *tables[] = {latens_r_core_calls, latens_r_pc_calls, latens_r_gp_calls,
                                     latens_r_sde_calls, latens_r_causal_calls};
  size_t ntab = sizeof tables / sizeof tables[0], total = 0, k = 0;
  for (size_t i = 0; i < ntab; i++) total += count_calls(tables[i]);
  /* R_registerRoutines copies the entries, so the merged table is temporary. */
  R_CallMethodDef *all = (R_CallMethodDef *)calloc(total + 1, sizeof *all);
  if (!all) Rf_error("latens: out of memory registering %d routines", (int)total);
  for (size_t i = 0; i < ntab; i++) {
    size_t n = count_calls(tables[i]);
    memcpy(all + k, tables[i], n * sizeof *all);
    k += n;
  }
  R_registerRoutines(dll, NULL, all, NULL, NULL);
  free(all);
  R_useDynamicSymbols(dll, FALSE);
  previous_handler = latens_set_error_handler(latens_r_quiet_handler);
  /* GSL's default handler aborts, which would end the user's R session. */
  previous_gsl_handler = gsl_set_error_handler_off();
}

void R_unload_latens(DllInfo *dll) {
  (void)dll;
  latens_set_error_handler(previous_handler);
  gsl_set_error_handler(previous_gsl_handler);
}
