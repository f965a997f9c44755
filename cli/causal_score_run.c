/* cli/causal_score_run.c: `latens causal ges|lingam|cumulant|notears`, and `--bootstrap B`
 * for every method (the score-based part's latens/causal_score.h, public API only). */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include "causal_cli.h"

/* PC and FCI as bootstrap methods (user: the causal_args). */
static int method_ci(const latens_causal_data *d, void *user, latens_rng *rng, latens_causal_graph **out,
                     int fci) {
  const causal_args *a = user;
  (void)rng;
  latens_causal_citest *t = latens_causal_citest_alloc(d, a->test, fci);
  if (!t) return LATENS_EINVAL;
  latens_causal_pc_options o = a->opt;
  o.threads = 1; /* the replicates already run in parallel */
  int st = fci ? latens_causal_fci(t, NULL, &o, NULL, out) : latens_causal_pc(t, NULL, &o, NULL, out);
  latens_causal_citest_free(t);
  return st;
}
static int method_pc(const latens_causal_data *d, void *u, latens_rng *r, latens_causal_graph **o) {
  return method_ci(d, u, r, o, 0);
}
static int method_fci(const latens_causal_data *d, void *u, latens_rng *r, latens_causal_graph **o) {
  return method_ci(d, u, r, o, 1);
}

static const char *const boot_type[LATENS_CAUSAL_BOOT_NTYPES] = {"-->", "---", "<->", "o->", "o-o", "--o"};

static int write_boot(const cli_common *c, const latens_causal_data *d,
                      const latens_causal_bootstrap_result *r) {
  cli_out *o = cli_out_open(c);
  if (!o) return CLI_EUSAGE;
  FILE *f = cli_out_stream(o);
  size_t p = r->p;
  cli_json j;
  if (c->json) {
    cli_json_begin(&j, f);
    cli_json_key(&j, "replicates"), cli_json_int(&j, (long long)r->replicates);
    cli_json_key(&j, "failed"), cli_json_int(&j, (long long)r->failed);
    cli_json_key(&j, "nodes"), cli_json_array(&j);
    for (size_t i = 0; i < p; i++) cli_json_string(&j, latens_causal_data_name(d, i));
    cli_json_close(&j, ']');
    cli_json_key(&j, "edges"), cli_json_array(&j);
  } else {
    fprintf(f, "from,to,type,frequency\n");
  }
  for (int t = 0; t < LATENS_CAUSAL_BOOT_NTYPES; t++)
    for (size_t i = 0; i < p; i++)
      for (size_t k = 0; k < p; k++) {
        double fr = r->freq[((size_t)t * p + k) * p + i];
        if (fr <= 0) continue;
        if (c->json) {
          cli_json_object(&j);
          cli_json_key(&j, "from"), cli_json_string(&j, latens_causal_data_name(d, i));
          cli_json_key(&j, "to"), cli_json_string(&j, latens_causal_data_name(d, k));
          cli_json_key(&j, "type"), cli_json_string(&j, boot_type[t]);
          cli_json_key(&j, "frequency"), cli_json_number(&j, fr);
          cli_json_close(&j, '}');
        } else {
          cli_fputs_printable(f, latens_causal_data_name(d, i));
          fputc(',', f);
          cli_fputs_printable(f, latens_causal_data_name(d, k));
          char num[32];
          cli_format_number(num, sizeof num, fr);
          fprintf(f, ",%s,%s\n", boot_type[t], num);
        }
      }
  if (c->json) {
    cli_json_close(&j, ']');
    cli_json_key(&j, "latent_nodes"), cli_json_array(&j), cli_json_close(&j, ']');
    cli_json_end(&j);
  }
  return cli_out_close(o, 1, c) ? CLI_EMODEL : CLI_OK;
}

int causal_bootstrap_run(const cli_common *c, causal_args *a, const latens_causal_data *d,
                         latens_causal_method_fn *fn, void *user) {
  latens_rng rng;
  latens_rng_init(&rng, c->seed, 0);
  latens_causal_bootstrap_result *r = NULL;
  cli_progress bar;
  cli_progress_init(&bar, c);
  int st = latens_causal_bootstrap(d, fn, user ? user : (void *)a, (size_t)a->bootstrap, &rng, c->threads,
                                   &bar.p, &r);
  cli_progress_done(&bar);
  if (st) return cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
  int rc = write_boot(c, d, r);
  latens_causal_bootstrap_result_free(r);
  return rc;
}

int causal_ci_bootstrap(const cli_common *c, causal_args *a, const latens_causal_data *d, int fci) {
  return causal_bootstrap_run(c, a, d, fci ? method_fci : method_pc, a);
}

int causal_score_run(const cli_common *c, const causal_args *a0, const char *algo) {
  causal_args a = *a0;
  if (!a.data) return cli_fail(c, CLI_EUSAGE, "missing --data FILE (see --help)");
  if (a.knowledge) return cli_fail(c, CLI_EUSAGE, "--knowledge is used by pc and fci only");
  if (a.ica && strcmp(algo, "lingam")) return cli_fail(c, CLI_EUSAGE, "--ica goes with lingam only");
  int ges = !strcmp(algo, "ges");
  if (a.discrete && !ges) return cli_fail(c, CLI_EUSAGE, "%s needs continuous data (drop --discrete)", algo);
  latens_causal_data *d = NULL;
  int rc = causal_load_data(c, a.data, a.discrete, &d);
  if (rc) return rc;
  latens_causal_lingam_options lo;
  latens_causal_cumulant_options co;
  latens_causal_notears_options no;
  latens_causal_ges_options go;
  latens_causal_lingam_options_default(&lo);
  latens_causal_cumulant_options_default(&co);
  latens_causal_notears_options_default(&no);
  latens_causal_ges_options_default(&go);
  lo.threads = c->threads;
  latens_causal_method_fn *fn = ges ? latens_causal_method_ges
                                : !strcmp(algo, "lingam") ? (a.ica ? latens_causal_method_ica_lingam
                                                                   : latens_causal_method_direct_lingam)
                                : !strcmp(algo, "cumulant") ? latens_causal_method_cumulant
                                                            : latens_causal_method_notears;
  void *user = ges ? (void *)&go : !strcmp(algo, "lingam") ? (void *)&lo
               : !strcmp(algo, "cumulant") ? (void *)&co : (void *)&no;
  if (a.bootstrap) {
    rc = causal_bootstrap_run(c, &a, d, fn, user);
  } else {
    latens_causal_graph *g = NULL;
    latens_rng rng;
    latens_rng_init(&rng, c->seed, 0);
    cli_progress bar;
    cli_progress_init(&bar, c);
    int st = fn(d, user, &rng, &g);
    cli_progress_done(&bar);
    if (st) rc = cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
    else rc = causal_write_graph(c, &a, g);
    latens_causal_graph_free(g);
  }
  latens_causal_data_free(d);
  return rc;
}
