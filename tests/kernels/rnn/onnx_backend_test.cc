// The official ONNX backend node tests for LSTM, GRU and RNN (Debian libonnx-testdata, converted
// to .npy under tests/data/rnn/ by name: X.npy, W.npy, ..., Y.npy, Y_h.npy): outputs computed by
// the ONNX reference implementation, independent of softdpu.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/npy.h"
#include "kernels/rnn/rnn_reference.h"

namespace softdpu::testing {
namespace {

struct BackendCase {
  const char* dir;
  ir::OpType op;
  int64_t hidden;
  int64_t layout;
};

const BackendCase kCases[] = {
    {"test_gru_batchwise", ir::OpType::kGRU, 6, 1},
    {"test_gru_defaults", ir::OpType::kGRU, 5, 0},
    {"test_gru_seq_length", ir::OpType::kGRU, 5, 0},
    {"test_gru_with_initial_bias", ir::OpType::kGRU, 3, 0},
    {"test_lstm_batchwise", ir::OpType::kLSTM, 7, 1},
    {"test_lstm_defaults", ir::OpType::kLSTM, 3, 0},
    {"test_lstm_with_initial_bias", ir::OpType::kLSTM, 4, 0},
    {"test_lstm_with_peepholes", ir::OpType::kLSTM, 3, 0},
    {"test_rnn_seq_length", ir::OpType::kRNN, 5, 0},
    {"test_simple_rnn_batchwise", ir::OpType::kRNN, 4, 1},
    {"test_simple_rnn_defaults", ir::OpType::kRNN, 4, 0},
    {"test_simple_rnn_with_initial_bias", ir::OpType::kRNN, 5, 0},
};

TEST(RnnOnnxBackend, MatchesReferenceOutputs) {
  const char* in_names[] = {"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"};
  for (const BackendCase& c : kCases) {
    const std::filesystem::path dir =
        std::filesystem::path(SOFTDPU_SOURCE_DIR) / "tests/data/rnn" / c.dir;
    std::vector<OpInput> inputs;
    for (const char* n : in_names) {
      const std::filesystem::path p = dir / (std::string(n) + ".npy");
      // Weights are initializers in a deployed model; the rest are fed per request.
      const bool constant = n[0] == 'W' || n[0] == 'R' || n[0] == 'B' || n[0] == 'P';
      inputs.push_back(std::filesystem::exists(p) ? in(read_npy(p.string()), constant) : none());
    }
    while (!inputs.back().value) inputs.pop_back();
    std::map<std::string, ir::Attribute> attrs{{"hidden_size", attr_int(c.hidden)},
                                               {"layout", attr_int(c.layout)}};
    for (Isa isa : supported_isas()) {
      ScopedIsa scoped(isa);
      const std::vector<Tensor> out = run_op(c.op, inputs, attrs, 2, 1, 14);
      int checked = 0;
      for (int i = 0; i < 2; ++i) {
        const std::filesystem::path p = dir / (i == 0 ? "Y.npy" : "Y_h.npy");
        if (!std::filesystem::exists(p)) continue;
        const Tensor want = read_npy(p.string());
        EXPECT_LE(rnn_ref::max_scaled_err(out[i], want), 1e-5f)
            << c.dir << " output " << i << " " << isa_name(isa);
        ++checked;
      }
      EXPECT_GT(checked, 0) << c.dir;
    }
  }
}

}  // namespace
}  // namespace softdpu::testing
