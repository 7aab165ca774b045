// Initializers stored as ONNX external data (a file beside the model) load like inline ones, and
// a bad reference is a clear error.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "softdpu/session.h"
#include "support/model_builder.h"
#include "support/run_op.h"

namespace softdpu {
namespace {

namespace fs = std::filesystem;

struct ExternalModel {
  fs::path dir = fs::temp_directory_path() / ("softdpu_ext_" + std::to_string(::getpid()));
  Tensor w = testing::random_tensor({4, 3}, -1, 1, 5);

  // Writes model.onnx whose initializer 'w' lives in weights.bin at `offset`.
  std::string write(const std::string& location, int64_t offset, int64_t length) {
    fs::create_directories(dir);
    {
      std::ofstream f(dir / "weights.bin", std::ios::binary);
      std::string pad(static_cast<size_t>(offset), '\0');
      f.write(pad.data(), pad.size());
      f.write(static_cast<const char*>(w.data()), static_cast<std::streamsize>(w.nbytes()));
    }
    testing::ModelBuilder m;
    m.input("x", DType::kFloat32, {1, 4}).output("y", DType::kFloat32, {1, 3});
    m.node("MatMul", {"x", "w"}, {"y"});
    auto* t = m.proto().mutable_graph()->add_initializer();
    t->set_name("w");
    t->set_data_type(1);
    t->add_dims(4);
    t->add_dims(3);
    t->set_data_location(onnx::TensorProto::EXTERNAL);
    auto add = [&](const std::string& k, const std::string& v) {
      auto* e = t->add_external_data();
      e->set_key(k);
      e->set_value(v);
    };
    add("location", location);
    add("offset", std::to_string(offset));
    add("length", std::to_string(length));
    std::ofstream(dir / "model.onnx", std::ios::binary) << m.bytes();
    return (dir / "model.onnx").string();
  }
  ~ExternalModel() { fs::remove_all(dir); }
};

TEST(ExternalData, LoadsWeightsFromTheFileBesideTheModel) {
  ExternalModel em;
  std::string path = em.write("weights.bin", 128, 48);
  std::unique_ptr<Session> s;
  Status st = Session::load(path, &s);
  ASSERT_TRUE(st) << st.to_string();
  ASSERT_TRUE(st = s->plan({})) << st.to_string();
  Tensor x = testing::random_tensor({1, 4}, -1, 1, 6);
  std::map<std::string, Tensor> out;
  ASSERT_TRUE(st = s->run({{"x", x}}, &out)) << st.to_string();
  for (int j = 0; j < 3; ++j) {
    double acc = 0;
    for (int k = 0; k < 4; ++k) acc += x.data_as<float>()[k] * em.w.data_as<float>()[k * 3 + j];
    EXPECT_NEAR(out.at("y").data_as<float>()[j], acc, 1e-5);
  }
}

TEST(ExternalData, MissingFileShortRangeAndEscapingPathAreErrors) {
  ExternalModel em;
  std::unique_ptr<Session> s;
  Status st = Session::load(em.write("nothere.bin", 0, 48), &s);
  EXPECT_EQ(st.code(), StatusCode::kInvalidModel);
  EXPECT_NE(st.message().find("nothere.bin"), std::string::npos) << st.message();
  st = Session::load(em.write("weights.bin", 0, 4800), &s);
  EXPECT_EQ(st.code(), StatusCode::kInvalidModel);
  EXPECT_NE(st.message().find("'w'"), std::string::npos) << st.message();
  st = Session::load(em.write("../../etc/passwd", 0, 48), &s);
  EXPECT_EQ(st.code(), StatusCode::kInvalidModel);
  EXPECT_NE(st.message().find("relative path"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace softdpu
