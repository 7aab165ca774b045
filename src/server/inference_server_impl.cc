// InferenceServer: repository loading (none / poll / explicit control), request routing, readiness
// and draining shutdown.
#include <algorithm>
#include <filesystem>

#include "server/model_repository.h"
#include "server/server_impl.h"

namespace softdpu::server {
namespace {

bool parse_version(const std::string& s, int64_t* v) {
  if (s.empty() || s.size() > 18 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  *v = std::stoll(s);
  return true;
}

}  // namespace

Status InferenceServer::create(const ServerOptions& options,
                               std::unique_ptr<InferenceServer>* out) {
  auto s = std::make_unique<ServerImpl>(options);
  Status st = s->start();
  if (!st) return st;
  *out = std::move(s);
  return Status::ok();
}

ServerImpl::ServerImpl(const ServerOptions& options) : options_(options) {}

ServerImpl::~ServerImpl() {
  shutdown();
}

std::vector<std::string> ServerImpl::extensions() const {
  return {"binary_tensor_data",  "sequence",  "statistics", "model_repository",
          "model_configuration", "parameters"};
}

Status ServerImpl::start() {
  if (options_.control_mode != "none" && options_.control_mode != "poll" &&
      options_.control_mode != "explicit")
    return {StatusCode::kInvalidArgument,
            "model control mode '" + options_.control_mode + "': expected none, poll or explicit"};
  if (options_.model_repository.empty()) {
    options_.model_repository = find_bundled_repository();
    if (options_.model_repository.empty())
      return {
          StatusCode::kNotFound,
          "no --model-repository given and no bundled models/ found (cwd or beside the binary)"};
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(options_.model_repository, ec))
    return {StatusCode::kNotFound,
            "model repository '" + options_.model_repository + "' is not a directory"};
  const bool explicit_mode = options_.control_mode == "explicit";
  if (!explicit_mode && !options_.startup_models.empty())
    return {StatusCode::kInvalidArgument,
            "--load-model needs --model-control-mode explicit (the other modes load every model)"};
  const auto& wanted = options_.startup_models;
  const bool all = !explicit_mode || std::count(wanted.begin(), wanted.end(), "*") > 0;
  const std::vector<std::string> on_disk = list_models(options_.model_repository);
  if (explicit_mode && !all) {
    for (const std::string& name : wanted)
      if (std::find(on_disk.begin(), on_disk.end(), name) == on_disk.end())
        return {StatusCode::kNotFound, "--load-model " + name + ": no such model in repository '" +
                                           options_.model_repository + "'"};
  }
  {
    std::lock_guard<std::mutex> lock(load_mu_);
    for (const std::string& name : on_disk)
      if (all || std::find(wanted.begin(), wanted.end(), name) != wanted.end())
        install(name, load_entry(name));
  }
  if (options_.control_mode == "poll") poll_thread_ = std::thread([this] { poll_loop(); });
  ready_ = true;  // every model that loaded is warm (ModelVersion::load warms it up)
  return Status::ok();
}

ModelEntry ServerImpl::load_entry(const std::string& name) const {
  ModelEntry e;
  const std::string& root = options_.model_repository;
  e.fingerprint = model_fingerprint(root, name);
  Status st = read_model_config(root, name, &e.config);
  std::vector<int64_t> versions;
  if (st) st = select_versions(e.config, list_versions(root, name), &versions);
  for (size_t i = 0; st && i < versions.size(); ++i) {
    std::shared_ptr<ModelVersion> mv;
    st = ModelVersion::load(model_file(root, name, versions[i]), e.config, versions[i],
                            options_.threads, &mv);
    if (st) e.versions[versions[i]] = std::move(mv);
  }
  if (!st) {
    for (auto& [v, mv] : e.versions) mv->stop();
    e.versions.clear();
    e.reason = st.message();
    e.state = "UNAVAILABLE";
  } else {
    e.state = "READY";
  }
  return e;
}

void ServerImpl::install(const std::string& name, ModelEntry entry) {
  ModelEntry old;
  {
    std::unique_lock<std::shared_mutex> lock(models_mu_);
    auto it = models_.find(name);
    if (it != models_.end()) old = std::move(it->second);
    models_[name] = std::move(entry);
  }
  // Requests already routed to an old version hold it (shared_ptr) and finish; stop() drains it.
  for (auto& [v, mv] : old.versions) mv->stop();
}

void ServerImpl::poll_loop() {
  std::unique_lock<std::mutex> lock(poll_mu_);
  for (;;) {
    poll_cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_interval_ms));
    if (shutting_down_) return;
    std::lock_guard<std::mutex> load_lock(load_mu_);
    std::vector<std::string> on_disk = list_models(options_.model_repository);
    std::map<std::string, std::string> known;
    {
      std::shared_lock<std::shared_mutex> ml(models_mu_);
      for (const auto& [n, e] : models_) known[n] = e.fingerprint;
    }
    for (const std::string& name : on_disk) {
      auto it = known.find(name);
      if (it == known.end() || it->second != model_fingerprint(options_.model_repository, name))
        install(name, load_entry(name));  // new versions load before the old ones stop
    }
    for (const auto& [name, fp] : known) {
      if (std::find(on_disk.begin(), on_disk.end(), name) != on_disk.end()) continue;
      ModelEntry gone;
      gone.reason = "removed from the repository";
      install(name, std::move(gone));
      std::unique_lock<std::shared_mutex> ml(models_mu_);
      models_.erase(name);
    }
  }
}

Status ServerImpl::find(const std::string& name, const std::string& version,
                        std::shared_ptr<ModelVersion>* out) const {
  std::shared_lock<std::shared_mutex> lock(models_mu_);
  auto it = models_.find(name);
  if (it == models_.end()) {
    if (model_on_disk(options_.model_repository, name))
      return {StatusCode::kUnavailable,
              "model '" + name + "' is not loaded" +
                  (options_.control_mode == "explicit"
                       ? " (explicit model control: POST v2/repository/models/" + name + "/load)"
                       : std::string())};
    std::string have;
    for (const auto& [n, e] : models_) have += (have.empty() ? "" : ", ") + n;
    return {StatusCode::kNotFound,
            "unknown model '" + name + "' (models: " + (have.empty() ? "none" : have) + ")"};
  }
  const ModelEntry& e = it->second;
  if (e.versions.empty())
    return {StatusCode::kUnavailable, "model '" + name + "' is not ready: " + e.reason};
  if (version.empty()) {
    *out = e.versions.rbegin()->second;
    return Status::ok();
  }
  int64_t v = 0;
  auto vit = parse_version(version, &v) ? e.versions.find(v) : e.versions.end();
  if (vit == e.versions.end()) {
    std::string have;
    for (const auto& [n, mv] : e.versions) have += (have.empty() ? "" : ", ") + std::to_string(n);
    return {StatusCode::kNotFound,
            "model '" + name + "' has no version '" + version + "' (ready versions: " + have + ")"};
  }
  *out = vit->second;
  return Status::ok();
}

Status ServerImpl::model_ready(const std::string& name, const std::string& version,
                               bool* ready) const {
  std::shared_ptr<ModelVersion> mv;
  Status st = find(name, version, &mv);
  *ready = st.is_ok() && ready_;
  return st.code() == StatusCode::kUnavailable ? Status::ok() : st;
}

Status ServerImpl::model_metadata(const std::string& name, const std::string& version,
                                  ModelMetadata* out) const {
  std::shared_ptr<ModelVersion> mv;
  Status st = find(name, version, &mv);
  if (!st) return st;
  ModelMetadata m;
  m.name = name;
  {
    std::shared_lock<std::shared_mutex> lock(models_mu_);
    auto it = models_.find(name);
    if (it != models_.end())
      for (const auto& [v, x] : it->second.versions) m.versions.push_back(std::to_string(v));
  }
  const bool batched = mv->config().max_batch_size > 0;
  auto describe = [&](const std::vector<TensorSpec>& ts, std::vector<TensorMetadata>* dst) {
    for (const TensorSpec& t : ts) {
      TensorMetadata md{t.name, datatype_name(t.dtype), t.dims};
      if (batched) md.shape.insert(md.shape.begin(), -1);
      dst->push_back(std::move(md));
    }
  };
  describe(mv->inputs(), &m.inputs);
  describe(mv->outputs(), &m.outputs);
  *out = std::move(m);
  return Status::ok();
}

Status ServerImpl::model_config(const std::string& name, const std::string& version,
                                std::string* json) const {
  std::shared_ptr<ModelVersion> mv;
  Status st = find(name, version, &mv);
  if (!st) return st;
  *json = model_config_to_json(mv->config());
  return Status::ok();
}

void ServerImpl::infer(InferRequest request, InferCallback done) {
  if (!ready_) {
    done({StatusCode::kUnavailable, "server is shutting down"}, InferResponse{});
    return;
  }
  std::shared_ptr<ModelVersion> mv;
  Status st = find(request.model_name, request.model_version, &mv);
  if (!st) {
    done(std::move(st), InferResponse{});
    return;
  }
  {
    std::lock_guard<std::mutex> lock(inflight_mu_);
    ++inflight_;
  }
  mv->infer(std::move(request), [this, done = std::move(done)](Status s, InferResponse r) {
    done(std::move(s), std::move(r));
    std::lock_guard<std::mutex> lock(inflight_mu_);
    if (--inflight_ == 0) inflight_cv_.notify_all();
  });
}

std::vector<RepositoryEntry> ServerImpl::repository_index() const {
  std::vector<RepositoryEntry> out;
  std::shared_lock<std::shared_mutex> lock(models_mu_);
  for (const auto& [name, e] : models_) {
    if (e.versions.empty()) {
      out.push_back({name, "", e.state, e.reason});
      continue;
    }
    for (const auto& [v, mv] : e.versions) out.push_back({name, std::to_string(v), "READY", ""});
  }
  // Models on disk but not (yet) known, e.g. unloaded in explicit mode or not loaded yet.
  for (const std::string& name : list_models(options_.model_repository))
    if (!models_.count(name)) out.push_back({name, "", "UNAVAILABLE", "not loaded"});
  std::sort(out.begin(), out.end(),
            [](const RepositoryEntry& a, const RepositoryEntry& b) { return a.name < b.name; });
  return out;
}

Status ServerImpl::load_model(const std::string& name) {
  if (options_.control_mode != "explicit")
    return {StatusCode::kUnavailable,
            "explicit model control is off (start with --model-control-mode explicit)"};
  if (shutting_down_) return {StatusCode::kUnavailable, "server is shutting down"};
  std::error_code ec;
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.' ||
      !std::filesystem::is_directory(std::filesystem::path(options_.model_repository) / name, ec))
    return {StatusCode::kNotFound,
            "no model '" + name + "' in repository '" + options_.model_repository + "'"};
  std::lock_guard<std::mutex> lock(load_mu_);
  ModelEntry e = load_entry(name);
  Status st = e.versions.empty() ? Status(StatusCode::kInvalidModel, e.reason) : Status::ok();
  install(name, std::move(e));
  return st;
}

Status ServerImpl::unload_model(const std::string& name) {
  if (options_.control_mode != "explicit")
    return {StatusCode::kUnavailable,
            "explicit model control is off (start with --model-control-mode explicit)"};
  std::lock_guard<std::mutex> lock(load_mu_);
  {
    std::shared_lock<std::shared_mutex> ml(models_mu_);
    if (!models_.count(name)) return {StatusCode::kNotFound, "unknown model '" + name + "'"};
  }
  ModelEntry gone;
  gone.reason = "unloaded";
  gone.config.name = name;
  install(name, std::move(gone));
  return Status::ok();
}

void ServerImpl::shutdown() {
  if (shutting_down_.exchange(true)) return;
  ready_ = false;
  { std::lock_guard<std::mutex> lock(poll_mu_); }
  poll_cv_.notify_all();
  if (poll_thread_.joinable()) poll_thread_.join();
  {
    std::unique_lock<std::mutex> lock(inflight_mu_);
    inflight_cv_.wait(lock, [&] { return inflight_ == 0; });
  }
  std::lock_guard<std::mutex> lock(load_mu_);
  std::unique_lock<std::shared_mutex> ml(models_mu_);
  for (auto& [name, e] : models_)
    for (auto& [v, mv] : e.versions) mv->stop();
}

}  // namespace softdpu::server
