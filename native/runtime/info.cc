// What the build linked and which SIMD level the kernels run with.
#include <cstdio>
#include <cstring>

#include "internal.h"

#ifdef ST_HAVE_OPENBLAS
extern "C" char *openblas_get_config(void);
#endif

extern "C" int st_gemm_uses_openblas(void);

extern "C" const char *st_gemm_backend(void) {
#ifdef ST_HAVE_OPENBLAS
  if (!st_gemm_uses_openblas()) return "builtin (SYMTENSOR_GEMM=builtin; openblas linked)";
  static char buf[64] = {0};
  if (!buf[0]) {
    // openblas_get_config() reads like "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64".
    const char *cfg = openblas_get_config();
    char version[32] = "unknown";
    if (cfg && std::strncmp(cfg, "OpenBLAS ", 9) == 0) std::sscanf(cfg + 9, "%31s", version);
    std::snprintf(buf, sizeof buf, "openblas %s", version);
  }
  return buf;
#else
  return "builtin";
#endif
}

extern "C" const char *st_simd_info(void) {
#if defined(__x86_64__)
#if defined(ST_PORTABLE)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2+fma (runtime dispatch)";
  return "sse2";
#elif defined(__AVX512F__)
  return "avx512f";
#elif defined(__AVX2__) && defined(__FMA__)
  return "avx2+fma";
#elif defined(__AVX__)
  return "avx";
#else
  return "sse2";
#endif
#elif defined(__aarch64__)
  return "neon";
#else
  return "scalar";
#endif
}
