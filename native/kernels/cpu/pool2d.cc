// placeholder until the kernels land
#include "../../runtime/internal.h"
