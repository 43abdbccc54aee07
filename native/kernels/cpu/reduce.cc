// placeholder until the kernels land
#include "../../runtime/internal.h"
st_code st_exec_reduce(st_ctx *, const st_instr *ins, st_status *st) { return st_fail(st, ST_ERR_INTERNAL, "reduce: pending"); }
