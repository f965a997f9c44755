/* tests/core/test_writer.c: the atomic writer replaces a file only on commit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <latens/latens.h>
#include "suites.h"

static char dir[256];

static void make_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/latens-writer-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
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

Suite *writer_suite(void) {
  Suite *s = suite_create("writer");
  TCase *tc = tcase_create("writer");
  tcase_add_test(tc, commit_replaces_abort_keeps);
  tcase_add_test(tc, unwritable_directory_is_an_error);
  suite_add_tcase(s, tc);
  return s;
}
