#include "hwnas/nas/autograd.hpp"

#include <stdexcept>

namespace hwnas::nas {

Var::Var(Tensor value, bool requires_grad, std::string name) : node_(std::make_shared<VarNode>()) {
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
  node_->name = std::move(name);
}

Tensor& Var::grad_mut() const {
  if (node_->grad.empty() || node_->grad.shape() != node_->value.shape()) {
    node_->grad = Tensor::zeros(node_->value.shape());
  }
  return node_->grad;
}

Tensor& Var::grad_for_write(bool& fresh) const {
  fresh = node_->grad.empty() || node_->grad.shape() != node_->value.shape();
  if (fresh) node_->grad = Tensor::uninitialized(node_->value.shape());
  return node_->grad;
}

void Var::zero_grad() const {
  if (!node_->grad.empty()) node_->grad.set_zero();
}

std::vector<float>& Workspace::buffer(std::size_t slot, std::size_t min_size) {
  if (buffers_.size() <= slot) buffers_.resize(slot + 1);
  auto& b = buffers_[slot];
  if (b.size() < min_size) b.resize(min_size);
  return b;
}

bool Tape::needs_grad(std::initializer_list<const Var*> inputs) const {
  if (!grad_enabled_) return false;
  for (const Var* v : inputs) {
    if (v && v->requires_grad()) return true;
  }
  return false;
}

bool Tape::needs_grad(const std::vector<Var>& inputs) const {
  if (!grad_enabled_) return false;
  for (const Var& v : inputs) {
    if (v.requires_grad()) return true;
  }
  return false;
}

void Tape::record(const Var& output, std::function<void()> backward) {
  output.node()->requires_grad = true;
  entries_.push_back(Entry{output.node_ptr(), std::move(backward)});
}

void Tape::backward(const Var& loss, bool retain_graph) {
  if (loss.numel() != 1) {
    throw std::invalid_argument("Tape::backward: loss must have one element, has shape " +
                                shape_to_string(loss.shape()));
  }
  Tensor seed(loss.shape(), 1.0f);
  backward(loss, seed, retain_graph);
}

void Tape::backward(const Var& output, const Tensor& seed, bool retain_graph) {
  if (seed.shape() != output.shape()) {
    throw std::invalid_argument("Tape::backward: seed shape " + shape_to_string(seed.shape()) +
                                " differs from output shape " + shape_to_string(output.shape()));
  }
  // Gradients of intermediate nodes from an earlier backward() over the same recording would be
  // added twice; start them afresh so repeated backward calls only accumulate into leaves.
  for (auto& e : entries_) e.output->grad = Tensor();
  Var out = output;
  out.grad_mut() += seed;
  run_backward(retain_graph);
}

void Tape::run_backward(bool retain_graph) {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    // A node no gradient reached (a branch not feeding the loss) has nothing to propagate.
    if (!it->output->grad.empty()) it->backward();
    if (!retain_graph) {
      // Every consumer of this output was recorded later and has already run, so its gradient
      // is complete and used: free it, and the closure with the activations it captured.
      it->output->grad = Tensor();
      it->backward = nullptr;
      it->output.reset();
    }
  }
  if (!retain_graph) entries_.clear();
}

void Tape::clear() { entries_.clear(); }

}  // namespace hwnas::nas
