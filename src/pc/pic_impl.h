/* pc/pic_impl.h: the network kernels shared by pic.c and mlp.c (not installed). */
#ifndef LATENS_PC_PIC_IMPL_H
#define LATENS_PC_PIC_IMPL_H
#include "learn_impl.h"

/* The integral circuit (pic.c); its parameters are theta[0..np). */
struct latens_pc_pic {
  size_t n, E, F, H, D; /* variables, edges, frequencies, width, D = 2F features */
  long *parent;
  size_t *edge;        /* node -> head column, (size_t)-1 at the root */
  latens_pc_pic_options opt;
  double *B2, *B1;     /* fixed frequencies, F x 2 and F x 1 */
  double *theta;
  size_t np;
  size_t oW2, ob2, oV, oc, oW1, ob1, oA, obA, oR, ocR; /* offsets into theta */
  size_t oW3, ob3;     /* the edge trunk's second layer (H x H, H) when opt.depth == 2 */
};

/* The networks evaluated on a K-point rule, with the scratch of their backward pass.  The
 * rule and the Fourier features of its grid are fixed at alloc; _eval fills the trunks and
 * heads from p's parameters, _tables writes the normalised HCLT tables from them and _grad
 * the gradient (as latens_pc_pic_gradient) from the counts of those tables.  A training step
 * thus evaluates the networks once and allocates nothing. */
typedef struct {
  size_t K;
  double *z, *logw, *Phi2, *Hid2, *O, *Phi1, *Hid1, *L, *Or; /* forward */
  double *GO, *dH2, *GL, *Gr, *dH1;                          /* backward scratch */
  double *Hid2a, *dH2a; /* the edge trunk's first layer when opt.depth == 2, else NULL */
} latens_pc_pic_fw;

LATENS_INTERNAL int latens_pc_pic_fw_alloc(const latens_pc_pic *p, size_t K, latens_pc_pic_fw **out);
LATENS_INTERNAL void latens_pc_pic_fw_free(latens_pc_pic_fw *f);
LATENS_INTERNAL int latens_pc_pic_fw_eval(const latens_pc_pic *p, latens_pc_pic_fw *f);
LATENS_INTERNAL int latens_pc_pic_fw_tables(const latens_pc_pic *p, const latens_pc_pic_fw *f,
                                            latens_pc_hclt *out);
LATENS_INTERNAL int latens_pc_pic_fw_grad(const latens_pc_pic *p, latens_pc_pic_fw *f,
                                          const latens_pc_hclt *mat,
                                          const latens_pc_hclt_counts *c, double *grad);

LATENS_INTERNAL void latens_pc_mlp_features(const double *Z, size_t P, size_t din,
                                            const double *B, size_t F, double *Phi);
LATENS_INTERNAL void latens_pc_mlp_forward(const double *Phi, size_t P, size_t D,
                                           const double *W, const double *b, size_t H,
                                           double *Hid);
LATENS_INTERNAL void latens_pc_mlp_backward(const double *Phi, size_t P, size_t D,
                                            const double *Hid, size_t H, double *dHid,
                                            double *dW, double *db);
#endif
