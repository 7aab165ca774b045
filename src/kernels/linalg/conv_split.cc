#include "kernels/linalg/conv_split.h"

#include <cstdlib>
#include <cstring>

namespace softdpu::kernels {

int conv_split_threads(int threads, int64_t macs, int64_t out_bytes) {
  if (threads <= 1) return 1;
  const char* rule = std::getenv("SOFTDPU_CONV_SPLIT");
  if (rule && std::strcmp(rule, "macs") == 0) return macs >= 64 * 1024 ? threads : 1;
  const double t1_ns = static_cast<double>(macs) / kPeakMacsPerNs;
  const double saved_ns = t1_ns * (threads - 1) / threads;
  const double moved_kib = static_cast<double>(out_bytes) * (threads - 1) / threads / 1024;
  return saved_ns > kPoolJobNs + moved_kib * kMoveNsPerKiB ? threads : 1;
}

}  // namespace softdpu::kernels
