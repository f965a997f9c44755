/* latens/optim.h: placeholder, being written. */
#ifndef LATENS_OPTIM_H
#define LATENS_OPTIM_H
#include <latens/common.h>
#endif
