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
};

LATENS_INTERNAL void latens_pc_mlp_features(const double *Z, size_t P, size_t din,
                                            const double *B, size_t F, double *Phi);
LATENS_INTERNAL void latens_pc_mlp_forward(const double *Phi, size_t P, size_t D,
                                           const double *W, const double *b, size_t H,
                                           double *Hid);
LATENS_INTERNAL void latens_pc_mlp_backward(const double *Phi, size_t P, size_t D,
                                            const double *Hid, size_t H, double *dHid,
                                            double *dW, double *db);
#endif
