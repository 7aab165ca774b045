#include "compress/compressed_matrix.h"

#include <sstream>

#include "compress/circulant.h"
#include "compress/circulant_matrix.h"
#include "compress/sparse_matrix.h"
#include "softdpu/status.h"

namespace softdpu::compress {
namespace {

[[noreturn]] void bad_arg(const std::string& msg) {
  throw Error(StatusCode::kInvalidArgument, msg);
}

}  // namespace

void check_circulant_block(int block) {
  if (block < 4 || block > 256 || (block & (block - 1)) != 0) {
    bad_arg(
        "circulant block size must be a power of two from 4 to 256 (4, 8, 16, 32, 64, 128, "
        "256), got " +
        std::to_string(block));
  }
}

void check_density(double density) {
  if (!(density > 0.0 && density <= 1.0)) {
    std::ostringstream s;
    s << "prune density must be in (0, 1] (the fraction of weights kept), got " << density;
    bad_arg(s.str());
  }
}

void check_codebook(int bits, const std::string& values) {
  if (bits < 0 || bits > 4) {
    bad_arg("codebook bits must be 1 to 4 (EIE stores a 4-bit index; 0 = no codebook), got " +
            std::to_string(bits));
  }
  if (values != "fp32" && values != "bf16" && values != "fp16")
    bad_arg("codebook values must be fp32, bf16 or fp16, got '" + values + "'");
}

std::string CompressionSpec::to_string() const {
  switch (kind) {
    case Kind::kNone: return "none";
    case Kind::kCirculant: return "circulant:" + std::to_string(block);
    case Kind::kSparse:
      return "sparse:" + std::to_string(pes) + ":" + std::to_string(codebook_bits) + ":" +
             codebook_values;
  }
  return "none";
}

CompressionSpec CompressionSpec::parse(const std::string& s) {
  CompressionSpec spec;
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string p; std::getline(in, p, ':');) parts.push_back(p);
  try {
    if (parts.size() == 2 && parts[0] == "circulant") {
      spec.kind = Kind::kCirculant;
      spec.block = std::stoi(parts[1]);
      check_circulant_block(spec.block);
      return spec;
    }
    if (parts.size() == 4 && parts[0] == "sparse") {
      spec.kind = Kind::kSparse;
      spec.pes = std::stoi(parts[1]);
      spec.codebook_bits = std::stoi(parts[2]);
      spec.codebook_values = parts[3];
      check_codebook(spec.codebook_bits, spec.codebook_values);
      if (spec.pes >= 1) return spec;
    }
    if (parts.size() == 1 && parts[0] == "none") return spec;
  } catch (const std::exception&) {
  }
  throw Error(StatusCode::kInvalidModel, "malformed compression attribute '" + s + "'");
}

std::shared_ptr<CompressedMatrix> make_compressed(const CompressionSpec& spec, const float* w,
                                                  int64_t n, int64_t k, int64_t ldw) {
  switch (spec.kind) {
    case CompressionSpec::Kind::kCirculant:
      return std::make_shared<CirculantMatrix>(project_circulant(w, n, k, ldw, spec.block));
    case CompressionSpec::Kind::kSparse: {
      SparseOptions o;
      o.pes = spec.pes;
      o.codebook_bits = spec.codebook_bits;
      o.codebook_values = spec.codebook_values;
      return std::make_shared<SparseMatrix>(w, n, k, ldw, o);
    }
    case CompressionSpec::Kind::kNone: break;
  }
  return nullptr;
}

}  // namespace softdpu::compress
