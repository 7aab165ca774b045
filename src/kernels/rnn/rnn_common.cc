#include "kernels/rnn/rnn_common.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "kernels/linalg/compressed_weight.h"
#include "kernels/linalg/narrow_weight.h"
#include "kernels/quant/qgemm.h"

namespace softdpu::kernels::rnn {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct ActInfo {
  const char* name;  // lower case
  ActFn fn;
  bool uses_alpha, uses_beta;
  float alpha, beta;  // defaults: those of the ONNX operator of the same name
};

// ScaledTanh and Affine were experimental ONNX ops; their defaults (1, 1) and (1, 0) make them
// the identity-like forms. ThresholdedRelu's default threshold is 1 as in the ONNX op.
constexpr ActInfo kActs[] = {
    {"sigmoid", ActFn::kSigmoid, false, false, 0, 0},
    {"tanh", ActFn::kTanh, false, false, 0, 0},
    {"relu", ActFn::kRelu, false, false, 0, 0},
    {"hardsigmoid", ActFn::kHardSigmoid, true, true, 0.2f, 0.5f},
    {"leakyrelu", ActFn::kLeakyRelu, true, false, 0.01f, 0},
    {"affine", ActFn::kAffine, true, true, 1.0f, 0.0f},
    {"thresholdedrelu", ActFn::kThresholdedRelu, true, false, 1.0f, 0},
    {"scaledtanh", ActFn::kScaledTanh, true, true, 1.0f, 1.0f},
    {"elu", ActFn::kElu, true, false, 1.0f, 0},
    {"softsign", ActFn::kSoftsign, false, false, 0, 0},
    {"softplus", ActFn::kSoftplus, false, false, 0, 0},
};

const char* direction_word(Direction d) {
  switch (d) {
    case Direction::kForward: return "forward";
    case Direction::kReverse: return "reverse";
    case Direction::kBidirectional: return "bidirectional";
  }
  return "?";
}

// Parses `activations`, consuming activation_alpha / activation_beta in order, one value for each
// function that takes one (the onnxruntime reading of "consumed in the order of activation
// functions"); missing values fall back to the function's default.
std::vector<ActParams> parse_activations(const runtime::PrepareContext& ctx, const OpInfo& info,
                                         int64_t dirs) {
  const size_t per_dir = info.default_acts.size();
  std::vector<std::string> names;
  if (const ir::Attribute* a = ctx.node().attr("activations")) {
    if (a->kind != ir::Attribute::Kind::kStrings)
      ctx.fail("attribute 'activations' should be strings");
    names = a->strings;
  } else {
    for (int64_t d = 0; d < dirs; ++d)
      names.insert(names.end(), info.default_acts.begin(), info.default_acts.end());
  }
  const std::vector<float> alphas = ctx.attr_floats("activation_alpha");
  const std::vector<float> betas = ctx.attr_floats("activation_beta");
  size_t next_alpha = 0, next_beta = 0;
  std::vector<ActParams> acts;
  for (const std::string& name : names) {
    const std::string key = lower(name);
    const ActInfo* info_row = nullptr;
    for (const ActInfo& row : kActs) {
      if (key == row.name) info_row = &row;
    }
    if (!info_row) {
      ctx.unsupported("unsupported activation '" + name +
                      "'; supported: Sigmoid, Tanh, Relu, HardSigmoid, LeakyRelu, Affine, "
                      "ThresholdedRelu, ScaledTanh, Elu, Softsign, Softplus");
    }
    ActParams p{info_row->fn, info_row->alpha, info_row->beta};
    if (info_row->uses_alpha && next_alpha < alphas.size()) p.alpha = alphas[next_alpha++];
    if (info_row->uses_beta && next_beta < betas.size()) p.beta = betas[next_beta++];
    acts.push_back(p);
  }
  const size_t want = per_dir * static_cast<size_t>(dirs);
  if (acts.size() == want) return acts;
  // One direction's list for a bidirectional layer serves both directions, and RNN's schema
  // default is the two-entry list {Tanh, Tanh} even for one direction: accept both shorthands.
  if (dirs == 2 && acts.size() == per_dir) {
    std::vector<ActParams> both = acts;
    both.insert(both.end(), acts.begin(), acts.end());
    return both;
  }
  if (dirs == 1 && per_dir == 1 && acts.size() == 2) return {acts[0]};
  ctx.fail("attribute 'activations' has " + std::to_string(acts.size()) + " entries, expected " +
           std::to_string(want) + " (" + std::to_string(per_dir) + " per direction)");
}

void expect_shape(const runtime::PrepareContext& ctx, int i, const char* what, const Shape& want,
                  const std::string& meaning) {
  const Shape& got = ctx.shape(i);
  if (got != want) {
    ctx.fail("input " + std::string(what) + " ('" + ctx.input(i).name + "') has shape " +
             shape_to_string(got) + ", expected " + shape_to_string(want) + " " + meaning);
  }
}

}  // namespace

RnnConfig parse_rnn(runtime::PrepareContext& ctx, const OpInfo& info) {
  RnnConfig cfg;
  cfg.gates = info.gates;
  ctx.expect_dtype(kInX, {DType::kFloat32});
  ctx.expect_rank(kInX, 3, 3);
  cfg.layout = static_cast<int>(ctx.attr_int("layout", 0));
  if (cfg.layout != 0 && cfg.layout != 1) {
    ctx.fail("attribute layout must be 0 or 1, got " + std::to_string(cfg.layout));
  }
  const Shape& xs = ctx.shape(kInX);
  cfg.seq = cfg.layout ? xs[1] : xs[0];
  cfg.batch = cfg.layout ? xs[0] : xs[1];
  cfg.input = xs[2];
  if (cfg.input < 1)
    ctx.fail("input X has shape " + shape_to_string(xs) + ": input_size must be >= 1");

  const std::string dir = ctx.attr_string("direction", "forward");
  if (dir == "forward") {
    cfg.direction = Direction::kForward;
  } else if (dir == "reverse") {
    cfg.direction = Direction::kReverse;
  } else if (dir == "bidirectional") {
    cfg.direction = Direction::kBidirectional;
  } else {
    ctx.fail("attribute direction must be forward, reverse or bidirectional, got '" + dir + "'");
  }
  cfg.dirs = cfg.direction == Direction::kBidirectional ? 2 : 1;
  const std::string g = info.gates == 1 ? "" : std::to_string(info.gates) + "*";
  const std::string dirs_note = "num_directions=" + std::to_string(cfg.dirs) + " for direction " +
                                direction_word(cfg.direction);

  ctx.expect_dtype(kInW, {DType::kFloat32});
  ctx.expect_dtype(kInR, {DType::kFloat32});
  ctx.expect_rank(kInW, 3, 3);
  ctx.expect_rank(kInR, 3, 3);
  const Shape& rs = ctx.shape(kInR);
  if (ctx.has_attr("hidden_size")) {
    cfg.hidden = ctx.attr_int("hidden_size", 0);
    if (cfg.hidden < 1)
      ctx.fail("attribute hidden_size must be >= 1, got " + std::to_string(cfg.hidden));
    if (rs[2] != cfg.hidden) {
      ctx.fail("hidden_size mismatch: attribute hidden_size is " + std::to_string(cfg.hidden) +
               " but input R ('" + ctx.input(kInR).name + "') has shape " + shape_to_string(rs) +
               " (last dimension is hidden_size)");
    }
  } else {
    cfg.hidden = rs[2];
    if (cfg.hidden < 1)
      ctx.fail("input R has shape " + shape_to_string(rs) + ": hidden_size must be >= 1");
  }
  const int64_t hs = cfg.hidden;
  const std::string layout_note = "[num_directions, " + g + "hidden_size, ";
  expect_shape(ctx, kInW, "W", {cfg.dirs, info.gates * hs, cfg.input},
               "(" + layout_note + "input_size] with " + dirs_note + ", hidden_size=" +
                   std::to_string(hs) + ", input_size=" + std::to_string(cfg.input) + ")");
  expect_shape(ctx, kInR, "R", {cfg.dirs, info.gates * hs, hs},
               "(" + layout_note + "hidden_size] with " + dirs_note +
                   ", hidden_size=" + std::to_string(hs) + ")");
  if (ctx.has_input(kInB)) {
    cfg.has_bias = true;
    ctx.expect_dtype(kInB, {DType::kFloat32});
    expect_shape(ctx, kInB, "B", {cfg.dirs, 2 * info.gates * hs},
                 "([num_directions, 2*" + g + "hidden_size]: Wb then Rb)");
  }
  if (ctx.has_input(kInSeqLens)) {
    cfg.has_seq_lens = true;
    ctx.expect_dtype(kInSeqLens, {DType::kInt32, DType::kInt64});
    cfg.seq_lens_dtype = ctx.dtype(kInSeqLens);
    expect_shape(ctx, kInSeqLens, "sequence_lens", {cfg.batch}, "([batch_size])");
    if (ctx.is_constant(kInSeqLens)) {
      cfg.const_seq_lens = ctx.constant_ints(kInSeqLens);
      for (int64_t len : cfg.const_seq_lens) {
        if (len < 0 || len > cfg.seq) {
          ctx.fail("sequence_lens holds " + std::to_string(len) +
                   ", outside [0, seq_length=" + std::to_string(cfg.seq) + "]");
        }
      }
    }
  }
  const Shape state_shape =
      cfg.layout ? Shape{cfg.batch, cfg.dirs, hs} : Shape{cfg.dirs, cfg.batch, hs};
  const std::string state_note = cfg.layout
                                     ? "([batch_size, num_directions, hidden_size] for layout 1)"
                                     : "([num_directions, batch_size, hidden_size])";
  if (ctx.has_input(kInInitialH)) {
    cfg.has_initial_h = true;
    ctx.expect_dtype(kInInitialH, {DType::kFloat32});
    expect_shape(ctx, kInInitialH, "initial_h", state_shape, state_note);
  }
  if (info.has_cell) {
    if (ctx.has_input(kInInitialC)) {
      cfg.has_initial_c = true;
      ctx.expect_dtype(kInInitialC, {DType::kFloat32});
      expect_shape(ctx, kInInitialC, "initial_c", state_shape, state_note);
    }
    if (ctx.has_input(kInP)) {
      cfg.has_peep = true;
      ctx.expect_dtype(kInP, {DType::kFloat32});
      expect_shape(ctx, kInP, "P", {cfg.dirs, 3 * hs},
                   "([num_directions, 3*hidden_size]: i, o, f)");
    }
  }

  if (ctx.has_attr("clip")) {
    cfg.clip = ctx.attr_float("clip", 0);
    if (!(cfg.clip > 0))
      ctx.fail("attribute clip must be positive, got " + std::to_string(cfg.clip));
  }
  cfg.acts = parse_activations(ctx, info, cfg.dirs);

  cfg.outputs = std::min(ctx.num_outputs(), info.has_cell ? 3 : 2);
  const int outputs = cfg.outputs;
  const Shape y_shape = cfg.layout ? Shape{cfg.batch, cfg.seq, cfg.dirs, hs}
                                   : Shape{cfg.seq, cfg.dirs, cfg.batch, hs};
  for (int i = 0; i < outputs; ++i)
    ctx.set_output(i, DType::kFloat32, i == kOutY ? y_shape : state_shape);
  return cfg;
}

size_t GateMatrix::scratch_bytes(int64_t m) const {
  if (compressed) return compressed->scratch_bytes(m);
  if (panels) return qgemv_panels_scratch_bytes(m, *panels);
  // The larger of the two uses (fp32 activations need 4 bytes per value, native 1 + scales).
  return narrow ? std::max(qgemm_scratch_bytes(m, *narrow, narrow_options),
                           qgemm_scratch_bytes(m, *narrow, {}))
                : 0;
}

void GateMatrix::product(int64_t m, const float* x, int64_t ldx, float* y, int64_t ldy,
                         const GemmEpilogue& ep, ThreadPool* pool, void* scratch, bool step) const {
  if (compressed)
    compressed->apply(m, x, ldx, y, ldy, ep, pool, scratch);
  else if (panels)
    qgemv_panels(m, x, ldx, *panels, y, ldy, ep, pool, scratch);
  else if (narrow)
    qgemm(m, x, ldx, *narrow, y, ldy, ep, pool, step ? narrow_options : QGemmOptions{}, scratch);
  else
    gemm_packed(m, x, ldx, fp32, y, ldy, ep, pool);
}

namespace {

// W and R rows are already output-major (N x K), as both PackedB (transposed) and
// PackedMatrix want them. `per_step`: the matrix of the per-step products (R), not W.
GateMatrix pack_gate_rows(const runtime::PrepareContext& ctx, const float* rows_ptr, int64_t n,
                          int64_t k, bool per_step) {
  GateMatrix g;
  const formats::WeightFormat f = node_weight_format(ctx);
  const compress::CompressionSpec cs = node_compression(ctx);
  if (cs.kind != compress::CompressionSpec::Kind::kNone)
    g.compressed = pack_compressed(cs, rows_ptr, k, n, k, /*transposed=*/true, 1.f);
  else if (f.id != formats::FormatId::kFp32) {
    g.narrow_options = node_qgemm_options(ctx);
    if (qgemv_panels_worthwhile(f, g.narrow_options, per_step)) {
      // The row-major codes are a temporary here, kept neither in the plan nor in the encoded-
      // weight store, so the weight lives once (as panels). A compiled .sdpu therefore does not
      // carry this matrix; planning encodes it again.
      g.panels = std::make_shared<PanelMatrix>(
          PanelMatrix::from(formats::PackedMatrix::pack(rows_ptr, n, k, k, f)));
    } else {
      g.narrow = pack_weight(rows_ptr, k, n, k, /*transposed=*/true, 1.f, f);
    }
  } else
    g.fp32 = PackedB::pack(rows_ptr, k, n, k, /*transposed=*/true);
  return g;
}

}  // namespace

GateMatrix pack_input_weights(const runtime::PrepareContext& ctx, const RnnConfig& cfg) {
  return pack_gate_rows(ctx, ctx.constant_as<float>(kInW), cfg.dirs * cfg.gh(), cfg.input, false);
}

GateMatrix pack_recurrent(const runtime::PrepareContext& ctx, const RnnConfig& cfg, int64_t d,
                          int64_t row0, int64_t rows) {
  const float* r = ctx.constant_as<float>(kInR) + (d * cfg.gh() + row0) * cfg.hidden;
  return pack_gate_rows(ctx, r, rows, cfg.hidden, true);
}

void add_product_scratch(const RnnConfig& cfg, const GateMatrix& w,
                         const std::vector<const GateMatrix*>& rs, FrameScratch& fs,
                         ScratchPlan& plan) {
  size_t bytes = w.scratch_bytes(cfg.seq * cfg.batch);
  for (const GateMatrix* r : rs) bytes = std::max(bytes, r->scratch_bytes(cfg.batch));
  fs.product = plan.add(bytes);
}

void fold_bias(const RnnConfig& cfg, const float* b, int64_t skip0, int64_t skip1, float* out) {
  const int64_t gh = cfg.gh();
  for (int64_t d = 0; d < cfg.dirs; ++d) {
    float* o = out + d * gh;
    if (!b) {
      std::fill(o, o + gh, 0.0f);
      continue;
    }
    const float* wb = b + d * 2 * gh;
    const float* rb = wb + gh;
    for (int64_t j = 0; j < gh; ++j) o[j] = (j >= skip0 && j < skip1) ? wb[j] : wb[j] + rb[j];
  }
}

FrameScratch plan_frame_scratch(const RnnConfig& cfg, bool runtime_bias, ScratchPlan& plan) {
  FrameScratch fs;
  fs.lens = plan.add(static_cast<size_t>(cfg.batch) * sizeof(int64_t));
  fs.xproj =
      plan.add(static_cast<size_t>(cfg.seq * cfg.batch * cfg.dirs * cfg.gh()) * sizeof(float));
  fs.runtime_bias = runtime_bias;
  if (runtime_bias) fs.bias = plan.add(static_cast<size_t>(cfg.dirs * cfg.gh()) * sizeof(float));
  return fs;
}

RunFrame begin_run(const RnnConfig& cfg, const FrameScratch& fs, const runtime::KernelArgs& args,
                   const GateMatrix& w, const float* bias, int64_t skip0, int64_t skip1) {
  RunFrame f;
  int64_t* lens = scratch_at<int64_t>(args.scratch, fs.lens);
  const void* sl = cfg.has_seq_lens ? args.in[kInSeqLens] : nullptr;
  for (int64_t b = 0; b < cfg.batch; ++b) {
    int64_t len = cfg.seq;
    if (sl) {
      len = cfg.seq_lens_dtype == DType::kInt64 ? static_cast<const int64_t*>(sl)[b]
                                                : static_cast<const int32_t*>(sl)[b];
    }
    // run() cannot report errors, so out-of-range run-time lengths are clamped.
    lens[b] = std::clamp<int64_t>(len, 0, cfg.seq);
    f.max_len = std::max(f.max_len, lens[b]);
  }
  f.lens = lens;
  if (fs.runtime_bias) {
    float* folded = scratch_at<float>(args.scratch, fs.bias);
    fold_bias(cfg, static_cast<const float*>(args.in[kInB]), skip0, skip1, folded);
    bias = folded;
  }
  float* xproj = scratch_at<float>(args.scratch, fs.xproj);
  const int64_t m = cfg.seq * cfg.batch;
  if (m > 0) {
    GemmEpilogue ep;
    ep.bias = bias;
    w.product(m, static_cast<const float*>(args.in[kInX]), cfg.input, xproj, cfg.dirs * cfg.gh(),
              ep, args.pool, static_cast<uint8_t*>(args.scratch) + fs.product, /*step=*/false);
  }
  f.xproj = xproj;
  return f;
}

void init_state(const RnnConfig& cfg, const float* initial, float* state) {
  const size_t n = static_cast<size_t>(cfg.dirs * cfg.batch * cfg.hidden);
  // A server may hand the same buffer as initial_h and Y_h to carry state in place; the state is
  // then already where it belongs.
  if (initial == state) return;
  if (initial) {
    std::memcpy(state, initial, n * sizeof(float));
  } else {
    std::memset(state, 0, n * sizeof(float));
  }
}

void finish_run(const RnnConfig& cfg, const RunFrame& f, float* y, float* yh, float* yc) {
  const size_t row_bytes = static_cast<size_t>(cfg.hidden) * sizeof(float);
  for (int64_t b = 0; b < cfg.batch; ++b) {
    const int64_t len = f.lens[b];
    for (int64_t d = 0; d < cfg.dirs; ++d) {
      if (y) {
        for (int64_t t = len; t < cfg.seq; ++t)
          std::memset(y + cfg.y_offset(t, d, b), 0, row_bytes);
      }
      if (len == 0) {
        if (yh) std::memset(yh + cfg.state_offset(d, b), 0, row_bytes);
        if (yc) std::memset(yc + cfg.state_offset(d, b), 0, row_bytes);
      }
    }
  }
}

}  // namespace softdpu::kernels::rnn
