/* core/table.c: the CSV / whitespace table reader (format rules in include/latens/table.h).
 *
 * One pass over a window of the input: lines are found with memchr in a buffer refilled by
 * fread, so a line is never copied more than once (when a refill moves its start to the
 * front) and a line longer than max_line is refused after buffering only that much.  Each
 * line is split into spans of the buffer (quotes unescaped in place), its cells converted
 * into a small block of rows, and full blocks copied into a column-major array whose row
 * capacity grows geometrically; no cell costs an allocation.  Numbers are parsed by hand
 * where the result is provably the correctly rounded one (Clinger's fast path; exact
 * 128-bit integer arithmetic for up to 19 digits and exponents within +-27, which covers
 * %.17g output) and by strtod_l in a private C locale otherwise, so the result never
 * depends on setlocale. */
#include "internal.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <latens/table.h>

static const char *const default_na[] = {"NA", "", "?"};

void latens_table_options_default(latens_table_options *opt) {
  if (!opt) return;
  *opt = (latens_table_options){.delim = LATENS_DELIM_AUTO,
                                .header = LATENS_HEADER_AUTO,
                                .na = default_na,
                                .n_na = sizeof default_na / sizeof *default_na,
                                .allow_nonfinite = 0,
                                .max_line = (size_t)16 << 20,
                                .comment = 0,
                                .numeric_only = 0};
}

struct latens_table {
  size_t nrow, ncol;
  latens_mat *data;
  char **names; /* point into pool */
  char *pool;
  int *type;
  size_t *missing;
  int delim, header;
};

/* A field of the current line: offsets fit 32 bits because max_line <= 2^31. */
typedef struct {
  uint32_t off, len;
  int quoted;
} span;

typedef struct {
  size_t missing;
  /* First disallowed nan/inf or out-of-range number in tolerant mode: an error at the end
   * unless the column turns out to be TEXT, where such words are just text ("Nan" is a
   * name, "1e999" a code). */
  size_t bad_line;
  char *bad_text;
  int bad_range; /* bad_text is out of range (1) or non-finite (0) */
  int type;
} column;

typedef struct {
  FILE *f;
  const char *name;
  latens_table_options opt;
  locale_t c_locale;
  int cmt;   /* comment character as unsigned char, or -1 */
  int delim; /* resolved: ',' ';' '\t' or ' ' (whitespace runs) */
  char *buf; /* window [beg, end) of the input; cap + 1 bytes so a sentinel fits */
  size_t cap, beg, end, scan;
  int eof;
  size_t size_hint; /* file size when known, else 0 */
  size_t lineno;    /* physical line of the current line, 1-based */
  span *span;
  size_t nspan, span_cap;
  size_t ncol, first_line;
  int trailing; /* every row ends with the delimiter (see table.h) */
  unsigned char stop[256];     /* bytes that end an unquoted field */
  unsigned char na_first[256]; /* first bytes of the missing tokens ('\0' for "") */
  int header;
  double *data; /* column j of row i at data[i + j * row_cap] */
  size_t nrow, row_cap;
  /* The rows being read gather here (column j of row i at block[i + j * block_rows]), small
   * enough to stay in L1, and move to `data` a column run at a time: a row stored straight
   * into `data` would touch ncol pages, one TLB miss per cell. */
  double *block;
  size_t nblock, block_rows;
  column *col;
} reader;

/* ---- messages */

/* "NAME:LINE:COL: message" with LINE / COL left out when 0. */
static int fail(const reader *r, int status, size_t line, size_t col, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 5, 6)))
#endif
    ;
static int fail(const reader *r, int status, size_t line, size_t col, const char *fmt, ...) {
  char msg[400], where[64] = "";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (line && col) snprintf(where, sizeof where, ":%zu:%zu", line, col);
  else if (line) snprintf(where, sizeof where, ":%zu", line);
  latens_errorf(__FILE__, __LINE__, status, "%s%s: %s", r->name, where, msg);
  return status;
}

/* The offending text for a message: quoted, cut after 40 bytes (on a UTF-8 boundary),
 * control bytes shown as '?' so the message stays one line. */
static void snippet(char out[64], const char *s, size_t n) {
  size_t cut = n > 40 ? 40 : n;
  while (cut < n && cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
  size_t k = 0;
  out[k++] = '"';
  for (size_t i = 0; i < cut; i++) {
    unsigned char c = (unsigned char)s[i];
    out[k++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
  }
  out[k++] = '"';
  if (cut < n) memcpy(out + k, "...", 3), k += 3;
  out[k] = '\0';
}

static int check_options(const latens_table_options *o) {
  int d = o->delim;
  if (d != LATENS_DELIM_AUTO && d != ',' && d != ';' && d != '\t' && d != LATENS_DELIM_WHITESPACE)
    LATENS_ERRORF(LATENS_EINVAL,
                  "latens_table_read: delimiter %d is not ',' ';' tab, space or auto", d);
  if (o->header != LATENS_HEADER_NO && o->header != LATENS_HEADER_YES &&
      o->header != LATENS_HEADER_AUTO)
    LATENS_ERRORF(LATENS_EINVAL, "latens_table_read: header mode %d is not NO, YES or AUTO",
                  o->header);
  if (o->max_line < 1 || o->max_line > ((size_t)1 << 31))
    LATENS_ERRORF(LATENS_EINVAL, "latens_table_read: max_line %zu outside [1, 2^31]", o->max_line);
  if (o->n_na && !o->na) LATENS_ERROR("latens_table_read: na is NULL with n_na > 0", LATENS_EINVAL);
  for (size_t i = 0; i < o->n_na; i++)
    if (!o->na[i]) LATENS_ERRORF(LATENS_EINVAL, "latens_table_read: na[%zu] is NULL", i);
  int c = o->comment;
  if (c && (c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';'))
    LATENS_ERRORF(LATENS_EINVAL, "latens_table_read: comment character %d is not usable", c);
  return LATENS_OK;
}

/* ---- lines */

static int too_long(const reader *r, size_t line) {
  return fail(r, LATENS_EPARSE, line, 0, "line longer than %zu bytes (the max_line limit)",
              r->opt.max_line);
}

/* Makes room after the window and reads into it. */
static int refill(reader *r) {
  if (r->beg > 0) {
    memmove(r->buf, r->buf + r->beg, r->end - r->beg);
    r->end -= r->beg, r->scan -= r->beg, r->beg = 0;
  }
  if (r->end == r->cap) {
    size_t cap = r->cap * 2, most = r->opt.max_line + 1; /* a longest line and its '\n' */
    if (cap > most) cap = most;
    char *b = realloc(r->buf, cap + 1);
    if (!b) return fail(r, LATENS_ENOMEM, 0, 0, "out of memory for a line buffer of %zu", cap);
    r->buf = b, r->cap = cap;
  }
  size_t want = r->cap - r->end, got = fread(r->buf + r->end, 1, want, r->f);
  r->end += got;
  if (got < want) {
    if (ferror(r->f)) return fail(r, LATENS_EIO, 0, 0, "read error: %s", strerror(errno));
    r->eof = 1;
  }
  return LATENS_OK;
}

/* A CR followed by anything but LF in s[0 .. n); a CR ending s is left to the caller
 * (a CRLF split by the window, or the end of the input). */
static int has_bare_cr(const char *s, size_t n) {
  for (const char *p = s, *end = s + n; (p = memchr(p, '\r', (size_t)(end - p))); p++)
    if (p + 1 < end && p[1] != '\n') return 1;
  return 0;
}

/* The next physical line, without its line end; *line == NULL at the end of the input.
 * The byte after the line is a '\n' of the buffer: a sentinel for the field scanner, which
 * the number parser may also borrow. */
static int next_line(reader *r, char **line, size_t *len) {
  *line = NULL;
  for (;;) {
    char *nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
    size_t stop = nl ? (size_t)(nl - r->buf) : r->end;
    /* Old Mac files end lines with a bare CR, which would make the whole file one line and
     * surface as a baffling "header only".  Only the first line is searched, so later lines
     * cost nothing; its rescans while the window doubles add up to about twice its length. */
    if (r->lineno == 0 && has_bare_cr(r->buf + r->beg, stop - r->beg))
      return fail(r, LATENS_EPARSE, 1, 0,
                  "bare CR line ends are not supported (convert to LF or CRLF)");
    if (stop - r->beg > r->opt.max_line) return too_long(r, r->lineno + 1);
    if (nl || (r->eof && r->beg < r->end)) {
      *line = r->buf + r->beg;
      *len = stop - r->beg;
      r->buf[stop] = '\n';
      r->beg = r->scan = nl ? stop + 1 : stop;
      r->lineno++;
      if (*len && (*line)[*len - 1] == '\r') (*line)[--*len] = '\n';
      if (r->lineno == 1 && *len >= 3 && !memcmp(*line, "\xEF\xBB\xBF", 3)) *line += 3, *len -= 3;
      return LATENS_OK;
    }
    if (r->eof) return LATENS_OK;
    r->scan = r->end;
    int status = refill(r);
    if (status) return status;
  }
}

static int blank_line(const reader *r, const char *s, size_t n) {
  size_t i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
  return i == n || (unsigned char)s[i] == r->cmt;
}

/* The most frequent of , tab ; outside quotes (ties in that order), else whitespace. */
static int detect_delim(const reader *r, const char *s, size_t n) {
  size_t comma = 0, tab = 0, semi = 0;
  int quoted = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '"') quoted = !quoted;
    else if (quoted) continue;
    else if ((unsigned char)c == r->cmt) break;
    else if (c == ',') comma++;
    else if (c == '\t') tab++;
    else if (c == ';') semi++;
  }
  if (comma && comma >= tab && comma >= semi) return ',';
  if (tab && tab >= semi) return '\t';
  return semi ? ';' : LATENS_DELIM_WHITESPACE;
}

/* ---- fields */

static int grow_spans(reader *r) {
  size_t cap = r->span_cap ? 2 * r->span_cap : 64;
  span *p = realloc(r->span, latens_mul_size(cap, sizeof *p));
  if (!p) return fail(r, LATENS_ENOMEM, r->lineno, 0, "out of memory for %zu fields", cap);
  r->span = p, r->span_cap = cap;
  return LATENS_OK;
}

static inline int push_span(reader *r, const char *line, const char *s, size_t n, int quoted) {
  int status = r->nspan == r->span_cap ? grow_spans(r) : LATENS_OK;
  if (!status) r->span[r->nspan++] = (span){(uint32_t)(s - line), (uint32_t)n, quoted};
  return status;
}

/* A quoted field starting at *ps (on the '"'): unescaped in place; *ps moves past it. */
static int quoted_field(reader *r, char *line, char **ps, const char *end) {
  char *p = *ps + 1, *w = p, *start = p;
  size_t col = r->nspan + 1;
  for (;;) {
    if (p == end)
      return fail(r, LATENS_EPARSE, r->lineno, col,
                  "unterminated quoted field (a quoted field cannot span lines)");
    if (*p == '\0') return fail(r, LATENS_EPARSE, r->lineno, col, "NUL byte in the data");
    if (*p == '"') {
      if (p + 1 < end && p[1] == '"') {
        *w++ = '"', p += 2;
        continue;
      }
      p++;
      break;
    }
    *w++ = *p++;
  }
  *ps = p;
  return push_span(r, line, start, (size_t)(w - start), 1);
}

static int is_blank(const reader *r, char c) {
  return c == ' ' || (c == '\t' && r->delim != '\t');
}

/* Splits a line into r->span[0 .. r->nspan). */
static int tokenize(reader *r, char *line, size_t len) {
  char *s = line, *end = line + len;
  int ws = r->delim == LATENS_DELIM_WHITESPACE, status;
  r->nspan = 0;
  for (;;) {
    while (s < end && is_blank(r, *s)) s++;
    if (ws && (s == end || (unsigned char)*s == r->cmt)) return LATENS_OK;
    if (s < end && *s == '"') {
      if ((status = quoted_field(r, line, &s, end))) return status;
      if (!ws)
        while (s < end && is_blank(r, *s)) s++;
      if (s < end && (unsigned char)*s != r->cmt && (ws ? !is_blank(r, *s) : *s != r->delim))
        return fail(r, LATENS_EPARSE, r->lineno, r->nspan, "text after the closing quote");
    } else {
      char *f = s;
      while (!r->stop[(unsigned char)*s]) s++; /* ends at the latest on the '\n' after the line */
      if (*s == '\0')
        return fail(r, LATENS_EPARSE, r->lineno, r->nspan + 1, "NUL byte in the data");
      char *e = s;
      while (!ws && e > f && is_blank(r, e[-1])) e--;
      if ((status = push_span(r, line, f, (size_t)(e - f), 0))) return status;
    }
    if (ws) continue;
    if (s < end && *s == r->delim) s++;
    else return LATENS_OK;
  }
}

/* ---- cells */

enum { TOK_TEXT, TOK_INT, TOK_REAL, TOK_NONFINITE, TOK_RANGE };

static const double exact_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int word_ieq(const char *s, size_t n, const char *w) {
  size_t k = strlen(w);
  if (n != k) return 0;
  for (size_t i = 0; i < n; i++)
    if ((s[i] | 0x20) != w[i]) return 0;
  return 1;
}

/* Correctly rounded through strtod_l; s[n] is a byte of the buffer, borrowed as the end. */
static int slow_number(const reader *r, char *s, size_t n, double *x) {
  char saved = s[n], *stop;
  s[n] = '\0';
  errno = 0;
  *x = strtod_l(s, &stop, r->c_locale);
  int range = errno == ERANGE && isinf(*x);
  s[n] = saved;
  if (stop != s + n) return TOK_TEXT;
  return range ? TOK_RANGE : TOK_REAL;
}

#ifdef __SIZEOF_INT128__
typedef unsigned __int128 u128;

static const uint64_t pow5[28] = {
    1u, 5u, 25u, 125u, 625u, 3125u, 15625u, 78125u, 390625u, 1953125u, 9765625u, 48828125u,
    244140625u, 1220703125u, 6103515625ull, 30517578125ull, 152587890625ull, 762939453125ull,
    3814697265625ull, 19073486328125ull, 95367431640625ull, 476837158203125ull, 2384185791015625ull,
    11920928955078125ull, 59604644775390625ull, 298023223876953125ull, 1490116119384765625ull,
    7450580596923828125ull};

/* The double nearest to (x + f) 2^e, ties to even, where 0 <= f < 1 and f > 0 iff sticky.
 * Callers guarantee x >= 2^63 when sticky, so the rounding bits are all in x, and a
 * result far from the subnormal and overflow ranges, so ldexp scales exactly. */
static double round_wide(u128 x, int sticky, int e) {
  uint64_t hi = (uint64_t)(x >> 64);
  int bits = hi ? 128 - __builtin_clzll(hi) : 64 - __builtin_clzll((uint64_t)x);
  if (bits <= 53) return ldexp((double)(uint64_t)x, e);
  int shift = bits - 53;
  u128 rest = x & (((u128)1 << shift) - 1), half = (u128)1 << (shift - 1);
  uint64_t sig = (uint64_t)(x >> shift);
  if (rest > half || (rest == half && (sticky || (sig & 1)))) sig++; /* 2^53 is still exact */
  return ldexp((double)sig, e + shift);
}

/* m 10^e10 correctly rounded, for 0 < m < 2^64 and |e10| <= 27, in exact integer arithmetic:
 * 10^e = 5^e 2^e with 5^27 < 2^64, so a product fits 128 bits, and a quotient of m 2^(64+lz)
 * (lz normalising m) by 5^k keeps at least 64 bits plus a remainder for the sticky bit.
 * Much faster than strtod's multi-precision path, which %.17g output always takes. */
static double wide_number(uint64_t m, long e10) {
  if (e10 >= 0) return round_wide((u128)m * pow5[e10], 0, (int)e10);
  int lz = __builtin_clzll(m), k = (int)-e10;
  u128 n = (u128)(m << lz) << 64, d = pow5[k];
  return round_wide(n / d, n % d != 0, -64 - lz - k);
}
#endif

/* Classifies a cell and converts it.  Only decimal syntax counts: [+-]digits[.digits][e[+-]digits]
 * (digits on at least one side of the point); nan/inf/infinity are TOK_NONFINITE. */
static int scan_number(const reader *r, char *s, size_t n, double *x) {
  const char *p = s, *end = s + n;
  int neg = 0;
  if (p < end && (*p == '+' || *p == '-')) neg = *p++ == '-';
  if (p < end && ((*p | 0x20) == 'n' || (*p | 0x20) == 'i')) {
    size_t k = (size_t)(end - p);
    if (word_ieq(p, k, "nan")) *x = NAN;
    else if (word_ieq(p, k, "inf") || word_ieq(p, k, "infinity")) *x = neg ? -INFINITY : INFINITY;
    else return TOK_TEXT;
    return TOK_NONFINITE;
  }
  /* m takes every digit and wraps past 19 significant ones; it is used only when exact. */
  uint64_t m = 0;
  const char *d0 = p;
  for (unsigned d; p < end && (d = (unsigned)(*p - '0')) <= 9; p++) m = 10 * m + d;
  size_t digits = (size_t)(p - d0), frac = 0;
  int point = p < end && *p == '.';
  if (point) {
    const char *f0 = ++p;
    for (unsigned d; p < end && (d = (unsigned)(*p - '0')) <= 9; p++) m = 10 * m + d;
    frac = (size_t)(p - f0), digits += frac;
  }
  if (!digits) return TOK_TEXT;
  int exact = digits <= 19;
  if (!exact) { /* leading zeros do not count */
    size_t zeros = 0;
    for (const char *q = d0; q < p && (*q == '0' || *q == '.'); q++) zeros += *q == '0';
    exact = digits - zeros <= 19;
  }
  long e10 = 0;
  int has_exp = p < end && (*p == 'e' || *p == 'E');
  if (has_exp) {
    int eneg = 0, edigits = 0;
    p++;
    if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
    for (; p < end && (unsigned)(*p - '0') <= 9; p++, edigits++)
      if (e10 < 100000) e10 = 10 * e10 + (*p - '0');
    if (!edigits) return TOK_TEXT;
    if (eneg) e10 = -e10;
  }
  if (p != end) return TOK_TEXT;
  if (!point && !has_exp) {
    /* An integer literal: exact if its value is a double (every integer up to 2^53 is). */
    if (exact) {
      double d = (double)m;
      int fits = m <= ((uint64_t)1 << 53) || (d < 18446744073709551616.0 && (uint64_t)d == m);
      *x = neg ? -d : d; /* int -> double rounds correctly */
      return fits ? TOK_INT : TOK_REAL;
    }
    return slow_number(r, s, n, x);
  }
  e10 -= (long)frac;
  double d;
  if (exact && m <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22)
    /* Both operands exact, so the one rounding of * or / is the correctly rounded result. */
    d = e10 >= 0 ? (double)m * exact_pow10[e10] : (double)m / exact_pow10[-e10];
  else if (exact && m == 0) d = 0.0;
#ifdef __SIZEOF_INT128__
  else if (exact && e10 >= -27 && e10 <= 27) d = wide_number(m, e10);
#endif
  else return slow_number(r, s, n, x);
  *x = neg ? -d : d;
  return TOK_REAL;
}

static int is_missing(const reader *r, const char *s, size_t n) {
  if (!r->na_first[n ? (unsigned char)s[0] : 0]) return 0;
  for (size_t i = 0; i < r->opt.n_na; i++) {
    const char *t = r->opt.na[i];
    if (n == 0 ? t[0] == '\0' : t[0] == s[0] && strlen(t) == n && !memcmp(t, s, n)) return 1;
  }
  return 0;
}

/* Keeps a column's first bad cell for finish(), which reports it unless the column is TEXT. */
static int defer_bad(const reader *r, column *c, const char *what, int range) {
  if (c->bad_line) return LATENS_OK;
  if (!(c->bad_text = strdup(what))) return fail(r, LATENS_ENOMEM, 0, 0, "out of memory");
  c->bad_line = r->lineno;
  c->bad_range = range;
  return LATENS_OK;
}

static int store_cell(reader *r, size_t j, char *s, size_t n) {
  column *c = &r->col[j];
  double *out = &r->block[r->nblock + j * r->block_rows];
  char what[64];
  if (is_missing(r, s, n)) {
    *out = NAN;
    c->missing++;
    return LATENS_OK;
  }
  *out = NAN;
  if (c->type == LATENS_COL_TEXT) return LATENS_OK;
  if (n <= 9) { /* short unsigned integers, the bulk of discrete data, skip the general parser */
    uint32_t v = 0;
    size_t i = 0;
    for (unsigned d; i < n && (d = (unsigned)(s[i] - '0')) <= 9; i++) v = 10 * v + d;
    if (i == n && n) {
      *out = v;
      return LATENS_OK;
    }
  }
  switch (scan_number(r, s, n, out)) {
  case TOK_INT: return LATENS_OK;
  case TOK_REAL: c->type = LATENS_COL_REAL; return LATENS_OK;
  case TOK_RANGE:
    *out = NAN;
    snippet(what, s, n);
    if (r->opt.numeric_only)
      return fail(r, LATENS_EPARSE, r->lineno, j + 1, "number out of range, found %s", what);
    return defer_bad(r, c, what, 1);
  case TOK_NONFINITE:
    if (r->opt.allow_nonfinite) {
      c->type = LATENS_COL_REAL;
      return LATENS_OK;
    }
    *out = NAN;
    snippet(what, s, n);
    if (r->opt.numeric_only)
      return fail(r, LATENS_EPARSE, r->lineno, j + 1, "non-finite number %s not allowed", what);
    return defer_bad(r, c, what, 0);
  default:
    *out = NAN;
    if (r->opt.numeric_only) {
      snippet(what, s, n);
      return fail(r, LATENS_EPARSE, r->lineno, j + 1, "expected a number, found %s", what);
    }
    c->type = LATENS_COL_TEXT;
    return LATENS_OK;
  }
}

/* Room for `need` rows: capacity doubles, columns move apart from the last one down. */
static int reserve_rows(reader *r, size_t need) {
  if (need <= r->row_cap) return LATENS_OK;
  size_t cap = r->row_cap * 2 >= need ? r->row_cap * 2 : need;
  size_t bytes = latens_mul_size(latens_mul_size(cap, r->ncol), sizeof(double));
  double *d = bytes ? realloc(r->data, bytes) : NULL;
  if (!d)
    return fail(r, LATENS_ENOMEM, r->lineno, 0, "out of memory for %zu rows of %zu columns", cap,
                r->ncol);
  for (size_t j = r->ncol; j-- > 1;) memmove(d + j * cap, d + j * r->row_cap, r->nrow * sizeof *d);
  r->data = d, r->row_cap = cap;
  return LATENS_OK;
}

static int flush_block(reader *r) {
  int status = reserve_rows(r, r->nrow + r->nblock);
  if (status) return status;
  for (size_t j = 0; j < r->ncol; j++)
    memcpy(r->data + r->nrow + j * r->row_cap, r->block + j * r->block_rows,
           r->nblock * sizeof *r->data);
  r->nrow += r->nblock;
  r->nblock = 0;
  return LATENS_OK;
}

/* A row whose field count differs from the first row's (k counts the trailing empty one). */
static int ragged(const reader *r, size_t k, int last_empty) {
  const char *noun = r->ncol == 1 ? "field" : "fields";
  char tab[] = "tab", one[] = {(char)r->delim, '\0'}, *d = r->delim == '\t' ? tab : one;
  if (r->trailing && !last_empty)
    return fail(r, LATENS_EPARSE, r->lineno, 0, "expected %zu %s each ended by '%s' as on line %zu",
                r->ncol, noun, d, r->first_line);
  if (!r->trailing && last_empty && k == r->ncol + 1)
    return fail(r, LATENS_EPARSE, r->lineno, 0, "expected %zu %s, found %zu (a trailing '%s')",
                r->ncol, noun, k, d);
  return fail(r, LATENS_EPARSE, r->lineno, 0, "expected %zu %s, found %zu", r->ncol, noun,
              k - (size_t)r->trailing);
}

static int store_row(reader *r, char *line) {
  size_t k = r->nspan;
  int last_empty = k > 1 && !r->span[k - 1].quoted && r->span[k - 1].len == 0;
  if (r->trailing ? !last_empty || k - 1 != r->ncol : k != r->ncol) return ragged(r, k, last_empty);
  int status = LATENS_OK;
  for (size_t j = 0; j < r->ncol && !status; j++)
    status = store_cell(r, j, line + r->span[j].off, r->span[j].len);
  if (!status && ++r->nblock == r->block_rows) status = flush_block(r);
  return status;
}

/* ---- first row: layout, header, names */

static int first_row_is_header(reader *r, char *line) {
  if (r->opt.header != LATENS_HEADER_AUTO) return r->opt.header == LATENS_HEADER_YES;
  for (size_t j = 0; j < r->ncol; j++) {
    char *s = line + r->span[j].off;
    size_t n = r->span[j].len;
    double x;
    if (!is_missing(r, s, n) && scan_number(r, s, n, &x) == TOK_TEXT) return 1;
  }
  return 0;
}

/* Names go to one pool: the header's cells, or "V1".. for absent and empty ones. */
static int make_names(reader *r, latens_table *t, const char *line) {
  size_t bytes = 0;
  for (size_t j = 0; j < r->ncol; j++) bytes += (r->header ? r->span[j].len : 0) + 24;
  t->pool = malloc(bytes);
  t->names = malloc(latens_mul_size(r->ncol, sizeof *t->names));
  if (!t->pool || !t->names) return fail(r, LATENS_ENOMEM, 0, 0, "out of memory for column names");
  char *w = t->pool;
  for (size_t j = 0; j < r->ncol; j++) {
    t->names[j] = w;
    size_t n = r->header ? r->span[j].len : 0;
    if (n) memcpy(w, line + r->span[j].off, n), w[n] = '\0';
    else n = (size_t)snprintf(w, 24, "V%zu", j + 1);
    w += n + 1;
  }
  return LATENS_OK;
}

static int start(reader *r, latens_table *t, char *line, size_t len) {
  if (r->delim == LATENS_DELIM_AUTO) r->delim = detect_delim(r, line, len);
  r->stop['\0'] = r->stop['\n'] = 1;
  if (r->cmt >= 0) r->stop[r->cmt] = 1;
  if (r->delim == LATENS_DELIM_WHITESPACE) r->stop[' '] = r->stop['\t'] = 1;
  else r->stop[(unsigned char)r->delim] = 1;
  int status = tokenize(r, line, len);
  if (status) return status;
  size_t k = r->nspan;
  r->trailing = r->delim != LATENS_DELIM_WHITESPACE && k > 1 && !r->span[k - 1].quoted &&
                r->span[k - 1].len == 0;
  r->ncol = k - (size_t)r->trailing;
  r->first_line = r->lineno;
  r->header = first_row_is_header(r, line);
  r->col = calloc(r->ncol, sizeof *r->col);
  if (!r->col) return fail(r, LATENS_ENOMEM, 0, 0, "out of memory for %zu columns", r->ncol);
  /* Rows estimated from the file size and this line, so that a file is read with few
   * regrowths; at least 64 KiB, and at most 64 MiB so that a wrong guess costs little (past
   * that, growth follows the rows actually read). */
  size_t rows = r->size_hint / (len + 1) + 16;
  size_t lo = 8192 / r->ncol + 1, hi = ((size_t)1 << 23) / r->ncol + 1;
  rows = rows < lo ? lo : rows > hi ? hi : rows;
  size_t bytes = latens_mul_size(latens_mul_size(rows, r->ncol), sizeof(double));
  r->block_rows = 4096 / r->ncol < 1 ? 1 : 4096 / r->ncol > 16 ? 16 : 4096 / r->ncol;
  r->data = bytes ? malloc(bytes) : NULL;
  r->block = malloc(latens_mul_size(r->block_rows * r->ncol, sizeof *r->block));
  if (!r->data || !r->block)
    return fail(r, LATENS_ENOMEM, 0, 0, "out of memory for %zu columns", r->ncol);
  r->row_cap = rows;
  if ((status = make_names(r, t, line))) return status;
  return r->header ? LATENS_OK : store_row(r, line);
}

/* Deferred errors, TEXT columns blanked, columns packed to ld = nrow. */
static int finish(reader *r, latens_table *t) {
  size_t worst = 0;
  for (size_t j = 0; j < r->ncol; j++)
    if (r->col[j].bad_line && r->col[j].type != LATENS_COL_TEXT &&
        (!worst || r->col[j].bad_line < r->col[worst - 1].bad_line))
      worst = j + 1;
  if (worst) {
    const column *c = &r->col[worst - 1];
    if (c->bad_range)
      return fail(r, LATENS_EPARSE, c->bad_line, worst, "number out of range, found %s",
                  c->bad_text);
    return fail(r, LATENS_EPARSE, c->bad_line, worst, "non-finite number %s not allowed",
                c->bad_text);
  }
  t->type = malloc(latens_mul_size(r->ncol, sizeof *t->type));
  t->missing = malloc(latens_mul_size(r->ncol, sizeof *t->missing));
  t->data = calloc(1, sizeof *t->data);
  if (!t->type || !t->missing || !t->data) return fail(r, LATENS_ENOMEM, 0, 0, "out of memory");
  for (size_t j = 0; j < r->ncol; j++) {
    double *dst = r->data + j * r->nrow, *src = r->data + j * r->row_cap;
    t->type[j] = r->col[j].type;
    t->missing[j] = r->col[j].missing;
    if (t->type[j] == LATENS_COL_TEXT)
      for (size_t i = 0; i < r->nrow; i++) dst[i] = NAN;
    else memmove(dst, src, r->nrow * sizeof *dst);
  }
  double *d = realloc(r->data, r->nrow * r->ncol * sizeof *d);
  if (d) r->data = d;
  *t->data = (latens_mat){r->data, r->nrow, r->ncol, r->nrow, 1};
  r->data = NULL;
  t->nrow = r->nrow, t->ncol = r->ncol, t->delim = r->delim, t->header = r->header;
  return LATENS_OK;
}

static int read_all(reader *r, latens_table *t) {
  char *line;
  size_t len;
  int status, started = 0;
  size_t initial = r->opt.max_line + 1 < ((size_t)1 << 20) ? r->opt.max_line + 1 : (size_t)1 << 20;
  if (!(r->buf = malloc(initial + 1)))
    return fail(r, LATENS_ENOMEM, 0, 0, "out of memory for the input buffer");
  r->cap = initial;
  while (!(status = next_line(r, &line, &len)) && line) {
    if (blank_line(r, line, len)) continue;
    if (!started) {
      started = 1;
      status = start(r, t, line, len);
    } else if (!(status = tokenize(r, line, len))) {
      status = store_row(r, line);
    }
    if (status) return status;
  }
  if (status || (status = flush_block(r))) return status;
  if (!started) return fail(r, LATENS_EPARSE, 0, 0, "empty file, no rows");
  if (!r->nrow) return fail(r, LATENS_EPARSE, 0, 0, "header only, no data rows");
  return finish(r, t);
}

int latens_table_read_stream(FILE *f, const char *name, const latens_table_options *opt,
                             latens_table **out) {
  if (!out) LATENS_ERROR("latens_table_read_stream: out is NULL", LATENS_EINVAL);
  *out = NULL;
  if (!f) LATENS_ERROR("latens_table_read_stream: stream is NULL", LATENS_EINVAL);
  reader r = {.f = f, .name = name ? name : "<stream>", .cmt = -1};
  if (opt) r.opt = *opt;
  else latens_table_options_default(&r.opt);
  int status = check_options(&r.opt);
  if (status) return status;
  if (r.opt.comment) r.cmt = (unsigned char)r.opt.comment;
  for (size_t i = 0; i < r.opt.n_na; i++) r.na_first[(unsigned char)r.opt.na[i][0]] = 1;
  r.delim = r.opt.delim;
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) r.size_hint = (size_t)st.st_size;
  r.c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  if (!r.c_locale) LATENS_ERROR("latens_table_read: cannot create the C locale", LATENS_ENOMEM);
  latens_table *t = calloc(1, sizeof *t);
  status = t ? read_all(&r, t) : fail(&r, LATENS_ENOMEM, 0, 0, "out of memory");
  freelocale(r.c_locale);
  for (size_t j = 0; j < r.ncol && r.col; j++) free(r.col[j].bad_text);
  free(r.col), free(r.span), free(r.buf), free(r.data), free(r.block);
  if (status) latens_table_free(t);
  else *out = t;
  return status;
}

int latens_table_read(const char *path, const latens_table_options *opt, latens_table **out) {
  if (!out) LATENS_ERROR("latens_table_read: out is NULL", LATENS_EINVAL);
  *out = NULL;
  if (!path || !*path) LATENS_ERROR("latens_table_read: empty path", LATENS_EINVAL);
  if (!strcmp(path, "-")) return latens_table_read_stream(stdin, "<stdin>", opt, out);
  FILE *f = fopen(path, "rb");
  if (!f) {
    int e = errno;
    LATENS_ERRORF(LATENS_EIO, "%s: cannot open: %s", path, strerror(e));
  }
  int status = latens_table_read_stream(f, path, opt, out);
  fclose(f);
  return status;
}

int latens_table_read_numeric(const char *path, const latens_table_options *opt,
                              latens_table **out) {
  latens_table_options o;
  if (opt) o = *opt;
  else latens_table_options_default(&o);
  o.numeric_only = 1;
  return latens_table_read(path, &o, out);
}

void latens_table_free(latens_table *t) {
  if (!t) return;
  latens_mat_free(t->data);
  free(t->names), free(t->pool), free(t->type), free(t->missing);
  free(t);
}

size_t latens_table_nrow(const latens_table *t) { return t ? t->nrow : 0; }
size_t latens_table_ncol(const latens_table *t) { return t ? t->ncol : 0; }

const char *latens_table_name(const latens_table *t, size_t j) {
  return t && j < t->ncol ? t->names[j] : NULL;
}

int latens_table_type(const latens_table *t, size_t j) {
  return t && j < t->ncol ? t->type[j] : -1;
}

const char *latens_table_type_name(int type) {
  switch (type) {
  case LATENS_COL_INTEGER: return "integer";
  case LATENS_COL_REAL: return "real";
  case LATENS_COL_TEXT: return "text";
  default: return "unknown";
  }
}

size_t latens_table_missing(const latens_table *t, size_t j) {
  return t && j < t->ncol ? t->missing[j] : 0;
}

const latens_mat *latens_table_data(const latens_table *t) { return t ? t->data : NULL; }

latens_mat *latens_table_release_data(latens_table *t) {
  if (!t) return NULL;
  latens_mat *m = t->data;
  t->data = NULL;
  return m;
}

int latens_table_delim(const latens_table *t) { return t ? t->delim : 0; }
int latens_table_has_header(const latens_table *t) { return t ? t->header : 0; }
