#pragma once
// Differentiable operations for the DARTS engine. Each op computes its forward value and, when
// the tape needs a gradient (Tape::needs_grad), records the backward closure next to it.
// Semantics follow PyTorch (the reference implementation of DARTS) so shapes, statistics and
// gradients match: see docs/autograd.md.
//
// Layout: activations are NCHW [N, C, H, W]; classifier tensors are [N, features].
// Shape errors throw std::invalid_argument naming the op and the shapes (they are program bugs,
// not user input).
#include <cstdint>
#include <random>
#include <vector>

#include "hwnas/nas/autograd.hpp"
#include "hwnas/nas/tensor.hpp"

namespace hwnas::nas {

// ------------------------------------------------------------------------------------------
// Convolution. Weight shape [C_out, C_in / groups, kh, kw]; no bias (DARTS convs have none).
// Output H' = (H + 2*padding - dilation*(k-1) - 1) / stride + 1 (floor), as in PyTorch.
// Paths: groups == C_in == C_out -> direct depthwise loops; 1x1, stride 1, no padding, groups 1
// -> one GEMM per sample; otherwise im2col + Eigen GEMM per group. OpenMP over the batch or
// channels. The naive reference (reference::conv2d_*) is kept for tests and benchmarks.
struct Conv2dParams {
  int stride = 1;
  int padding = 0;
  int dilation = 1;
  int groups = 1;
};

int conv_output_size(int in, int kernel, int stride, int padding, int dilation);

Var conv2d(Tape& tape, const Var& x, const Var& weight, const Conv2dParams& p);

// Raw kernels (no tape), used by conv2d and exposed for benchmarks and fast-path tests.
// Forward writes y (resized); backward ADDS into dx / dw when they are non-null.
namespace kernels {
void conv2d_forward(const Tensor& x, const Tensor& w, const Conv2dParams& p, Tensor& y,
                    Workspace& ws);
// Adds into *dx and *dw; with overwrite_dx, *dx is assigned instead (its old contents, which
// may be uninitialised, are ignored).
void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const Conv2dParams& p,
                     Tensor* dx, Tensor* dw, Workspace& ws, bool overwrite_dx = false);
}  // namespace kernels

namespace reference {
// Straightforward 7-deep loops straight from the definition; slow, obviously right.
void conv2d_forward(const Tensor& x, const Tensor& w, const Conv2dParams& p, Tensor& y);
void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const Conv2dParams& p,
                     Tensor* dx, Tensor* dw);
}  // namespace reference

// ------------------------------------------------------------------------------------------
// Batch normalisation over N (and H, W) per channel, for 4-D [N,C,H,W] or 2-D [N,C] input.
// Training: normalise with the batch mean and biased variance; update running_mean/var with
// momentum (running = (1-m)*running + m*batch, the running variance uses the UNBIASED batch
// variance, as PyTorch does). Eval: normalise with the running statistics.
// affine=false: no gamma/beta (DARTS search ops); affine=true: gamma init 1, beta init 0.
struct BatchNormState {
  int channels = 0;
  bool affine = false;
  float momentum = 0.1f;
  float eps = 1e-5f;
  Var gamma;  // [C], defined only when affine
  Var beta;   // [C], defined only when affine
  Tensor running_mean;  // [C], init 0
  Tensor running_var;   // [C], init 1
  std::int64_t num_batches_tracked = 0;

  static BatchNormState make(int channels, bool affine);
  // Learnable parameters (gamma, beta) if affine, else empty.
  std::vector<Var> parameters() const;
};

Var batch_norm(Tape& tape, const Var& x, BatchNormState& bn, bool training);

// ------------------------------------------------------------------------------------------
// Element-wise and structural ops.
Var relu(Tape& tape, const Var& x);
// Max pooling with -inf padding (padding never wins). Gradient goes to the first maximal
// element of each window (PyTorch picks one index per window too).
Var max_pool2d(Tape& tape, const Var& x, int kernel, int stride, int padding);
// Average pooling with count_include_pad=False: each window divides by the number of in-bounds
// elements.
Var avg_pool2d(Tape& tape, const Var& x, int kernel, int stride, int padding);

Var add(Tape& tape, const Var& a, const Var& b);             // same shape
Var add_n(Tape& tape, const std::vector<Var>& xs);           // same shapes, >= 1 input
Var mul(Tape& tape, const Var& a, const Var& b);             // element-wise, same shape
Var mul_scalar(Tape& tape, const Var& x, float s);           // s * x (s a constant)
Var scale(Tape& tape, const Var& x, const Var& s);           // s * x, s has one element
// MixedOp: sum_i w[i] * xs[i]; w has xs.size() elements. Gradients to every xs[i] and to w.
// Inputs may be undefined Vars when w[i] multiplies a known-zero tensor (DARTS `none`): they
// contribute nothing and get no gradient, saving the zeros' memory traffic.
Var weighted_sum(Tape& tape, const std::vector<Var>& xs, const Var& w);

Var concat_channels(Tape& tape, const std::vector<Var>& xs);  // along dim 1, same N,H,W
Var slice_channels(Tape& tape, const Var& x, int begin, int end);  // x[:, begin:end]
// x[:, :, 1:, 1:] (FactorizedReduce's second path): [N,C,H,W] -> [N,C,H-1,W-1]. Followed by a
// 1x1 stride-2 conv this gives floor(H/2) rows, the first path gives ceil(H/2): equal for even H
// only, exactly like PyTorch (where torch.cat fails for odd H).
Var shift_crop(Tape& tape, const Var& x);
// DARTS `none`: zeros of shape [N, C, ceil(H/stride), ceil(W/stride)] (x[:,:,::s,::s]*0).
// Records nothing; the output never requires grad.
Var zero(Tape& tape, const Var& x, int stride);
Var global_avg_pool(Tape& tape, const Var& x);  // [N,C,H,W] -> [N,C]
Var reshape(Tape& tape, const Var& x, const Shape& shape);  // same numel
// Row r of a 2-D tensor as a 1-D tensor (one edge's alphas out of a [edges, ops] matrix).
Var row(Tape& tape, const Var& x, int r);

// y = x W^T + b; x [N, in], weight [out, in], bias [out] (may be undefined).
Var linear(Tape& tape, const Var& x, const Var& weight, const Var& bias);

// Over the last dimension: a 1-D vector, or each row of a 2-D tensor.
Var softmax(Tape& tape, const Var& x);
Var log_softmax(Tape& tape, const Var& x);
// Mean over the batch of -log_softmax(logits)[n, labels[n]]; logits [N, K]. Returns [1].
// Labels outside [0, K) throw std::invalid_argument.
Var cross_entropy(Tape& tape, const Var& logits, const std::vector<int>& labels);

Var sum(Tape& tape, const Var& x);                          // all elements -> [1]
Var dot_const(Tape& tape, const Var& x, const Tensor& c);   // sum(x * c) -> [1]; c constant

// Element-wise dropout (inverted: kept values scale by 1/(1-p)); identity when !training or
// p == 0. The mask is drawn from rng.
Var dropout(Tape& tape, const Var& x, float p, std::mt19937_64& rng, bool training);
// DARTS drop_path: one Bernoulli(1-p) draw per sample n; x[n] is zeroed or scaled by 1/(1-p).
// Identity when !training or p == 0.
Var drop_path(Tape& tape, const Var& x, float p, std::mt19937_64& rng, bool training);

// Index of the largest entry of each row of a 2-D tensor (predictions; no gradient).
std::vector<int> argmax_rows(const Tensor& x);

}  // namespace hwnas::nas
