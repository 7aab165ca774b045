// The on-disk model repository: DIR/<model>/config.json and DIR/<model>/<version>/model.onnx.
// Pure filesystem queries; loading and serving are the server's business.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server/model_config.h"
#include "softdpu/status.h"

namespace softdpu::server {

// Sub-directories of `root` that look like models (hidden ones skipped), sorted.
std::vector<std::string> list_models(const std::string& root);

// Whether `name` is one of list_models(root), with one stat instead of a directory scan: the
// request path asks this for every unknown model name. Names with a '/', empty or hidden ones
// are never models (no path escapes the repository).
bool model_on_disk(const std::string& root, const std::string& name);

// Reads and parses DIR/<model>/config.json (a missing file means all defaults).
Status read_model_config(const std::string& root, const std::string& model, ModelConfig* out);

// Numeric version directories holding a model.onnx, ascending.
std::vector<int64_t> list_versions(const std::string& root, const std::string& model);

// The versions to serve under the config's version policy. Errors (kNotFound) when the policy
// selects nothing, naming what exists.
Status select_versions(const ModelConfig& c, const std::vector<int64_t>& available,
                       std::vector<int64_t>* out);

std::string model_file(const std::string& root, const std::string& model, int64_t version);

// A cheap fingerprint of everything the model's serving depends on (config, version dirs,
// model files' size and mtime): poll mode reloads a model when it changes.
std::string model_fingerprint(const std::string& root, const std::string& model);

// Where the bundled models live when no repository is given: ./models, or models/ beside or one
// level above the executable. Empty if none is found.
std::string find_bundled_repository();

}  // namespace softdpu::server
