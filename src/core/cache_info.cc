#include "core/cache_info.h"

#include <cctype>
#include <fstream>
#include <string>

namespace softdpu {
namespace {

bool read_line(const std::string& path, std::string* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::getline(f, *out);
  while (!out->empty() && std::isspace(static_cast<unsigned char>(out->back()))) out->pop_back();
  return true;
}

}  // namespace

size_t parse_cache_size(const std::string& text) {
  size_t i = 0, n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
    n = n * 10 + (text[i++] - '0');
  if (i == 0) return 0;
  std::string unit = text.substr(i);
  if (unit.empty()) return n;
  if (unit == "K") return n << 10;
  if (unit == "M") return n << 20;
  if (unit == "G") return n << 30;
  return 0;
}

CacheSizes read_cache_sizes(const std::string& sysfs_dir) {
  CacheSizes c;
  bool any = false;
  for (int index = 0; index < 16; ++index) {
    const std::string dir = sysfs_dir + "/index" + std::to_string(index);
    std::string level, type, size;
    if (!read_line(dir + "/level", &level) || !read_line(dir + "/type", &type) ||
        !read_line(dir + "/size", &size))
      continue;
    const size_t bytes = parse_cache_size(size);
    if (bytes == 0) continue;
    any = true;
    if (level == "1" && type == "Data") c.l1d = bytes;
    if (level == "2" && type != "Instruction") c.l2 = bytes;
    if (level == "3" && type != "Instruction") c.l3 = bytes;
  }
  c.from_sysfs = any && c.l1d && c.l2 && c.l3;
  if (!c.l1d) c.l1d = 32 << 10;
  if (!c.l2) c.l2 = 1 << 20;
  if (!c.l3) c.l3 = 8 << 20;
  return c;
}

}  // namespace softdpu
