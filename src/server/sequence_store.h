// Sequence extension state: per sequence_id, the model's recurrent state tensors between
// requests. A request with sequence_start begins (or restarts) a sequence with zero state; one
// with sequence_end drops it after running. Sequences idle longer than the configured timeout
// expire; the number of live sequences is capped. Unknown and expired ids get distinct errors.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/model_config.h"
#include "softdpu/status.h"
#include "softdpu/tensor.h"

namespace softdpu::server {

struct SequenceSlot {
  std::mutex mu;              // held while one of the sequence's requests executes
  std::vector<Tensor> state;  // config.states order
};

class SequenceStore {
 public:
  explicit SequenceStore(const ModelConfig& config);

  // The slot for `id`: a fresh zero state when `start`, else the live one (kInvalidArgument for an
  // id never started or already ended/expired; kUnavailable when max_sequences are live).
  Status begin(const std::string& id, bool start, std::shared_ptr<SequenceSlot>* out);
  // After the request ran: `end` drops the sequence, otherwise its idle clock restarts.
  void finish(const std::string& id, bool end);
  size_t live();

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    std::shared_ptr<SequenceSlot> slot;
    Clock::time_point last_used;
  };
  void sweep_locked(Clock::time_point now);
  void remember_expired_locked(const std::string& id);

  const ModelConfig& config_;
  std::chrono::microseconds idle_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> live_;
  std::deque<std::string> expired_order_;  // bounded memory of recently expired ids
  std::unordered_map<std::string, int> expired_;
};

}  // namespace softdpu::server
