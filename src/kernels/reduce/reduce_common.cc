#include "kernels/reduce/reduce_common.h"

namespace softdpu::kernels {

ReduceLayout make_reduce_layout(const Shape& shape, const std::vector<bool>& reduced) {
  // Merge into groups of (size, reduced); size-1 dims change neither layout nor order.
  std::vector<int64_t> sizes;
  std::vector<bool> roles;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!roles.empty() && roles.back() == reduced[d]) {
      sizes.back() *= shape[d];
    } else {
      sizes.push_back(shape[d]);
      roles.push_back(reduced[d]);
    }
  }
  ReduceLayout l;
  std::vector<int64_t> strides(sizes.size());
  int64_t s = 1;
  for (size_t g = sizes.size(); g-- > 0;) {
    strides[g] = s;
    s *= sizes[g];
  }
  int red_groups = 0;
  for (size_t g = 0; g < sizes.size(); ++g) {
    if (roles[g]) {
      l.red_dims.push_back(sizes[g]);
      l.red_strides.push_back(strides[g]);
      l.red_count *= sizes[g];
      ++red_groups;
    } else {
      l.kept_dims.push_back(sizes[g]);
      l.kept_strides.push_back(strides[g]);
      l.out_count *= sizes[g];
      (red_groups == 0 ? l.outer : l.inner) *= sizes[g];
    }
  }
  l.single_block = red_groups <= 1;
  if (!l.single_block) l.outer = l.inner = 1;  // meaningless for the general walk
  return l;
}

int64_t extent(const Shape& shape, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t d = begin; d < end && d < shape.size(); ++d) n *= shape[d];
  return n;
}

LossReduction loss_reduction(const runtime::PrepareContext& ctx) {
  const std::string r = ctx.attr_string("reduction", "mean");
  if (r == "none") return LossReduction::kNone;
  if (r == "sum") return LossReduction::kSum;
  if (r == "mean") return LossReduction::kMean;
  ctx.fail("attribute 'reduction' is '" + r + "', expected 'none', 'sum' or 'mean'");
}

std::string input_label(const runtime::PrepareContext& ctx, int i) {
  return "input " + std::to_string(i) + " ('" + ctx.input(i).name + "')";
}

}  // namespace softdpu::kernels
