/* latens/lti.h: placeholder, being written. */
#ifndef LATENS_LTI_H
#define LATENS_LTI_H
#include <latens/common.h>
#endif
