#include "ir/op_type.h"

#include <array>

namespace softdpu::ir {
namespace {
struct OpRow {
  const char* name;
  const char* family;
};
constexpr std::array<OpRow, static_cast<int>(OpType::kCount)> kOps = {{
#define SOFTDPU_OP(name, family) {#name, #family},
#include "ir/ops.def"
#undef SOFTDPU_OP
}};
}  // namespace

const char* op_name(OpType op) {
  return kOps[static_cast<int>(op)].name;
}
const char* op_family(OpType op) {
  return kOps[static_cast<int>(op)].family;
}

std::optional<OpType> op_from_name(std::string_view name) {
  for (size_t i = 0; i < kOps.size(); ++i) {
    if (name == kOps[i].name) return static_cast<OpType>(i);
  }
  return std::nullopt;
}

}  // namespace softdpu::ir
