/* cli/cli.h: the frame every `latens SUBCOMMAND` file plugs into.
 *
 * Exit status: 0 success, 1 modelling failure, 2 bad usage or bad input; on failure exactly
 * one clear line on stderr ("latens data describe: x.csv:17:4: expected a number ...").
 * Adding a subcommand = one file defining a cli_command and one line in main.c's table. */
#ifndef LATENS_CLI_H
#define LATENS_CLI_H

#include <getopt.h>
#include <stdio.h>
#include <latens/latens.h>

enum { CLI_OK = 0, CLI_EMODEL = 1, CLI_EUSAGE = 2 };

/* Flags every subcommand accepts. */
typedef struct {
  unsigned long seed;  /* --seed N (default 1) */
  int threads;         /* --threads N (0: OpenMP default) */
  int quiet;           /* --quiet: no progress, no chatter on stderr */
  int json;            /* --json: one JSON object on stdout */
  const char *output;  /* -o FILE: written atomically (temp file + rename) */
  const char *prog;    /* "latens data describe", for messages */
} cli_common;

typedef struct {
  const char *name;    /* "data" */
  const char *summary; /* one line for `latens --help` */
  int (*run)(int argc, char **argv, cli_common *common); /* argv[0] is the subcommand name */
} cli_command;

/* Options of a subcommand: its own long options plus the common ones, anywhere on the line
 * (GNU getopt permutes operands to the end; "--" ends the options).  `extra` is
 * terminated by a zeroed entry; each extra option's `val` must be >= 256.  An extra option
 * whose name is one character is a short option (`{"n", required_argument, NULL, OPT_N}`
 * accepts `-n 5`, `-n5` and `--n 5`); -o is always --output.  Calls
 * handle(val, optarg, user) for each extra option (return non-zero for a usage error);
 * returns the index of the first operand, or -1 after printing a usage error line,
 * or -2 when --help was given (usage printed to stdout). */
int cli_parse(int argc, char **argv, cli_common *c, const struct option *extra,
              int (*handle)(int val, const char *arg, void *user), void *user, const char *usage);

/* One-line error on stderr: "PROG: message".  Returns `code` for `return cli_fail(...)`. */
int cli_fail(const cli_common *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Map a library status to an exit code: EPARSE/EIO/EINVAL/EDOM/EBADLEN/ENOTFINITE -> 2
 * (bad input), others -> 1 (modelling failure). */
int cli_exit_code(int status);
/* The library's last error on this thread, for cli_fail messages. */
const char *cli_last_error(void);

/* Parse helpers: strict, whole-string, range-checked.  Return 0 on success. */
int cli_parse_ulong(const char *s, unsigned long *out);
int cli_parse_int(const char *s, int lo, int hi, int *out);
int cli_parse_double(const char *s, double *out);

/* The shortest of %.15g..%.17g that reads back exactly (1469.1, not 1469.0999999999999);
 * NaN as "-". */
void cli_format_number(char *buf, size_t n, double x);
/* fputs with control bytes shown as '?': names from data files never reach a terminal raw. */
void cli_fputs_printable(FILE *f, const char *s);

/* Where results go: stdout, or -o FILE through an atomic writer.  cli_out_close commits
 * (ok != 0) or discards (ok == 0) and returns 0 on success. */
typedef struct cli_out cli_out;
cli_out *cli_out_open(const cli_common *c);
FILE *cli_out_stream(cli_out *o);
int cli_out_close(cli_out *o, int ok, const cli_common *c);

/* Minimal JSON writer (valid, escaped, no trailing commas). */
typedef struct {
  FILE *f;
  int depth;
  int first[32]; /* whether the next member at each depth is the first */
} cli_json;
void cli_json_begin(cli_json *j, FILE *f);        /* writes "{" */
void cli_json_end(cli_json *j);                   /* writes "}\n" */
void cli_json_key(cli_json *j, const char *key);  /* inside an object */
void cli_json_object(cli_json *j);                /* value: opens "{" */
void cli_json_array(cli_json *j);                 /* value: opens "[" */
void cli_json_close(cli_json *j, char closer);    /* '}' or ']' */
void cli_json_string(cli_json *j, const char *s); /* value */
void cli_json_number(cli_json *j, double x);      /* value: non-finite written as null */
void cli_json_int(cli_json *j, long long x);      /* value */
void cli_json_bool(cli_json *j, int b);           /* value */
void cli_json_null(cli_json *j);                  /* value */

/* A progress callback that draws a bar on stderr when stderr is a terminal and --quiet is
 * not set; otherwise a no-op.  Pass &bar->p to library routines; cli_progress_done clears. */
typedef struct {
  latens_progress p;
  int enabled;
  double last_time;
  char last_what[64];
} cli_progress;
void cli_progress_init(cli_progress *bar, const cli_common *c);
void cli_progress_done(cli_progress *bar);

/* A group of subcommands (`latens pc loglik ...`): argv[0] is the group's name, argv[1] the
 * subcommand; sets c->prog to "latens GROUP SUB" and runs it; --help lists `subs`. */
int cli_group_run(int argc, char **argv, cli_common *c, const char *summary,
                  const cli_command *const *subs, size_t n);

/* Top-level subcommands. */
extern const cli_command cli_cmd_data;
extern const cli_command cli_cmd_demo;
extern const cli_command cli_cmd_pc;
extern const cli_command cli_cmd_gp;
extern const cli_command cli_cmd_sde;
extern const cli_command cli_cmd_causal;

/* Each module's subcommands (cli/MODULE_*.c); their group tables are in cli/MODULE.c. */
extern const cli_command cli_pc_learn, cli_pc_loglik, cli_pc_marginal, cli_pc_conditional,
    cli_pc_map, cli_pc_sample;
extern const cli_command cli_gp_fit, cli_gp_loglik, cli_gp_smooth, cli_gp_predict, cli_gp_gpfa;
extern const cli_command cli_sde_simulate, cli_sde_filter, cli_sde_smooth, cli_sde_fit;
extern const cli_command cli_causal_pc, cli_causal_fci, cli_causal_ges, cli_causal_lingam,
    cli_causal_cumulant, cli_causal_notears, cli_causal_compare;

/* A module's part of `latens demo`: reads its files from the bundled data folder `dir`,
 * writes its section to `out` as text, or, when j is non-NULL, one member
 * `"MODULE": {...}` of the open JSON object j (then `out` is not used).  Returns a CLI_ code
 * after cli_fail on failure. */
int cli_demo_pc(const cli_common *c, const char *dir, FILE *out, cli_json *j);
int cli_demo_gp(const cli_common *c, const char *dir, FILE *out, cli_json *j);
int cli_demo_sde(const cli_common *c, const char *dir, FILE *out, cli_json *j);
int cli_demo_causal(const cli_common *c, const char *dir, FILE *out, cli_json *j);

#endif
