// IDX reader against files written here byte by byte (big-endian header), plain and gzip'd, and
// against Debian's Fashion-MNIST when it is installed.
#include "data/idx_file.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "data/dataset.h"
#include "softdpu/status.h"

namespace softdpu {
namespace {

std::string idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& values,
                      uint8_t type = 0x08) {
  std::string s = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    s += static_cast<char>(d >> 24);
    s += static_cast<char>(d >> 16);
    s += static_cast<char>(d >> 8);
    s += static_cast<char>(d);
  }
  s.append(values.begin(), values.end());
  return s;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("softdpu_idx_" + name)).string();
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  gzclose(f);
}

TEST(IdxFile, ReadsPlainAndGzip) {
  std::vector<uint8_t> v(2 * 3 * 4);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * 7 + 1);
  const std::string bytes = idx_bytes({2, 3, 4}, v);
  const std::string plain = temp_path("plain"), gz = temp_path("x.gz");
  std::ofstream(plain, std::ios::binary) << bytes;
  write_gz(gz, bytes);
  for (const std::string& p : {plain, gz}) {
    Tensor t = data::read_idx_u8(p);
    EXPECT_EQ(t.shape(), (Shape{2, 3, 4})) << p;
    for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(t.data_as<uint8_t>()[i], v[i]) << p;
  }
}

TEST(IdxFile, RefusesInconsistentFiles) {
  const std::string p = temp_path("bad");
  auto expect_error = [&](const std::string& bytes, const std::string& words) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
    try {
      data::read_idx_u8(p);
      ADD_FAILURE() << "accepted a file that should fail with: " << words;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expect_error(idx_bytes({4}, {1, 2, 3}), "announces 4 elements");
  expect_error(idx_bytes({2}, {1, 2}, 0x0D), "type code is 13");
  expect_error(std::string("\x01\x00\x08\x01", 4), "two zero bytes");
  expect_error(std::string("\x00\x00", 2), "shorter");
  EXPECT_THROW(data::read_idx_u8(temp_path("missing")), Error);
}

TEST(Dataset, FashionMnistTestSplit) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  const data::Dataset d = data::load_dataset("fashion-mnist", data::Split::kTest, 0);
  ASSERT_EQ(d.size(), 10000);
  const Tensor& x = d.inputs.at("");
  EXPECT_EQ(x.shape(), (Shape{10000, 28, 28}));
  // Fashion-MNIST's test split is balanced: 1000 images per class.
  std::vector<int> count(10);
  for (int64_t l : d.labels) ++count.at(static_cast<size_t>(l));
  for (int c : count) EXPECT_EQ(c, 1000);
  float lo = 1, hi = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    lo = std::min(lo, x.data_as<float>()[i]);
    hi = std::max(hi, x.data_as<float>()[i]);
  }
  EXPECT_EQ(lo, 0.f);
  EXPECT_EQ(hi, 1.f);
  EXPECT_EQ(data::load_dataset("fashion-mnist", data::Split::kTest, 25).size(), 25);
}

TEST(Dataset, DirectoryErrorsNameTheProblem) {
  EXPECT_THROW(data::load_dataset("/nonexistent/softdpu-dataset"), Error);
  const std::string dir = temp_path("dir");
  std::filesystem::create_directories(dir);
  try {
    data::load_dataset(dir);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("labels.npy"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace softdpu
