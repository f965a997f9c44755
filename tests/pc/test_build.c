/* tests/pc/test_build.c: builder, validation errors, file round-trip and malformed files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "suites.h"

static int last_error_has(const char *needle) {
  const char *msg;
  latens_last_error(&msg);
  return strstr(msg, needle) != NULL;
}

START_TEST(test_smoothness_error) {
  latens_pc *pc = latens_pc_alloc(2, NULL);
  size_t a, b, s;
  latens_pc_add_bernoulli(pc, 0, 0.3, &a);
  latens_pc_add_bernoulli(pc, 1, 0.3, &b);
  size_t ch[2] = {a, b};
  latens_pc_add_sum(pc, ch, NULL, 2, &s);
  ck_assert_int_eq(latens_pc_finalize(pc), LATENS_EDOM);
  ck_assert(last_error_has("sum unit 2 is not smooth"));
  ck_assert(!latens_pc_is_finalized(pc));
  latens_pc_free(pc);
}
END_TEST

START_TEST(test_decomposability_error) {
  latens_pc *pc = latens_pc_alloc(2, NULL);
  size_t a, b, c, p;
  latens_pc_add_bernoulli(pc, 0, 0.3, &a);
  latens_pc_add_bernoulli(pc, 1, 0.3, &b);
  latens_pc_add_bernoulli(pc, 0, 0.6, &c);
  size_t ch[3] = {a, b, c};
  latens_pc_add_product(pc, ch, 3, &p);
  ck_assert_int_eq(latens_pc_finalize(pc), LATENS_EDOM);
  ck_assert(last_error_has("product unit 3 is not decomposable"));
  ck_assert(last_error_has("variable 0"));
  latens_pc_free(pc);
}
END_TEST

START_TEST(test_builder_errors) {
  latens_pc *pc = latens_pc_alloc(2, (size_t[]){2, 0});
  size_t id = 99, bad = 7;
  ck_assert_int_eq(latens_pc_add_bernoulli(pc, 1, 0.5, &id), LATENS_EDOM); /* continuous var */
  ck_assert_int_eq(latens_pc_add_bernoulli(pc, 0, 1.5, &id), LATENS_EDOM);
  ck_assert_int_eq(latens_pc_add_gaussian(pc, 1, 0, -1, &id), LATENS_EDOM);
  ck_assert_int_eq(latens_pc_add_indicator(pc, 0, 2, &id), LATENS_EDOM);
  ck_assert_int_eq(latens_pc_add_product(pc, &bad, 1, &id), LATENS_EDOM);
  ck_assert_uint_eq(id, 99);
  ck_assert_uint_eq(latens_pc_nunits(pc), 0);
  ck_assert_int_eq(latens_pc_finalize(pc), LATENS_EINVAL);
  size_t g;
  ck_assert_int_eq(latens_pc_add_gaussian(pc, 1, 0, 1, &g), LATENS_OK);
  ck_assert_int_eq(latens_pc_finalize(pc), LATENS_EDOM); /* root misses variable 0 */
  ck_assert(last_error_has("does not cover variable 0"));
  latens_pc_free(pc);
  latens_pc_free(NULL);
  ck_assert_ptr_null(latens_pc_alloc(0, NULL));
}
END_TEST

/* Layout: sums' weights first in id order, then inputs' parameters. */
START_TEST(test_param_layout) {
  latens_pc *pc = latens_pc_alloc(1, (size_t[]){3});
  size_t a, b, s, n;
  latens_pc_add_categorical(pc, 0, (double[]){0.2, 0.3, 0.5}, &a);
  latens_pc_add_indicator(pc, 0, 1, &b);
  latens_pc_add_sum(pc, (size_t[]){a, b}, (double[]){0.25, 0.75}, 2, &s);
  ck_assert_int_eq(latens_pc_finalize(pc), LATENS_OK);
  ck_assert_uint_eq(latens_pc_nparams(pc), 5);
  ck_assert_uint_eq(latens_pc_unit_param_offset(pc, s, &n), 0);
  ck_assert_uint_eq(n, 2);
  ck_assert_uint_eq(latens_pc_unit_param_offset(pc, a, &n), 2);
  ck_assert_uint_eq(n, 3);
  ck_assert_uint_eq(latens_pc_unit_param_offset(pc, b, &n), (size_t)-1);
  const double *p = latens_pc_params(pc);
  ck_assert(p[0] == 0.25 && p[1] == 0.75 && p[2] == 0.2 && p[4] == 0.5);
  latens_vec *v = latens_vec_alloc(5);
  latens_pc_params_get(pc, v);
  v->data[1] = -1;
  ck_assert_int_eq(latens_pc_params_set(pc, v), LATENS_EDOM);
  latens_vec_free(v);
  latens_pc_free(pc);
}
END_TEST

static char *to_text(const latens_pc *pc) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  latens_pc_write(pc, f);
  fclose(f);
  return buf;
}

/* Oracle: bit equality of the parameter vectors and identical text on rewriting. */
START_TEST(test_roundtrip) {
  uint64_t seed = 11;
  latens_pc *pcs[3] = {pcu_random(6, 3, &seed), pcu_decision(5, 3, &seed), NULL};
  latens_pc *g = latens_pc_alloc(2, (size_t[]){0, 4});
  size_t a, b, p;
  latens_pc_add_gaussian(g, 0, -0.1, 1.0 / 3.0, &a);
  latens_pc_add_categorical(g, 1, (double[]){0.1, 0.2, 0.3, 0.4}, &b);
  latens_pc_add_product(g, (size_t[]){a, b}, 2, &p);
  latens_pc_finalize(g);
  pcs[2] = g;
  for (int t = 0; t < 3; t++) {
    char path[256];
    int fd = test_mkstemp(path, sizeof path, "pc");
    close(fd);
    ck_assert_int_eq(latens_pc_save(pcs[t], path), LATENS_OK);
    latens_pc *q = NULL;
    ck_assert_int_eq(latens_pc_load(path, &q), LATENS_OK);
    unlink(path);
    size_t np = latens_pc_nparams(pcs[t]);
    ck_assert_uint_eq(latens_pc_nparams(q), np);
    ck_assert_uint_eq(latens_pc_nunits(q), latens_pc_nunits(pcs[t]));
    ck_assert_int_eq(memcmp(latens_pc_params(q), latens_pc_params(pcs[t]), np * sizeof(double)), 0);
    ck_assert_int_eq(latens_pc_is_deterministic(q), latens_pc_is_deterministic(pcs[t]));
    char *t1 = to_text(pcs[t]), *t2 = to_text(q);
    ck_assert_str_eq(t1, t2);
    free(t1), free(t2);
    latens_pc_free(q);
    latens_pc_free(pcs[t]);
  }
}
END_TEST

static int read_text(const char *text, latens_pc **out) {
  FILE *f = fmemopen((void *)text, strlen(text), "r");
  int st = latens_pc_read(f, "m.pc", out);
  fclose(f);
  return st;
}

START_TEST(test_malformed) {
  static const struct {
    const char *text, *msg;
    int status;
  } cases[] = {
      {"", "m.pc:1: empty file", LATENS_EPARSE},
      {"# latens-pc 2\n", "m.pc:1: not a latens circuit file", LATENS_EPARSE},
      {"# latens-pc 1\nvars 2\nncat 2 2\nunits 1\nB 0 0.5\n", "m.pc:5: expected parameter", LATENS_EPARSE},
      {"# latens-pc 1\nvars 2\nncat 2 2\nunits 2\nB 0 0.5 0.5\nX 1\n", "m.pc:6: unit 1: expected a type letter", LATENS_EPARSE},
      {"# latens-pc 1\nvars 1\nncat 2\nunits 2\nB 0 0.5 0.5\nS 1 1 1\n", "m.pc:6: unit 1: child 0 is unit 1", LATENS_EPARSE},
      {"# latens-pc 1\nvars 1\nncat 2\nunits 1\nB 0 0.5 -0.5\n", "parameter 1 = -0.5 out of range", LATENS_EPARSE},
      {"# latens-pc 1\nvars 1\nncat 2\nunits 1\nB 0 0.5 0.5\nroot 0\n", "m.pc:6: unexpected end of file, expected \"end\"", LATENS_EPARSE},
      {"# latens-pc 1\nvars 2\nncat 2 2\nunits 3\nB 0 0.5 0.5\nB 1 0.5 0.5\nS 2 0 0.5 1 0.5\nroot 2\nend\n", "sum unit 2 is not smooth", LATENS_EDOM},
      {"# latens-pc 1\nvars 1\nncat 2\nunits 1\nB 0 0.5 0.5 7\n", "m.pc:5: unexpected \"7\"", LATENS_EPARSE},
      /* a child count whose n * sizeof wraps to a few bytes: must be refused, not allocated */
      {"# latens-pc 1\nvars 1\nncat 2\nunits 2\nB 0 0.5 0.5\nS 2305843009213693953 0 1\n", "m.pc:6: unit 1: 2305843009213693953 entries", LATENS_EPARSE},
      {"# latens-pc 1\nvars 1\nncat 2\nunits 2\nB 0 0.5 0.5\nS 99999999999999999999 0 1\n", "m.pc:6: bad child count", LATENS_EPARSE},
      {"# latens-pc 1\nvars 4294967296\nncat 2 2\n", "m.pc:3: 4294967296 category counts expected", LATENS_EPARSE},
      {"# latens-pc 1\nvars 2\nncat 2 1\n", "m.pc:3: variable 1: category count 1", LATENS_EPARSE},
      {"# latens-pc 1\nvars 1\nncat 2\nunits 2\nB 0 0.5 0.5\nP 1 -1\n", "m.pc:6: expected child id", LATENS_EPARSE},
      {"# latens-pc 1\nvars 1\nncat 2\nunits 1\nB 0 nan 0.5\n", "m.pc:5: expected parameter", LATENS_EPARSE},
      {"# latens-pc 1\nvars 1\nncat 2\nunits 1\nB 0 0.5 0.5\nroot 3\nend\n", "m.pc:6: root 3 out of range", LATENS_EPARSE},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    latens_pc *pc = (latens_pc *)1;
    int st = read_text(cases[i].text, &pc);
    const char *msg;
    latens_last_error(&msg);
    ck_assert_msg(st == cases[i].status && pc == NULL && strstr(msg, cases[i].msg),
                  "case %zu: status %d, message \"%s\"", i, st, msg);
  }
  latens_pc *pc = NULL;
  ck_assert_int_eq(read_text("# latens-pc 1\n# comment\nvars 1\nncat 2\nunits 1\nB 0 0.25 0.75\nroot 0\nend\n", &pc), LATENS_OK);
  ck_assert_double_eq(latens_pc_params(pc)[1], 0.75);
  latens_pc_free(pc);
}
END_TEST

/* A workspace is bound to a structure: two circuits with the same unit and variable counts but
 * different ops (a 3-child sum vs a chain of sums) must not share one (its flow buffers are
 * laid out per op); a copy of the circuit (same structure) may. */
START_TEST(test_work_other_structure) {
  latens_pc *a = latens_pc_alloc(1, NULL), *b = latens_pc_alloc(1, NULL);
  size_t ch3[3] = {0, 1, 2}, ch2[2] = {0, 1}, top = 2;
  for (int i = 0; i < 3; i++) ck_assert_int_eq(latens_pc_add_bernoulli(a, 0, 0.2 + 0.3 * i, NULL), LATENS_OK);
  ck_assert_int_eq(latens_pc_add_sum(a, ch3, NULL, 3, NULL), LATENS_OK);
  for (int i = 0; i < 2; i++) ck_assert_int_eq(latens_pc_add_bernoulli(b, 0, 0.2 + 0.3 * i, NULL), LATENS_OK);
  ck_assert_int_eq(latens_pc_add_sum(b, ch2, NULL, 2, NULL), LATENS_OK);
  ck_assert_int_eq(latens_pc_add_sum(b, &top, NULL, 1, NULL), LATENS_OK);
  ck_assert_int_eq(latens_pc_finalize(a), LATENS_OK);
  ck_assert_int_eq(latens_pc_finalize(b), LATENS_OK);
  latens_pc_work *w = latens_pc_work_alloc(a, 4);
  latens_pc *c = latens_pc_copy(a);
  latens_mat *X = latens_mat_alloc(2, 1);
  latens_vec *ll = latens_vec_alloc(2);
  LATENS_MAT(X, 0, 0) = 0, LATENS_MAT(X, 1, 0) = 1;
  ck_assert_int_eq(latens_pc_loglik(b, X, ll, w), LATENS_EINVAL);
  const char *msg;
  latens_last_error(&msg);
  ck_assert_ptr_nonnull(strstr(msg, "another circuit"));
  ck_assert_int_eq(latens_pc_loglik(c, X, ll, w), LATENS_OK);
  latens_pc_free(a); /* the workspace must not depend on the circuit it was made from */
  ck_assert_int_eq(latens_pc_flows(c, X, NULL, NULL, NULL, ll, w), LATENS_OK);
  /* oracle: p(x=1) = mean of 0.2, 0.5, 0.8 = 0.5 */
  ck_assert_double_eq_tol(LATENS_VEC(ll, 1), log(0.5), 1e-15);
  latens_pc_work_free(w);
  latens_pc_free(b), latens_pc_free(c);
  latens_mat_free(X), latens_vec_free(ll);
}
END_TEST

/* Oracle: a decision tree over indicators is deterministic by construction; a mixture of
 * Bernoulli products is not. */
START_TEST(test_determinism_flag) {
  uint64_t seed = 5;
  latens_pc *d = pcu_decision(5, 3, &seed), *r = pcu_random(5, 2, &seed);
  ck_assert_int_eq(latens_pc_is_deterministic(d), 1);
  ck_assert_int_eq(latens_pc_is_deterministic(r), 0);
  latens_pc *c = latens_pc_copy(d);
  ck_assert_int_eq(latens_pc_is_deterministic(c), 1);
  ck_assert_int_eq(memcmp(latens_pc_params(c), latens_pc_params(d), latens_pc_nparams(d) * 8), 0);
  latens_pc_free(c), latens_pc_free(d), latens_pc_free(r);
}
END_TEST

/* Oracles: enumeration (normalize makes every sum and leaf sum to 1, so the states sum to 1);
 * a unit not reachable from the root changes nothing (same log-likelihoods, bit for bit). */
START_TEST(test_normalize_unreachable) {
  latens_pc *pc = latens_pc_alloc(2, NULL);
  size_t a, b, c, d, p[2], s, extra;
  latens_pc_add_bernoulli(pc, 0, 0.3, &a);
  latens_pc_add_bernoulli(pc, 1, 0.6, &b);
  latens_pc_add_bernoulli(pc, 0, 0.8, &c);
  latens_pc_add_bernoulli(pc, 1, 0.1, &d);
  latens_pc_add_product(pc, (size_t[]){a, b}, 2, &p[0]);
  latens_pc_add_product(pc, (size_t[]){c, d}, 2, &p[1]);
  latens_pc_add_sum(pc, p, (double[]){2.0, 6.0}, 2, &s);
  latens_pc_add_bernoulli(pc, 0, 0.5, &extra); /* after the root, unreachable */
  ck_assert_int_eq(latens_pc_set_root(pc, s), LATENS_OK);
  ck_assert_int_eq(latens_pc_finalize(pc), LATENS_OK);
  double *ll = pcu_enumerate(pc), tot = 0;
  for (int k = 0; k < 4; k++) tot += exp(ll[k]);
  ck_assert_double_eq_tol(tot, 8.0, 1e-14); /* unnormalised weights: the total is their sum */
  free(ll);
  ck_assert_int_eq(latens_pc_normalize(pc), LATENS_OK);
  ll = pcu_enumerate(pc);
  tot = 0;
  for (int k = 0; k < 4; k++) tot += exp(ll[k]);
  ck_assert_double_eq_tol(tot, 1.0, 1e-15);
  /* closed form for state (x0 = 1, x1 = 0): 0.25 * 0.3 * 0.4 + 0.75 * 0.8 * 0.9 */
  ck_assert_double_eq_tol(ll[1], log(0.25 * 0.3 * 0.4 + 0.75 * 0.8 * 0.9), 1e-15);
  free(ll);
  latens_pc_free(pc);
}
END_TEST

Suite *pc_build_suite(void) {
  Suite *s = suite_create("pc_build");
  TCase *tc = tcase_create("build");
  tcase_add_test(tc, test_smoothness_error);
  tcase_add_test(tc, test_decomposability_error);
  tcase_add_test(tc, test_builder_errors);
  tcase_add_test(tc, test_param_layout);
  tcase_add_test(tc, test_roundtrip);
  tcase_add_test(tc, test_malformed);
  tcase_add_test(tc, test_work_other_structure);
  tcase_add_test(tc, test_determinism_flag);
  tcase_add_test(tc, test_normalize_unreachable);
  suite_add_tcase(s, tc);
  return s;
}
