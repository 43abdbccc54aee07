// Compiled programs: placeholder until the executor lands.
#include "buffers.h"

namespace stb {
void init_program(Napi::Env, Napi::Object) {}
}  // namespace stb
