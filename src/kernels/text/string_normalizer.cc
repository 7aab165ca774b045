// StringNormalizer: removes stop words and changes case. Strings exist only at plan time in
// softdpu, so the op needs a constant input and produces a constant output; no kernel runs.
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "runtime/kernel.h"

namespace softdpu::runtime {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}
std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

}  // namespace

std::unique_ptr<Kernel> prepare_StringNormalizer(PrepareContext& ctx) {
  ctx.expect_dtype(0, {DType::kString});
  const Shape& shape = ctx.shape(0);
  const bool two_d = shape.size() == 2;
  if (!(shape.size() == 1 || (two_d && shape[0] == 1))) {
    ctx.fail("input must have shape [C] or [1, C], got " + shape_to_string(shape));
  }
  const std::string action = ctx.attr_string("case_change_action", "NONE");
  if (action != "NONE" && action != "LOWER" && action != "UPPER") {
    ctx.fail("case_change_action must be NONE, LOWER or UPPER, got '" + action + "'");
  }
  const bool case_sensitive = ctx.attr_int("is_case_sensitive", 0) != 0;
  std::vector<std::string> stopwords;
  if (const ir::Attribute* a = ctx.node().attr("stopwords")) stopwords = a->strings;
  if (!case_sensitive) {
    for (std::string& w : stopwords) w = lower(w);
  }
  const auto* in = static_cast<const std::string*>(ctx.constant_data(0));
  std::vector<std::string> kept;
  for (int64_t i = 0; i < shape_numel(shape); ++i) {
    std::string key = case_sensitive ? in[i] : lower(in[i]);
    if (std::find(stopwords.begin(), stopwords.end(), key) != stopwords.end()) continue;
    kept.push_back(action == "LOWER" ? lower(in[i]) : action == "UPPER" ? upper(in[i]) : in[i]);
  }
  // All words removed: the spec's output is one empty string.
  if (kept.empty()) kept.emplace_back();
  const int64_t n = static_cast<int64_t>(kept.size());
  Tensor out(DType::kString, two_d ? Shape{1, n} : Shape{n});
  std::copy(kept.begin(), kept.end(), out.data_as<std::string>());
  ctx.set_output_constant(0, std::move(out));
  return nullptr;
}

}  // namespace softdpu::runtime
