// ALLREDUCE, BROADCAST and ALLGATHER: collective instructions that call through the registered
// collectives table (symtensor_collectives.h).  This file holds the registration too: the table is
// process-wide because a process belongs to exactly one world (MPI's COMM_WORLD), whichever addon
// instance or thread runs the instruction.
//
// ALLREDUCE packs its inputs into buckets: one collective call per bucket instead of one per
// tensor (many small gradients), and no call larger than bucket_bytes (a bounded scratch buffer).
// The bucket plan is made once, when the instruction is checked; the scratch buffer is allocated
// on the first run and reused.
//
// ALLREDUCE_START / ALLREDUCE_WAIT split one bucket's reduction in two, so it overlaps the
// instructions between them (the rest of the backward pass): START packs the bucket and queues its
// reduction on the communication thread; WAIT blocks until it is done and unpacks it.  Every
// collective call of the process -- the blocking instructions too -- runs on that one thread, in
// the order the instructions queued them: each rank runs the same program, so every rank makes
// the same calls in the same order, and MPI is never entered from two threads at once.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

#include "../../include/symtensor_collectives.h"
#include "../../runtime/internal.h"

namespace {

std::atomic<const st_collectives *> g_collectives{nullptr};

// ---- the communication thread ----

// A unit of communication: one or more collective calls made by `fn`, which returns a status code
// and writes its message into err.
struct CommJob {
  std::function<int32_t(char *err, size_t errlen)> fn;
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  int32_t rc = ST_OK;
  char err[256] = {0};
};

void finish(CommJob &job, int32_t rc) {
  {
    std::lock_guard<std::mutex> g(job.m);
    job.rc = rc;
    job.done = true;
  }
  job.cv.notify_all();
}

int32_t run_job(CommJob &job) {
  try {
    return job.fn(job.err, sizeof job.err);
  } catch (const std::exception &e) {
    snprintf(job.err, sizeof job.err, "%s", e.what());
  } catch (...) {
    snprintf(job.err, sizeof job.err, "unknown exception");
  }
  return ST_ERR_INTERNAL;
}

// One thread per process runs the jobs first in, first out.  It starts with the first job and is
// never stopped: it waits on a condition variable when idle, and the process may exit at any time.
class CommThread {
 public:
  std::shared_ptr<CommJob> submit(std::function<int32_t(char *, size_t)> fn) {
    auto job = std::make_shared<CommJob>();
    job->fn = std::move(fn);
    {
      std::lock_guard<std::mutex> g(m_);
      if (!started_ && !failed_) {
        try {
          std::thread(&CommThread::loop, this).detach();
          started_ = true;
        } catch (const std::system_error &) {
          failed_ = true;  // no thread to be had: run every job where it is submitted
        }
      }
      if (started_) {
        queue_.push_back(job);
        cv_.notify_one();
        return job;
      }
    }
    finish(*job, run_job(*job));
    return job;
  }

 private:
  void loop() {
    for (;;) {
      std::shared_ptr<CommJob> job;
      {
        std::unique_lock<std::mutex> l(m_);
        cv_.wait(l, [&] { return !queue_.empty(); });
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      finish(*job, run_job(*job));
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<CommJob>> queue_;
  bool started_ = false, failed_ = false;
};

// Allocated once and never destroyed: the detached thread must never see it torn down at exit.
CommThread &comm_thread() {
  static CommThread *t = new CommThread();
  return *t;
}

int32_t wait_job(CommJob &job, char *err, size_t errlen) {
  std::unique_lock<std::mutex> l(job.m);
  job.cv.wait(l, [&] { return job.done; });
  if (job.rc != ST_OK) snprintf(err, errlen, "%s", job.err);
  return job.rc;
}

// Runs fn on the communication thread and waits for it: the blocking collectives.
int32_t on_comm_thread(std::function<int32_t(char *, size_t)> fn, char *err, size_t errlen) {
  const std::shared_ptr<CommJob> job = comm_thread().submit(std::move(fn));
  return wait_job(*job, err, errlen);
}

// The reductions this thread's run started and has not waited for, by packed buffer.
struct Started {
  const void *buf;
  std::shared_ptr<CommJob> job;  // null in a world of one: nothing was sent
  int32_t size;                  // the world's size when it started
};
thread_local std::vector<Started> t_started;

// A piece of one tensor inside a bucket: elements [offset, offset + count) of tensor `tensor`.
struct Segment {
  int32_t tensor;
  int64_t offset, count;
};

struct Bucket {
  int32_t dtype;
  int64_t count;  // elements, the sum of the segments'
  std::vector<Segment> segments;
};

struct AllreducePlan : st::Prepared {
  std::vector<Bucket> buckets;
  int64_t max_bucket_bytes = 0;
  // Scratch for buckets of several segments; runs of one program are serialized by the caller.
  mutable std::vector<unsigned char> scratch;
};

bool reducible(int32_t dtype) { return dtype == ST_F32 || dtype == ST_F64 || dtype == ST_I32; }

const char *op_name(int64_t op) {
  switch (op) {
    case ST_COLL_SUM: return "sum";
    case ST_COLL_MEAN: return "mean";
    case ST_COLL_MAX: return "max";
    case ST_COLL_MIN: return "min";
  }
  return "invalid";
}

bool same_shape(const st_tensor &a, const st_tensor &b) {
  if (a.ndim != b.ndim) return false;
  for (int d = 0; d < a.ndim; d++)
    if (a.shape[d] != b.shape[d]) return false;
  return true;
}

// Greedy packing per dtype, in input order: each bucket holds at most bucket_bytes.
void plan_buckets(const st_instr *ins, int64_t bucket_bytes, AllreducePlan *plan) {
  for (int32_t dtype : {ST_F32, ST_F64, ST_I32}) {
    const int64_t esize = (int64_t)st_dtype_size(dtype);
    const int64_t cap = bucket_bytes / esize;
    Bucket cur{dtype, 0, {}};
    for (int32_t i = 0; i < ins->n_in; i++) {
      if (ins->in[i].dtype != dtype) continue;
      const int64_t n = st::numel(ins->in[i]);
      for (int64_t off = 0; off < n;) {
        const int64_t take = std::min(n - off, cap - cur.count);
        cur.segments.push_back({i, off, take});
        cur.count += take;
        off += take;
        if (cur.count == cap) {
          plan->buckets.push_back(std::move(cur));
          cur = Bucket{dtype, 0, {}};
        }
      }
    }
    if (cur.count > 0) plan->buckets.push_back(std::move(cur));
  }
  for (const Bucket &b : plan->buckets)
    plan->max_bucket_bytes = std::max(plan->max_bucket_bytes, b.count * (int64_t)st_dtype_size(b.dtype));
}

st_code check_allreduce(const st_instr *ins, st::PreparedPtr *prep, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  ST_REQUIRE(st, ins->n_in >= 1 && ins->n_in == ins->n_out, ST_ERR_ARG,
             "%s: expected as many outputs as inputs (at least one), got %d inputs and %d outputs", op, (int)ins->n_in,
             (int)ins->n_out);
  ST_REQUIRE(st, ins->n_iattr == 2, ST_ERR_ARG, "%s: expected 2 int attributes [op, bucket_bytes], got %d", op,
             (int)ins->n_iattr);
  const int64_t rop = ins->iattr[0], bucket_bytes = ins->iattr[1];
  ST_REQUIRE(st, rop >= 0 && rop < ST_COLL_OP_COUNT, ST_ERR_ARG,
             "%s: op %lld is not one of 0 (sum), 1 (mean), 2 (max), 3 (min)", op, (long long)rop);
  ST_REQUIRE(st, bucket_bytes >= 8 && bucket_bytes <= (int64_t(1) << 40), ST_ERR_ARG,
             "%s: bucket_bytes %lld must lie in [8, 2^40]", op, (long long)bucket_bytes);
  for (int32_t i = 0; i < ins->n_in; i++) {
    const st_tensor &in = ins->in[i], &out = ins->out[i];
    ST_REQUIRE(st, reducible(in.dtype), ST_ERR_DTYPE, "%s: input %d is %s; allreduce takes float32, float64 or int32",
               op, (int)i, st_dtype_name(in.dtype));
    ST_REQUIRE(st, rop != ST_COLL_MEAN || in.dtype != ST_I32, ST_ERR_DTYPE,
               "%s: mean of input %d needs a float dtype, got int32", op, (int)i);
    ST_REQUIRE(st, out.dtype == in.dtype, ST_ERR_DTYPE, "%s: input %d is %s but output %d is %s", op, (int)i,
               st_dtype_name(in.dtype), (int)i, st_dtype_name(out.dtype));
    ST_REQUIRE(st, same_shape(in, out), ST_ERR_SHAPE, "%s: output %d %s differs from input %d %s", op, (int)i,
               st::ShapeStr(out).c_str(), (int)i, st::ShapeStr(in).c_str());
  }
  auto plan = std::make_unique<AllreducePlan>();
  plan_buckets(ins, bucket_bytes, plan.get());
  *prep = std::move(plan);
  return ST_OK;
}

template <class T>
void divide(T *p, int64_t n, double by) {
  for (int64_t i = 0; i < n; i++) p[i] = (T)(p[i] / by);
}

// The registered table when the world has more than one process, else nullptr.
const st_collectives *world(int32_t *size) {
  const st_collectives *c = g_collectives.load(std::memory_order_acquire);
  *size = c ? c->size(c->ctx) : 1;
  return *size > 1 ? c : nullptr;
}

st_code coll_fail(st_status *st, int32_t rc, const char *op, const char *what, const char *err) {
  const st_code code = rc > 0 && rc < ST_CODE_COUNT ? (st_code)rc : ST_ERR_INTERNAL;
  return st_fail(st, code, "%s: %s failed: %s", op, what, err[0] ? err : "no message");
}

// Reduces a buffer in calls of at most chunk elements (on the communication thread).
int32_t reduce_chunks(const st_collectives *c, void *buf, int64_t count, int32_t dtype, int32_t wire_op, int64_t chunk,
                      char *err, size_t errlen) {
  const size_t esize = st_dtype_size(dtype);
  for (int64_t at = 0; at < count; at += chunk) {
    const int32_t rc = c->allreduce(c->ctx, static_cast<char *>(buf) + at * esize, std::min(chunk, count - at), dtype,
                                    wire_op, err, errlen);
    if (rc != ST_OK) return rc;
  }
  return ST_OK;
}

void divide_all(const st_instr *ins, int32_t size) {
  for (int32_t i = 0; i < ins->n_out; i++) {
    const st_tensor &o = ins->out[i];
    if (o.dtype == ST_F32) divide(static_cast<float *>(o.data), st::numel(o), (double)size);
    if (o.dtype == ST_F64) divide(static_cast<double *>(o.data), st::numel(o), (double)size);
  }
}

st_code run_allreduce(st_ctx *, const st_instr *ins, const st::Prepared *prep, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const auto *plan = static_cast<const AllreducePlan *>(prep);
  for (int32_t i = 0; i < ins->n_in; i++) {
    const size_t bytes = (size_t)st::numel(ins->in[i]) * st_dtype_size(ins->in[i].dtype);
    if (bytes && ins->out[i].data != ins->in[i].data) std::memmove(ins->out[i].data, ins->in[i].data, bytes);
  }
  int32_t size = 1;
  const st_collectives *c = world(&size);
  if (!c) return ST_OK;  // a world of one: every reduction is the identity
  const int64_t rop = ins->iattr[0];
  const int32_t wire_op = rop == ST_COLL_MEAN ? ST_COLL_SUM : (int32_t)rop;
  if (plan->scratch.size() < (size_t)plan->max_bucket_bytes) {
    try {
      plan->scratch.resize((size_t)plan->max_bucket_bytes);
    } catch (const std::bad_alloc &) {
      return st_fail(st, ST_ERR_ALLOC, "%s: out of memory for a %lld-byte bucket", op, (long long)plan->max_bucket_bytes);
    }
  }
  char what[96] = {0}, err[256] = {0};
  const int32_t rc = on_comm_thread(
      [&](char *e, size_t elen) -> int32_t {
        for (const Bucket &b : plan->buckets) {
          const size_t esize = st_dtype_size(b.dtype);
          snprintf(what, sizeof what, "%s of %lld %s elements", op_name(rop), (long long)b.count, st_dtype_name(b.dtype));
          if (b.segments.size() == 1) {  // reduce straight in the output
            const Segment &sg = b.segments[0];
            const int32_t r = c->allreduce(c->ctx, static_cast<char *>(ins->out[sg.tensor].data) + sg.offset * esize,
                                           b.count, b.dtype, wire_op, e, elen);
            if (r != ST_OK) return r;
            continue;
          }
          unsigned char *buf = plan->scratch.data();
          int64_t at = 0;
          for (const Segment &sg : b.segments) {
            std::memcpy(buf + at * esize, static_cast<const char *>(ins->out[sg.tensor].data) + sg.offset * esize,
                        (size_t)sg.count * esize);
            at += sg.count;
          }
          const int32_t r = c->allreduce(c->ctx, buf, b.count, b.dtype, wire_op, e, elen);
          if (r != ST_OK) return r;
          at = 0;
          for (const Segment &sg : b.segments) {
            std::memcpy(static_cast<char *>(ins->out[sg.tensor].data) + sg.offset * esize, buf + at * esize,
                        (size_t)sg.count * esize);
            at += sg.count;
          }
        }
        return ST_OK;
      },
      err, sizeof err);
  if (rc != ST_OK) return coll_fail(st, rc, op, what, err);
  if (rop == ST_COLL_MEAN) divide_all(ins, size);
  return ST_OK;
}

// The packed vector of a split reduction and its pieces (START's inputs, WAIT's outputs): one
// reducible dtype (a float for mean), and the vector holds exactly the pieces' elements.
st_code check_packing(const char *op, int64_t rop, const st_tensor &packed, const char *packed_role,
                      const st_tensor *pieces, int32_t n, const char *piece_role, st_status *st) {
  ST_REQUIRE(st, rop >= 0 && rop < ST_COLL_OP_COUNT, ST_ERR_ARG,
             "%s: op %lld is not one of 0 (sum), 1 (mean), 2 (max), 3 (min)", op, (long long)rop);
  ST_REQUIRE(st, reducible(packed.dtype), ST_ERR_DTYPE, "%s: the packed %s is %s; allreduce takes float32, float64 or int32",
             op, packed_role, st_dtype_name(packed.dtype));
  ST_REQUIRE(st, rop != ST_COLL_MEAN || packed.dtype != ST_I32, ST_ERR_DTYPE, "%s: mean needs a float dtype, got int32", op);
  int64_t total = 0;
  for (int32_t i = 0; i < n; i++) {
    ST_REQUIRE(st, pieces[i].dtype == packed.dtype, ST_ERR_DTYPE, "%s: %s %d is %s but the packed %s is %s", op,
               piece_role, (int)i, st_dtype_name(pieces[i].dtype), packed_role, st_dtype_name(packed.dtype));
    total += st::numel(pieces[i]);  // numel is bounded by the tensor checks, so this sum cannot overflow
  }
  ST_REQUIRE(st, packed.ndim == 1 && packed.shape[0] == total, ST_ERR_SHAPE,
             "%s: the packed %s is %s; expected [%lld], the %ss' element count", op, packed_role,
             st::ShapeStr(packed).c_str(), (long long)total, piece_role);
  return ST_OK;
}

// ALLREDUCE_START: n inputs of one dtype -> out [total].
st_code check_allreduce_start(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  ST_REQUIRE(st, ins->n_in >= 1, ST_ERR_ARG, "%s: expected at least one input", op);
  ST_REQUIRE(st, ins->n_iattr == 2, ST_ERR_ARG, "%s: expected 2 int attributes [op, bucket_bytes], got %d", op,
             (int)ins->n_iattr);
  const int64_t bucket_bytes = ins->iattr[1];
  ST_REQUIRE(st, bucket_bytes >= 8 && bucket_bytes <= (int64_t(1) << 40), ST_ERR_ARG,
             "%s: bucket_bytes %lld must lie in [8, 2^40]", op, (long long)bucket_bytes);
  return check_packing(op, ins->iattr[0], ins->out[0], "output", ins->in, ins->n_in, "input", st);
}

// ALLREDUCE_WAIT: packed [total] -> n outputs of its dtype.
st_code check_allreduce_wait(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  ST_REQUIRE(st, ins->n_iattr == 1, ST_ERR_ARG, "%s: expected 1 int attribute [op], got %d", op, (int)ins->n_iattr);
  return check_packing(op, ins->iattr[0], ins->in[0], "input", ins->out, ins->n_out, "output", st);
}

st_code run_allreduce_start(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &out = ins->out[0];
  for (const Started &s : t_started)
    ST_REQUIRE(st, s.buf != out.data, ST_ERR_ARG,
               "%s: a reduction of this buffer started earlier in this run has not been waited for", op);
  const size_t esize = st_dtype_size(out.dtype);
  int64_t at = 0;
  for (int32_t i = 0; i < ins->n_in; i++) {
    const int64_t n = st::numel(ins->in[i]);
    if (n && static_cast<char *>(out.data) + at * esize != ins->in[i].data)
      std::memmove(static_cast<char *>(out.data) + at * esize, ins->in[i].data, (size_t)n * esize);
    at += n;
  }
  int32_t size = 1;
  const st_collectives *c = world(&size);
  std::shared_ptr<CommJob> job;
  if (c && at > 0) {
    const int64_t rop = ins->iattr[0];
    const int32_t wire_op = rop == ST_COLL_MEAN ? ST_COLL_SUM : (int32_t)rop;
    const int64_t chunk = std::max<int64_t>(1, ins->iattr[1] / (int64_t)esize);
    void *buf = out.data;
    const int32_t dtype = out.dtype;
    try {
      job = comm_thread().submit([c, buf, at, dtype, wire_op, chunk](char *e, size_t elen) {
        return reduce_chunks(c, buf, at, dtype, wire_op, chunk, e, elen);
      });
    } catch (const std::bad_alloc &) {
      return st_fail(st, ST_ERR_ALLOC, "%s: out of memory queueing a reduction", op);
    }
  }
  try {
    t_started.push_back({out.data, std::move(job), size});
  } catch (const std::bad_alloc &) {
    if (job) {
      char err[256];
      wait_job(*job, err, sizeof err);
    }
    return st_fail(st, ST_ERR_ALLOC, "%s: out of memory recording a reduction", op);
  }
  return ST_OK;
}

st_code run_allreduce_wait(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0];
  auto it = std::find_if(t_started.begin(), t_started.end(), [&](const Started &s) { return s.buf == in.data; });
  ST_REQUIRE(st, it != t_started.end(), ST_ERR_ARG,
             "%s: no allreduceStart of this buffer ran earlier in this run (each wait needs its start)", op);
  const Started s = std::move(*it);
  t_started.erase(it);
  const int64_t rop = ins->iattr[0];
  if (s.job) {
    char err[256] = {0};
    const int32_t rc = wait_job(*s.job, err, sizeof err);
    if (rc != ST_OK) {
      char what[96];
      snprintf(what, sizeof what, "%s of %lld %s elements", op_name(rop), (long long)in.shape[0], st_dtype_name(in.dtype));
      return coll_fail(st, rc, op, what, err);
    }
  }
  const size_t esize = st_dtype_size(in.dtype);
  int64_t at = 0;
  for (int32_t i = 0; i < ins->n_out; i++) {
    const int64_t n = st::numel(ins->out[i]);
    if (n && static_cast<const char *>(in.data) + at * esize != ins->out[i].data)
      std::memmove(ins->out[i].data, static_cast<const char *>(in.data) + at * esize, (size_t)n * esize);
    at += n;
  }
  if (rop == ST_COLL_MEAN && s.size > 1) divide_all(ins, s.size);
  return ST_OK;
}

st_code check_broadcast(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0], &out = ins->out[0];
  ST_REQUIRE(st, ins->n_iattr == 1, ST_ERR_ARG, "%s: expected 1 int attribute [root], got %d", op, (int)ins->n_iattr);
  ST_REQUIRE(st, ins->iattr[0] >= 0 && ins->iattr[0] < INT32_MAX, ST_ERR_ARG, "%s: root %lld is negative or too large",
             op, (long long)ins->iattr[0]);
  ST_REQUIRE(st, out.dtype == in.dtype, ST_ERR_DTYPE, "%s: input is %s but output is %s", op, st_dtype_name(in.dtype),
             st_dtype_name(out.dtype));
  ST_REQUIRE(st, same_shape(in, out), ST_ERR_SHAPE, "%s: output %s differs from input %s", op,
             st::ShapeStr(out).c_str(), st::ShapeStr(in).c_str());
  return ST_OK;
}

st_code check_allgather(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0], &out = ins->out[0];
  ST_REQUIRE(st, ins->n_iattr == 0, ST_ERR_ARG, "%s: takes no int attributes, got %d", op, (int)ins->n_iattr);
  ST_REQUIRE(st, out.dtype == in.dtype, ST_ERR_DTYPE, "%s: input is %s but output is %s", op, st_dtype_name(in.dtype),
             st_dtype_name(out.dtype));
  bool fits = out.ndim == in.ndim + 1;
  for (int d = 0; fits && d < in.ndim; d++) fits = out.shape[d + 1] == in.shape[d];
  ST_REQUIRE(st, fits, ST_ERR_SHAPE, "%s: output %s is not [size, ...input %s]", op, st::ShapeStr(out).c_str(),
             st::ShapeStr(in).c_str());
  return ST_OK;
}

st_code check_collective(const st_instr *ins, st::PreparedPtr *prep, st_status *st) {
  switch (ins->opcode) {
    case ST_OP_ALLREDUCE: return check_allreduce(ins, prep, st);
    case ST_OP_BROADCAST: return check_broadcast(ins, st);
    case ST_OP_ALLREDUCE_START: return check_allreduce_start(ins, st);
    case ST_OP_ALLREDUCE_WAIT: return check_allreduce_wait(ins, st);
    default: return check_allgather(ins, st);
  }
}

st_code run_broadcast(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0], &out = ins->out[0];
  int32_t size = 1;
  const st_collectives *c = world(&size);
  const int64_t root = ins->iattr[0];
  ST_REQUIRE(st, root < size, ST_ERR_ARG, "%s: root %lld is not a rank of this world of %d process%s", op,
             (long long)root, (int)size, size == 1 ? "" : "es");
  const int64_t n = st::numel(in);
  if (n && out.data != in.data) std::memmove(out.data, in.data, (size_t)n * st_dtype_size(in.dtype));
  if (!c || n == 0) return ST_OK;
  char err[256] = {0};
  void *buf = out.data;
  const int32_t dtype = in.dtype;
  const int32_t rc = on_comm_thread(
      [&](char *e, size_t elen) { return c->broadcast(c->ctx, buf, n, dtype, (int32_t)root, e, elen); }, err, sizeof err);
  return rc == ST_OK ? ST_OK : coll_fail(st, rc, op, "broadcast", err);
}

st_code run_allgather(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0], &out = ins->out[0];
  int32_t size = 1;
  const st_collectives *c = world(&size);
  ST_REQUIRE(st, out.shape[0] == size, ST_ERR_SHAPE, "%s: output %s has first dim %lld, but the world has %d process%s",
             op, st::ShapeStr(out).c_str(), (long long)out.shape[0], (int)size, size == 1 ? "" : "es");
  const int64_t n = st::numel(in);
  if (n == 0) return ST_OK;
  if (!c) {
    if (out.data != in.data) std::memmove(out.data, in.data, (size_t)n * st_dtype_size(in.dtype));
    return ST_OK;
  }
  char err[256] = {0};
  const int32_t rc = on_comm_thread(
      [&](char *e, size_t elen) { return c->allgather(c->ctx, in.data, out.data, n, in.dtype, e, elen); }, err,
      sizeof err);
  return rc == ST_OK ? ST_OK : coll_fail(st, rc, op, "allgather", err);
}

st_code run_collective(st_ctx *ctx, const st_instr *ins, const st::Prepared *prep, st_status *st) {
  switch (ins->opcode) {
    case ST_OP_ALLREDUCE: return run_allreduce(ctx, ins, prep, st);
    case ST_OP_BROADCAST: return run_broadcast(ins, st);
    case ST_OP_ALLREDUCE_START: return run_allreduce_start(ins, st);
    case ST_OP_ALLREDUCE_WAIT: return run_allreduce_wait(ins, st);
    default: return run_allgather(ins, st);
  }
}

}  // namespace

const st::Family st_collective_family = {check_collective, run_collective};

void st_collectives_finish_started() {
  if (t_started.empty()) return;
  for (Started &s : t_started)
    if (s.job) {
      char err[256];
      wait_job(*s.job, err, sizeof err);  // the run already failed or never waited: the result is dropped
    }
  t_started.clear();
}

extern "C" {

int32_t st_collectives_check(const st_collectives *c, char *err, size_t errlen) {
  const auto fail = [&](const char *msg) {
    if (err && errlen) snprintf(err, errlen, "%s", msg);
    return (int32_t)ST_ERR_ARG;
  };
  if (!c) return fail("collectives: no table");
  if (c->version != ST_COLLECTIVES_VERSION) {
    char msg[160];
    snprintf(msg, sizeof msg, "collectives: table version %u, this build expects %u (rebuild both addons together)",
             (unsigned)c->version, (unsigned)ST_COLLECTIVES_VERSION);
    return fail(msg);
  }
  if (c->struct_size != sizeof(st_collectives)) return fail("collectives: table size differs from this build's");
  if (!c->rank || !c->size || !c->allreduce || !c->broadcast || !c->allgather || !c->barrier)
    return fail("collectives: the table is missing a function");
  const int32_t size = c->size(c->ctx), rank = c->rank(c->ctx);
  if (size < 1 || rank < 0 || rank >= size) {
    char msg[128];
    snprintf(msg, sizeof msg, "collectives: rank %d of size %d is not a valid place in a world", (int)rank, (int)size);
    return fail(msg);
  }
  if (err && errlen) err[0] = 0;
  return ST_OK;
}

int32_t st_set_collectives(const st_collectives *c, char *err, size_t errlen) {
  if (c) {
    const int32_t rc = st_collectives_check(c, err, errlen);
    if (rc != ST_OK) return rc;
  }
  g_collectives.store(c, std::memory_order_release);
  return ST_OK;
}

const st_collectives *st_get_collectives(void) { return g_collectives.load(std::memory_order_acquire); }

}  // extern "C"
