// Labelled evaluation data for `softdpu eval` and the `--precision auto` search.
//
//   fashion-mnist        Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist, or
//                        $SOFTDPU_FASHION_MNIST_DIR): images scaled to [0, 1] as float32.
//   DIR                  DIR/labels.npy (N integers) and, per model input, DIR/<input name>.npy
//                        or, for a one-input model, DIR/inputs.npy; first axis N.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "softdpu/tensor.h"

namespace softdpu::data {

enum class Split { kTest, kTrain };

struct Dataset {
  std::string name;
  // Samples along the first axis. Keyed by input name; "" = the only input of a one-input model
  // (the Fashion-MNIST images, inputs.npy), bound to whatever the model calls its input.
  std::map<std::string, Tensor> inputs;
  std::vector<int64_t> labels;
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

// Loads `spec` ("fashion-mnist" or a directory). `limit` > 0 keeps the first `limit` samples.
// Throws Error naming the missing file or the inconsistency (sample counts, label dtype).
Dataset load_dataset(const std::string& spec, Split split = Split::kTest, int64_t limit = 0);

// Samples [begin, begin + count) of one input array, reshaped to `shape` (whose first dimension
// is count): the caller's model shape must hold exactly the per-sample element count. Throws
// Error(kInvalidArgument) saying what the model expects and what the dataset holds.
ConstTensorView sample_view(const Tensor& all, int64_t begin, int64_t count, const Shape& shape,
                            const std::string& input_name);

}  // namespace softdpu::data
