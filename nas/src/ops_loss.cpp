// Classifier head and losses: linear, softmax, log_softmax, cross-entropy.
#include <cmath>
#include <memory>
#include <stdexcept>
#include <utility>

#include "hwnas/nas/ops.hpp"

namespace hwnas::nas {

namespace {

// Rows x cols view of a 1-D (one row) or 2-D tensor.
void rows_cols(const char* op, const Tensor& t, int& rows, int& cols) {
  if (t.ndim() == 1) {
    rows = 1;
    cols = t.dim(0);
  } else if (t.ndim() == 2) {
    rows = t.dim(0);
    cols = t.dim(1);
  } else {
    throw std::invalid_argument(std::string(op) + ": input " + shape_to_string(t.shape()) + " must be 1-D or 2-D");
  }
  if (cols < 1) throw std::invalid_argument(std::string(op) + ": empty rows");
}

// Numerically stable log-softmax of each row into out (same layout).
void log_softmax_rows(const Tensor& x, int rows, int cols, Tensor& out) {
  ConstMatMap X = x.mat(rows, cols);
  MatMap Y = out.mat(rows, cols);
  for (int r = 0; r < rows; ++r) {
    const float mx = X.row(r).maxCoeff();
    const float lse = mx + std::log((X.row(r).array() - mx).exp().sum());
    Y.row(r) = X.row(r).array() - lse;
  }
}

}  // namespace

Var linear(Tape& tape, const Var& x, const Var& weight, const Var& bias) {
  const Tensor& xv = x.value();
  const Tensor& wv = weight.value();
  if (xv.ndim() != 2 || wv.ndim() != 2 || xv.dim(1) != wv.dim(1) ||
      (bias.defined() && (bias.value().ndim() != 1 || bias.value().dim(0) != wv.dim(0)))) {
    throw std::invalid_argument("linear: input " + shape_to_string(xv.shape()) + ", weight " +
                                shape_to_string(wv.shape()) +
                                (bias.defined() ? ", bias " + shape_to_string(bias.shape()) : std::string()));
  }
  const int N = xv.dim(0), I = xv.dim(1), O = wv.dim(0);
  Tensor y = Tensor::uninitialized({N, O});
  y.mat(N, O).noalias() = xv.mat(N, I) * wv.mat(O, I).transpose();
  if (bias.defined()) y.mat(N, O).rowwise() += bias.value().vec().transpose();
  Var out(std::move(y));
  if (tape.needs_grad({&x, &weight, &bias})) {
    tape.record(out, [x, weight, bias, out, N, I, O]() mutable {
      ConstMatMap dy = out.grad().mat(N, O);
      if (x.requires_grad()) x.grad_mut().mat(N, I).noalias() += dy * weight.value().mat(O, I);
      if (weight.requires_grad()) weight.grad_mut().mat(O, I).noalias() += dy.transpose() * x.value().mat(N, I);
      if (bias.defined() && bias.requires_grad()) bias.grad_mut().vec() += dy.colwise().sum().transpose();
    });
  }
  return out;
}

Var softmax(Tape& tape, const Var& x) {
  int rows, cols;
  rows_cols("softmax", x.value(), rows, cols);
  Tensor y = Tensor::uninitialized(x.shape());
  log_softmax_rows(x.value(), rows, cols, y);
  y.vec() = y.vec().array().exp().matrix();
  Var out(std::move(y));
  if (tape.needs_grad({&x})) {
    tape.record(out, [x, out, rows, cols]() mutable {
      ConstMatMap Y = std::as_const(out).value().mat(rows, cols);
      ConstMatMap dY = out.grad().mat(rows, cols);
      MatMap dX = x.grad_mut().mat(rows, cols);
      for (int r = 0; r < rows; ++r) {
        const float s = dY.row(r).dot(Y.row(r));
        dX.row(r).array() += Y.row(r).array() * (dY.row(r).array() - s);
      }
    });
  }
  return out;
}

Var log_softmax(Tape& tape, const Var& x) {
  int rows, cols;
  rows_cols("log_softmax", x.value(), rows, cols);
  Tensor y = Tensor::uninitialized(x.shape());
  log_softmax_rows(x.value(), rows, cols, y);
  Var out(std::move(y));
  if (tape.needs_grad({&x})) {
    tape.record(out, [x, out, rows, cols]() mutable {
      ConstMatMap Y = std::as_const(out).value().mat(rows, cols);
      ConstMatMap dY = out.grad().mat(rows, cols);
      MatMap dX = x.grad_mut().mat(rows, cols);
      for (int r = 0; r < rows; ++r) {
        const float s = dY.row(r).sum();
        dX.row(r).array() += dY.row(r).array() - Y.row(r).array().exp() * s;
      }
    });
  }
  return out;
}

Var cross_entropy(Tape& tape, const Var& logits, const std::vector<int>& labels) {
  const Tensor& lv = logits.value();
  if (lv.ndim() != 2 || lv.dim(0) != static_cast<int>(labels.size()) || lv.dim(0) < 1) {
    throw std::invalid_argument("cross_entropy: logits " + shape_to_string(lv.shape()) + " and " +
                                std::to_string(labels.size()) + " labels");
  }
  const int N = lv.dim(0), K = lv.dim(1);
  for (int l : labels) {
    if (l < 0 || l >= K) {
      throw std::invalid_argument("cross_entropy: label " + std::to_string(l) + " outside [0, " + std::to_string(K) + ")");
    }
  }
  auto logp = std::make_shared<Tensor>(lv.shape());
  log_softmax_rows(lv, N, K, *logp);
  double loss = 0.0;
  for (int n = 0; n < N; ++n) loss -= (*logp)[static_cast<std::int64_t>(n) * K + labels[static_cast<std::size_t>(n)]];
  Var out(Tensor({1}, static_cast<float>(loss / N)));
  if (tape.needs_grad({&logits})) {
    tape.record(out, [logits, out, logp, labels, N, K]() mutable {
      const float g = out.grad()[0] / static_cast<float>(N);
      MatMap dX = logits.grad_mut().mat(N, K);
      ConstMatMap LP = std::as_const(*logp).mat(N, K);
      for (int n = 0; n < N; ++n) {
        dX.row(n).array() += g * LP.row(n).array().exp();
        dX(n, labels[static_cast<std::size_t>(n)]) -= g;
      }
    });
  }
  return out;
}

std::vector<int> argmax_rows(const Tensor& x) {
  int rows, cols;
  rows_cols("argmax_rows", x, rows, cols);
  std::vector<int> out(static_cast<std::size_t>(rows));
  ConstMatMap X = x.mat(rows, cols);
  for (int r = 0; r < rows; ++r) {
    Eigen::Index i;
    X.row(r).maxCoeff(&i);
    out[static_cast<std::size_t>(r)] = static_cast<int>(i);
  }
  return out;
}

}  // namespace hwnas::nas
