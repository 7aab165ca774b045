// Narrow weights encoded once and found again: the store the prepare functions consult before
// encoding a weight matrix (kernels/linalg/narrow_weight.h).
//
// Entries are content-addressed: the key is the format, the shape and a 64-bit hash of the fp32
// rows being encoded. That makes the same store serve three purposes without the kernels knowing
// about any of them:
//  - within one plan, the two prepare walks (shape inference + folding, then the program) encode
//    each weight once, not twice;
//  - `softdpu compile` writes the entries of its plan into the .sdpu file (runtime/sdpu_file.h);
//  - a session loaded from a .sdpu starts with those entries pinned, so planning adopts the
//    compiled codes in place (memory-mapped) instead of encoding again.
//
// The store is handed to prepare through a thread-local scope (ScopedEncodedWeights) set by
// Session::plan: planning is single-threaded, and this keeps the prepare_<Op> contract
// (runtime/kernel.h) unchanged.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "formats/packed.h"

namespace softdpu::runtime {

class EncodedWeights {
 public:
  // "format|n|k|hash" of the n x k rows at w (row stride ldw).
  static std::string key(const formats::WeightFormat& f, const float* w, int64_t n, int64_t k,
                         int64_t ldw);

  std::shared_ptr<formats::PackedMatrix> find(const std::string& key) const;
  // `pinned` entries (from a compiled file) survive begin_plan().
  void add(const std::string& key, std::shared_ptr<formats::PackedMatrix> m, bool pinned = false);
  // Drops the unpinned entries and the used marks: called when a new plan starts, so a store
  // never holds more than the current plan's weights plus the file's.
  void begin_plan();
  // The entries the current plan looked up or added, in key order (what compile writes).
  std::map<std::string, std::shared_ptr<formats::PackedMatrix>> used() const;

 private:
  struct Entry {
    std::shared_ptr<formats::PackedMatrix> matrix;
    bool pinned = false;
    bool used = false;
  };
  mutable std::mutex mu_;
  mutable std::map<std::string, Entry> entries_;
};

// The store of the plan being built on this thread, or null.
EncodedWeights* current_encoded_weights();

class ScopedEncodedWeights {
 public:
  explicit ScopedEncodedWeights(EncodedWeights* store);
  ~ScopedEncodedWeights();
  ScopedEncodedWeights(const ScopedEncodedWeights&) = delete;
  ScopedEncodedWeights& operator=(const ScopedEncodedWeights&) = delete;

 private:
  EncodedWeights* previous_;
};

}  // namespace softdpu::runtime
