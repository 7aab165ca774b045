// The few lines of .npy I/O the LibTorch peer needs (float32 / int64, C order), kept separate from
// softdpu's own reader (src/core/npy.h) so the peer shares no code with the engine it is measured
// against. Throws std::runtime_error naming the file and what is wrong with it.
#pragma once

#include <cstdint>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace npy {

struct Array {
  std::string descr;  // "<f4" or "<i8"
  std::vector<int64_t> shape;
  std::vector<char> data;  // raw little-endian payload
};

inline Array read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open");
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    throw std::runtime_error(path + ": not a .npy file (bad magic)");
  const unsigned char major = static_cast<unsigned char>(bytes[6]);
  size_t start = major == 1 ? 10 : 12;
  if (bytes.size() < start) throw std::runtime_error(path + ": truncated header");
  size_t header_len =
      static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  if (major != 1)
    header_len |= (static_cast<size_t>(static_cast<unsigned char>(bytes[10])) << 16) |
                  (static_cast<size_t>(static_cast<unsigned char>(bytes[11])) << 24);
  if (bytes.size() < start + header_len) throw std::runtime_error(path + ": truncated header");
  std::string header = bytes.substr(start, header_len);
  std::smatch m;
  Array a;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']+)'")))
    throw std::runtime_error(path + ": header has no descr: " + header);
  a.descr = m[1];
  if (a.descr != "<f4" && a.descr != "<i8")
    throw std::runtime_error(path + ": dtype " + a.descr + " not supported (expected <f4 or <i8)");
  if (header.find("'fortran_order': False") == std::string::npos)
    throw std::runtime_error(path + ": only C-order arrays are supported");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")))
    throw std::runtime_error(path + ": header has no shape: " + header);
  std::stringstream dims(m[1]);
  std::string d;
  int64_t count = 1;
  while (std::getline(dims, d, ',')) {
    if (d.find_first_not_of(" ") == std::string::npos) continue;
    a.shape.push_back(std::stoll(d));
    count *= a.shape.back();
  }
  size_t need = static_cast<size_t>(count) * (a.descr == "<f4" ? 4 : 8);
  size_t offset = start + header_len;
  if (bytes.size() - offset < need)
    throw std::runtime_error(path + ": payload has " + std::to_string(bytes.size() - offset) +
                             " bytes, shape needs " + std::to_string(need));
  a.data.assign(bytes.begin() + offset, bytes.begin() + offset + need);
  return a;
}

inline void write_f32(const std::string& path, const float* data,
                      const std::vector<int64_t>& shape) {
  std::string s = "(";
  int64_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    s += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
    count *= shape[i];
  }
  s += ")";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + s + ", }";
  header += std::string(63 - (10 + header.size()) % 64, ' ') + "\n";
  std::ofstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot write");
  const uint16_t len = static_cast<uint16_t>(header.size());
  f.write("\x93NUMPY\x01\x00", 8);
  f.put(static_cast<char>(len & 0xff));
  f.put(static_cast<char>(len >> 8));
  f << header;
  f.write(reinterpret_cast<const char*>(data), count * 4);
  if (!f) throw std::runtime_error(path + ": write failed");
}

}  // namespace npy
