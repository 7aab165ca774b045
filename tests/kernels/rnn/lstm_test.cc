// LSTM against the naive reference, over every ISA path this machine has, 1 and 2 threads.
#include <gtest/gtest.h>

#include "kernels/rnn/rnn_reference.h"

namespace softdpu::testing {
namespace {

namespace R = rnn_ref;

using R::expect_matches;
using R::kTol;

R::Spec full_spec() {
  R::Spec s;
  s.op = "LSTM";
  s.seq = 4, s.batch = 3, s.input = 5, s.hidden = 19;  // 19: a full vector plus a tail
  s.seq_lens = true;
  s.lens = {4, 1, 3};
  s.initial_h = s.initial_c = s.peepholes = true;
  return s;
}

TEST(RnnLstm, EveryDirectionLayoutAndThreadCount) {
  uint32_t seed = 10;
  for (const char* dir : {"forward", "reverse", "bidirectional"}) {
    for (int layout : {0, 1}) {
      for (int threads : {1, 2}) {
        R::Spec s = full_spec();
        s.direction = dir;
        s.layout = layout;
        expect_matches(s, seed++, threads);
      }
    }
  }
}

TEST(RnnLstm, DefaultsWithoutOptionalInputs) {
  R::Spec s;
  s.op = "LSTM";
  s.bias = false;
  for (const char* dir : {"forward", "bidirectional"}) {
    s.direction = dir;
    expect_matches(s, 3, 1);
  }
}

TEST(RnnLstm, EmptyAndFullSequencesMixed) {
  R::Spec s = full_spec();
  s.direction = "bidirectional";
  s.lens = {0, 4, 2};
  expect_matches(s, 21, 1);
}

TEST(RnnLstm, ClipInputForgetAndPerDirectionActivations) {
  R::Spec s = full_spec();
  s.direction = "bidirectional";
  s.clip = 0.6f;
  s.input_forget = 1;
  s.acts = {"HardSigmoid", "LeakyRelu", "Softsign", "sigmoid", "ScaledTanh", "Affine"};
  s.alphas = {0.3f, 0.05f, 1.5f, 0.8f};
  s.betas = {0.45f, 0.7f, 0.1f};
  expect_matches(s, 31, 1);
  expect_matches(s, 32, 2);
}

TEST(RnnLstm, EveryActivationInEveryPosition) {
  const char* names[] = {
      "Sigmoid",         "Tanh",       "Relu", "HardSigmoid", "LeakyRelu", "Affine",
      "ThresholdedRelu", "ScaledTanh", "Elu",  "Softsign",    "Softplus"};
  uint32_t seed = 40;
  for (const char* n : names) {
    R::Spec s = full_spec();
    s.seq = 3, s.hidden = 9;
    s.lens = {3, 1, 2};
    s.acts = {"Sigmoid", n, n};  // g and h
    s.alphas = {0.4f, 0.6f};
    s.betas = {0.2f, 0.3f};
    expect_matches(s, seed++, 1);
    s.acts = {n, "Tanh", "Tanh"};  // f (all three sigmoid-like gates)
    expect_matches(s, seed++, 1);
  }
}

TEST(RnnLstm, ActivationDefaultsAndOneListForBothDirections) {
  R::Spec s = full_spec();
  s.direction = "bidirectional";
  s.acts = {"hardsigmoid", "ELU", "ThresholdedRelu"};  // no alpha/beta: operator defaults
  expect_matches(s, 50, 1);
}

TEST(RnnLstm, WideLayerSplitsUnitsAcrossThreads) {
  R::Spec s;
  s.op = "LSTM";
  s.seq = 2, s.batch = 1, s.input = 3, s.hidden = 600;  // several 512-unit chunks and a tail
  s.initial_h = s.initial_c = s.peepholes = true;
  expect_matches(s, 60, 2);
}

TEST(RnnLstm, RunTimeBiasPeepholesAndConstantLengths) {
  R::Spec s = full_spec();
  s.direction = "bidirectional";
  s.layout = 1;
  // B and P fed at run time, sequence_lens known at plan time.
  expect_matches(s, 70, 1, {0, 3, 5, 6, 7});
  expect_matches(s, 71, 2, {0, 3, 5, 6, 7});
}

TEST(RnnLstm, OmittedOutputsKeepStateInScratch) {
  R::Spec s = full_spec();
  s.direction = "bidirectional";
  const R::Inputs in = R::make_inputs(s, 80);
  const R::Outputs ref = R::reference(s, in);
  for (Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    std::vector<Tensor> only_h = R::run(s, in, {false, true});  // node has Y and Y_h slots only
    EXPECT_TRUE(only_h[0].empty());
    EXPECT_LE(R::max_scaled_err(only_h[1], ref.yh), kTol) << isa_name(isa);
    std::vector<Tensor> only_y = R::run(s, in, {true, false, false});
    EXPECT_LE(R::max_scaled_err(only_y[0], ref.y), kTol) << isa_name(isa);
    std::vector<Tensor> only_c = R::run(s, in, {false, false, true});
    EXPECT_LE(R::max_scaled_err(only_c[2], ref.yc), kTol) << isa_name(isa);
  }
}

// A server carries state between requests: running 6 steps at once must equal 3 + 3 with Y_h and
// Y_c fed back as initial_h and initial_c.
TEST(RnnLstm, StateCarriesAcrossCalls) {
  R::Spec whole;
  whole.op = "LSTM";
  whole.seq = 6, whole.batch = 1, whole.input = 4, whole.hidden = 21;
  whole.initial_h = whole.initial_c = true;
  const R::Inputs in = R::make_inputs(whole, 90);
  const std::vector<Tensor> all = R::run(whole, in, {true, true, true});

  R::Spec half = whole;
  half.seq = 3;
  R::Inputs first = in, second = in;
  const int64_t step = whole.batch * whole.input;
  first.t[0] = make_tensor<float>(
      {3, 1, 4},
      std::vector<float>(in.t[0]->data_as<float>(), in.t[0]->data_as<float>() + 3 * step));
  second.t[0] =
      make_tensor<float>({3, 1, 4}, std::vector<float>(in.t[0]->data_as<float>() + 3 * step,
                                                       in.t[0]->data_as<float>() + 6 * step));
  const std::vector<Tensor> a = R::run(half, first, {false, true, true});
  second.t[5] = a[1];
  second.t[6] = a[2];
  const std::vector<Tensor> b = R::run(half, second, {false, true, true});
  // Not bit-exact: the input projection may block 3 rows differently from 6.
  EXPECT_LE(R::max_scaled_err(b[1], all[1]), 1e-6f);
  EXPECT_LE(R::max_scaled_err(b[2], all[2]), 1e-6f);
}

// The same, with the state never leaving the caller's buffers: initial_h is Y_h, initial_c is Y_c.
TEST(RnnLstm, StateCarriedInPlace) {
  R::Spec s = full_spec();
  s.direction = "bidirectional";
  s.layout = 1;
  const R::Inputs in = R::make_inputs(s, 93);
  const R::Outputs ref = R::reference(s, in);
  for (Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    const std::vector<Tensor> out =
        R::run(s, in, {true, true, true}, 1, R::kRuntimeInputs, 1, /*alias_state=*/true);
    EXPECT_LE(R::max_scaled_err(out[0], ref.y), kTol) << isa_name(isa);
    EXPECT_LE(R::max_scaled_err(out[1], ref.yh), kTol) << isa_name(isa);
    EXPECT_LE(R::max_scaled_err(out[2], ref.yc), kTol) << isa_name(isa);
  }
}

TEST(RnnLstm, RepeatedRunsGiveTheSameResult) {
  R::Spec s = full_spec();
  s.direction = "bidirectional";
  const R::Inputs in = R::make_inputs(s, 95);
  const std::vector<Tensor> once = R::run(s, in, {true, true, true});
  const std::vector<Tensor> thrice = R::run(s, in, {true, true, true}, 2, R::kRuntimeInputs, 3);
  for (int i = 0; i < 3; ++i) EXPECT_LE(R::max_scaled_err(thrice[i], once[i]), 1e-6f) << i;
}

}  // namespace
}  // namespace softdpu::testing
