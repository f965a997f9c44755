/* latens/table.h: table I/O — the CSV/whitespace reader and the atomic file writer.
 * (The writer API just below is fixed; the reader follows it.) */
#ifndef LATENS_TABLE_H
#define LATENS_TABLE_H

#include <stdio.h>
#include <latens/common.h>
#include <latens/matrix.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Atomic writer: output goes to a temporary file beside `path` and replaces `path`
 * only on commit (fflush + fsync + rename + fsync of the directory), so an interrupted run
 * leaves the old file intact.  An existing file keeps its permission bits; a symlink is
 * followed and its target replaced.  An existing FIFO, device or socket (-o /dev/stdout)
 * cannot be replaced atomically and is written in place; a directory is an error.
 * Thread-safe: concurrent writers to different paths never interfere. */
typedef struct latens_atomic_file latens_atomic_file;
/* NULL (error handler called, naming the path and errno text) on failure. */
LATENS_EXPORT latens_atomic_file *latens_atomic_open(const char *path);
LATENS_EXPORT FILE *latens_atomic_stream(latens_atomic_file *f);
/* Flush, sync and rename into place; always frees f.  LATENS_EIO (temp removed) on failure. */
LATENS_EXPORT int latens_atomic_commit(latens_atomic_file *f);
/* Remove the temporary file and free f; the old file is untouched.  NULL-safe. */
LATENS_EXPORT void latens_atomic_abort(latens_atomic_file *f);

/* ---- Reader: CSV / whitespace-separated numeric tables.
 *
 * One record per physical line (a quoted field cannot span lines).  Blank lines, and lines
 * holding only a comment when a comment character is set, are skipped (so in a one-column
 * file a missing value needs a token such as NA); line numbers in messages count every
 * physical line from 1.  A UTF-8 byte-order mark, CRLF line ends and a missing final
 * newline are accepted; bare CR line ends (classic Mac OS) are refused, found as a CR
 * followed by anything but LF on the first line (even inside quotes).  Fields may be
 * quoted with "..." ("" inside stands for one quote); quoted numbers are numbers.
 * Unquoted fields are trimmed of blanks.  If the first row ends with the delimiter, every
 * row must (the empty field it makes is dropped): some exporters terminate fields rather
 * than separate them.  Text need not be valid UTF-8.
 *
 * Numbers are read in the C locale whatever setlocale says, correctly rounded (values
 * written with %.17g read back exactly).  Hexadecimal literals are not numbers.  nan, inf
 * and infinity (any case, optional sign) are errors unless allow_nonfinite is set, since
 * they mostly betray a broken upstream computation; a number beyond the double range
 * (1e999) is always an error.  The tolerant reader reports either only once the input is
 * read, and not at all in a column that turns out TEXT (where such cells are text); the
 * error names the first such cell (by line, then column) outside TEXT columns.
 *
 * Errors (LATENS_EPARSE, or LATENS_EIO for files that cannot be opened or read) are
 * reported as "NAME:LINE:COL: message", LINE and COL 1-based (COL counts fields), either
 * omitted where meaningless, e.g.  data.csv:17:4: expected a number, found "abc". */

/* Column types, ordered: a column is the first type that admits all its non-missing cells.
 * INTEGER: every cell an integer literal whose value a double holds exactly (a column whose
 * cells are all missing counts as INTEGER); REAL: every cell a number; TEXT: otherwise. */
enum { LATENS_COL_INTEGER = 0, LATENS_COL_REAL = 1, LATENS_COL_TEXT = 2 };

/* Header modes. */
enum { LATENS_HEADER_NO = 0, LATENS_HEADER_YES = 1, LATENS_HEADER_AUTO = 2 };

/* Delimiter values besides ',', ';' and '\t'. */
#define LATENS_DELIM_AUTO 0        /* first content line decides: see latens_table_options */
#define LATENS_DELIM_WHITESPACE ' ' /* any run of spaces and tabs separates; ends ignored */

typedef struct {
  /* ',', ';', '\t', LATENS_DELIM_WHITESPACE, or LATENS_DELIM_AUTO (default): the most
   * frequent of ',' '\t' ';' outside quotes on the first content line (ties in that order),
   * whitespace when none occurs. */
  int delim;
  /* LATENS_HEADER_AUTO (default): the first row is a header when it has a cell that is
   * neither a number (nan/inf count as numbers here) nor a missing token.  Names that all
   * look like numbers therefore need LATENS_HEADER_YES.  Names are not made unique. */
  int header;
  /* Missing-value tokens, compared with the whole (unquoted, trimmed) field; "" matches an
   * empty field.  Default {"NA", "", "?"}.  Missing cells are NaN in the data. */
  const char *const *na;
  size_t n_na;
  int allow_nonfinite; /* default 0 */
  /* Longest accepted line in bytes, without its newline (default 16 MiB, at most 2^31).
   * The reader never buffers more than about this much of one line. */
  size_t max_line;
  /* Comment character, e.g. '#' (printable ASCII, not '"' ',' ';'): outside quotes, from it
   * to the end of the line is ignored.  0 (default): none. */
  int comment;
  /* 1: every non-missing cell must be a number (latens_table_read_numeric sets it);
   * 0 (default): non-numeric cells make their column TEXT. */
  int numeric_only;
} latens_table_options;

/* Fill *opt with the defaults above (NULL: nothing happens). */
LATENS_EXPORT void latens_table_options_default(latens_table_options *opt);

typedef struct latens_table latens_table;

/* Read `path` ("-": standard input) into *out (NULL on failure).  opt NULL: the defaults.
 * Tolerant: text columns are allowed (their cells are NaN in the data; their strings are
 * not kept). */
LATENS_EXPORT int latens_table_read(const char *path, const latens_table_options *opt,
                                    latens_table **out);
/* As latens_table_read with numeric_only = 1: any other cell is an error naming it. */
LATENS_EXPORT int latens_table_read_numeric(const char *path, const latens_table_options *opt,
                                            latens_table **out);
/* Read an open stream (not closed) to its end; `name` is used in messages. */
LATENS_EXPORT int latens_table_read_stream(FILE *f, const char *name,
                                           const latens_table_options *opt, latens_table **out);
LATENS_EXPORT void latens_table_free(latens_table *t); /* NULL-safe */

LATENS_EXPORT size_t latens_table_nrow(const latens_table *t);
LATENS_EXPORT size_t latens_table_ncol(const latens_table *t);
/* Column j's name: from the header, else "V1", "V2", ... (an empty header cell also gets
 * "Vj").  NULL when j is out of range. */
LATENS_EXPORT const char *latens_table_name(const latens_table *t, size_t j);
/* LATENS_COL_*, or -1 when j is out of range. */
LATENS_EXPORT int latens_table_type(const latens_table *t, size_t j);
/* "integer", "real", "text", or "unknown" for anything else (never NULL). */
LATENS_EXPORT const char *latens_table_type_name(int type);
/* Missing cells in column j (0 when j is out of range). */
LATENS_EXPORT size_t latens_table_missing(const latens_table *t, size_t j);
/* The data, nrow x ncol, column-major with ld = nrow, NaN where missing and in TEXT
 * columns.  Owned by t (NULL after latens_table_release_data). */
LATENS_EXPORT const latens_mat *latens_table_data(const latens_table *t);
/* Hand the data over to the caller (free it with latens_mat_free), avoiding a copy. */
LATENS_EXPORT latens_mat *latens_table_release_data(latens_table *t);
/* What was used: the delimiter (',' ';' '\t' or ' ' for whitespace) and whether the first
 * row was a header (1) or data (0). */
LATENS_EXPORT int latens_table_delim(const latens_table *t);
LATENS_EXPORT int latens_table_has_header(const latens_table *t);

/* ---- CSV writer: m as comma-separated text, one row per line, numbers with %.17g in the
 * C locale (so they read back exactly), NaN as NA, infinities as Inf / -Inf.  colnames
 * (m->ncol strings, no line breaks) gives a header row, quoted where needed; NULL writes
 * none.  Arguments are checked before anything is written.  The path version goes through
 * the atomic writer. */
LATENS_EXPORT int latens_table_write_csv(const char *path, const latens_mat *m,
                                         const char *const *colnames);
LATENS_EXPORT int latens_table_write_csv_stream(FILE *f, const latens_mat *m,
                                                const char *const *colnames);

#ifdef __cplusplus
}
#endif
#endif
