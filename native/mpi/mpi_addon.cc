// symtensor_mpi.node: the only file that links MPI.  It initializes MPI, fills the collectives
// table of symtensor_collectives.h with MPI calls and hands it to JS in a type-tagged External,
// which lib/distributed passes to the main addon's setCollectives().  The main addon never links
// libmpi, so a machine without MPI loads it unchanged.
//
// Threads: compiled programs run on libuv worker threads and eager ops on the main thread, so MPI
// is initialized with at least MPI_THREAD_SERIALIZED and one mutex guards every MPI call here: two
// threads never call MPI at once.
//
// Open MPI loads its components (mca_*.so) with dlopen and expects libmpi's symbols to be global.
// Node loads addons with RTLD_LOCAL, which would hide them, so before MPI_Init the already loaded
// libmpi is reopened with RTLD_GLOBAL (RTLD_NOLOAD: the same library, found with dladdr).
#include <dlfcn.h>
// the C API only: the deprecated C++ bindings would need libmpi_cxx
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#include <napi.h>

#include <algorithm>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "symtensor.h"
#include "symtensor_collectives.h"

namespace {

std::mutex g_mpi;               // held around every MPI call
bool g_started = false;         // MPI_Init_thread ran (here or by the host) and was checked
bool g_we_initialized = false;  // so we finalize it at exit
int g_provided = -1;
int g_rank = 0, g_size = 1;
std::string g_library;          // the libmpi file that was made global
std::string g_version;          // "3.1 (Open MPI v4.1.4)"

// Element sizes and error code names straight from ops.def: this addon does not link the core library.
size_t dtype_size(int32_t dtype) {
  static const size_t sizes[] = {
#define ST_DTYPE(e, name, bytes) bytes,
#include "../ops.def"
#undef ST_DTYPE
  };
  return dtype >= 0 && dtype < ST_DTYPE_COUNT ? sizes[dtype] : 0;
}

const char *code_name(int32_t code) {
  static const char *names[] = {
      "OK",
#define ST_ERR(e, code) code,
#include "../ops.def"
#undef ST_ERR
  };
  return code > 0 && code < ST_CODE_COUNT ? names[code] : "ERR_ST_INTERNAL";
}

const napi_type_tag kTableTag = {ST_COLLECTIVES_TAG_LOWER, ST_COLLECTIVES_TAG_UPPER};

int32_t fail(char *err, size_t errlen, int32_t code, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}

std::string mpi_message(int rc) {
  char s[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, s, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(rc);
  return std::string(s, (size_t)len);
}

MPI_Datatype mpi_type(int32_t dtype) {
  switch (dtype) {
    case ST_F32: return MPI_FLOAT;
    case ST_F64: return MPI_DOUBLE;
    case ST_I32: return MPI_INT32_T;
    case ST_BOOL: return MPI_UINT8_T;
  }
  return MPI_DATATYPE_NULL;
}

const char *thread_level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE: return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED: return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED: return "MPI_THREAD_SERIALIZED";
    case MPI_THREAD_MULTIPLE: return "MPI_THREAD_MULTIPLE";
  }
  return "unknown";
}

// Checks made under the lock before any collective: MPI usable now.
int32_t ready(char *err, size_t errlen) {
  int fin = 0;
  MPI_Finalized(&fin);
  if (fin) return fail(err, errlen, ST_ERR_ARG, "MPI was already finalized");
  if (!g_started) return fail(err, errlen, ST_ERR_ARG, "MPI is not initialized (call st.distributed.init() first)");
  return ST_OK;
}

// Elements per MPI call: MPI counts are int.
constexpr int64_t kChunk = int64_t(1) << 30;

int32_t t_rank(void *) { return g_rank; }
int32_t t_size(void *) { return g_size; }

int32_t t_allreduce(void *, void *buf, int64_t count, int32_t dtype, int32_t op, char *err, size_t errlen) {
  const MPI_Datatype type = mpi_type(dtype);
  if (type == MPI_DATATYPE_NULL || dtype == ST_BOOL)
    return fail(err, errlen, ST_ERR_DTYPE, "allreduce of dtype code %d (float32, float64 or int32 only)", (int)dtype);
  if (count < 0 || (count > 0 && !buf)) return fail(err, errlen, ST_ERR_ARG, "allreduce of %lld elements at %p", (long long)count, buf);
  MPI_Op mop;
  switch (op) {
    case ST_COLL_SUM: mop = MPI_SUM; break;
    case ST_COLL_MAX: mop = MPI_MAX; break;
    case ST_COLL_MIN: mop = MPI_MIN; break;
    default: return fail(err, errlen, ST_ERR_ARG, "allreduce op %d (sum, max or min only)", (int)op);
  }
  std::lock_guard<std::mutex> lock(g_mpi);
  if (int32_t rc = ready(err, errlen)) return rc;
  const size_t esize = dtype_size(dtype);
  for (int64_t at = 0; at < count; at += kChunk) {
    const int n = (int)std::min(kChunk, count - at);
    const int rc = MPI_Allreduce(MPI_IN_PLACE, static_cast<char *>(buf) + at * esize, n, type, mop, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return fail(err, errlen, ST_ERR_INTERNAL, "MPI_Allreduce: %s", mpi_message(rc).c_str());
  }
  return ST_OK;
}

int32_t t_broadcast(void *, void *buf, int64_t count, int32_t dtype, int32_t root, char *err, size_t errlen) {
  const MPI_Datatype type = mpi_type(dtype);
  if (type == MPI_DATATYPE_NULL) return fail(err, errlen, ST_ERR_DTYPE, "broadcast of dtype code %d", (int)dtype);
  if (count < 0 || (count > 0 && !buf)) return fail(err, errlen, ST_ERR_ARG, "broadcast of %lld elements at %p", (long long)count, buf);
  if (root < 0 || root >= g_size) return fail(err, errlen, ST_ERR_ARG, "broadcast root %d is not a rank of 0..%d", (int)root, g_size - 1);
  std::lock_guard<std::mutex> lock(g_mpi);
  if (int32_t rc = ready(err, errlen)) return rc;
  const size_t esize = dtype_size(dtype);
  for (int64_t at = 0; at < count; at += kChunk) {
    const int n = (int)std::min(kChunk, count - at);
    const int rc = MPI_Bcast(static_cast<char *>(buf) + at * esize, n, type, root, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return fail(err, errlen, ST_ERR_INTERNAL, "MPI_Bcast: %s", mpi_message(rc).c_str());
  }
  return ST_OK;
}

int32_t t_allgather(void *, const void *send, void *recv, int64_t count, int32_t dtype, char *err, size_t errlen) {
  const MPI_Datatype type = mpi_type(dtype);
  if (type == MPI_DATATYPE_NULL) return fail(err, errlen, ST_ERR_DTYPE, "allgather of dtype code %d", (int)dtype);
  if (count < 0 || count > INT_MAX || (count > 0 && (!send || !recv)))
    return fail(err, errlen, ST_ERR_ARG, "allgather of %lld elements (at most %d per rank)", (long long)count, INT_MAX);
  std::lock_guard<std::mutex> lock(g_mpi);
  if (int32_t rc = ready(err, errlen)) return rc;
  const int rc = MPI_Allgather(send, (int)count, type, recv, (int)count, type, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return fail(err, errlen, ST_ERR_INTERNAL, "MPI_Allgather: %s", mpi_message(rc).c_str());
  return ST_OK;
}

int32_t t_barrier(void *, char *err, size_t errlen) {
  std::lock_guard<std::mutex> lock(g_mpi);
  if (int32_t rc = ready(err, errlen)) return rc;
  const int rc = MPI_Barrier(MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return fail(err, errlen, ST_ERR_INTERNAL, "MPI_Barrier: %s", mpi_message(rc).c_str());
  return ST_OK;
}

st_collectives g_table = {ST_COLLECTIVES_VERSION, sizeof(st_collectives), nullptr, t_rank, t_size,
                          t_allreduce,            t_broadcast,            t_allgather, t_barrier};

// Finalizes MPI if this addon initialized it and nobody finalized it yet.
void finalize_locked() {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (g_we_initialized && init && !fin) MPI_Finalize();
}

void finalize_at_exit() {
  std::lock_guard<std::mutex> lock(g_mpi);
  finalize_locked();
}

// Makes the libmpi this addon is linked against global, so Open MPI's plugins find its symbols.
void promote_libmpi() {
  Dl_info info;
  if (!dladdr(reinterpret_cast<void *>(&MPI_Init_thread), &info) || !info.dli_fname) return;
  if (dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD)) g_library = info.dli_fname;
}

[[noreturn]] void throw_error(Napi::Env env, int32_t code, const std::string &msg) {
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code_name(code)));
  throw e;
}

Napi::Object world_info(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("rank", Napi::Number::New(env, g_rank));
  o.Set("size", Napi::Number::New(env, g_size));
  o.Set("threadLevel", Napi::String::New(env, thread_level_name(g_provided)));
  o.Set("library", Napi::String::New(env, g_library));
  o.Set("version", Napi::String::New(env, g_version));
  auto table = Napi::External<st_collectives>::New(env, &g_table);
  table.TypeTag(&kTableTag);
  o.Set("table", table);
  return o;
}

// init() -> {rank, size, threadLevel, library, version, table}: initializes MPI once per process
// (idempotent; also accepts an MPI the host already initialized with a sufficient thread level).
Napi::Value Init(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  {
    std::lock_guard<std::mutex> lock(g_mpi);
    if (!g_started) {
      int init = 0, fin = 0;
      MPI_Initialized(&init);
      MPI_Finalized(&fin);
      if (fin) throw_error(env, ST_ERR_ARG, "st.distributed.init: MPI was already finalized in this process");
      int provided = MPI_THREAD_SINGLE;
      if (!init) {
        promote_libmpi();
        // Collectives wait on symtensor's communication thread while the compute threads work on
        // the same cores: a waiting Open MPI must yield the processor, not spin on it.  Open MPI
        // reads its parameters from the environment at MPI_Init; one the user set wins.
        setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
        const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
        if (rc != MPI_SUCCESS) throw_error(env, ST_ERR_INTERNAL, "st.distributed.init: MPI_Init_thread failed: " + mpi_message(rc));
        g_we_initialized = true;
        std::atexit(finalize_at_exit);
      } else {
        MPI_Query_thread(&provided);
      }
      g_provided = provided;
      if (provided < MPI_THREAD_SERIALIZED)
        throw_error(env, ST_ERR_INTERNAL,
                    std::string("st.distributed.init: MPI provides only ") + thread_level_name(provided) +
                        "; symtensor runs compiled programs on worker threads and needs MPI_THREAD_SERIALIZED or "
                        "higher (use an MPI library built with thread support)");
      // failures come back as error codes (turned into SymtensorErrors) instead of aborting the job
      MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
      MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
      MPI_Comm_size(MPI_COMM_WORLD, &g_size);
      int major = 0, minor = 0, len = 0;
      MPI_Get_version(&major, &minor);
      char lib[MPI_MAX_LIBRARY_VERSION_STRING];
      MPI_Get_library_version(lib, &len);
      const std::string first(lib, strcspn(lib, ",\n") < (size_t)len ? strcspn(lib, ",\n") : (size_t)len);
      g_version = std::to_string(major) + "." + std::to_string(minor) + " (" + first + ")";
      g_started = true;
    }
  }
  return world_info(env);
}

// barrier(): blocks until every rank called it.
Napi::Value Barrier(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  char err[256] = {0};
  if (int32_t rc = t_barrier(nullptr, err, sizeof err)) throw_error(env, rc, std::string("st.distributed.barrier: ") + err);
  return env.Undefined();
}

// finalize(): MPI_Finalize now (at the normal end of a run) when this addon initialized MPI.
Napi::Value Finalize(const Napi::CallbackInfo &info) {
  finalize_at_exit();
  return info.Env().Undefined();
}

// skipFinalize(): this process is failing; leave MPI without finalizing, so the launcher sees a
// process that ended early and ends the job (MPI_Finalize would wait for ranks that may be
// blocked in a collective, and MPI_Abort can lose the failing rank's last output).
Napi::Value SkipFinalize(const Napi::CallbackInfo &info) {
  std::lock_guard<std::mutex> lock(g_mpi);
  g_we_initialized = false;
  return info.Env().Undefined();
}

Napi::Object Module(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("barrier", Napi::Function::New(env, Barrier, "barrier"));
  exports.Set("finalize", Napi::Function::New(env, Finalize, "finalize"));
  exports.Set("skipFinalize", Napi::Function::New(env, SkipFinalize, "skipFinalize"));
  exports.Set("collectivesVersion", Napi::Number::New(env, ST_COLLECTIVES_VERSION));
  return exports;
}

}  // namespace

NODE_API_MODULE(symtensor_mpi, Module)
