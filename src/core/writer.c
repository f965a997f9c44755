/* core/writer.c: atomic file output (temporary file in the same directory + rename).
 *
 * The temporary lives beside the target so rename(2) stays within one file system and is
 * atomic; it is created with mkstemp (no races with other writers) and given the usual
 * 0666 & ~umask permissions, since mkstemp's 0600 would surprise users of the result. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <latens/table.h>

struct latens_atomic_file {
  FILE *stream;
  char *path;
  char *tmp;
};

latens_atomic_file *latens_atomic_open(const char *path) {
  if (!path || !*path) LATENS_ERROR_NULL("latens_atomic_open: empty path", LATENS_EINVAL);
  latens_atomic_file *f = calloc(1, sizeof *f);
  size_t len = strlen(path);
  if (f) f->path = strdup(path), f->tmp = malloc(len + 16);
  if (!f || !f->path || !f->tmp) {
    if (f) free(f->path), free(f->tmp);
    free(f);
    LATENS_ERROR_NULL("latens_atomic_open: out of memory", LATENS_ENOMEM);
  }
  snprintf(f->tmp, len + 16, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(f->tmp);
  if (fd < 0) {
    int e = errno;
    latens_errorf(__FILE__, __LINE__, LATENS_EIO, "%s: cannot create a file there: %s", path,
                  strerror(e));
    free(f->path), free(f->tmp), free(f);
    return NULL;
  }
  mode_t mask = umask(0);
  umask(mask);
  (void)fchmod(fd, 0666 & ~mask);
  f->stream = fdopen(fd, "w");
  if (!f->stream) {
    close(fd);
    unlink(f->tmp);
    free(f->path), free(f->tmp), free(f);
    LATENS_ERROR_NULL("latens_atomic_open: fdopen failed", LATENS_EIO);
  }
  return f;
}

FILE *latens_atomic_stream(latens_atomic_file *f) { return f ? f->stream : NULL; }

static void release(latens_atomic_file *f) {
  free(f->path);
  free(f->tmp);
  free(f);
}

int latens_atomic_commit(latens_atomic_file *f) {
  if (!f) LATENS_ERROR("latens_atomic_commit: NULL file", LATENS_EINVAL);
  int bad = fflush(f->stream) != 0 || ferror(f->stream);
  int e = errno;
  if (!bad && fsync(fileno(f->stream)) != 0 && errno != EINVAL) bad = 1, e = errno;
  if (fclose(f->stream) != 0 && !bad) bad = 1, e = errno;
  if (!bad && rename(f->tmp, f->path) != 0) bad = 1, e = errno;
  if (bad) {
    unlink(f->tmp);
    latens_errorf(__FILE__, __LINE__, LATENS_EIO, "%s: write failed: %s", f->path, strerror(e));
    release(f);
    return LATENS_EIO;
  }
  release(f);
  return LATENS_OK;
}

void latens_atomic_abort(latens_atomic_file *f) {
  if (!f) return;
  fclose(f->stream);
  unlink(f->tmp);
  release(f);
}
