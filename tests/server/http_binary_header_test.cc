// The simdjson binary-extension header decoder against the nlohmann path of
// decode_infer_request: on every header it accepts it must decode exactly what nlohmann's DOM
// decodes, and it must hand everything else (outside its subset, or wrong) back untouched.
#include "server/http_binary_header.h"

#include <gtest/gtest.h>

#include <string>

namespace softdpu::server {
namespace {

// Raw bytes for the binary section: distinct values so that a wrong split shows.
std::string bytes(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((i * 7 + static_cast<size_t>(seed)) & 0xff);
  return s;
}

// The general (nlohmann) path on the same request: a top-level "parameters": {} changes nothing
// in the request but is outside the fast decoder's subset.
Status decode_general(const std::string& header, const std::string& binary, InferRequest* out,
                      ResponseFormat* format) {
  const std::string h = "{\"parameters\": {}, " + header.substr(header.find('{') + 1);
  EXPECT_FALSE(decode_binary_header(h, binary, out, format)) << h;
  return decode_infer_request(h + binary, static_cast<int64_t>(h.size()), out, format);
}

void expect_same(const InferRequest& a, const ResponseFormat& fa, const InferRequest& b,
                 const ResponseFormat& fb) {
  EXPECT_EQ(a.id, b.id);
  ASSERT_EQ(a.inputs.size(), b.inputs.size());
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    EXPECT_EQ(a.inputs[i].name, b.inputs[i].name);
    EXPECT_EQ(a.inputs[i].datatype, b.inputs[i].datatype);
    EXPECT_EQ(a.inputs[i].shape, b.inputs[i].shape);
    EXPECT_EQ(a.inputs[i].data, b.inputs[i].data);
  }
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    EXPECT_EQ(a.outputs[i].name, b.outputs[i].name);
    EXPECT_EQ(a.outputs[i].binary_data, b.outputs[i].binary_data);
  }
  EXPECT_EQ(fa.all_binary, fb.all_binary);
  EXPECT_EQ(fa.binary_outputs, fb.binary_outputs);
}

TEST(HttpBinaryHeader, DecodesWhatTheGeneralPathDecodes) {
  const std::string one = bytes(3136, 1), two = bytes(16, 2) + bytes(8, 3), eight = bytes(8, 5);
  const struct {
    const char* header;
    const std::string& binary;
  } cases[] = {
      // What softdpu_http_load and tritonclient send for the MLP.
      {R"({"inputs":[{"name":"input","shape":[1,784],"datatype":"FP32",)"
       R"("parameters":{"binary_data_size":3136}}],)"
       R"("outputs":[{"name":"logits","parameters":{"binary_data":true}}]})",
       one},
      // Whitespace everywhere, keys in another order, an id, no outputs.
      {" \n{ \"id\" : \"r-17\" ,\t\"inputs\" : [ { \"parameters\" : { \"binary_data_size\" : 3136 "
       "} , \"datatype\" : \"FP32\" , \"shape\" : [ 1 , 1 , 28 , 28 ] , \"name\" : \"input\" } ] "
       "}\r\n",
       one},
      // Two inputs splitting the binary section; outputs JSON and binary, one without parameters.
      {R"({"inputs":[{"name":"a","datatype":"INT64","shape":[2],"parameters":{"binary_data_size":16}},)"
       R"({"name":"b","datatype":"UINT8","shape":[0,8],"parameters":{"binary_data_size":8}}],)"
       R"("outputs":[{"name":"y","parameters":{"binary_data":false}},{"name":"z"},)"
       R"({"parameters":{"binary_data":true},"name":"w"}],"id":""})",
       two},
      // Empty inputs and outputs (the core then names what is missing).
      {R"({"inputs":[],"outputs":[]})", std::string()},
      // Escapes and UTF-8 in strings, unescaped the way nlohmann unescapes them.
      {R"({"id":"a\"b\u00e9\n","inputs":[{"name":"x\/y","datatype":"FP32","shape":[2],)"
       R"("parameters":{"binary_data_size":8}}],"outputs":[{"name":"caf\u00e9"}]})",
       eight},
      {"{\"id\":\"caf\xc3\xa9\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2],"
       "\"parameters\":{\"binary_data_size\":8}}]}",
       eight},
      // A shape that does not match the byte count: the core's check, not the codec's.
      {R"({"inputs":[{"name":"x","datatype":"FP32","shape":[3],"parameters":{"binary_data_size":24}}]})",
       two},
  };
  for (const auto& c : cases) {
    InferRequest fast, general;
    ResponseFormat ffast, fgeneral;
    ASSERT_TRUE(decode_binary_header(c.header, c.binary, &fast, &ffast)) << c.header;
    Status st = decode_general(c.header, c.binary, &general, &fgeneral);
    ASSERT_TRUE(st) << st.to_string();
    expect_same(fast, ffast, general, fgeneral);
  }
}

TEST(HttpBinaryHeader, LeavesEverythingElseToTheGeneralPath) {
  const std::string binary = bytes(8, 5);
  const char* in = R"("name":"x","datatype":"FP32","shape":[2],)";
  const std::string headers[] = {
      // Valid, but outside the subset.
      std::string(R"({"inputs":[{)") + in + R"("parameters":{"binary_data_size":8,"x":1}}]})",
      std::string(R"({"inputs":[{)") + in +
          R"("parameters":{"binary_data_size":8}}],"parameters":{"sequence_id":3}})",
      std::string(R"({"inputs":[{)") + in +
          R"("parameters":{"binary_data_size":8}}],"outputs":[{"name":"y","parameters":{"binary_data":true,"k":2}}]})",
      std::string(R"({"inputs":[{)") + in + R"("data":[1,2]}]})",
      // Wrong: each must reach the general path, which words the error.
      std::string(R"({"inputs":[{)") + in + R"("parameters":{"binary_data_size":8}}]} x)",
      std::string(R"({"inputs":[{)") + in + R"("parameters":{"binary_data_size":8}}]}})",
      std::string(R"({"inputs":[{)") + in + R"("parameters":{"binary_data_size":8}}]} {})",
      std::string(R"({"inputs":[{)") + in + R"("parameters":{"binary_data_size":8}}]} 1)",
      std::string(R"({"inputs":[{)") + in + R"("parameters":{"binary_data_size":8}}],"inputs":[]})",
      std::string(R"({"inputs":[{)") + in + R"("parameters":{"binary_data_size":4}}]})",
      std::string(R"({"inputs":[{)") + in + R"("parameters":{"binary_data_size":80}}]})",
      std::string(R"({"inputs":[{)") + in + R"("parameters":{"binary_data_size":8.0}}]})",
      std::string(R"({"inputs":[{)") + in + R"("parameters":{"binary_data_size":08}}]})",
      std::string(R"({"inputs":[{)") + in + R"("parameters":{"binary_data_size":-8}}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[-2],"parameters":{"binary_data_size":8}}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1234567890123456789],"parameters":{"binary_data_size":8}}]})",
      R"({"inputs":[{"name":"x","datatype":"FP99","shape":[2],"parameters":{"binary_data_size":8}}]})",
      R"({"inputs":[{"name":"x","datatype":"BYTES","shape":[2],"parameters":{"binary_data_size":8}}]})",
      R"({"inputs":[{"name":"x","shape":[2],"parameters":{"binary_data_size":8}}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}}],"outputs":[{"name":"y","parameters":{"binary_data":1}}]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}},]})",
      R"({"outputs":[]})",
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8})",
  };
  for (const std::string& h : headers) {
    InferRequest r;
    ResponseFormat f;
    EXPECT_FALSE(decode_binary_header(h, binary, &r, &f)) << h;
    EXPECT_TRUE(r.id.empty() && r.inputs.empty() && r.outputs.empty()) << h;
    EXPECT_TRUE(!f.all_binary && f.binary_outputs.empty()) << h;
  }
}

}  // namespace
}  // namespace softdpu::server
