// Simple RNN against the naive reference, over every ISA path this machine has, 1 and 2 threads.
#include <gtest/gtest.h>

#include "kernels/rnn/rnn_reference.h"

namespace softdpu::testing {
namespace {

namespace R = rnn_ref;

using R::expect_matches;
using R::kTol;

R::Spec full_spec() {
  R::Spec s;
  s.op = "RNN";
  s.seq = 5, s.batch = 3, s.input = 4, s.hidden = 17;
  s.seq_lens = true;
  s.lens = {5, 2, 3};
  s.initial_h = true;
  return s;
}

TEST(RnnSimple, EveryDirectionLayoutAndThreadCount) {
  uint32_t seed = 200;
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

TEST(RnnSimple, EveryActivationWithClip) {
  uint32_t seed = 220;
  for (const char* n : {"Sigmoid", "Tanh", "Relu", "HardSigmoid", "LeakyRelu", "Affine",
                        "ThresholdedRelu", "ScaledTanh", "Elu", "Softsign", "Softplus"}) {
    R::Spec s = full_spec();
    s.direction = "bidirectional";
    s.clip = 1.5f;
    s.acts = {n, n};
    s.alphas = {0.5f, 0.8f};
    s.betas = {0.1f, 0.6f};
    expect_matches(s, seed++, 1);
  }
}

TEST(RnnSimple, SchemaDefaultTwoActivationsForOneDirection) {
  R::Spec s = full_spec();
  s.acts = {"Relu", "Tanh"};  // ONNX's default is {Tanh, Tanh}: only the first applies
  const R::Inputs in = R::make_inputs(s, 240);
  R::Spec one = s;
  one.acts = {"Relu"};
  const R::Outputs ref = R::reference(one, in);
  const std::vector<Tensor> out = R::run(s, in, {true, true});
  EXPECT_LE(R::max_scaled_err(out[0], ref.y), kTol);
}

TEST(RnnSimple, NoBiasAndRunTimeBias) {
  R::Spec s = full_spec();
  s.bias = false;
  expect_matches(s, 250, 1);
  s.bias = true;
  s.direction = "bidirectional";
  expect_matches(s, 251, 2, {0, 3, 4, 5});
}

}  // namespace
}  // namespace softdpu::testing
