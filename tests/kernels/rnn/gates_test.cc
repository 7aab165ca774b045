// Accuracy of the polynomial activations in every ISA path, against double-precision libm.
#include "kernels/rnn/gates.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/rnn/rnn_reference.h"

namespace softdpu::testing {
namespace {

using kernels::rnn::ActFn;
using kernels::rnn::ActParams;

struct Case {
  ActFn fn;
  const char* name;  // the reference's spelling
  float alpha, beta;
  double rel;  // allowed |err| / max(|ref|, floor)
  double floor;
};

// Sigmoid and tanh are what every LSTM/GRU step spends its epilogue on: held to a few float ulps
// relative even near zero. The others reuse exp/log, or are exact.
const Case kCases[] = {
    // Far below the smallest normal float (x < -83) sigmoid is judged absolutely.
    {ActFn::kSigmoid, "sigmoid", 0, 0, 1e-6, 1e-36},
    {ActFn::kTanh, "tanh", 0, 0, 1e-6, 1e-30},
    {ActFn::kScaledTanh, "scaledtanh", 1.7f, 0.6f, 1e-6, 1e-30},
    // e^x - 1 and log(1 + e^x) lose relative accuracy near their zeros: absolute there.
    {ActFn::kElu, "elu", 0.9f, 0, 1e-6, 1.0},
    {ActFn::kSoftplus, "softplus", 0, 0, 1e-6, 1.0},
    {ActFn::kSoftsign, "softsign", 0, 0, 1e-6, 1e-30},
    {ActFn::kRelu, "relu", 0, 0, 0, 1e-30},
    {ActFn::kLeakyRelu, "leakyrelu", 0.07f, 0, 2e-7, 1e-30},
    // alpha*x + beta cancels near its zero in any float evaluation: absolute there.
    {ActFn::kHardSigmoid, "hardsigmoid", 0.2f, 0.5f, 2e-7, 1.0},
    {ActFn::kAffine, "affine", 1.3f, -0.2f, 2e-7, 1.0},
    {ActFn::kThresholdedRelu, "thresholdedrelu", 0.5f, 0, 0, 1e-30},
};

std::vector<float> sweep() {
  std::vector<float> x;
  for (float v = -30.f; v <= 30.f; v += 0.00731f) x.push_back(v);
  for (float v :
       {0.f,  -0.f,  1e-30f, -1e-30f, 1e-7f, -1e-7f, 0.625f, -0.625f, 0.6249999f, 9.f,  -9.f,
        20.f, -20.f, 87.f,   -87.f,   88.f,  -88.f,  100.f,  -100.f,  1e4f,       -1e4f})
    x.push_back(v);
  for (float v = 1e-6f; v < 1.f; v *= 1.37f) x.push_back(v), x.push_back(-v);
  return x;
}

TEST(RnnGates, ActivationAccuracyEveryIsa) {
  const std::vector<float> x = sweep();
  std::vector<float> y(x.size());
  for (Isa isa : supported_isas()) {
    const kernels::rnn::GateKernels& k = kernels::rnn::gate_kernels(isa);
    for (const Case& c : kCases) {
      const rnn_ref::Act ref{c.name, c.alpha, c.beta};
      k.activation(ActParams{c.fn, c.alpha, c.beta}, x.data(), y.data(),
                   static_cast<int64_t>(x.size()));
      double worst = 0;
      float worst_x = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        const double r = ref(x[i]);
        const double e = std::fabs(y[i] - r) / std::max(std::fabs(r), c.floor);
        if (!(e <= worst)) worst = e, worst_x = x[i];
      }
      EXPECT_LE(worst, std::max(c.rel, 1e-30))
          << k.name << " " << c.name << " worst at x=" << worst_x;
    }
  }
}

// The tails (n not a multiple of the vector width) must neither read nor write out of range.
TEST(RnnGates, TailsTouchOnlyTheirElements) {
  for (Isa isa : supported_isas()) {
    const kernels::rnn::GateKernels& k = kernels::rnn::gate_kernels(isa);
    for (int64_t n = 0; n <= 33; ++n) {
      std::vector<float> x(n + 16, 0.5f), y(n + 16, -7.f);
      k.activation(ActParams{ActFn::kTanh, 0, 0}, x.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i)
        EXPECT_NEAR(y[i], std::tanh(0.5), 1e-6) << k.name << " n=" << n;
      for (int64_t i = n; i < n + 16; ++i)
        EXPECT_EQ(y[i], -7.f) << k.name << " n=" << n << " i=" << i;
    }
  }
}

}  // namespace
}  // namespace softdpu::testing
