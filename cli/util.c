/* cli/util.c: option parsing, error lines, atomic output, JSON and the progress bar. */
#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "cli.h"

enum { OPT_SEED = 1, OPT_THREADS, OPT_QUIET, OPT_JSON, OPT_HELP, OPT_OUTPUT = 'o' };

static const struct option common_options[] = {
    {"seed", required_argument, NULL, OPT_SEED},   {"threads", required_argument, NULL, OPT_THREADS},
    {"quiet", no_argument, NULL, OPT_QUIET},       {"json", no_argument, NULL, OPT_JSON},
    {"output", required_argument, NULL, OPT_OUTPUT}, {"help", no_argument, NULL, OPT_HELP},
};
#define NCOMMON (sizeof common_options / sizeof *common_options)

const char *const cli_common_usage =
    "Common options:\n"
    "  --seed N       random seed (default 1); results do not depend on --threads\n"
    "  --threads N    worker threads (default: all cores)\n"
    "  --quiet        no progress bar or chatter on stderr\n"
    "  --json         print one JSON object on stdout\n"
    "  -o, --output FILE  write the result to FILE (atomically) instead of stdout\n"
    "  --help         this help\n";

/* --threads: OpenMP's pool and, when the BLAS is OpenBLAS (Debian ships its pthread
 * build, which ignores OpenMP's setting), OpenBLAS's own pool. */
static void set_threads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  void (*openblas_set)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
  if (openblas_set) openblas_set(n);
}

int cli_parse(int argc, char **argv, cli_common *c, const struct option *extra,
              int (*handle)(int val, const char *arg, void *user), void *user, const char *usage) {
  size_t nextra = 0;
  while (extra && extra[nextra].name) nextra++;
  struct option *opts = calloc(NCOMMON + nextra + 1, sizeof *opts);
  if (!opts) return cli_fail(c, CLI_EMODEL, "out of memory"), -1;
  memcpy(opts, common_options, sizeof common_options);
  if (nextra) memcpy(opts + NCOMMON, extra, nextra * sizeof *opts);

  /* Short options: -o, and every extra option whose name is one character (`-n 5`). */
  char shorts[2 * 32 + 8] = ":o:";
  size_t ns = 3;
  for (size_t i = 0; i < nextra && ns + 2 < sizeof shorts; i++) {
    if (strlen(extra[i].name) != 1) continue;
    shorts[ns++] = extra[i].name[0];
    if (extra[i].has_arg == required_argument) shorts[ns++] = ':';
  }
  shorts[ns] = '\0';

  int result = -1;
  opterr = 0;
  optind = 1;
  for (;;) {
    int longindex = -1;
    int val = getopt_long(argc, argv, shorts, opts, &longindex);
    if (val == -1) {
      result = optind;
      break;
    }
    for (size_t i = 0; i < nextra && longindex < 0 && val > 0 && val < 256; i++)
      if (extra[i].name[0] == val && extra[i].name[1] == '\0')
        longindex = (int)(NCOMMON + i), val = extra[i].val;
    const char *flag = longindex >= 0 ? opts[longindex].name : NULL;
    if (val == '?') {
      /* glibc sets optopt to the option's val (1..5 for the common long options) when a
       * long option that takes no value is given one: print the word, not the byte. */
      const char *word = argv[optind - 1];
      if (!strncmp(word, "--", 2) && strchr(word, '='))
        cli_fail(c, CLI_EUSAGE, "option '%.*s' takes no value", (int)(strchr(word, '=') - word), word);
      else if (optopt > ' ' && optopt < 127 && word[0] == '-' && word[1] != '-')
        cli_fail(c, CLI_EUSAGE, "unknown option '-%c' (see --help)", optopt);
      else cli_fail(c, CLI_EUSAGE, "unknown option '%s' (see --help)", word);
      break;
    }
    if (val == ':') {
      cli_fail(c, CLI_EUSAGE, "option '%s' needs a value", argv[optind - 1]);
      break;
    }
    if (val == OPT_SEED) {
      if (cli_parse_ulong(optarg, &c->seed)) {
        cli_fail(c, CLI_EUSAGE, "--seed expects a non-negative integer, found \"%s\"", optarg);
        break;
      }
    } else if (val == OPT_THREADS) {
      if (cli_parse_int(optarg, 1, 4096, &c->threads)) {
        cli_fail(c, CLI_EUSAGE, "--threads expects an integer from 1 to 4096, found \"%s\"", optarg);
        break;
      }
    } else if (val == OPT_QUIET) c->quiet = 1;
    else if (val == OPT_JSON) c->json = 1;
    else if (val == OPT_OUTPUT) c->output = optarg;
    else if (val == OPT_HELP) {
      fputs(usage, stdout);
      fputs(cli_common_usage, stdout);
      result = -2;
      break;
    } else if (!handle || handle(val, optarg, user)) {
      if (flag) cli_fail(c, CLI_EUSAGE, "bad value \"%s\" for --%s", optarg ? optarg : "", flag);
      break;
    }
  }
  free(opts);
  if (result >= 0 && c->threads > 0) set_threads(c->threads);
  return result;
}

int cli_fail(const cli_common *c, int code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* One line: fold any newline the message carries. */
  for (char *p = msg; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  fprintf(stderr, "%s: %s\n", c && c->prog ? c->prog : "latens", msg);
  return code;
}

int cli_exit_code(int status) {
  switch (status) {
  case LATENS_OK: return CLI_OK;
  case LATENS_EPARSE: case LATENS_EIO: case LATENS_EINVAL: case LATENS_EDOM: case LATENS_EBADLEN:
  case LATENS_ENOTFINITE:
    return CLI_EUSAGE;
  default: return CLI_EMODEL;
  }
}

const char *cli_last_error(void) {
  const char *why = "";
  latens_last_error(&why);
  return why && *why ? why : "unknown error";
}

int cli_parse_ulong(const char *s, unsigned long *out) {
  /* strtoul skips blanks and accepts a sign: " -5" would become 2^64 - 5. */
  if (!s || !(*s >= '0' && *s <= '9')) return 1;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end) return 1;
  *out = v;
  return 0;
}

int cli_parse_int(const char *s, int lo, int hi, int *out) {
  if (!s || !*s) return 1;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < lo || v > hi) return 1;
  *out = (int)v;
  return 0;
}

int cli_parse_double(const char *s, double *out) {
  if (!s || !*s) return 1;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || !isfinite(v)) return 1;
  *out = v;
  return 0;
}

struct cli_out {
  latens_atomic_file *atomic; /* NULL: stdout */
};

cli_out *cli_out_open(const cli_common *c) {
  cli_out *o = calloc(1, sizeof *o);
  if (!o) return cli_fail(c, CLI_EMODEL, "out of memory"), NULL;
  if (c->output && strcmp(c->output, "-") != 0) {
    o->atomic = latens_atomic_open(c->output);
    if (!o->atomic) {
      cli_fail(c, CLI_EUSAGE, "%s", cli_last_error());
      free(o);
      return NULL;
    }
  }
  return o;
}

FILE *cli_out_stream(cli_out *o) { return o->atomic ? latens_atomic_stream(o->atomic) : stdout; }

int cli_out_close(cli_out *o, int ok, const cli_common *c) {
  if (!o) return 0;
  int rc = 0;
  if (o->atomic) {
    if (ok) {
      /* EIO -> 2, as when -o cannot be opened: the output path is the caller's input. */
      if (latens_atomic_commit(o->atomic) != LATENS_OK)
        rc = cli_fail(c, cli_exit_code(LATENS_EIO), "%s", cli_last_error());
    } else latens_atomic_abort(o->atomic);
  } else if (fflush(stdout) != 0 || ferror(stdout)) {
    rc = cli_fail(c, CLI_EMODEL, "writing to standard output failed");
  }
  free(o);
  return rc;
}

/* ---- JSON */
static void json_sep(cli_json *j) {
  if (j->depth > 0 && j->depth < 32) {
    if (!j->first[j->depth]) fputc(',', j->f);
    j->first[j->depth] = 0;
  }
}
static void json_open(cli_json *j, char opener) {
  fputc(opener, j->f);
  if (j->depth < 31) j->depth++;
  j->first[j->depth] = 1;
}
void cli_json_begin(cli_json *j, FILE *f) {
  memset(j, 0, sizeof *j);
  j->f = f;
  json_open(j, '{');
}
void cli_json_end(cli_json *j) {
  cli_json_close(j, '}');
  fputc('\n', j->f);
}
/* Length of the well-formed UTF-8 sequence at p (1..4), or 0 if it is not one. */
static int utf8_len(const unsigned char *p) {
  if (p[0] < 0x80) return 1;
  if (p[0] > 0xf4) return 0;
  int n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 && p[0] < 0xe0 ? 2 : 0;
  for (int i = 1; i < n; i++)
    if ((p[i] & 0xc0) != 0x80) return 0;
  if (n == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))) return 0;
  if (n == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))) return 0;
  return n;
}

/* JSON must be valid UTF-8: bytes that are not (a Latin-1 file name, say) become U+FFFD. */
static void json_raw_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
    int n = utf8_len(p);
    if (n == 0) fputs("\\ufffd", f), n = 1;
    else if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if (*p == '\n') fputs("\\n", f);
    else if (*p == '\t') fputs("\\t", f);
    else if (*p == '\r') fputs("\\r", f);
    else if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\u%04x", *p);
    else fwrite(p, 1, (size_t)n, f);
    p += n;
  }
  fputc('"', f);
}
void cli_json_key(cli_json *j, const char *key) {
  json_sep(j);
  json_raw_string(j->f, key);
  fputc(':', j->f);
  if (j->depth < 32) j->first[j->depth] = -1; /* the value that follows needs no comma */
}
/* A value: after a key no separator, inside an array a comma between elements. */
static void json_value_sep(cli_json *j) {
  if (j->depth < 32 && j->first[j->depth] == -1) j->first[j->depth] = 0;
  else json_sep(j);
}
void cli_json_object(cli_json *j) { json_value_sep(j); json_open(j, '{'); }
void cli_json_array(cli_json *j) { json_value_sep(j); json_open(j, '['); }
void cli_json_close(cli_json *j, char closer) {
  fputc(closer, j->f);
  if (j->depth > 0) j->depth--;
}
void cli_json_string(cli_json *j, const char *s) { json_value_sep(j); json_raw_string(j->f, s); }
void cli_format_number(char *buf, size_t n, double x) {
  if (isnan(x)) {
    snprintf(buf, n, "-");
    return;
  }
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, n, "%.*g", prec, x);
    if (strtod(buf, NULL) == x) return;
  }
}

void cli_fputs_printable(FILE *f, const char *s) {
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
    fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

void cli_json_number(cli_json *j, double x) {
  json_value_sep(j);
  if (!isfinite(x)) {
    fputs("null", j->f);
    return;
  }
  char buf[32];
  cli_format_number(buf, sizeof buf, x);
  fputs(buf, j->f);
}
void cli_json_int(cli_json *j, long long x) { json_value_sep(j); fprintf(j->f, "%lld", x); }
void cli_json_bool(cli_json *j, int b) { json_value_sep(j); fputs(b ? "true" : "false", j->f); }
void cli_json_null(cli_json *j) { json_value_sep(j); fputs("null", j->f); }

/* ---- progress bar */
static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int draw_bar(void *user, const char *what, double done, double total) {
  cli_progress *bar = user;
  double t = now_seconds();
  int stage_changed = strncmp(bar->last_what, what ? what : "", sizeof bar->last_what - 1) != 0;
  if (!stage_changed && t - bar->last_time < 0.1 && !(total > 0 && done >= total)) return 0;
  bar->last_time = t;
  snprintf(bar->last_what, sizeof bar->last_what, "%s", what ? what : "");
  if (total > 0) {
    double frac = done / total;
    if (frac < 0) frac = 0;
    if (frac > 1) frac = 1;
    int width = 30, fill = (int)(frac * width + 0.5);
    fprintf(stderr, "\r%-24.24s [%.*s%*s] %3.0f%%", bar->last_what, fill,
            "##############################", width - fill, "", 100 * frac);
  } else {
    fprintf(stderr, "\r%-24.24s %12.0f", bar->last_what, done);
  }
  fflush(stderr);
  return 0;
}

void cli_progress_init(cli_progress *bar, const cli_common *c) {
  memset(bar, 0, sizeof *bar);
  bar->enabled = !c->quiet && isatty(STDERR_FILENO);
  if (bar->enabled) {
    bar->p.fn = draw_bar;
    bar->p.user = bar;
  }
}

void cli_progress_done(cli_progress *bar) {
  if (bar->enabled) fputs("\r\033[K", stderr);
}

/* ---- Command groups: `latens pc loglik ...`.  argv[0] is the group name. */
static void group_help(FILE *f, const char *group, const char *summary,
                       const cli_command *const *subs, size_t n) {
  fprintf(f, "usage: latens %s SUBCOMMAND [OPTIONS]\n%s\n\nSubcommands:\n", group, summary);
  for (size_t i = 0; i < n; i++) fprintf(f, "  %-12s %s\n", subs[i]->name, subs[i]->summary);
  fprintf(f, "\nRun 'latens %s SUBCOMMAND --help' for its options.\n", group);
}

int cli_group_run(int argc, char **argv, cli_common *c, const char *summary,
                  const cli_command *const *subs, size_t n) {
  const char *group = argv[0];
  if (argc < 2) {
    fprintf(stderr, "latens %s: no subcommand given (see latens %s --help)\n", group, group);
    return CLI_EUSAGE;
  }
  const char *name = argv[1];
  if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
    group_help(stdout, group, summary, subs, n);
    return CLI_OK;
  }
  for (size_t i = 0; i < n; i++) {
    if (strcmp(name, subs[i]->name) != 0) continue;
    char prog[96];
    snprintf(prog, sizeof prog, "latens %s %s", group, name);
    c->prog = prog;
    return subs[i]->run(argc - 1, argv + 1, c);
  }
  fprintf(stderr, "latens %s: unknown subcommand '%s' (see latens %s --help)\n", group, name, group);
  return CLI_EUSAGE;
}
