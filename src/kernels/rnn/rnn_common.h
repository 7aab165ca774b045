// What LSTM, GRU and RNN share: attribute parsing and shape validation (the plan-time half), the
// index arithmetic of the two ONNX layouts, scratch planning and the run-time pieces around the
// per-step loop (sequence lengths, state set-up, input projection, zero padding).
//
// Run-time data flow, per direction d:
//   xproj[M, dirs*G*H] = X[M, input] · Wᵀ + folded biases     one gemm_packed for every step and
//                                                              both directions (M = seq*batch)
//   per step: rbuf[batch, G*H] = H_{t-1} · R_dᵀ                one gemm_packed with M = batch
//             gate epilogue (gates.h) reads xproj and rbuf rows and updates the state in place.
// The hidden (and cell) state lives directly in the Y_h (Y_c) output when the model asks for it,
// so a server carrying state between requests passes initial_h in and reads Y_h back with no
// extra copy inside the op.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compress/compressed_matrix.h"
#include "formats/packed.h"
#include "kernels/linalg/gemm.h"
#include "kernels/quant/qgemm.h"
#include "kernels/quant/qgemv_panels.h"
#include "kernels/rnn/gates.h"
#include "runtime/kernel.h"

namespace softdpu::kernels::rnn {

// Input and output slots (LSTM has all of them; GRU and RNN stop at initial_h and Y_h).
enum : int { kInX = 0, kInW, kInR, kInB, kInSeqLens, kInInitialH, kInInitialC, kInP };
enum : int { kOutY = 0, kOutYh, kOutYc };

enum class Direction { kForward, kReverse, kBidirectional };

// What differs between the three ops for the shared parser.
struct OpInfo {
  int gates;                              // G: 4 (LSTM), 3 (GRU), 1 (RNN)
  std::vector<const char*> default_acts;  // per direction
  bool has_cell;                          // LSTM: initial_c, P, Y_c
};

struct RnnConfig {
  Direction direction = Direction::kForward;
  int64_t dirs = 1, seq = 0, batch = 0, input = 0, hidden = 0, gates = 1;
  int layout = 0;
  float clip = INFINITY;        // +inf when the attribute is absent
  std::vector<ActParams> acts;  // default_acts.size() per direction, direction-major
  // Which optional inputs the node has (args.in holds only the node's inputs, so run() must not
  // look past them).
  bool has_bias = false, has_seq_lens = false, has_initial_h = false, has_initial_c = false,
       has_peep = false;
  DType seq_lens_dtype = DType::kInt32;
  std::vector<int64_t> const_seq_lens;  // filled when sequence_lens is a plan-time constant
  int outputs = 0;                      // how many output slots the node has

  const float* in(const runtime::KernelArgs& args, int i, bool present) const {
    return present ? static_cast<const float*>(args.in[i]) : nullptr;
  }
  // Output i, or nullptr when the node omits it.
  float* out(const runtime::KernelArgs& args, int i) const {
    return i < outputs ? static_cast<float*>(args.out[i]) : nullptr;
  }

  int64_t gh() const { return gates * hidden; }
  bool reverse(int64_t d) const { return direction == Direction::kReverse || d == 1; }
  const ActParams& act(int64_t d, int k) const {
    return acts[static_cast<size_t>(d) * acts.size() / static_cast<size_t>(dirs) + k];
  }
  // Row of X (and of the input projection) holding time t of batch entry b.
  int64_t x_row(int64_t t, int64_t b) const { return layout ? b * seq + t : t * batch + b; }
  // Offset of Y[t, d, b, :] (layout 0: [seq, dirs, batch, H]; 1: [batch, seq, dirs, H]).
  int64_t y_offset(int64_t t, int64_t d, int64_t b) const {
    return (layout ? (b * seq + t) * dirs + d : (t * dirs + d) * batch + b) * hidden;
  }
  // Offset of initial_h / Y_h[d, b, :] (layout 0: [dirs, batch, H]; 1: [batch, dirs, H]).
  int64_t state_offset(int64_t d, int64_t b) const {
    return (layout ? b * dirs + d : d * batch + b) * hidden;
  }
  // Distance between consecutive batch rows of one direction's state: the gemm's lda.
  int64_t state_ld() const { return layout ? dirs * hidden : hidden; }
};

// Validates attributes and the X, W, R, B, sequence_lens, initial_h (and initial_c, P) inputs,
// and sets every output's type and shape. Errors name the input and the expected shape.
RnnConfig parse_rnn(runtime::PrepareContext& ctx, const OpInfo& info);

// A gate weight matrix: fp32 PackedB, or a narrow formats::PackedMatrix when the planner marked
// the node with a weight format (docs/precision.md), or with kNative MXINT8 / MXFP4 the same codes
// rearranged into panels (qgemv_panels.h). product() runs whichever it holds.
struct GateMatrix {
  PackedB fp32;
  std::shared_ptr<formats::PackedMatrix> narrow;
  // The node's activation treatment (runtime::kActivationsAttr), for the per-step products. The
  // input projection (m = seq * batch rows) of a row-major `narrow` takes fp32 activations, whose
  // kernels reuse each decoded weight across 4 rows (BM_LstmNarrow in bench/kernels/rnn_bench.cc);
  // panels take kNative activations for both, with 4 rows a weight load.
  QGemmOptions narrow_options;
  std::shared_ptr<PanelMatrix> panels;
  std::shared_ptr<compress::CompressedMatrix> compressed;  // docs/compression.md

  // Scratch product() needs for m rows (qgemm's buffer; 0 for fp32).
  size_t scratch_bytes(int64_t m) const;
  // y (m x N, ldy) = x (m x K, row stride ldx) · Wᵀ with the epilogue; `scratch` holds
  // scratch_bytes(m) bytes, 64-byte aligned. `step`: a per-step product (narrow_options apply).
  void product(int64_t m, const float* x, int64_t ldx, float* y, int64_t ldy,
               const GemmEpilogue& ep, ThreadPool* pool, void* scratch, bool step = true) const;
};

// Packs W as one [dirs*G*H, input] matrix, so one product projects both directions.
GateMatrix pack_input_weights(const runtime::PrepareContext& ctx, const RnnConfig& cfg);
// Packs rows [row0, row0 + rows) of R[d] (a [G*H, H] matrix) for H_{t-1} · R_dᵀ.
GateMatrix pack_recurrent(const runtime::PrepareContext& ctx, const RnnConfig& cfg, int64_t d,
                          int64_t row0, int64_t rows);

// The bias of the input projection, [dirs*G*H]: Wb + Rb, except that Rb rows [skip0, skip1) of
// each direction are left out (GRU with linear_before_reset keeps Rbh inside r⊙(...)).
// b == nullptr gives zeros. Pure arithmetic, usable at run time.
void fold_bias(const RnnConfig& cfg, const float* b, int64_t skip0, int64_t skip1, float* out);

// Bump allocator over the scratch block; offsets are 64-byte aligned.
class ScratchPlan {
 public:
  size_t add(size_t bytes) {
    size_t at = total_;
    total_ += (bytes + 63) / 64 * 64;
    return at;
  }
  size_t total() const { return total_; }

 private:
  size_t total_ = 0;
};

template <typename T>
T* scratch_at(void* scratch, size_t offset) {
  return reinterpret_cast<T*>(static_cast<uint8_t*>(scratch) + offset);
}

// The shared run-time frame of one call.
struct RunFrame {
  const int64_t* lens = nullptr;  // per batch entry, clamped to [0, seq]
  int64_t max_len = 0;
  const float* xproj = nullptr;  // [seq*batch, dirs*G*H]
};

// Scratch the shared frame needs (sequence lengths, input projection, run-time bias).
struct FrameScratch {
  size_t lens = 0, xproj = 0, bias = 0;
  // The narrow products' buffer (see add_product_scratch), shared by the input projection and
  // the per-step products, which never run at the same time.
  size_t product = 0;
  bool runtime_bias = false;  // B is a run-time input: fold it into scratch at `bias` per run
};
FrameScratch plan_frame_scratch(const RnnConfig& cfg, bool runtime_bias, ScratchPlan& plan);
// Plans fs.product for the input projection with w and the per-step products with every matrix
// in rs (m = batch).
void add_product_scratch(const RnnConfig& cfg, const GateMatrix& w,
                         const std::vector<const GateMatrix*>& rs, FrameScratch& fs,
                         ScratchPlan& plan);

// Reads sequence_lens and runs the input projection. `bias` is the bias folded at plan time
// (nullptr: none), ignored when fs.runtime_bias asks to fold B now (skip0/skip1 as in fold_bias).
RunFrame begin_run(const RnnConfig& cfg, const FrameScratch& fs, const runtime::KernelArgs& args,
                   const GateMatrix& w, const float* bias, int64_t skip0, int64_t skip1);

// Copies an initial state (layout of initial_h) into `state`, or zeroes it when absent; nothing
// to do when they are the same buffer (state carried in place across calls).
void init_state(const RnnConfig& cfg, const float* initial, float* state);

// After the steps: zero Y past each sequence's end, and zero the final states of empty
// sequences (as onnxruntime does).
void finish_run(const RnnConfig& cfg, const RunFrame& f, float* y, float* yh, float* yc);

// The epilogue of step s's products H_{t-1} · Rᵀ: none, with the panel order alternating from
// step to step (GemmEpilogue::reverse_panels). R is read whole every step; a step that starts
// where the previous one ended finds that end still in L2 (lstm_h512: R 4 MiB, 5 % a step).
inline GemmEpilogue step_epilogue(int64_t s) {
  GemmEpilogue ep;
  ep.reverse_panels = s % 2 == 1;
  return ep;
}

// Splits hidden units [0, hidden) across the pool in 16-lane-aligned chunks and calls
// fn(j0, j1) for each; small layers run inline.
template <typename Fn>
void for_hidden_units(ThreadPool* pool, int64_t hidden, Fn&& fn) {
  constexpr int64_t kBlock = 16;
  // 512 units of a gate epilogue take about a microsecond, roughly the cost of waking a worker.
  constexpr int64_t kGrainBlocks = 32;
  const int64_t blocks = (hidden + kBlock - 1) / kBlock;
  pool->parallel_for(blocks, kGrainBlocks, [&](int64_t b0, int64_t b1) {
    fn(b0 * kBlock, b1 * kBlock < hidden ? b1 * kBlock : hidden);
  });
}

}  // namespace softdpu::kernels::rnn
