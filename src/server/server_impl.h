// The InferenceServer implementation's state, shared by inference_server_impl.cc (lifecycle,
// repository, requests) and server_reports.cc (statistics JSON, Prometheus text).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "server/inference_server.h"
#include "server/model_config.h"
#include "server/model_version.h"

namespace softdpu::server {

struct ModelEntry {
  ModelConfig config;
  std::map<int64_t, std::shared_ptr<ModelVersion>> versions;  // loaded and warm
  std::string fingerprint;  // of the files the versions were loaded from (poll mode)
  std::string state = "UNAVAILABLE";
  std::string reason;  // why not READY
};

class ServerImpl final : public InferenceServer {
 public:
  explicit ServerImpl(const ServerOptions& options);
  ~ServerImpl() override;
  Status start();

  bool live() const override { return true; }
  bool ready() const override { return ready_.load(); }
  std::string server_name() const override { return "softdpu"; }
  std::string server_version() const override { return SOFTDPU_VERSION; }
  std::vector<std::string> extensions() const override;
  Status model_ready(const std::string& name, const std::string& version,
                     bool* ready) const override;
  Status model_metadata(const std::string& name, const std::string& version,
                        ModelMetadata* out) const override;
  Status model_config(const std::string& name, const std::string& version,
                      std::string* json) const override;
  Status model_statistics(const std::string& name, const std::string& version,
                          std::string* json) const override;
  void infer(InferRequest request, InferCallback done) override;
  std::vector<RepositoryEntry> repository_index() const override;
  Status load_model(const std::string& name) override;
  Status unload_model(const std::string& name) override;
  std::string metrics_text() const override;
  void shutdown() override;

  // The version a request names ("" = the latest loaded), or a kNotFound / kUnavailable error.
  Status find(const std::string& name, const std::string& version,
              std::shared_ptr<ModelVersion>* out) const;

 private:
  // Reads config and versions from disk and loads them (no lock held while loading).
  ModelEntry load_entry(const std::string& name) const;
  // Installs `entry` under `name`, stopping the versions it replaces (outside the lock).
  void install(const std::string& name, ModelEntry entry);
  void poll_loop();

  ServerOptions options_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> shutting_down_{false};

  mutable std::shared_mutex models_mu_;
  std::map<std::string, ModelEntry> models_;
  std::mutex load_mu_;  // one load/unload/poll at a time

  std::mutex inflight_mu_;
  std::condition_variable inflight_cv_;
  int64_t inflight_ = 0;

  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  std::thread poll_thread_;
};

}  // namespace softdpu::server
