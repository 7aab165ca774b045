#include "server/sequence_store.h"

#include <cstring>

namespace softdpu::server {
namespace {
constexpr size_t kRememberExpired = 4096;
}

SequenceStore::SequenceStore(const ModelConfig& config)
    : config_(config), idle_(static_cast<int64_t>(config.sequence_idle_timeout_us)) {}

void SequenceStore::remember_expired_locked(const std::string& id) {
  if (expired_[id]++ == 0) expired_order_.push_back(id);
  while (expired_order_.size() > kRememberExpired) {
    expired_.erase(expired_order_.front());
    expired_order_.pop_front();
  }
}

void SequenceStore::sweep_locked(Clock::time_point now) {
  for (auto it = live_.begin(); it != live_.end();) {
    if (now - it->second.last_used > idle_) {
      remember_expired_locked(it->first);
      it = live_.erase(it);
    } else {
      ++it;
    }
  }
}

Status SequenceStore::begin(const std::string& id, bool start, std::shared_ptr<SequenceSlot>* out) {
  auto now = Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(id);
  if (it != live_.end() && now - it->second.last_used > idle_) {
    remember_expired_locked(id);
    live_.erase(it);
    it = live_.end();
  }
  if (start) {
    if (it == live_.end()) {
      if (static_cast<int64_t>(live_.size()) >= config_.max_sequences) sweep_locked(now);
      if (static_cast<int64_t>(live_.size()) >= config_.max_sequences)
        return {StatusCode::kUnavailable,
                "model '" + config_.name + "': " + std::to_string(config_.max_sequences) +
                    " sequences are live (max_sequences); end one or retry later"};
      auto slot = std::make_shared<SequenceSlot>();
      for (const StateConfig& s : config_.states) slot->state.emplace_back(s.dtype, s.shape);
      it = live_.emplace(id, Entry{std::move(slot), now}).first;
    } else {
      // A restart: zero the state in place (its request may still hold the slot: lock it).
      std::lock_guard<std::mutex> slot_lock(it->second.slot->mu);
      for (Tensor& t : it->second.slot->state) std::memset(t.data(), 0, t.nbytes());
    }
    expired_.erase(id);
  } else if (it == live_.end()) {
    if (expired_.count(id))
      return {StatusCode::kInvalidArgument,
              "sequence '" + id + "' of model '" + config_.name + "' expired after " +
                  std::to_string(config_.sequence_idle_timeout_us) +
                  " us idle; start it again with sequence_start=true"};
    return {StatusCode::kInvalidArgument,
            "sequence '" + id + "' of model '" + config_.name +
                "' is unknown: its first request must set sequence_start=true"};
  }
  it->second.last_used = now;
  *out = it->second.slot;
  return Status::ok();
}

void SequenceStore::finish(const std::string& id, bool end) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(id);
  if (it == live_.end()) return;
  if (end)
    live_.erase(it);
  else
    it->second.last_used = Clock::now();
}

size_t SequenceStore::live() {
  std::lock_guard<std::mutex> lock(mu_);
  sweep_locked(Clock::now());
  return live_.size();
}

}  // namespace softdpu::server
