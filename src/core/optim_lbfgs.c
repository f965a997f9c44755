/* core/optim_lbfgs.c: limited-memory BFGS with a strong-Wolfe line search.
 *
 * Nocedal & Wright, Numerical Optimization (2nd ed.): the two-loop recursion (Alg. 7.4) with
 * H0 = (s'y / y'y) I from the newest pair, and the line search of Alg. 3.5 (bracketing) and
 * 3.6 (zoom), interpolating with the cubic through both ends' values and slopes (eq. 3.59)
 * and bisecting when that lands too near an end.  The first trial step is 1 once the memory
 * holds a pair (the quasi-Newton step is then well scaled) and `step / |d|` before that.
 *
 * A trial point whose f or slope is not finite means "step too long": it caps the steps
 * tried afterwards and the search shortens toward the best point so far.  Pairs with
 * s'y <= eps y'y are skipped: they would make H lose positive definiteness or blow up H0.
 * Everything is allocated once, before the first iteration.
 */
#include "optim_impl.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

/* Sufficient decrease and curvature constants: the usual quasi-Newton choices (N&W p. 142). */
static const double wolfe_c1 = 1e-4, wolfe_c2 = 0.9;
/* Objective evaluations per line search: enough for ~25 shortenings by 4 plus a zoom. */
enum { LS_MAX_EVALS = 40 };
/* A non-finite trial shortens the step to this fraction of its excess over the best point. */
static const double ls_shrink = 0.25;

typedef struct {
  latens_optim_problem *p;
  size_t n, m;
  double *S, *Y;       /* pair j in S + j*n, Y + j*n (a ring) */
  double *rho, *alpha; /* 1/s'y per pair; two-loop scratch */
  size_t npairs, newest;
  double gamma;        /* H0 scale s'y/y'y of the newest pair */
  double *d;           /* search direction */
  double *ut, *gt;     /* trial point of the line search */
  double *ulo, *glo;   /* best acceptable point of the line search so far */
  double *u;           /* start of the current line search */
} lbfgs_ws;

typedef struct {
  double a, f, dphi; /* step, f(u + a d), d'g(u + a d) */
} ls_point;

/* Plain loops, not BLAS: a threaded ddot would make results depend on the thread count. */
static double dot(const double *a, const double *b, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* d = -H g by the two-loop recursion. */
static void direction(lbfgs_ws *w, const double *g) {
  size_t n = w->n, m = w->m;
  double *q = w->d;
  for (size_t i = 0; i < n; i++) q[i] = g[i];
  for (size_t k = 0, j = w->newest; k < w->npairs; k++, j = (j + m - 1) % m) {
    double a = w->rho[j] * dot(w->S + j * n, q, n);
    const double *y = w->Y + j * n;
    w->alpha[j] = a;
    for (size_t i = 0; i < n; i++) q[i] -= a * y[i];
  }
  if (w->npairs)
    for (size_t i = 0; i < n; i++) q[i] *= w->gamma;
  size_t oldest = (w->newest + m + 1 - w->npairs) % m;
  for (size_t k = 0, j = oldest; k < w->npairs; k++, j = (j + 1) % m) {
    double b = w->alpha[j] - w->rho[j] * dot(w->Y + j * n, q, n);
    const double *s = w->S + j * n;
    for (size_t i = 0; i < n; i++) q[i] += b * s[i];
  }
  for (size_t i = 0; i < n; i++) q[i] = -q[i];
}

/* Evaluates u + a d into (ut, gt).  *finite says whether f and the slope are finite. */
static int trial(lbfgs_ws *w, double a, ls_point *pt, int *finite) {
  for (size_t i = 0; i < w->n; i++) w->ut[i] = w->u[i] + a * w->d[i];
  int status = latens_optim_eval(w->p, w->ut, &pt->f, w->gt);
  if (status) return status;
  pt->a = a;
  pt->dphi = dot(w->gt, w->d, w->n);
  *finite = isfinite(pt->f) && isfinite(pt->dphi);
  return LATENS_OK;
}

static void keep(lbfgs_ws *w, const ls_point *pt, ls_point *lo) {
  *lo = *pt;
  memcpy(w->ulo, w->ut, w->n * sizeof(double));
  memcpy(w->glo, w->gt, w->n * sizeof(double));
}

/* Minimiser of the cubic matching values and slopes at x and y (N&W eq. 3.59); NaN when the
 * cubic has no minimiser. */
static double cubic_min(const ls_point *x, const ls_point *y) {
  double d1 = x->dphi + y->dphi - 3.0 * (x->f - y->f) / (x->a - y->a);
  double disc = d1 * d1 - x->dphi * y->dphi;
  if (!(disc >= 0.0)) return NAN;
  double d2 = copysign(sqrt(disc), y->a - x->a);
  return y->a - (y->a - x->a) * (y->dphi + d2 - d1) / (y->dphi - x->dphi + 2.0 * d2);
}

/* Alg. 3.6: lo satisfies sufficient decrease and has the lowest f seen; the minimiser sought
 * lies between lo and hi.  hi_finite is 0 when hi was a non-finite trial (only hi.a known). */
static int zoom(lbfgs_ws *w, double f0, double dphi0, ls_point lo, ls_point hi, int hi_finite,
                int evals, double *f_out) {
  while (evals < LS_MAX_EVALS) {
    double left = fmin(lo.a, hi.a), right = fmax(lo.a, hi.a), width = right - left;
    if (width <= DBL_EPSILON * right) break; /* the interval has collapsed */
    double a = lo.a + ls_shrink * (hi.a - lo.a);
    if (hi_finite) {
      a = cubic_min(&lo, &hi);
      if (!(a >= left + 0.1 * width && a <= right - 0.1 * width)) a = left + 0.5 * width;
    }
    ls_point pt;
    int finite, status = trial(w, a, &pt, &finite);
    evals++;
    if (status) return status;
    if (!finite) {
      hi.a = a, hi_finite = 0;
    } else if (pt.f > f0 + wolfe_c1 * pt.a * dphi0 || pt.f >= lo.f) {
      hi = pt, hi_finite = 1;
    } else {
      if (fabs(pt.dphi) <= -wolfe_c2 * dphi0) {
        keep(w, &pt, &lo);
        break;
      }
      if (pt.dphi * (hi.a - lo.a) >= 0.0) hi = lo, hi_finite = 1;
      keep(w, &pt, &lo);
    }
  }
  /* Out of budget or interval: lo still decreases f enough to be a step, if it is one. */
  if (lo.a <= 0.0) return LATENS_ENOPROG;
  *f_out = lo.f;
  return LATENS_OK;
}

/* Alg. 3.5 from the point w->u (value f0, slope dphi0 < 0 along w->d), first trial a0.
 * LATENS_OK: the accepted point is in (ulo, glo), its value in *f_out.  LATENS_ENOPROG: no
 * step decreased f enough.  Other statuses come from the objective. */
static int line_search(lbfgs_ws *w, double f0, double dphi0, double a0, double *f_out) {
  ls_point prev = {0.0, f0, dphi0}, pt;
  double a = a0, amax = INFINITY; /* amax: shortest step known to be non-finite */
  for (int evals = 0; evals < LS_MAX_EVALS;) {
    int finite, status = trial(w, a, &pt, &finite);
    evals++;
    if (status) return status;
    if (!finite) {
      amax = a;
      a = prev.a + ls_shrink * (a - prev.a);
      if (a - prev.a <= DBL_EPSILON * a) break;
      continue;
    }
    if (pt.f > f0 + wolfe_c1 * a * dphi0 || (prev.a > 0.0 && pt.f >= prev.f))
      return zoom(w, f0, dphi0, prev, pt, 1, evals, f_out);
    if (fabs(pt.dphi) <= -wolfe_c2 * dphi0) {
      keep(w, &pt, &prev);
      *f_out = pt.f;
      return LATENS_OK;
    }
    if (pt.dphi >= 0.0) {
      ls_point lo;
      keep(w, &pt, &lo);
      return zoom(w, f0, dphi0, lo, prev, 1, evals, f_out);
    }
    /* Still descending: extrapolate, by the cubic when it says how far, advancing 1 to 4
     * times the last advance and staying short of any step known to be non-finite. */
    double lo_lim = a + (a - prev.a), hi_lim = a + 4.0 * (a - prev.a);
    double next = cubic_min(&prev, &pt);
    if (!(next >= lo_lim)) next = lo_lim;
    if (!(next <= hi_lim)) next = hi_lim;
    if (next >= amax) next = a + 0.5 * (amax - a);
    keep(w, &pt, &prev);
    a = next;
  }
  if (prev.a <= 0.0) return LATENS_ENOPROG;
  *f_out = prev.f;
  return LATENS_OK;
}

/* Adds the pair from the last step unless its curvature s'y is too small to trust. */
static void update(lbfgs_ws *w, const double *u, const double *g) {
  size_t n = w->n;
  double sy = 0.0, yy = 0.0;
  for (size_t i = 0; i < n; i++) {
    double s = w->ulo[i] - u[i], y = w->glo[i] - g[i];
    sy += s * y, yy += y * y;
  }
  if (!(sy > DBL_EPSILON * yy) || !isfinite(sy)) return;
  size_t j = w->npairs ? (w->newest + 1) % w->m : 0;
  double *s = w->S + j * n, *y = w->Y + j * n;
  for (size_t i = 0; i < n; i++) s[i] = w->ulo[i] - u[i], y[i] = w->glo[i] - g[i];
  w->rho[j] = 1.0 / sy;
  w->gamma = sy / yy;
  w->newest = j;
  if (w->npairs < w->m) w->npairs++;
}

/* One line search along -H g, falling back to steepest descent once if that fails. */
static int step(lbfgs_ws *w, const latens_optim_options *o, double f, const double *g,
                double *f_new) {
  for (;;) {
    direction(w, g);
    double dphi0 = dot(g, w->d, w->n);
    if (!(dphi0 < 0.0) || !isfinite(dphi0)) { /* H lost positive definiteness to rounding */
      if (w->npairs == 0) return LATENS_ENOPROG;     /* |g|^2 overflows: nothing to do */
      w->npairs = 0;
      continue;
    }
    double a0 = w->npairs ? 1.0 : o->step / sqrt(-dphi0); /* |d| = |g| when H = I */
    int status = line_search(w, f, dphi0, a0, f_new);
    if (status != LATENS_ENOPROG || w->npairs == 0) return status;
    w->npairs = 0;
  }
}

static lbfgs_ws *ws_alloc(latens_optim_problem *p, size_t m) {
  size_t n = p->n, mn = latens_mul_size(m, n);
  size_t count = mn && mn <= (SIZE_MAX - 6 * n - 2 * m) / 2 ? 2 * mn + 6 * n + 2 * m : 0;
  size_t bytes = latens_mul_size(count, sizeof(double));
  lbfgs_ws *w = malloc(sizeof *w);
  double *mem = bytes ? malloc(bytes) : NULL;
  if (!w || !mem) {
    free(w), free(mem);
    latens_errorf(__FILE__, __LINE__, LATENS_ENOMEM,
                  "latens_optim_minimize: no memory for L-BFGS with n = %zu, m = %zu", n, m);
    return NULL;
  }
  *w = (lbfgs_ws){.p = p, .n = n, .m = m, .gamma = 1.0};
  w->S = mem, w->Y = w->S + mn, w->rho = w->Y + mn, w->alpha = w->rho + m;
  w->d = w->alpha + m, w->ut = w->d + n, w->gt = w->ut + n, w->ulo = w->gt + n;
  w->glo = w->ulo + n, w->u = w->glo + n;
  return w;
}

int latens_optim_lbfgs(latens_optim_problem *p, const latens_optim_options *o, double *u,
                       double *f, double *g, latens_optim_result *res) {
  size_t n = p->n;
  /* Pairs beyond the iteration count would never be used. */
  lbfgs_ws *w = ws_alloc(p, o->m < o->max_iter ? o->m : o->max_iter);
  if (!w) {
    res->reason = LATENS_OPTIM_STOP_ERROR;
    return res->status = LATENS_ENOMEM;
  }
  memcpy(w->u, u, n * sizeof(double));
  for (size_t iter = 1;; iter++) {
    double f_new;
    int status = step(w, o, *f, g, &f_new);
    if (status) {
      res->iterations = iter - 1;
      res->reason = status == LATENS_ENOPROG ? LATENS_OPTIM_STOP_NOPROG : LATENS_OPTIM_STOP_ERROR;
      res->status = status;
      break;
    }
    update(w, w->u, g);
    double f_prev = *f;
    *f = f_new;
    memcpy(w->u, w->ulo, n * sizeof(double));
    memcpy(g, w->glo, n * sizeof(double));
    if (latens_optim_should_stop(p, o, iter, f_prev, *f, latens_optim_norm_inf(g, n), NAN, res))
      break;
  }
  memcpy(u, w->u, n * sizeof(double));
  free(w->S);
  free(w);
  return res->status;
}
