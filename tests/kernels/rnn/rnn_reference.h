// Test support for the rnn family: an independent naive reference written straight from the ONNX
// LSTM / GRU / RNN equations (plain loops, double precision, std::exp / std::tanh), random case
// generation, and a harness that, unlike run_op, can omit outputs (a node with only Y_h).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "ir/graph.h"
#include "runtime/kernel.h"
#include "softdpu/tensor.h"
#include "support/run_op.h"

namespace softdpu::testing::rnn_ref {

struct Spec {
  std::string op = "LSTM";  // LSTM, GRU or RNN
  int64_t seq = 4, batch = 3, input = 5, hidden = 7;
  std::string direction = "forward";
  int layout = 0;
  float clip = 0;  // 0: attribute absent
  int input_forget = 0;
  int linear_before_reset = 0;
  std::vector<std::string> acts;  // empty: attribute absent
  std::vector<float> alphas, betas;
  bool bias = true, seq_lens = false, initial_h = false, initial_c = false, peepholes = false;
  std::vector<int32_t> lens;  // when seq_lens
};

inline int gates_of(const std::string& op) {
  return op == "LSTM" ? 4 : op == "GRU" ? 3 : 1;
}
inline int64_t dirs_of(const Spec& s) {
  return s.direction == "bidirectional" ? 2 : 1;
}

struct Inputs {
  std::vector<std::optional<Tensor>> t;  // X W R B sequence_lens initial_h initial_c P
};

inline Inputs make_inputs(const Spec& s, uint32_t seed) {
  const int64_t nd = dirs_of(s), g = gates_of(s.op), h = s.hidden;
  Inputs in;
  in.t.resize(s.op == "LSTM" ? 8 : 6);
  Shape xs = s.layout ? Shape{s.batch, s.seq, s.input} : Shape{s.seq, s.batch, s.input};
  Shape hs = s.layout ? Shape{s.batch, nd, h} : Shape{nd, s.batch, h};
  in.t[0] = random_tensor(xs, -1.f, 1.f, seed);
  in.t[1] = random_tensor({nd, g * h, s.input}, -0.6f, 0.6f, seed + 1);
  in.t[2] = random_tensor({nd, g * h, h}, -0.6f, 0.6f, seed + 2);
  if (s.bias) in.t[3] = random_tensor({nd, 2 * g * h}, -0.5f, 0.5f, seed + 3);
  if (s.seq_lens) {
    for (int32_t len : s.lens) {
      if (len < 0 || len > s.seq) throw std::logic_error("test spec: sequence length past seq");
    }
    in.t[4] = make_tensor<int32_t>({s.batch}, s.lens);
  }
  if (s.initial_h) in.t[5] = random_tensor(hs, -0.8f, 0.8f, seed + 5);
  if (s.op == "LSTM") {
    if (s.initial_c) in.t[6] = random_tensor(hs, -1.5f, 1.5f, seed + 6);
    if (s.peepholes) in.t[7] = random_tensor({nd, 3 * h}, -0.7f, 0.7f, seed + 7);
  }
  return in;
}

struct Act {
  std::string name;
  double alpha = 0, beta = 0;
  double operator()(double x) const {
    if (name == "sigmoid") return 1.0 / (1.0 + std::exp(-x));
    if (name == "tanh") return std::tanh(x);
    if (name == "relu") return std::max(0.0, x);
    if (name == "hardsigmoid") return std::min(std::max(alpha * x + beta, 0.0), 1.0);
    if (name == "leakyrelu") return x >= 0 ? x : alpha * x;
    if (name == "affine") return alpha * x + beta;
    if (name == "thresholdedrelu") return x >= alpha ? x : 0.0;
    if (name == "scaledtanh") return alpha * std::tanh(beta * x);
    if (name == "elu") return x >= 0 ? x : alpha * (std::exp(x) - 1.0);
    if (name == "softsign") return x / (1.0 + std::fabs(x));
    if (name == "softplus") return x > 30 ? x + std::exp(-x) : std::log1p(std::exp(x));
    return NAN;
  }
};

// The activation list per direction: names lower-cased, alpha/beta consumed in order by the
// functions that take them, defaults of the same-named ONNX ops otherwise.
inline std::vector<Act> resolve_acts(const Spec& s) {
  std::vector<std::string> names = s.acts;
  const std::vector<std::string> defaults =
      s.op == "LSTM"  ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
      : s.op == "GRU" ? std::vector<std::string>{"Sigmoid", "Tanh"}
                      : std::vector<std::string>{"Tanh"};
  if (names.empty()) {
    for (int64_t d = 0; d < dirs_of(s); ++d)
      names.insert(names.end(), defaults.begin(), defaults.end());
  }
  size_t ia = 0, ib = 0;
  std::vector<Act> acts;
  for (std::string n : names) {
    for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    Act a{n};
    auto take = [](const std::vector<float>& v, size_t& i, double def) {
      return i < v.size() ? static_cast<double>(v[i++]) : def;
    };
    if (n == "hardsigmoid") a.alpha = take(s.alphas, ia, 0.2), a.beta = take(s.betas, ib, 0.5);
    if (n == "leakyrelu") a.alpha = take(s.alphas, ia, 0.01);
    if (n == "affine") a.alpha = take(s.alphas, ia, 1.0), a.beta = take(s.betas, ib, 0.0);
    if (n == "thresholdedrelu") a.alpha = take(s.alphas, ia, 1.0);
    if (n == "scaledtanh") a.alpha = take(s.alphas, ia, 1.0), a.beta = take(s.betas, ib, 1.0);
    if (n == "elu") a.alpha = take(s.alphas, ia, 1.0);
    acts.push_back(a);
  }
  if (acts.size() == defaults.size() && dirs_of(s) == 2) {
    std::vector<Act> both = acts;
    both.insert(both.end(), acts.begin(), acts.end());
    return both;
  }
  return acts;
}

struct Outputs {
  Tensor y, yh, yc;
};

// The ONNX equations, one batch entry and one direction at a time.
inline Outputs reference(const Spec& s, const Inputs& in) {
  const int64_t nd = dirs_of(s), g = gates_of(s.op), H = s.hidden, I = s.input;
  const int64_t T = s.seq, B = s.batch;
  const std::vector<Act> acts = resolve_acts(s);
  const size_t per_dir = acts.size() / static_cast<size_t>(nd);
  Outputs o;
  o.y = Tensor(DType::kFloat32, s.layout ? Shape{B, T, nd, H} : Shape{T, nd, B, H});
  Shape hs = s.layout ? Shape{B, nd, H} : Shape{nd, B, H};
  o.yh = Tensor(DType::kFloat32, hs);
  o.yc = Tensor(DType::kFloat32, hs);
  const float* X = in.t[0]->data_as<float>();
  const float* W = in.t[1]->data_as<float>();
  const float* R = in.t[2]->data_as<float>();
  const float* Bv = in.t[3] ? in.t[3]->data_as<float>() : nullptr;
  auto at_x = [&](int64_t t, int64_t b) { return X + (s.layout ? b * T + t : t * B + b) * I; };
  auto at_y = [&](int64_t t, int64_t d, int64_t b) {
    return o.y.data_as<float>() + (s.layout ? (b * T + t) * nd + d : (t * nd + d) * B + b) * H;
  };
  auto st_off = [&](int64_t d, int64_t b) { return (s.layout ? b * nd + d : d * B + b) * H; };
  const double clip = s.clip > 0 ? s.clip : INFINITY;
  auto cl = [&](double x) { return std::min(std::max(x, -clip), clip); };

  for (int64_t d = 0; d < nd; ++d) {
    const Act* a = &acts[d * per_dir];
    const float* Wd = W + d * g * H * I;
    const float* Rd = R + d * g * H * H;
    // Xt·W[k]ᵀ + Wb[k] and Ht-1·R[k]ᵀ + Rb[k] for gate k, unit j.
    auto wx = [&](const float* x, int k, int64_t j) {
      double acc = Bv ? Bv[d * 2 * g * H + k * H + j] : 0.0;
      for (int64_t i = 0; i < I; ++i) acc += double(x[i]) * Wd[(k * H + j) * I + i];
      return acc;
    };
    auto rx = [&](const std::vector<double>& h, int k, int64_t j) {
      double acc = Bv ? Bv[d * 2 * g * H + g * H + k * H + j] : 0.0;
      for (int64_t i = 0; i < H; ++i) acc += h[i] * Rd[(k * H + j) * H + i];
      return acc;
    };
    for (int64_t b = 0; b < B; ++b) {
      const int64_t len = s.seq_lens ? s.lens[b] : T;
      std::vector<double> h(H, 0.0), c(H, 0.0);
      if (in.t[5])
        for (int64_t j = 0; j < H; ++j) h[j] = in.t[5]->data_as<float>()[st_off(d, b) + j];
      if (in.t.size() > 6 && in.t[6])
        for (int64_t j = 0; j < H; ++j) c[j] = in.t[6]->data_as<float>()[st_off(d, b) + j];
      const float* P = in.t.size() > 7 && in.t[7] ? in.t[7]->data_as<float>() + d * 3 * H : nullptr;
      const bool rev = s.direction == "reverse" || d == 1;
      for (int64_t step = 0; step < len; ++step) {
        const int64_t t = rev ? len - 1 - step : step;
        const float* x = at_x(t, b);
        std::vector<double> hn(H), cn(H);
        if (s.op == "LSTM") {
          for (int64_t j = 0; j < H; ++j) {
            const double pi = P ? P[j] : 0, po = P ? P[H + j] : 0, pf = P ? P[2 * H + j] : 0;
            const double i = a[0](cl(wx(x, 0, j) + rx(h, 0, j) + pi * c[j]));
            const double f =
                s.input_forget ? 1.0 - i : a[0](cl(wx(x, 2, j) + rx(h, 2, j) + pf * c[j]));
            const double gg = a[1](cl(wx(x, 3, j) + rx(h, 3, j)));
            cn[j] = f * c[j] + i * gg;
            const double oo = a[0](cl(wx(x, 1, j) + rx(h, 1, j) + po * cn[j]));
            hn[j] = oo * a[2](cn[j]);
          }
        } else if (s.op == "GRU") {
          std::vector<double> z(H), r(H), rh(H);
          for (int64_t j = 0; j < H; ++j) {
            z[j] = a[0](cl(wx(x, 0, j) + rx(h, 0, j)));
            r[j] = a[0](cl(wx(x, 1, j) + rx(h, 1, j)));
            rh[j] = r[j] * h[j];
          }
          for (int64_t j = 0; j < H; ++j) {
            double pre;
            if (s.linear_before_reset) {
              pre = wx(x, 2, j) + r[j] * rx(h, 2, j);
            } else {
              pre = wx(x, 2, j) + rx(rh, 2, j);
            }
            const double hh = a[1](cl(pre));
            hn[j] = (1 - z[j]) * hh + z[j] * h[j];
          }
        } else {
          for (int64_t j = 0; j < H; ++j) hn[j] = a[0](cl(wx(x, 0, j) + rx(h, 0, j)));
        }
        h = hn;
        if (s.op == "LSTM") c = cn;
        for (int64_t j = 0; j < H; ++j) at_y(t, d, b)[j] = static_cast<float>(h[j]);
      }
      // Empty sequences report zero final states, as onnxruntime does.
      for (int64_t j = 0; j < H; ++j) {
        o.yh.data_as<float>()[st_off(d, b) + j] = len ? static_cast<float>(h[j]) : 0.f;
        o.yc.data_as<float>()[st_off(d, b) + j] = len ? static_cast<float>(c[j]) : 0.f;
      }
    }
  }
  return o;
}

inline std::map<std::string, ir::Attribute> attrs_of(const Spec& s) {
  std::map<std::string, ir::Attribute> a;
  a["hidden_size"] = attr_int(s.hidden);
  a["direction"] = attr_string(s.direction);
  a["layout"] = attr_int(s.layout);
  if (s.clip > 0) a["clip"] = attr_float(s.clip);
  if (s.op == "LSTM") a["input_forget"] = attr_int(s.input_forget);
  if (s.op == "GRU") a["linear_before_reset"] = attr_int(s.linear_before_reset);
  if (!s.acts.empty()) {
    ir::Attribute acts;
    acts.kind = ir::Attribute::Kind::kStrings;
    acts.strings = s.acts;
    a["activations"] = acts;
  }
  if (!s.alphas.empty()) a["activation_alpha"] = attr_floats(s.alphas);
  if (!s.betas.empty()) a["activation_beta"] = attr_floats(s.betas);
  return a;
}

inline ir::OpType op_type(const std::string& op) {
  return op == "LSTM" ? ir::OpType::kLSTM : op == "GRU" ? ir::OpType::kGRU : ir::OpType::kRNN;
}

// The input slots a model usually feeds at run time: X, sequence_lens, initial_h, initial_c.
inline const std::vector<int> kRuntimeInputs = {0, 4, 5, 6};

// Like run_op, but outputs whose `want` flag is false are omitted from the node (nullptr at run
// time), and only inputs not listed in `runtime_inputs` are visible to prepare as constants.
// Returns empty tensors for omitted outputs. `repeat` runs the same kernel that many times (no
// state may leak from one run into the next).
inline std::vector<Tensor> run(const Spec& s, const Inputs& in, std::vector<bool> want,
                               int threads = 1,
                               const std::vector<int>& runtime_inputs = kRuntimeInputs,
                               int repeat = 1, bool alias_state = false) {
  ir::Node node;
  node.name = "test_" + s.op;
  node.op = op_type(s.op);
  node.attrs = attrs_of(s);
  std::vector<runtime::InputDesc> descs;
  for (size_t i = 0; i < in.t.size(); ++i) {
    node.inputs.push_back(in.t[i] ? static_cast<int>(i) : -1);
    runtime::InputDesc d;
    if (in.t[i]) {
      d.dtype = in.t[i]->dtype();
      d.shape = in.t[i]->shape();
      const bool rt = std::find(runtime_inputs.begin(), runtime_inputs.end(),
                                static_cast<int>(i)) != runtime_inputs.end();
      d.constant = rt ? nullptr : in.t[i]->data();
      d.name = "in" + std::to_string(i);
    }
    descs.push_back(d);
  }
  for (size_t i = 0; i < want.size(); ++i)
    node.outputs.push_back(want[i] ? 100 + static_cast<int>(i) : -1);
  runtime::PrepareContext ctx(node, 14, descs, static_cast<int>(want.size()));
  std::unique_ptr<runtime::Kernel> k = runtime::prepare_fn(node.op)(ctx);
  std::vector<Tensor> outs(want.size());
  std::vector<void*> out_ptrs(want.size(), nullptr);
  for (size_t i = 0; i < want.size(); ++i) {
    if (!want[i]) continue;
    outs[i] = Tensor(ctx.outputs()[i].dtype, ctx.outputs()[i].shape);
    // Poison, so an output element the kernel forgets to write shows up.
    std::fill_n(outs[i].data_as<float>(), outs[i].numel(), NAN);
    out_ptrs[i] = outs[i].data();
  }
  std::vector<const void*> in_ptrs;
  for (const auto& t : in.t) in_ptrs.push_back(t ? t->data() : nullptr);
  if (alias_state) {
    // Y_h (and Y_c) are the very buffers initial_h (initial_c) came in: state carried in place.
    for (int slot : {5, 6}) {
      const size_t o = static_cast<size_t>(slot - 4);
      if (o >= want.size() || !want[o] || slot >= static_cast<int>(in.t.size()) || !in.t[slot])
        continue;
      outs[o] = in.t[slot]->clone();
      out_ptrs[o] = outs[o].data();
      in_ptrs[slot] = outs[o].data();
    }
  }
  std::vector<uint8_t> scratch(ctx.scratch_bytes() + 64, 0xFF);  // 0xFF..: NaN patterns
  void* aligned =
      reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t{63});
  ThreadPool pool(threads);
  runtime::KernelArgs args{in_ptrs.data(), out_ptrs.data(), aligned, &pool};
  for (int i = 0; i < repeat; ++i) k->run(args);
  return outs;
}

// max |a - b| / (1 + |b|) over the elements: relative for large values, absolute near zero.
inline float max_scaled_err(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return INFINITY;
  float m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const float x = a.data_as<float>()[i], y = b.data_as<float>()[i];
    const float e = std::fabs(x - y) / (1.f + std::fabs(y));
    if (!(e <= m)) m = std::isnan(e) ? INFINITY : e;
  }
  return m;
}

// Float kernel vs double reference over a few steps: errors stay near 1e-6; 2e-5 leaves room for
// the approximations and for longer recurrences without hiding a wrong equation (those are O(0.1)).
constexpr float kTol = 2e-5f;

// Runs the op on every ISA path this machine has and checks Y, Y_h (and Y_c for LSTM) against the
// reference.
inline void expect_matches(const Spec& s, uint32_t seed, int threads,
                           const std::vector<int>& runtime_inputs = kRuntimeInputs) {
  const Inputs in = make_inputs(s, seed);
  const Outputs ref = reference(s, in);
  const bool lstm = s.op == "LSTM";
  for (Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    std::vector<bool> want = {true, true};
    if (lstm) want.push_back(true);
    const std::vector<Tensor> out = run(s, in, want, threads, runtime_inputs);
    std::string where = std::string(isa_name(isa)) + " threads=" + std::to_string(threads) + " " +
                        s.direction + " layout=" + std::to_string(s.layout);
    if (s.op == "GRU") where += " lbr=" + std::to_string(s.linear_before_reset);
    EXPECT_LE(max_scaled_err(out[0], ref.y), kTol) << "Y " << where;
    EXPECT_LE(max_scaled_err(out[1], ref.yh), kTol) << "Y_h " << where;
    if (lstm) {
      EXPECT_LE(max_scaled_err(out[2], ref.yc), kTol) << "Y_c " << where;
    }
  }
}

}  // namespace softdpu::testing::rnn_ref
