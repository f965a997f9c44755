/* pc/io.c: the versioned text format (see latens/pc.h for the grammar).
 *
 * One unit per line in id order, so a file is also a valid build script and children always
 * precede parents.  Doubles are printed with %.17g, which strtod reads back to the same bits
 * (17 significant digits identify every binary64), so save/load round-trips exactly; the
 * Bernoulli line stores both probabilities for the same reason (1 - (1 - p) need not be p).
 * Errors name the file, the line and what was expected there. */
#include "pc_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <latens/table.h>

static const char MAGIC[] = "# latens-pc 1";
static const char TYPE_CHARS[] = "IBCGPS";

int latens_pc_write(const latens_pc *pc, FILE *f) {
  if (!pc || !f) LATENS_ERROR("latens_pc_write: pc or stream is NULL", LATENS_EINVAL);
  const double *w = pc->finalized ? pc->params : pc->wbuf;
  const double *in = pc->finalized ? pc->params + pc->nw : pc->ibuf;
  fprintf(f, "%s\nvars %zu\nncat", MAGIC, pc->nvars);
  for (size_t j = 0; j < pc->nvars; j++) fprintf(f, " %zu", pc->ncat[j]);
  fprintf(f, "\nunits %zu\n", pc->nunits);
  for (size_t u = 0; u < pc->nunits; u++) {
    int t = pc->type[u];
    const double *p = pc->plocal[u] == PC_NONE ? NULL : (t == LATENS_PC_SUM ? w : in) + pc->plocal[u];
    const size_t *ch = pc->children + pc->choff[u];
    size_t n = pc->choff[u + 1] - pc->choff[u];
    fputc(TYPE_CHARS[t], f);
    if (t == LATENS_PC_INDICATOR) fprintf(f, " %zu %zu", pc->var[u], pc->value[u]);
    else if (t == LATENS_PC_CATEGORICAL) fprintf(f, " %zu %zu", pc->var[u], pc->pcount[u]);
    else if (t <= LATENS_PC_GAUSSIAN) fprintf(f, " %zu", pc->var[u]);
    else fprintf(f, " %zu", n);
    for (size_t k = 0; t <= LATENS_PC_GAUSSIAN && k < pc->pcount[u]; k++) fprintf(f, " %.17g", p[k]);
    for (size_t e = 0; t > LATENS_PC_GAUSSIAN && e < n; e++) {
      fprintf(f, " %zu", ch[e]);
      if (t == LATENS_PC_SUM) fprintf(f, " %.17g", p[e]);
    }
    fputc('\n', f);
  }
  fprintf(f, "root %zu\nend\n", latens_pc_root(pc));
  if (ferror(f)) LATENS_ERROR("latens_pc_write: write error", LATENS_EIO);
  return LATENS_OK;
}

int latens_pc_save(const latens_pc *pc, const char *path) {
  if (!pc || !path) LATENS_ERROR("latens_pc_save: pc or path is NULL", LATENS_EINVAL);
  latens_atomic_file *af = latens_atomic_open(path);
  if (!af) return LATENS_EIO;
  int st = latens_pc_write(pc, latens_atomic_stream(af));
  if (st) {
    latens_atomic_abort(af);
    return st;
  }
  return latens_atomic_commit(af);
}

/* ---------------------------------------------------------------- reader */

typedef struct {
  FILE *f;
  const char *name;
  size_t line;
  char *buf;
  size_t cap;
  char *p; /* cursor in buf */
} reader;

/* Next line that is neither blank nor a comment; 0 at end of file. */
static int next_line(reader *r) {
  for (;;) {
    ssize_t len = getline(&r->buf, &r->cap, r->f);
    if (len < 0) return 0;
    r->line++;
    while (len > 0 && (r->buf[len - 1] == '\n' || r->buf[len - 1] == '\r')) r->buf[--len] = 0;
    r->p = r->buf;
    while (*r->p == ' ' || *r->p == '\t') r->p++;
    if (*r->p && *r->p != '#') return 1;
  }
}

#define PERR(r, ...)                                                                          \
  do {                                                                                        \
    char msg_[256];                                                                           \
    snprintf(msg_, sizeof msg_, __VA_ARGS__);                                                 \
    latens_errorf(__FILE__, __LINE__, LATENS_EPARSE, "%s:%zu: %s", (r)->name, (r)->line, msg_); \
    return LATENS_EPARSE;                                                                     \
  } while (0)

static int get_size(reader *r, const char *what, size_t *out) {
  while (*r->p == ' ' || *r->p == '\t') r->p++;
  if (*r->p < '0' || *r->p > '9') PERR(r, "expected %s (a non-negative integer) at \"%.20s\"", what, r->p);
  errno = 0;
  char *end;
  unsigned long long v = strtoull(r->p, &end, 10);
  if (errno || (*end && *end != ' ' && *end != '\t')) PERR(r, "bad %s at \"%.20s\"", what, r->p);
  r->p = end;
  *out = (size_t)v;
  return LATENS_OK;
}

static int get_double(reader *r, const char *what, double *out) {
  while (*r->p == ' ' || *r->p == '\t') r->p++;
  char *end;
  double v = strtod(r->p, &end);
  if (end == r->p || (*end && *end != ' ' && *end != '\t') || !isfinite(v))
    PERR(r, "expected %s (a finite number) at \"%.20s\"", what, r->p);
  r->p = end;
  *out = v;
  return LATENS_OK;
}

static int expect_end(reader *r) {
  while (*r->p == ' ' || *r->p == '\t') r->p++;
  if (*r->p) PERR(r, "unexpected \"%.20s\" at the end of the line", r->p);
  return LATENS_OK;
}

static int keyword(reader *r, const char *kw) {
  if (!next_line(r)) PERR(r, "unexpected end of file, expected \"%s\"", kw);
  size_t n = strlen(kw);
  if (strncmp(r->p, kw, n) || (r->p[n] && r->p[n] != ' ' && r->p[n] != '\t'))
    PERR(r, "expected \"%s\", found \"%.20s\"", kw, r->p);
  r->p += n;
  return LATENS_OK;
}

/* One unit line; buffers ch/par hold at least `cap` entries (grown here). */
static int read_unit(reader *r, latens_pc *pc, size_t id, size_t **ch, double **par, size_t *cap) {
  const char *tc = strchr(TYPE_CHARS, *r->p);
  if (!*r->p || !tc) PERR(r, "unit %zu: expected a type letter I B C G P S, found \"%.20s\"", id, r->p);
  int t = (int)(tc - TYPE_CHARS), st;
  r->p++;
  size_t a = 0, n = 0, var = PC_NONE, value = PC_NONE;
  if ((st = get_size(r, t <= LATENS_PC_GAUSSIAN ? "variable" : "child count", &a))) return st;
  if (t <= LATENS_PC_GAUSSIAN) {
    var = a;
    if (var >= pc->nvars) PERR(r, "unit %zu: variable %zu out of range (vars %zu)", id, var, pc->nvars);
    size_t k = pc->ncat[var];
    if (t == LATENS_PC_INDICATOR && ((st = get_size(r, "indicator value", &value)))) return st;
    if (t == LATENS_PC_INDICATOR && value >= k)
      PERR(r, "unit %zu: indicator value %zu out of range for variable %zu (%zu categories)", id, value, var, k);
    if (t == LATENS_PC_CATEGORICAL && ((st = get_size(r, "category count", &n)))) return st;
    if ((t == LATENS_PC_BERNOULLI && k != 2) || (t == LATENS_PC_CATEGORICAL && (k < 2 || n != k)) ||
        (t == LATENS_PC_GAUSSIAN && k != 0))
      PERR(r, "unit %zu: type %c does not fit variable %zu (%zu categories)", id, TYPE_CHARS[t], var, k);
    n = t == LATENS_PC_CATEGORICAL ? k : t == LATENS_PC_INDICATOR ? 0 : 2;
  } else {
    n = a;
    if (n == 0) PERR(r, "unit %zu: a %s needs at least one child", id, t == LATENS_PC_SUM ? "sum" : "product");
  }
  /* Each entry takes at least two characters (" 0"), so a count beyond what the rest of the
   * line can hold is malformed; checking it first keeps a huge count ("S 2305843009213693953")
   * from overflowing the n * sizeof allocation below. */
  size_t room = strlen(r->p) / 2 + 1;
  if (n > room)
    PERR(r, "unit %zu: %zu entries announced but the line holds at most %zu", id, n, room);
  if (n > *cap) {
    size_t *c2 = realloc(*ch, n * sizeof **ch);
    if (c2) *ch = c2;
    double *p2 = realloc(*par, n * sizeof **par);
    if (p2) *par = p2;
    if (!c2 || !p2) LATENS_ERROR("latens_pc_read: out of memory", LATENS_ENOMEM);
    *cap = n;
  }
  for (size_t k = 0; k < n; k++) {
    if (t > LATENS_PC_GAUSSIAN) {
      if ((st = get_size(r, "child id", &(*ch)[k]))) return st;
      if ((*ch)[k] >= id) PERR(r, "unit %zu: child %zu is unit %zu, not an earlier unit", id, k, (*ch)[k]);
    }
    if (t == LATENS_PC_PRODUCT) continue;
    if ((st = get_double(r, t == LATENS_PC_SUM ? "weight" : "parameter", &(*par)[k]))) return st;
    int gauss_mu = t == LATENS_PC_GAUSSIAN && k == 0, gauss_sd = t == LATENS_PC_GAUSSIAN && k == 1;
    if (!gauss_mu && (gauss_sd ? !((*par)[k] > 0) : (*par)[k] < 0))
      PERR(r, "unit %zu: parameter %zu = %g out of range", id, k, (*par)[k]);
  }
  if ((st = expect_end(r))) return st;
  int has_ch = t > LATENS_PC_GAUSSIAN, has_p = t != LATENS_PC_PRODUCT && t != LATENS_PC_INDICATOR;
  return pc_add_raw(pc, "latens_pc_read", t, var, value, has_ch ? *ch : NULL, has_ch ? n : 0,
                    has_p ? *par : NULL, has_p ? n : 0);
}

static int read_body(reader *r, latens_pc **out) {
  int st;
  size_t nvars, nunits, root;
  if ((st = keyword(r, "vars")) || (st = get_size(r, "variable count", &nvars)) || (st = expect_end(r)))
    return st;
  if (nvars == 0 || nvars > ((size_t)1 << 32)) PERR(r, "variable count %zu out of range", nvars);
  if ((st = keyword(r, "ncat"))) return st;
  /* the ncat line must hold nvars counts: check before allocating for them */
  if (nvars > strlen(r->p) / 2 + 1) PERR(r, "%zu category counts expected, the line is too short", nvars);
  size_t *ncat = malloc(nvars * sizeof *ncat);
  if (!ncat) LATENS_ERROR("latens_pc_read: out of memory", LATENS_ENOMEM);
  for (size_t j = 0; !st && j < nvars; j++) {
    st = get_size(r, "category count", &ncat[j]);
    if (!st && (ncat[j] == 1 || ncat[j] >= ((size_t)1 << 31))) {
      size_t bad = ncat[j];
      free(ncat);
      PERR(r, "variable %zu: category count %zu (need 0 or 2..2^31-1)", j, bad);
    }
  }
  if (!st) st = expect_end(r);
  latens_pc *pc = st ? NULL : latens_pc_alloc(nvars, ncat);
  free(ncat);
  if (st) return st;
  if (!pc) return LATENS_ENOMEM;
  size_t *ch = NULL, cap = 0;
  double *par = NULL;
  if ((st = keyword(r, "units")) || (st = get_size(r, "unit count", &nunits)) || (st = expect_end(r)))
    goto done;
  for (size_t id = 0; id < nunits && !st; id++) {
    if (!next_line(r)) {
      latens_errorf(__FILE__, __LINE__, LATENS_EPARSE, "%s:%zu: unexpected end of file after %zu of %zu units",
                    r->name, r->line, id, nunits);
      st = LATENS_EPARSE;
      break;
    }
    st = read_unit(r, pc, id, &ch, &par, &cap);
  }
  if (st || (st = keyword(r, "root")) || (st = get_size(r, "root id", &root)) || (st = expect_end(r)))
    goto done;
  if (root >= nunits) {
    latens_errorf(__FILE__, __LINE__, LATENS_EPARSE, "%s:%zu: root %zu out of range (%zu units)", r->name,
                  r->line, root, nunits);
    st = LATENS_EPARSE;
    goto done;
  }
  if ((st = keyword(r, "end")) || (st = expect_end(r))) goto done;
  if ((st = latens_pc_set_root(pc, root)) || (st = latens_pc_finalize(pc))) goto done;
done:
  free(ch), free(par);
  if (st) latens_pc_free(pc);
  else *out = pc;
  return st;
}

int latens_pc_read(FILE *f, const char *name, latens_pc **out) {
  if (!f || !out) LATENS_ERROR("latens_pc_read: stream or out is NULL", LATENS_EINVAL);
  *out = NULL;
  reader r = {f, name ? name : "(stream)", 0, NULL, 0, NULL};
  int st = LATENS_OK;
  ssize_t len = getline(&r.buf, &r.cap, f);
  r.line = 1;
  if (len < 0) {
    latens_errorf(__FILE__, __LINE__, LATENS_EPARSE, "%s:1: empty file, expected \"%s\"", r.name, MAGIC);
    st = LATENS_EPARSE;
  } else {
    while (len > 0 && (r.buf[len - 1] == '\n' || r.buf[len - 1] == '\r' || r.buf[len - 1] == ' ')) r.buf[--len] = 0;
    if (strcmp(r.buf, MAGIC)) {
      latens_errorf(__FILE__, __LINE__, LATENS_EPARSE,
                    "%s:1: not a latens circuit file (first line must be \"%s\")", r.name, MAGIC);
      st = LATENS_EPARSE;
    } else {
      st = read_body(&r, out);
    }
  }
  free(r.buf);
  return st;
}

int latens_pc_load(const char *path, latens_pc **out) {
  if (!path || !out) LATENS_ERROR("latens_pc_load: path or out is NULL", LATENS_EINVAL);
  FILE *f = fopen(path, "r");
  if (!f) LATENS_ERRORF(LATENS_EIO, "latens_pc_load: cannot open %s: %s", path, strerror(errno));
  int st = latens_pc_read(f, path, out);
  fclose(f);
  return st;
}
