// .npy I/O against files written by numpy (tests/data/npy, made by make_fixtures.py there): values,
// byte-exact rewrite, round trips for every dtype, and one test per malformed or refused file.
#include "core/npy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "softdpu/status.h"

namespace softdpu {
namespace {

namespace fs = std::filesystem;

std::string fixture(const std::string& name) {
  return std::string(SOFTDPU_SOURCE_DIR) + "/tests/data/npy/" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// A scratch file per test, removed afterwards.
class NpyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (fs::temp_directory_path() / (std::string("softdpu_npy_") + info->name() + "_" +
                                          std::to_string(::getpid()) + ".npy"))
                .string();
  }
  void TearDown() override { fs::remove(path_); }

  void write_bytes(const std::string& bytes) {
    std::ofstream f(path_, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  // read_npy must throw Error(code) whose message contains `needle`.
  void expect_error(const std::string& bytes, StatusCode code, const std::string& needle) {
    write_bytes(bytes);
    try {
      read_npy(path_);
      ADD_FAILURE() << "no error; expected one containing \"" << needle << "\"";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }

  std::string path_;
};

// A hand-made file: preamble for `version`, the given header text, and `data_bytes` zero bytes.
std::string make_npy(const std::string& header, size_t data_bytes, int version = 1) {
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(version));
  out.push_back('\0');
  const uint32_t len = static_cast<uint32_t>(header.size());
  for (int i = 0; i < (version == 1 ? 2 : 4); ++i) out.push_back(static_cast<char>(len >> (8 * i)));
  return out + header + std::string(data_bytes, '\0');
}

std::string dict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + shape + ", }\n";
}

template <typename T>
std::vector<T> values_of(const Tensor& t) {
  return std::vector<T>(t.data_as<T>(), t.data_as<T>() + t.numel());
}

// ---- files written by numpy ---------------------------------------------------------------

template <typename T>
void expect_int_fixture(const std::string& code, DType dtype) {
  SCOPED_TRACE(code);
  Tensor t = read_npy(fixture(code + ".npy"));
  ASSERT_EQ(t.dtype(), dtype);
  ASSERT_EQ(t.shape(), (Shape{2, 3}));
  using L = std::numeric_limits<T>;
  const T third = std::is_signed_v<T> ? static_cast<T>(-1) : static_cast<T>(2);
  EXPECT_EQ(values_of<T>(t), (std::vector<T>{L::min(), L::max(), 0, 1, third, 42}));
}

TEST(NpyNumpyFixtures, Integers) {
  expect_int_fixture<int8_t>("i1", DType::kInt8);
  expect_int_fixture<int16_t>("i2", DType::kInt16);
  expect_int_fixture<int32_t>("i4", DType::kInt32);
  expect_int_fixture<int64_t>("i8", DType::kInt64);
  expect_int_fixture<uint8_t>("u1", DType::kUInt8);
  expect_int_fixture<uint16_t>("u2", DType::kUInt16);
  expect_int_fixture<uint32_t>("u4", DType::kUInt32);
  expect_int_fixture<uint64_t>("u8", DType::kUInt64);
}

template <typename T>
void expect_float_fixture(const Tensor& t) {
  std::vector<T> v = values_of<T>(t);
  EXPECT_EQ(v[0], T(0));
  EXPECT_EQ(v[1], T(-1.5));
  EXPECT_EQ(v[2], T(3.25));
  EXPECT_EQ(v[3], std::numeric_limits<T>::infinity());
  EXPECT_EQ(v[4], -std::numeric_limits<T>::infinity());
  EXPECT_TRUE(std::isnan(v[5]));
}

TEST(NpyNumpyFixtures, Floats) {
  Tensor f4 = read_npy(fixture("f4.npy"));
  ASSERT_EQ(f4.dtype(), DType::kFloat32);
  ASSERT_EQ(f4.shape(), (Shape{2, 3}));
  expect_float_fixture<float>(f4);

  Tensor f8 = read_npy(fixture("f8.npy"));
  ASSERT_EQ(f8.dtype(), DType::kFloat64);
  expect_float_fixture<double>(f8);

  // float16 as bits: 0, -1.5, 3.25, inf, -inf, NaN (numpy's NaN is 0x7e00).
  Tensor f2 = read_npy(fixture("f2.npy"));
  ASSERT_EQ(f2.dtype(), DType::kFloat16);
  EXPECT_EQ(values_of<uint16_t>(f2),
            (std::vector<uint16_t>{0x0000, 0xbe00, 0x4280, 0x7c00, 0xfc00, 0x7e00}));
}

TEST(NpyNumpyFixtures, BoolAndShapes) {
  Tensor b = read_npy(fixture("b1.npy"));
  ASSERT_EQ(b.dtype(), DType::kBool);
  EXPECT_EQ(values_of<uint8_t>(b), (std::vector<uint8_t>{1, 0, 1, 1, 0, 0}));

  Tensor scalar = read_npy(fixture("scalar_f8.npy"));
  EXPECT_EQ(scalar.shape(), Shape{});
  EXPECT_EQ(scalar.data_as<double>()[0], 3.5);

  Tensor empty = read_npy(fixture("empty_f4.npy"));
  EXPECT_EQ(empty.shape(), (Shape{0, 3}));
  EXPECT_EQ(empty.numel(), 0);

  Tensor vec = read_npy(fixture("vector_i8.npy"));
  EXPECT_EQ(vec.shape(), Shape{5});
  EXPECT_EQ(values_of<int64_t>(vec), (std::vector<int64_t>{0, 1000, 2000, 3000, 4000}));

  Tensor r4 = read_npy(fixture("rank4_i4.npy"));
  EXPECT_EQ(r4.shape(), (Shape{1, 2, 3, 4}));
  EXPECT_EQ(r4.data_as<int32_t>()[23], 23);
}

TEST(NpyNumpyFixtures, HeaderVersions2And3) {
  for (const char* name : {"v2_f4.npy", "v3_f4.npy"}) {
    SCOPED_TRACE(name);
    NpyHeader h = parse_npy_header(slurp(fixture(name)), name);
    EXPECT_EQ(h.major_version, name[1] - '0');
    Tensor t = read_npy(fixture(name));
    EXPECT_EQ(t.shape(), (Shape{3, 2}));
    EXPECT_EQ(values_of<float>(t), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  }
}

// What write_npy produces is byte for byte what np.save produced for the same array.
TEST(NpyNumpyFixtures, RewriteIsByteIdenticalToNumpy) {
  for (const char* name : {"i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "b1",
                           "scalar_f8", "empty_f4", "vector_i8", "rank4_i4"}) {
    SCOPED_TRACE(name);
    const std::string src = fixture(std::string(name) + ".npy");
    const std::string dst =
        (fs::temp_directory_path() / ("softdpu_npy_rewrite_" + std::to_string(::getpid())))
            .string();
    write_npy(dst, read_npy(src));
    EXPECT_EQ(slurp(dst), slurp(src));
    fs::remove(dst);
  }
}

TEST(NpyNumpyFixtures, RefusedByNumpyFeature) {
  struct Case {
    const char* file;
    const char* needle;
  };
  for (const Case& c :
       {Case{"fortran_f4.npy", "Fortran-order"},
        Case{"bigendian_f4.npy", "big-endian data ('>f4')"},
        Case{"complex_c8.npy", "unsupported dtype '<c8'"},
        Case{"unicode_u3.npy", "unsupported dtype '<U3'"},
        Case{"structured.npy", "structured dtypes"}, Case{"object.npy", "object arrays ('|O')"}}) {
    SCOPED_TRACE(c.file);
    try {
      read_npy(fixture(c.file));
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.file), std::string::npos) << "names the path";
    }
  }
}

// ---- round trips ------------------------------------------------------------------------------

TEST_F(NpyFile, RoundTripEveryDtype) {
  for (DType dt : {DType::kFloat16, DType::kFloat32, DType::kFloat64, DType::kInt8, DType::kInt16,
                   DType::kInt32, DType::kInt64, DType::kUInt8, DType::kUInt16, DType::kUInt32,
                   DType::kUInt64, DType::kBool}) {
    for (const Shape& shape : {Shape{}, Shape{0}, Shape{7}, Shape{2, 3, 5}, Shape{4, 0, 2}}) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " " + shape_to_string(shape));
      Tensor t(dt, shape);
      auto* bytes = static_cast<uint8_t*>(t.data());
      for (size_t i = 0; i < t.nbytes(); ++i) {
        bytes[i] = dt == DType::kBool ? i % 3 == 0 : static_cast<uint8_t>(i * 37 + 11);
      }
      write_npy(path_, t);
      Tensor back = read_npy(path_);
      EXPECT_EQ(back.dtype(), dt);
      EXPECT_EQ(back.shape(), shape);
      ASSERT_EQ(back.nbytes(), t.nbytes());
      EXPECT_EQ(std::memcmp(back.data(), t.data(), t.nbytes()), 0);
    }
  }
}

TEST_F(NpyFile, Rank64RoundTripsInAVersion1File) {
  Tensor t(DType::kFloat32, Shape(64, 1));
  write_npy(path_, t);
  EXPECT_EQ(read_npy(path_).shape().size(), 64u);
  EXPECT_EQ(slurp(path_)[6], '\x01');
}

TEST_F(NpyFile, WriteRefusesBfloat16AndUnwritablePaths) {
  try {
    write_npy(path_, Tensor(DType::kBFloat16, {2}));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("bfloat16"), std::string::npos);
  }
  try {
    write_npy("/nonexistent-dir/x.npy", Tensor(DType::kFloat32, {2}));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kIoError);
  }
}

// ---- malformed files --------------------------------------------------------------------------

TEST_F(NpyFile, MissingFileIsIoError) {
  try {
    read_npy("/nonexistent-dir/x.npy");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kIoError);
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.npy"), std::string::npos);
  }
}

TEST_F(NpyFile, BadMagicAndPreamble) {
  expect_error("", StatusCode::kInvalidArgument, "bad magic");
  expect_error("PK\x03\x04 not numpy", StatusCode::kInvalidArgument, "bad magic");
  expect_error(std::string("\x93NUMPY", 6), StatusCode::kInvalidArgument, "truncated preamble");
  expect_error(std::string("\x93NUMPY\x01\x00\x10", 9), StatusCode::kInvalidArgument,
               "truncated preamble");
  expect_error(std::string("\x93NUMPY\x04\x00\x10\x00", 10), StatusCode::kInvalidArgument,
               "format version 4.0");
  expect_error(std::string("\x93NUMPY\x01\x01\x10\x00", 10), StatusCode::kInvalidArgument,
               "format version 1.1");
}

TEST_F(NpyFile, TruncatedHeader) {
  std::string good = make_npy(dict("<f4", "(2,)"), 8);
  // Header length says more than the file holds.
  expect_error(good.substr(0, 30), StatusCode::kInvalidArgument, "truncated header");
  std::string v2 = make_npy(dict("<f4", "(2,)"), 0, 2);
  v2[8] = '\xff';
  v2[9] = '\xff';
  v2[10] = '\xff';
  v2[11] = '\x7f';
  expect_error(v2, StatusCode::kInvalidArgument, "truncated header");
}

TEST_F(NpyFile, TruncatedData) {
  // 2 x 3 float32 = 24 bytes; 20 present.
  expect_error(make_npy(dict("<f4", "(2, 3)"), 20), StatusCode::kInvalidArgument,
               "expected 24 bytes of data, file has 20");
  expect_error(make_npy(dict("<i8", "(1,)"), 0), StatusCode::kInvalidArgument,
               "expected 8 bytes of data, file has 0");
  // A shape whose byte size overflows 64 bits must not wrap around to something small.
  expect_error(make_npy(dict("<f8", "(4294967296, 4294967296)"), 8), StatusCode::kInvalidArgument,
               "too large");
  expect_error(make_npy(dict("<f8", "(1000000000000,)"), 8), StatusCode::kInvalidArgument,
               "expected 8000000000000 bytes of data, file has 8");
}

TEST_F(NpyFile, TrailingBytesAreIgnoredLikeNumpy) {
  write_bytes(make_npy(dict("|u1", "(3,)"), 5));
  EXPECT_EQ(read_npy(path_).shape(), Shape{3});
}

TEST_F(NpyFile, MalformedHeaders) {
  const auto bad = StatusCode::kInvalidArgument;
  expect_error(make_npy("[1, 2]\n", 0), bad, "not a dict");
  expect_error(make_npy("{'descr': '<f4', 'shape': (1,), }\n", 4), bad, "no 'fortran_order'");
  expect_error(make_npy("{'descr': '<f4', 'fortran_order': False}\n", 4), bad, "no 'shape'");
  expect_error(make_npy("{'fortran_order': False, 'shape': (1,)}\n", 4), bad, "no 'descr'");
  expect_error(make_npy(dict("<f4", "(1,)") + "{", 4), bad, "after the header dict");
  expect_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 4), bad,
               "unexpected key 'x'");
  expect_error(make_npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", 4),
               bad, "duplicate key 'descr'");
  expect_error(make_npy(dict("<f4", "(-1,)"), 4), bad, "negative dimension");
  expect_error(make_npy(dict("<f4", "(2)"), 8), bad, "'shape' is not a tuple");
  expect_error(make_npy(dict("<f4", "[2]"), 8), bad, "'shape' is not a tuple");
  expect_error(make_npy(dict("<f4", "(2.5,)"), 8), bad, "malformed");
  expect_error(make_npy(dict("<f4", "('a',)"), 8), bad, "non-integer");
  expect_error(make_npy(dict("<f4", "(99999999999999999999,)"), 8), bad, "number too large");
  expect_error(make_npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", 4), bad,
               "'fortran_order' is not True or False");
  expect_error(make_npy("{'descr': 4, 'fortran_order': False, 'shape': (1,)}", 4), bad,
               "'descr' is not a string");
  expect_error(make_npy("{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", 4), bad,
               "malformed header");
  expect_error(make_npy("{'descr': '<f4', 'fortran_order': Fals, 'shape': (1,)}", 4), bad,
               "unexpected name 'Fals'");
  expect_error(make_npy("{'descr': '<f4' 'fortran_order': False}", 4), bad, "expected '}'");
  expect_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,", 4), bad,
               "expected ')'");
  expect_error(make_npy(std::string(200, '(') + "1" + std::string(200, ')'), 0), bad,
               "nested too deeply");
  expect_error(make_npy(dict("float32", "(1,)"), 4), bad, "unsupported dtype 'float32'");
  expect_error(make_npy(dict("<f16", "(1,)"), 16), bad, "unsupported dtype '<f16'");
  expect_error(make_npy(dict("<M8[ns]", "(1,)"), 8), bad, "unsupported dtype '<M8[ns]'");
  std::string huge_dim(70, '1');
  expect_error(make_npy(dict("<f4", "(" + huge_dim.append(",)")), 4), bad, "too large");
  std::string many_dims = "(";
  for (int i = 0; i < 65; ++i) many_dims += "1, ";
  expect_error(make_npy(dict("<f4", many_dims + ")"), 4), bad, "rank 65");
}

TEST_F(NpyFile, AcceptedVariants) {
  // Python 2 longs, double quotes, no trailing comma, '=' byte order, '>' on one-byte types,
  // Fortran order on a vector (same layout as C order).
  write_bytes(make_npy("{\"descr\": \"=i4\", \"fortran_order\": False, \"shape\": (2L, 1L)}", 8));
  EXPECT_EQ(read_npy(path_).shape(), (Shape{2, 1}));
  write_bytes(make_npy(dict(">u1", "(3,)"), 3));
  EXPECT_EQ(read_npy(path_).dtype(), DType::kUInt8);
  write_bytes(make_npy(dict("<f4", "(3,)", /*fortran=*/true), 12));
  EXPECT_EQ(read_npy(path_).shape(), Shape{3});
}

TEST_F(NpyFile, BoolBytesAreNormalized) {
  std::string bytes = make_npy(dict("|b1", "(3,)"), 0) + std::string("\x00\x02\xff", 3);
  write_bytes(bytes);
  Tensor t = read_npy(path_);
  EXPECT_EQ(values_of<uint8_t>(t), (std::vector<uint8_t>{0, 1, 1}));
}

// Random truncations and byte flips of real files: every outcome is a tensor or an Error. The
// header parser is fuzzed in memory (fast); whole files, fewer of them, through read_npy.
std::string mutate(std::string bytes, std::mt19937& rng, int iter) {
  const int mode = iter % 3;
  if (mode == 0) {
    bytes.resize(rng() % (bytes.size() + 1));
    return bytes;
  }
  const int flips = 1 + rng() % 4;
  for (int k = 0; k < flips; ++k) {
    // Mostly in the header, where the parser lives.
    const size_t at =
        mode == 1 ? rng() % std::min<size_t>(bytes.size(), 128) : rng() % bytes.size();
    bytes[at] = static_cast<char>(rng());
  }
  return bytes;
}

std::vector<std::string> fuzz_seeds() {
  std::vector<std::string> seeds;
  for (const char* name : {"f4.npy", "v2_f4.npy", "v3_f4.npy", "rank4_i4.npy", "b1.npy",
                           "structured.npy", "scalar_f8.npy"}) {
    seeds.push_back(slurp(fixture(name)));
  }
  return seeds;
}

TEST(NpyFuzz, HeaderParserNeverCrashes) {
  std::mt19937 rng(99);
  const std::vector<std::string> seeds = fuzz_seeds();
  int errors = 0, parsed = 0;
  for (int iter = 0; iter < 30000; ++iter) {
    const std::string bytes = mutate(seeds[iter % seeds.size()], rng, iter);
    try {
      NpyHeader h = parse_npy_header(bytes, "fuzz");
      ++parsed;
      EXPECT_LE(h.data_offset, bytes.size());
    } catch (const Error& e) {
      ++errors;
      EXPECT_EQ(e.code(), StatusCode::kInvalidArgument) << e.what();
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_GT(parsed, 0);
}

TEST_F(NpyFile, FuzzedFilesNeverCrash) {
  std::mt19937 rng(1234);
  const std::vector<std::string> seeds = fuzz_seeds();
  int errors = 0, loaded = 0;
  for (int iter = 0; iter < 300; ++iter) {
    const std::string bytes = mutate(seeds[iter % seeds.size()], rng, iter);
    write_bytes(bytes);
    try {
      Tensor t = read_npy(path_);
      ++loaded;
      EXPECT_LE(t.nbytes(), bytes.size());
    } catch (const Error& e) {
      ++errors;
      EXPECT_TRUE(e.code() == StatusCode::kInvalidArgument || e.code() == StatusCode::kIoError)
          << e.what();
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_GT(loaded, 0);
}

}  // namespace
}  // namespace softdpu
