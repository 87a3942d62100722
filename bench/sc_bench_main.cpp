// Benchmark entry for programs that link SystemC (libsystemc.so owns main() and calls sc_main).
#include <benchmark/benchmark.h>
#include <systemc>

int sc_main(int argc, char* argv[]) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
