// A small fork-join thread pool.  Idle workers spin for a few microseconds and then sleep on a
// condition variable, so they never compete with OpenBLAS's own threads for the cores.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <new>
#include <thread>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ST_CPU_RELAX() _mm_pause()
#else
#define ST_CPU_RELAX() ((void)0)
#endif

#include "internal.h"

struct st_pool {
  int n_threads = 1;
  std::vector<std::thread> workers;
  std::mutex busy;  // held by the caller that owns the pool for one parallel region

  std::mutex mu;
  std::condition_variable wake, done_cv;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> remaining{0};
  bool stop = false;

  st_task_fn fn = nullptr;
  void *arg = nullptr;
  int nth = 1;
};

#ifdef ST_HAVE_OPENBLAS
// OpenBLAS (pthreads build) exports these; weak, so that a build linked against a variant without
// them (OpenMP, serial) still loads and simply skips the adjustment below.
extern "C" {
void openblas_read_env(void) __attribute__((weak));
int blas_thread_shutdown_(void) __attribute__((weak));
}
#endif

namespace {
thread_local bool in_pool_task = false;

// OpenBLAS's idle threads poll for work with sched_yield for 2^28 cycles (about 0.1 s) after every
// threaded call before they sleep.  In a training step GEMMs alternate with our own kernels every
// millisecond or so, so those threads never sleep: on a small machine they take a core's worth of
// time slices from this pool's workers (and from the thread that runs the program), which slows
// the convolutions and elementwise kernels between the GEMMs.  Unless the user chose a timeout,
// shorten it to 2^16 cycles (some 20 microseconds: still enough for a GEMM that follows another at
// once) and restart OpenBLAS's threads so that they pick it up; OpenBLAS starts them again on its
// next threaded call.  OpenBLAS reads the timeout from the environment only (openblas_read_env
// caches it), so the variable is set for that call and removed again: child processes (other
// programs using OpenBLAS) keep their own default.
void tune_openblas_threads() {
#ifdef ST_HAVE_OPENBLAS
  if (!openblas_read_env || !blas_thread_shutdown_) return;
  if (std::getenv("OPENBLAS_THREAD_TIMEOUT") || std::getenv("GOTO_THREAD_TIMEOUT")) return;
  if (setenv("OPENBLAS_THREAD_TIMEOUT", "16", 0) != 0) return;
  openblas_read_env();
  unsetenv("OPENBLAS_THREAD_TIMEOUT");
  blas_thread_shutdown_();
#endif
}
constexpr int kSpin = 500;  // short: never hold a core that OpenBLAS's threads may need

void worker_main(st_pool *p, int ith) {
  in_pool_task = true;
  uint64_t seen = 0;
  for (;;) {
    uint64_t g = p->generation.load(std::memory_order_acquire);
    for (int i = 0; g == seen && i < kSpin; i++) {
      ST_CPU_RELAX();
      g = p->generation.load(std::memory_order_acquire);
    }
    if (g == seen) {
      std::unique_lock<std::mutex> lk(p->mu);
      p->wake.wait(lk, [&] { return p->stop || p->generation.load() != seen; });
      if (p->stop) return;
      g = p->generation.load();
    }
    seen = g;
    if (ith < p->nth) {
      p->fn(p->arg, ith, p->nth);
      if (p->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(p->mu);
        p->done_cv.notify_one();
      }
    }
  }
}
}  // namespace

extern "C" {

st_pool *st_pool_new(int n_threads) {
  static std::once_flag tuned;
  std::call_once(tuned, tune_openblas_threads);
  st_pool *p = new (std::nothrow) st_pool();
  if (!p) return nullptr;
  p->n_threads = std::max(1, n_threads);
  try {
    for (int i = 1; i < p->n_threads; i++) p->workers.emplace_back(worker_main, p, i);
  } catch (...) {
    p->n_threads = 1 + (int)p->workers.size();
  }
  return p;
}

void st_pool_free(st_pool *p) {
  if (!p) return;
  {
    std::lock_guard<std::mutex> lk(p->mu);
    p->stop = true;
  }
  p->wake.notify_all();
  for (auto &t : p->workers) t.join();
  delete p;
}

int st_pool_threads(const st_pool *p) { return p ? p->n_threads : 1; }

void st_parallel(st_ctx *ctx, int64_t work, st_task_fn fn, void *arg) {
  st_pool *p = ctx ? ctx->pool : nullptr;
  // Below this much work per extra thread, threading costs more than it saves: waking a sleeping
  // worker takes microseconds, and on a machine as small as 2 cores a second thread for a
  // memory-bound op mostly competes with OpenBLAS's own (still spinning) threads.
  const int64_t grain = int64_t(1) << 19;
  int nth = p ? (int)std::min<int64_t>(p->n_threads, std::max<int64_t>(1, work / grain)) : 1;
  if (nth <= 1 || in_pool_task || !p->busy.try_lock()) {
    fn(arg, 0, 1);
    return;
  }
  p->fn = fn;
  p->arg = arg;
  p->nth = nth;
  p->remaining.store(nth - 1, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lk(p->mu);
    p->generation.fetch_add(1, std::memory_order_acq_rel);
  }
  p->wake.notify_all();
  in_pool_task = true;
  fn(arg, 0, nth);
  in_pool_task = false;
  for (int i = 0; p->remaining.load(std::memory_order_acquire) != 0 && i < kSpin * 4; i++) ST_CPU_RELAX();
  if (p->remaining.load(std::memory_order_acquire) != 0) {
    std::unique_lock<std::mutex> lk(p->mu);
    p->done_cv.wait(lk, [&] { return p->remaining.load() == 0; });
  }
  p->busy.unlock();
}

}  // extern "C"
