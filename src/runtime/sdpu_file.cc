#include "runtime/sdpu_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <vector>

#include "softdpu/status.h"

namespace softdpu::runtime {
namespace {

constexpr char kMagic[8] = {'S', 'D', 'P', 'U', '\r', '\n', '\x1a', '\n'};
constexpr size_t kAlign = 64, kSpare = 64, kNameBytes = 40;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;
  uint64_t file_bytes;
  uint64_t table_offset;
  uint32_t section_count;
  uint32_t crc32;  // of bytes [header_bytes, file_bytes)
  uint8_t reserved[24];
};
static_assert(sizeof(Header) == 64, "the header is one cache line");

struct SectionEntry {
  char name[kNameBytes];  // NUL-padded; longer names are stored in a "names" prefix (see below)
  uint64_t offset;
  uint64_t bytes;
  uint64_t name_offset;  // when the name does not fit: offset of a NUL-terminated name
};
static_assert(sizeof(SectionEntry) == 64, "one table entry per cache line");

// Weight section header, before the rows.
struct WeightHeader {
  int64_t rows, cols, row_bytes, scale_count;
  char format[32];
};
static_assert(sizeof(WeightHeader) == 64, "rows start 64-byte aligned");

uint32_t crc_of(const uint8_t* p, size_t n) {
  uLong c = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    c = crc32(c, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(c);
}

size_t align_up(size_t v) {
  return (v + kAlign - 1) / kAlign * kAlign;
}

class Mapping {
 public:
  Mapping(void* p, size_t n) : p_(p), n_(n) {}
  ~Mapping() { munmap(p_, n_); }
  const uint8_t* data() const { return static_cast<const uint8_t*>(p_); }

 private:
  void* p_;
  size_t n_;
};

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw Error(StatusCode::kInvalidModel, path + ": not a usable softdpu compiled model: " + why,
              path);
}

SdpuContents parse_sdpu(std::shared_ptr<const void> owner, const uint8_t* base, size_t size,
                        const std::string& path);

}  // namespace

bool is_sdpu_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char m[8] = {};
  f.read(m, 8);
  return f.gcount() == 8 && std::memcmp(m, kMagic, 8) == 0;
}

bool is_sdpu_bytes(const std::string& bytes) {
  return bytes.size() >= 8 && std::memcmp(bytes.data(), kMagic, 8) == 0;
}

void write_sdpu(const std::string& path, const std::string& manifest_json,
                const std::string& onnx_bytes,
                const std::map<std::string, std::shared_ptr<formats::PackedMatrix>>& weights) {
  std::string body;  // everything after the header
  std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>> sections;
  auto add_section = [&](const std::string& name, const std::string& bytes) {
    body.resize(align_up(sizeof(Header) + body.size()) - sizeof(Header), '\0');
    sections.push_back({name, {sizeof(Header) + body.size(), bytes.size()}});
    body += bytes;
  };
  add_section("manifest", manifest_json);
  add_section("model", onnx_bytes);
  for (const auto& [key, m] : weights) {
    WeightHeader h{};
    h.rows = m->rows();
    h.cols = m->cols();
    h.row_bytes = m->row_bytes();
    h.scale_count = m->row_scales() ? m->rows() : 0;
    std::strncpy(h.format, m->format().name.c_str(), sizeof(h.format) - 1);
    std::string bytes(reinterpret_cast<const char*>(&h), sizeof(h));
    bytes.append(reinterpret_cast<const char*>(m->data()),
                 static_cast<size_t>(m->rows() * m->row_bytes()));
    bytes.append(kSpare, '\0');  // SIMD decoders may load a whole vector at the last block
    if (h.scale_count) {
      bytes.append(reinterpret_cast<const char*>(m->row_scales()),
                   static_cast<size_t>(h.scale_count) * sizeof(float));
    }
    add_section("weight:" + key, bytes);
  }
  // Long names go into a names area before the table.
  std::vector<SectionEntry> table;
  std::string names;
  const size_t names_at = align_up(sizeof(Header) + body.size());
  for (const auto& [name, range] : sections) {
    SectionEntry e{};
    e.offset = range.first;
    e.bytes = range.second;
    if (name.size() < kNameBytes) {
      std::memcpy(e.name, name.data(), name.size());
    } else {
      e.name_offset = names_at + names.size();
      names += name;
      names += '\0';
    }
    table.push_back(e);
  }
  body.resize(names_at - sizeof(Header), '\0');
  body += names;
  body.resize(align_up(sizeof(Header) + body.size()) - sizeof(Header), '\0');
  const uint64_t table_offset = sizeof(Header) + body.size();
  body.append(reinterpret_cast<const char*>(table.data()), table.size() * sizeof(SectionEntry));

  Header h{};
  std::memcpy(h.magic, kMagic, 8);
  h.version = kSdpuVersion;
  h.header_bytes = sizeof(Header);
  h.file_bytes = sizeof(Header) + body.size();
  h.table_offset = table_offset;
  h.section_count = static_cast<uint32_t>(table.size());
  h.crc32 = crc_of(reinterpret_cast<const uint8_t*>(body.data()), body.size());

  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(&h), sizeof(h));
    f.write(body.data(), static_cast<std::streamsize>(body.size()));
    if (!f) throw Error(StatusCode::kIoError, "cannot write " + tmp, tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw Error(StatusCode::kIoError, "cannot rename " + tmp + " to " + path, path);
  }
}

SdpuContents read_sdpu(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(StatusCode::kIoError, "cannot open " + path, path);
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    close(fd);
    throw Error(StatusCode::kIoError, "cannot stat " + path, path);
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < sizeof(Header)) {
    close(fd);
    refuse(path, "shorter than the 64-byte header (" + std::to_string(size) + " bytes)");
  }
  void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) throw Error(StatusCode::kIoError, "cannot map " + path, path);
  auto map = std::make_shared<Mapping>(p, size);
  return parse_sdpu(map, map->data(), size, path);
}

SdpuContents read_sdpu_bytes(const std::string& bytes, const std::string& what) {
  if (bytes.size() < sizeof(Header)) {
    refuse(what, "shorter than the 64-byte header (" + std::to_string(bytes.size()) + " bytes)");
  }
  // Weight sections are used in place and must be 64-byte aligned: copy into aligned storage.
  std::shared_ptr<uint8_t> copy(
      static_cast<uint8_t*>(std::aligned_alloc(kAlign, align_up(bytes.size()))),
      [](uint8_t* q) { std::free(q); });
  if (!copy) throw std::bad_alloc();
  std::memcpy(copy.get(), bytes.data(), bytes.size());
  return parse_sdpu(copy, copy.get(), bytes.size(), what);
}

namespace {

SdpuContents parse_sdpu(std::shared_ptr<const void> owner, const uint8_t* base, size_t size,
                        const std::string& path) {
  Header h;
  std::memcpy(&h, base, sizeof(h));
  if (std::memcmp(h.magic, kMagic, 8) != 0) refuse(path, "wrong magic (is it an ONNX file?)");
  if (h.version != kSdpuVersion) {
    refuse(path, "format version " + std::to_string(h.version) + ", this softdpu reads version " +
                     std::to_string(kSdpuVersion) + " (compile the model again)");
  }
  if (h.header_bytes != sizeof(Header) || h.file_bytes != size) {
    refuse(path, "truncated or extended: the header says " + std::to_string(h.file_bytes) +
                     " bytes, the file has " + std::to_string(size));
  }
  if (crc_of(base + sizeof(Header), size - sizeof(Header)) != h.crc32) {
    refuse(path, "checksum mismatch (the file is corrupt)");
  }
  if (h.table_offset > size || (size - h.table_offset) / sizeof(SectionEntry) < h.section_count) {
    refuse(path, "section table out of bounds");
  }
  SdpuContents out;
  for (uint32_t i = 0; i < h.section_count; ++i) {
    SectionEntry e;
    std::memcpy(&e, base + h.table_offset + i * sizeof(SectionEntry), sizeof(e));
    if (e.offset > size || e.bytes > size - e.offset || e.offset % kAlign != 0) {
      refuse(path, "section " + std::to_string(i) + " out of bounds");
    }
    std::string name;
    if (e.name_offset) {
      if (e.name_offset >= size) refuse(path, "section name out of bounds");
      const auto* s = reinterpret_cast<const char*>(base + e.name_offset);
      name.assign(s, strnlen(s, size - e.name_offset));
    } else {
      name.assign(e.name, strnlen(e.name, kNameBytes));
    }
    const uint8_t* data = base + e.offset;
    if (name == "manifest") {
      out.manifest_json.assign(reinterpret_cast<const char*>(data), e.bytes);
    } else if (name == "model") {
      out.onnx_bytes.assign(reinterpret_cast<const char*>(data), e.bytes);
    } else if (name.rfind("weight:", 0) == 0) {
      WeightHeader w;
      if (e.bytes < sizeof(w)) refuse(path, "weight section " + name + " is truncated");
      std::memcpy(&w, data, sizeof(w));
      w.format[sizeof(w.format) - 1] = '\0';
      const formats::WeightFormat f = formats::parse_format(w.format);
      const int64_t row_bytes = formats::storage_row_bytes(f, w.cols);
      const uint64_t need = sizeof(w) + uint64_t(w.rows) * uint64_t(row_bytes) + kSpare +
                            uint64_t(w.scale_count) * sizeof(float);
      if (w.rows < 0 || w.cols < 0 || w.row_bytes != row_bytes || e.bytes < need ||
          (w.scale_count != 0 && w.scale_count != w.rows)) {
        refuse(path, "weight section " + name + " has an inconsistent geometry");
      }
      std::vector<float> scales(static_cast<size_t>(w.scale_count));
      if (w.scale_count) {
        std::memcpy(scales.data(), data + sizeof(w) + w.rows * row_bytes + kSpare,
                    scales.size() * sizeof(float));
      }
      // The rows stay in the mapping; the aliasing pointer keeps the mapping alive.
      std::shared_ptr<uint8_t> rows(owner, const_cast<uint8_t*>(data + sizeof(w)));
      out.weights[name.substr(7)] = std::make_shared<formats::PackedMatrix>(
          formats::PackedMatrix::adopt(f, w.rows, w.cols, rows, std::move(scales)));
    } else {
      refuse(path, "unknown section '" + name + "'");
    }
  }
  if (out.manifest_json.empty() || out.onnx_bytes.empty()) {
    refuse(path, "the manifest or model section is missing");
  }
  return out;
}

}  // namespace

}  // namespace softdpu::runtime
