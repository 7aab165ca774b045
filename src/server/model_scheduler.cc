// ModelVersion's scheduler: batch-1 fast path, bounded queue, dynamic batching, timeouts.
#include <algorithm>
#include <cstring>

#include "server/model_version.h"

namespace softdpu::server {
namespace {
using Clock = std::chrono::steady_clock;

uint64_t ns_between(Clock::time_point a, Clock::time_point b) {
  return b > a ? static_cast<uint64_t>(
                     std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count())
               : 0;
}
}  // namespace

void ModelVersion::fail(PendingRequest& p, const Status& st) {
  stats_.fail.add(ns_between(p.request.arrival, Clock::now()));
  if (p.sequence && !p.request.sequence_id.empty())
    sequences_->finish(p.request.sequence_id, false);
  p.done(st, InferResponse{});
}

void ModelVersion::infer(InferRequest request, InferCallback done) {
  std::vector<PendingRequest> batch(1);
  PendingRequest& p = batch[0];
  p.request = std::move(request);
  p.done = std::move(done);
  Status st = validate(&p);
  if (!st) return fail(p, st);

  // Fast path: nothing queued ahead and an idle instance -> run on this thread.
  ModelInstance* idle = nullptr;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_)
      return lock.unlock(),
             fail(p, {StatusCode::kUnavailable, "model '" + config_.name + "' is unloading"});
    if (queue_.empty()) {
      for (auto& inst : instances_) {
        if (inst->mu.try_lock()) {
          idle = inst.get();
          break;
        }
      }
    }
    if (idle) {
      ++running_inline_;
    } else {
      if (static_cast<int64_t>(queue_.size()) >= config_.max_queue_size) {
        lock.unlock();
        return fail(
            p, {StatusCode::kUnavailable, "model '" + config_.name + "': queue full (" +
                                              std::to_string(config_.max_queue_size) +
                                              " requests waiting, max_queue_size); retry later"});
      }
      queue_.push_back(std::move(p));
      lock.unlock();
      queue_cv_.notify_one();
      return;
    }
  }
  std::vector<std::pair<Status, InferResponse>> results;
  execute(idle, batch, &results);
  idle->mu.unlock();
  deliver(batch, results);
  bool queued;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued = !queue_.empty();
    if (--running_inline_ == 0) idle_cv_.notify_all();
  }
  // Requests queued while this instance ran inline: wake a worker (its own instance may be busy
  // while this one is free now). Not unconditionally: waking an idle worker for nothing costs a
  // context switch per request.
  if (queued) queue_cv_.notify_one();
}

void ModelVersion::worker_loop(ModelInstance* inst) {
  const int64_t target = config_.dynamic_batching
                             ? (config_.preferred_batch_size.empty()
                                    ? config_.max_batch_size
                                    : *std::max_element(config_.preferred_batch_size.begin(),
                                                        config_.preferred_batch_size.end()))
                             : 1;
  const auto delay = std::chrono::microseconds(static_cast<int64_t>(config_.max_queue_delay_us));
  std::vector<PendingRequest> batch;
  std::vector<std::pair<Status, InferResponse>> results;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
    }
    std::lock_guard<std::mutex> inst_lock(inst->mu);
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (queue_.empty()) continue;  // another instance took it
      // Dynamic batching: wait (bounded by the oldest request's delay) for the batch to fill.
      if (target > 1 && !stopping_) {
        auto deadline = queue_.front().request.arrival + delay;
        auto rows_queued = [&] {
          int64_t n = 0;
          for (const PendingRequest& q : queue_) n += q.rows;
          return n;
        };
        while (!stopping_ && rows_queued() < target && Clock::now() < deadline)
          queue_cv_.wait_until(lock, deadline);
      }
      int64_t rows = 0;
      while (!queue_.empty() && rows + queue_.front().rows <= std::max(target, int64_t{1})) {
        rows += queue_.front().rows;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
        if (config_.sequence_batching) break;
      }
      if (batch.empty()) {  // a multi-row request larger than the target: run it alone
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    execute(inst, batch, &results);
    deliver(batch, results);
    batch.clear();
    results.clear();
  }
}

void ModelVersion::execute(ModelInstance* inst, std::vector<PendingRequest>& batch,
                           std::vector<std::pair<Status, InferResponse>>* results) {
  const auto start = Clock::now();
  results->resize(batch.size());
  int64_t rows = 0;
  int live = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const InferRequest& r = batch[i].request;
    stats_.queue.add(ns_between(r.arrival, start));
    stats_.queue_hist.observe(ns_between(r.arrival, start));
    if (r.timeout_us > 0 && ns_between(r.arrival, start) > r.timeout_us * 1000) {
      (*results)[i].first = {StatusCode::kDeadlineExceeded,
                             "request timed out: waited " +
                                 std::to_string(ns_between(r.arrival, start) / 1000) +
                                 " us in the queue of model '" + config_.name + "' (timeout " +
                                 std::to_string(r.timeout_us) + " us)"};
      continue;
    }
    rows += batch[i].rows;
    ++live;
  }
  if (live == 0) return;
  PlannedBatch* plan = inst->plan_for(rows);
  // Inputs: each request's rows at its offset in the plan's batch.
  int64_t offset = 0;
  std::vector<std::unique_lock<std::mutex>> seq_locks;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!(*results)[i].first) continue;
    const PendingRequest& p = batch[i];
    for (size_t k = 0; k < p.request.inputs.size(); ++k) {
      const std::string& data = p.request.inputs[k].data;
      Tensor& dst = plan->inputs[static_cast<size_t>(p.input_index[k])];
      size_t row_bytes = dst.nbytes() / static_cast<size_t>(plan->batch);
      std::memcpy(static_cast<uint8_t*>(dst.data()) + static_cast<size_t>(offset) * row_bytes,
                  data.data(), data.size());
    }
    if (p.sequence) {
      seq_locks.emplace_back(p.sequence->mu);
      for (size_t s = 0; s < state_input_index_.size(); ++s) {
        Tensor& dst = plan->inputs[static_cast<size_t>(state_input_index_[s])];
        std::memcpy(dst.data(), p.sequence->state[s].data(), dst.nbytes());
      }
    }
    offset += p.rows;
  }
  const auto t_in = Clock::now();
  Status st = plan->session->run(plan->input_views, plan->output_views);
  const auto t_run = Clock::now();
  offset = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!(*results)[i].first) continue;
    PendingRequest& p = batch[i];
    if (!st) {
      (*results)[i].first = {st.code(), "model '" + config_.name + "': " + st.message()};
      continue;
    }
    InferResponse& resp = (*results)[i].second;
    resp.model_name = config_.name;
    resp.model_version = version_str_;
    resp.id = std::move(p.request.id);
    resp.outputs.resize(p.output_index.size());
    for (size_t k = 0; k < p.output_index.size(); ++k) {
      const TensorSpec& spec = outputs_[static_cast<size_t>(p.output_index[k])];
      const Tensor& src = plan->outputs[static_cast<size_t>(spec.session_index)];
      OutputTensor& o = resp.outputs[k];
      o.name = spec.name;
      o.datatype = datatype_name(spec.dtype);
      o.shape = spec.dims;
      if (config_.max_batch_size > 0) o.shape.insert(o.shape.begin(), p.rows);
      const size_t row_bytes = src.nbytes() / static_cast<size_t>(plan->batch);
      o.data.assign(
          reinterpret_cast<const char*>(src.data()) + static_cast<size_t>(offset) * row_bytes,
          row_bytes * static_cast<size_t>(p.rows));
    }
    if (p.sequence) {
      for (size_t s = 0; s < state_output_index_.size(); ++s) {
        const Tensor& src = plan->outputs[static_cast<size_t>(state_output_index_[s])];
        std::memcpy(p.sequence->state[s].data(), src.data(), src.nbytes());
      }
    }
    offset += p.rows;
  }
  const auto t_out = Clock::now();
  stats_.record_execution(rows, live, ns_between(start, t_in), ns_between(t_in, t_run),
                          ns_between(t_run, t_out));
}

void ModelVersion::deliver(std::vector<PendingRequest>& batch,
                           std::vector<std::pair<Status, InferResponse>>& results) {
  const auto now = Clock::now();
  for (size_t i = 0; i < batch.size(); ++i) {
    PendingRequest& p = batch[i];
    const uint64_t ns = ns_between(p.request.arrival, now);
    if (results[i].first) {
      stats_.success.add(ns);
      stats_.request_hist.observe(ns);
    } else {
      stats_.fail.add(ns);
    }
    // A failed step leaves the state as it was (it is copied back only on success).
    if (p.sequence) sequences_->finish(p.request.sequence_id, p.request.sequence_end);
    p.sequence.reset();
    p.done(std::move(results[i].first), std::move(results[i].second));
  }
}

void ModelVersion::stop() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopped_) return;
    stopping_ = true;
    stopped_ = true;
  }
  queue_cv_.notify_all();
  for (std::thread& t : workers_)
    if (t.joinable()) t.join();
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return running_inline_ == 0; });
}

}  // namespace softdpu::server
