#include "kernels/elementwise/broadcast.h"

#include <array>

namespace softdpu::kernels::ew {

Shape broadcast_all(const runtime::PrepareContext& ctx, const std::vector<Shape>& shapes) {
  Shape out = shapes.empty() ? Shape{} : shapes[0];
  for (size_t i = 1; i < shapes.size(); ++i) out = runtime::broadcast_shapes(ctx, out, shapes[i]);
  return out;
}

BroadcastPlan make_broadcast_plan(const runtime::PrepareContext& ctx,
                                  const std::vector<Shape>& inputs, const Shape& out) {
  BroadcastPlan p;
  p.num_inputs = static_cast<int>(inputs.size());
  if (p.num_inputs < 1 || p.num_inputs > kMaxBroadcastInputs) {
    ctx.fail("internal: broadcast plan for " + std::to_string(p.num_inputs) + " inputs");
  }
  p.numel = shape_numel(out);
  const size_t rank = out.size();
  using Pattern = std::array<bool, kMaxBroadcastInputs>;  // input present along a dimension
  std::vector<int64_t> dims;
  std::vector<Pattern> patterns;
  for (size_t d = 0; d < rank; ++d) {
    if (out[d] == 1) continue;  // contributes nothing to any offset
    Pattern pat{};
    for (int i = 0; i < p.num_inputs; ++i) {
      const Shape& s = inputs[i];
      if (s.size() > rank) ctx.fail("internal: input rank exceeds broadcast output rank");
      size_t lead = rank - s.size();
      int64_t dim = d < lead ? 1 : s[d - lead];
      if (dim != out[d] && dim != 1) {
        ctx.fail("input shape " + shape_to_string(s) + " cannot be broadcast to " +
                 shape_to_string(out));
      }
      pat[i] = dim == out[d];
    }
    if (!dims.empty() && patterns.back() == pat) {
      dims.back() *= out[d];
    } else {
      dims.push_back(out[d]);
      patterns.push_back(pat);
    }
  }
  if (dims.empty()) {  // a single element
    dims.push_back(1);
    patterns.push_back(Pattern{true, true, true});
  }
  if (dims.size() > static_cast<size_t>(kMaxBroadcastRank)) {
    ctx.unsupported("broadcasting " + shape_to_string(out) + " needs " +
                    std::to_string(dims.size()) + " separate dimensions; at most " +
                    std::to_string(kMaxBroadcastRank) + " are supported");
  }
  p.rank = static_cast<int>(dims.size());
  for (int d = 0; d < p.rank; ++d) p.dims[d] = dims[d];
  for (int i = 0; i < p.num_inputs; ++i) {
    int64_t stride = 1;
    for (int d = p.rank - 1; d >= 0; --d) {
      p.strides[i][d] = patterns[d][i] ? stride : 0;
      if (patterns[d][i]) stride *= dims[d];
    }
  }
  return p;
}

}  // namespace softdpu::kernels::ew
