/* latens/common.h: status codes, the error handler, progress callbacks, build facts.
 *
 * Every latens function that can fail returns an int status (LATENS_OK on success) and,
 * before returning a failure, calls the error handler with a message that names the cause.
 * The default handler prints one line on stderr and returns: it never aborts, so R, Fortran
 * and long-running simulations survive bad input.  The handler is process-wide configuration
 * (like GSL's) and is read atomically; the last error is also kept per thread, so a caller
 * that turned the handler off can still ask what went wrong.
 */
#ifndef LATENS_COMMON_H
#define LATENS_COMMON_H

#include <stddef.h>

#if defined(LATENS_BUILDING) && defined(__GNUC__)
#define LATENS_EXPORT __attribute__((visibility("default")))
#else
#define LATENS_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes.  Stable numbers: the bindings and the CLI map them. */
enum {
  LATENS_OK = 0,
  LATENS_EFAILED = 1,      /* generic failure */
  LATENS_EINVAL = 2,       /* invalid argument (a NULL pointer, a size of zero, ...) */
  LATENS_EDOM = 3,         /* argument outside the function's domain */
  LATENS_ENOMEM = 4,       /* allocation failed */
  LATENS_EBADLEN = 5,      /* dimensions do not agree */
  LATENS_ENOTPOSDEF = 6,   /* matrix not positive definite (even after jitter) */
  LATENS_ESING = 7,        /* singular matrix */
  LATENS_EMAXITER = 8,     /* iteration limit reached before convergence */
  LATENS_ENOPROG = 9,      /* iteration makes no progress */
  LATENS_ENOTFINITE = 10,  /* NaN or Inf where a finite number is required */
  LATENS_EIO = 11,         /* file could not be opened, read or written */
  LATENS_EPARSE = 12,      /* malformed input data */
  LATENS_EINTERRUPTED = 13,/* the progress callback asked to stop */
  LATENS_EUNIMPL = 14,     /* not implemented for this combination of options */
  LATENS_ERANGE = 15,      /* result not representable */
  LATENS_NSTATUS = 16
};

/* A short English description of a status code; never NULL. */
LATENS_EXPORT const char *latens_strerror(int status);

/* Error handler: called with the message, the source file and line where the error was
 * detected, and the status.  It must return (or longjmp out, at the caller's risk). */
typedef void latens_error_handler_t(const char *reason, const char *file, int line, int status);

/* Install a handler (NULL restores the default).  Returns the previous handler. */
LATENS_EXPORT latens_error_handler_t *latens_set_error_handler(latens_error_handler_t *h);
/* Turn reporting off (errors are still returned and recorded per thread).  Returns the previous. */
LATENS_EXPORT latens_error_handler_t *latens_set_error_handler_off(void);
/* The default handler: prints "latens: FILE:LINE: REASON (STATUS TEXT)" on stderr, returns. */
LATENS_EXPORT void latens_default_error_handler(const char *reason, const char *file, int line,
                                                int status);

/* Report an error: records it for this thread and calls the current handler. */
LATENS_EXPORT void latens_error(const char *reason, const char *file, int line, int status);
/* As latens_error, with a printf-style message (truncated at 512 bytes). */
LATENS_EXPORT void latens_errorf(const char *file, int line, int status, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* The last error recorded on this thread: its status (LATENS_OK if none since the last
 * latens_clear_error) and message ("" if none).  The string lives until the next error on
 * this thread. */
LATENS_EXPORT int latens_last_error(const char **reason);
LATENS_EXPORT void latens_clear_error(void);
/* Quiet sections, per thread and nestable: between begin and end, errors raised on this thread
 * are recorded (latens_last_error) but not passed to the handler.  For code that probes trial
 * points expected to fail (an optimiser's line search, a Cholesky test) without silencing the
 * process-wide handler for other threads.  Every begin needs its end. */
LATENS_EXPORT void latens_error_quiet_begin(void);
LATENS_EXPORT void latens_error_quiet_end(void);

/* Report and return from the calling function. */
#define LATENS_ERROR(reason, status)                                                          \
  do {                                                                                        \
    latens_error((reason), __FILE__, __LINE__, (status));                                     \
    return (status);                                                                          \
  } while (0)
#define LATENS_ERROR_VAL(reason, status, value)                                               \
  do {                                                                                        \
    latens_error((reason), __FILE__, __LINE__, (status));                                     \
    return (value);                                                                           \
  } while (0)
#define LATENS_ERROR_NULL(reason, status) LATENS_ERROR_VAL(reason, status, NULL)
#define LATENS_ERRORF(status, ...)                                                            \
  do {                                                                                        \
    latens_errorf(__FILE__, __LINE__, (status), __VA_ARGS__);                                 \
    return (status);                                                                          \
  } while (0)

/* Progress of long work.  `done` of `total` units (total 0 when unknown); `what` names the
 * stage ("em", "pc-stable depth 2", ...).  Return 0 to continue, non-zero to stop: the
 * routine then cleans up and returns LATENS_EINTERRUPTED.  Called from one thread only,
 * at most every few milliseconds of work. */
typedef int latens_progress_fn(void *user, const char *what, double done, double total);
typedef struct {
  latens_progress_fn *fn; /* may be NULL: no reporting */
  void *user;
} latens_progress;

/* Call p->fn if set; returns LATENS_EINTERRUPTED (and reports it) if it asked to stop. */
LATENS_EXPORT int latens_progress_report(const latens_progress *p, const char *what, double done,
                                         double total);

/* Build facts, for `latens --version` and the bindings. */
LATENS_EXPORT const char *latens_version(void);      /* "0.1.0" */
LATENS_EXPORT const char *latens_blas_name(void);    /* "openblas" or "gsl" (configure time) */
LATENS_EXPORT const char *latens_blas_runtime(void); /* shared object providing cblas_dgemm */
LATENS_EXPORT int latens_have_openmp(void);
LATENS_EXPORT int latens_have_mpi(void);
LATENS_EXPORT int latens_max_threads(void); /* omp_get_max_threads(), or 1 */
LATENS_EXPORT int latens_sundials_version_major(void);

#ifdef __cplusplus
}
#endif
#endif
