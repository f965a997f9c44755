/* cli/data.c: `latens data VERB` — inspecting data tables.  Verbs: describe. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char data_usage[] =
    "usage: latens data VERB [OPTIONS] FILE\n"
    "Verbs:\n"
    "  describe   size, and per column: name, type, missing count, min and max\n"
    "Run 'latens data VERB --help' for its options.\n";

static const char describe_usage[] =
    "usage: latens data describe [--delim C] [--no-header|--header] [--na TOKEN] [OPTIONS] FILE\n"
    "Read a CSV or whitespace-separated table (FILE '-' is standard input) and print its\n"
    "rows and columns and, per column, the name, type (integer, real or text), the number\n"
    "of missing cells and, for numeric columns, the minimum and maximum.\n\n"
    "Options:\n"
    "  --delim C      field separator: ',' ';' tab (or \\t) space (runs of blanks) or auto\n"
    "                 (default: the most frequent of , tab ; on the first line, else space)\n"
    "  --header       the first row holds the column names\n"
    "  --no-header    the first row is data (default: a header when it has a non-numeric cell)\n"
    "  --na TOKEN     a missing-value token; repeat for several (replaces the default NA, ? and\n"
    "                 the empty cell)\n";

enum { OPT_DELIM = 256, OPT_HEADER, OPT_NO_HEADER, OPT_NA };

typedef struct {
  latens_table_options opt;
  const char **na; /* --na tokens, at most argc of them */
  size_t n_na;
} describe_args;

static int parse_delim(const char *s, int *out) {
  if (!strcmp(s, ",") || !strcmp(s, "comma")) *out = ',';
  else if (!strcmp(s, ";") || !strcmp(s, "semicolon")) *out = ';';
  else if (!strcmp(s, "\t") || !strcmp(s, "\\t") || !strcmp(s, "tab")) *out = '\t';
  else if (!strcmp(s, " ") || !strcmp(s, "space") || !strcmp(s, "whitespace"))
    *out = LATENS_DELIM_WHITESPACE;
  else if (!strcmp(s, "auto")) *out = LATENS_DELIM_AUTO;
  else return 1;
  return 0;
}

static int handle(int val, const char *arg, void *user) {
  describe_args *a = user;
  switch (val) {
  case OPT_DELIM: return parse_delim(arg, &a->opt.delim);
  case OPT_HEADER: a->opt.header = LATENS_HEADER_YES; return 0;
  case OPT_NO_HEADER: a->opt.header = LATENS_HEADER_NO; return 0;
  case OPT_NA: a->na[a->n_na++] = arg; return 0;
  default: return 1;
  }
}

typedef struct {
  double min, max; /* NaN when the column has no number */
} range;

static range column_range(const latens_table *t, size_t j) {
  range r = {NAN, NAN};
  if (latens_table_type(t, j) == LATENS_COL_TEXT) return r;
  latens_vec v = latens_mat_column(latens_table_data(t), j);
  for (size_t i = 0; i < v.n; i++) {
    double x = LATENS_VEC(&v, i);
    if (isnan(x)) continue;
    if (!(x >= r.min)) r.min = x;
    if (!(x <= r.max)) r.max = x;
  }
  return r;
}

static int print_json(FILE *f, const latens_table *t, const char *file) {
  cli_json j;
  cli_json_begin(&j, f);
  cli_json_key(&j, "file"), cli_json_string(&j, file);
  cli_json_key(&j, "rows"), cli_json_int(&j, (long long)latens_table_nrow(t));
  cli_json_key(&j, "columns"), cli_json_int(&j, (long long)latens_table_ncol(t));
  cli_json_key(&j, "column"), cli_json_array(&j);
  for (size_t c = 0; c < latens_table_ncol(t); c++) {
    const char *name = latens_table_name(t, c);
    range r = column_range(t, c);
    cli_json_object(&j);
    cli_json_key(&j, "name"), cli_json_string(&j, name);
    cli_json_key(&j, "type"), cli_json_string(&j, latens_table_type_name(latens_table_type(t, c)));
    cli_json_key(&j, "missing"), cli_json_int(&j, (long long)latens_table_missing(t, c));
    cli_json_key(&j, "min"), cli_json_number(&j, r.min);
    cli_json_key(&j, "max"), cli_json_number(&j, r.max);
    cli_json_close(&j, '}');
  }
  cli_json_close(&j, ']');
  cli_json_end(&j);
  return 0;
}

static int width(const char *s) { /* display columns, counting UTF-8 sequences once */
  int w = 0;
  for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
  return w;
}

static void print_human(FILE *f, const latens_table *t, const char *file) {
  size_t p = latens_table_ncol(t);
  int d = latens_table_delim(t);
  fputs("file:       ", f);
  cli_fputs_printable(f, file);
  fprintf(f, "\nrows:       %zu\ncolumns:    %zu\n", latens_table_nrow(t), p);
  fprintf(f, "delimiter:  %s\nheader:     %s\n\n",
          d == ',' ? "comma" : d == ';' ? "semicolon" : d == '\t' ? "tab" : "whitespace",
          latens_table_has_header(t) ? "yes" : "no");
  int wname = 6, wmin = 3, wmax = 3;
  char lo[32], hi[32];
  for (size_t j = 0; j < p; j++) {
    range r = column_range(t, j);
    cli_format_number(lo, sizeof lo, r.min), cli_format_number(hi, sizeof hi, r.max);
    int wn = width(latens_table_name(t, j));
    wname = wn > wname ? wn : wname;
    wmin = (int)strlen(lo) > wmin ? (int)strlen(lo) : wmin;
    wmax = (int)strlen(hi) > wmax ? (int)strlen(hi) : wmax;
  }
  fprintf(f, "%-*s  %-7s  %9s  %*s  %*s\n", wname, "column", "type", "missing", wmin, "min", wmax,
          "max");
  for (size_t j = 0; j < p; j++) {
    const char *name = latens_table_name(t, j);
    range r = column_range(t, j);
    cli_format_number(lo, sizeof lo, r.min), cli_format_number(hi, sizeof hi, r.max);
    /* printf pads by bytes; pad by display width so non-ASCII names stay aligned. */
    cli_fputs_printable(f, name); /* no terminal escapes from a data file */
    fprintf(f, "%*s  %-7s  %9zu  %*s  %*s\n", wname - width(name), "",
            latens_table_type_name(latens_table_type(t, j)), latens_table_missing(t, j), wmin, lo,
            wmax, hi);
  }
}

static int describe(int argc, char **argv, cli_common *c) {
  static const struct option extra[] = {{"delim", required_argument, NULL, OPT_DELIM},
                                        {"header", no_argument, NULL, OPT_HEADER},
                                        {"no-header", no_argument, NULL, OPT_NO_HEADER},
                                        {"na", required_argument, NULL, OPT_NA},
                                        {NULL, 0, NULL, 0}};
  describe_args a = {.na = NULL};
  latens_table_options_default(&a.opt);
  if (!(a.na = malloc(((size_t)argc + 1) * sizeof *a.na)))
    return cli_fail(c, CLI_EMODEL, "out of memory");
  int first = cli_parse(argc, argv, c, extra, handle, &a, describe_usage);
  int rc = CLI_EUSAGE;
  if (first == -2) rc = CLI_OK;
  else if (first < 0) rc = CLI_EUSAGE;
  else if (first == argc) cli_fail(c, CLI_EUSAGE, "missing FILE (see --help)");
  else if (argc - first > 1)
    cli_fail(c, CLI_EUSAGE, "one FILE expected, found also '%s'",
             argv[first + 1]);
  else {
    if (a.n_na) a.opt.na = a.na, a.opt.n_na = a.n_na;
    const char *file = argv[first];
    latens_table *t = NULL;
    int status = latens_table_read(file, &a.opt, &t);
    if (status) rc = cli_fail(c, cli_exit_code(status), "%s", cli_last_error());
    else {
      cli_out *o = cli_out_open(c);
      if (o) {
        int bad = 0;
        if (c->json) bad = print_json(cli_out_stream(o), t, file);
        else print_human(cli_out_stream(o), t, file);
        if (bad) cli_fail(c, CLI_EMODEL, "out of memory");
        rc = (cli_out_close(o, !bad, c) || bad) ? CLI_EMODEL : CLI_OK;
      }
    }
    latens_table_free(t);
  }
  free(a.na);
  return rc;
}

static int run(int argc, char **argv, cli_common *c) {
  if (argc < 2) return cli_fail(c, CLI_EUSAGE, "missing verb (try 'latens data describe FILE')");
  const char *verb = argv[1];
  if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
    fputs(data_usage, stdout);
    return CLI_OK;
  }
  if (!strcmp(verb, "describe")) {
    c->prog = "latens data describe";
    return describe(argc - 1, argv + 1, c);
  }
  return cli_fail(c, CLI_EUSAGE, "unknown verb '%s' (known: describe)", verb);
}

const cli_command cli_cmd_data = {"data", "inspect a data table: data describe FILE", run};
