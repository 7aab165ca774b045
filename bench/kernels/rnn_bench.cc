// Batch-1 LSTM and GRU layers (DeepBench-style: input_size = hidden_size, 25 time steps), the
// BrainWave use-case. The whole op runs per iteration (input projection, 25 recurrent products
// and gate epilogues); "step" reports the time per time step, "weights_B/s" the recurrent weight
// bytes streamed per second (the figure a memory-bound batch-1 step is limited by).
// Args: hidden_size, threads. BM_LstmGates times the fused gate epilogue of one step alone, per
// ISA path, to show how little of a step is not the recurrent product. BM_LstmNarrow /
// BM_GruNarrow run the same layer with narrow weights (docs/precision.md), each format with fp32
// activations (the decoded weights times fp32 h) and with native ones (h quantised to MXINT8
// blocks once per product, then integer dot products); "weights_B/s" then counts the packed bytes.
#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/thread_pool.h"
#include "formats/format.h"
#include "ir/graph.h"
#include "kernels/rnn/gates.h"
#include "runtime/kernel.h"
#include "runtime/precision.h"
#include "softdpu/tensor.h"

namespace {

using namespace softdpu;

constexpr int64_t kSeq = 25;

Tensor random_tensor(Shape shape, float scale, uint32_t seed) {
  Tensor t(DType::kFloat32, std::move(shape));
  uint32_t s = seed * 2654435761u + 1;
  for (int64_t i = 0; i < t.numel(); ++i) {
    s = s * 1664525u + 1013904223u;
    t.data_as<float>()[i] = scale * (static_cast<float>(s >> 8) / 8388608.0f - 1.0f);
  }
  return t;
}

// Weight format and activations of the narrow benchmarks, by index (arg "format").
struct NarrowCase {
  const char* format;
  const char* activations;
};
constexpr NarrowCase kNarrow[] = {{"fp32", "fp32"},
                                  {"mxint8", "fp32"},
                                  {"mxint8", "native"},
                                  {"mxfp4_e2m1", "fp32"},
                                  {"mxfp4_e2m1", "native"}};

void run_layer(benchmark::State& state, ir::OpType op, int gates, const NarrowCase& nc = {}) {
  const int64_t h = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  ir::Node node;
  if (nc.format) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kString;
    a.s = nc.format;
    node.attrs[runtime::kWeightFormatAttr] = a;
    a.s = nc.activations;
    node.attrs[runtime::kActivationsAttr] = a;
    state.SetLabel(std::string(nc.format) + "/" + nc.activations);
  }
  node.name = "bench";
  node.op = op;
  ir::Attribute hs;
  hs.kind = ir::Attribute::Kind::kInt;
  hs.i = h;
  node.attrs["hidden_size"] = hs;
  // X, W, R, B: the weights are plan-time constants, as initializers are in a deployed model.
  std::vector<Tensor> in = {
      random_tensor({kSeq, 1, h}, 1.f, 1), random_tensor({1, gates * h, h}, 0.05f, 2),
      random_tensor({1, gates * h, h}, 0.05f, 3), random_tensor({1, 2 * gates * h}, 0.1f, 4)};
  std::vector<runtime::InputDesc> descs;
  for (size_t i = 0; i < in.size(); ++i) {
    node.inputs.push_back(static_cast<int>(i));
    descs.push_back({in[i].dtype(), in[i].shape(), i == 0 ? nullptr : in[i].data(), "in"});
  }
  node.outputs = {100, 101};  // Y, Y_h
  runtime::PrepareContext ctx(node, 14, descs, 2);
  std::unique_ptr<runtime::Kernel> kernel = runtime::prepare_fn(op)(ctx);
  Tensor y(DType::kFloat32, ctx.outputs()[0].shape), yh(DType::kFloat32, ctx.outputs()[1].shape);
  Tensor scratch(DType::kUInt8, {static_cast<int64_t>(ctx.scratch_bytes())});
  std::vector<const void*> in_ptrs;
  for (const Tensor& t : in) in_ptrs.push_back(t.data());
  std::vector<void*> out_ptrs = {y.data(), yh.data()};
  ThreadPool pool(threads);
  runtime::KernelArgs args{in_ptrs.data(), out_ptrs.data(), scratch.data(), &pool};
  for (auto _ : state) {
    kernel->run(args);
    benchmark::DoNotOptimize(yh.data());
    benchmark::ClobberMemory();
  }
  state.counters["step"] = benchmark::Counter(
      kSeq, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  const double row_bytes =
      nc.format ? double(formats::storage_row_bytes(formats::parse_format(nc.format), h))
                : double(h * sizeof(float));
  state.counters["weights_B/s"] = benchmark::Counter(double(kSeq) * gates * h * row_bytes,
                                                     benchmark::Counter::kIsIterationInvariantRate);
}

void BM_LstmNarrow(benchmark::State& state) {
  run_layer(state, ir::OpType::kLSTM, 4, kNarrow[state.range(2)]);
}
void BM_GruNarrow(benchmark::State& state) {
  run_layer(state, ir::OpType::kGRU, 3, kNarrow[state.range(2)]);
}
BENCHMARK(BM_LstmNarrow)
    ->ArgNames({"hidden", "threads", "format"})
    ->ArgsProduct({{1024}, {1, 2}, {0, 1, 2, 3, 4}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GruNarrow)
    ->ArgNames({"hidden", "threads", "format"})
    ->ArgsProduct({{1024}, {1, 2}, {0, 1, 2, 3, 4}})
    ->Unit(benchmark::kMicrosecond);

void BM_LstmBatch1(benchmark::State& state) {
  run_layer(state, ir::OpType::kLSTM, 4);
}
void BM_GruBatch1(benchmark::State& state) {
  run_layer(state, ir::OpType::kGRU, 3);
}

// One LSTM step's epilogue (sigmoid x3, tanh x2, state update) over `hidden` units.
void BM_LstmGates(benchmark::State& state) {
  const int64_t h = state.range(0);
  ScopedIsa isa(static_cast<Isa>(state.range(1)));
  const kernels::rnn::GateKernels& k = kernels::rnn::gate_kernels(active_isa());
  state.SetLabel(k.name);
  Tensor xp = random_tensor({4 * h}, 2.f, 5), rp = random_tensor({4 * h}, 2.f, 6);
  Tensor c = random_tensor({h}, 1.f, 7), hs = random_tensor({h}, 1.f, 8), y(DType::kFloat32, {h});
  const kernels::rnn::ActParams sig{kernels::rnn::ActFn::kSigmoid, 0, 0};
  const kernels::rnn::ActParams th{kernels::rnn::ActFn::kTanh, 0, 0};
  const kernels::rnn::LstmParams p{sig, th, th, INFINITY, false};
  const kernels::rnn::LstmRow row{
      xp.data_as<float>(), rp.data_as<float>(), nullptr, c.data_as<float>(),
      hs.data_as<float>(), y.data_as<float>(),  h};
  for (auto _ : state) {
    k.lstm(p, row, 0, h);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_LstmGates)
    ->ArgNames({"hidden", "isa"})
    ->Args({1024, 0})
    ->Args({1024, 1})
    ->Args({1024, 2});

BENCHMARK(BM_LstmBatch1)
    ->ArgNames({"hidden", "threads"})
    ->Args({256, 1})
    ->Args({512, 1})
    ->Args({1024, 1})
    ->Args({1024, 2})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GruBatch1)
    ->ArgNames({"hidden", "threads"})
    ->Args({256, 1})
    ->Args({512, 1})
    ->Args({1024, 1})
    ->Args({1024, 2})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
