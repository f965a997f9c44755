/* cli/demo.c: placeholder, being written. */
#include "cli.h"
static const char usage[] = "usage: latens demo [OPTIONS]\n";
static int run(int argc, char **argv, cli_common *c) {
  int first = cli_parse(argc, argv, c, NULL, NULL, NULL, usage);
  if (first == -2) return CLI_OK;
  if (first < 0) return CLI_EUSAGE;
  return CLI_OK;
}
const cli_command cli_cmd_demo = {"demo", "run every module on the bundled real data", run};
