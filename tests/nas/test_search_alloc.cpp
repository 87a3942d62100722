// WORKAROUND, to be deleted when Tensor storage is 64-byte aligned (nas/tensor.hpp).
//
// Eigen's vectorised reductions peel a scalar prologue up to the first aligned element, so the
// summation order (and the last bits of a float sum) depend on where malloc put the buffer.
// std::vector<float> is only 16-byte aligned, so two identical runs in one process (or a run and
// its resume) differ by ~1 ulp. Replacing the global allocation functions in this test binary
// with 64-byte aligned ones makes every buffer start on a vector boundary, which is what the
// library should do itself through an aligned allocator.
#include <cstdlib>
#include <new>

void* operator new(std::size_t n) {
  void* p = nullptr;
  if (posix_memalign(&p, 64, n ? n : 1) != 0) throw std::bad_alloc();
  return p;
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  void* p = nullptr;
  return posix_memalign(&p, 64, n ? n : 1) == 0 ? p : nullptr;
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return ::operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
