// ONNX GRU (opset 14): gates z r h, linear_before_reset 0 and 1, clip, all activations, both
// layouts, forward / reverse / bidirectional, per-entry sequence lengths.
//
// linear_before_reset = 0 puts r inside the product, ĥ = g(Xt·Whᵀ + (r⊙Ht-1)·Rhᵀ + Rbh + Wbh), so
// a step needs two products: [z r] first, then the h gate over r⊙Ht-1. With
// linear_before_reset = 1, ĥ = g(Xt·Whᵀ + r⊙(Ht-1·Rhᵀ + Rbh) + Wbh) and one product serves all
// three gates; Rbh then stays out of the folded bias.
#include <cstring>
#include <memory>

#include "kernels/rnn/rnn_common.h"

namespace softdpu::runtime {
namespace {

using namespace softdpu::kernels;
using namespace softdpu::kernels::rnn;

class GruKernel final : public Kernel {
 public:
  RnnConfig cfg;
  bool lbr = false;
  GateMatrix w;
  std::vector<GateMatrix> r_main;  // per direction: [z r] rows (lbr=0) or all rows (lbr=1)
  std::vector<GateMatrix> r_h;     // per direction, lbr=0 only: the h rows
  std::vector<float> bias;         // folded input-projection bias (plan-time B)
  std::vector<float> rbh;          // lbr=1 with plan-time B: [dirs, H]
  GruParams params[2];
  const GateKernels* gates = nullptr;
  FrameScratch fs;
  size_t rbuf_at = 0, rph_at = 0, rh_at = 0, h_at = 0;

  void run(const KernelArgs& args) override {
    const int64_t hs = cfg.hidden, gh = cfg.gh(), ld = cfg.state_ld();
    const RunFrame f = begin_run(cfg, fs, args, w, bias.empty() ? nullptr : bias.data(),
                                 lbr ? 2 * hs : 0, lbr ? 3 * hs : 0);
    float* y = cfg.out(args, kOutY);
    float* yh = cfg.out(args, kOutYh);
    float* h = yh ? yh : scratch_at<float>(args.scratch, h_at);
    init_state(cfg, cfg.in(args, kInInitialH, cfg.has_initial_h), h);
    const float* b_in = cfg.in(args, kInB, cfg.has_bias);
    float* rbuf = scratch_at<float>(args.scratch, rbuf_at);
    float* rph = scratch_at<float>(args.scratch, rph_at);
    float* rh = scratch_at<float>(args.scratch, rh_at);
    uint8_t* product_scratch = static_cast<uint8_t*>(args.scratch) + fs.product;
    const int64_t rbuf_ld = lbr ? gh : 2 * hs;
    const int64_t xp_ld = cfg.dirs * gh;

    for (int64_t d = 0; d < cfg.dirs; ++d) {
      float* hd = h + cfg.state_offset(d, 0);
      const float* xp = f.xproj + d * gh;
      const bool rev = cfg.reverse(d);
      const float* rbh_d = nullptr;
      if (lbr && !rbh.empty()) rbh_d = rbh.data() + d * hs;
      if (lbr && rbh.empty() && b_in) rbh_d = b_in + d * 2 * gh + gh + 2 * hs;
      // The row of batch entry b at step s, or nullptr when its sequence has ended.
      auto row_for = [&](int64_t b, int64_t s) {
        GruRow row{};
        const int64_t len = f.lens[b];
        if (s >= len) return row;
        const int64_t t = rev ? len - 1 - s : s;
        row.xp = xp + cfg.x_row(t, b) * xp_ld;
        row.rp = rbuf + b * rbuf_ld;
        row.rph = lbr ? row.rp + 2 * hs : rph + b * hs;
        row.rbh = rbh_d;
        row.h = hd + b * ld;
        row.rh = rh + b * hs;
        row.y = y ? y + cfg.y_offset(t, d, b) : nullptr;
        row.hidden = hs;
        return row;
      };
      for (int64_t s = 0; s < f.max_len; ++s) {
        r_main[d].product(cfg.batch, hd, ld, rbuf, rbuf_ld, step_epilogue(s), args.pool,
                          product_scratch);
        if (lbr) {
          for_hidden_units(args.pool, hs, [&](int64_t j0, int64_t j1) {
            for (int64_t b = 0; b < cfg.batch; ++b) {
              const GruRow row = row_for(b, s);
              if (row.xp) gates->gru_lbr(params[d], row, j0, j1);
            }
          });
          continue;
        }
        for_hidden_units(args.pool, hs, [&](int64_t j0, int64_t j1) {
          for (int64_t b = 0; b < cfg.batch; ++b) {
            const GruRow row = row_for(b, s);
            if (row.xp) {
              gates->gru_zr(params[d], row, j0, j1);
            } else {
              // Finished rows still go through the second product: give it zeros, not stale
              // scratch (which could hold NaNs or denormals).
              std::memset(rh + b * hs + j0, 0, static_cast<size_t>(j1 - j0) * sizeof(float));
            }
          }
        });
        r_h[d].product(cfg.batch, rh, hs, rph, hs, step_epilogue(s), args.pool, product_scratch);
        for_hidden_units(args.pool, hs, [&](int64_t j0, int64_t j1) {
          for (int64_t b = 0; b < cfg.batch; ++b) {
            const GruRow row = row_for(b, s);
            if (row.xp) gates->gru_h(params[d], row, j0, j1);
          }
        });
      }
    }
    finish_run(cfg, f, y, yh, nullptr);
  }
};

}  // namespace

std::unique_ptr<Kernel> prepare_GRU(PrepareContext& ctx) {
  auto k = std::make_unique<GruKernel>();
  RnnConfig& cfg = k->cfg;
  cfg = parse_rnn(ctx, OpInfo{3, {"Sigmoid", "Tanh"}, /*has_cell=*/false});
  const int64_t lbr = ctx.attr_int("linear_before_reset", 0);
  if (lbr != 0 && lbr != 1) {
    ctx.fail("attribute linear_before_reset must be 0 or 1, got " + std::to_string(lbr));
  }
  k->lbr = lbr == 1;
  const int64_t hs = cfg.hidden;
  for (int64_t d = 0; d < cfg.dirs; ++d)
    k->params[d] = GruParams{cfg.act(d, 0), cfg.act(d, 1), cfg.clip};

  if (!ctx.kernel_wanted()) return nullptr;
  k->w = pack_input_weights(ctx, cfg);
  ctx.release_constant(kInW);
  for (int64_t d = 0; d < cfg.dirs; ++d) {
    if (k->lbr) {
      k->r_main.push_back(pack_recurrent(ctx, cfg, d, 0, 3 * hs));
    } else {
      k->r_main.push_back(pack_recurrent(ctx, cfg, d, 0, 2 * hs));
      k->r_h.push_back(pack_recurrent(ctx, cfg, d, 2 * hs, hs));
    }
  }
  ctx.release_constant(kInR);
  const bool runtime_bias = cfg.has_bias && !ctx.is_constant(kInB);
  if (cfg.has_bias && !runtime_bias) {
    const float* b = ctx.constant_as<float>(kInB);
    k->bias.resize(static_cast<size_t>(cfg.dirs * cfg.gh()));
    fold_bias(cfg, b, k->lbr ? 2 * hs : 0, k->lbr ? 3 * hs : 0, k->bias.data());
    if (k->lbr) {
      for (int64_t d = 0; d < cfg.dirs; ++d) {
        const float* rbh = b + d * 2 * cfg.gh() + cfg.gh() + 2 * hs;
        k->rbh.insert(k->rbh.end(), rbh, rbh + hs);
      }
    }
  }
  k->gates = &gate_kernels(active_isa());

  ScratchPlan plan;
  k->fs = plan_frame_scratch(cfg, runtime_bias, plan);
  std::vector<const GateMatrix*> rs;
  for (const GateMatrix& r : k->r_main) rs.push_back(&r);
  for (const GateMatrix& r : k->r_h) rs.push_back(&r);
  add_product_scratch(cfg, k->w, rs, k->fs, plan);
  const size_t row_bytes = static_cast<size_t>(cfg.batch * hs) * sizeof(float);
  k->rbuf_at = plan.add(static_cast<size_t>(cfg.batch * (k->lbr ? 3 : 2) * hs) * sizeof(float));
  if (!k->lbr) {
    k->rph_at = plan.add(row_bytes);
    k->rh_at = plan.add(row_bytes);
  }
  k->h_at = plan.add(static_cast<size_t>(cfg.dirs) * row_bytes);
  ctx.request_scratch(plan.total());
  return k;
}

}  // namespace softdpu::runtime
