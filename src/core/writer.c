/* src/core/writer.c: atomic file output (temporary file in the same directory + rename).
 *
 * The temporary lives beside the target so rename(2) stays within one file system and is
 * atomic.  It is created with open(O_CREAT | O_EXCL, 0666) under a fresh name, so the kernel
 * applies the process umask (reading the umask with umask(2) would change process-wide state
 * and race with other threads).  An existing target keeps its permission bits.
 * Only regular files can be replaced atomically: a symlink is followed to its target, and
 * an existing FIFO, device or socket is written in place (renaming over it would destroy
 * it, e.g. -o /dev/stdout). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <latens/table.h>

struct latens_atomic_file {
  FILE *stream;
  char *path; /* the file that commit replaces (symlinks resolved) */
  char *tmp;  /* NULL when writing in place */
};

static void release(latens_atomic_file *f) {
  free(f->path);
  free(f->tmp);
  free(f);
}

/* A name that no other thread or process of ours will pick at the same moment. */
static void temp_name(char *buf, size_t n, const char *path, unsigned attempt) {
  static atomic_uint counter;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  unsigned long r = (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16) ^
                    (atomic_fetch_add(&counter, 1u) * 2654435761u) ^ attempt;
  snprintf(buf, n, "%s.tmp.%06lx", path, r & 0xffffffUL);
}

static int open_temp(latens_atomic_file *f, const struct stat *old) {
  size_t len = strlen(f->path) + 32;
  if (!(f->tmp = malloc(len))) return -ENOMEM;
  for (unsigned attempt = 0; attempt < 100; attempt++) {
    temp_name(f->tmp, len, f->path, attempt);
    int fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      if (old) (void)fchmod(fd, old->st_mode & 07777);
      return fd;
    }
    if (errno != EEXIST) return -errno;
  }
  return -EEXIST;
}

latens_atomic_file *latens_atomic_open(const char *path) {
  if (!path || !*path) LATENS_ERROR_NULL("latens_atomic_open: empty path", LATENS_EINVAL);
  latens_atomic_file *f = calloc(1, sizeof *f);
  if (!f) LATENS_ERROR_NULL("latens_atomic_open: out of memory", LATENS_ENOMEM);
  struct stat st;
  int exists = stat(path, &st) == 0;
  char *real = exists ? realpath(path, NULL) : NULL;
  f->path = real ? real : strdup(path);
  if (!f->path) {
    free(f);
    LATENS_ERROR_NULL("latens_atomic_open: out of memory", LATENS_ENOMEM);
  }
  int fd;
  if (exists && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) fd = -EISDIR;
    else if ((fd = open(f->path, O_WRONLY | O_CLOEXEC)) < 0) fd = -errno;
  } else {
    fd = open_temp(f, exists ? &st : NULL);
  }
  if (fd < 0) {
    latens_errorf(__FILE__, __LINE__, LATENS_EIO, "%s: cannot write there: %s", path,
                  strerror(-fd));
    release(f);
    return NULL;
  }
  if (!(f->stream = fdopen(fd, "w"))) {
    close(fd);
    if (f->tmp) unlink(f->tmp);
    release(f);
    LATENS_ERROR_NULL("latens_atomic_open: fdopen failed", LATENS_EIO);
  }
  return f;
}

FILE *latens_atomic_stream(latens_atomic_file *f) { return f ? f->stream : NULL; }

/* After a rename the directory entry itself must reach the disk too. */
static void sync_parent(const char *path) {
  char *copy = strdup(path);
  if (!copy) return;
  int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) (void)fsync(dfd), close(dfd);
  free(copy);
}

int latens_atomic_commit(latens_atomic_file *f) {
  if (!f) LATENS_ERROR("latens_atomic_commit: NULL file", LATENS_EINVAL);
  int e = 0;
  if (fflush(f->stream) != 0 || ferror(f->stream)) e = errno ? errno : EIO;
  if (!e && f->tmp && fsync(fileno(f->stream)) != 0 && errno != EINVAL) e = errno;
  if (fclose(f->stream) != 0 && !e) e = errno;
  if (!e && f->tmp && rename(f->tmp, f->path) != 0) e = errno;
  if (e) {
    if (f->tmp) unlink(f->tmp);
    latens_errorf(__FILE__, __LINE__, LATENS_EIO, "%s: write failed: %s", f->path, strerror(e));
    release(f);
    return LATENS_EIO;
  }
  if (f->tmp) sync_parent(f->path);
  release(f);
  return LATENS_OK;
}

void latens_atomic_abort(latens_atomic_file *f) {
  if (!f) return;
  fclose(f->stream);
  if (f->tmp) unlink(f->tmp);
  release(f);
}
