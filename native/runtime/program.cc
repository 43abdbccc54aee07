// Program executor: a validated, deep-copied list of instructions over numbered slots.  Everything a
// run needs (st_instr records, tensor descriptors, the arena, each instruction's kernel family and
// prepared state such as the ELEMWISE plan) is built once by st_program_new, which also runs every
// check that does not depend on the data.  A run only patches the INPUT/OUTPUT data pointers and
// calls the kernels: it validates nothing but what the data decides (indices, random stream state)
// and allocates nothing.
#include <chrono>
#include <cstdlib>
#include <new>
#include <vector>

#include "internal.h"

namespace {

// tensors[tensor].data <- io < n_inputs ? input_data[io] : output_data[io - n_inputs]
struct Patch {
  int32_t tensor;
  int32_t io;
};

// Bytes of a slot, or -1 when the element count overflows what we can address.
int64_t slot_bytes(const st_slot_desc &s) { return st_shape_bytes(s.dtype, s.ndim, s.shape); }

bool first_is_zero(const st_tensor &t) {
  switch (t.dtype) {
    case ST_F64: return *static_cast<const double *>(t.data) == 0.0;
    case ST_I32: return *static_cast<const int32_t *>(t.data) == 0;
    case ST_BOOL: return *static_cast<const uint8_t *>(t.data) == 0;
    default: return *static_cast<const float *>(t.data) == 0.0f;
  }
}

}  // namespace

struct st_program {
  std::vector<st_slot_desc> slots;
  std::vector<int64_t> bytes;       // per slot
  std::vector<int32_t> io_index;    // per slot: position among the INPUT (or OUTPUT) slots, else -1
  std::vector<int32_t> io_slots;    // INPUT slots in ascending order, then OUTPUT slots
  int32_t n_inputs = 0, n_outputs = 0;
  void *arena = nullptr;
  int64_t arena_bytes = 0;

  std::vector<st_instr> instrs;
  std::vector<const st::Family *> families;  // per instruction; nullptr for JUMP / JUMP_IF_FALSE
  std::vector<st::PreparedPtr> prepared;     // per instruction, from the family's check
  std::vector<st_tensor> tensors;   // every instruction's inputs then outputs, in instruction order
  std::vector<int32_t> tensor_slot; // slot of each entry of tensors
  std::vector<int64_t> iattr;
  std::vector<double> fattr;
  std::vector<Patch> patches;
  std::vector<int32_t> copies;      // (dst, src) pairs, flattened

  // Loops (LOOP ... LOOP_END): per LOOP instruction, its views and copies; per VIEW slot, where it
  // points now and the tensors that name it.
  struct View {
    int32_t slot, base;
    int64_t start, step, mod, row_bytes;
    char *base_ptr;  // the base's data when the loop began
  };
  struct ByteCopy {
    int32_t dst, src;
    int64_t dst_off, src_off, bytes;
  };
  struct Loop {
    int32_t end = -1;
    int64_t n_steps = 0, t = 0;
    std::vector<View> views;
    std::vector<ByteCopy> begin_copies, end_copies;
  };
  std::vector<int32_t> loop_at;                  // per instruction: index into loops, or -1
  std::vector<Loop> loops;
  std::vector<void *> view_data;                 // per slot (VIEW slots only)
  std::vector<std::vector<int32_t>> view_refs;   // per slot: entries of tensors naming it

  bool profile = false;
  std::vector<double> prof_ns;
  std::vector<int64_t> prof_counts;

  ~st_program() { std::free(arena); }

  void *slot_data(int32_t s, void *const *in, void *const *out) const {
    const st_slot_desc &d = slots[s];
    switch (d.kind) {
      case ST_SLOT_INPUT: return in[io_index[s]];
      case ST_SLOT_OUTPUT: return out[io_index[s]];
      case ST_SLOT_BOUND: return d.bound_data;
      case ST_SLOT_VIEW: return view_data[s];
      default: return arena ? static_cast<char *>(arena) + d.arena_offset : nullptr;
    }
  }
};

namespace {

st_code validate_slots(const st_slot_desc *slots, int32_t n_slots, int64_t arena_bytes, st_status *st) {
  ST_REQUIRE(st, n_slots >= 0 && (n_slots == 0 || slots), ST_ERR_ARG, "program: %d slots but no slot array",
             (int)n_slots);
  ST_REQUIRE(st, arena_bytes >= 0, ST_ERR_ARG, "program: arena size %lld is negative", (long long)arena_bytes);
  for (int32_t i = 0; i < n_slots; i++) {
    const st_slot_desc &s = slots[i];
    ST_REQUIRE(st, s.kind >= 0 && s.kind < ST_SLOT_KIND_COUNT, ST_ERR_ARG, "program: slot %d has invalid kind %d",
               (int)i, (int)s.kind);
    ST_REQUIRE(st, s.dtype >= 0 && s.dtype < ST_DTYPE_COUNT, ST_ERR_DTYPE, "program: slot %d has invalid dtype code %d",
               (int)i, (int)s.dtype);
    ST_REQUIRE(st, s.ndim >= 0 && s.ndim <= ST_MAX_DIMS, ST_ERR_SHAPE, "program: slot %d has rank %d (at most %d)",
               (int)i, (int)s.ndim, ST_MAX_DIMS);
    for (int d = 0; d < s.ndim; d++)
      ST_REQUIRE(st, s.shape[d] >= 0, ST_ERR_SHAPE, "program: slot %d has negative dimension %lld", (int)i,
                 (long long)s.shape[d]);
    const int64_t b = slot_bytes(s);
    ST_REQUIRE(st, b >= 0, ST_ERR_ALLOC, "program: slot %d is too large (more than 2^%d bytes)", (int)i,
               (int)ST_MAX_BYTES_LOG2);
    if (s.kind == ST_SLOT_TEMP) {
      ST_REQUIRE(st, s.arena_offset >= 0 && s.arena_offset % 64 == 0, ST_ERR_ARG,
                 "program: slot %d arena offset %lld is not a non-negative multiple of 64", (int)i,
                 (long long)s.arena_offset);
      ST_REQUIRE(st, s.arena_offset <= arena_bytes && b <= arena_bytes - s.arena_offset, ST_ERR_ARG,
                 "program: slot %d (%lld bytes at offset %lld) does not fit the %lld-byte arena", (int)i, (long long)b,
                 (long long)s.arena_offset, (long long)arena_bytes);
    }
    if (s.kind == ST_SLOT_BOUND)
      ST_REQUIRE(st, s.bound_data || b == 0, ST_ERR_ARG, "program: bound slot %d has no data", (int)i);
  }
  return ST_OK;
}

st_code fail_instr(st_status *st, int32_t k, st_code code) {
  if (st) st->instr = k;
  return code;
}

st_code validate_instr(const st_program_instr &p, int32_t k, const st_slot_desc *slots, int32_t n_slots,
                       int32_t n_instrs, st_status *st) {
  ST_REQUIRE(st, p.opcode >= 0 && p.opcode < ST_OP_COUNT, ST_ERR_ARG, "program: instruction %d has invalid opcode %d",
             (int)k, (int)p.opcode);
  const char *op = st_op_name(p.opcode);
  ST_REQUIRE(st, p.n_in >= 0 && p.n_out >= 0 && p.n_iattr >= 0 && p.n_fattr >= 0, ST_ERR_ARG,
             "program: instruction %d (%s) has a negative count", (int)k, op);
  ST_REQUIRE(st, (p.n_in == 0 || p.in) && (p.n_out == 0 || p.out) && (p.n_iattr == 0 || p.iattr) &&
                     (p.n_fattr == 0 || p.fattr),
             ST_ERR_ARG, "program: instruction %d (%s) is missing an array", (int)k, op);
  for (int32_t j = 0; j < p.n_in; j++)
    ST_REQUIRE(st, p.in[j] >= 0 && p.in[j] < n_slots, ST_ERR_ARG,
               "program: instruction %d (%s) input %d names slot %d of %d", (int)k, op, (int)j, (int)p.in[j],
               (int)n_slots);
  for (int32_t j = 0; j < p.n_out; j++)
    ST_REQUIRE(st, p.out[j] >= 0 && p.out[j] < n_slots, ST_ERR_ARG,
               "program: instruction %d (%s) output %d names slot %d of %d", (int)k, op, (int)j, (int)p.out[j],
               (int)n_slots);
  if (p.opcode == ST_OP_JUMP || p.opcode == ST_OP_JUMP_IF_FALSE) {
    const int want_in = p.opcode == ST_OP_JUMP ? 0 : 1;
    ST_REQUIRE(st, p.n_in == want_in && p.n_out == 0, ST_ERR_ARG,
               "program: instruction %d (%s) takes %d inputs and no outputs, got %d/%d", (int)k, op, want_in,
               (int)p.n_in, (int)p.n_out);
    ST_REQUIRE(st, p.n_iattr >= 1, ST_ERR_ARG, "program: instruction %d (%s) has no target", (int)k, op);
    // Forward only: every program then ends after at most n_instrs steps.
    ST_REQUIRE(st, p.iattr[0] > k && p.iattr[0] <= n_instrs, ST_ERR_ARG,
               "program: instruction %d (%s) targets %lld; jumps go forward, to (%d, %d]", (int)k, op,
               (long long)p.iattr[0], (int)k, (int)n_instrs);
    if (want_in)
      ST_REQUIRE(st, slot_bytes(slots[p.in[0]]) > 0, ST_ERR_SHAPE,
                 "program: instruction %d (%s) tests slot %d, which has no elements", (int)k, op, (int)p.in[0]);
  }
  return ST_OK;
}

// Loops: LOOP k .. LOOP_END e pairs, properly nested; each VIEW slot placed by exactly one loop and
// named only strictly inside that loop's body; every row and copy inside its slots; no jump into a
// body from outside, none out of a body past its LOOP_END.
const int64_t kLoopLimit = int64_t(1) << 31;

struct LoopSpec {
  int32_t begin, end;
  int64_t n_steps;
};

bool is_loop(const st_program_instr &p) { return p.opcode == ST_OP_LOOP; }

// True when instruction i lies strictly inside the body of the loop starting at k.
bool inside(const std::vector<int32_t> &loop_end, int32_t k, int32_t i) { return k < i && i < loop_end[k]; }

st_code check_view_use(const std::vector<int32_t> &owner, const std::vector<int32_t> &loop_end, const st_slot_desc *slots,
                       int32_t s, int32_t i, const char *what, st_status *st) {
  if (slots[s].kind != ST_SLOT_VIEW) return ST_OK;
  ST_REQUIRE(st, owner[s] >= 0, ST_ERR_ARG, "program: instruction %d %s view slot %d, which no loop places", (int)i,
             what, (int)s);
  ST_REQUIRE(st, inside(loop_end, owner[s], i), ST_ERR_ARG,
             "program: instruction %d %s view slot %d outside the body of loop %d that places it", (int)i, what, (int)s,
             (int)owner[s]);
  return ST_OK;
}

st_code check_copies(const int64_t *c, int64_t n, int32_t i, const st_slot_desc *slots, int32_t n_slots,
                     const std::vector<int32_t> &owner, const std::vector<int32_t> &loop_end, st_status *st) {
  for (int64_t j = 0; j < n; j++, c += 5) {
    const int64_t dst = c[0], doff = c[1], src = c[2], soff = c[3], bytes = c[4];
    ST_REQUIRE(st, dst >= 0 && dst < n_slots && src >= 0 && src < n_slots, ST_ERR_ARG,
               "program: loop instruction %d copy %lld names a slot outside [0, %d)", (int)i, (long long)j,
               (int)n_slots);
    ST_CHECK(check_view_use(owner, loop_end, slots, (int32_t)dst, i, "copies into", st));
    ST_CHECK(check_view_use(owner, loop_end, slots, (int32_t)src, i, "copies from", st));
    const int64_t db = slot_bytes(slots[dst]), sb = slot_bytes(slots[src]);
    ST_REQUIRE(st, bytes >= 0 && doff >= 0 && soff >= 0 && doff <= db && bytes <= db - doff && soff <= sb &&
                       bytes <= sb - soff,
               ST_ERR_ARG,
               "program: loop instruction %d copy %lld (%lld bytes from slot %lld at %lld to slot %lld at %lld) does "
               "not fit its slots (%lld and %lld bytes)",
               (int)i, (long long)j, (long long)bytes, (long long)src, (long long)soff, (long long)dst, (long long)doff,
               (long long)sb, (long long)db);
  }
  return ST_OK;
}

st_code validate_loops(const st_program_instr *instrs, int32_t n_instrs, const st_slot_desc *slots, int32_t n_slots,
                       st_status *st) {
  std::vector<int32_t> loop_end((size_t)n_instrs, -1);
  std::vector<LoopSpec> loops;
  for (int32_t k = 0; k < n_instrs; k++) {
    const st_program_instr &p = instrs[k];
    if (p.opcode == ST_OP_LOOP) {
      ST_REQUIRE(st, p.n_iattr >= 4, ST_ERR_ARG, "program: loop %d has %d int attributes (at least 4)", (int)k,
                 (int)p.n_iattr);
      const int64_t end = p.iattr[0], n = p.iattr[1], nv = p.iattr[2], nc = p.iattr[3];
      ST_REQUIRE(st, nv >= 0 && nc >= 0 && nv < kLoopLimit && nc < kLoopLimit && p.n_iattr == 4 + 5 * nv + 5 * nc,
                 ST_ERR_ARG, "program: loop %d declares %lld views and %lld copies but has %d int attributes", (int)k,
                 (long long)nv, (long long)nc, (int)p.n_iattr);
      ST_REQUIRE(st, n >= 0 && n < kLoopLimit, ST_ERR_ARG, "program: loop %d has %lld steps (0 to 2^31 - 1)", (int)k,
                 (long long)n);
      ST_REQUIRE(st, end > k && end < n_instrs && instrs[end].opcode == ST_OP_LOOP_END && instrs[end].n_iattr >= 2 &&
                         instrs[end].iattr[0] == k,
                 ST_ERR_ARG, "program: loop %d ends at %lld, which is not its LOOP_END", (int)k, (long long)end);
      loop_end[k] = (int32_t)end;
      loops.push_back({k, (int32_t)end, n});
    } else if (p.opcode == ST_OP_LOOP_END) {
      ST_REQUIRE(st, p.n_iattr >= 2, ST_ERR_ARG, "program: loop end %d has %d int attributes (at least 2)", (int)k,
                 (int)p.n_iattr);
      const int64_t b = p.iattr[0], nc = p.iattr[1];
      ST_REQUIRE(st, b >= 0 && b < k && is_loop(instrs[b]) && instrs[b].n_iattr >= 1 && instrs[b].iattr[0] == k,
                 ST_ERR_ARG, "program: loop end %d names %lld, which is not its LOOP", (int)k, (long long)b);
      ST_REQUIRE(st, nc >= 0 && nc < kLoopLimit && p.n_iattr == 2 + 5 * nc, ST_ERR_ARG,
                 "program: loop end %d declares %lld copies but has %d int attributes", (int)k, (long long)nc,
                 (int)p.n_iattr);
    }
  }
  // nesting (loops are listed by their first instruction)
  std::vector<LoopSpec> open;
  for (const LoopSpec &l : loops) {
    while (!open.empty() && open.back().end < l.begin) open.pop_back();
    ST_REQUIRE(st, open.empty() || l.end < open.back().end, ST_ERR_ARG,
               "program: loops %d..%d and %d..%d overlap without nesting", (int)open.back().begin,
               (int)open.back().end, (int)l.begin, (int)l.end);
    open.push_back(l);
  }
  // views: one owner each
  std::vector<int32_t> owner((size_t)n_slots, -1);
  for (const LoopSpec &l : loops) {
    const int64_t *v = instrs[l.begin].iattr + 4;
    for (int64_t j = 0; j < instrs[l.begin].iattr[2]; j++, v += 5) {
      const int64_t vs = v[0];
      ST_REQUIRE(st, vs >= 0 && vs < n_slots && slots[vs].kind == ST_SLOT_VIEW, ST_ERR_ARG,
                 "program: loop %d view %lld names slot %lld, which is not a view slot", (int)l.begin, (long long)j,
                 (long long)vs);
      ST_REQUIRE(st, owner[vs] < 0, ST_ERR_ARG, "program: view slot %lld is placed by loops %d and %d", (long long)vs,
                 (int)owner[vs], (int)l.begin);
      owner[vs] = l.begin;
    }
  }
  for (const LoopSpec &l : loops) {
    const st_program_instr &p = instrs[l.begin];
    const int64_t *v = p.iattr + 4;
    for (int64_t j = 0; j < p.iattr[2]; j++, v += 5) {
      const int64_t vs = v[0], base = v[1], start = v[2], step = v[3], mod = v[4];
      ST_REQUIRE(st, base >= 0 && base < n_slots && base != vs, ST_ERR_ARG,
                 "program: loop %d view %lld has base slot %lld", (int)l.begin, (long long)j, (long long)base);
      ST_CHECK(check_view_use(owner, loop_end, slots, (int32_t)base, l.begin, "views", st));
      ST_REQUIRE(st, slots[vs].dtype == slots[base].dtype, ST_ERR_DTYPE,
                 "program: loop %d view slot %lld and its base slot %lld differ in dtype", (int)l.begin, (long long)vs,
                 (long long)base);
      ST_REQUIRE(st, start > -kLoopLimit && start < kLoopLimit && step > -kLoopLimit && step < kLoopLimit && mod >= 0 &&
                         mod < kLoopLimit,
                 ST_ERR_ARG, "program: loop %d view %lld has start %lld, step %lld, mod %lld (each below 2^31)",
                 (int)l.begin, (long long)j, (long long)start, (long long)step, (long long)mod);
      const int64_t rb = slot_bytes(slots[vs]), bb = slot_bytes(slots[base]);
      if (l.n_steps == 0 || rb == 0) continue;
      const int64_t rows = bb / rb;
      const int64_t last = start + step * (l.n_steps - 1);
      const bool ok = mod > 0 ? mod <= rows : (start >= 0 && start < rows && last >= 0 && last < rows);
      ST_REQUIRE(st, ok, ST_ERR_ARG,
                 "program: loop %d view slot %lld (rows of %lld bytes; start %lld, step %lld, mod %lld, %lld steps) "
                 "leaves its base slot %lld of %lld rows",
                 (int)l.begin, (long long)vs, (long long)rb, (long long)start, (long long)step, (long long)mod,
                 (long long)l.n_steps, (long long)base, (long long)rows);
    }
    ST_CHECK(check_copies(v, p.iattr[3], l.begin, slots, n_slots, owner, loop_end, st));
    const st_program_instr &e = instrs[l.end];
    ST_CHECK(check_copies(e.iattr + 2, e.iattr[1], l.end, slots, n_slots, owner, loop_end, st));
  }
  // every use of a view lies inside its loop's body; jumps neither enter nor leave a body
  for (int32_t i = 0; i < n_instrs; i++) {
    const st_program_instr &p = instrs[i];
    for (int32_t j = 0; j < p.n_in; j++) ST_CHECK(check_view_use(owner, loop_end, slots, p.in[j], i, "reads", st));
    for (int32_t j = 0; j < p.n_out; j++) ST_CHECK(check_view_use(owner, loop_end, slots, p.out[j], i, "writes", st));
    if (p.opcode != ST_OP_JUMP && p.opcode != ST_OP_JUMP_IF_FALSE) continue;
    const int64_t to = p.iattr[0];
    for (const LoopSpec &l : loops) {
      const bool from_in = l.begin < i && i < l.end, to_in = l.begin < to && to <= l.end;
      ST_REQUIRE(st, from_in ? to <= l.end : !to_in, ST_ERR_ARG,
                 "program: instruction %d jumps to %lld, %s the body of loop %d..%d", (int)i, (long long)to,
                 from_in ? "out of" : "into", (int)l.begin, (int)l.end);
    }
  }
  return ST_OK;
}

// Every check st_exec would make, once: the run then calls the kernels directly.
st_code check_kernels(st_program *p, st_status *st) {
  const size_t n = p->instrs.size();
  p->families.assign(n, nullptr);
  p->prepared.resize(n);
  for (size_t k = 0; k < n; k++) {
    const st_instr &ins = p->instrs[k];
    if (ins.opcode == ST_OP_JUMP || ins.opcode == ST_OP_JUMP_IF_FALSE || ins.opcode == ST_OP_LOOP ||
        ins.opcode == ST_OP_LOOP_END)
      continue;
    // INPUT and OUTPUT data arrive with each run (and are checked then), so no data is required here.
    const st_code rc = st::check_instr(&ins, false, &p->prepared[k], st);
    if (rc != ST_OK) return fail_instr(st, (int32_t)k, rc);
    p->families[k] = st::family_of(ins.opcode);
  }
  return ST_OK;
}

st_code build(st_program *p, const st_slot_desc *slots, int32_t n_slots, int64_t arena_bytes,
              const st_program_instr *instrs, int32_t n_instrs, const int32_t *copies, int32_t n_copies,
              st_status *st) {
  p->slots.assign(slots, slots + n_slots);
  p->bytes.resize((size_t)n_slots);
  p->io_index.assign((size_t)n_slots, -1);
  p->view_data.assign((size_t)n_slots, nullptr);
  for (int32_t i = 0; i < n_slots; i++) {
    st_slot_desc &s = p->slots[i];
    p->bytes[i] = slot_bytes(s);
    if (s.kind != ST_SLOT_TEMP) s.arena_offset = 0;
    if (s.kind != ST_SLOT_BOUND) s.bound_data = nullptr;
    if (s.kind == ST_SLOT_INPUT) p->io_index[i] = p->n_inputs++, p->io_slots.push_back(i);
  }
  for (int32_t i = 0; i < n_slots; i++)
    if (p->slots[i].kind == ST_SLOT_OUTPUT) p->io_index[i] = p->n_outputs++, p->io_slots.push_back(i);

  p->arena_bytes = arena_bytes;
  if (arena_bytes > 0) {
    const size_t padded = ((size_t)arena_bytes + 63) & ~size_t(63);
    p->arena = std::aligned_alloc(64, padded);
    ST_REQUIRE(st, p->arena, ST_ERR_ALLOC, "program: out of memory allocating a %lld-byte arena",
               (long long)arena_bytes);
    std::memset(p->arena, 0, padded);
  }

  size_t n_tensors = 0, n_iattr = 0, n_fattr = 0;
  for (int32_t k = 0; k < n_instrs; k++)
    n_tensors += (size_t)instrs[k].n_in + (size_t)instrs[k].n_out, n_iattr += (size_t)instrs[k].n_iattr,
        n_fattr += (size_t)instrs[k].n_fattr;
  // Sized once: the st_instr records below point into these arrays.
  p->tensors.resize(n_tensors);
  p->tensor_slot.resize(n_tensors);
  p->iattr.resize(n_iattr);
  p->fattr.resize(n_fattr);
  p->instrs.resize((size_t)n_instrs);
  size_t t = 0, ia = 0, fa = 0;
  for (int32_t k = 0; k < n_instrs; k++) {
    const st_program_instr &src = instrs[k];
    st_instr &ins = p->instrs[k];
    ins.opcode = src.opcode;
    ins.n_in = src.n_in;
    ins.n_out = src.n_out;
    ins.in = p->tensors.data() + t;
    ins.out = p->tensors.data() + t + src.n_in;
    for (int32_t j = 0; j < src.n_in + src.n_out; j++, t++) {
      const int32_t s = j < src.n_in ? src.in[j] : src.out[j - src.n_in];
      const st_slot_desc &d = p->slots[s];
      st_tensor &ten = p->tensors[t];
      ten.dtype = d.dtype;
      ten.ndim = d.ndim;
      for (int q = 0; q < d.ndim; q++) ten.shape[q] = d.shape[q];
      p->tensor_slot[t] = s;
      if (d.kind == ST_SLOT_INPUT || d.kind == ST_SLOT_OUTPUT) {
        ten.data = nullptr;
        p->patches.push_back({(int32_t)t, d.kind == ST_SLOT_INPUT ? p->io_index[s] : p->n_inputs + p->io_index[s]});
      } else {
        ten.data = p->slot_data(s, nullptr, nullptr);
      }
    }
    ins.iattr = p->iattr.data() + ia;
    ins.n_iattr = src.n_iattr;
    for (int32_t j = 0; j < src.n_iattr; j++) p->iattr[ia++] = src.iattr[j];
    ins.fattr = p->fattr.data() + fa;
    ins.n_fattr = src.n_fattr;
    for (int32_t j = 0; j < src.n_fattr; j++) p->fattr[fa++] = src.fattr[j];
  }
  p->copies.assign(copies, copies + 2 * (size_t)n_copies);
  p->view_refs.resize((size_t)n_slots);
  for (size_t q = 0; q < p->tensors.size(); q++)
    if (p->slots[p->tensor_slot[q]].kind == ST_SLOT_VIEW) p->view_refs[p->tensor_slot[q]].push_back((int32_t)q);
  p->loop_at.assign((size_t)n_instrs, -1);
  for (int32_t k = 0; k < n_instrs; k++) {
    if (instrs[k].opcode != ST_OP_LOOP) continue;
    const int64_t *a = instrs[k].iattr;
    st_program::Loop l;
    l.end = (int32_t)a[0];
    l.n_steps = a[1];
    const int64_t *v = a + 4;
    for (int64_t j = 0; j < a[2]; j++, v += 5)
      l.views.push_back({(int32_t)v[0], (int32_t)v[1], v[2], v[3], v[4], p->bytes[v[0]], nullptr});
    auto read_copies = [](const int64_t *c, int64_t n, std::vector<st_program::ByteCopy> &out) {
      for (int64_t j = 0; j < n; j++, c += 5) out.push_back({(int32_t)c[0], (int32_t)c[2], c[1], c[3], c[4]});
    };
    read_copies(v, a[3], l.begin_copies);
    read_copies(instrs[l.end].iattr + 2, instrs[l.end].iattr[1], l.end_copies);
    p->loop_at[k] = p->loop_at[l.end] = (int32_t)p->loops.size();
    p->loops.push_back(std::move(l));
  }
  p->prof_ns.assign((size_t)n_instrs, 0.0);
  p->prof_counts.assign((size_t)n_instrs, 0);
  return check_kernels(p, st);
}

}  // namespace

namespace {

// Points each view of loop l at its row for step l.t.
void place_views(st_program *p, st_program::Loop &l) {
  for (const st_program::View &v : l.views) {
    int64_t row = v.start + v.step * l.t;
    if (v.mod > 0) {
      row %= v.mod;
      if (row < 0) row += v.mod;
    }
    void *ptr = v.base_ptr ? v.base_ptr + row * v.row_bytes : nullptr;
    p->view_data[v.slot] = ptr;
    for (int32_t q : p->view_refs[v.slot]) p->tensors[q].data = ptr;
  }
}

void run_byte_copies(st_program *p, const std::vector<st_program::ByteCopy> &cs, void *const *in, void *const *out) {
  for (const st_program::ByteCopy &c : cs) {
    if (c.bytes == 0) continue;
    char *to = static_cast<char *>(p->slot_data(c.dst, in, out)) + c.dst_off;
    const char *from = static_cast<const char *>(p->slot_data(c.src, in, out)) + c.src_off;
    if (to != from) std::memmove(to, from, (size_t)c.bytes);
  }
}

}  // namespace

extern "C" {

// n_copies counts (dst, src) pairs: copies holds 2 * n_copies slot indices.
st_program *st_program_new(const st_slot_desc *slots, int32_t n_slots, int64_t arena_bytes,
                           const st_program_instr *instrs, int32_t n_instrs, const int32_t *copies, int32_t n_copies,
                           st_status *st) {
  st_status local{};
  if (!st) st = &local;
  st->code = ST_OK;
  st->instr = -1;
  st->message[0] = 0;
  if (validate_slots(slots, n_slots, arena_bytes, st) != ST_OK) return nullptr;
  if (n_instrs < 0 || (n_instrs > 0 && !instrs)) {
    st_fail(st, ST_ERR_ARG, "program: %d instructions but no instruction array", (int)n_instrs);
    return nullptr;
  }
  for (int32_t k = 0; k < n_instrs; k++) {
    st_code rc = validate_instr(instrs[k], k, slots, n_slots, n_instrs, st);
    if (rc != ST_OK) {
      fail_instr(st, k, rc);
      return nullptr;
    }
  }
  {
    st_code rc = validate_loops(instrs, n_instrs, slots, n_slots, st);
    if (rc != ST_OK) return nullptr;
  }
  if (n_copies < 0 || (n_copies > 0 && !copies)) {
    st_fail(st, ST_ERR_ARG, "program: %d copies but no copy array", (int)n_copies);
    return nullptr;
  }
  for (int32_t c = 0; c < n_copies; c++) {
    const int32_t dst = copies[2 * c], src = copies[2 * c + 1];
    if (dst < 0 || dst >= n_slots || src < 0 || src >= n_slots) {
      st_fail(st, ST_ERR_ARG, "program: copy %d (slot %d <- slot %d) names a slot outside [0, %d)", (int)c, (int)dst,
              (int)src, (int)n_slots);
      return nullptr;
    }
    if (slots[dst].kind != ST_SLOT_BOUND) {
      st_fail(st, ST_ERR_ARG, "program: copy %d writes slot %d, which is not a bound slot", (int)c, (int)dst);
      return nullptr;
    }
    const int64_t bd = slot_bytes(slots[dst]), bs = slot_bytes(slots[src]);
    if (bd != bs) {
      st_fail(st, ST_ERR_SHAPE, "program: copy %d (slot %d <- slot %d) has %lld bytes but its source %lld", (int)c,
              (int)dst, (int)src, (long long)bd, (long long)bs);
      return nullptr;
    }
  }

  st_program *p = new (std::nothrow) st_program();
  if (!p) {
    st_fail(st, ST_ERR_ALLOC, "program: out of memory");
    return nullptr;
  }
  st_code rc;
  try {
    rc = build(p, slots, n_slots, arena_bytes, instrs, n_instrs, copies, n_copies, st);
  } catch (const std::bad_alloc &) {
    rc = st_fail(st, ST_ERR_ALLOC, "program: out of memory copying the description");
  }
  if (rc != ST_OK) {
    delete p;
    return nullptr;
  }
  return p;
}

void st_program_free(st_program *p) { delete p; }

int32_t st_program_num_inputs(const st_program *p) { return p ? p->n_inputs : 0; }
int32_t st_program_num_outputs(const st_program *p) { return p ? p->n_outputs : 0; }

const st_slot_desc *st_program_slot(const st_program *p, int32_t i) {
  if (!p || i < 0 || (size_t)i >= p->slots.size()) return nullptr;
  return &p->slots[i];
}

st_code st_program_rebind(st_program *p, int32_t slot, void *data, st_status *st) {
  if (st) st->instr = -1;
  ST_REQUIRE(st, p, ST_ERR_ARG, "program: rebind without a program");
  ST_REQUIRE(st, slot >= 0 && (size_t)slot < p->slots.size(), ST_ERR_ARG, "program: rebind of slot %d of %zu",
             (int)slot, p->slots.size());
  ST_REQUIRE(st, p->slots[slot].kind == ST_SLOT_BOUND, ST_ERR_ARG, "program: rebind of slot %d, which is not bound",
             (int)slot);
  ST_REQUIRE(st, data || p->bytes[slot] == 0, ST_ERR_ARG, "program: rebind of slot %d to no data", (int)slot);
  p->slots[slot].bound_data = data;
  for (size_t t = 0; t < p->tensors.size(); t++)
    if (p->tensor_slot[t] == slot) p->tensors[t].data = data;
  if (st) st->code = ST_OK, st->message[0] = 0;
  return ST_OK;
}

st_code st_program_run(st_program *p, st_ctx *ctx, void *const *input_data, void *const *output_data,
                       st_status *st) {
  st_status local{};
  if (!st) st = &local;
  st->code = ST_OK;
  st->instr = -1;
  st->message[0] = 0;
  ST_REQUIRE(st, p, ST_ERR_ARG, "program: run without a program");
  ST_REQUIRE(st, (p->n_inputs == 0 || input_data) && (p->n_outputs == 0 || output_data), ST_ERR_ARG,
             "program: run without input or output pointers");
  for (size_t i = 0; i < p->io_slots.size(); i++) {
    const int32_t s = p->io_slots[i];
    const bool is_in = (int32_t)i < p->n_inputs;
    void *d = is_in ? input_data[i] : output_data[i - p->n_inputs];
    ST_REQUIRE(st, d || p->bytes[s] == 0, ST_ERR_ARG, "program: %s %d (slot %d) has no data",
               is_in ? "input" : "output", is_in ? (int)i : (int)(i - p->n_inputs), (int)s);
  }
  for (const Patch &pt : p->patches)
    p->tensors[pt.tensor].data = pt.io < p->n_inputs ? input_data[pt.io] : output_data[pt.io - p->n_inputs];

  using clock = std::chrono::steady_clock;
  const bool prof = p->profile;
  const int32_t n = (int32_t)p->instrs.size();
  int32_t pc = 0;
  while (pc < n) {
    const st_instr &ins = p->instrs[pc];
    clock::time_point t0;
    if (prof) t0 = clock::now();
    int32_t next = pc + 1;
    st_code rc = ST_OK;
    if (ins.opcode == ST_OP_JUMP) {
      next = (int32_t)ins.iattr[0];
    } else if (ins.opcode == ST_OP_JUMP_IF_FALSE) {
      if (first_is_zero(ins.in[0])) next = (int32_t)ins.iattr[0];
    } else if (ins.opcode == ST_OP_LOOP) {
      st_program::Loop &l = p->loops[p->loop_at[pc]];
      run_byte_copies(p, l.begin_copies, input_data, output_data);
      l.t = 0;
      if (l.n_steps == 0) {
        next = l.end;
      } else {
        for (st_program::View &v : l.views) v.base_ptr = static_cast<char *>(p->slot_data(v.base, input_data, output_data));
        place_views(p, l);
      }
    } else if (ins.opcode == ST_OP_LOOP_END) {
      st_program::Loop &l = p->loops[p->loop_at[pc]];
      if (++l.t < l.n_steps) {
        place_views(p, l);
        next = (int32_t)ins.iattr[0] + 1;
      } else {
        run_byte_copies(p, l.end_copies, input_data, output_data);
      }
    } else {
      rc = p->families[pc]->run(ctx, &ins, p->prepared[pc].get(), st);
    }
    if (prof) {
      p->prof_ns[pc] += (double)std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - t0).count();
      p->prof_counts[pc]++;
    }
    if (rc != ST_OK) {
      st_collectives_finish_started();  // reductions in flight write into this run's buffers
      st->code = rc;
      st->instr = pc;
      return rc;
    }
    pc = next;
  }
  st_collectives_finish_started();

  // Updates land only after every instruction succeeded, in the order given.
  for (size_t c = 0; c + 1 < p->copies.size(); c += 2) {
    const int32_t dst = p->copies[c], src = p->copies[c + 1];
    const int64_t b = p->bytes[dst];
    void *to = p->slot_data(dst, input_data, output_data);
    const void *from = p->slot_data(src, input_data, output_data);
    if (b > 0 && to != from) std::memmove(to, from, (size_t)b);
  }
  st->code = ST_OK;
  st->message[0] = 0;
  return ST_OK;
}

void st_program_set_profile(st_program *p, int on) {
  if (p) p->profile = on != 0;
}

void st_program_profile(const st_program *p, double *ns, int64_t *counts) {
  if (!p) return;
  for (size_t k = 0; k < p->instrs.size(); k++) {
    if (ns) ns[k] = p->prof_ns[k];
    if (counts) counts[k] = p->prof_counts[k];
  }
}

}  // extern "C"
