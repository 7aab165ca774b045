#include "runtime/encoded_weights.h"

#include <cstdio>
#include <cstring>

namespace softdpu::runtime {
namespace {

thread_local EncodedWeights* t_current = nullptr;

// FNV-1a over 8-byte words: a collision would need two weight matrices of the same format and
// shape whose 64-bit hashes agree.
uint64_t hash_rows(const float* w, int64_t n, int64_t k, int64_t ldw) {
  uint64_t h = 1469598103934665603ull;
  for (int64_t i = 0; i < n; ++i) {
    const auto* row = reinterpret_cast<const uint8_t*>(w + i * ldw);
    const size_t bytes = static_cast<size_t>(k) * sizeof(float);
    size_t j = 0;
    for (; j + 8 <= bytes; j += 8) {
      uint64_t v;
      std::memcpy(&v, row + j, 8);
      h = (h ^ v) * 1099511628211ull;
    }
    for (; j < bytes; ++j) h = (h ^ row[j]) * 1099511628211ull;
  }
  return h;
}

}  // namespace

std::string EncodedWeights::key(const formats::WeightFormat& f, const float* w, int64_t n,
                                int64_t k, int64_t ldw) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx",
                static_cast<unsigned long long>(hash_rows(w, n, k, ldw)));
  return f.name + "|" + std::to_string(n) + "|" + std::to_string(k) + "|" + hex;
}

std::shared_ptr<formats::PackedMatrix> EncodedWeights::find(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  it->second.used = true;
  return it->second.matrix;
}

void EncodedWeights::add(const std::string& key, std::shared_ptr<formats::PackedMatrix> m,
                         bool pinned) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_[key] = {std::move(m), pinned, !pinned};
}

void EncodedWeights::begin_plan() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.pinned) {
      it->second.used = false;
      ++it;
    } else {
      it = entries_.erase(it);
    }
  }
}

std::map<std::string, std::shared_ptr<formats::PackedMatrix>> EncodedWeights::used() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::shared_ptr<formats::PackedMatrix>> out;
  for (const auto& [k, e] : entries_)
    if (e.used) out[k] = e.matrix;
  return out;
}

EncodedWeights* current_encoded_weights() {
  return t_current;
}

ScopedEncodedWeights::ScopedEncodedWeights(EncodedWeights* store) : previous_(t_current) {
  t_current = store;
}

ScopedEncodedWeights::~ScopedEncodedWeights() {
  t_current = previous_;
}

}  // namespace softdpu::runtime
