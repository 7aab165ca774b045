#include "data/idx_file.h"

#include <zlib.h>

#include <cstring>

#include "softdpu/status.h"

namespace softdpu::data {
namespace {

// The whole file, inflated when gzip'd (gzread passes plain files through unchanged).
std::string read_maybe_gzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error(StatusCode::kIoError, "cannot open " + path, path);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    int n = gzread(f, buf, sizeof(buf));
    if (n < 0) {
      int err = 0;
      std::string msg = gzerror(f, &err);
      gzclose(f);
      throw Error(StatusCode::kIoError, "cannot read " + path + ": " + msg, path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  gzclose(f);
  return out;
}

uint32_t big_endian_u32(const std::string& s, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + at);
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

}  // namespace

Tensor read_idx_u8(const std::string& path) {
  const std::string bytes = read_maybe_gzip(path);
  auto bad = [&](const std::string& why) {
    return Error(StatusCode::kInvalidArgument, path + ": not an IDX file of bytes: " + why, path);
  };
  if (bytes.size() < 4) throw bad("shorter than its 4-byte magic");
  if (bytes[0] != 0 || bytes[1] != 0) throw bad("magic does not start with two zero bytes");
  if (static_cast<unsigned char>(bytes[2]) != 0x08) {
    throw bad("element type code is " + std::to_string(static_cast<unsigned char>(bytes[2])) +
              ", expected 8 (unsigned byte)");
  }
  const int rank = static_cast<unsigned char>(bytes[3]);
  if (rank < 1 || rank > 4) throw bad("rank " + std::to_string(rank) + " is outside 1..4");
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  if (bytes.size() < header) throw bad("truncated in its dimension list");
  Shape shape;
  uint64_t numel = 1;
  for (int i = 0; i < rank; ++i) {
    const uint32_t d = big_endian_u32(bytes, 4 + 4 * i);
    shape.push_back(d);
    numel *= d;
  }
  if (bytes.size() - header != numel) {
    throw bad("header announces " + std::to_string(numel) + " elements " + shape_to_string(shape) +
              ", file holds " + std::to_string(bytes.size() - header));
  }
  Tensor t(DType::kUInt8, shape);
  if (numel) std::memcpy(t.data(), bytes.data() + header, numel);
  return t;
}

}  // namespace softdpu::data
