/* latens/table.h: table I/O — the CSV/whitespace reader and the atomic file writer.
 * (The reader part is being written; the writer API below is fixed.) */
#ifndef LATENS_TABLE_H
#define LATENS_TABLE_H

#include <stdio.h>
#include <latens/common.h>
#include <latens/matrix.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Atomic writer: output goes to a temporary file beside `path` and replaces `path`
 * only on commit (fflush + fsync + rename), so an interrupted run leaves the old file
 * intact. */
typedef struct latens_atomic_file latens_atomic_file;
/* NULL (error handler called, naming the path and errno text) on failure. */
LATENS_EXPORT latens_atomic_file *latens_atomic_open(const char *path);
LATENS_EXPORT FILE *latens_atomic_stream(latens_atomic_file *f);
/* Flush, sync and rename into place; always frees f.  LATENS_EIO (temp removed) on failure. */
LATENS_EXPORT int latens_atomic_commit(latens_atomic_file *f);
/* Remove the temporary file and free f; the old file is untouched.  NULL-safe. */
LATENS_EXPORT void latens_atomic_abort(latens_atomic_file *f);

#ifdef __cplusplus
}
#endif
#endif
