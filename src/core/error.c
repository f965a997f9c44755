/* core/error.c: status strings and the error handler.
 *
 * The handler pointer is process-wide configuration, stored atomically so that setting it
 * from one thread while others report errors is safe.  The last error is thread-local so
 * that concurrent workspaces never see each other's messages. */
#include "internal.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static const char *const status_text[LATENS_NSTATUS] = {
    [LATENS_OK] = "success",
    [LATENS_EFAILED] = "failure",
    [LATENS_EINVAL] = "invalid argument",
    [LATENS_EDOM] = "argument outside domain",
    [LATENS_ENOMEM] = "out of memory",
    [LATENS_EBADLEN] = "dimensions do not agree",
    [LATENS_ENOTPOSDEF] = "matrix not positive definite",
    [LATENS_ESING] = "singular matrix",
    [LATENS_EMAXITER] = "iteration limit reached",
    [LATENS_ENOPROG] = "iteration makes no progress",
    [LATENS_ENOTFINITE] = "non-finite value",
    [LATENS_EIO] = "input/output error",
    [LATENS_EPARSE] = "malformed input",
    [LATENS_EINTERRUPTED] = "interrupted",
    [LATENS_EUNIMPL] = "not implemented",
    [LATENS_ERANGE] = "result out of range",
};

const char *latens_strerror(int status) {
  if (status < 0 || status >= LATENS_NSTATUS || !status_text[status]) return "unknown status";
  return status_text[status];
}

static void handler_off(const char *reason, const char *file, int line, int status) {
  (void)reason, (void)file, (void)line, (void)status;
}

void latens_default_error_handler(const char *reason, const char *file, int line, int status) {
  fprintf(stderr, "latens: %s:%d: %s (%s)\n", file ? file : "?", line, reason ? reason : "",
          latens_strerror(status));
}

static _Atomic(latens_error_handler_t *) current_handler = NULL; /* NULL: the default */

latens_error_handler_t *latens_set_error_handler(latens_error_handler_t *h) {
  latens_error_handler_t *old = atomic_exchange(&current_handler, h);
  return old ? old : latens_default_error_handler;
}

latens_error_handler_t *latens_set_error_handler_off(void) {
  return latens_set_error_handler(handler_off);
}

static _Thread_local int last_status = LATENS_OK;
static _Thread_local char last_reason[512];
/* Nesting depth of latens_error_quiet_begin on this thread: the handler is process-wide, so
 * silencing it by swapping the handler would silence every other thread too. */
static _Thread_local int quiet_depth = 0;

void latens_error_quiet_begin(void) { quiet_depth++; }
void latens_error_quiet_end(void) {
  if (quiet_depth > 0) quiet_depth--;
}

void latens_error(const char *reason, const char *file, int line, int status) {
  last_status = status;
  /* A caller may re-report the string latens_last_error gave it: no overlapping copy. */
  if (reason != last_reason) snprintf(last_reason, sizeof last_reason, "%s", reason ? reason : "");
  if (quiet_depth > 0) return;
  latens_error_handler_t *h = atomic_load(&current_handler);
  (h ? h : latens_default_error_handler)(last_reason, file, line, status);
}

void latens_errorf(const char *file, int line, int status, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  latens_error(buf, file, line, status);
}

int latens_last_error(const char **reason) {
  if (reason) *reason = last_reason;
  return last_status;
}

void latens_clear_error(void) {
  last_status = LATENS_OK;
  last_reason[0] = '\0';
}
