// Sequence ops never reach a kernel: runtime/lower_sequences.cc rewrites them into tensor ops at
// plan time. These entries only complete the dispatch table.
#include "runtime/kernel.h"

namespace softdpu::runtime {

#define SOFTDPU_SEQUENCE_OP(name)                                           \
  std::unique_ptr<Kernel> prepare_##name(PrepareContext& ctx) {             \
    ctx.unsupported("sequence ops are lowered at plan time, not executed"); \
  }
SOFTDPU_SEQUENCE_OP(ConcatFromSequence)
SOFTDPU_SEQUENCE_OP(SequenceAt)
SOFTDPU_SEQUENCE_OP(SequenceConstruct)
SOFTDPU_SEQUENCE_OP(SequenceEmpty)
SOFTDPU_SEQUENCE_OP(SequenceErase)
SOFTDPU_SEQUENCE_OP(SequenceInsert)
SOFTDPU_SEQUENCE_OP(SequenceLength)
SOFTDPU_SEQUENCE_OP(SplitToSequence)
#undef SOFTDPU_SEQUENCE_OP

}  // namespace softdpu::runtime
