#pragma once
// When an op's loop is worth an OpenMP team. A parallel region costs a few microseconds when the
// cores are idle and up to a scheduler tick when they are shared (another process holds one), so
// small tensors (tests, the classifier head, late 8x8 cells at small batch) run serially.
#include <cstdint>

namespace hwnas::nas::detail {

constexpr std::int64_t kParallelMinWork = 1 << 15;  // multiply-adds or element visits

inline bool worth_parallel(std::int64_t work) { return work >= kParallelMinWork; }

}  // namespace hwnas::nas::detail
