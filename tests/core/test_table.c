/* tests/core/test_table.c: the CSV / whitespace reader and the CSV writer.
 * Oracles: exact round trip of %.17g; glibc's strtod (correctly rounded) in the C locale;
 * the fixture's own text (column sums computed with awk when it was copied); hand-written
 * small tables whose values and messages are spelled out here. */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <latens/latens.h>
#include "suites.h"

/* ---- helpers */

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Reads `len` bytes of text as the stream "data.csv" (fmemopen: no size, like stdin). */
static int read_mem(const char *text, size_t len, const latens_table_options *opt,
                    latens_table **t) {
  FILE *f = fmemopen((void *)text, len, "r");
  ck_assert_ptr_nonnull(f);
  int status = latens_table_read_stream(f, "data.csv", opt, t);
  fclose(f);
  return status;
}
#define READ(text, opt, t) read_mem((text), sizeof(text) - 1, (opt), (t))

static const char *last_message(void) {
  const char *why = "";
  latens_last_error(&why);
  return why;
}

/* Reading must fail with this status and exactly this message, leaving *t NULL. */
static void expect_error_len(const char *text, size_t len, const latens_table_options *opt,
                             int status, const char *message) {
  latens_table *t = (latens_table *)&t; /* not NULL: the reader must reset it */
  ck_assert_int_eq(read_mem(text, len, opt, &t), status);
  ck_assert_ptr_null(t);
  ck_assert_str_eq(last_message(), message);
}
#define EXPECT_ERROR(text, opt, status, message)                                                \
  expect_error_len((text), sizeof(text) - 1, (opt), (status), (message))

static double cell(const latens_table *t, size_t i, size_t j) {
  return LATENS_MAT(latens_table_data(t), i, j);
}

/* A temporary file with these bytes; the caller unlinks it. */
static void write_tmp(char path[256], const char *text, size_t len) {
  int fd = test_mkstemp(path, 256, "table");
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
  close(fd);
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* ---- tests */

START_TEST(options_defaults) {
  latens_table_options o;
  latens_table_options_default(&o);
  latens_table_options_default(NULL); /* NULL-safe, like every *_options_default */
  ck_assert_int_eq(o.delim, LATENS_DELIM_AUTO);
  ck_assert_int_eq(o.header, LATENS_HEADER_AUTO);
  ck_assert_uint_eq(o.n_na, 3);
  ck_assert_str_eq(o.na[0], "NA");
  ck_assert_str_eq(o.na[1], "");
  ck_assert_str_eq(o.na[2], "?");
  ck_assert_int_eq(o.allow_nonfinite, 0);
  ck_assert_uint_eq(o.max_line, 16u << 20);
  ck_assert_int_eq(o.comment, 0);
  ck_assert_int_eq(o.numeric_only, 0);
  ck_assert_str_eq(latens_table_type_name(LATENS_COL_INTEGER), "integer");
  ck_assert_str_eq(latens_table_type_name(LATENS_COL_REAL), "real");
  ck_assert_str_eq(latens_table_type_name(LATENS_COL_TEXT), "text");
  ck_assert_str_eq(latens_table_type_name(7), "unknown");
}
END_TEST

/* Oracle: identity.  %.17g holds every double exactly, so writing then reading must give
 * back the very bits (signed zeros, subnormals and extremes included). */
START_TEST(round_trip_random_doubles) {
  enum { N = 300, P = 7 };
  latens_mat *m = latens_mat_alloc(N, P);
  uint64_t seed = 42;
  for (size_t j = 0; j < P; j++)
    for (size_t i = 0; i < N; i++) {
      double x;
      if (j < 3) { /* any finite bit pattern */
        uint64_t b;
        do {
          b = splitmix(&seed);
          memcpy(&x, &b, sizeof x);
        } while (!isfinite(x));
      } else if (j < 6) {
        x = ldexp((double)(splitmix(&seed) >> 11), -53) * pow(10.0, 3.0 * ((double)j - 4));
      } else {
        x = (double)(int64_t)(splitmix(&seed) % 2001) - 1000; /* integers */
      }
      LATENS_MAT(m, i, j) = x;
    }
  LATENS_MAT(m, 0, 0) = -0.0, LATENS_MAT(m, 1, 0) = 4.9406564584124654e-324;
  LATENS_MAT(m, 2, 0) = 1.7976931348623157e308, LATENS_MAT(m, 3, 0) = -2.2250738585072014e-308;
  LATENS_MAT(m, 5, 4) = NAN;
  const char *names[P] = {"bits a", "b,c", "say \"hi\"", "u1", "u2", "u3", "int"};
  char path[256];
  write_tmp(path, "", 0);
  ck_assert_int_eq(latens_table_write_csv(path, m, names), LATENS_OK);
  latens_table_options o;
  latens_table_options_default(&o);
  o.header = LATENS_HEADER_YES;
  latens_table *t = NULL;
  ck_assert_msg(latens_table_read_numeric(path, &o, &t) == LATENS_OK, "%s", last_message());
  ck_assert_uint_eq(latens_table_nrow(t), N);
  ck_assert_uint_eq(latens_table_ncol(t), P);
  for (size_t j = 0; j < P; j++) {
    ck_assert_str_eq(latens_table_name(t, j), names[j]);
    for (size_t i = 0; i < N; i++)
      ck_assert_msg(same_bits(cell(t, i, j), LATENS_MAT(m, i, j)) ||
                        (isnan(cell(t, i, j)) && isnan(LATENS_MAT(m, i, j))),
                    "cell (%zu,%zu): %.17g read back as %.17g", i, j, LATENS_MAT(m, i, j),
                    cell(t, i, j));
  }
  ck_assert_uint_eq(latens_table_missing(t, 4), 1);
  ck_assert_int_eq(latens_table_type(t, 0), LATENS_COL_REAL);
  ck_assert_int_eq(latens_table_type(t, 6), LATENS_COL_INTEGER);
  latens_table_free(t);
  /* Without names: no header row, so auto-detection sees numbers and reads V1.. */
  ck_assert_int_eq(latens_table_write_csv(path, m, NULL), LATENS_OK);
  ck_assert_int_eq(latens_table_read(path, NULL, &t), LATENS_OK);
  ck_assert_uint_eq(latens_table_nrow(t), N);
  ck_assert_int_eq(latens_table_has_header(t), 0);
  ck_assert_str_eq(latens_table_name(t, 6), "V7");
  ck_assert(same_bits(cell(t, 0, 0), -0.0));
  latens_table_free(t);
  unlink(path);
  latens_mat_free(m);
}
END_TEST

/* Oracle: glibc's strtod, correctly rounded, in the C locale (Check never calls
 * setlocale).  The strings are built to hit the hand-made fast path (<= 19 significant
 * digits, small exponents), its edges (2^53, 10^22, leading zeros) and the strtod path. */
START_TEST(numbers_match_strtod) {
  enum { N = 20000 };
  size_t cap = (size_t)N * 48 + 16, len = 0;
  char *text = malloc(cap), (*tok)[40] = malloc(N * sizeof *tok);
  uint64_t seed = 7;
  for (int k = 0; k < N; k++) {
    int digits = 1 + (int)(splitmix(&seed) % 20), point = (int)(splitmix(&seed) % (digits + 2));
    char *w = tok[k];
    if (splitmix(&seed) % 3 == 0) *w++ = '-';
    if (splitmix(&seed) % 4 == 0) *w++ = '0', *w++ = '0'; /* leading zeros */
    for (int d = 0; d < digits; d++) {
      if (d == point) *w++ = '.';
      *w++ = (char)('0' + splitmix(&seed) % 10);
    }
    if (splitmix(&seed) % 2) w += sprintf(w, "e%d", (int)(splitmix(&seed) % 61) - 30);
    *w = '\0';
    len += (size_t)sprintf(text + len, "%s\n", tok[k]);
  }
  const char *edges[] = {"9007199254740993.0", "9007199254740992e1", "1e22", "1e23",
                         "123456789012345678e-5", "0.1", "2.2250738585072011e-308",
                         "4.9e-324", "1e-400", "17976931348623157e292",
                         /* the 128-bit path: ties to even, both directions, its edges */
                         "4503599627370496.5", "4503599627370497.5", "9007199254740993e0",
                         "9007199254740995e0", "1.2345678901234567e-21", "1e-27", "1e27",
                         "18446744073709551615e27", "18446744073709551615e-27", "-0e-25",
                         "0.000000000000000000000000000123456789012345678"};
  for (size_t k = 0; k < sizeof edges / sizeof *edges; k++)
    len += (size_t)sprintf(text + len, "%s\n", edges[k]);
  latens_table_options o;
  latens_table_options_default(&o);
  o.header = LATENS_HEADER_NO;
  latens_table *t = NULL;
  ck_assert_int_eq(read_mem(text, len, &o, &t), LATENS_OK);
  ck_assert_uint_eq(latens_table_nrow(t), N + sizeof edges / sizeof *edges);
  for (int k = 0; k < N; k++)
    ck_assert_msg(same_bits(cell(t, (size_t)k, 0), strtod(tok[k], NULL)), "\"%s\": %.17g vs %.17g",
                  tok[k], cell(t, (size_t)k, 0), strtod(tok[k], NULL));
  for (size_t k = 0; k < sizeof edges / sizeof *edges; k++)
    ck_assert_msg(same_bits(cell(t, N + k, 0), strtod(edges[k], NULL)), "%s", edges[k]);
  latens_table_free(t);
  free(text), free(tok);
}
END_TEST

/* Oracle: the closed form the rows were generated from.  10001 rows of 3 columns outgrow
 * the first capacity guess several times (columns move apart on each regrowth), both for a
 * stream of unknown size and for a file whose long header makes the size-based guess low. */
START_TEST(growth_keeps_columns_apart) {
  enum { N = 10001 };
  char *text = malloc((size_t)N * 40 + 400);
  size_t len = (size_t)sprintf(text, "a_rather_long_header_name_to_skew_the_guess,b,c%0200d\n", 0);
  for (int i = 0; i < N; i++) len += (size_t)sprintf(text + len, "%d,%d.5,-%d\n", i, 2 * i, i);
  char path[256];
  write_tmp(path, text, len);
  for (int pass = 0; pass < 2; pass++) {
    latens_table *t = NULL;
    int status = pass ? latens_table_read_numeric(path, NULL, &t) : read_mem(text, len, NULL, &t);
    ck_assert_msg(status == LATENS_OK, "%s", last_message());
    ck_assert_uint_eq(latens_table_nrow(t), N);
    const latens_mat *m = latens_table_data(t);
    ck_assert_uint_eq(m->ld, N);
    for (size_t i = 0; i < N; i++) {
      ck_assert_double_eq(LATENS_MAT(m, i, 0), (double)i);
      ck_assert_double_eq(LATENS_MAT(m, i, 1), 2.0 * (double)i + 0.5);
      ck_assert_double_eq(LATENS_MAT(m, i, 2), -(double)i);
    }
    ck_assert_int_eq(latens_table_type(t, 0), LATENS_COL_INTEGER);
    ck_assert_int_eq(latens_table_type(t, 1), LATENS_COL_REAL);
    latens_table_free(t);
  }
  unlink(path);
  free(text);
}
END_TEST

START_TEST(header_auto_detection) {
  latens_table *t = NULL;
  ck_assert_int_eq(READ("x,y\n1,2\n", NULL, &t), LATENS_OK);
  ck_assert_int_eq(latens_table_has_header(t), 1);
  ck_assert_str_eq(latens_table_name(t, 1), "y");
  ck_assert_uint_eq(latens_table_nrow(t), 1);
  latens_table_free(t);
  /* Numbers and missing tokens do not make a header. */
  ck_assert_int_eq(READ("1,NA,-.5e3\n3,4,5\n", NULL, &t), LATENS_OK);
  ck_assert_int_eq(latens_table_has_header(t), 0);
  ck_assert_uint_eq(latens_table_nrow(t), 2);
  ck_assert_str_eq(latens_table_name(t, 2), "V3");
  ck_assert_double_eq(cell(t, 0, 2), -500.0);
  latens_table_free(t);
  /* One word is enough; an empty header cell is named by position. */
  ck_assert_int_eq(READ("1,b,\"\"\n3,4,5\n", NULL, &t), LATENS_OK);
  ck_assert_int_eq(latens_table_has_header(t), 1);
  ck_assert_str_eq(latens_table_name(t, 0), "1");
  ck_assert_str_eq(latens_table_name(t, 2), "V3");
  latens_table_free(t);
  /* Forced either way. */
  latens_table_options o;
  latens_table_options_default(&o);
  o.header = LATENS_HEADER_YES;
  ck_assert_int_eq(READ("1,2\n3,4\n", &o, &t), LATENS_OK);
  ck_assert_str_eq(latens_table_name(t, 0), "1");
  ck_assert_uint_eq(latens_table_nrow(t), 1);
  latens_table_free(t);
  o.header = LATENS_HEADER_NO;
  ck_assert_int_eq(READ("a,b\n3,4\n", &o, &t), LATENS_OK);
  ck_assert_uint_eq(latens_table_nrow(t), 2);
  ck_assert_int_eq(latens_table_type(t, 0), LATENS_COL_TEXT);
  latens_table_free(t);
}
END_TEST

/* Oracle: the fixture's text; its column sums were computed with awk when it was copied. */
START_TEST(whitespace_bnlearn_fixture) {
  latens_table *t = NULL;
  ck_assert_int_eq(latens_table_read_numeric(test_srcpath("tests/core/data/asia50.txt"), NULL, &t),
                   LATENS_OK);
  ck_assert_int_eq(latens_table_delim(t), LATENS_DELIM_WHITESPACE);
  ck_assert_int_eq(latens_table_has_header(t), 1);
  ck_assert_uint_eq(latens_table_nrow(t), 49);
  ck_assert_uint_eq(latens_table_ncol(t), 8);
  const double sums[8] = {49, 49, 76, 54, 72, 54, 56, 73};
  const double last[8] = {1, 1, 2, 2, 2, 2, 2, 2};
  for (size_t j = 0; j < 8; j++) {
    char name[8];
    snprintf(name, sizeof name, "X%zu", j + 1);
    ck_assert_str_eq(latens_table_name(t, j), name);
    ck_assert_int_eq(latens_table_type(t, j), LATENS_COL_INTEGER);
    ck_assert_uint_eq(latens_table_missing(t, j), 0);
    double s = 0;
    for (size_t i = 0; i < 49; i++) s += cell(t, i, j);
    ck_assert_double_eq(s, sums[j]);
    ck_assert_double_eq(cell(t, 48, j), last[j]);
  }
  latens_table_free(t);
  /* Runs of spaces and tabs, blanks at both ends, a quoted name with a space. */
  latens_table_options o;
  latens_table_options_default(&o);
  o.delim = LATENS_DELIM_WHITESPACE;
  ck_assert_int_eq(READ("  a \t \"b c\"\n\t1   2 \n\n 3\t\t4\n", &o, &t), LATENS_OK);
  ck_assert_uint_eq(latens_table_nrow(t), 2);
  ck_assert_str_eq(latens_table_name(t, 1), "b c");
  ck_assert_double_eq(cell(t, 1, 0), 3.0);
  ck_assert_double_eq(cell(t, 1, 1), 4.0);
  latens_table_free(t);
  EXPECT_ERROR("a b\n1 2\n3 4 5\n", &o, LATENS_EPARSE, "data.csv:3: expected 2 fields, found 3");
  EXPECT_ERROR("a b\n\"1\"2 3\n", &o, LATENS_EPARSE, "data.csv:2:1: text after the closing quote");
}
END_TEST

START_TEST(missing_tokens) {
  latens_table *t = NULL;
  ck_assert_int_eq(READ("a,b,c\nNA,,?\n1, 2 ,\"NA\"\n", NULL, &t), LATENS_OK);
  for (size_t j = 0; j < 3; j++) {
    ck_assert(isnan(cell(t, 0, j)));
    ck_assert_int_eq(latens_table_type(t, j), LATENS_COL_INTEGER);
  }
  ck_assert_uint_eq(latens_table_missing(t, 0), 1);
  ck_assert_uint_eq(latens_table_missing(t, 2), 2); /* a quoted NA is missing too */
  ck_assert_double_eq(cell(t, 1, 1), 2.0);          /* unquoted cells are trimmed */
  latens_table_free(t);
  /* Own tokens replace the defaults: NA is then text, or an error when strict. */
  const char *na[] = {"-999", "."};
  latens_table_options o;
  latens_table_options_default(&o);
  o.na = na, o.n_na = 2;
  ck_assert_int_eq(READ("a,b\n-999,NA\n.,1\n", &o, &t), LATENS_OK);
  ck_assert_uint_eq(latens_table_missing(t, 0), 2);
  ck_assert_int_eq(latens_table_type(t, 1), LATENS_COL_TEXT);
  ck_assert(isnan(cell(t, 1, 1))); /* TEXT columns hold NaN, numbers included */
  latens_table_free(t);
  o.numeric_only = 1;
  EXPECT_ERROR("a,b\n-999,NA\n", &o, LATENS_EPARSE,
               "data.csv:2:2: expected a number, found \"NA\"");
  EXPECT_ERROR("a,b\n-999,\n", &o, LATENS_EPARSE, "data.csv:2:2: expected a number, found \"\"");
  /* No tokens at all. */
  o.n_na = 0, o.na = NULL, o.numeric_only = 0;
  ck_assert_int_eq(READ("a\n1\nNA\n", &o, &t), LATENS_OK);
  ck_assert_int_eq(latens_table_type(t, 0), LATENS_COL_TEXT);
  latens_table_free(t);
}
END_TEST

START_TEST(ragged_rows_and_trailing_delimiters) {
  EXPECT_ERROR("a,b,c,d\n1,2,3,4\n5,6,7,8\n1,2,3,4\n9,9,9\n", NULL, LATENS_EPARSE,
               "data.csv:5: expected 4 fields, found 3");
  EXPECT_ERROR("1,2\n3,4,5\n", NULL, LATENS_EPARSE, "data.csv:2: expected 2 fields, found 3");
  /* The first line alone chooses the delimiter: this one has none, so say it. */
  latens_table_options comma;
  latens_table_options_default(&comma);
  comma.delim = ',';
  EXPECT_ERROR("x\n1\n2,3\n", &comma, LATENS_EPARSE, "data.csv:3: expected 1 field, found 2");
  EXPECT_ERROR("a,b\n1,2,\n", NULL, LATENS_EPARSE,
               "data.csv:2: expected 2 fields, found 3 (a trailing ',')");
  /* A delimiter ending every line (header included) terminates fields: no extra column. */
  latens_table *t = NULL;
  ck_assert_int_eq(READ("a;b;\n1;2;\n3;;\n", NULL, &t), LATENS_OK);
  ck_assert_uint_eq(latens_table_ncol(t), 2);
  ck_assert_uint_eq(latens_table_missing(t, 1), 1);
  latens_table_free(t);
  EXPECT_ERROR("a,b,\n1,2,\n3,4\n", NULL, LATENS_EPARSE,
               "data.csv:3: expected 2 fields each ended by ',' as on line 1");
  EXPECT_ERROR("a,b,\n1,2,\n3,4,5,\n", NULL, LATENS_EPARSE,
               "data.csv:3: expected 2 fields, found 3");
  /* A genuinely empty last cell is missing, not a terminator. */
  ck_assert_int_eq(READ("a,b\n1,\n3,4\n", NULL, &t), LATENS_OK);
  ck_assert_uint_eq(latens_table_missing(t, 1), 1);
  latens_table_free(t);
}
END_TEST

START_TEST(non_numeric_cell) {
  char text[1024];
  size_t len = (size_t)sprintf(text, "a,b,c,d\n");
  for (int i = 2; i < 17; i++) len += (size_t)sprintf(text + len, "%d,1.5,-2,3e2\n", i);
  len += (size_t)sprintf(text + len, "1,2,3,abc\n4,5,6,7\n");
  latens_table_options o;
  latens_table_options_default(&o);
  o.numeric_only = 1, o.delim = ',';
  expect_error_len(text, len, &o, LATENS_EPARSE, "data.csv:17:4: expected a number, found \"abc\"");
  /* Tolerant: column d is TEXT (all NaN), the others are read. */
  latens_table *t = NULL;
  ck_assert_int_eq(read_mem(text, len, NULL, &t), LATENS_OK);
  ck_assert_uint_eq(latens_table_nrow(t), 17);
  ck_assert_int_eq(latens_table_type(t, 3), LATENS_COL_TEXT);
  ck_assert(isnan(cell(t, 0, 3)));
  ck_assert_double_eq(cell(t, 16, 2), 6.0);
  latens_table_free(t);
  /* Long cells are cut at 40 bytes; control bytes shown as '?'. */
  EXPECT_ERROR("a\n0123456789012345678901234567890123456789xyz\n", &o, LATENS_EPARSE,
               "data.csv:2:1: expected a number, found "
               "\"0123456789012345678901234567890123456789\"...");
  EXPECT_ERROR("a\n1\x01x\n", &o, LATENS_EPARSE, "data.csv:2:1: expected a number, found \"1?x\"");
  /* Hexadecimal and other strtod extensions are not numbers. */
  EXPECT_ERROR("a\n0x10\n", &o, LATENS_EPARSE, "data.csv:2:1: expected a number, found \"0x10\"");
  EXPECT_ERROR("a\n1e\n", &o, LATENS_EPARSE, "data.csv:2:1: expected a number, found \"1e\"");
  EXPECT_ERROR("a\n1 2\n", &o, LATENS_EPARSE, "data.csv:2:1: expected a number, found \"1 2\"");
  EXPECT_ERROR("a\n1\n1e999\n", &o, LATENS_EPARSE,
               "data.csv:3:1: number out of range, found \"1e999\"");
  EXPECT_ERROR("a\n1\n1e999\n", NULL, LATENS_EPARSE,
               "data.csv:3:1: number out of range, found \"1e999\"");
  /* Tolerant mode defers it like nan: a TEXT column takes it as text (a code, say)... */
  ck_assert_int_eq(READ("code,v\n1e999,1\nB7,2\n", NULL, &t), LATENS_OK);
  ck_assert_int_eq(latens_table_type(t, 0), LATENS_COL_TEXT);
  ck_assert(isnan(cell(t, 0, 0)));
  ck_assert_double_eq(cell(t, 1, 1), 2.0);
  latens_table_free(t);
  /* ...and numeric columns report the earliest first bad cell, whichever kind it is (column
   * b's at line 3 before column a's at line 4). */
  EXPECT_ERROR("a,b\n1,2\n3,-1e999\n1e400,nan\n", NULL, LATENS_EPARSE,
               "data.csv:3:2: number out of range, found \"-1e999\"");
  EXPECT_ERROR("a,b\n1,nan\n1e999,2\n", NULL, LATENS_EPARSE,
               "data.csv:2:2: non-finite number \"nan\" not allowed");
}
END_TEST

START_TEST(nonfinite_literals) {
  latens_table_options o;
  latens_table_options_default(&o);
  EXPECT_ERROR("x,y\n1,2\n3,inf\n", &o, LATENS_EPARSE,
               "data.csv:3:2: non-finite number \"inf\" not allowed");
  o.numeric_only = 1;
  EXPECT_ERROR("x,y\n1,NaN\n", &o, LATENS_EPARSE,
               "data.csv:2:2: non-finite number \"NaN\" not allowed");
  EXPECT_ERROR("x,y\n1,-Infinity\n", &o, LATENS_EPARSE,
               "data.csv:2:2: non-finite number \"-Infinity\" not allowed");
  /* Tolerant mode waits for the end: in a TEXT column such words are text ("Nan" is a name). */
  latens_table *t = NULL;
  ck_assert_int_eq(READ("name,v\nNan,1\nBob,2\n", NULL, &t), LATENS_OK);
  ck_assert_int_eq(latens_table_type(t, 0), LATENS_COL_TEXT);
  latens_table_free(t);
  EXPECT_ERROR("a,b\n1,nan\ninf,2\n", NULL, LATENS_EPARSE,
               "data.csv:2:2: non-finite number \"nan\" not allowed");
  o.allow_nonfinite = 1;
  ck_assert_int_eq(READ("x,y\n1,NaN\n2,-INF\n3,+infinity\n", &o, &t), LATENS_OK);
  ck_assert_int_eq(latens_table_type(t, 1), LATENS_COL_REAL);
  ck_assert_uint_eq(latens_table_missing(t, 1), 0);
  ck_assert(isnan(cell(t, 0, 1)));
  ck_assert(isinf(cell(t, 1, 1)) && cell(t, 1, 1) < 0);
  ck_assert(isinf(cell(t, 2, 1)) && cell(t, 2, 1) > 0);
  latens_table_free(t);
  EXPECT_ERROR("x\ninfinit\n", &o, LATENS_EPARSE,
               "data.csv:2:1: expected a number, found \"infinit\"");
}
END_TEST

START_TEST(empty_and_header_only) {
  char path[256];
  write_tmp(path, "", 0);
  latens_table *t = NULL;
  char want[512];
  ck_assert_int_eq(latens_table_read(path, NULL, &t), LATENS_EPARSE);
  ck_assert_ptr_null(t);
  snprintf(want, sizeof want, "%s: empty file, no rows", path);
  ck_assert_str_eq(last_message(), want);
  unlink(path);
  EXPECT_ERROR("\n  \n\r\n", NULL, LATENS_EPARSE, "data.csv: empty file, no rows");
  EXPECT_ERROR("\xEF\xBB\xBF", NULL, LATENS_EPARSE, "data.csv: empty file, no rows");
  latens_table_options o;
  latens_table_options_default(&o);
  o.comment = '#';
  EXPECT_ERROR("# nothing\n  # here\n", &o, LATENS_EPARSE, "data.csv: empty file, no rows");
  EXPECT_ERROR("a,b,c,d\n", NULL, LATENS_EPARSE, "data.csv: header only, no data rows");
  EXPECT_ERROR("a,b\n\n\n", NULL, LATENS_EPARSE, "data.csv: header only, no data rows");
  /* Bare CR line ends make the file one line: said plainly, not as "header only", and
   * before the max_line limit that such a file would soon exceed. */
  const char *cr = "data.csv:1: bare CR line ends are not supported (convert to LF or CRLF)";
  EXPECT_ERROR("a,b\r1,2\r3,4\r", NULL, LATENS_EPARSE, cr);
  EXPECT_ERROR("a,b\r1,2", NULL, LATENS_EPARSE, cr);
  o.max_line = 8;
  EXPECT_ERROR("a,b\r1,2\r3,4\r5,6\r", &o, LATENS_EPARSE, cr);
}
END_TEST

START_TEST(missing_file) {
  latens_table *t = NULL;
  ck_assert_int_eq(latens_table_read("/tmp/latens-no-such-dir/x.csv", NULL, &t), LATENS_EIO);
  ck_assert_ptr_null(t);
  ck_assert_str_eq(last_message(),
                   "/tmp/latens-no-such-dir/x.csv: cannot open: No such file or directory");
  ck_assert_int_eq(latens_table_read_numeric("/tmp/latens-no-such-dir/x.csv", NULL, &t),
                   LATENS_EIO);
  /* A directory opens but cannot be read. */
  ck_assert_int_eq(latens_table_read("/tmp", NULL, &t), LATENS_EIO);
  ck_assert_str_eq(last_message(), "/tmp: read error: Is a directory");
}
END_TEST

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

static long max_rss_kib(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

/* One 50 MB line: refused after buffering max_line (16 MiB), not the whole line. */
START_TEST(over_long_line) {
  char path[256];
  write_tmp(path, "a,b\n", 4);
  FILE *f = fopen(path, "a");
  static char chunk[1 << 20];
  for (size_t i = 0; i < sizeof chunk; i += 2) chunk[i] = '1', chunk[i + 1] = ',';
  for (int k = 0; k < 50; k++) ck_assert_uint_eq(fwrite(chunk, 1, sizeof chunk, f), sizeof chunk);
  fclose(f);
  long before = max_rss_kib();
  latens_table *t = NULL;
  ck_assert_int_eq(latens_table_read(path, NULL, &t), LATENS_EPARSE);
  ck_assert_ptr_null(t);
  /* The peak grows by the 16 MiB window, a realloc copy of it and slack; "gigabytes" would
   * mean the line was buffered whole or split into fields. */
  if (!RUNNING_ON_VALGRIND) /* valgrind's shadow memory inflates the process's RSS */
    ck_assert_int_lt(max_rss_kib() - before, 256 * 1024);
  char want[512];
  snprintf(want, sizeof want, "%s:2: line longer than 16777216 bytes (the max_line limit)", path);
  ck_assert_str_eq(last_message(), want);
  unlink(path);
  /* The limit is inclusive: a line of exactly max_line bytes is read. */
  latens_table_options o;
  latens_table_options_default(&o);
  o.max_line = 7;
  ck_assert_int_eq(READ("a,b,c,d\n1,2,3,4\n", &o, &t), LATENS_OK);
  latens_table_free(t);
  EXPECT_ERROR("a,b,c,d\n1,2,3,4\n10,2,3,4\n", &o, LATENS_EPARSE,
               "data.csv:3: line longer than 7 bytes (the max_line limit)");
}
END_TEST

START_TEST(crlf_bom_no_final_newline) {
  latens_table *t = NULL;
  ck_assert_int_eq(READ("\xEF\xBB\xBF\"a b\",\"c\"\"d\",e\r\n1,2.5,x\r\n3,4,y", NULL, &t),
                   LATENS_OK);
  ck_assert_uint_eq(latens_table_nrow(t), 2);
  ck_assert_str_eq(latens_table_name(t, 0), "a b");
  ck_assert_str_eq(latens_table_name(t, 1), "c\"d");
  ck_assert_str_eq(latens_table_name(t, 2), "e");
  ck_assert_double_eq(cell(t, 1, 0), 3.0);
  ck_assert_double_eq(cell(t, 0, 1), 2.5);
  ck_assert_int_eq(latens_table_type(t, 2), LATENS_COL_TEXT);
  latens_table_free(t);
  /* A numeric last cell right at the end of input, no newline. */
  ck_assert_int_eq(READ("1,2\r\n3,4.25", NULL, &t), LATENS_OK);
  ck_assert_double_eq(cell(t, 1, 1), 4.25);
  latens_table_free(t);
  /* A CRLF split by the first 1 MiB read window is no bare CR: the header is 2^20 - 1
   * bytes, so the window ends on its CR and the LF arrives with the next read. */
  size_t n = ((size_t)1 << 20) - 1;
  char *big = malloc(n + 5);
  ck_assert_ptr_nonnull(big);
  memset(big, 'a', n);
  memcpy(big + n, "\r\n1\r\n", 5);
  ck_assert_int_eq(read_mem(big, n + 5, NULL, &t), LATENS_OK);
  ck_assert_uint_eq(latens_table_nrow(t), 1);
  ck_assert_uint_eq(strlen(latens_table_name(t, 0)), n);
  latens_table_free(t);
  free(big);
}
END_TEST

/* A pipe has no size and cannot seek, like stdin; "-" reads stdin itself. */
START_TEST(stream_and_stdin) {
  int fd[2];
  ck_assert_int_eq(pipe(fd), 0);
  const char text[] = "u;v\n1;2\n3;4\n";
  ck_assert_int_eq(write(fd[1], text, sizeof text - 1), (ssize_t)(sizeof text - 1));
  close(fd[1]);
  FILE *f = fdopen(fd[0], "r");
  latens_table *t = NULL;
  ck_assert_int_eq(latens_table_read_stream(f, "pipe", NULL, &t), LATENS_OK);
  fclose(f);
  ck_assert_int_eq(latens_table_delim(t), ';');
  ck_assert_uint_eq(latens_table_nrow(t), 2);
  ck_assert_double_eq(cell(t, 1, 1), 4.0);
  latens_table_free(t);

  char path[256];
  write_tmp(path, "p\tq\n5\t6\n", 8);
  int saved = dup(0), in = open(path, O_RDONLY);
  ck_assert_int_ge(dup2(in, 0), 0);
  close(in);
  clearerr(stdin);
  int status = latens_table_read("-", NULL, &t);
  dup2(saved, 0);
  close(saved);
  unlink(path);
  ck_assert_int_eq(status, LATENS_OK);
  ck_assert_int_eq(latens_table_delim(t), '\t');
  ck_assert_double_eq(cell(t, 0, 1), 6.0);
  latens_table_free(t);
}
END_TEST

/* Integer: integer literals a double holds exactly; 2^53 + 1 is not one. */
START_TEST(column_types) {
  latens_table *t = NULL;
  ck_assert_int_eq(READ("i,r,t,big,e,huge,z\n"
                        "1,1.5,x,9007199254740993,1e3,18446744073709551616,-0\n"
                        "-2,2,3,1,2,1,007\n"
                        "+3,NA,,9007199254740992,4,2,0\n",
                        NULL, &t),
                   LATENS_OK);
  const int want[] = {LATENS_COL_INTEGER, LATENS_COL_REAL, LATENS_COL_TEXT, LATENS_COL_REAL,
                      LATENS_COL_REAL,    LATENS_COL_REAL, LATENS_COL_INTEGER};
  for (size_t j = 0; j < 7; j++) ck_assert_int_eq(latens_table_type(t, j), want[j]);
  ck_assert_double_eq(cell(t, 2, 0), 3.0);
  ck_assert_double_eq(cell(t, 0, 3), 9007199254740992.0); /* rounded to even */
  ck_assert_double_eq(cell(t, 0, 5), 18446744073709551616.0);
  ck_assert(cell(t, 0, 6) == 0.0 && signbit(cell(t, 0, 6)));
  ck_assert_double_eq(cell(t, 1, 6), 7.0);
  ck_assert_uint_eq(latens_table_missing(t, 1), 1);
  ck_assert_uint_eq(latens_table_missing(t, 2), 1);
  latens_table_free(t);
  /* A column with no number at all counts as INTEGER (nothing contradicts it). */
  ck_assert_int_eq(READ("a,b\n1,NA\n2,?\n", NULL, &t), LATENS_OK);
  ck_assert_int_eq(latens_table_type(t, 1), LATENS_COL_INTEGER);
  ck_assert_uint_eq(latens_table_missing(t, 1), 2);
  latens_table_free(t);
}
END_TEST

START_TEST(quotes_nul_comments_delimiters) {
  latens_table *t = NULL;
  ck_assert_int_eq(READ("name,x\n\"Smith, J\",\"1.5\"\n \"O\"\"Neil\" , 2\n", NULL, &t), LATENS_OK);
  ck_assert_int_eq(latens_table_type(t, 1), LATENS_COL_REAL);
  ck_assert_double_eq(cell(t, 0, 1), 1.5);
  latens_table_free(t);
  EXPECT_ERROR("a,b\n1,\"2\n3,4\n", NULL, LATENS_EPARSE,
               "data.csv:2:2: unterminated quoted field (a quoted field cannot span lines)");
  EXPECT_ERROR("a,b\n\"1\"x,2\n", NULL, LATENS_EPARSE,
               "data.csv:2:1: text after the closing quote");
  EXPECT_ERROR("a,b\n1,2\0003\n", NULL, LATENS_EPARSE, "data.csv:2:2: NUL byte in the data");
  EXPECT_ERROR("a,b\n1,\"\0\"\n", NULL, LATENS_EPARSE, "data.csv:2:2: NUL byte in the data");
  /* Bytes that are not UTF-8 are fine in text. */
  ck_assert_int_eq(READ("a,\xff\xfe\n1,\xc3\x28\n", NULL, &t), LATENS_OK);
  ck_assert_str_eq(latens_table_name(t, 1), "\xff\xfe");
  latens_table_free(t);
  latens_table_options o;
  latens_table_options_default(&o);
  o.comment = '#';
  ck_assert_int_eq(READ("# a comment\na,b # names\n1,2\n# more\n3,\"#4\"\n", &o, &t), LATENS_OK);
  ck_assert_uint_eq(latens_table_nrow(t), 2);
  ck_assert_str_eq(latens_table_name(t, 1), "b");
  ck_assert_int_eq(latens_table_type(t, 1), LATENS_COL_TEXT);
  latens_table_free(t);
  /* Auto-detection picks the most frequent separator; an explicit one overrides it. */
  ck_assert_int_eq(READ("a\tb\tc,d\n1\t2\t3\n", NULL, &t), LATENS_OK);
  ck_assert_int_eq(latens_table_delim(t), '\t');
  ck_assert_str_eq(latens_table_name(t, 2), "c,d");
  latens_table_free(t);
  latens_table_options_default(&o);
  o.delim = ';';
  ck_assert_int_eq(READ("a,b\n1,2\n", &o, &t), LATENS_OK);
  ck_assert_uint_eq(latens_table_ncol(t), 1);
  ck_assert_int_eq(latens_table_type(t, 0), LATENS_COL_TEXT);
  latens_table_free(t);
}
END_TEST

START_TEST(bad_arguments) {
  latens_table *t = NULL;
  latens_table_options o;
  latens_table_options_default(&o);
  ck_assert_int_eq(latens_table_read(NULL, NULL, &t), LATENS_EINVAL);
  ck_assert_int_eq(latens_table_read("", NULL, &t), LATENS_EINVAL);
  ck_assert_int_eq(latens_table_read("x.csv", NULL, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_table_read_numeric(NULL, NULL, &t), LATENS_EINVAL);
  ck_assert_int_eq(latens_table_read_stream(NULL, "x", NULL, &t), LATENS_EINVAL);
  ck_assert_ptr_null(t);
  o.delim = 'x';
  EXPECT_ERROR("1\n", &o, LATENS_EINVAL,
               "latens_table_read: delimiter 120 is not ',' ';' tab, space or auto");
  latens_table_options_default(&o), o.header = 5;
  EXPECT_ERROR("1\n", &o, LATENS_EINVAL, "latens_table_read: header mode 5 is not NO, YES or AUTO");
  latens_table_options_default(&o), o.max_line = 0;
  EXPECT_ERROR("1\n", &o, LATENS_EINVAL, "latens_table_read: max_line 0 outside [1, 2^31]");
  latens_table_options_default(&o), o.na = NULL;
  EXPECT_ERROR("1\n", &o, LATENS_EINVAL, "latens_table_read: na is NULL with n_na > 0");
  latens_table_options_default(&o), o.comment = '"';
  EXPECT_ERROR("1\n", &o, LATENS_EINVAL, "latens_table_read: comment character 34 is not usable");
  /* Accessors are NULL-safe and range-checked. */
  latens_table_free(NULL);
  ck_assert_uint_eq(latens_table_nrow(NULL), 0);
  ck_assert_ptr_null(latens_table_data(NULL));
  ck_assert_ptr_null(latens_table_release_data(NULL));
  ck_assert_int_eq(READ("a\n1\n", NULL, &t), LATENS_OK);
  ck_assert_ptr_null(latens_table_name(t, 1));
  ck_assert_int_eq(latens_table_type(t, 1), -1);
  ck_assert_uint_eq(latens_table_missing(t, 1), 0);
  latens_mat *m = latens_table_release_data(t);
  ck_assert_ptr_null(latens_table_data(t));
  latens_table_free(t);
  ck_assert_uint_eq(m->nrow, 1);
  ck_assert_double_eq(LATENS_MAT(m, 0, 0), 1.0);
  /* The writer checks everything before creating a file. */
  char path[] = "/tmp/latens-table-never-written.csv";
  const char *bad[] = {"ok", "line\nbreak"};
  latens_mat two = latens_mat_view(m->data, 1, 2, 1), none = latens_mat_view(m->data, 1, 0, 1);
  double one[2] = {1, 2};
  two.data = one;
  ck_assert_int_eq(latens_table_write_csv(path, NULL, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_table_write_csv(path, &none, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_table_write_csv(path, &two, bad), LATENS_EINVAL);
  ck_assert_str_eq(last_message(), "latens_table_write_csv: colnames[1] contains a line break");
  ck_assert_int_eq(latens_table_write_csv(NULL, &two, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_table_write_csv_stream(NULL, &two, NULL), LATENS_EINVAL);
  ck_assert_int_eq(access(path, F_OK), -1);
  ck_assert_int_eq(latens_table_write_csv("/tmp/latens-no-such-dir/x.csv", &two, NULL), LATENS_EIO);
  latens_mat_free(m);
}
END_TEST

/* Switches LC_NUMERIC to a comma-decimal locale: an installed one, else de_DE compiled by
 * localedef (about 2 s, all local) into a fresh directory named by LOCPATH, stored in dir
 * for clean_locale.  0 when neither works: this test then checks only the C locale. */
static int comma_locale(char dir[256]) {
  const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "de_DE", NULL};
  dir[0] = '\0';
  for (const char **l = names; *l; l++)
    if (setlocale(LC_NUMERIC, *l) && localeconv()->decimal_point[0] == ',') return 1;
  if (access("/usr/share/i18n/locales/de_DE", R_OK) != 0) return 0;
  if (!test_mkdtemp(dir, 256, "locale")) return dir[0] = '\0', 0;
  char cmd[160];
  snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1", dir);
  /* localedef exits 1 on mere warnings: setlocale below is the real test. */
  if (system(cmd) == -1) return 0;
  setenv("LOCPATH", dir, 1);
  return setlocale(LC_NUMERIC, "de_DE.UTF-8") && localeconv()->decimal_point[0] == ',';
}

static void clean_locale(const char *dir) {
  if (!dir[0]) return;
  unsetenv("LOCPATH");
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* NaN is written as NA and infinities as Inf/-Inf; a German LC_NUMERIC must leak into
 * neither the writer nor the reader (0.1 would come out as "0,10000000000000001"). */
START_TEST(writer_special_values_and_locale) {
  double v[4] = {0.1, NAN, INFINITY, -INFINITY}; /* 0.1 needs 17 digits: the strtod_l path */
  latens_mat m = latens_mat_view(v, 1, 4, 1);
  char buf[256] = "";
  FILE *f = fmemopen(buf, sizeof buf, "w");
  const char *names[] = {"a", "", " b", "c;d"};
  char *old = strdup(setlocale(LC_NUMERIC, NULL)), dir[256];
  if (!comma_locale(dir))
    fprintf(stderr, "locale check skipped: no comma-decimal locale available\n");
  ck_assert_int_eq(latens_table_write_csv_stream(f, &m, names), LATENS_OK);
  fclose(f);
  ck_assert_str_eq(buf, "a,\"\",\" b\",\"c;d\"\n0.10000000000000001,NA,Inf,-Inf\n");
  latens_table_options o;
  latens_table_options_default(&o);
  o.allow_nonfinite = 1;
  latens_table *t = NULL;
  ck_assert_int_eq(read_mem(buf, strlen(buf), &o, &t), LATENS_OK);
  setlocale(LC_NUMERIC, old);
  free(old);
  clean_locale(dir);
  ck_assert_double_eq(cell(t, 0, 0), 0.1);
  ck_assert(isnan(cell(t, 0, 1)));
  ck_assert_uint_eq(latens_table_missing(t, 1), 1);
  ck_assert(isinf(cell(t, 0, 3)) && cell(t, 0, 3) < 0);
  ck_assert_str_eq(latens_table_name(t, 1), "V2");
  ck_assert_str_eq(latens_table_name(t, 2), " b");
  latens_table_free(t);
}
END_TEST

Suite *table_suite(void) {
  Suite *s = suite_create("table");
  TCase *tc = tcase_create("table");
  tcase_add_test(tc, options_defaults);
  tcase_add_test(tc, round_trip_random_doubles);
  tcase_add_test(tc, numbers_match_strtod);
  tcase_add_test(tc, growth_keeps_columns_apart);
  tcase_add_test(tc, header_auto_detection);
  tcase_add_test(tc, whitespace_bnlearn_fixture);
  tcase_add_test(tc, missing_tokens);
  tcase_add_test(tc, ragged_rows_and_trailing_delimiters);
  tcase_add_test(tc, non_numeric_cell);
  tcase_add_test(tc, nonfinite_literals);
  tcase_add_test(tc, empty_and_header_only);
  tcase_add_test(tc, missing_file);
  tcase_add_test(tc, over_long_line);
  tcase_add_test(tc, crlf_bom_no_final_newline);
  tcase_add_test(tc, stream_and_stdin);
  tcase_add_test(tc, column_types);
  tcase_add_test(tc, quotes_nul_comments_delimiters);
  tcase_add_test(tc, bad_arguments);
  tcase_add_test(tc, writer_special_values_and_locale);
  suite_add_tcase(s, tc);
  return s;
}
