#include "errors.h"

namespace stb {

Napi::Error make_error(Napi::Env env, st_code code, const std::string &message, const char *op, int32_t instr) {
  Napi::Error err = Napi::Error::New(env, message.empty() ? "symtensor: failed" : message);
  err.Set("code", Napi::String::New(env, st_code_name(code)));
  if (op) err.Set("op", Napi::String::New(env, op));
  if (instr >= 0) err.Set("instr", Napi::Number::New(env, instr));
  return err;
}

Napi::Error status_error(Napi::Env env, const st_status &st, const char *op) {
  return make_error(env, st.code, st.message[0] ? st.message : "failed", op, st.instr);
}

}  // namespace stb
