// Statistics extension JSON (Triton's model_stats layout) and Prometheus text exposition.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "server/server_impl.h"

namespace softdpu::server {
namespace {
using nlohmann::json;

json duration_json(const Duration& d) {
  return {{"count", d.count.load()}, {"ns", d.ns.load()}};
}

json version_stats_json(const std::string& name, ModelVersion& mv) {
  ModelStats& s = mv.stats();
  json batch = json::array();
  for (int b = 1; b <= ModelStats::kMaxBatchTracked; ++b) {
    const Duration& d = s.batch_infer[static_cast<size_t>(b)];
    if (d.count.load() == 0) continue;
    batch.push_back({{"batch_size", b},
                     {"compute_input", {{"count", d.count.load()}, {"ns", 0}}},
                     {"compute_infer", duration_json(d)},
                     {"compute_output", {{"count", d.count.load()}, {"ns", 0}}}});
  }
  return {{"name", name},
          {"version", mv.version_string()},
          {"last_inference", s.last_inference_ms.load()},
          {"inference_count", s.inference_count.load()},
          {"execution_count", s.execution_count.load()},
          {"inference_stats",
           {{"success", duration_json(s.success)},
            {"fail", duration_json(s.fail)},
            {"queue", duration_json(s.queue)},
            {"compute_input", duration_json(s.compute_input)},
            {"compute_infer", duration_json(s.compute_infer)},
            {"compute_output", duration_json(s.compute_output)},
            {"cache_hit", {{"count", 0}, {"ns", 0}}},
            {"cache_miss", {{"count", 0}, {"ns", 0}}}}},
          {"batch_stats", batch}};
}

void counter(std::ostringstream& o, const char* name, const std::string& labels, uint64_t v) {
  o << name << '{' << labels << "} " << v << '\n';
}

void histogram(std::ostringstream& o, const char* name, const std::string& labels,
               const Histogram& h) {
  uint64_t cum = 0;
  for (size_t i = 0; i < kHistogramBoundsUs.size(); ++i) {
    cum += h.buckets[i].load();
    char le[32];
    std::snprintf(le, sizeof le, "%g", static_cast<double>(kHistogramBoundsUs[i]) / 1e6);
    o << name << "_bucket{" << labels << ",le=\"" << le << "\"} " << cum << '\n';
  }
  o << name << "_bucket{" << labels << ",le=\"+Inf\"} " << h.count.load() << '\n';
  o << name << "_sum{" << labels << "} " << static_cast<double>(h.sum_ns.load()) / 1e9 << '\n';
  o << name << "_count{" << labels << "} " << h.count.load() << '\n';
}

struct Family {
  const char* name;
  const char* type;
  const char* help;
};

constexpr Family kFamilies[] = {
    {"softdpu_inference_request_success", "counter", "Successful inference requests"},
    {"softdpu_inference_request_failure", "counter", "Failed inference requests"},
    {"softdpu_inference_count", "counter", "Inferences performed (batch rows)"},
    {"softdpu_inference_exec_count", "counter", "Model executions (batches)"},
    {"softdpu_inference_request_duration_us", "counter",
     "Cumulative end-to-end request duration in the server, microseconds"},
    {"softdpu_inference_queue_duration_us", "counter",
     "Cumulative time requests waited before execution, microseconds"},
    {"softdpu_inference_compute_duration_us", "counter",
     "Cumulative compute time (input copy, run, output copy), microseconds"},
    {"softdpu_inference_request_duration_seconds", "histogram",
     "Request duration in the server (successful requests)"},
    {"softdpu_inference_queue_duration_seconds", "histogram", "Queue wait per request"},
    {"softdpu_inference_compute_duration_seconds", "histogram", "Compute time per execution"},
    {"softdpu_sequences_live", "gauge", "Live sequences (sequence extension)"},
    {"softdpu_inference_pending_request_count", "gauge",
     "Requests waiting in the model's queue (max_queue_size bounds it)"},
};

size_t resident_bytes() {
  std::ifstream f("/proc/self/statm");
  size_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

Status ServerImpl::model_statistics(const std::string& name, const std::string& version,
                                    std::string* out) const {
  json stats = json::array();
  if (name.empty()) {
    std::shared_lock<std::shared_mutex> lock(models_mu_);
    for (const auto& [n, e] : models_)
      for (const auto& [v, mv] : e.versions) stats.push_back(version_stats_json(n, *mv));
  } else if (version.empty()) {
    std::shared_ptr<ModelVersion> any;
    Status st = find(name, "", &any);
    if (!st) return st;
    std::shared_lock<std::shared_mutex> lock(models_mu_);
    for (const auto& [v, mv] : models_.at(name).versions)
      stats.push_back(version_stats_json(name, *mv));
  } else {
    std::shared_ptr<ModelVersion> mv;
    Status st = find(name, version, &mv);
    if (!st) return st;
    stats.push_back(version_stats_json(name, *mv));
  }
  *out = json{{"model_stats", stats}}.dump();
  return Status::ok();
}

std::string ServerImpl::metrics_text() const {
  std::vector<std::pair<std::string, std::shared_ptr<ModelVersion>>> all;
  {
    std::shared_lock<std::shared_mutex> lock(models_mu_);
    for (const auto& [n, e] : models_)
      for (const auto& [v, mv] : e.versions) all.emplace_back(n, mv);
  }
  std::ostringstream o;
  for (const Family& f : kFamilies) {
    o << "# HELP " << f.name << ' ' << f.help << '\n'
      << "# TYPE " << f.name << ' ' << f.type << '\n';
    const std::string fname = f.name;
    for (auto& [n, mv] : all) {
      const std::string labels = "model=\"" + n + "\",version=\"" + mv->version_string() + "\"";
      ModelStats& s = mv->stats();
      if (fname == "softdpu_inference_request_success") counter(o, f.name, labels, s.success.count);
      if (fname == "softdpu_inference_request_failure") counter(o, f.name, labels, s.fail.count);
      if (fname == "softdpu_inference_count") counter(o, f.name, labels, s.inference_count);
      if (fname == "softdpu_inference_exec_count") counter(o, f.name, labels, s.execution_count);
      if (fname == "softdpu_inference_request_duration_us")
        counter(o, f.name, labels, (s.success.ns + s.fail.ns) / 1000);
      if (fname == "softdpu_inference_queue_duration_us")
        counter(o, f.name, labels, s.queue.ns / 1000);
      if (fname == "softdpu_inference_compute_duration_us")
        counter(o, f.name, labels,
                (s.compute_input.ns + s.compute_infer.ns + s.compute_output.ns) / 1000);
      if (fname == "softdpu_inference_request_duration_seconds")
        histogram(o, f.name, labels, s.request_hist);
      if (fname == "softdpu_inference_queue_duration_seconds")
        histogram(o, f.name, labels, s.queue_hist);
      if (fname == "softdpu_inference_compute_duration_seconds")
        histogram(o, f.name, labels, s.compute_hist);
      if (fname == "softdpu_sequences_live") counter(o, f.name, labels, mv->live_sequences());
      if (fname == "softdpu_inference_pending_request_count")
        counter(o, f.name, labels, mv->queued());
    }
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  o << "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
    << "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total " << cpu << '\n'
    << "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
    << "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes "
    << resident_bytes() << '\n';
  return o.str();
}

}  // namespace softdpu::server
