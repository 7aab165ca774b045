// Compiled models (.sdpu): round trip through save_compiled / load, the baked precision choice,
// overrides, and refusal of corrupt, truncated, foreign and future-version files.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/npy.h"
#include "softdpu/session.h"

namespace softdpu {
namespace {

const std::string kMlp = std::string(SOFTDPU_SOURCE_DIR) + "/models/fashion_mlp/1/model.onnx";
const std::string kLstm = std::string(SOFTDPU_SOURCE_DIR) + "/models/fashion_lstm/1/model.onnx";

std::string temp(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("softdpu_sdpu_" + name)).string();
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::map<std::string, Tensor> run(Session& s, const std::string& model_dir) {
  std::map<std::string, Tensor> in{{s.inputs()[0].name, read_npy(model_dir + "/input.npy")}};
  std::map<std::string, Tensor> out;
  Status st = s.run(in, &out);
  EXPECT_TRUE(st) << st.to_string();
  return out;
}

std::string compile(const std::string& model, const PlanOptions& opt, const std::string& name) {
  std::unique_ptr<Session> s;
  EXPECT_TRUE(Session::load(model, &s));
  EXPECT_TRUE(s->plan(opt));
  const std::string path = temp(name);
  Status st = s->save_compiled(path);
  EXPECT_TRUE(st) << st.to_string();
  return path;
}

TEST(SdpuFile, RoundTripKeepsPrecisionAndResults) {
  for (const std::string& model : {kMlp, kLstm}) {
    const std::string name = std::filesystem::path(model).parent_path().parent_path().filename();
    const std::string data = std::string(SOFTDPU_SOURCE_DIR) + "/tests/data/models/" + name;
    PlanOptions opt;
    opt.batch = 8;
    opt.precision = "mxint8";
    opt.keep_fp32 = {"last"};
    const std::string path = compile(model, opt, name + ".sdpu");

    std::unique_ptr<Session> direct, compiled;
    ASSERT_TRUE(Session::load(model, &direct));
    ASSERT_TRUE(direct->plan(opt));
    Status st = Session::load(path, &compiled);
    ASSERT_TRUE(st) << st.to_string();
    EXPECT_TRUE(compiled->compiled());
    PlanOptions plain;  // no precision flags: the file's choice applies
    plain.batch = 8;
    ASSERT_TRUE(compiled->plan(plain));
    EXPECT_EQ(compiled->stats().layer_formats, direct->stats().layer_formats);
    EXPECT_EQ(compiled->stats().weight_bytes, direct->stats().weight_bytes);
    const auto a = run(*direct, data), b = run(*compiled, data);
    for (const auto& [out_name, t] : a) {
      const Tensor& u = b.at(out_name);
      ASSERT_EQ(t.nbytes(), u.nbytes());
      EXPECT_EQ(std::memcmp(t.data(), u.data(), t.nbytes()), 0) << name << " " << out_name;
    }
    // The file is smaller than its ONNX plus fp32 copies of the narrow weights would be.
    EXPECT_LT(std::filesystem::file_size(path),
              std::filesystem::file_size(model) + direct->stats().weight_bytes);

    // Flags given at plan time override the compiled choice.
    PlanOptions other = plain;
    other.precision = "mxfp4_e2m1";
    ASSERT_TRUE(compiled->plan(other));
    for (const auto& [layer, f] : compiled->stats().layer_formats) EXPECT_EQ(f, "mxfp4_e2m1");
  }
}

void expect_refused(const std::string& path, const std::string& words) {
  std::unique_ptr<Session> s;
  Status st = Session::load(path, &s);
  ASSERT_FALSE(st) << "accepted " << path;
  EXPECT_EQ(s, nullptr);
  EXPECT_NE(st.message().find(words), std::string::npos) << st.message();
}

TEST(SdpuFile, CorruptTruncatedForeignAndFutureFilesAreRefused) {
  PlanOptions opt;
  opt.precision = "mxfp6_e2m3";
  const std::string good = slurp(compile(kMlp, opt, "good.sdpu"));
  ASSERT_GT(good.size(), 4096u);

  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x40;
  spit(temp("flipped.sdpu"), flipped);
  expect_refused(temp("flipped.sdpu"), "checksum");

  spit(temp("short.sdpu"), good.substr(0, good.size() - 100));
  expect_refused(temp("short.sdpu"), "truncated");

  spit(temp("header.sdpu"), good.substr(0, 20));
  expect_refused(temp("header.sdpu"), "shorter than");

  std::string future = good;
  future[8] = 7;  // format version (little-endian u32 after the 8-byte magic)
  spit(temp("future.sdpu"), future);
  expect_refused(temp("future.sdpu"), "format version 7");

  // Not a .sdpu and not ONNX either: the ONNX importer reports it.
  spit(temp("foreign.sdpu"), std::string(4096, 'x'));
  std::unique_ptr<Session> s;
  EXPECT_FALSE(Session::load(temp("foreign.sdpu"), &s));
}

TEST(SdpuFile, LoadsFromBytesAsTheServerDoes) {
  PlanOptions opt;
  opt.batch = 8;
  opt.precision = "mxint8";
  const std::string path = compile(kMlp, opt, "bytes.sdpu");
  const std::string data = std::string(SOFTDPU_SOURCE_DIR) + "/tests/data/models/fashion_mlp";
  std::unique_ptr<Session> from_file, from_bytes;
  ASSERT_TRUE(Session::load(path, &from_file));
  Status st = Session::load_from_bytes(slurp(path), ".", &from_bytes);
  ASSERT_TRUE(st) << st.to_string();
  EXPECT_TRUE(from_bytes->compiled());
  PlanOptions plain;
  plain.batch = 8;
  ASSERT_TRUE(from_file->plan(plain));
  ASSERT_TRUE(from_bytes->plan(plain));
  EXPECT_EQ(from_bytes->stats().layer_formats, from_file->stats().layer_formats);
  const auto a = run(*from_file, data), b = run(*from_bytes, data);
  const Tensor &u = a.at("logits"), &v = b.at("logits");
  EXPECT_EQ(std::memcmp(u.data(), v.data(), u.nbytes()), 0);
  std::string flipped = slurp(path);
  flipped[flipped.size() / 3] ^= 1;
  st = Session::load_from_bytes(flipped, ".", &from_bytes);
  EXPECT_FALSE(st);
  EXPECT_NE(st.message().find("checksum"), std::string::npos) << st.message();
}

TEST(SdpuFile, SaveNeedsAPlan) {
  std::unique_ptr<Session> s;
  ASSERT_TRUE(Session::load(kMlp, &s));
  EXPECT_EQ(s->save_compiled(temp("unplanned.sdpu")).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace softdpu
