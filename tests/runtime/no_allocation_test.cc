// Session::run must not touch the heap: every buffer is planned ahead. Global operator new is
// replaced in this test binary with a counting version that is armed only around run().
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "softdpu/session.h"
#include "support/model_builder.h"
#include "support/run_op.h"

// These replacements pair malloc with free on purpose; GCC cannot see that every operator new here
// is ours and, once inlined under the sanitizers, reports a mismatch.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<bool> g_armed{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_armed.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
// The nothrow forms too (std::stable_sort's buffer uses them), so every new pairs with our delete.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (g_armed.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
  return operator new(n, t);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace softdpu {
namespace {

// Operator-new calls made by ten runs after a warm-up run (each run must succeed).
int allocations_in_runs(Session& s, const Tensor& x, Tensor* y) {
  std::vector<ConstTensorView> in{{x.dtype(), x.shape(), x.data()}};
  std::vector<TensorView> out{{y->dtype(), y->shape(), y->data()}};
  Status st = s.run(in, out);  // warm-up
  EXPECT_TRUE(st) << st.to_string();
  g_allocations = 0;
  g_armed = true;
  for (int i = 0; i < 10 && st; ++i) st = s.run(in, out);
  g_armed = false;
  EXPECT_TRUE(st) << st.to_string();
  return g_allocations.load();
}

TEST(NoAllocation, RunAllocatesNothing) {
  testing::ModelBuilder m;
  m.input("x", DType::kFloat32, {-1, 1, 6, 6}).output("y", DType::kFloat32, {-1, 5});
  m.initializer("w", testing::random_tensor({4, 1, 3, 3}));
  m.initializer("b", testing::random_tensor({4}));
  m.initializer("w2", testing::random_tensor({16, 5}));
  m.initializer("shape", [] {
    Tensor t(DType::kInt64, {2});
    t.data_as<int64_t>()[0] = 0;
    t.data_as<int64_t>()[1] = -1;
    return t;
  }());
  m.node("Conv", {"x", "w", "b"}, {"c"});
  m.node("Relu", {"c"}, {"r"});
  auto& pool = m.node("MaxPool", {"r"}, {"p"});
  testing::ModelBuilder::set_ints(pool, "kernel_shape", {2, 2});
  testing::ModelBuilder::set_ints(pool, "strides", {2, 2});
  m.node("Reshape", {"p", "shape"}, {"f"});
  m.node("MatMul", {"f", "w2"}, {"mm"});
  m.node("Softmax", {"mm"}, {"y"});
  // Narrow weights (docs/precision.md) run through qgemm, whose scratch is planned too, in the
  // Conv (im2col rows) as in the MatMul.
  for (int threads : {1, 2})
    for (const char* precision : {"fp32", "mxint8", "mxfp4_e2m1"}) {
      std::unique_ptr<Session> s;
      Status st = Session::load_from_bytes(m.bytes(), ".", &s);
      ASSERT_TRUE(st) << st.to_string();
      PlanOptions opt;
      opt.threads = threads;
      opt.precision = precision;
      ASSERT_TRUE(st = s->plan(opt)) << st.to_string();
      Tensor x = testing::random_tensor({1, 1, 6, 6});
      Tensor y(DType::kFloat32, {1, 5});
      EXPECT_EQ(allocations_in_runs(*s, x, &y), 0)
          << "threads=" << threads << " precision=" << precision;
      EXPECT_EQ(s->stats().layer_formats.size(), 2u);  // the Conv and the MatMul
    }
}

// LSTM / GRU gate matrices in narrow formats: the qgemm buffer is part of the op's scratch.
TEST(NoAllocation, NarrowRnnRunAllocatesNothing) {
  for (const char* op : {"LSTM", "GRU"}) {
    const int64_t gates = op[0] == 'L' ? 4 : 3, hidden = 20;
    testing::ModelBuilder m;
    m.input("x", DType::kFloat32, {3, 1, 12}).output("y", DType::kFloat32, {3, 1, 1, hidden});
    m.initializer("w", testing::random_tensor({1, gates * hidden, 12}));
    m.initializer("r", testing::random_tensor({1, gates * hidden, hidden}));
    auto& n = m.node(op, {"x", "w", "r"}, {"y"});
    testing::ModelBuilder::set_int(n, "hidden_size", hidden);
    for (int threads : {1, 2}) {
      std::unique_ptr<Session> s;
      Status st = Session::load_from_bytes(m.bytes(), ".", &s);
      ASSERT_TRUE(st) << st.to_string();
      PlanOptions opt;
      opt.threads = threads;
      opt.precision = "mxint8";
      ASSERT_TRUE(st = s->plan(opt)) << st.to_string();
      ASSERT_EQ(s->stats().layer_formats.begin()->second, "mxint8");
      Tensor x = testing::random_tensor({3, 1, 12});
      Tensor y(DType::kFloat32, {3, 1, 1, hidden});
      EXPECT_EQ(allocations_in_runs(*s, x, &y), 0) << op << " threads=" << threads;
    }
  }
}

// Compressed layers (docs/compression.md): FFTW's new-array execute and the sparse kernel run on
// planned scratch; an LSTM's gate matrices too.
TEST(NoAllocation, CompressedLayersRunAllocatesNothing) {
  const int64_t hidden = 16;
  testing::ModelBuilder m;
  m.input("x", DType::kFloat32, {3, 1, 20}).output("y", DType::kFloat32, {3, 1, 1, hidden});
  m.initializer("w", testing::random_tensor({1, 4 * hidden, 20}));
  m.initializer("r", testing::random_tensor({1, 4 * hidden, hidden}));
  auto& n = m.node("LSTM", {"x", "w", "r"}, {"y1"});
  testing::ModelBuilder::set_int(n, "hidden_size", hidden);
  m.initializer("w2", testing::random_tensor({hidden, hidden}));
  m.node("MatMul", {"y1", "w2"}, {"y"});
  for (int mode = 0; mode < 3; ++mode) {
    for (int threads : {1, 2}) {
      std::unique_ptr<Session> s;
      Status st = Session::load_from_bytes(m.bytes(), ".", &s);
      ASSERT_TRUE(st) << st.to_string();
      PlanOptions opt;
      opt.threads = threads;
      if (mode == 0) opt.circulant_block = 8;
      if (mode >= 1) opt.prune_density = 0.3;
      if (mode == 2) opt.codebook_bits = 4;
      ASSERT_TRUE(st = s->plan(opt)) << st.to_string();
      for (const auto& [node, f] : s->stats().layer_formats)
        ASSERT_NE(f, "fp32") << node << " mode " << mode;
      Tensor x = testing::random_tensor({3, 1, 20});
      Tensor y(DType::kFloat32, {3, 1, 1, hidden});
      EXPECT_EQ(allocations_in_runs(*s, x, &y), 0) << "mode " << mode << " threads=" << threads;
    }
  }
}

}  // namespace
}  // namespace softdpu
