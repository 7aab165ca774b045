// ONNX LSTM (opset 14): gates i o f c, peepholes, clip, input_forget, all activations, both
// layouts, forward / reverse / bidirectional, per-entry sequence lengths.
#include <memory>

#include "kernels/rnn/rnn_common.h"

namespace softdpu::runtime {
namespace {

using namespace softdpu::kernels;
using namespace softdpu::kernels::rnn;

class LstmKernel final : public Kernel {
 public:
  RnnConfig cfg;
  GateMatrix w;
  std::vector<GateMatrix> r;  // per direction, [H, 4H] for H_{t-1}·Rᵀ
  std::vector<float> bias;    // folded Wb + Rb when B is a plan-time constant
  std::vector<float> peep;    // P when it is a plan-time constant
  LstmParams params[2];
  const GateKernels* gates = nullptr;
  FrameScratch fs;
  size_t rbuf_at = 0, h_at = 0, c_at = 0;

  void run(const KernelArgs& args) override {
    const RunFrame f = begin_run(cfg, fs, args, w, bias.empty() ? nullptr : bias.data(), 0, 0);
    float* y = cfg.out(args, kOutY);
    float* yh = cfg.out(args, kOutYh);
    float* yc = cfg.out(args, kOutYc);
    // The states live in the outputs when they exist, in scratch otherwise.
    float* h = yh ? yh : scratch_at<float>(args.scratch, h_at);
    float* c = yc ? yc : scratch_at<float>(args.scratch, c_at);
    init_state(cfg, cfg.in(args, kInInitialH, cfg.has_initial_h), h);
    init_state(cfg, cfg.in(args, kInInitialC, cfg.has_initial_c), c);
    const float* p = peep.empty() ? cfg.in(args, kInP, cfg.has_peep) : peep.data();
    float* rbuf = scratch_at<float>(args.scratch, rbuf_at);
    uint8_t* product_scratch = static_cast<uint8_t*>(args.scratch) + fs.product;

    const int64_t hs = cfg.hidden, gh = cfg.gh(), ld = cfg.state_ld();
    const int64_t xp_ld = cfg.dirs * gh;
    for (int64_t d = 0; d < cfg.dirs; ++d) {
      float* hd = h + cfg.state_offset(d, 0);
      float* cd = c + cfg.state_offset(d, 0);
      const float* xp = f.xproj + d * gh;
      const float* pd = p ? p + d * 3 * hs : nullptr;
      const bool rev = cfg.reverse(d);
      for (int64_t s = 0; s < f.max_len; ++s) {
        // All batch rows go through the product; rows whose sequence has ended are skipped by
        // the epilogue, so their state stays at their last valid step.
        r[d].product(cfg.batch, hd, ld, rbuf, gh, step_epilogue(s), args.pool, product_scratch);
        for_hidden_units(args.pool, hs, [&](int64_t j0, int64_t j1) {
          for (int64_t b = 0; b < cfg.batch; ++b) {
            const int64_t len = f.lens[b];
            if (s >= len) continue;
            const int64_t t = rev ? len - 1 - s : s;
            const LstmRow row{xp + cfg.x_row(t, b) * xp_ld,
                              rbuf + b * gh,
                              pd,
                              cd + b * ld,
                              hd + b * ld,
                              y ? y + cfg.y_offset(t, d, b) : nullptr,
                              hs};
            gates->lstm(params[d], row, j0, j1);
          }
        });
      }
    }
    finish_run(cfg, f, y, yh, yc);
  }
};

}  // namespace

std::unique_ptr<Kernel> prepare_LSTM(PrepareContext& ctx) {
  auto k = std::make_unique<LstmKernel>();
  RnnConfig& cfg = k->cfg;
  cfg = parse_rnn(ctx, OpInfo{4, {"Sigmoid", "Tanh", "Tanh"}, /*has_cell=*/true});
  const int64_t input_forget = ctx.attr_int("input_forget", 0);
  if (input_forget != 0 && input_forget != 1) {
    ctx.fail("attribute input_forget must be 0 or 1, got " + std::to_string(input_forget));
  }
  for (int64_t d = 0; d < cfg.dirs; ++d) {
    k->params[d] =
        LstmParams{cfg.act(d, 0), cfg.act(d, 1), cfg.act(d, 2), cfg.clip, input_forget == 1};
  }

  if (!ctx.kernel_wanted()) return nullptr;
  k->w = pack_input_weights(ctx, cfg);
  ctx.release_constant(kInW);
  for (int64_t d = 0; d < cfg.dirs; ++d) k->r.push_back(pack_recurrent(ctx, cfg, d, 0, cfg.gh()));
  ctx.release_constant(kInR);
  const bool runtime_bias = cfg.has_bias && !ctx.is_constant(kInB);
  if (cfg.has_bias && !runtime_bias) {
    k->bias.resize(static_cast<size_t>(cfg.dirs * cfg.gh()));
    fold_bias(cfg, ctx.constant_as<float>(kInB), 0, 0, k->bias.data());
  }
  if (cfg.has_peep && ctx.is_constant(kInP)) {
    const float* p = ctx.constant_as<float>(kInP);
    k->peep.assign(p, p + cfg.dirs * 3 * cfg.hidden);
  }
  k->gates = &gate_kernels(active_isa());

  ScratchPlan plan;
  k->fs = plan_frame_scratch(cfg, runtime_bias, plan);
  std::vector<const GateMatrix*> rs;
  for (const GateMatrix& r : k->r) rs.push_back(&r);
  add_product_scratch(cfg, k->w, rs, k->fs, plan);
  const size_t state_bytes = static_cast<size_t>(cfg.dirs * cfg.batch * cfg.hidden) * sizeof(float);
  k->rbuf_at = plan.add(static_cast<size_t>(cfg.batch * cfg.gh()) * sizeof(float));
  k->h_at = plan.add(state_bytes);
  k->c_at = plan.add(state_bytes);
  ctx.request_scratch(plan.total());
  return k;
}

}  // namespace softdpu::runtime
