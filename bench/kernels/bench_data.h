// Inputs the kernel benchmarks share: deterministic normally distributed weights and activations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace softdpu::bench {

inline std::vector<float> normal_vec(size_t n, uint32_t seed, float sigma) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

}  // namespace softdpu::bench
