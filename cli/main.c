/* cli/main.c: `latens SUBCOMMAND ...` — dispatch, --help and --version. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include "cli.h"

/* Adding a module's commands: write cli/MODULE.c and add one line here. */
static const cli_command *const commands[] = {
    &cli_cmd_data,
    &cli_cmd_pc,
    &cli_cmd_gp,
    &cli_cmd_sde,
    &cli_cmd_causal,
    &cli_cmd_demo,
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

static void print_help(FILE *f) {
  fputs("usage: latens [--help | --version] SUBCOMMAND [OPTIONS] [ARGS]\n\n"
        "Probabilistic and causal latent-variable modelling with tractable inference.\n\n"
        "Subcommands:\n",
        f);
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
  fputs("\nRun 'latens SUBCOMMAND --help' for its options.  Exit status: 0 success,\n"
        "1 modelling failure, 2 bad usage or bad input.\n",
        f);
}

static void print_version(void) {
  printf("latens %s\n", latens_version());
  printf("BLAS: %s (runtime: %s)\n", latens_blas_name(), latens_blas_runtime());
  printf("OpenMP: %s", latens_have_openmp() ? "yes" : "no");
  if (latens_have_openmp()) printf(" (%d threads)", latens_max_threads());
  printf("\nMPI: %s\n", latens_have_mpi() ? "yes" : "no");
  printf("SUNDIALS: %d.x\n", latens_sundials_version_major());
}

/* The CLI owns its process, so it may silence GSL's aborting handler: every GSL status is
 * checked by latens itself. */
static void install_handlers(void) {
  gsl_set_error_handler_off();
  latens_set_error_handler_off(); /* the CLI prints one line from latens_last_error */
}

int main(int argc, char **argv) {
  install_handlers();
  if (argc < 2) {
    fputs("latens: no subcommand given (see latens --help)\n", stderr);
    return CLI_EUSAGE;
  }
  const char *name = argv[1];
  if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
    print_help(stdout);
    return CLI_OK;
  }
  if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
    print_version();
    return CLI_OK;
  }
  for (size_t i = 0; i < NCOMMANDS; i++) {
    if (strcmp(name, commands[i]->name) != 0) continue;
    char prog[64];
    snprintf(prog, sizeof prog, "latens %s", name);
    cli_common common = {.seed = 1, .prog = prog};
    return commands[i]->run(argc - 1, argv + 1, &common);
  }
  if (name[0] == '-') fprintf(stderr, "latens: unknown option '%s' (see latens --help)\n", name);
  else fprintf(stderr, "latens: unknown subcommand '%s' (see latens --help)\n", name);
  return CLI_EUSAGE;
}
