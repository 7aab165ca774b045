// The REST infer codec on its own: the from_chars fast path for "data" arrays must decode exactly
// what the plain nlohmann path decodes, and fall back cleanly on anything it does not handle.
#include "server/http_infer_codec.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

namespace softdpu::server {
namespace {

InferRequest decode_ok(const std::string& body) {
  InferRequest r;
  ResponseFormat f;
  Status st = decode_infer_request(body, -1, &r, &f);
  EXPECT_TRUE(st) << st.to_string();
  return r;
}

template <typename T>
std::vector<T> values(const InputTensor& t) {
  std::vector<T> v(t.data.size() / sizeof(T));
  std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}

TEST(HttpInferCodec, NestedFloatIntAndBoolData) {
  InferRequest r = decode_ok(R"({"id": "has \"data\": [1] inside", "inputs": [
      {"name": "a", "shape": [2, 2], "datatype": "FP32", "data": [[1.5, -2e-3], [3, 0.1]]},
      {"name": "b", "shape": [3], "datatype": "INT64", "data": [-9007199254740993, 0, 7]},
      {"name": "c", "shape": [2], "datatype": "BOOL", "data": [true, false]}]})");
  ASSERT_EQ(r.inputs.size(), 3u);
  EXPECT_EQ(r.id, "has \"data\": [1] inside");
  EXPECT_EQ(values<float>(r.inputs[0]), (std::vector<float>{1.5f, -2e-3f, 3.f, 0.1f}));
  EXPECT_EQ(values<int64_t>(r.inputs[1]), (std::vector<int64_t>{-9007199254740993LL, 0, 7}));
  EXPECT_EQ(values<uint8_t>(r.inputs[2]), (std::vector<uint8_t>{1, 0}));
}

TEST(HttpInferCodec, FallbackAndErrorsAgree) {
  // An unsigned value above INT64_MAX takes the nlohmann path and still decodes.
  InferRequest r = decode_ok(R"({"inputs": [{"name": "u", "shape": [1], "datatype": "UINT64",
      "data": [18446744073709551615]}]})");
  EXPECT_EQ(values<uint64_t>(r.inputs[0]), std::vector<uint64_t>{18446744073709551615ULL});
  for (const char* body : {
           R"({"inputs": [{"name": "x", "shape": [2], "datatype": "INT32", "data": [1, 2.5]}]})",
           R"({"inputs": [{"name": "x", "shape": [2], "datatype": "INT32", "data": [1, "2"]}]})",
           R"({"inputs": [{"name": "x", "shape": [1], "datatype": "UINT8", "data": [300]}]})",
       }) {
    InferRequest q;
    ResponseFormat f;
    Status st = decode_infer_request(body, -1, &q, &f);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << body;
    EXPECT_NE(st.message().find("input 'x': data["), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("is not a valid"), std::string::npos) << st.message();
  }
  InferRequest q;
  ResponseFormat f;
  Status st = decode_infer_request(R"({"inputs": [{"name": "x", "data": [1, 2]]})", -1, &q, &f);
  EXPECT_NE(st.message().find("malformed JSON"), std::string::npos) << st.message();
}

TEST(HttpInferCodec, NumberTokensAsStrtodReadsThem) {
  // Each value against strtod / strtoll on the same text (the fast path uses from_chars).
  const char* reals[] = {"1",
                         "-2",
                         "0.5",
                         "-0.25",
                         "1e3",
                         "2.5E-2",
                         "-7e+1",
                         "123456789012345678901.5",
                         "0",
                         "-0.0",
                         "0.51372551918029785",
                         "3.4028234663852886e38"};
  std::string data;
  for (const char* r : reals) data += std::string(data.empty() ? "" : ", ") + r;
  InferRequest r = decode_ok(
      R"({"inputs": [{"name": "x", "shape": [12], "datatype": "FP64", "data": [)" + data + "]}]}");
  std::vector<double> want;
  for (const char* t : reals) want.push_back(std::strtod(t, nullptr));
  EXPECT_EQ(values<double>(r.inputs[0]), want);
  InferRequest q = decode_ok(R"({"inputs": [{"name": "x", "shape": [3], "datatype": "INT64",
      "data": [9223372036854775807, -9223372036854775808, 17]}]})");
  EXPECT_EQ(values<int64_t>(q.inputs[0]),
            (std::vector<int64_t>{std::strtoll("9223372036854775807", nullptr, 10),
                                  std::strtoll("-9223372036854775808", nullptr, 10), 17}));
  // Not JSON numbers, refused, never read as shorter numbers: the shape is what a misread would
  // give ("1-2" as 1 and -2), and FP64 takes any number. An integer beyond INT64 is refused too.
  const struct {
    const char* token;
    const char* datatype;
    int count;
  } bad[] = {{"1-2", "FP64", 2},   {"1.5-2", "FP64", 2},
             {"1e5-3", "FP64", 2}, {"2+3", "FP64", 2},
             {"1e", "FP64", 1},    {"-", "FP64", 1},
             {"1.5.5", "FP64", 1}, {"99999999999999999999", "INT64", 1}};
  for (const auto& b : bad) {
    InferRequest q2;
    ResponseFormat f;
    const std::string body = R"({"inputs": [{"name": "x", "shape": [)" + std::to_string(b.count) +
                             R"(], "datatype": ")" + b.datatype + R"(", "data": [)" + b.token +
                             "]}]}";
    EXPECT_FALSE(decode_infer_request(body, -1, &q2, &f)) << b.token;
  }
}

TEST(HttpInferCodec, DataArraysFollowTheJsonGrammar) {
  // Tokens and arrays that from_chars or a loose scanner would read as numbers but JSON does not
  // allow: nlohmann (the independent reference) refuses each body, and so must the decoder,
  // whichever path reads it. The shape is what a loose read would give.
  const struct {
    const char* data;
    int count;
  } bad[] = {{"[01]", 1},   {"[-01]", 1}, {"[1.]", 1},     {"[1.e5]", 1},     {"[-.5]", 1},
             {"[.5]", 1},   {"[+1]", 1},  {"[1e+]", 1},    {"[1 2]", 2},      {"[1,,2]", 2},
             {"[,1]", 1},   {"[1,]", 1},  {"[[1][2]]", 2}, {"[[1],]", 1},     {"[true false]", 2},
             {"[0x10]", 1}, {"[1]]", 1},  {"[[1]", 1},     {"[Infinity]", 1}, {"[NaN]", 1}};
  for (const auto& b : bad) {
    const std::string body = R"({"inputs": [{"name": "x", "shape": [)" + std::to_string(b.count) +
                             R"(], "datatype": "FP64", "data": )" + b.data + "}]}";
    ASSERT_FALSE(nlohmann::json::accept(body)) << body;
    InferRequest r;
    ResponseFormat f;
    EXPECT_FALSE(decode_infer_request(body, -1, &r, &f)) << b.data;
  }
  // And what JSON allows still decodes, nested arrays and whitespace included.
  InferRequest r = decode_ok(
      R"({"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP64", "data": [ [ 0 , -0.5e1 ] ,)"
      R"([1E2,2] ] }]})");
  EXPECT_EQ(values<double>(r.inputs[0]), (std::vector<double>{0, -5, 100, 2}));
}

TEST(HttpInferCodec, ValuesOutsideTheDatatypeAreRefused) {
  // A double beyond FLT_MAX has no float (the cast is undefined), and 1e400 is no finite double.
  const struct {
    const char* datatype;
    const char* value;
  } bad[] = {{"FP32", "1e39"},
             {"FP32", "-3.5e38"},
             {"FP16", "1e39"},
             {"BF16", "-1e39"},
             {"FP64", "1e400"}};
  for (const auto& b : bad) {
    for (const char* sep : {"", " "}) {  // the fast path, and nlohmann's (a string elsewhere)
      const std::string body =
          std::string(R"({"inputs": [{"name": "x", "shape": [2], "datatype": ")") + b.datatype +
          R"(", "data": [)" + b.value + "," + sep + (*sep ? "\"s\"" : "1") + "]}]}";
      InferRequest r;
      ResponseFormat f;
      EXPECT_FALSE(decode_infer_request(body, -1, &r, &f)) << body;
    }
  }
  InferRequest ok = decode_ok(
      R"({"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "data": [3.4e38, -1e-50]}]})");
  EXPECT_EQ(values<float>(ok.inputs[0]), (std::vector<float>{3.4e38f, -0.0f}));
}

TEST(HttpInferCodec, ShapesWithTooManyElementsAreRefused) {
  // 2^32 x 2^32 overflows int64 to 0, which an empty 'data' would match.
  InferRequest r;
  ResponseFormat f;
  const Status st = decode_infer_request(
      R"({"inputs": [{"name": "x", "shape": [4294967296, 4294967296], "datatype": "FP32",)"
      R"( "data": []}]})",
      -1, &r, &f);
  ASSERT_FALSE(st);
  EXPECT_NE(st.to_string().find("2^40"), std::string::npos) << st.to_string();
}

TEST(HttpInferCodec, ResponseJsonAndBinary) {
  InferResponse resp;
  resp.model_name.assign(1, 'm');  // (assign, not = "m": dodges a GCC 12 false -Wrestrict)
  resp.model_version.assign(1, '3');
  float v[2] = {0.1f, -7.25f};
  OutputTensor y;
  y.name.assign(1, 'y');
  y.datatype.assign("FP32", 4);
  y.shape = {1, 2};
  y.data.assign(reinterpret_cast<char*>(v), 8);
  resp.outputs.push_back(std::move(y));
  std::string body;
  int64_t hl = 0;
  encode_infer_response(resp, ResponseFormat{}, &body, &hl);
  EXPECT_EQ(hl, -1);
  EXPECT_EQ(body,
            R"({"model_name":"m","model_version":"3","outputs":[{"name":"y","datatype":"FP32",)"
            R"("shape":[1,2],"data":[0.1,-7.25]}]})");
  // Names that JSON must escape (the plain ones above are copied as they are).
  InferResponse odd = resp;
  odd.model_name = std::string("a\"b\\c\x01") + "\xc3\xa9";
  odd.id = "r/1";
  std::string odd_body;
  encode_infer_response(odd, ResponseFormat{}, &odd_body, &hl);
  const std::string want =
      "{\"model_name\":\"a\\\"b\\\\c\\u0001\xc3\xa9\",\"model_version\":\"3\",\"id\":\"r/1\",";
  EXPECT_EQ(odd_body.substr(0, want.size()), want) << odd_body;
  ResponseFormat bin;
  bin.binary_outputs = {"y"};
  body.clear();
  encode_infer_response(resp, bin, &body, &hl);
  ASSERT_EQ(static_cast<size_t>(hl) + 8, body.size());
  EXPECT_EQ(0, std::memcmp(body.data() + hl, v, 8));
  EXPECT_NE(body.substr(0, static_cast<size_t>(hl)).find(R"("binary_data_size":8)"),
            std::string::npos);
}

}  // namespace
}  // namespace softdpu::server
