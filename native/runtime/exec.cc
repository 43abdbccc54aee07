// st_exec: the generic checks every instruction gets, then its kernel family's check and run.
// Compiled programs (program.cc) call the same checks once, at creation, and only run afterwards.
#include "internal.h"

namespace {
struct OpInfo {
  int n_in, n_out;
};
const OpInfo kOps[] = {
#define ST_OP(e, name, nin, nout) {nin, nout},
#include "../ops.def"
#undef ST_OP
};
static_assert(sizeof(kOps) / sizeof(kOps[0]) == ST_OP_COUNT, "op table out of sync with ops.def");

st_code check_tensor(const st_tensor &t, const char *op, const char *role, int i, bool need_data, st_status *st) {
  ST_REQUIRE(st, t.dtype >= 0 && t.dtype < ST_DTYPE_COUNT, ST_ERR_DTYPE, "%s: %s %d has invalid dtype code %d", op,
             role, i, (int)t.dtype);
  ST_REQUIRE(st, t.ndim >= 0 && t.ndim <= ST_MAX_DIMS, ST_ERR_SHAPE, "%s: %s %d has rank %d (at most %d)", op, role, i,
             (int)t.ndim, ST_MAX_DIMS);
  for (int d = 0; d < t.ndim; d++)
    ST_REQUIRE(st, t.shape[d] >= 0, ST_ERR_SHAPE, "%s: %s %d has negative dimension %lld", op, role, i,
               (long long)t.shape[d]);
  // overflow-safe: a shape whose element count or byte size does not fit is refused before any use
  ST_REQUIRE(st, st_shape_bytes(t.dtype, t.ndim, t.shape) >= 0, ST_ERR_ALLOC,
             "%s: %s %d of shape %s is too large (more than 2^%d bytes)", op, role, i, st::ShapeStr(t).c_str(),
             (int)ST_MAX_BYTES_LOG2);
  ST_REQUIRE(st, !need_data || t.data || st_numel(&t) == 0, ST_ERR_ARG, "%s: %s %d has no data", op, role, i);
  return ST_OK;
}
}  // namespace

namespace st {

const Family *family_of(int32_t opcode) {
  switch (opcode) {
    case ST_OP_ELEMWISE: return &st_elemwise_family;
    case ST_OP_FILL:
    case ST_OP_RANGE:
    case ST_OP_EYE:
    case ST_OP_RANDOM_UNIFORM:
    case ST_OP_RANDOM_NORMAL: return &st_creation_family;
    case ST_OP_COPY:
    case ST_OP_CONCAT:
    case ST_OP_PAD: return &st_shape_family;
    case ST_OP_REDUCE:
    case ST_OP_ARGREDUCE: return &st_reduce_family;
    case ST_OP_SOFTMAX:
    case ST_OP_LOG_SOFTMAX: return &st_softmax_family;
    case ST_OP_GATHER:
    case ST_OP_ONE_HOT:
    case ST_OP_CHECK_INDEX: return &st_gather_family;
    case ST_OP_MATMUL: return &st_matmul_family;
    case ST_OP_CONV2D:
    case ST_OP_CONV2D_GRAD_INPUT:
    case ST_OP_CONV2D_GRAD_FILTER:
    case ST_OP_CONV2D_BIAS_ACT: return &st_conv_family;
    case ST_OP_MAX_POOL2D:
    case ST_OP_AVG_POOL2D:
    case ST_OP_MAX_POOL2D_GRAD:
    case ST_OP_AVG_POOL2D_GRAD:
    case ST_OP_MAX_POOL2D_SELECT: return &st_pool_family;
    case ST_OP_GATHER_GRAD:
    case ST_OP_SCATTER_STRIDED: return &st_adjoint_family;
    case ST_OP_MATMUL_BIAS_ACT:
    case ST_OP_GEMM_ACC: return &st_epilogue_family;
    case ST_OP_ALLREDUCE:
    case ST_OP_BROADCAST:
    case ST_OP_ALLGATHER:
    case ST_OP_ALLREDUCE_START:
    case ST_OP_ALLREDUCE_WAIT: return &st_collective_family;
    case ST_OP_ADAM_UPDATE: return &st_optim_family;
    case ST_OP_JUMP:
    case ST_OP_JUMP_IF_FALSE:
    case ST_OP_LOOP:
    case ST_OP_LOOP_END: return nullptr;
  }
  return nullptr;
}

st_code check_instr(const st_instr *ins, bool need_data, PreparedPtr *prep, st_status *st) {
  ST_REQUIRE(st, ins != nullptr, ST_ERR_ARG, "st_exec: no instruction");
  ST_REQUIRE(st, ins->opcode >= 0 && ins->opcode < ST_OP_COUNT, ST_ERR_ARG, "st_exec: invalid opcode %d",
             (int)ins->opcode);
  const char *op = st_op_name(ins->opcode);
  const OpInfo &info = kOps[ins->opcode];
  const Family *fam = family_of(ins->opcode);
  ST_REQUIRE(st, fam != nullptr, ST_ERR_ARG, "%s: control flow runs only inside a program", op);
  ST_REQUIRE(st, info.n_in < 0 || ins->n_in == info.n_in, ST_ERR_ARG, "%s: expected %d inputs, got %d", op, info.n_in,
             (int)ins->n_in);
  ST_REQUIRE(st, info.n_out < 0 || ins->n_out == info.n_out, ST_ERR_ARG, "%s: expected %d outputs, got %d", op,
             info.n_out, (int)ins->n_out);
  ST_REQUIRE(st, ins->n_in >= 0 && ins->n_out >= 1, ST_ERR_ARG, "%s: bad input/output counts %d/%d", op, (int)ins->n_in,
             (int)ins->n_out);
  ST_REQUIRE(st, (ins->n_in == 0 || ins->in) && ins->out, ST_ERR_ARG, "%s: missing input or output array", op);
  ST_REQUIRE(st, ins->n_iattr >= 0 && (ins->n_iattr == 0 || ins->iattr), ST_ERR_ARG, "%s: bad int attributes", op);
  ST_REQUIRE(st, ins->n_fattr >= 0 && (ins->n_fattr == 0 || ins->fattr), ST_ERR_ARG, "%s: bad float attributes", op);
  for (int i = 0; i < ins->n_in; i++) ST_CHECK(check_tensor(ins->in[i], op, "input", i, need_data, st));
  for (int i = 0; i < ins->n_out; i++) ST_CHECK(check_tensor(ins->out[i], op, "output", i, need_data, st));
  return fam->check(ins, prep, st);
}

}  // namespace st

extern "C" st_code st_exec(st_ctx *ctx, const st_instr *ins, st_status *st) {
  if (st) st->code = ST_OK, st->message[0] = 0;
  st::PreparedPtr prep;
  ST_CHECK(st::check_instr(ins, true, &prep, st));
  const st_code rc = st::family_of(ins->opcode)->run(ctx, ins, prep.get(), st);
  st_collectives_finish_started();  // a lone ALLREDUCE_START must not outlive its buffers
  return rc;
}
