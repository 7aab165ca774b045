#include "runtime/compression.h"

#include <cmath>
#include <set>
#include <sstream>
#include <vector>

#include "compress/circulant.h"
#include "compress/compressed_matrix.h"
#include "compress/sparse.h"
#include "compress/sparse_matrix.h"
#include "runtime/precision.h"

namespace softdpu::runtime {
namespace {

[[noreturn]] void bad_arg(const std::string& msg) {
  throw Error(StatusCode::kInvalidArgument, msg);
}

// A weight input as the kernels see it: N x K rows = outputs (weight_rows_cols). Copied out of
// its ONNX layout when that is K x N (MatMul and Gemm without transB) or when the caller will
// rewrite the rows; otherwise read in place, so detection on a plain plan copies no weight (an
// RNN's W and R copied side by side were the peak of a large model's plan).
struct RowMatrix {
  int input = 0;
  int64_t n = 0, k = 0;
  bool kn = false;  // stored K x N in the graph
  // Conv W [M, C, k...]: the columns are ordered kernel position first (column kpos * C + ch, the
  // layout the compressed Conv multiplies: a position's M x C slice is a run of whole blocks).
  int64_t conv_channels = 0;
  std::vector<float> w;         // the copy, when made
  const float* rows = nullptr;  // in place, when not copied
  const float* data() const { return w.empty() ? rows : w.data(); }

  // The graph's flat index of entry (r, col).
  int64_t graph_index(int64_t r, int64_t col) const {
    if (kn) return col * n + r;
    if (conv_channels > 0) {
      const int64_t ks = k / conv_channels;
      return r * k + (col % conv_channels) * ks + col / conv_channels;
    }
    return r * k + col;
  }
};

RowMatrix read_rows(const ir::Graph& g, const ir::Node& node, int input, bool copy) {
  const Tensor& t = *g.values[node.inputs[input]].constant;
  RowMatrix m;
  m.input = input;
  weight_rows_cols(node, input, t.shape(), &m.n, &m.k);
  if (t.shape().size() == 2) {  // Gemm without transB and MatMul hold B as K x N
    const ir::Attribute* tb = node.attr("transB");
    m.kn = node.op == ir::OpType::kMatMul || tb == nullptr || tb->i == 0;
  }
  if (node.op == ir::OpType::kConv) m.conv_channels = t.shape()[1];
  const float* d = t.data_as<float>();
  if (!copy && !m.kn && m.conv_channels == 0) {  // already N x K rows in the graph
    m.rows = d;
    return m;
  }
  m.w.resize(static_cast<size_t>(m.n * m.k));
  for (int64_t r = 0; r < m.n; ++r)
    for (int64_t c = 0; c < m.k; ++c) m.w[r * m.k + c] = d[m.graph_index(r, c)];
  return m;
}

// Replaces the graph constant with m.w in the original layout (a new tensor: the loaded model
// keeps its weights, so a re-plan starts from them again).
void write_rows(ir::Graph& g, const ir::Node& node, const RowMatrix& m) {
  ir::Value& v = g.values[node.inputs[m.input]];
  Tensor t(DType::kFloat32, v.constant->shape());
  float* d = t.data_as<float>();
  for (int64_t r = 0; r < m.n; ++r)
    for (int64_t c = 0; c < m.k; ++c) d[m.graph_index(r, c)] = m.w[r * m.k + c];
  v.constant = std::move(t);
}

bool is_rnn(const ir::Node& node) {
  return node.op == ir::OpType::kLSTM || node.op == ir::OpType::kGRU || node.op == ir::OpType::kRNN;
}

// Why `node` cannot take circulant blocks of size b ("" when it can).
std::string circulant_refusal(const ir::Node& node, const std::vector<RowMatrix>& ms, int b) {
  for (const RowMatrix& m : ms) {
    if (m.n < b || m.k < b) {
      return "its weight is " + std::to_string(m.n) + " outputs x " + std::to_string(m.k) +
             " inputs, smaller than one " + std::to_string(b) + "x" + std::to_string(b) +
             " block (padding would store more than the dense matrix)";
    }
  }
  if (node.op == ir::OpType::kConv) {
    const int64_t channels = ms[0].conv_channels;
    if (channels % b != 0) {
      return "its " + std::to_string(channels) + " input channels are not a multiple of " +
             std::to_string(b) + ", so blocks would straddle kernel positions (the circulant " +
             "blocks are (out-channel, in-channel) blocks at each kernel position)";
    }
  }
  if (is_rnn(node)) {
    const int64_t hidden = ms.back().k;  // R is [dirs*G*H, H]
    if (hidden % b != 0) {
      return "hidden_size " + std::to_string(hidden) + " is not a multiple of " +
             std::to_string(b) + ", so blocks would straddle gates (the kernels use gate slices)";
    }
  }
  return "";
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "(none)" : s;
}

void set_attr(ir::Node& node, const char* key, const std::string& s) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kString;
  a.s = s;
  node.attrs[key] = a;
}

void annotate(ir::Node& node, const compress::CompressionSpec& spec, const std::string& format,
              const std::vector<int64_t>& bytes, double error, bool lossy) {
  set_attr(node, kCompressionAttr, spec.to_string());
  set_attr(node, kCompressionFormatAttr, format);
  ir::Attribute b;
  b.kind = ir::Attribute::Kind::kInts;
  b.ints = bytes;
  node.attrs[kCompressedBytesAttr] = b;
  if (lossy) {
    ir::Attribute e;
    e.kind = ir::Attribute::Kind::kFloat;
    e.f = static_cast<float>(error);
    node.attrs[kCompressionErrorAttr] = e;
  }
}

int64_t circulant_bytes(const RowMatrix& m, int b) {
  return ((m.n + b - 1) / b) * ((m.k + b - 1) / b) * b * static_cast<int64_t>(sizeof(float));
}

// Relative Frobenius error over several matrices: sqrt(sum ||W - W'||^2 / sum ||W||^2).
struct ErrorSum {
  double err = 0, norm = 0;
  void add(const std::vector<float>& before, const std::vector<float>& after) {
    for (size_t i = 0; i < before.size(); ++i) {
      const double d = double(before[i]) - after[i];
      err += d * d;
      norm += double(before[i]) * before[i];
    }
  }
  double value() const { return norm > 0 ? std::sqrt(err / norm) : 0.0; }
};

}  // namespace

void validate_compression_options(const ir::Graph& model, const PlanOptions& opt) {
  if (opt.circulant_block != 0) compress::check_circulant_block(opt.circulant_block);
  if (opt.prune_density != 0) compress::check_density(opt.prune_density);
  compress::check_codebook(opt.codebook_bits, opt.codebook_values);
  if (opt.codebook_bits != 0 && opt.prune_density == 0) {
    bad_arg("codebook bits " + std::to_string(opt.codebook_bits) +
            " need a prune density (weight sharing applies to the pruned sparse layers; use "
            "--prune 1 to share weights without pruning)");
  }
  if (!(opt.sparse_threshold >= 0 && opt.sparse_threshold <= 1)) {
    std::ostringstream s;
    s << "sparse_threshold must be in [0, 1], got " << opt.sparse_threshold;
    bad_arg(s.str());
  }
  if (!opt.circulant_layers.empty() && opt.circulant_block == 0)
    bad_arg("circulant_layers is given but no circulant block size");
  if (opt.circulant_block != 0 && opt.prune_density != 0 && opt.circulant_layers.empty()) {
    bad_arg("both circulant and prune apply to every layer: name the circulant layers (" +
            std::string("--circulant-layers") + ") and the others are pruned");
  }
  std::set<std::string> nodes;
  for (const ir::Node& n : model.nodes) nodes.insert(n.name);
  for (const std::string& name : opt.circulant_layers) {
    if (!nodes.count(name))
      bad_arg("circulant_layers names node '" + name + "', which is not in the model");
  }
}

void assign_compression(ir::Graph& g, const PlanOptions& opt) {
  const std::set<std::string> named(opt.circulant_layers.begin(), opt.circulant_layers.end());
  std::set<std::string> seen;
  std::vector<std::string> eligible;
  for (ir::Node& node : g.nodes) {
    const std::vector<int> wins = weight_inputs(g, node);
    if (wins.empty()) continue;
    eligible.push_back(node.name);
    const bool is_named = named.count(node.name) > 0;
    if (is_named) seen.insert(node.name);
    const bool want_circulant =
        opt.circulant_block != 0 && (opt.circulant_layers.empty() || is_named);
    const bool rewrites = want_circulant || opt.prune_density != 0;
    if (!rewrites && !opt.detect_compression) continue;
    std::vector<RowMatrix> ms;
    for (int i : wins) ms.push_back(read_rows(g, node, i, rewrites));
    std::vector<int64_t> bytes;

    if (want_circulant) {
      const int b = opt.circulant_block;
      const std::string why = circulant_refusal(node, ms, b);
      if (!why.empty() && is_named) {
        bad_arg("layer '" + node.name + "' (" + ir::op_name(node.op) +
                ") cannot take circulant blocks of " + std::to_string(b) + ": " + why);
      }
      if (why.empty()) {
        ErrorSum err;
        for (RowMatrix& m : ms) {
          const compress::CirculantVectors v =
              compress::project_circulant(m.w.data(), m.n, m.k, m.k, b);
          std::vector<float> proj(m.w.size());
          compress::expand_circulant(v, proj.data(), m.k);
          err.add(m.w, proj);
          m.w = std::move(proj);
          write_rows(g, node, m);
          bytes.push_back(circulant_bytes(m, b));
        }
        compress::CompressionSpec spec;
        spec.kind = compress::CompressionSpec::Kind::kCirculant;
        spec.block = b;
        annotate(node, spec, "circulant-b" + std::to_string(b), bytes, err.value(), true);
        continue;
      }
      if (opt.prune_density == 0) continue;  // stays dense (its format shows it)
    }
    if (opt.prune_density != 0) {
      compress::CompressionSpec spec;
      spec.kind = compress::CompressionSpec::Kind::kSparse;
      spec.pes = opt.threads;
      spec.codebook_bits = opt.codebook_bits;
      spec.codebook_values = opt.codebook_values;
      ErrorSum err;
      std::string format;
      for (RowMatrix& m : ms) {
        const std::vector<float> before = m.w;
        compress::prune_by_magnitude(m.w.data(), m.n, m.k, m.k, opt.prune_density);
        if (opt.codebook_bits > 0)
          compress::share_weights(m.w.data(), m.n, m.k, m.k, opt.codebook_bits,
                                  opt.codebook_values);
        err.add(before, m.w);
        write_rows(g, node, m);
        compress::SparseMatrix sm(m.w.data(), m.n, m.k, m.k,
                                  {spec.pes, spec.codebook_bits, spec.codebook_values});
        bytes.push_back(static_cast<int64_t>(sm.bytes()));
        format = sm.format();
      }
      annotate(node, spec, format, bytes, err.value(), true);
      continue;
    }
    if (!opt.detect_compression) continue;
    // Lossless detection: the largest block size every weight input is exactly circulant at.
    int block = 0;
    for (int b = 256; b >= 4 && block == 0; b /= 2) {
      if (!circulant_refusal(node, ms, b).empty()) continue;
      bool all = true;
      for (const RowMatrix& m : ms)
        all = all && compress::is_block_circulant(m.data(), m.n, m.k, m.k, b);
      if (all) block = b;
    }
    bool all_zero = true;
    for (const RowMatrix& m : ms)
      all_zero = all_zero && compress::density_of(m.data(), m.n, m.k, m.k) == 0.0;
    if (block != 0 && !all_zero) {
      compress::CompressionSpec spec;
      spec.kind = compress::CompressionSpec::Kind::kCirculant;
      spec.block = block;
      for (const RowMatrix& m : ms) bytes.push_back(circulant_bytes(m, block));
      annotate(node, spec, "circulant-b" + std::to_string(block), bytes, 0, false);
      continue;
    }
    bool sparse = true;
    for (const RowMatrix& m : ms)
      sparse = sparse && compress::density_of(m.data(), m.n, m.k, m.k) <= opt.sparse_threshold;
    if (sparse) {
      compress::CompressionSpec spec;
      spec.kind = compress::CompressionSpec::Kind::kSparse;
      spec.pes = opt.threads;
      std::string format;
      for (const RowMatrix& m : ms) {
        compress::SparseMatrix sm(m.data(), m.n, m.k, m.k, {spec.pes, 0, "fp32"});
        bytes.push_back(static_cast<int64_t>(sm.bytes()));
        format = sm.format();
      }
      annotate(node, spec, format, bytes, 0, false);
    }
  }
  for (const std::string& name : opt.circulant_layers) {
    if (!seen.count(name)) {
      bad_arg("circulant_layers names node '" + name +
              "', which is not a weight layer (Gemm/MatMul with a constant 2-D float32 weight, "
              "ungrouped Conv, LSTM/GRU/RNN) after planning; weight layers: " +
              join(eligible));
    }
  }
}

}  // namespace softdpu::runtime
