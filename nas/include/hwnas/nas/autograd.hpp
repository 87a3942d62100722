#pragma once
// Tape-based reverse-mode automatic differentiation.
//
// A Var is a shared handle to a node holding a value Tensor, a gradient Tensor and a
// requires_grad flag. Parameters are leaf Vars created once (make_parameter) that persist across
// steps: every backward() ADDS into their grad, which optimisers or zero_grad() reset.
//
// A Tape (passed explicitly to every op, never global) records, for every op whose output
// requires a gradient, a closure that maps the output's grad to its inputs' grads. backward(loss)
// seeds d loss / d loss = 1 and runs the closures in reverse recording order (the recording order
// is a topological order). clear() drops the closures and with them the activations they keep
// alive; call it once per step, after the optimiser has used the grads.
//
// No-grad / eval mode: a Tape with grad disabled (Tape(false), set_grad_enabled(false) or a
// NoGradGuard) records nothing, and op outputs do not require grad; only values are computed.
//
// Freezing: set_requires_grad(false) on a parameter makes ops skip its gradient (and, when no
// input needs one, skip recording). The DARTS architecture step uses this to avoid computing
// weight gradients it does not need.
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "hwnas/nas/tensor.hpp"

namespace hwnas::nas {

struct VarNode {
  Tensor value;
  Tensor grad;  // empty until a gradient first reaches this node
  bool requires_grad = false;
  std::string name;  // optional, for messages and checkpoints
};

class Var {
 public:
  Var() = default;  // undefined handle (defined() is false)
  explicit Var(Tensor value, bool requires_grad = false, std::string name = {});

  bool defined() const { return static_cast<bool>(node_); }
  const Tensor& value() const { return node_->value; }
  Tensor& value() { return node_->value; }  // optimisers update parameters in place
  const Shape& shape() const { return node_->value.shape(); }
  std::int64_t numel() const { return node_->value.numel(); }
  bool requires_grad() const { return node_ && node_->requires_grad; }
  void set_requires_grad(bool r) { node_->requires_grad = r; }
  const std::string& name() const { return node_->name; }

  // The gradient; empty Tensor if none has reached this Var yet.
  const Tensor& grad() const { return node_->grad; }
  bool has_grad() const { return !node_->grad.empty(); }
  // The gradient buffer, allocated as zeros of the value's shape on first use. Op backward
  // closures accumulate into it with +=. const: a Var is a handle, the node is shared state.
  Tensor& grad_mut() const;
  // For backward closures that write a whole gradient: the buffer, and fresh = true when no
  // gradient had reached this Var yet. A fresh buffer is left uninitialised, and the caller must
  // then ASSIGN every element instead of adding, which skips a zero fill and a read.
  Tensor& grad_for_write(bool& fresh) const;
  void zero_grad() const;  // keeps the buffer (set to zeros) if it exists

  VarNode* node() const { return node_.get(); }
  const std::shared_ptr<VarNode>& node_ptr() const { return node_; }
  bool same_node(const Var& o) const { return node_ == o.node_; }

 private:
  std::shared_ptr<VarNode> node_;
};

// A leaf that requires grad (a weight, a BN affine parameter, an architecture parameter).
inline Var make_parameter(Tensor init, std::string name = {}) {
  return Var(std::move(init), true, std::move(name));
}
// A leaf that does not require grad (inputs, labels-as-tensors, constants).
inline Var make_constant(Tensor value) { return Var(std::move(value), false); }

// Scratch buffers reused across ops and steps so hot loops do not allocate (im2col columns,
// per-thread partial sums). Owned by a Tape; buffer(slot) is a growing vector per slot.
class Workspace {
 public:
  std::vector<float>& buffer(std::size_t slot, std::size_t min_size);
 private:
  std::vector<std::vector<float>> buffers_;
};

class Tape {
 public:
  explicit Tape(bool grad_enabled = true) : grad_enabled_(grad_enabled) {}
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  bool grad_enabled() const { return grad_enabled_; }
  void set_grad_enabled(bool on) { grad_enabled_ = on; }

  // True if an op with these inputs must record: grad enabled and some input requires grad.
  bool needs_grad(std::initializer_list<const Var*> inputs) const;
  bool needs_grad(const std::vector<Var>& inputs) const;

  // Records `backward` for `output` (marks output as requiring grad). During backward() the
  // closure runs only if a gradient reached `output`. Closures read output.grad() and add into
  // their inputs' grad_mut() (only for inputs with requires_grad()).
  void record(const Var& output, std::function<void()> backward);

  // Seeds d loss / d loss = 1 (loss must have exactly one element) and runs the tape in reverse.
  // As in PyTorch, the recording is consumed: each closure, the activations only it kept and the
  // gradient of its output are freed as soon as it has run, which keeps peak memory near the
  // forward pass's, and the tape is empty afterwards. retain_graph = true keeps everything (and
  // the intermediate gradients) so backward() can run again over the same recording; each call
  // then resets the intermediate grads first and adds its own gradient into the leaves only.
  void backward(const Var& loss, bool retain_graph = false);
  // Same with an explicit seed gradient of output's shape (vector-Jacobian product).
  void backward(const Var& output, const Tensor& seed, bool retain_graph = false);

  // Drops every recorded closure (and the activations they hold). Keeps the workspace.
  void clear();
  std::size_t size() const { return entries_.size(); }

  Workspace& workspace() { return workspace_; }

 private:
  struct Entry {
    std::shared_ptr<VarNode> output;
    std::function<void()> backward;
  };
  void run_backward(bool retain_graph);

  bool grad_enabled_;
  std::vector<Entry> entries_;
  Workspace workspace_;
};

// Disables recording on a tape for a scope (eval, validation, BN-free inference).
class NoGradGuard {
 public:
  explicit NoGradGuard(Tape& tape) : tape_(tape), previous_(tape.grad_enabled()) {
    tape_.set_grad_enabled(false);
  }
  ~NoGradGuard() { tape_.set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  Tape& tape_;
  bool previous_;
};

}  // namespace hwnas::nas
