#include "cli/roofline_cache.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>

namespace softdpu::cli {

std::string default_roofline_path() {
  if (const char* p = std::getenv("SOFTDPU_ROOFLINE"); p && *p) return p;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::string(x) + "/softdpu/roofline.json";
  if (const char* h = std::getenv("HOME"); h && *h)
    return std::string(h) + "/.cache/softdpu/roofline.json";
  return "softdpu-roofline.json";
}

std::string cpu_model_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t c = line.find(':');
      if (c != std::string::npos) return line.substr(line.find_first_not_of(' ', c + 1));
    }
  }
  return "unknown";
}

nlohmann::json roofline_to_json(const Roofline& r) {
  nlohmann::json bw = nlohmann::json::array(), compute = nlohmann::json::array();
  for (const BandwidthPoint& b : r.bandwidth)
    bw.push_back({{"level", b.level},
                  {"threads", b.threads},
                  {"working_set_bytes", b.working_set},
                  {"gb_per_s", b.gb_per_s}});
  for (const ComputePoint& c : r.compute)
    compute.push_back(
        {{"threads", c.threads}, {"fp32_gflops", c.fp32_gflops}, {"int8_gops", c.int8_gops}});
  nlohmann::json sweep = nlohmann::json::array();
  for (const BandwidthPoint& b : r.l3_sweep)
    sweep.push_back({{"working_set_bytes", b.working_set}, {"gb_per_s", b.gb_per_s}});
  return {
      {"cpu", cpu_model_name()},
      {"caches",
       {{"l1d_bytes", r.caches.l1d},
        {"l2_bytes", r.caches.l2},
        {"l3_bytes", r.caches.l3},
        {"from_sysfs", r.caches.from_sysfs()},
        {"l1_l2_source", cache_source_name(r.caches.l1_l2_source)},
        {"l3_source", cache_source_name(r.caches.l3_source)},
        {"l3_sweep", sweep}}},
      {"read_loop", r.read_loop},
      {"fp32_loop", r.fp32_loop},
      {"int8_loop", r.int8_loop},
      {"bandwidth", bw},
      {"compute", compute},
  };
}

bool load_roofline(const std::string& path, nlohmann::json* out, std::string* why) {
  std::ifstream f(path);
  if (!f) {
    *why = "no roofline at " + path + " (run `softdpu roofline` first)";
    return false;
  }
  nlohmann::json j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("bandwidth") ||
      !j["bandwidth"].is_array()) {
    *why = path + ": not a roofline file (re-run `softdpu roofline`)";
    return false;
  }
  if (j.value("cpu", "") != cpu_model_name()) {
    *why = path + ": measured on '" + j.value("cpu", "?") + "', this CPU is '" + cpu_model_name() +
           "'";
    return false;
  }
  *out = std::move(j);
  return true;
}

std::string weight_level(const CacheSizes& c, size_t working_set, int threads) {
  const size_t t = static_cast<size_t>(std::max(threads, 1));
  if (working_set * 4 <= c.l1d * t * 3) return "L1";
  if (working_set * 4 <= c.l2 * t * 3) return "L2";
  if (working_set * 4 <= c.l3 * 3) return "L3";
  return "DRAM";
}

CacheSizes caches_for_bench(const nlohmann::json* roofline) {
  CacheSizes c = read_cache_sizes();
  if (c.l3_source != CacheSource::kDefault || !roofline || !roofline->contains("caches")) return c;
  const nlohmann::json& rc = (*roofline)["caches"];
  if (rc.value("l3_source", "") == "measured" && rc.value("l3_bytes", size_t{0}) > 0) {
    c.l3 = rc["l3_bytes"].get<size_t>();
    c.l3_source = CacheSource::kMeasured;
  }
  return c;
}

double sweep_gb_per_s_at(const nlohmann::json& sweep, size_t bytes) {
  if (!sweep.is_array() || bytes == 0) return -1;
  const double x = std::log(static_cast<double>(bytes));
  for (size_t i = 0; i + 1 < sweep.size(); ++i) {
    const double s0 = sweep[i].value("working_set_bytes", 0.0);
    const double s1 = sweep[i + 1].value("working_set_bytes", 0.0);
    if (s0 <= 0 || s1 <= s0) return -1;
    const double x0 = std::log(s0), x1 = std::log(s1);
    if (x < x0 || x > x1) continue;
    const double g0 = sweep[i].value("gb_per_s", 0.0), g1 = sweep[i + 1].value("gb_per_s", 0.0);
    return g0 + (g1 - g0) * (x - x0) / (x1 - x0);
  }
  return -1;
}

nlohmann::json weight_bandwidth(size_t bytes_read, size_t working_set, double seconds, int threads,
                                const std::string& roofline_path) {
  nlohmann::json r;
  std::string why;
  const bool have_roofline = load_roofline(roofline_path, &r, &why);
  const CacheSizes caches = caches_for_bench(have_roofline ? &r : nullptr);
  const std::string level = weight_level(caches, working_set, threads);
  const double achieved = seconds > 0 ? static_cast<double>(bytes_read) / seconds / 1e9 : 0;
  nlohmann::json j = {
      {"weight_bytes_per_inference", bytes_read},
      {"weight_working_set_bytes", working_set},
      {"achieved_gb_per_s", achieved},
      {"weight_level", level},
      {"l3_bytes", caches.l3},
      {"l3_source", cache_source_name(caches.l3_source)},
      {"roofline", roofline_path},
  };
  if (!have_roofline) {
    j["bandwidth_fraction"] = nullptr;
    j["roofline_note"] = why;
    return j;
  }
  // The measured point for this level at the largest measured thread count <= threads.
  const nlohmann::json* best = nullptr;
  for (const nlohmann::json& b : r["bandwidth"]) {
    if (b.value("level", "") != level || b.value("threads", 0) > threads) continue;
    if (!best || b.value("threads", 0) > (*best).value("threads", 0)) best = &b;
  }
  if (!best || best->value("gb_per_s", 0.0) <= 0) {
    j["bandwidth_fraction"] = nullptr;
    j["roofline_note"] =
        "roofline has no " + level + " point for <= " + std::to_string(threads) + " threads";
    return j;
  }
  j["level_gb_per_s"] = (*best)["gb_per_s"];
  j["level_threads"] = (*best)["threads"];
  j["bandwidth_fraction"] = achieved / (*best)["gb_per_s"].get<double>();
  if (threads == 1 && r.contains("caches") && r["caches"].contains("l3_sweep")) {
    const double sweep = sweep_gb_per_s_at(r["caches"]["l3_sweep"], working_set);
    if (sweep > 0) {
      j["sweep_gb_per_s_at_working_set"] = sweep;
      j["sweep_fraction"] = achieved / sweep;
    }
  }
  return j;
}

}  // namespace softdpu::cli
