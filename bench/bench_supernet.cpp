// Supernet training step (forward + backward + SGD update of the weights) of the DARTS search
// network, 8 cells, C=16, batch 32, in images/s; bench/pytorch_supernet.py runs the same
// network and step in PyTorch for a side-by-side figure (docs/search.md).
#include <benchmark/benchmark.h>

#include "hwnas/common/op_catalog.hpp"
#include "hwnas/nas/ops.hpp"
#include "hwnas/nas/optim.hpp"
#include "hwnas/nas/supernet.hpp"

using namespace hwnas::nas;

namespace {

void supernet_step(benchmark::State& state, int channels_in, int side, bool with_alpha_step) {
  SearchGeometry g;
  g.input_channels = channels_in;
  g.input_height = g.input_width = side;
  g.cells = 8;
  g.channels = 16;
  g.num_classes = 10;
  const int batch = 32;
  Supernet net(g, hwnas::OpCatalog::builtin().select("darts"), 2);
  Sgd sgd(net.weights(), SgdOptions{0.025f, 0.9f, 0.0f, 3e-4f, false});
  Adam adam(net.alphas(), AdamOptions{3e-4f, 0.5f, 0.999f, 1e-8f, 1e-3f});
  std::mt19937_64 rng(1);
  const Tensor x = Tensor::randn({batch, channels_in, side, side}, rng);
  std::vector<int> labels(batch);
  for (int i = 0; i < batch; ++i) labels[static_cast<std::size_t>(i)] = i % 10;
  const std::vector<Var> weights = net.weights();
  Tape tape;
  auto step = [&]() {
    if (with_alpha_step) {
      net.set_weights_trainable(false);
      zero_grads(net.alphas());
      tape.backward(cross_entropy(tape, net.forward(tape, make_constant(x), true), labels));
      tape.clear();
      adam.step();
      net.set_weights_trainable(true);
    }
    for (auto a : net.alphas()) a.set_requires_grad(false);
    sgd.zero_grad();
    const Var loss = cross_entropy(tape, net.forward(tape, make_constant(x), true), labels);
    tape.backward(loss);
    tape.clear();
    clip_grad_norm(weights, 5.0f);
    sgd.step();
    for (auto a : net.alphas()) a.set_requires_grad(true);
    benchmark::DoNotOptimize(loss.value().data());
  };
  // One untimed step first, as the PyTorch script does: the first step faults every activation
  // buffer in and fills the tensor cache; the steady state is what a search runs at.
  step();
  for (auto _ : state) step();
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["weights"] = static_cast<double>(net.weight_count());
}

void BM_SupernetWeightStep_3x32x32(benchmark::State& s) { supernet_step(s, 3, 32, false); }
void BM_SupernetWeightStep_1x64x64(benchmark::State& s) { supernet_step(s, 1, 64, false); }
void BM_SupernetSearchStep_3x32x32(benchmark::State& s) { supernet_step(s, 3, 32, true); }

}  // namespace

BENCHMARK(BM_SupernetWeightStep_3x32x32)->Unit(benchmark::kSecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_SupernetWeightStep_1x64x64)->Unit(benchmark::kSecond)->Iterations(2)->UseRealTime();
BENCHMARK(BM_SupernetSearchStep_3x32x32)->Unit(benchmark::kSecond)->Iterations(2)->UseRealTime();
