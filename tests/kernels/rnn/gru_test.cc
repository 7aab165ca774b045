// GRU against the naive reference: both linear_before_reset modes, every direction and layout,
// over every ISA path this machine has, 1 and 2 threads.
#include <gtest/gtest.h>

#include "kernels/rnn/rnn_reference.h"

namespace softdpu::testing {
namespace {

namespace R = rnn_ref;

using R::expect_matches;
using R::kTol;

R::Spec full_spec() {
  R::Spec s;
  s.op = "GRU";
  s.seq = 4, s.batch = 3, s.input = 6, s.hidden = 21;
  s.seq_lens = true;
  s.lens = {3, 4, 1};
  s.initial_h = true;
  return s;
}

TEST(RnnGru, EveryDirectionLayoutResetModeAndThreadCount) {
  uint32_t seed = 100;
  for (const char* dir : {"forward", "reverse", "bidirectional"}) {
    for (int layout : {0, 1}) {
      for (int lbr : {0, 1}) {
        for (int threads : {1, 2}) {
          R::Spec s = full_spec();
          s.direction = dir;
          s.layout = layout;
          s.linear_before_reset = lbr;
          expect_matches(s, seed++, threads);
        }
      }
    }
  }
}

TEST(RnnGru, DefaultsWithoutOptionalInputs) {
  R::Spec s;
  s.op = "GRU";
  s.bias = false;
  for (int lbr : {0, 1}) {
    s.linear_before_reset = lbr;
    expect_matches(s, 130 + lbr, 1);
  }
}

TEST(RnnGru, EmptySequenceClipAndActivations) {
  for (int lbr : {0, 1}) {
    R::Spec s = full_spec();
    s.direction = "bidirectional";
    s.lens = {0, 2, 4};
    s.clip = 0.5f;
    s.linear_before_reset = lbr;
    s.acts = {"HardSigmoid", "Elu", "Sigmoid", "Softplus"};
    s.alphas = {0.25f, 0.9f};
    s.betas = {0.55f};
    expect_matches(s, 140 + lbr, 1);
  }
}

TEST(RnnGru, EveryActivation) {
  uint32_t seed = 150;
  for (const char* n : {"Sigmoid", "Tanh", "Relu", "HardSigmoid", "LeakyRelu", "Affine",
                        "ThresholdedRelu", "ScaledTanh", "Elu", "Softsign", "Softplus"}) {
    for (int lbr : {0, 1}) {
      R::Spec s = full_spec();
      s.seq = 3, s.hidden = 10;
      s.lens = {3, 1, 2};
      s.linear_before_reset = lbr;
      s.acts = {n, n};
      s.alphas = {0.3f, 0.7f};
      s.betas = {0.2f, 0.4f};
      expect_matches(s, seed++, 1);
    }
  }
}

TEST(RnnGru, RunTimeBiasBothResetModes) {
  for (int lbr : {0, 1}) {
    R::Spec s = full_spec();
    s.direction = "bidirectional";
    s.linear_before_reset = lbr;
    expect_matches(s, 170 + lbr, 1, {0, 3, 4, 5});
    expect_matches(s, 172 + lbr, 2, {0, 3, 5});  // sequence_lens constant
  }
}

TEST(RnnGru, WideLayerSplitsUnitsAcrossThreads) {
  for (int lbr : {0, 1}) {
    R::Spec s;
    s.op = "GRU";
    s.seq = 2, s.batch = 2, s.input = 3, s.hidden = 530;
    s.linear_before_reset = lbr;
    s.initial_h = true;
    expect_matches(s, 180 + lbr, 2);
  }
}

TEST(RnnGru, OnlyYh) {
  R::Spec s = full_spec();
  const R::Inputs in = R::make_inputs(s, 190);
  const R::Outputs ref = R::reference(s, in);
  const std::vector<Tensor> out = R::run(s, in, {false, true});
  EXPECT_LE(R::max_scaled_err(out[1], ref.yh), kTol);
}

}  // namespace
}  // namespace softdpu::testing
