// Plan-time validation of LSTM / GRU / RNN: each malformed node fails in prepare with a message
// naming what is wrong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "kernels/rnn/rnn_reference.h"
#include "softdpu/status.h"

namespace softdpu::testing {
namespace {

namespace R = rnn_ref;
using ::testing::HasSubstr;

R::Spec base(const std::string& op) {
  R::Spec s;
  s.op = op;
  s.seq = 2, s.batch = 2, s.input = 3, s.hidden = 4;
  return s;
}

// Runs prepare on a spec after `edit` tampers with its inputs and attributes; returns the error.
Error prepare_error(
    const R::Spec& s,
    const std::function<void(R::Inputs&, std::map<std::string, ir::Attribute>&)>& edit,
    const std::vector<int>& runtime_inputs = R::kRuntimeInputs) {
  R::Inputs in = R::make_inputs(s, 1);
  std::map<std::string, ir::Attribute> attrs = R::attrs_of(s);
  edit(in, attrs);
  std::vector<OpInput> ops;
  for (size_t i = 0; i < in.t.size(); ++i) {
    const bool rt = std::find(runtime_inputs.begin(), runtime_inputs.end(), static_cast<int>(i)) !=
                    runtime_inputs.end();
    ops.push_back(in.t[i] ? OpInput{in.t[i], !rt} : none());
  }
  try {
    run_op(R::op_type(s.op), ops, attrs, s.op == "LSTM" ? 3 : 2, 1, 14);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "prepare accepted the node";
  return Error(StatusCode::kOk, "");
}

using Edit = std::function<void(R::Inputs&, std::map<std::string, ir::Attribute>&)>;

TEST(RnnErrors, WeightShapesNameTheInput) {
  for (const char* op : {"LSTM", "GRU", "RNN"}) {
    const R::Spec s = base(op);
    const int64_t g = R::gates_of(op);
    Error e = prepare_error(s, [&](R::Inputs& in, auto&) {
      in.t[1] = random_tensor({1, g * 4, 5});
    });
    EXPECT_EQ(e.code(), StatusCode::kInvalidModel);
    EXPECT_THAT(e.what(),
                HasSubstr("input W ('input1') has shape [1, " + std::to_string(g * 4) + ", 5]"));
    EXPECT_THAT(e.what(), HasSubstr("input_size=3"));
    e = prepare_error(s, [&](R::Inputs& in, auto&) { in.t[2] = random_tensor({1, g * 4 + 1, 4}); });
    EXPECT_THAT(e.what(), HasSubstr("input R ('input2') has shape"));
    e = prepare_error(s, [&](R::Inputs& in, auto&) { in.t[3] = random_tensor({1, g * 4}); });
    EXPECT_THAT(e.what(),
                HasSubstr("input B ('input3') has shape [1, " + std::to_string(g * 4) + "]"));
    e = prepare_error(s, [&](R::Inputs& in, auto&) { in.t[1] = random_tensor({2, g * 4, 3}); });
    EXPECT_THAT(e.what(), HasSubstr("num_directions=1 for direction forward"));
  }
}

TEST(RnnErrors, HiddenSizeMismatch) {
  const Error e =
      prepare_error(base("LSTM"), [](auto&, auto& a) { a["hidden_size"] = attr_int(5); });
  EXPECT_EQ(e.code(), StatusCode::kInvalidModel);
  EXPECT_THAT(e.what(), HasSubstr("hidden_size mismatch: attribute hidden_size is 5"));
  EXPECT_THAT(e.what(), HasSubstr("LSTM node 'test_LSTM'"));
}

TEST(RnnErrors, StateAndSequenceInputs) {
  R::Spec s = base("LSTM");
  s.layout = 1;
  Error e = prepare_error(s, [](R::Inputs& in, auto&) { in.t[5] = random_tensor({1, 2, 4}); });
  EXPECT_THAT(e.what(),
              HasSubstr("input initial_h ('input5') has shape [1, 2, 4], expected [2, 1, 4]"));
  e = prepare_error(s, [](R::Inputs& in, auto&) { in.t[6] = random_tensor({2, 1, 5}); });
  EXPECT_THAT(e.what(), HasSubstr("input initial_c"));
  e = prepare_error(s, [](R::Inputs& in, auto&) { in.t[7] = random_tensor({1, 8}); });
  EXPECT_THAT(e.what(), HasSubstr("input P ('input7') has shape [1, 8], expected [1, 12]"));
  e = prepare_error(s, [](R::Inputs& in, auto&) {
    in.t[4] = make_tensor<int32_t>({3}, {1, 1, 1});
  });
  EXPECT_THAT(e.what(), HasSubstr("input sequence_lens"));
  e = prepare_error(s,
                    [](R::Inputs& in, auto&) {
                      in.t[4] = make_tensor<int32_t>({2}, {1, 3});
                    },
                    {0, 5, 6});
  EXPECT_THAT(e.what(), HasSubstr("sequence_lens holds 3, outside [0, seq_length=2]"));
  e = prepare_error(s, [](R::Inputs& in, auto&) { in.t[4] = random_tensor({2}); });
  EXPECT_EQ(e.code(), StatusCode::kUnsupported);
}

TEST(RnnErrors, Attributes) {
  const R::Spec s = base("GRU");
  Error e = prepare_error(s, [](auto&, auto& a) { a["direction"] = attr_string("sideways"); });
  EXPECT_THAT(e.what(),
              HasSubstr("direction must be forward, reverse or bidirectional, got 'sideways'"));
  e = prepare_error(s, [](auto&, auto& a) { a["layout"] = attr_int(2); });
  EXPECT_THAT(e.what(), HasSubstr("layout must be 0 or 1"));
  e = prepare_error(s, [](auto&, auto& a) { a["clip"] = attr_float(-1.f); });
  EXPECT_THAT(e.what(), HasSubstr("clip must be positive"));
  e = prepare_error(s, [](auto&, auto& a) { a["linear_before_reset"] = attr_int(3); });
  EXPECT_THAT(e.what(), HasSubstr("linear_before_reset must be 0 or 1"));
  e = prepare_error(base("LSTM"), [](auto&, auto& a) { a["input_forget"] = attr_int(2); });
  EXPECT_THAT(e.what(), HasSubstr("input_forget must be 0 or 1"));
}

TEST(RnnErrors, Activations) {
  R::Spec s = base("LSTM");
  s.acts = {"Sigmoid", "Gelu", "Tanh"};
  Error e = prepare_error(s, [](auto&, auto&) {});
  EXPECT_EQ(e.code(), StatusCode::kUnsupported);
  EXPECT_THAT(e.what(), HasSubstr("unsupported activation 'Gelu'"));
  s.acts = {"Sigmoid", "Tanh"};
  e = prepare_error(s, [](auto&, auto&) {});
  EXPECT_THAT(e.what(), HasSubstr("'activations' has 2 entries, expected 3 (3 per direction)"));
}

TEST(RnnErrors, TypesAndConstantWeights) {
  const R::Spec s = base("RNN");
  Error e = prepare_error(s, [](R::Inputs& in, auto&) {
    in.t[0] = Tensor(DType::kFloat64, {2, 2, 3});
  });
  EXPECT_EQ(e.code(), StatusCode::kUnsupported);
  EXPECT_THAT(e.what(), HasSubstr("float64"));
  e = prepare_error(s, [](R::Inputs& in, auto&) { in.t[0] = random_tensor({2, 3}); });
  EXPECT_THAT(e.what(), HasSubstr("has rank 2"));
  // W and R are packed at plan time, so they must be constants.
  e = prepare_error(s, [](auto&, auto&) {}, {0, 1});
  EXPECT_EQ(e.code(), StatusCode::kNeedsConstant);
  EXPECT_EQ(e.subject(), "input1");
}

}  // namespace
}  // namespace softdpu::testing
