// Direct depthwise convolution for Conv with group == input channels.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/activation.h"
#include "kernels/linalg/conv_common.h"

namespace softdpu::kernels {

// x: [batch, channels, in...]; w: [channels * multiplier, 1, k...]; bias: null or one per output
// channel; y: [batch, channels * multiplier, out...]. Output channel oc reads input channel
// oc / multiplier. Planes are split across pool threads.
void conv_depthwise(const float* x, const float* w, const float* bias, const Window& win,
                    int64_t batch, int64_t channels, int64_t multiplier, const Activation& act,
                    float* y, ThreadPool* pool);

}  // namespace softdpu::kernels
