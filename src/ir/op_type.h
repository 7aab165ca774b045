// OpType: the enum expanded from ops.def, and the name <-> enum mapping.
#pragma once

#include <optional>
#include <string_view>

namespace softdpu::ir {

enum class OpType : int {
#define SOFTDPU_OP(name, family) k##name,
#include "ir/ops.def"
#undef SOFTDPU_OP
  kCount
};

const char* op_name(OpType op);
const char* op_family(OpType op);
std::optional<OpType> op_from_name(std::string_view name);

}  // namespace softdpu::ir
