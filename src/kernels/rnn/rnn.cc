// ONNX RNN (opset 14): Ht = f(Xt·Wᵀ + Ht-1·Rᵀ + Wb + Rb), clip, all activations, both layouts,
// forward / reverse / bidirectional, per-entry sequence lengths.
#include <memory>

#include "kernels/rnn/rnn_common.h"

namespace softdpu::runtime {
namespace {

using namespace softdpu::kernels;
using namespace softdpu::kernels::rnn;

class RnnKernel final : public Kernel {
 public:
  RnnConfig cfg;
  GateMatrix w;
  std::vector<GateMatrix> r;
  std::vector<float> bias;
  RnnParams params[2];
  const GateKernels* gates = nullptr;
  FrameScratch fs;
  size_t rbuf_at = 0, h_at = 0;

  void run(const KernelArgs& args) override {
    const RunFrame f = begin_run(cfg, fs, args, w, bias.empty() ? nullptr : bias.data(), 0, 0);
    float* y = cfg.out(args, kOutY);
    float* yh = cfg.out(args, kOutYh);
    float* h = yh ? yh : scratch_at<float>(args.scratch, h_at);
    init_state(cfg, cfg.in(args, kInInitialH, cfg.has_initial_h), h);
    float* rbuf = scratch_at<float>(args.scratch, rbuf_at);
    uint8_t* product_scratch = static_cast<uint8_t*>(args.scratch) + fs.product;
    const int64_t hs = cfg.hidden, ld = cfg.state_ld(), xp_ld = cfg.dirs * hs;
    for (int64_t d = 0; d < cfg.dirs; ++d) {
      float* hd = h + cfg.state_offset(d, 0);
      const float* xp = f.xproj + d * hs;
      const bool rev = cfg.reverse(d);
      for (int64_t s = 0; s < f.max_len; ++s) {
        r[d].product(cfg.batch, hd, ld, rbuf, hs, step_epilogue(s), args.pool, product_scratch);
        for_hidden_units(args.pool, hs, [&](int64_t j0, int64_t j1) {
          for (int64_t b = 0; b < cfg.batch; ++b) {
            const int64_t len = f.lens[b];
            if (s >= len) continue;
            const int64_t t = rev ? len - 1 - s : s;
            const RnnRow row{xp + cfg.x_row(t, b) * xp_ld, rbuf + b * hs, hd + b * ld,
                             y ? y + cfg.y_offset(t, d, b) : nullptr};
            gates->rnn(params[d], row, j0, j1);
          }
        });
      }
    }
    finish_run(cfg, f, y, yh, nullptr);
  }
};

}  // namespace

std::unique_ptr<Kernel> prepare_RNN(PrepareContext& ctx) {
  auto k = std::make_unique<RnnKernel>();
  RnnConfig& cfg = k->cfg;
  cfg = parse_rnn(ctx, OpInfo{1, {"Tanh"}, /*has_cell=*/false});
  for (int64_t d = 0; d < cfg.dirs; ++d) k->params[d] = RnnParams{cfg.act(d, 0), cfg.clip};
  if (!ctx.kernel_wanted()) return nullptr;
  k->w = pack_input_weights(ctx, cfg);
  ctx.release_constant(kInW);
  for (int64_t d = 0; d < cfg.dirs; ++d) k->r.push_back(pack_recurrent(ctx, cfg, d, 0, cfg.hidden));
  ctx.release_constant(kInR);
  const bool runtime_bias = cfg.has_bias && !ctx.is_constant(kInB);
  if (cfg.has_bias && !runtime_bias) {
    k->bias.resize(static_cast<size_t>(cfg.dirs * cfg.hidden));
    fold_bias(cfg, ctx.constant_as<float>(kInB), 0, 0, k->bias.data());
  }
  k->gates = &gate_kernels(active_isa());

  ScratchPlan plan;
  k->fs = plan_frame_scratch(cfg, runtime_bias, plan);
  std::vector<const GateMatrix*> rs;
  for (const GateMatrix& r : k->r) rs.push_back(&r);
  add_product_scratch(cfg, k->w, rs, k->fs, plan);
  k->rbuf_at = plan.add(static_cast<size_t>(cfg.batch * cfg.hidden) * sizeof(float));
  k->h_at = plan.add(static_cast<size_t>(cfg.dirs * cfg.batch * cfg.hidden) * sizeof(float));
  ctx.request_scratch(plan.total());
  return k;
}

}  // namespace softdpu::runtime
