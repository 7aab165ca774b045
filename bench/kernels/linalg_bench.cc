// Batch-1, one-thread benchmarks of the linalg kernels. Counters report the bytes of weights
// streamed per second ("weights_B/s"), the figure that matters for a memory-bound batch-1 product,
// and FLOP/s for the compute-bound shapes.
//
// Shapes: square matrix-vector products 256..4096 (weights from L2-resident to DRAM-resident),
// the layers of the bundled Fashion-MNIST models (models/train.py): MLP 784-256-128-10, CNN
// Conv3x3(1->32, pad 1) on 28x28, Conv3x3(32->64, pad 1) on 14x14, Linear 3136x128 and 128x10,
// and the convolutions of the peers' resnet_cnn (kConvShapes).
//
// When oneDNN is found (SOFTDPU_HAVE_DNNL), the same shapes run through its f32 inner product
// and convolution (NCHW in and out, as softdpu's tensors are; weights in the layout oneDNN
// prefers, reordered once outside the timing). Run with OMP_NUM_THREADS=1 for a 1-thread
// comparison: oneDNN threads with OpenMP.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/cpu.h"
#include "core/thread_pool.h"
#include "kernels/linalg/gemm.h"
#include "runtime/kernel.h"

#ifdef SOFTDPU_HAVE_DNNL
#include <dnnl.hpp>
#endif

namespace {

using softdpu::DType;
using softdpu::Shape;
using softdpu::Tensor;
using softdpu::ThreadPool;
using namespace softdpu::kernels;

std::vector<float> rand_vec(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

void set_counters(benchmark::State& state, double weight_bytes, double flops) {
  state.counters["weights_B/s"] =
      benchmark::Counter(weight_bytes, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["FLOP/s"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

// y[M, N] = x[M, K] * W[K, N] + bias: one dense layer. tile_prefetch: GemmEpilogue::tile_prefetch.
// alternate: flip GemmEpilogue::reverse_panels every iteration, as an RNN's per-step products do.
void run_gemm(benchmark::State& state, int64_t m, int64_t k, int64_t n, bool tile_prefetch = true,
              bool alternate = false) {
  std::vector<float> w = rand_vec(k * n, 1), x = rand_vec(m * k, 2), bias = rand_vec(n, 3);
  std::vector<float> y(m * n);
  PackedB packed = PackedB::pack(w.data(), k, n, n, false);
  ThreadPool pool(1);
  GemmEpilogue ep;
  ep.bias = bias.data();
  ep.tile_prefetch = tile_prefetch;
  for (auto _ : state) {
    if (alternate) ep.reverse_panels = !ep.reverse_panels;
    gemm_packed(m, x.data(), k, packed, y.data(), n, ep, &pool);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, double(k * n) * sizeof(float), 2.0 * m * k * n);
}

void BM_Gemv(benchmark::State& state) {
  run_gemm(state, 1, state.range(0), state.range(0));
}
BENCHMARK(BM_Gemv)->Arg(256)->Arg(512)->Arg(1024)->Arg(2048)->Arg(4096);

// The Fashion-MNIST dense layers at batch 1, then the per-step recurrent products H_{t-1} · Rᵀ
// of the peers' lstm_h512, gru_h1024 and lstm_h1024 (4, 12 and 16 MiB): K, N.
void BM_Dense(benchmark::State& state) {
  run_gemm(state, 1, state.range(0), state.range(1));
}
BENCHMARK(BM_Dense)
    ->Args({784, 256})
    ->Args({256, 128})
    ->Args({128, 10})
    ->Args({3136, 128})
    ->Args({512, 2048})
    ->Args({1024, 3072})
    ->Args({1024, 4096});

// The same products in the order the RNN steps run them: the panels last to first on every other
// call (GemmEpilogue::reverse_panels), so a call starts on what the previous one left in L2.
void BM_DenseAlternating(benchmark::State& state) {
  run_gemm(state, 1, state.range(0), state.range(1), true, /*alternate=*/true);
}
BENCHMARK(BM_DenseAlternating)
    ->Args({512, 2048})
    ->Args({512, 1536})
    ->Args({1024, 3072})
    ->Args({1024, 4096});

// m > 1: batched RNN inputs (28 time steps x 28 features -> 4 x 128 gates), square blocks, and
// the input projections of the peers' RNNs (bench/peers): seq x input x gates*hidden for
// lstm_h512, gru_h1024, lstm_h1024 and nlp_lstm's two layers.
void gemm_shapes(benchmark::internal::Benchmark* b) {
  b->Args({28, 28, 512})->Args({64, 288, 196})->Args({256, 256, 256});
  b->Args({25, 512, 2048})->Args({25, 1024, 3072})->Args({25, 1024, 4096});
  b->Args({32, 256, 4096})->Args({32, 1024, 4096});
}
void BM_Gemm(benchmark::State& state) {
  run_gemm(state, state.range(0), state.range(1), state.range(2));
}
BENCHMARK(BM_Gemm)->Apply(gemm_shapes);

// The same without the AVX-512 tile loop's next-panel-pair prefetch (gemm_avx512.cc): the A/B
// of that prefetch in one binary (run with --benchmark_enable_random_interleaving=true).
void BM_GemmNoPrefetch(benchmark::State& state) {
  run_gemm(state, state.range(0), state.range(1), state.range(2), /*tile_prefetch=*/false);
}
BENCHMARK(BM_GemmNoPrefetch)->Apply(gemm_shapes);

// One op through its real prepare_<Op> and kernel (what the executor runs).
struct OpRunner {
  softdpu::ir::Node node;
  std::vector<Tensor> inputs;
  Tensor output;
  std::unique_ptr<softdpu::runtime::Kernel> kernel;
  std::vector<float> scratch;

  void prepare(softdpu::ir::OpType op, std::vector<bool> constant, int threads = 1) {
    node.name = "bench";
    node.op = op;
    std::vector<softdpu::runtime::InputDesc> descs;
    for (size_t i = 0; i < inputs.size(); ++i) {
      node.inputs.push_back(static_cast<int>(i));
      descs.push_back({inputs[i].dtype(), inputs[i].shape(),
                       constant[i] ? inputs[i].data() : nullptr, "in" + std::to_string(i)});
    }
    node.outputs = {100};
    softdpu::runtime::PrepareContext ctx(node, 17, descs, 1);
    ctx.set_threads(threads);
    kernel = softdpu::runtime::prepare_fn(op)(ctx);
    output = Tensor(ctx.outputs()[0].dtype, ctx.outputs()[0].shape);
    scratch.resize(ctx.scratch_bytes() / sizeof(float) + 16);
  }
  void run(ThreadPool* pool) {
    std::vector<const void*> in;
    for (const Tensor& t : inputs) in.push_back(t.data());
    void* out[] = {output.data()};
    void* s = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) &
                                      ~uintptr_t{63});
    kernel->run({in.data(), out, s, pool});
  }
};

Tensor rand_tensor(Shape shape, uint32_t seed) {
  Tensor t(DType::kFloat32, shape);
  std::vector<float> v = rand_vec(t.numel(), seed);
  std::memcpy(t.data(), v.data(), v.size() * sizeof(float));
  return t;
}

softdpu::ir::Attribute ints_attr(std::vector<int64_t> v) {
  softdpu::ir::Attribute a;
  a.kind = softdpu::ir::Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}

softdpu::ir::Attribute string_attr(const std::string& s) {
  softdpu::ir::Attribute a;
  a.kind = softdpu::ir::Attribute::Kind::kString;
  a.s = s;
  return a;
}

// Conv KxK pad K/2 (+bias, fused ReLU) on [1, C, H, W] -> [1, M, H/S, W/S]. Arguments: C, M,
// H = W, stride, kernel, path (0: the planner's choice, Winograd or the direct conv where they
// apply; 1: im2col + packed GEMM; 2: the direct conv, the path before Winograd).
void BM_Conv(benchmark::State& state) {
  const int64_t c = state.range(0), m = state.range(1), hw = state.range(2);
  const int64_t stride = state.range(3), k = state.range(4);
  OpRunner r;
  r.inputs = {rand_tensor({1, c, hw, hw}, 1), rand_tensor({m, c, k, k}, 2), rand_tensor({m}, 3)};
  r.node.attrs["pads"] = ints_attr({k / 2, k / 2, k / 2, k / 2});
  r.node.attrs["strides"] = ints_attr({stride, stride});
  r.node.attrs["_activation"] = string_attr("Relu");
  if (state.range(5) == 1) r.node.attrs["_conv_algo"] = string_attr("im2col");
  if (state.range(5) == 2) r.node.attrs["_conv_algo"] = string_attr("direct");
  r.prepare(softdpu::ir::OpType::kConv, {false, true, true}, static_cast<int>(state.range(6)));
  ThreadPool pool(static_cast<int>(state.range(6)));
  for (auto _ : state) {
    r.run(&pool);
    benchmark::ClobberMemory();
  }
  const int64_t out = (hw + stride - 1) / stride;
  set_counters(state, double(m * c * k * k) * sizeof(float), 2.0 * m * c * k * k * out * out);
}
// The fashion_cnn convs, then resnet_cnn's (bench/peers/make_models.py): stem, 3x3 s1/s2 and the
// 1x1 s2 shortcut. {C, M, H = W, stride, kernel}. Arguments: those, the path (0: what the planner
// picks, 1: im2col, 2: direct), the threads.
constexpr int64_t kConvShapes[][5] = {{1, 32, 28, 1, 3},  {32, 64, 14, 1, 3},  {64, 64, 28, 1, 3},
                                      {3, 32, 64, 1, 3},  {32, 32, 64, 1, 3},  {32, 64, 64, 2, 3},
                                      {64, 64, 32, 1, 3}, {64, 128, 32, 2, 3}, {128, 128, 16, 1, 3},
                                      {32, 64, 64, 2, 1}};
void conv_shapes(benchmark::internal::Benchmark* b, int64_t paths, int64_t threads = 1) {
  for (int64_t path = 0; path < paths; ++path)
    for (const auto& s : kConvShapes) b->Args({s[0], s[1], s[2], s[3], s[4], path, threads});
}
BENCHMARK(BM_Conv)->Apply([](benchmark::internal::Benchmark* b) { conv_shapes(b, 3); });
// Two threads, the planner's path and the direct one, timed in wall-clock time (CPU time would
// count one thread).
BENCHMARK(BM_Conv)
    ->Apply([](benchmark::internal::Benchmark* b) { conv_shapes(b, 3, 2); })
    ->UseRealTime();

// Depthwise 3x3 pad 1 (MobileNet-style) on [1, C, H, W], stride 1 or 2.
void BM_ConvDepthwise3x3(benchmark::State& state) {
  const int64_t c = state.range(0), hw = state.range(1), stride = state.range(2);
  OpRunner r;
  r.inputs = {rand_tensor({1, c, hw, hw}, 1), rand_tensor({c, 1, 3, 3}, 2), rand_tensor({c}, 3)};
  r.node.attrs["pads"] = ints_attr({1, 1, 1, 1});
  r.node.attrs["strides"] = ints_attr({stride, stride});
  softdpu::ir::Attribute group;
  group.kind = softdpu::ir::Attribute::Kind::kInt;
  group.i = c;
  r.node.attrs["group"] = group;
  r.prepare(softdpu::ir::OpType::kConv, {false, true, true});
  ThreadPool pool(1);
  for (auto _ : state) {
    r.run(&pool);
    benchmark::ClobberMemory();
  }
  const int64_t out = (hw + stride - 1) / stride;
  set_counters(state, double(c * 9) * sizeof(float), 2.0 * c * 9 * out * out);
}
BENCHMARK(BM_ConvDepthwise3x3)->Args({32, 112, 1})->Args({144, 56, 2})->Args({512, 14, 1});

#ifdef SOFTDPU_HAVE_DNNL
using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// oneDNN f32 inner product, batch 1: weights [N, K] reordered to its preferred layout.
void BM_DnnlInnerProduct(benchmark::State& state) {
  const int64_t k = state.range(0), n = state.range(1);
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  memory::desc src_md({1, k}, dt::f32, tag::nc), dst_md({1, n}, dt::f32, tag::nc);
  memory::desc w_any({n, k}, dt::f32, tag::any), b_md({n}, dt::f32, tag::x);
  dnnl::inner_product_forward::desc d(dnnl::prop_kind::forward_inference, src_md, w_any, b_md,
                                      dst_md);
  dnnl::inner_product_forward::primitive_desc pd(d, eng);
  std::vector<float> w = rand_vec(k * n, 1), x = rand_vec(k, 2), b = rand_vec(n, 3), y(n);
  memory w_user({{n, k}, dt::f32, tag::oi}, eng, w.data());
  memory w_mem(pd.weights_desc(), eng);
  dnnl::reorder(w_user, w_mem).execute(s, w_user, w_mem);
  memory src(src_md, eng, x.data()), bias(b_md, eng, b.data()), dst(dst_md, eng, y.data());
  dnnl::inner_product_forward prim(pd);
  for (auto _ : state) {
    prim.execute(s, {{DNNL_ARG_SRC, src},
                     {DNNL_ARG_WEIGHTS, w_mem},
                     {DNNL_ARG_BIAS, bias},
                     {DNNL_ARG_DST, dst}});
    s.wait();
  }
  set_counters(state, double(k * n) * sizeof(float), 2.0 * k * n);
}
BENCHMARK(BM_DnnlInnerProduct)
    ->Args({1024, 1024})
    ->Args({4096, 4096})
    ->Args({784, 256})
    ->Args({3136, 128});

// oneDNN f32 convolution KxK pad K/2 + bias + ReLU, NCHW in and out (BM_Conv's arguments; the
// last is unused).
void BM_DnnlConv(benchmark::State& state) {
  const int64_t c = state.range(0), m = state.range(1), hw = state.range(2);
  const int64_t stride = state.range(3), k = state.range(4), out = (hw + stride - 1) / stride;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  memory::desc src_md({1, c, hw, hw}, dt::f32, tag::nchw),
      dst_md({1, m, out, out}, dt::f32, tag::nchw);
  memory::desc w_any({m, c, k, k}, dt::f32, tag::any), b_md({m}, dt::f32, tag::x);
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference,
                                    dnnl::algorithm::convolution_direct, src_md, w_any, b_md,
                                    dst_md, {stride, stride}, {k / 2, k / 2}, {k / 2, k / 2});
  dnnl::post_ops po;
  po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  dnnl::convolution_forward::primitive_desc pd(d, attr, eng);
  std::vector<float> w = rand_vec(m * c * k * k, 1), x = rand_vec(c * hw * hw, 2);
  std::vector<float> b = rand_vec(m, 3), y(m * out * out);
  memory w_user({{m, c, k, k}, dt::f32, tag::oihw}, eng, w.data());
  memory w_mem(pd.weights_desc(), eng);
  dnnl::reorder(w_user, w_mem).execute(s, w_user, w_mem);
  memory src(src_md, eng, x.data()), bias(b_md, eng, b.data()), dst(dst_md, eng, y.data());
  dnnl::convolution_forward prim(pd);
  for (auto _ : state) {
    prim.execute(s, {{DNNL_ARG_SRC, src},
                     {DNNL_ARG_WEIGHTS, w_mem},
                     {DNNL_ARG_BIAS, bias},
                     {DNNL_ARG_DST, dst}});
    s.wait();
  }
  set_counters(state, double(m * c * k * k) * sizeof(float), 2.0 * m * c * k * k * out * out);
  state.SetLabel(pd.impl_info_str());
}
BENCHMARK(BM_DnnlConv)->Apply([](benchmark::internal::Benchmark* b) { conv_shapes(b, 1); });
#endif

}  // namespace
