/* pc/pc_impl.h: the circuit's internal layout, shared by the files of src/pc; not installed. */
#ifndef LATENS_PC_IMPL_H
#define LATENS_PC_IMPL_H

#include "../core/internal.h"

#include <latens/pc.h>

#define PC_NONE ((size_t)-1)

/* One step of the compiled program, in evaluation order (grouped by depth). */
enum { OP_INPUT, OP_PRODUCT, OP_SUM };
typedef struct {
  int kind;
  size_t first;   /* first output slot; the nout outputs occupy consecutive slots */
  size_t nout;    /* units computed by this op (1 for inputs/products) */
  size_t unit;    /* id of the first unit */
  size_t ch;      /* offset into the compiled child-slot array */
  size_t nch;     /* children per output unit (shared by the block for sums) */
  size_t poff;    /* parameter offset of the first output (sums, inputs) */
} pc_op;

typedef struct {
  size_t nslots;   /* reachable units */
  size_t *slot;    /* unit id -> slot (PC_NONE when unreachable) */
  size_t *unit;    /* slot -> unit id */
  pc_op *ops;
  size_t nops;
  size_t *chslot;  /* children as slots, per op */
  size_t nlevels;
  size_t *lvl;     /* nlevels + 1: first op of each level */
  size_t max_nch, max_nout;
  size_t root_slot;
  uint64_t sig;     /* hash of the op list (kind, slots, sizes, children): workspaces carry it */
} pc_compiled;

struct latens_pc {
  size_t nvars;
  size_t *ncat;
  size_t nunits, cap;
  unsigned char *type;
  size_t *var;     /* input var or PC_NONE */
  size_t *value;   /* indicator value or PC_NONE */
  size_t *choff;   /* nunits + 1 offsets into children */
  size_t occap;    /* capacity of choff */
  size_t *children;
  size_t nedges, chcap;
  size_t *plocal;  /* offset inside its class buffer (sum weights / input params) or PC_NONE */
  size_t *pcount;
  double *wbuf, *ibuf; /* building: sum weights, input parameters */
  size_t nw, ni, wcap, icap;
  double *params;  /* after finalize: [wbuf | ibuf], nw + ni entries */
  size_t root;
  int root_set;
  int finalized;
  int deterministic;
  pc_compiled comp;
};

struct latens_pc_work {
  const latens_pc *pc; /* circuit it was made for: may be freed since, never dereferenced */
  size_t nslots, nvars;
  uint64_t sig;        /* pc->comp.sig of that circuit: any circuit of the same structure fits */
  size_t batch;
  double *V;   /* batch x nslots: log values */
  double *F;   /* batch x nslots: flows (allocated on first use, with Es, Cs, eoff) */
  double *Es;  /* the forward's exp-shifted block inputs, batch x (sum of nch over blocks) */
  double *Cs;  /* the forward's linear block outputs, batch x (sum of nout over blocks) */
  size_t *eoff; /* per op: its panel in Es (blocks only) */
  size_t *coff; /* per op: its panel in Cs (blocks only) */
  unsigned char *touched; /* per slot: its flow column has been written in this chunk */
  double *E;   /* batch x max_nch */
  double *T;   /* batch x max(max_nch, max_nout) */
  double *R;   /* batch x max_nout */
  double *G;   /* max_nch x max_nout */
  double *m;   /* batch */
  double *scratch; /* 2 x batch */
  size_t bytes;
};

/* A workspace batch that keeps the flow buffers (~4 x batch x nslots doubles) near 256 MiB:
 * between 32 and 1024 rows, and no more than n. */
LATENS_INTERNAL size_t pc_auto_batch(const latens_pc *pc, size_t n);
/* Global parameter offset of unit id (PC_NONE if it has none). */
LATENS_INTERNAL size_t pc_param_offset(const latens_pc *pc, size_t id);
/* Append a unit without checks beyond storage (the file reader checks its own input). */
LATENS_INTERNAL int pc_add_raw(latens_pc *pc, const char *fn, int type, size_t var, size_t value,
                               const size_t *ch, size_t nch, const double *par, size_t np);
/* Build comp from a validated circuit (compile.c). */
LATENS_INTERNAL int pc_compile(latens_pc *pc);
LATENS_INTERNAL void pc_compiled_free(pc_compiled *c);
/* Check X against pc's variables (rows, columns, values). */
LATENS_INTERNAL int pc_check_data(const char *fn, const latens_pc *pc, const latens_mat *X);
LATENS_INTERNAL int pc_check_ready(const char *fn, const latens_pc *pc, const latens_pc_work *w);
/* Forward pass of rows [r0, r0+nb) of X into w->V.  mode PC_FWD_MAX replaces sums by max
 * and missing leaves by their mode's log-probability; PC_FWD_STORE also keeps what the flow
 * pass needs (pc_work_need_flows first). */
enum { PC_FWD_PLAIN = 0, PC_FWD_MAX = 1, PC_FWD_STORE = 2 };
LATENS_INTERNAL void pc_forward(const latens_pc *pc, latens_pc_work *w, const latens_mat *X,
                                size_t r0, size_t nb, int mode);
/* Top-down flows of the chunk in w (after pc_forward); see latens_pc_flows. */
LATENS_INTERNAL void pc_backward(const latens_pc *pc, latens_pc_work *w, size_t nb,
                                 const double *sw, double *flows, double *unit_flows,
                                 const latens_mat *X, size_t r0);
LATENS_INTERNAL int pc_work_need_flows(const latens_pc *pc, latens_pc_work *w);

/* Kernels (eval_kernels.c). */
/* m[b] = max_c V[slot_c][b]; E[b, c] = exp(V[slot_c][b] - m[b]) (0 when m is -inf). */
LATENS_INTERNAL void pc_k_gather_exp(const double *V, size_t ld, const size_t *slots, size_t nch,
                                     size_t nb, double *m, double *E, size_t lde);
/* out[b] = log(out[b]) + m[b] for nout columns (ld), -inf where m[b] is -inf. */
LATENS_INTERNAL void pc_k_log_shift(double *out, size_t ld, size_t nout, size_t nb,
                                    const double *m);
/* F[slot_c][b] += E[b, c] * T[b, c], or = where touched[slot_c] is 0 (then set to 1). */
LATENS_INTERNAL void pc_k_scatter_flow(double *F, size_t ld, const size_t *slots, size_t nch,
                                       size_t nb, const double *E, const double *T, size_t lde,
                                       unsigned char *touched);
/* out[b] = sum_c V[slot_c][b] (out may not alias a child column). */
LATENS_INTERNAL void pc_k_product(double *V, size_t ld, const size_t *slots, size_t nch,
                                  size_t nb, double *out);
/* out[b] = t1 where x is 1, t0 where 0, miss where NaN (a binary variable's leaf). */
LATENS_INTERNAL void pc_k_binary_leaf(const double *x, size_t nb, double t0, double t1,
                                      double miss, double *out);
/* out[b] = log(in[b]) + m[b] for nout columns (same ld), -inf where in is 0. */
LATENS_INTERNAL void pc_k_log_shift_from(double *out, const double *in, size_t ld, size_t nout,
                                         size_t nb, const double *m);
/* R[b, i] = F_i[b] / C_i[b] (0 where F_i[b] is 0). */
LATENS_INTERNAL void pc_k_div(const double *F, const double *C, size_t ld, size_t nout,
                              size_t nb, double *R, size_t ldr);
/* sum_b f[b] in a fixed order (8 lanes). */
LATENS_INTERNAL double pc_k_colsum(const double *f, size_t nb);
/* out = (sum of f where x == 0, where x == 1, where x is NaN), fixed order. */
LATENS_INTERNAL void pc_k_binary_stats(const double *x, const double *f, size_t nb,
                                       double out[3]);
/* dst[b] += src[b], or dst = src when *touched is 0 (then set to 1). */
LATENS_INTERNAL void pc_k_add(double *dst, const double *src, size_t nb, unsigned char *touched);
#endif
