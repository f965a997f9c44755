/* core/progress.c: the one place that turns a callback's "stop" into a status. */
#include "internal.h"

int latens_progress_report(const latens_progress *p, const char *what, double done, double total) {
  if (!p || !p->fn) return LATENS_OK;
  if (p->fn(p->user, what, done, total) != 0) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINTERRUPTED, "%s: stopped by the progress callback",
                  what ? what : "work");
    return LATENS_EINTERRUPTED;
  }
  return LATENS_OK;
}
