// The one place where failures become JS errors.  A status from the runtime, or an argument check
// of the binding that fails, turns into an Error with .code (an ERR_ST_* string from ops.def) and,
// when known, .op (the instruction's name) and .instr (its index in a program); lib/ wraps these
// into SymtensorError and adds where the user built the failing node.
#pragma once
#include <napi.h>

#include <cstdio>
#include <string>

#include "symtensor.h"

namespace stb {

Napi::Error make_error(Napi::Env env, st_code code, const std::string &message, const char *op = nullptr,
                       int32_t instr = -1);

// A failed status: its message and code, `op` (may be nullptr) and st.instr when it names one.
Napi::Error status_error(Napi::Env env, const st_status &st, const char *op);

[[noreturn]] inline void throw_error(Napi::Env env, st_code code, const std::string &message) {
  throw make_error(env, code, message);
}

// Argument checks: throw an ERR_ST_ARG error with a printf-style message when cond is false.
#define ST_REQUIRE_ARG(env, cond, ...)              \
  do {                                              \
    if (!(cond)) {                                  \
      char msg_[512];                               \
      snprintf(msg_, sizeof msg_, __VA_ARGS__);     \
      ::stb::throw_error(env, ST_ERR_ARG, msg_);    \
    }                                               \
  } while (0)

}  // namespace stb
