#include "runtime/kernel.h"

#include <algorithm>
#include <sstream>

namespace softdpu::runtime {

PrepareContext::PrepareContext(const ir::Node& node, int64_t opset, std::vector<InputDesc> inputs,
                               int num_outputs)
    : node_(node), opset_(opset), inputs_(std::move(inputs)), outputs_(num_outputs) {}

std::string PrepareContext::prefix() const {
  return std::string(ir::op_name(node_.op)) + " node '" + node_.name + "': ";
}

void PrepareContext::fail(const std::string& message) const {
  throw Error(StatusCode::kInvalidModel, prefix() + message);
}

void PrepareContext::unsupported(const std::string& message) const {
  throw Error(StatusCode::kUnsupported, prefix() + message);
}

bool PrepareContext::has_input(int i) const {
  return i >= 0 && i < num_inputs() && inputs_[i].dtype != DType::kUndefined;
}

const InputDesc& PrepareContext::input(int i) const {
  if (!has_input(i)) fail("input " + std::to_string(i) + " is required but missing");
  return inputs_[i];
}

void PrepareContext::release_constant(int i) {
  if (!is_constant(i)) throw Error(StatusCode::kInternal, prefix() + "released a non-constant");
  if (released_.size() < inputs_.size()) released_.resize(inputs_.size(), false);
  if (released_[i]) return;
  released_[i] = true;
  if (on_release_) on_release_(i);
}

bool PrepareContext::released(int i) const {
  return i >= 0 && static_cast<size_t>(i) < released_.size() && released_[i];
}

const void* PrepareContext::constant_data(int i) const {
  const InputDesc& in = input(i);
  if (released(i)) {
    throw Error(StatusCode::kInternal,
                prefix() + "input " + std::to_string(i) + " read after release_constant");
  }
  if (!in.constant) {
    throw Error(StatusCode::kNeedsConstant,
                prefix() + "input " + std::to_string(i) + " ('" + in.name +
                    "') must be known at plan time: softdpu plans static shapes, and this value "
                    "decides one",
                in.name);
  }
  return in.constant;
}

std::vector<int64_t> PrepareContext::constant_ints(int i) const {
  const InputDesc& in = input(i);
  const void* p = constant_data(i);
  int64_t n = shape_numel(in.shape);
  std::vector<int64_t> v(n);
  if (in.dtype == DType::kInt64) {
    std::copy_n(static_cast<const int64_t*>(p), n, v.begin());
  } else if (in.dtype == DType::kInt32) {
    std::copy_n(static_cast<const int32_t*>(p), n, v.begin());
  } else {
    fail("input " + std::to_string(i) + " ('" + in.name + "') must be int64 or int32, got " +
         dtype_name(in.dtype));
  }
  return v;
}

std::vector<float> PrepareContext::constant_floats(int i) const {
  const InputDesc& in = input(i);
  const void* p = constant_data(i);
  int64_t n = shape_numel(in.shape);
  std::vector<float> v(n);
  if (in.dtype == DType::kFloat32) {
    std::copy_n(static_cast<const float*>(p), n, v.begin());
  } else if (in.dtype == DType::kFloat64) {
    std::copy_n(static_cast<const double*>(p), n, v.begin());
  } else {
    fail("input " + std::to_string(i) + " ('" + in.name + "') must be float32 or float64, got " +
         dtype_name(in.dtype));
  }
  return v;
}

bool PrepareContext::has_output(int i) const {
  return i >= 0 && i < num_outputs() && i < static_cast<int>(node_.outputs.size()) &&
         node_.outputs[i] >= 0;
}

void PrepareContext::set_output(int i, DType dtype, Shape shape) {
  if (i < 0 || i >= num_outputs()) return;
  for (int64_t d : shape) {
    if (d < 0)
      fail("output " + std::to_string(i) + " would have a negative dimension " +
           shape_to_string(shape));
  }
  outputs_[i].dtype = dtype;
  outputs_[i].shape = std::move(shape);
  outputs_[i].set = true;
}

void PrepareContext::set_output_constant(int i, Tensor value) {
  if (i < 0 || i >= num_outputs()) return;
  outputs_[i].dtype = value.dtype();
  outputs_[i].shape = value.shape();
  outputs_[i].constant = std::move(value);
  outputs_[i].set = true;
}

namespace {
const char* kind_name(ir::Attribute::Kind k) {
  switch (k) {
    case ir::Attribute::Kind::kInt: return "int";
    case ir::Attribute::Kind::kFloat: return "float";
    case ir::Attribute::Kind::kString: return "string";
    case ir::Attribute::Kind::kInts: return "ints";
    case ir::Attribute::Kind::kFloats: return "floats";
    case ir::Attribute::Kind::kStrings: return "strings";
    case ir::Attribute::Kind::kTensor: return "tensor";
  }
  return "?";
}
}  // namespace

#define SOFTDPU_ATTR_KIND_CHECK(a, k) \
  if ((a)->kind != (k))               \
  fail("attribute '" + key + "' should be " + kind_name(k) + ", got " + kind_name((a)->kind))

int64_t PrepareContext::attr_int(const std::string& key, int64_t def) const {
  const ir::Attribute* a = node_.attr(key);
  if (!a) return def;
  SOFTDPU_ATTR_KIND_CHECK(a, ir::Attribute::Kind::kInt);
  return a->i;
}

float PrepareContext::attr_float(const std::string& key, float def) const {
  const ir::Attribute* a = node_.attr(key);
  if (!a) return def;
  if (a->kind == ir::Attribute::Kind::kInt) return static_cast<float>(a->i);
  SOFTDPU_ATTR_KIND_CHECK(a, ir::Attribute::Kind::kFloat);
  return a->f;
}

std::string PrepareContext::attr_string(const std::string& key, const std::string& def) const {
  const ir::Attribute* a = node_.attr(key);
  if (!a) return def;
  SOFTDPU_ATTR_KIND_CHECK(a, ir::Attribute::Kind::kString);
  return a->s;
}

std::vector<int64_t> PrepareContext::attr_ints(const std::string& key,
                                               std::vector<int64_t> def) const {
  const ir::Attribute* a = node_.attr(key);
  if (!a) return def;
  SOFTDPU_ATTR_KIND_CHECK(a, ir::Attribute::Kind::kInts);
  return a->ints;
}

std::vector<float> PrepareContext::attr_floats(const std::string& key,
                                               std::vector<float> def) const {
  const ir::Attribute* a = node_.attr(key);
  if (!a) return def;
  SOFTDPU_ATTR_KIND_CHECK(a, ir::Attribute::Kind::kFloats);
  return a->floats;
}

const Tensor* PrepareContext::attr_tensor(const std::string& key) const {
  const ir::Attribute* a = node_.attr(key);
  if (!a) return nullptr;
  SOFTDPU_ATTR_KIND_CHECK(a, ir::Attribute::Kind::kTensor);
  return &a->t;
}
#undef SOFTDPU_ATTR_KIND_CHECK

void PrepareContext::expect_dtype(int i, std::initializer_list<DType> allowed) const {
  DType t = dtype(i);
  for (DType a : allowed) {
    if (a == t) return;
  }
  std::ostringstream os;
  os << "input " << i << " ('" << input(i).name << "') has type " << dtype_name(t) << ", expected ";
  bool first = true;
  for (DType a : allowed) {
    os << (first ? "" : " or ") << dtype_name(a);
    first = false;
  }
  throw Error(StatusCode::kUnsupported, prefix() + os.str());
}

void PrepareContext::expect_rank(int i, int min_rank, int max_rank) const {
  int r = static_cast<int>(shape(i).size());
  if (r < min_rank || r > max_rank) {
    fail("input " + std::to_string(i) + " ('" + input(i).name + "') has rank " + std::to_string(r) +
         " " + shape_to_string(shape(i)) + ", expected " +
         (min_rank == max_rank ? std::to_string(min_rank)
                               : std::to_string(min_rank) + ".." + std::to_string(max_rank)));
  }
}

PrepareFn prepare_fn(ir::OpType op) {
  static constexpr PrepareFn kTable[] = {
#define SOFTDPU_OP(name, family) &prepare_##name,
#include "ir/ops.def"
#undef SOFTDPU_OP
  };
  return kTable[static_cast<int>(op)];
}

int64_t normalize_axis(const PrepareContext& ctx, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1)) {
    ctx.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

Shape broadcast_shapes(const PrepareContext& ctx, const Shape& a, const Shape& b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1) {
      ctx.fail("shapes " + shape_to_string(a) + " and " + shape_to_string(b) +
               " cannot be broadcast together");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace softdpu::runtime
