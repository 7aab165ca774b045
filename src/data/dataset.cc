#include "data/dataset.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/npy.h"
#include "data/idx_file.h"
#include "softdpu/status.h"

namespace softdpu::data {
namespace fs = std::filesystem;
namespace {

std::string fashion_mnist_dir() {
  if (const char* d = std::getenv("SOFTDPU_FASHION_MNIST_DIR")) return d;
  return "/usr/share/datasets/fashion-mnist";
}

Dataset load_fashion_mnist(Split split) {
  const std::string dir = fashion_mnist_dir();
  const std::string prefix = split == Split::kTest ? "t10k" : "train";
  const std::string images_path = dir + "/" + prefix + "-images-idx3-ubyte.gz";
  const std::string labels_path = dir + "/" + prefix + "-labels-idx1-ubyte.gz";
  if (!fs::exists(images_path)) {
    throw Error(StatusCode::kNotFound,
                "Fashion-MNIST not found at " + images_path +
                    " (install Debian's dataset-fashion-mnist: scripts/install-deps, or set "
                    "SOFTDPU_FASHION_MNIST_DIR)",
                images_path);
  }
  const Tensor images = read_idx_u8(images_path);
  const Tensor labels = read_idx_u8(labels_path);
  if (images.shape().size() != 3 || labels.shape().size() != 1 ||
      images.shape()[0] != labels.shape()[0]) {
    throw Error(StatusCode::kInvalidArgument, "Fashion-MNIST files disagree: images " +
                                                  shape_to_string(images.shape()) + ", labels " +
                                                  shape_to_string(labels.shape()));
  }
  Dataset d;
  d.name = "fashion-mnist";
  Tensor x(DType::kFloat32, images.shape());
  const uint8_t* src = images.data_as<uint8_t>();
  float* dst = x.data_as<float>();
  // The scaling torchvision's ToTensor applies, which the bundled models were trained with.
  for (int64_t i = 0; i < x.numel(); ++i) dst[i] = static_cast<float>(src[i]) / 255.0f;
  d.inputs[""] = x;
  const uint8_t* l = labels.data_as<uint8_t>();
  d.labels.assign(l, l + labels.numel());
  return d;
}

std::vector<int64_t> read_labels(const std::string& path) {
  const Tensor t = read_npy(path);
  if (t.shape().size() != 1) {
    throw Error(StatusCode::kInvalidArgument,
                path + ": labels must be a 1-D array of class indices, got shape " +
                    shape_to_string(t.shape()));
  }
  std::vector<int64_t> out(static_cast<size_t>(t.numel()));
  switch (t.dtype()) {
    case DType::kInt64:
      for (int64_t i = 0; i < t.numel(); ++i) out[i] = t.data_as<int64_t>()[i];
      break;
    case DType::kInt32:
      for (int64_t i = 0; i < t.numel(); ++i) out[i] = t.data_as<int32_t>()[i];
      break;
    case DType::kUInt8:
      for (int64_t i = 0; i < t.numel(); ++i) out[i] = t.data_as<uint8_t>()[i];
      break;
    default:
      throw Error(StatusCode::kInvalidArgument, path +
                                                    ": labels must be int64, int32 or uint8, got " +
                                                    std::string(dtype_name(t.dtype())));
  }
  return out;
}

Dataset load_directory(const std::string& dir) {
  if (!fs::is_directory(dir)) {
    throw Error(StatusCode::kNotFound,
                "dataset '" + dir + "' is neither 'fashion-mnist' nor a directory", dir);
  }
  Dataset d;
  d.name = dir;
  const std::string labels_path = dir + "/labels.npy";
  if (!fs::exists(labels_path)) {
    throw Error(StatusCode::kNotFound, "dataset directory " + dir + " has no labels.npy",
                labels_path);
  }
  d.labels = read_labels(labels_path);
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".npy" || entry.path().filename() == "labels.npy") continue;
    std::string name = entry.path().stem().string();
    if (name == "inputs") name = "";
    Tensor t = read_npy(entry.path().string());
    if (t.shape().empty() || t.shape()[0] != d.size()) {
      throw Error(StatusCode::kInvalidArgument,
                  entry.path().string() + ": first axis must be the " + std::to_string(d.size()) +
                      " samples of labels.npy, got shape " + shape_to_string(t.shape()));
    }
    d.inputs[name] = t;
  }
  if (d.inputs.empty()) {
    throw Error(
        StatusCode::kNotFound,
        "dataset directory " + dir + " has no input arrays (<input name>.npy or inputs.npy)", dir);
  }
  return d;
}

}  // namespace

Dataset load_dataset(const std::string& spec, Split split, int64_t limit) {
  Dataset d = spec == "fashion-mnist" ? load_fashion_mnist(split) : load_directory(spec);
  if (limit > 0 && limit < d.size()) {
    for (auto& [name, t] : d.inputs) {
      Shape s = t.shape();
      s[0] = limit;
      Tensor cut(t.dtype(), s);
      std::memcpy(cut.data(), t.data(), cut.nbytes());
      t = cut;
    }
    d.labels.resize(static_cast<size_t>(limit));
  }
  return d;
}

ConstTensorView sample_view(const Tensor& all, int64_t begin, int64_t count, const Shape& shape,
                            const std::string& input_name) {
  const int64_t per_sample = all.shape().empty() ? 0 : all.numel() / all.shape()[0];
  const int64_t want = shape.empty() || shape[0] == 0 ? 0 : shape_numel(shape) / shape[0];
  if (shape.empty() || shape[0] != count || want != per_sample) {
    Shape sample_shape(all.shape().begin() + (all.shape().empty() ? 0 : 1), all.shape().end());
    throw Error(StatusCode::kInvalidArgument,
                "input '" + input_name + "': the model expects " + std::to_string(want) +
                    " elements per sample (shape " + shape_to_string(shape) +
                    "), the dataset holds " + std::to_string(per_sample) + " (sample shape " +
                    shape_to_string(sample_shape) + ")");
  }
  const auto* base = static_cast<const uint8_t*>(all.data());
  return {all.dtype(), shape, base + begin * per_sample * dtype_size(all.dtype())};
}

}  // namespace softdpu::data
