/* sde/plugin.c: user models from shared objects (see latens_sde_model_plugin in sde.h). */
#include "sde_impl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int plugin_init_fn(latens_sde_model *);
typedef void plugin_fini_fn(latens_sde_model *);

typedef struct {
  void *handle;
  plugin_fini_fn *fini;
  latens_sde_model *model;
} plugin_priv;

static void plugin_release(void *p) {
  plugin_priv *pp = p;
  if (!pp) return;
  if (pp->fini) pp->fini(pp->model);
  /* the callbacks live in the object: close it only after fini, with the model going away */
  dlclose(pp->handle);
  free(pp);
}

latens_sde_model *latens_sde_model_plugin(const char *path) {
  const char *fn = "latens_sde_model_plugin";
  if (!path || !*path) LATENS_ERROR_NULL("latens_sde_model_plugin: path is NULL or empty", LATENS_EINVAL);
  /* dlopen searches the library path for a name without '/', so "model.so" could load some
   * other model.so (or none); a user naming a file means the file in the working directory */
  char *local = NULL;
  if (!strchr(path, '/')) {
    size_t n = strlen(path) + 3;
    if (!(local = malloc(n)))
      LATENS_ERROR_NULL("latens_sde_model_plugin: out of memory", LATENS_ENOMEM);
    snprintf(local, n, "./%s", path);
  }
  void *h = dlopen(local ? local : path, RTLD_NOW | RTLD_LOCAL);
  free(local);
  if (!h) {
    const char *e = dlerror();
    latens_errorf(__FILE__, __LINE__, LATENS_EIO, "%s: cannot load '%s': %s", fn, path, e ? e : "?");
    return NULL;
  }
  dlerror();
  plugin_init_fn *init = (plugin_init_fn *)dlsym(h, "latens_sde_plugin_init");
  if (!init) {
    const char *e = dlerror();
    latens_errorf(__FILE__, __LINE__, LATENS_EIO, "%s: '%s' has no latens_sde_plugin_init: %s", fn,
                  path, e ? e : "?");
    dlclose(h);
    return NULL;
  }
  plugin_priv *pp = calloc(1, sizeof *pp);
  latens_sde_model *md = pp ? latens_sde_model_alloc(1, 1, LATENS_SDE_NOISE_DIAGONAL, 0) : NULL;
  if (!md) {
    free(pp);
    dlclose(h);
    if (!pp) latens_error("latens_sde_model_plugin: out of memory", __FILE__, __LINE__, LATENS_ENOMEM);
    return NULL;
  }
  snprintf(md->name, sizeof md->name, "plugin");
  pp->handle = h, pp->model = md;
  pp->fini = (plugin_fini_fn *)dlsym(h, "latens_sde_plugin_fini");
  int rc = init(md);
  if (rc) {
    pp->fini = NULL; /* init failed: nothing to finalise */
    plugin_release(pp);
    latens_sde_model_free(md);
    int st = (rc > 0 && rc < LATENS_NSTATUS) ? rc : LATENS_EFAILED;
    latens_errorf(__FILE__, __LINE__, st, "%s: latens_sde_plugin_init of '%s' returned %d", fn,
                  path, rc);
    return NULL;
  }
  md->priv_ = pp, md->priv_free_ = plugin_release;
  md->name[sizeof md->name - 1] = 0; /* the plug-in wrote it: make sure it ends */
  if (latens_sde_model_check(md)) {
    latens_sde_model_free(md);
    return NULL;
  }
  return md;
}
