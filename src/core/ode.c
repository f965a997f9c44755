/* src/core/ode.c: the ODE front end over SUNDIALS CVODES (see include/latens/ode.h).
 *
 * Everything SUNDIALS needs is created once, in the alloc functions: the SUNContext (one per
 * object, so objects on different threads share nothing), the vectors, the dense matrix and
 * LU solver (BDF) or the fixed-point solver (Adams), and the CVODE memory, initialised at a
 * dummy point so that tolerances and solvers can be attached up front.  Each solve then only
 * restarts CVODE (CVodeReInit, CVodeSensReInit), so repeated solves -- an optimiser
 * evaluating a likelihood -- allocate nothing.
 *
 * SUNDIALS must never print or abort: its error messages are captured in the object by a
 * handler (v6: CVodeSetErrHandlerFn; v7: the SUNContext's handler stack, cleared and replaced
 * by ours) and handed to latens' error handler inside the one message of the failing call.
 * Only the v6 branch is compiled and tested here; the v7 branch follows the SUNDIALS 7
 * documentation and is untested.
 */
#include "internal.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sundials/sundials_config.h>
#include <sundials/sundials_context.h>
#include <cvodes/cvodes.h>
#include <cvodes/cvodes_ls.h>
#include <nvector/nvector_serial.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunnonlinsol/sunnonlinsol_fixedpoint.h>
#include <latens/ode.h>

/* Our arrays are handed to SUNDIALS as its vectors' data: its reals must be doubles. */
#if !defined(SUNDIALS_DOUBLE_PRECISION)
#error "latens needs SUNDIALS built with double precision (SUNDIALS_PRECISION=double)"
#endif

/* The v6 -> v7 renames (v7 removed realtype/booleantype and made the communicator a SUNComm). */
#if SUNDIALS_VERSION_MAJOR >= 7
#include <sundials/sundials_errors.h>
#include <sundials/sundials_logger.h>
#define ODE_REAL sunrealtype
#define ODE_BOOL sunbooleantype
#define ODE_COMM_NULL SUN_COMM_NULL
#else
#define ODE_REAL realtype
#define ODE_BOOL booleantype
#define ODE_COMM_NULL NULL
#endif

struct latens_ode {
  size_t n, np; /* np = 0: a latens_ode_alloc problem */
  latens_ode_rhs *rhs;
  latens_ode_jac *jac;
  latens_ode_rhs_p *rhs_p;
  latens_ode_jac_p *jac_p;
  latens_ode_sens_rhs *srhs;
  void *user;
  latens_ode_options opt; /* atolv and pbar point at the copies below */
  double *atolv, *pbar;
  double *p;    /* 2 np: the current parameters (CVODES perturbs them for its DQ), then the
                   scales pbar handed to CVODES */
  double *sbuf; /* 2 n np: S and dS for srhs (CVODES keeps each column in its own vector) */
  SUNContext ctx;
  N_Vector y, *yS;
  SUNMatrix A;
  SUNLinearSolver LS;
  SUNNonlinearSolver NLS, NLSsens;
  void *cv;
  /* Per solve: what went wrong, for the message. */
  long rhs_calls, warnings;
  int cb_ret;          /* first fatal (< 0) callback return, 0 if none */
  const char *cb_name; /* which callback returned it */
  double cb_t;
  int last_recoverable; /* last > 0 callback return */
  int nonfinite;        /* a callback wrote NaN/Inf (treated as recoverable) */
  char cvmsg[256];      /* CVODE's last error message */
};

static const char *const method_names[LATENS_ODE_NMETHODS] = {"bdf", "adams"};

const char *latens_ode_method_name(int method) {
  return method >= 0 && method < LATENS_ODE_NMETHODS ? method_names[method] : "unknown";
}

void latens_ode_options_default(latens_ode_options *opt) {
  if (!opt) return;
  *opt = (latens_ode_options){.method = LATENS_ODE_BDF,
                              .rtol = 1e-6,
                              .atol = 1e-9,
                              .atolv = NULL,
                              .max_steps = 100000,
                              .h0 = 0.0,
                              .hmax = 0.0,
                              .sens_errcon = 1,
                              .pbar = NULL,
                              .progress = {NULL, NULL}};
}

/* ---------------------------------------------------------------- SUNDIALS messages */

static void keep_message(latens_ode *o, const char *func, const char *msg) {
  snprintf(o->cvmsg, sizeof o->cvmsg, "%s: %s", func ? func : "CVODE", msg ? msg : "");
}

#if SUNDIALS_VERSION_MAJOR >= 7
/* v7 calls every handler on the context's stack, so the default one (which logs to stderr)
 * is cleared first.  Warnings do not come here in v7: they go to the SUNLogger (only when
 * SUNDIALS was built with SUNDIALS_LOGGING_LEVEL >= 2), whose default streams are
 * stdout/stderr; it is pointed at /dev/null, best effort (a failure to open it is no reason
 * to refuse to integrate). */
static void capture_v7(int line, const char *func, const char *file, const char *msg,
                       SUNErrCode code, void *data, SUNContext ctx) {
  (void)line, (void)file, (void)code, (void)ctx;
  keep_message(data, func, msg);
}

static int route_context_messages(latens_ode *o) {
  if (SUNContext_ClearErrHandlers(o->ctx) != 0 ||
      SUNContext_PushErrHandler(o->ctx, capture_v7, o) != 0)
    return -1;
#if SUNDIALS_LOGGING_LEVEL >= 1
  SUNLogger logger = NULL;
  if (SUNContext_GetLogger(o->ctx, &logger) == 0 && logger) {
    (void)SUNLogger_SetErrorFilename(logger, "/dev/null");
    (void)SUNLogger_SetWarningFilename(logger, "/dev/null");
  }
#endif
  return 0;
}

static int route_cvode_messages(latens_ode *o) {
  (void)o;
  return 0;
}
#else
static void capture_v6(int code, const char *module, const char *func, char *msg, void *data) {
  (void)module;
  latens_ode *o = data;
  if (code == CV_WARNING) o->warnings++; /* e.g. t + h == t: not an error */
  else keep_message(o, func, msg);
}

static int route_context_messages(latens_ode *o) {
  (void)o;
  return 0;
}

/* v6 routes per CVODE object; CVodeCreate itself can only fail on a NULL context or out of
 * memory, when it prints before any handler can be set. */
static int route_cvode_messages(latens_ode *o) {
  return CVodeSetErrHandlerFn(o->cv, capture_v6, o) == CV_SUCCESS ? 0 : -1;
}
#endif

/* ---------------------------------------------------------------- callback wrappers */

/* Remember why a callback failed; NaN/Inf output becomes a recoverable failure, since
 * leaving f's domain is what a smaller step can fix. */
static int callback_result(latens_ode *o, int r, const char *name, double t, const double *out,
                           size_t len) {
  if (r < 0) {
    if (!o->cb_ret) o->cb_ret = r, o->cb_name = name, o->cb_t = t;
    return r;
  }
  if (r == 0 && !latens_all_finite(out, len)) o->nonfinite = 1, r = 1;
  if (r > 0) o->last_recoverable = r;
  return r;
}

static int cv_rhs(ODE_REAL t, N_Vector y, N_Vector ydot, void *data) {
  latens_ode *o = data;
  const double *yy = N_VGetArrayPointer(y);
  double *dy = N_VGetArrayPointer(ydot);
  o->rhs_calls++;
  int r = o->rhs_p ? o->rhs_p(t, yy, o->p, dy, o->user) : o->rhs(t, yy, dy, o->user);
  return callback_result(o, r, "the rhs", t, dy, o->n);
}

static int cv_jac(ODE_REAL t, N_Vector y, N_Vector fy, SUNMatrix J, void *data, N_Vector tmp1,
                  N_Vector tmp2, N_Vector tmp3) {
  (void)fy, (void)tmp1, (void)tmp2, (void)tmp3;
  latens_ode *o = data;
  const double *yy = N_VGetArrayPointer(y);
  double *jd = SM_DATA_D(J);
  size_t ld = (size_t)SM_ROWS_D(J); /* SUNDIALS' dense matrices are column-major, ld = rows */
  int r = o->jac_p ? o->jac_p(t, yy, o->p, jd, ld, o->user) : o->jac(t, yy, jd, ld, o->user);
  return callback_result(o, r, "the Jacobian", t, jd, o->n * o->n);
}

static int cv_srhs(int ns, ODE_REAL t, N_Vector y, N_Vector ydot, N_Vector *yS, N_Vector *ySdot,
                   void *data, N_Vector tmp1, N_Vector tmp2) {
  (void)tmp1, (void)tmp2;
  latens_ode *o = data;
  size_t n = o->n, np = (size_t)ns;
  double *S = o->sbuf, *dS = o->sbuf + n * np;
  for (size_t j = 0; j < np; j++) memcpy(S + j * n, N_VGetArrayPointer(yS[j]), n * sizeof *S);
  int r = o->srhs(t, N_VGetArrayPointer(y), N_VGetArrayPointer(ydot), o->p, S, dS, n, o->user);
  r = callback_result(o, r, "the sensitivity rhs", t, dS, n * np);
  if (r == 0)
    for (size_t j = 0; j < np; j++)
      memcpy(N_VGetArrayPointer(ySdot[j]), dS + j * n, n * sizeof *dS);
  return r;
}

/* ---------------------------------------------------------------- allocation */

static int check_options(const latens_ode_options *opt, size_t n, size_t np) {
  const char *who = "latens_ode_alloc";
  if ((unsigned)opt->method >= LATENS_ODE_NMETHODS)
    LATENS_ERRORF(LATENS_EINVAL, "%s: unknown method %d", who, (int)opt->method);
  if (!(opt->rtol >= 0.0) || !isfinite(opt->rtol))
    LATENS_ERRORF(LATENS_EINVAL, "%s: rtol = %g must be finite and >= 0", who, opt->rtol);
  double amin = opt->atol;
  if (opt->atolv) {
    amin = INFINITY;
    for (size_t i = 0; i < n; i++) {
      if (!(opt->atolv[i] >= 0.0) || !isfinite(opt->atolv[i]))
        LATENS_ERRORF(LATENS_EINVAL, "%s: atolv[%zu] = %g must be finite and >= 0", who, i,
                      opt->atolv[i]);
      if (opt->atolv[i] < amin) amin = opt->atolv[i];
    }
  } else if (!(opt->atol >= 0.0) || !isfinite(opt->atol)) {
    LATENS_ERRORF(LATENS_EINVAL, "%s: atol = %g must be finite and >= 0", who, opt->atol);
  }
  /* CVODE weighs errors by 1/(rtol |y_i| + atol_i): with both 0 the weight is infinite. */
  if (opt->rtol == 0.0 && amin == 0.0)
    LATENS_ERRORF(LATENS_EDOM, "%s: rtol = 0 needs every absolute tolerance > 0", who);
  if (opt->max_steps < 1 || opt->max_steps > (size_t)LONG_MAX)
    LATENS_ERRORF(LATENS_EINVAL, "%s: max_steps = %zu must be in [1, %ld]", who, opt->max_steps,
                  LONG_MAX);
  if (!(opt->h0 >= 0.0) || !isfinite(opt->h0))
    LATENS_ERRORF(LATENS_EINVAL, "%s: h0 = %g must be finite and >= 0", who, opt->h0);
  if (!(opt->hmax >= 0.0))
    LATENS_ERRORF(LATENS_EINVAL, "%s: hmax = %g must be >= 0", who, opt->hmax);
  if (opt->pbar)
    for (size_t j = 0; j < np; j++)
      if (!(opt->pbar[j] > 0.0) || !isfinite(opt->pbar[j]))
        LATENS_ERRORF(LATENS_EINVAL, "%s: pbar[%zu] = %g must be finite and > 0", who, j,
                      opt->pbar[j]);
  return LATENS_OK;
}

/* Report a failed SUNDIALS set-up call with what it said. */
static int setup_failed(latens_ode *o, const char *call) {
  latens_errorf(__FILE__, __LINE__, LATENS_EFAILED, "latens_ode_alloc: %s failed%s%s", call,
                o->cvmsg[0] ? ": " : "", o->cvmsg);
  return LATENS_EFAILED;
}

/* Newton + dense LU for BDF; fixed point (no Jacobian) for Adams. */
static int setup_solvers(latens_ode *o) {
  if (o->opt.method == LATENS_ODE_BDF) {
    o->A = SUNDenseMatrix((sunindextype)o->n, (sunindextype)o->n, o->ctx);
    o->LS = o->A ? SUNLinSol_Dense(o->y, o->A, o->ctx) : NULL;
    if (!o->LS) LATENS_ERROR("latens_ode_alloc: out of memory (dense Jacobian)", LATENS_ENOMEM);
    if (CVodeSetLinearSolver(o->cv, o->LS, o->A) != CVLS_SUCCESS)
      return setup_failed(o, "CVodeSetLinearSolver");
    if ((o->jac || o->jac_p) && CVodeSetJacFn(o->cv, cv_jac) != CVLS_SUCCESS)
      return setup_failed(o, "CVodeSetJacFn");
  } else {
    o->NLS = SUNNonlinSol_FixedPoint(o->y, 0, o->ctx);
    if (!o->NLS) LATENS_ERROR("latens_ode_alloc: out of memory (fixed point)", LATENS_ENOMEM);
    if (CVodeSetNonlinearSolver(o->cv, o->NLS) != CV_SUCCESS)
      return setup_failed(o, "CVodeSetNonlinearSolver");
  }
  return LATENS_OK;
}

/* Sensitivities are initialised once (at zero) and switched on per solve by CVodeSensReInit.
 * Staggered corrector: the state's iteration converges first, then the np sensitivities. */
static int setup_sens(latens_ode *o) {
  int np = (int)o->np;
  o->yS = N_VCloneVectorArray(np, o->y);
  if (!o->yS) LATENS_ERROR("latens_ode_alloc: out of memory (sensitivities)", LATENS_ENOMEM);
  for (int j = 0; j < np; j++) N_VConst(0.0, o->yS[j]);
  int f = CVodeSensInit(o->cv, np, CV_STAGGERED, o->srhs ? cv_srhs : NULL, o->yS);
  if (f != CV_SUCCESS) return setup_failed(o, "CVodeSensInit");
  if (CVodeSensEEtolerances(o->cv) != CV_SUCCESS) return setup_failed(o, "CVodeSensEEtolerances");
  if (CVodeSetSensErrCon(o->cv, o->opt.sens_errcon ? (ODE_BOOL)1 : (ODE_BOOL)0) != CV_SUCCESS)
    return setup_failed(o, "CVodeSetSensErrCon");
  if (o->opt.method == LATENS_ODE_ADAMS) { /* CVODES' default sensitivity corrector is Newton */
    o->NLSsens = SUNNonlinSol_FixedPointSens(np, o->yS[0], 0, o->ctx);
    if (!o->NLSsens) LATENS_ERROR("latens_ode_alloc: out of memory (fixed point)", LATENS_ENOMEM);
    if (CVodeSetNonlinearSolverSensStg(o->cv, o->NLSsens) != CV_SUCCESS)
      return setup_failed(o, "CVodeSetNonlinearSolverSensStg");
  }
  return CVodeSensToggleOff(o->cv) == CV_SUCCESS ? LATENS_OK
                                                  : setup_failed(o, "CVodeSensToggleOff");
}

static int setup_sundials(latens_ode *o) {
  if (SUNContext_Create(ODE_COMM_NULL, &o->ctx) != 0 || !o->ctx)
    LATENS_ERROR("latens_ode_alloc: SUNContext_Create failed", LATENS_ENOMEM);
  if (route_context_messages(o) != 0) return setup_failed(o, "routing SUNDIALS' messages");
  o->y = N_VNew_Serial((sunindextype)o->n, o->ctx);
  if (!o->y) LATENS_ERROR("latens_ode_alloc: out of memory (state vector)", LATENS_ENOMEM);
  N_VConst(0.0, o->y);
  o->cv = CVodeCreate(o->opt.method == LATENS_ODE_BDF ? CV_BDF : CV_ADAMS, o->ctx);
  if (!o->cv) LATENS_ERROR("latens_ode_alloc: CVodeCreate failed", LATENS_ENOMEM);
  if (route_cvode_messages(o) != 0) return setup_failed(o, "CVodeSetErrHandlerFn");
  if (CVodeInit(o->cv, cv_rhs, 0.0, o->y) != CV_SUCCESS) return setup_failed(o, "CVodeInit");
  if (CVodeSetUserData(o->cv, o) != CV_SUCCESS) return setup_failed(o, "CVodeSetUserData");
  int f;
  if (o->atolv) {
    N_Vector av = N_VMake_Serial((sunindextype)o->n, o->atolv, o->ctx);
    if (!av) LATENS_ERROR("latens_ode_alloc: out of memory (tolerances)", LATENS_ENOMEM);
    f = CVodeSVtolerances(o->cv, o->opt.rtol, av); /* CVODE keeps its own copy */
    N_VDestroy(av);
  } else {
    f = CVodeSStolerances(o->cv, o->opt.rtol, o->opt.atol);
  }
  if (f != CV_SUCCESS) return setup_failed(o, "setting the tolerances");
  int bounded = o->opt.hmax > 0.0 && isfinite(o->opt.hmax);
  if (bounded && CVodeSetMaxStep(o->cv, o->opt.hmax) != CV_SUCCESS)
    return setup_failed(o, "CVodeSetMaxStep");
  int status = setup_solvers(o);
  if (status == LATENS_OK && o->np) status = setup_sens(o);
  return status;
}

/* Copy a caller array (NULL stays NULL). */
static int dup_array(const double *src, size_t len, double **dst) {
  *dst = NULL;
  if (!src) return LATENS_OK;
  *dst = malloc(len * sizeof **dst);
  if (!*dst) return LATENS_ENOMEM;
  memcpy(*dst, src, len * sizeof **dst);
  return LATENS_OK;
}

static latens_ode *ode_new(size_t n, size_t np, void *user, const latens_ode_options *opt) {
  latens_ode_options o0;
  if (!opt) latens_ode_options_default(&o0), opt = &o0;
  /* SUNDIALS indexes with sunindextype (int64_t or int32_t, a build option), counts
   * sensitivities with int; BDF's dense Jacobian has n*n entries, srhs buffers 2*n*np. */
  const size_t imax = sizeof(sunindextype) >= 8 ? (size_t)INT64_MAX / 2 : (size_t)INT32_MAX / 2;
  size_t nn = opt->method == LATENS_ODE_BDF ? latens_mul_size(n, n) : n;
  if (n > imax || nn > imax || np > (size_t)INT_MAX)
    LATENS_ERROR_NULL("latens_ode_alloc: dimension too large for SUNDIALS", LATENS_EINVAL);
  if (nn == 0 || latens_mul_size(nn, sizeof(double)) == 0 ||
      (np && latens_mul_size(latens_mul_size(2 * n, np), sizeof(double)) == 0))
    LATENS_ERROR_NULL("latens_ode_alloc: size overflows", LATENS_ENOMEM);
  if (check_options(opt, n, np) != LATENS_OK) return NULL;
  latens_ode *o = calloc(1, sizeof *o);
  if (!o) LATENS_ERROR_NULL("latens_ode_alloc: out of memory", LATENS_ENOMEM);
  o->n = n, o->np = np, o->user = user, o->opt = *opt;
  int bad = dup_array(opt->atolv, n, &o->atolv) || dup_array(opt->pbar, np, &o->pbar);
  if (!bad && np) bad = !(o->p = calloc(2 * np, sizeof *o->p));
  o->opt.atolv = o->atolv, o->opt.pbar = o->pbar;
  if (bad) {
    latens_ode_free(o);
    LATENS_ERROR_NULL("latens_ode_alloc: out of memory", LATENS_ENOMEM);
  }
  return o;
}

latens_ode *latens_ode_alloc(size_t n, latens_ode_rhs *rhs, latens_ode_jac *jac, void *user,
                             const latens_ode_options *opt) {
  if (n == 0) LATENS_ERROR_NULL("latens_ode_alloc: n = 0", LATENS_EINVAL);
  if (!rhs) LATENS_ERROR_NULL("latens_ode_alloc: NULL rhs", LATENS_EINVAL);
  latens_ode *o = ode_new(n, 0, user, opt);
  if (!o) return NULL;
  o->rhs = rhs, o->jac = jac;
  if (setup_sundials(o) != LATENS_OK) {
    latens_ode_free(o);
    return NULL;
  }
  return o;
}

latens_ode *latens_ode_alloc_param(size_t n, size_t np, latens_ode_rhs_p *rhs,
                                   latens_ode_jac_p *jac, latens_ode_sens_rhs *srhs, void *user,
                                   const latens_ode_options *opt) {
  if (n == 0) LATENS_ERROR_NULL("latens_ode_alloc_param: n = 0", LATENS_EINVAL);
  if (np == 0) LATENS_ERROR_NULL("latens_ode_alloc_param: np = 0 (use latens_ode_alloc)",
                                 LATENS_EINVAL);
  if (!rhs) LATENS_ERROR_NULL("latens_ode_alloc_param: NULL rhs", LATENS_EINVAL);
  latens_ode *o = ode_new(n, np, user, opt);
  if (!o) return NULL;
  o->rhs_p = rhs, o->jac_p = jac, o->srhs = srhs;
  if (srhs && !(o->sbuf = malloc(2 * n * np * sizeof *o->sbuf))) {
    latens_ode_free(o);
    LATENS_ERROR_NULL("latens_ode_alloc_param: out of memory", LATENS_ENOMEM);
  }
  if (setup_sundials(o) != LATENS_OK) {
    latens_ode_free(o);
    return NULL;
  }
  return o;
}

void latens_ode_free(latens_ode *o) {
  if (!o) return;
  if (o->cv) CVodeFree(&o->cv); /* first: it frees its own sensitivity corrector */
  if (o->NLSsens) SUNNonlinSolFree(o->NLSsens);
  if (o->NLS) SUNNonlinSolFree(o->NLS);
  if (o->LS) SUNLinSolFree(o->LS);
  if (o->A) SUNMatDestroy(o->A);
  if (o->yS) N_VDestroyVectorArray(o->yS, (int)o->np);
  if (o->y) N_VDestroy(o->y);
  if (o->ctx) SUNContext_Free(&o->ctx);
  free(o->atolv), free(o->pbar), free(o->p), free(o->sbuf);
  free(o);
}

/* ---------------------------------------------------------------- solving */

typedef struct {
  const char *who;
  double t0;
  const double *y0, *S0;
  size_t lds0, ntimes;
  const double *times;
  double *Y, *dYdp;
  size_t ldy, ldd;
} solve_args;

static int check_solve_args(const latens_ode *o, const solve_args *a) {
  const char *who = a->who;
  if (!a->y0 || !a->times || !a->Y) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL y0, times or Y", who);
  if (a->ntimes == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: ntimes = 0", who);
  if (a->ldy < o->n) LATENS_ERRORF(LATENS_EINVAL, "%s: ldy = %zu < n = %zu", who, a->ldy, o->n);
  if (a->dYdp && a->ldd < o->n)
    LATENS_ERRORF(LATENS_EINVAL, "%s: ldd = %zu < n = %zu", who, a->ldd, o->n);
  if (a->dYdp && a->S0 && a->lds0 < o->n)
    LATENS_ERRORF(LATENS_EINVAL, "%s: lds0 = %zu < n = %zu", who, a->lds0, o->n);
  if (!isfinite(a->t0)) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: t0 = %g", who, a->t0);
  for (size_t i = 0; i < o->n; i++)
    if (!isfinite(a->y0[i])) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: y0[%zu] = %g", who, i, a->y0[i]);
  if (a->dYdp && a->S0)
    for (size_t j = 0; j < o->np; j++)
      for (size_t i = 0; i < o->n; i++)
        if (!isfinite(a->S0[i + j * a->lds0]))
          LATENS_ERRORF(LATENS_ENOTFINITE, "%s: S0(%zu, %zu) = %g", who, i, j,
                        a->S0[i + j * a->lds0]);
  /* The direction is set by the last time; every step must go that way (or stay). */
  double dir = a->times[a->ntimes - 1] >= a->t0 ? 1.0 : -1.0, prev = a->t0;
  for (size_t k = 0; k < a->ntimes; k++) {
    if (!isfinite(a->times[k]))
      LATENS_ERRORF(LATENS_ENOTFINITE, "%s: times[%zu] = %g", who, k, a->times[k]);
    if ((a->times[k] - prev) * dir < 0.0)
      LATENS_ERRORF(LATENS_EDOM, "%s: times[%zu] = %g comes before %g (from t0 = %g the times "
                    "must run monotonically one way)", who, k, a->times[k], prev, a->t0);
    prev = a->times[k];
  }
  return LATENS_OK;
}

/* CVODE's failure flags as latens statuses; callbacks' own failures take precedence.  Out
 * of steps with a step size below the rounding level of t is a stall (a singularity, or f
 * failing recoverably beyond some t, where CVODE creeps up to the edge forever), which more
 * steps would not cure: LATENS_EFAILED, not LATENS_EMAXITER. */
static int flag_status(const latens_ode *o, int flag, int stalled) {
  if (o->cb_ret < 0) return -o->cb_ret < LATENS_NSTATUS ? -o->cb_ret : LATENS_EFAILED;
  switch (flag) {
  case CV_TOO_MUCH_WORK: return stalled ? LATENS_EFAILED : LATENS_EMAXITER;
  case CV_TOO_MUCH_ACC:
  case CV_TOO_CLOSE:
  case CV_ILL_INPUT: return LATENS_EDOM; /* inputs were checked: a weight became <= 0 */
  case CV_MEM_FAIL: return LATENS_ENOMEM;
  case CV_FIRST_RHSFUNC_ERR:
  case CV_REPTD_RHSFUNC_ERR:
  case CV_FIRST_SRHSFUNC_ERR:
  case CV_REPTD_SRHSFUNC_ERR:
  case CV_UNREC_RHSFUNC_ERR:
  case CV_UNREC_SRHSFUNC_ERR: return o->nonfinite ? LATENS_ENOTFINITE : LATENS_EFAILED;
  default: return LATENS_EFAILED; /* CV_ERR_FAILURE, CV_CONV_FAILURE, CV_LSETUP_FAIL, ... */
  }
}

static int report_failure(const latens_ode *o, const solve_args *a, int flag, double treached,
                          size_t k) {
  ODE_REAL h = 0.0;
  (void)CVodeGetLastStep(o->cv, &h);
  int stalled = flag == CV_TOO_MUCH_WORK && fabs(h) <= 16.0 * DBL_EPSILON * fabs(treached);
  int status = flag_status(o, flag, stalled);
  char *name = CVodeGetReturnFlagName(flag); /* malloc'd by SUNDIALS (v6 and v7) */
  char why[200] = "";
  if (stalled)
    snprintf(why, sizeof why, "the step size collapsed to %g (a singularity, or the edge of "
             "f's domain?); ", (double)h);
  if (o->cb_ret < 0)
    snprintf(why + strlen(why), sizeof why - strlen(why), "%s returned %d at t = %g; ",
             o->cb_name, o->cb_ret, o->cb_t);
  else if (o->nonfinite)
    snprintf(why + strlen(why), sizeof why - strlen(why), "a callback gave NaN/Inf; ");
  else if (o->last_recoverable > 0)
    snprintf(why + strlen(why), sizeof why - strlen(why),
             "a callback failed recoverably (returned %d); ", o->last_recoverable);
  latens_errorf(__FILE__, __LINE__, status,
                "%s: CVODE %s at t = %.9g, integrating from t0 = %g to times[%zu] = %g: %s%s",
                a->who, name ? name : "(unknown flag)", treached, a->t0, k, a->times[k], why,
                o->cvmsg[0] ? o->cvmsg : "(no message)");
  free(name);
  return status;
}

static void fill_stats(latens_ode *o, int sens_on, size_t nout, double t, latens_ode_stats *st) {
  if (!st) return;
  *st = (latens_ode_stats){
      .nout = nout, .t = t, .rhs_evals = o->rhs_calls, .warnings = o->warnings};
  /* Getters that do not apply (no linear solver, sensitivities off) would report an error
   * through the handler: ask only the ones that do. */
  ODE_REAL h = 0.0;
  (void)CVodeGetNumSteps(o->cv, &st->steps);
  if (st->steps > 0 && CVodeGetLastStep(o->cv, &h) == CV_SUCCESS) st->last_step = h;
  (void)CVodeGetNumErrTestFails(o->cv, &st->err_test_fails);
  (void)CVodeGetNumNonlinSolvIters(o->cv, &st->nonlin_iters);
  (void)CVodeGetNumNonlinSolvConvFails(o->cv, &st->nonlin_conv_fails);
  if (o->LS) (void)CVodeGetNumJacEvals(o->cv, &st->jac_evals);
  if (sens_on) {
    (void)CVodeGetSensNumRhsEvals(o->cv, &st->sens_rhs_evals);
    (void)CVodeGetSensNumErrTestFails(o->cv, &st->sens_err_test_fails);
  }
}

/* Restart CVODE at (t0, y0) [and S0, p] in this solve's direction, stopping at the last
 * output time so that f is never evaluated beyond it. */
static int restart(latens_ode *o, const solve_args *a, double dir) {
  memcpy(N_VGetArrayPointer(o->y), a->y0, o->n * sizeof(double));
  double tlast = a->times[a->ntimes - 1];
  int f = CVodeReInit(o->cv, a->t0, o->y);
  if (f == CV_SUCCESS) f = CVodeSetInitStep(o->cv, dir * o->opt.h0);
  if (f == CV_SUCCESS && tlast != a->t0) f = CVodeSetStopTime(o->cv, tlast);
  if (f == CV_SUCCESS && o->np) {
    if (a->dYdp) {
      for (size_t j = 0; j < o->np; j++) {
        double *s = N_VGetArrayPointer(o->yS[j]);
        for (size_t i = 0; i < o->n; i++) s[i] = a->S0 ? a->S0[i + j * a->lds0] : 0.0;
      }
      f = CVodeSensReInit(o->cv, CV_STAGGERED, o->yS);
      /* Default scales |p_j| suit parameters of any magnitude; CVODES copies them. */
      double *pbar = o->p + o->np;
      for (size_t j = 0; j < o->np; j++)
        pbar[j] = o->pbar ? o->pbar[j] : o->p[j] != 0.0 ? fabs(o->p[j]) : 1.0;
      if (f == CV_SUCCESS) f = CVodeSetSensParams(o->cv, o->p, pbar, NULL);
    } else {
      f = CVodeSensToggleOff(o->cv);
    }
  }
  if (f != CV_SUCCESS) {
    char *name = CVodeGetReturnFlagName(f);
    latens_errorf(__FILE__, __LINE__, LATENS_EFAILED, "%s: restarting CVODE failed (%s): %s",
                  a->who, name ? name : "?", o->cvmsg);
    free(name);
    return LATENS_EFAILED;
  }
  return LATENS_OK;
}

/* Column k of Y (and of each dY/dp_j) from CVODE's current output. */
static int store(latens_ode *o, const solve_args *a, size_t k, int sens) {
  memcpy(a->Y + k * a->ldy, N_VGetArrayPointer(o->y), o->n * sizeof(double));
  if (!sens) return CV_SUCCESS;
  ODE_REAL tret;
  int f = CVodeGetSens(o->cv, &tret, o->yS);
  for (size_t j = 0; f == CV_SUCCESS && j < o->np; j++)
    memcpy(a->dYdp + (k * o->np + j) * a->ldd, N_VGetArrayPointer(o->yS[j]),
           o->n * sizeof(double));
  return f;
}

/* Columns that need no integration: times equal to t0 (y0, S0) or to the previous time. */
static void copy_column(latens_ode *o, const solve_args *a, size_t k, int sens) {
  size_t n = o->n, np = o->np;
  const double *src = a->times[k] == a->t0 ? a->y0 : a->Y + (k - 1) * a->ldy;
  memmove(a->Y + k * a->ldy, src, n * sizeof(double));
  for (size_t j = 0; sens && j < np; j++) {
    double *dst = a->dYdp + (k * np + j) * a->ldd;
    if (a->times[k] != a->t0) memmove(dst, dst - np * a->ldd, n * sizeof(double));
    else if (a->S0) memmove(dst, a->S0 + j * a->lds0, n * sizeof(double));
    else memset(dst, 0, n * sizeof(double));
  }
}

/* The step budget is over the whole solve; CVODE's own limit is per call, so it gets what
 * is left.  With nothing left, an output time inside the last step can still be served
 * (interpolation takes no step); anything further is out of budget. */
static int set_budget(latens_ode *o, const solve_args *a, size_t k, double dir) {
  long nst = 0;
  (void)CVodeGetNumSteps(o->cv, &nst);
  long left = (long)o->opt.max_steps - nst;
  if (left <= 0) {
    ODE_REAL tcur = a->t0;
    (void)CVodeGetCurrentTime(o->cv, &tcur);
    if ((tcur - a->times[k]) * dir < 0.0)
      LATENS_ERRORF(LATENS_EMAXITER, "%s: max_steps = %zu steps taken, reaching t = %.9g before "
                    "times[%zu] = %g", a->who, o->opt.max_steps, tcur, k, a->times[k]);
    left = 1;
  }
  (void)CVodeSetMaxNumSteps(o->cv, left);
  return LATENS_OK;
}

static int integrate(latens_ode *o, const solve_args *a, latens_ode_stats *stats) {
  int sens = o->np && a->dYdp;
  double dir = a->times[a->ntimes - 1] >= a->t0 ? 1.0 : -1.0, t = a->t0;
  o->rhs_calls = o->warnings = 0;
  o->cb_ret = o->last_recoverable = o->nonfinite = 0;
  o->cb_name = "", o->cb_t = 0.0, o->cvmsg[0] = '\0';
  int status = restart(o, a, dir);
  for (size_t k = 0; status == LATENS_OK && k < a->ntimes; k++) {
    double tk = a->times[k];
    if (tk == a->t0 || (k > 0 && tk == a->times[k - 1])) {
      copy_column(o, a, k, sens);
    } else {
      if ((status = set_budget(o, a, k, dir)) != LATENS_OK) {
        fill_stats(o, sens, k, t, stats);
        if (stats) (void)CVodeGetCurrentTime(o->cv, &stats->t);
        return status;
      }
      ODE_REAL tret = t;
      int flag = CVode(o->cv, tk, o->y, &tret, CV_NORMAL);
      if (flag < 0) {
        fill_stats(o, sens, k, tret, stats);
        return report_failure(o, a, flag, tret, k);
      }
      if ((flag = store(o, a, k, sens)) != CV_SUCCESS) {
        fill_stats(o, sens, k, tk, stats);
        return report_failure(o, a, flag, tk, k);
      }
      t = tk;
    }
    status = latens_progress_report(&o->opt.progress, a->who, (double)(k + 1), (double)a->ntimes);
    if (status != LATENS_OK) fill_stats(o, sens, k + 1, t, stats);
  }
  if (status == LATENS_OK) fill_stats(o, sens, a->ntimes, t, stats);
  return status;
}

int latens_ode_solve(latens_ode *ode, double t0, const double *y0, size_t ntimes,
                     const double *times, double *Y, size_t ldy, latens_ode_stats *stats) {
  if (stats) *stats = (latens_ode_stats){.t = t0};
  if (!ode) LATENS_ERROR("latens_ode_solve: NULL ode", LATENS_EINVAL);
  if (ode->np)
    LATENS_ERROR("latens_ode_solve: the problem has parameters: use latens_ode_solve_param",
                 LATENS_EINVAL);
  solve_args a = {"latens_ode_solve", t0, y0, NULL, 0, ntimes, times, Y, NULL, ldy, 0};
  int status = check_solve_args(ode, &a);
  return status != LATENS_OK ? status : integrate(ode, &a, stats);
}

int latens_ode_solve_param(latens_ode *ode, const double *p, double t0, const double *y0,
                           const double *S0, size_t lds0, size_t ntimes, const double *times,
                           double *Y, size_t ldy, double *dYdp, size_t ldd,
                           latens_ode_stats *stats) {
  const char *who = "latens_ode_solve_param";
  if (stats) *stats = (latens_ode_stats){.t = t0};
  if (!ode) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL ode", who);
  if (!ode->np)
    LATENS_ERRORF(LATENS_EINVAL, "%s: the problem has no parameters: use latens_ode_solve", who);
  if (!p) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL p", who);
  for (size_t j = 0; j < ode->np; j++)
    if (!isfinite(p[j])) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: p[%zu] = %g", who, j, p[j]);
  solve_args a = {who, t0, y0, S0, lds0, ntimes, times, Y, dYdp, ldy, ldd};
  int status = check_solve_args(ode, &a);
  if (status != LATENS_OK) return status;
  memcpy(ode->p, p, ode->np * sizeof *p);
  return integrate(ode, &a, stats);
}
