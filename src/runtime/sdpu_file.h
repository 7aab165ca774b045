// The compiled model file (.sdpu), written by `softdpu compile`, read by Session::load.
//
// Layout (little-endian, every section 64-byte aligned so it can be used in place from mmap):
//   header (64 bytes)   magic "SDPU\r\n\x1a\n", format version, header size, file size,
//                       section table offset and count, CRC-32 of everything after the header
//   sections            "manifest": JSON (producer, source model, the plan options the model was
//                                   compiled with: precision, layer_precision, keep_fp32, and
//                                   the layer table)
//                       "model":    the source ONNX model (external data inlined)
//                       "weight:<key>": one encoded weight matrix (formats::PackedMatrix rows,
//                                   then int8 row scales), followed by 64 spare bytes
//   section table       per section: name, offset, size (at the end, so writing is one pass)
// A file whose magic, version, sizes or checksum do not hold is refused with a message saying
// which; a weight section whose geometry disagrees with its key is refused too.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "formats/packed.h"

namespace softdpu::runtime {

constexpr uint32_t kSdpuVersion = 1;

// True when the file starts with the .sdpu magic (whatever its version).
bool is_sdpu_file(const std::string& path);

struct SdpuContents {
  std::string manifest_json;
  std::string onnx_bytes;
  // Encoded weights keyed as EncodedWeights::key; their storage points into the mapping.
  std::map<std::string, std::shared_ptr<formats::PackedMatrix>> weights;
};

// Writes the file (atomically: a temporary beside it, then rename). Throws Error(kIoError).
void write_sdpu(const std::string& path, const std::string& manifest_json,
                const std::string& onnx_bytes,
                const std::map<std::string, std::shared_ptr<formats::PackedMatrix>>& weights);

// True when `bytes` start with the .sdpu magic.
bool is_sdpu_bytes(const std::string& bytes);

// The same checks on a file already in memory (the serving repository reads files once); the
// bytes are copied into 64-byte aligned storage the weights then live in. `what` names the
// source in messages.
SdpuContents read_sdpu_bytes(const std::string& bytes, const std::string& what);

// Maps and checks the file. Throws Error(kInvalidModel) naming the problem (not a .sdpu, other
// version, truncated, checksum mismatch, malformed section) or Error(kIoError).
SdpuContents read_sdpu(const std::string& path);

}  // namespace softdpu::runtime
