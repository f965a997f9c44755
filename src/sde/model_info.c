/* sde/model_info.c: a description of the built-in models for front ends (parameter names,
 * defaults, domains), read off the models the constructor builds so that the two can never
 * disagree. */
#include "infer_impl.h"

#include <stdio.h>
#include <string.h>

int latens_sde_model_info_get(const char *name, latens_sde_model_info *info) {
  static const char fn[] = "latens_sde_model_info_get";
  if (!name || !info) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  latens_sde_model *md = latens_sde_model_builtin(name, NULL, 0);
  if (!md) return latens_last_error(NULL); /* the constructor named the known models */
  int s = LATENS_OK;
  if (md->ntheta > LATENS_SDE_INFO_MAXPARAM || md->d > LATENS_SDE_INFO_MAXDIM) {
    s = LATENS_EBADLEN;
    latens_errorf(__FILE__, __LINE__, s, "%s: model '%s' has %zu parameters and %zu states "
                  "(the table holds %d and %d)", fn, name, md->ntheta, md->d,
                  LATENS_SDE_INFO_MAXPARAM, LATENS_SDE_INFO_MAXDIM);
  } else {
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", md->name);
    info->d = md->d, info->m = md->m, info->ntheta = md->ntheta, info->noise = md->noise;
    info->linear = md->linear != NULL;
    for (size_t k = 0; k < md->ntheta; k++) {
      snprintf(info->theta_name[k], sizeof info->theta_name[k], "%s", md->theta_name[k]);
      info->theta_default[k] = md->theta[k];
      info->theta_lo[k] = md->theta_lo[k], info->theta_hi[k] = md->theta_hi[k];
    }
    memcpy(info->x0, md->x0, md->d * sizeof *info->x0);
  }
  latens_sde_model_free(md);
  return s;
}
