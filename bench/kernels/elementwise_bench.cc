// Batch-1, one-thread benchmarks of the hot elementwise kernels on each ISA path. Shapes from
// real models: 200704 = ResNet-50 stage-1 activation [1, 64, 56, 56]; 98304 = BERT-base hidden
// state [1, 128, 768]; 393216 = its FFN intermediate [1, 128, 3072] (Gelu). "elem/s" is
// elements produced per second. Args: elements (or shape kind), isa (0 scalar, 1 avx2, 2 avx512).
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/thread_pool.h"
#include "ir/graph.h"
#include "runtime/kernel.h"
#include "softdpu/tensor.h"

namespace {

using namespace softdpu;

Tensor random_floats(Shape shape, uint32_t seed) {
  Tensor t(DType::kFloat32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-4.f, 4.f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data_as<float>()[i] = d(rng);
  return t;
}

void run_op(benchmark::State& state, ir::OpType op, const std::vector<Tensor>& in) {
  const Isa isa = static_cast<Isa>(state.range(1));
  if (static_cast<int>(isa) > static_cast<int>(detected_isa())) {
    state.SkipWithError("ISA not supported on this CPU");
    return;
  }
  ScopedIsa scoped(isa);
  ir::Node node;
  node.name = "bench";
  node.op = op;
  std::vector<runtime::InputDesc> descs;
  for (size_t i = 0; i < in.size(); ++i) {
    node.inputs.push_back(static_cast<int>(i));
    descs.push_back({in[i].dtype(), in[i].shape(), nullptr, "in" + std::to_string(i)});
  }
  node.outputs = {100};
  runtime::PrepareContext ctx(node, 17, descs, 1);
  std::unique_ptr<runtime::Kernel> kernel = runtime::prepare_fn(op)(ctx);
  Tensor y(ctx.outputs()[0].dtype, ctx.outputs()[0].shape);
  std::vector<const void*> in_ptrs;
  for (const Tensor& t : in) in_ptrs.push_back(t.data());
  std::vector<void*> out_ptrs = {y.data()};
  ThreadPool pool(1);
  runtime::KernelArgs args{in_ptrs.data(), out_ptrs.data(), nullptr, &pool};
  for (auto _ : state) {
    kernel->run(args);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(isa_name(isa));
  state.counters["elem/s"] = benchmark::Counter(static_cast<double>(y.numel()),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

template <ir::OpType kOp>
void BM_Unary(benchmark::State& state) {
  run_op(state, kOp, {random_floats({state.range(0)}, 1)});
}

// Shape kinds for binary ops: 0 same shape, 1 tensor op scalar, 2 [128, 768] + [768] bias,
// 3 [1, 64, 56, 56] + [64, 1, 1] per-channel.
template <ir::OpType kOp>
void BM_Binary(benchmark::State& state) {
  static const std::vector<std::pair<Shape, Shape>> kShapes = {
      {{1, 128, 768}, {1, 128, 768}},
      {{1, 128, 768}, {}},
      {{1, 128, 768}, {768}},
      {{1, 64, 56, 56}, {64, 1, 1}},
  };
  const auto& [a, b] = kShapes[state.range(0)];
  run_op(state, kOp, {random_floats(a, 1), random_floats(b, 2)});
}

void unary_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"n", "isa"});
  for (int64_t n : {98304, 200704}) {
    for (int isa = 0; isa <= 2; ++isa) b->Args({n, isa});
  }
  b->Unit(benchmark::kMicrosecond);
}

void binary_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"shape", "isa"});
  for (int kind = 0; kind < 4; ++kind) {
    for (int isa = 0; isa <= 2; ++isa) b->Args({kind, isa});
  }
  b->Unit(benchmark::kMicrosecond);
}

BENCHMARK_TEMPLATE(BM_Unary, ir::OpType::kRelu)->Apply(unary_args);
BENCHMARK_TEMPLATE(BM_Unary, ir::OpType::kSigmoid)->Apply(unary_args);
BENCHMARK_TEMPLATE(BM_Unary, ir::OpType::kTanh)->Apply(unary_args);
BENCHMARK_TEMPLATE(BM_Unary, ir::OpType::kExp)->Apply(unary_args);
BENCHMARK_TEMPLATE(BM_Unary, ir::OpType::kErf)->Apply(unary_args);
BENCHMARK_TEMPLATE(BM_Unary, ir::OpType::kGelu)->Apply(unary_args);
BENCHMARK_TEMPLATE(BM_Binary, ir::OpType::kAdd)->Apply(binary_args);
BENCHMARK_TEMPLATE(BM_Binary, ir::OpType::kMul)->Apply(binary_args);
BENCHMARK_TEMPLATE(BM_Binary, ir::OpType::kDiv)->Apply(binary_args);

}  // namespace
