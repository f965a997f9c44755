/* latens_r.h: helpers shared by the R package's glue files (r_*.c).
 *
 * Error pattern.  Rf_error longjmps, so C memory must be released before it is called:
 *
 *   char err[LATENS_R_ERRLEN];
 *   int status = latens_something(...);
 *   if (status) latens_r_format_error(status, err, sizeof err);
 *   ...free C memory, UNPROTECT...
 *   if (status) Rf_error("%s", err);
 *
 * Interrupts.  R_CheckUserInterrupt longjmps too, which must never happen inside the C
 * library (it would leak its workspaces and skip its clean-up).  latens_r_progress_init gives
 * a latens_progress whose callback probes for an interrupt under R_ToplevelExec and asks the
 * library to stop; the library returns LATENS_EINTERRUPTED, the caller frees and raises the
 * error.  The callback is only ever called from the thread that called the library.
 */
#ifndef LATENS_R_H
#define LATENS_R_H

#define R_NO_REMAP
#include <stddef.h>
#include <stdint.h>
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>
#include <latens/latens.h>

#define LATENS_R_ERRLEN 1024

/* Registration tables, one per glue file, each ending with {NULL, NULL, 0}. */
extern const R_CallMethodDef latens_r_core_calls[], latens_r_pc_calls[], latens_r_gp_calls[],
    latens_r_sde_calls[], latens_r_causal_calls[];

/* ---------------------------------------------------------------- errors (r_util.c) */

/* Writes the library's last error on this thread (latens_last_error) into buf, falling back
 * to latens_strerror(status) when none was recorded.  Call right after the failing call,
 * before any other latens call can overwrite the record. */
void latens_r_format_error(int status, char *buf, size_t n);
/* Formats the last error and raises it (for callers that own no C memory). */
void latens_r_fail(int status) __attribute__((noreturn));

/* ---------------------------------------------------------------- arguments (r_util.c)
 * All raise an R error naming `what` on bad input; none allocates C memory. */

/* x as a double matrix: returned as is when already a double matrix (no copy), else coerced
 * (a vector becomes a one-column matrix).  The caller PROTECTs the result.  Sets *nrow and
 * *ncol.  Integer and logical NA become NaN, which the library reads as missing or rejects. */
SEXP latens_r_as_matrix(SEXP x, const char *what, int *nrow, int *ncol);
/* x as a double vector (no copy when already double); the caller PROTECTs. */
SEXP latens_r_as_vector(SEXP x, const char *what);
/* A column-major view of a double matrix returned by latens_r_as_matrix. */
latens_mat latens_r_mat_view(SEXP x);
/* One finite number / a whole number in [lo, hi] / TRUE or FALSE / a string. */
double latens_r_double(SEXP x, const char *what);
int latens_r_int(SEXP x, const char *what, int lo, int hi);
int latens_r_flag(SEXP x, const char *what);
const char *latens_r_string(SEXP x, const char *what);
/* A seed: a whole number in [0, 2^53). */
uint64_t latens_r_seed(SEXP x, const char *what);

/* ---------------------------------------------------------------- results (r_util.c) */

/* A list with the given names (n entries, all NULL); the caller PROTECTs. */
SEXP latens_r_named_list(int n, const char *const *names);
/* A fresh double matrix copied from m (any ld); the caller PROTECTs. */
SEXP latens_r_matrix_from(const latens_mat *m);
/* The hyperparameters of k as a double vector named by the kernel; the caller PROTECTs. */
SEXP latens_r_gp_params(const latens_gp_kernel *k);

/* ---------------------------------------------------------------- progress (r_util.c) */

typedef struct {
  int interrupted; /* set when the user pressed Ctrl-C during the call */
} latens_r_interrupt;

/* A progress callback bridge that stops the library on a user interrupt. */
latens_progress latens_r_progress_init(latens_r_interrupt *state);

/* ---------------------------------------------------------------- external pointers (r_util.c)
 * A handle is an external pointer with a tag symbol naming its type and a finaliser that
 * frees the C object when R collects it (and at exit).  A handle saved with save() comes back
 * with a NULL address: latens_r_handle reports that plainly instead of crashing. */

/* Wraps p (owned from now on by R) with tag `type` and finaliser fin; the caller PROTECTs. */
SEXP latens_r_handle_new(void *p, const char *type, R_CFinalizer_t fin);
/* The C object behind handle x of type `type`, or an R error naming `what`. */
void *latens_r_handle(SEXP x, const char *type, const char *what);

/* Defines a finaliser `name` that frees a handle's object with freefn exactly once. */
#define LATENS_R_FINALIZER(name, ctype, freefn)                                               \
  static void name(SEXP x) {                                                                  \
    ctype *p_ = (ctype *)R_ExternalPtrAddr(x);                                                \
    if (p_) {                                                                                 \
      freefn(p_);                                                                             \
      R_ClearExternalPtr(x);                                                                  \
    }                                                                                         \
  }

#endif
