// Filesystem side of the model repository.
#include "server/model_repository.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace softdpu::server {
namespace fs = std::filesystem;

std::vector<std::string> list_models(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !it->is_directory(ec)) continue;
    out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool model_on_disk(const std::string& root, const std::string& name) {
  if (name.empty() || name[0] == '.' || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos)
    return false;
  std::error_code ec;
  return fs::is_directory(fs::path(root) / name, ec);
}

Status read_model_config(const std::string& root, const std::string& model, ModelConfig* out) {
  fs::path p = fs::path(root) / model / "config.json";
  std::string text;
  std::error_code ec;
  if (fs::exists(p, ec)) {
    std::ifstream f(p, std::ios::binary);
    if (!f) return {StatusCode::kIoError, "cannot read " + p.string()};
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
  }
  return parse_model_config(text, model, out);
}

std::vector<int64_t> list_versions(const std::string& root, const std::string& model) {
  std::vector<int64_t> out;
  std::error_code ec;
  for (fs::directory_iterator it(fs::path(root) / model, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name.size() > 18 ||
        !std::all_of(name.begin(), name.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      continue;
    if (!fs::exists(it->path() / "model.sdpu", ec) && !fs::exists(it->path() / "model.onnx", ec))
      continue;
    out.push_back(std::stoll(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status select_versions(const ModelConfig& c, const std::vector<int64_t>& available,
                       std::vector<int64_t>* out) {
  out->clear();
  if (c.version_policy == "all") {
    *out = available;
  } else if (c.version_policy == "specific") {
    for (int64_t v : c.specific_versions)
      if (std::find(available.begin(), available.end(), v) != available.end()) out->push_back(v);
  } else {
    size_t n = std::min<size_t>(static_cast<size_t>(c.latest_n), available.size());
    out->assign(available.end() - static_cast<std::ptrdiff_t>(n), available.end());
  }
  if (out->empty()) {
    std::string have;
    for (int64_t v : available) have += (have.empty() ? "" : ", ") + std::to_string(v);
    return {StatusCode::kNotFound,
            "model '" + c.name + "': no version to serve under policy '" + c.version_policy +
                "' (version directories with a " +
                "model.sdpu or model.onnx: " + (have.empty() ? "none" : have) + ")"};
  }
  return Status::ok();
}

std::string model_file(const std::string& root, const std::string& model, int64_t version) {
  // A compiled model (softdpu compile, docs/precision.md) wins over the ONNX beside it.
  const fs::path dir = fs::path(root) / model / std::to_string(version);
  std::error_code ec;
  if (fs::exists(dir / "model.sdpu", ec)) return (dir / "model.sdpu").string();
  return (dir / "model.onnx").string();
}

std::string model_fingerprint(const std::string& root, const std::string& model) {
  std::ostringstream fp;
  std::error_code ec;
  auto stamp = [&](const fs::path& p) {
    auto size = fs::file_size(p, ec);
    auto mtime = fs::last_write_time(p, ec).time_since_epoch().count();
    fp << p.filename().string() << ':' << (ec ? 0 : size) << ':' << (ec ? 0 : mtime) << ';';
  };
  stamp(fs::path(root) / model / "config.json");
  for (int64_t v : list_versions(root, model)) {
    fp << v << '/';
    stamp(fs::path(model_file(root, model, v)));
  }
  return fp.str();
}

std::string find_bundled_repository() {
  std::error_code ec;
  std::vector<fs::path> candidates{fs::current_path(ec) / "models"};
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(exe.parent_path() / "models");
    candidates.push_back(exe.parent_path().parent_path() / "models");
  }
  for (const fs::path& c : candidates)
    if (fs::is_directory(c, ec) && !list_models(c.string()).empty()) return c.string();
  return {};
}

}  // namespace softdpu::server
