// Op-level speed of the nas engine: convolution fast paths against the naive reference, depthwise
// loops, Eigen GEMM, and one whole DARTS MixedOp edge forward + backward. Counters report
// GFLOP/s (2 flops per multiply-add). Rates use wall time (the ops run OpenMP teams); on a
// machine shared with other work, run with OMP_NUM_THREADS=1 and compare the CPU column.
// The supernet-step benchmarks live in bench_supernet.cpp.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "hwnas/nas/autograd.hpp"
#include "hwnas/nas/ops.hpp"
#include "hwnas/nas/tensor.hpp"

namespace hwnas::nas {
namespace {

constexpr int kBatch = 32;
constexpr int kSize = 32;

double conv_flops(const Shape& x, const Shape& w, const Conv2dParams& p) {
  const int ho = conv_output_size(x[2], w[2], p.stride, p.padding, p.dilation);
  const int wo = conv_output_size(x[3], w[3], p.stride, p.padding, p.dilation);
  return 2.0 * x[0] * w[0] * ho * wo * static_cast<double>(w[1]) * w[2] * w[3];
}

void set_gflops(benchmark::State& st, double flops_per_iter) {
  st.counters["GFLOP/s"] = benchmark::Counter(flops_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Args: channels, kernel, groups (0 = depthwise), batch.
void conv_case(benchmark::State& st, bool naive, bool backward) {
  const int c = static_cast<int>(st.range(0));
  const int k = static_cast<int>(st.range(1));
  const int groups = st.range(2) == 0 ? c : static_cast<int>(st.range(2));
  const int n = static_cast<int>(st.range(3));
  const Conv2dParams p{1, k / 2, 1, groups};
  std::mt19937_64 rng(1);
  const Tensor x = Tensor::randn({n, c, kSize, kSize}, rng);
  const Tensor w = Tensor::randn({c, c / groups, k, k}, rng);
  Tensor y;
  Workspace ws;
  kernels::conv2d_forward(x, w, p, y, ws);
  const Tensor dy = Tensor::randn(y.shape(), rng);
  Tensor dx(x.shape()), dw(w.shape());
  for (auto _ : st) {
    if (backward) {
      if (naive) {
        reference::conv2d_backward(x, w, dy, p, &dx, &dw);
      } else {
        kernels::conv2d_backward(x, w, dy, p, &dx, &dw, ws);
      }
      benchmark::DoNotOptimize(dx.data());
    } else {
      if (naive) {
        reference::conv2d_forward(x, w, p, y);
      } else {
        kernels::conv2d_forward(x, w, p, y, ws);
      }
      benchmark::DoNotOptimize(y.data());
    }
  }
  // Backward computes dx and dw: twice the forward's multiply-adds.
  set_gflops(st, conv_flops(x.shape(), w.shape(), p) * (backward ? 2.0 : 1.0));
}

void BM_ConvForward(benchmark::State& st) { conv_case(st, false, false); }
void BM_ConvBackward(benchmark::State& st) { conv_case(st, false, true); }
void BM_ConvForwardNaive(benchmark::State& st) { conv_case(st, true, false); }
void BM_ConvBackwardNaive(benchmark::State& st) { conv_case(st, true, true); }

// Dense 3x3, C = 16..64, 32x32, batch 32 (the stem and ReLUConvBN shapes of the DARTS net).
BENCHMARK(BM_ConvForward)->ArgNames({"C", "k", "g", "N"})->Args({16, 3, 1, kBatch})->Args({32, 3, 1, kBatch})
    ->Args({64, 3, 1, kBatch})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ConvBackward)->ArgNames({"C", "k", "g", "N"})->Args({16, 3, 1, kBatch})->Args({32, 3, 1, kBatch})
    ->Args({64, 3, 1, kBatch})->Unit(benchmark::kMillisecond)->UseRealTime();
// Pointwise 1x1 (one GEMM per sample) and depthwise 3x3 / 5x5 (direct loops).
BENCHMARK(BM_ConvForward)->ArgNames({"C", "k", "g", "N"})->Args({16, 1, 1, kBatch})->Args({64, 1, 1, kBatch})
    ->Args({16, 3, 0, kBatch})->Args({16, 5, 0, kBatch})->Args({64, 3, 0, kBatch})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ConvBackward)->ArgNames({"C", "k", "g", "N"})->Args({16, 1, 1, kBatch})->Args({64, 1, 1, kBatch})
    ->Args({16, 3, 0, kBatch})->Args({16, 5, 0, kBatch})->Args({64, 3, 0, kBatch})->Unit(benchmark::kMillisecond)->UseRealTime();
// The naive reference on the same shapes (batch 4 to keep runs short; GFLOP/s is comparable).
BENCHMARK(BM_ConvForwardNaive)->ArgNames({"C", "k", "g", "N"})->Args({16, 3, 1, 4})->Args({16, 3, 0, 4})
    ->Args({16, 1, 1, 4})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ConvBackwardNaive)->ArgNames({"C", "k", "g", "N"})->Args({16, 3, 1, 4})->Args({16, 3, 0, 4})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_EigenGemm(benchmark::State& st) {
  const int n = static_cast<int>(st.range(0));
  std::mt19937_64 rng(2);
  const Tensor a = Tensor::randn({n, n}, rng), b = Tensor::randn({n, n}, rng);
  Tensor c({n, n});
  for (auto _ : st) {
    c.mat(n, n).noalias() = a.mat(n, n) * b.mat(n, n);
    benchmark::DoNotOptimize(c.data());
  }
  set_gflops(st, 2.0 * n * n * static_cast<double>(n));
}
BENCHMARK(BM_EigenGemm)->Arg(64)->Arg(256)->Arg(512)->Unit(benchmark::kMicrosecond)->UseRealTime();

// One DARTS search edge at C=16, 32x32, batch 32: the 8 ops (none, max/avg pool + BN, skip,
// sep 3x3 / 5x5, dil 3x3 / 5x5), weighted by softmax(alpha), forward + backward. A search step
// of the 8-cell supernet runs 6 normal cells' 14 edges at this size or smaller.
void BM_MixedEdge(benchmark::State& st) {
  const int c = static_cast<int>(st.range(0));
  const int size = static_cast<int>(st.range(1));
  std::mt19937_64 rng(3);
  auto w = [&](Shape s) { return make_parameter(Tensor::randn(std::move(s), rng, 0.1f)); };
  std::vector<Var> dws, pws;
  const int sep_k[2] = {3, 5};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      dws.push_back(w({c, 1, sep_k[i], sep_k[i]}));
      pws.push_back(w({c, c, 1, 1}));
    }
  for (int i = 0; i < 2; ++i) {
    dws.push_back(w({c, 1, sep_k[i], sep_k[i]}));
    pws.push_back(w({c, c, 1, 1}));
  }
  std::vector<BatchNormState> bns;
  for (int i = 0; i < 8; ++i) bns.push_back(BatchNormState::make(c, false));
  Var alpha = make_parameter(Tensor::randn({8}, rng, 1e-3f));
  Var x = make_parameter(Tensor::randn({kBatch, c, size, size}, rng));
  Tape tape;
  const Conv2dParams pw{1, 0, 1, 1};
  for (auto _ : st) {
    auto sep = [&](int i, int k) {
      Var h = x;
      for (int j = 0; j < 2; ++j) {
        h = relu(tape, h);
        h = conv2d(tape, h, dws[static_cast<std::size_t>(2 * i + j)], {1, k / 2, 1, c});
        h = conv2d(tape, h, pws[static_cast<std::size_t>(2 * i + j)], pw);
        h = batch_norm(tape, h, bns[static_cast<std::size_t>(2 * i + j)], true);
      }
      return h;
    };
    auto dil = [&](int i, int k) {
      Var h = relu(tape, x);
      h = conv2d(tape, h, dws[static_cast<std::size_t>(4 + i)], {1, k - 1, 2, c});
      h = conv2d(tape, h, pws[static_cast<std::size_t>(4 + i)], pw);
      return batch_norm(tape, h, bns[static_cast<std::size_t>(4 + i)], true);
    };
    std::vector<Var> ops{Var(),
                         batch_norm(tape, max_pool2d(tape, x, 3, 1, 1), bns[6], true),
                         batch_norm(tape, avg_pool2d(tape, x, 3, 1, 1), bns[7], true),
                         x,
                         sep(0, 3),
                         sep(1, 5),
                         dil(0, 3),
                         dil(1, 5)};
    Var y = weighted_sum(tape, ops, softmax(tape, alpha));
    tape.backward(sum(tape, y));
    tape.clear();
    benchmark::DoNotOptimize(alpha.grad().data());
  }
  st.counters["img/s"] = benchmark::Counter(kBatch, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_MixedEdge)->ArgNames({"C", "HW"})->Args({16, 32})->Args({32, 16})->Args({64, 8})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace hwnas::nas
