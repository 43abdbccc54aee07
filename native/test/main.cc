#include "test.h"

namespace sttest {
std::vector<Case> &registry() {
  static std::vector<Case> r;
  return r;
}
int failures = 0;
st_ctx *ctx = nullptr;

st_code run(int opcode, std::vector<Tensor *> in, std::vector<Tensor *> out, std::vector<int64_t> iattr,
            std::vector<double> fattr, std::string *msg) {
  std::vector<st_tensor> ins, outs;
  for (auto *t : in) ins.push_back(t->t);
  for (auto *t : out) outs.push_back(t->t);
  st_instr instr{opcode,      (int32_t)ins.size(), (int32_t)outs.size(), ins.data(),
                 outs.data(), iattr.data(),        (int32_t)iattr.size(), fattr.data(),
                 (int32_t)fattr.size()};
  st_status st{};
  st_code rc = st_exec(ctx, &instr, &st);
  if (msg) *msg = st.message;
  return rc;
}
}  // namespace sttest

int main(int argc, char **argv) {
  st_pool *pool = st_pool_new(2);
  st_ctx c{pool};
  sttest::ctx = &c;
  int ran = 0;
  for (auto &tc : sttest::registry()) {
    if (argc > 1 && std::strstr(tc.name, argv[1]) == nullptr) continue;
    int before = sttest::failures;
    tc.fn();
    ran++;
    std::printf("%s %s\n", sttest::failures == before ? "ok  " : "FAIL", tc.name);
  }
  st_pool_free(pool);
  std::printf("%d native tests, %d failed checks\n", ran, sttest::failures);
  return sttest::failures ? 1 : 0;
}
