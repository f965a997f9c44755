/* tests/core/test_writer.c: the atomic writer replaces a file only on commit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <latens/latens.h>
#include "suites.h"

static char dir[256];

static void make_dir(void) {
  ck_assert_ptr_nonnull(test_mkdtemp(dir, sizeof dir, "writer"));
}

static void slurp(const char *path, char *buf, size_t n) {
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  size_t k = fread(buf, 1, n - 1, f);
  buf[k] = '\0';
  fclose(f);
}

static int count_entries(void) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

START_TEST(commit_replaces_abort_keeps) {
  make_dir();
  char path[512], buf[64];
  snprintf(path, sizeof path, "%s/out.csv", dir);
  FILE *old = fopen(path, "w");
  fputs("old\n", old);
  fclose(old);

  latens_atomic_file *f = latens_atomic_open(path);
  ck_assert_ptr_nonnull(f);
  fputs("new\n", latens_atomic_stream(f));
  /* Until commit the old contents stay visible. */
  slurp(path, buf, sizeof buf);
  ck_assert_str_eq(buf, "old\n");
  latens_atomic_abort(f);
  slurp(path, buf, sizeof buf);
  ck_assert_str_eq(buf, "old\n");
  ck_assert_int_eq(count_entries(), 1); /* no temporary left behind */

  f = latens_atomic_open(path);
  fputs("new\n", latens_atomic_stream(f));
  ck_assert_int_eq(latens_atomic_commit(f), LATENS_OK);
  slurp(path, buf, sizeof buf);
  ck_assert_str_eq(buf, "new\n");
  ck_assert_int_eq(count_entries(), 1);
  unlink(path);
  rmdir(dir);
  latens_atomic_abort(NULL);
}
END_TEST

START_TEST(unwritable_directory_is_an_error) {
  ck_assert_ptr_null(latens_atomic_open("/nonexistent-dir-latens/x.csv"));
  const char *why;
  ck_assert_int_eq(latens_last_error(&why), LATENS_EIO);
  ck_assert_ptr_nonnull(strstr(why, "/nonexistent-dir-latens/x.csv"));
  ck_assert_ptr_null(latens_atomic_open(""));
  ck_assert_int_eq(latens_atomic_commit(NULL), LATENS_EINVAL);
}
END_TEST

/* Oracle: stat(2) of the results.  The review found that rename() replaced symlinks and
 * device nodes, and that umask games leaked 0666 files to other threads. */
START_TEST(symlinks_fifos_and_modes) {
  make_dir();
  char target[512], link[512], fifo[512], buf[64];
  snprintf(target, sizeof target, "%s/target.csv", dir);
  snprintf(link, sizeof link, "%s/link.csv", dir);
  snprintf(fifo, sizeof fifo, "%s/fifo", dir);
  FILE *t = fopen(target, "w");
  fputs("old\n", t);
  fclose(t);
  ck_assert_int_eq(chmod(target, 0640), 0);
  ck_assert_int_eq(symlink("target.csv", link), 0);

  /* Writing through the link replaces the target and keeps both the link and the mode. */
  latens_atomic_file *f = latens_atomic_open(link);
  ck_assert_ptr_nonnull(f);
  fputs("new\n", latens_atomic_stream(f));
  ck_assert_int_eq(latens_atomic_commit(f), LATENS_OK);
  struct stat st;
  ck_assert_int_eq(lstat(link, &st), 0);
  ck_assert(S_ISLNK(st.st_mode));
  ck_assert_int_eq(stat(target, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0640);
  slurp(target, buf, sizeof buf);
  ck_assert_str_eq(buf, "new\n");

  /* A new file gets 0666 & ~umask (022 here, set for the test). */
  char fresh[512];
  snprintf(fresh, sizeof fresh, "%s/fresh.csv", dir);
  mode_t old_mask = umask(022);
  f = latens_atomic_open(fresh);
  ck_assert_int_eq(latens_atomic_commit(f), LATENS_OK);
  umask(old_mask);
  ck_assert_int_eq(stat(fresh, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0644);

  /* A FIFO is written in place, not replaced by a regular file. */
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  int rfd = open(fifo, O_RDONLY | O_NONBLOCK);
  ck_assert_int_ge(rfd, 0);
  f = latens_atomic_open(fifo);
  ck_assert_ptr_nonnull(f);
  fputs("x", latens_atomic_stream(f));
  ck_assert_int_eq(latens_atomic_commit(f), LATENS_OK);
  ck_assert_int_eq(read(rfd, buf, 1), 1);
  close(rfd);
  ck_assert_int_eq(lstat(fifo, &st), 0);
  ck_assert(S_ISFIFO(st.st_mode));

  /* A directory is an error naming it. */
  ck_assert_ptr_null(latens_atomic_open(dir));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EIO);
  ck_assert_int_eq(count_entries(), 4);
  unlink(target), unlink(link), unlink(fifo), unlink(fresh);
  rmdir(dir);
}
END_TEST

Suite *writer_suite(void) {
  Suite *s = suite_create("writer");
  TCase *tc = tcase_create("writer");
  tcase_add_test(tc, commit_replaces_abort_keeps);
  tcase_add_test(tc, unwritable_directory_is_an_error);
  tcase_add_test(tc, symlinks_fifos_and_modes);
  suite_add_tcase(s, tc);
  return s;
}
