#include "support/model_builder.h"

#include <cstring>

namespace softdpu::testing {
namespace {
void set_type(onnx::ValueInfoProto* vi, const std::string& name, DType t, const Shape& dims) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(static_cast<int>(t));
  auto* shape = tt->mutable_shape();
  for (size_t i = 0; i < dims.size(); ++i) {
    auto* d = shape->add_dim();
    if (dims[i] >= 0) {
      d->set_dim_value(dims[i]);
    } else if (i == 0) {
      d->set_dim_param("batch");
    } else {
      // Appended, not "d" + std::string: GCC 12 at -O3 warns a false -Wrestrict on the latter.
      std::string name = "d";
      name.append(std::to_string(i));
      d->set_dim_param(name);
    }
  }
}
}  // namespace

ModelBuilder::ModelBuilder(int64_t opset) {
  model_.set_ir_version(8);
  auto* imp = model_.add_opset_import();
  imp->set_domain("");
  imp->set_version(opset);
  model_.mutable_graph()->set_name("test");
}

ModelBuilder& ModelBuilder::input(const std::string& name, DType t, const Shape& dims) {
  set_type(model_.mutable_graph()->add_input(), name, t, dims);
  return *this;
}

ModelBuilder& ModelBuilder::output(const std::string& name, DType t, const Shape& dims) {
  set_type(model_.mutable_graph()->add_output(), name, t, dims);
  return *this;
}

ModelBuilder& ModelBuilder::initializer(const std::string& name, const Tensor& value) {
  auto* t = model_.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(static_cast<int>(value.dtype()));
  for (int64_t d : value.shape()) t->add_dims(d);
  t->set_raw_data(std::string(static_cast<const char*>(value.data()), value.nbytes()));
  return *this;
}

onnx::NodeProto& ModelBuilder::node(const std::string& op, const std::vector<std::string>& inputs,
                                    const std::vector<std::string>& outputs,
                                    const std::string& name) {
  auto* n = model_.mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return *n;
}

void ModelBuilder::set_int(onnx::NodeProto& n, const std::string& key, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(key);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

void ModelBuilder::set_float(onnx::NodeProto& n, const std::string& key, float v) {
  auto* a = n.add_attribute();
  a->set_name(key);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

void ModelBuilder::set_ints(onnx::NodeProto& n, const std::string& key,
                            const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(key);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

std::string ModelBuilder::bytes() const {
  return model_.SerializeAsString();
}

}  // namespace softdpu::testing
