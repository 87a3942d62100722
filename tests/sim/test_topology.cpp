// hwnas topology files (CSV and JSON): parsing, defaults, round trip and error messages.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "hwnas/common/atomic_file.hpp"
#include "hwnas/common/error.hpp"
#include "sim_test_util.hpp"
#include "hwnas/common/json_fields.hpp"
#include "hwnas/sim/topology.hpp"

namespace fs = std::filesystem;
using hwnas::InputError;
using namespace hwnas::sim;

namespace {

using hwnas::sim::testing::contains;
using hwnas::sim::testing::input_error;

}  // namespace

TEST(TopologyCsv, SpecColumnWithNames) {
  const Topology t = parse_topology_csv(
      "# a comment line\n"
      "name,spec\n"
      "conv1, conv2d h=32 w=30 c=3 k=16 r=3 stride=2 pad=1\n"
      "\n"
      "pool1,maxpool h=16 w=15 c=16 r=2\n"
      "fc,gemm m=1 n=10 k=256\n",
      "net.csv");
  EXPECT_EQ(t.name, "net");
  ASSERT_EQ(t.layers.size(), 3u);
  const Layer& c = t.layers[0];
  EXPECT_EQ(c.name, "conv1");
  EXPECT_EQ(c.kind, LayerKind::kConv2d);
  EXPECT_EQ(c.in_h, 32);
  EXPECT_EQ(c.in_w, 30);
  EXPECT_EQ(c.in_channels, 3);
  EXPECT_EQ(c.out_channels, 16);
  EXPECT_EQ(c.kernel_h, 3);
  EXPECT_EQ(c.kernel_w, 3);
  EXPECT_EQ(c.stride_h, 2);
  EXPECT_EQ(c.pad_w, 1);
  EXPECT_EQ(c.out_h(), 16);  // floor((32 + 2 - 3) / 2) + 1
  EXPECT_EQ(c.out_w(), 15);  // floor((30 + 2 - 3) / 2) + 1
  EXPECT_EQ(t.layers[1].kind, LayerKind::kElementwise);
  EXPECT_EQ(t.layers[1].elementwise_op, ElementwiseOp::kMaxPool);
  EXPECT_EQ(t.layers[2].gemm_k, 256);
}

TEST(TopologyCsv, KindColumnsLeaveEmptyCellsAtTheirDefaults) {
  const Topology t = parse_topology_csv(
      "name,kind,h,w,c,k,r,stride,pad,groups\n"
      "a,conv2d,8,8,4,6,3,,1,\n"
      "b,conv2d,8,8,4,4,3,1,1,4\n"
      ",relu,8,8,4,,,,,\n",
      "x.csv");
  ASSERT_EQ(t.layers.size(), 3u);
  EXPECT_EQ(t.layers[0].stride_h, 1);
  EXPECT_EQ(t.layers[0].groups, 1);
  EXPECT_EQ(t.layers[0].kernel_w, 3);  // s defaults to r
  EXPECT_EQ(t.layers[0].out_channels, 6);
  EXPECT_EQ(t.layers[1].groups, 4);
  EXPECT_EQ(t.layers[2].kind, LayerKind::kElementwise);
  EXPECT_EQ(t.layers[2].elementwise_op, ElementwiseOp::kRelu);
  EXPECT_EQ(t.layers[2].name, "layer2");  // unnamed rows are numbered from 0
}

TEST(TopologyCsv, TrailingCommasAreTolerated) {
  const Topology t = parse_topology_csv("name,spec,\nc,conv2d h=4 w=4 c=1 k=1 r=1,\n", "t.csv");
  ASSERT_EQ(t.layers.size(), 1u);
  EXPECT_EQ(t.layers[0].in_h, 4);
}

TEST(TopologyCsv, ErrorsNameFileLineAndValue) {
  std::string m = input_error([] {
    parse_topology_csv("name,spec\nok,relu h=2 w=2 c=1\nbad,conv2d h=x w=4 c=1 k=1 r=1\n", "n.csv");
  });
  EXPECT_TRUE(contains(m, "n.csv:3")) << m;
  EXPECT_TRUE(contains(m, "'x'")) << m;
  EXPECT_TRUE(contains(m, "bad")) << m;

  m = input_error([] { parse_topology_csv("name,kind,h,w,c,zz\na,relu,2,2,1,7\n", "n.csv"); });
  EXPECT_TRUE(contains(m, "n.csv:2")) << m;
  EXPECT_TRUE(contains(m, "zz")) << m;
  EXPECT_TRUE(contains(m, "7")) << m;

  m = input_error([] { parse_topology_csv("name,spec\na,relu h=2 w=2 c=1,extra\n", "n.csv"); });
  EXPECT_TRUE(contains(m, "n.csv:2")) << m;
  EXPECT_TRUE(contains(m, "3 fields")) << m;

  m = input_error([] { parse_topology_csv("layer,h,w\na,1,2\n", "n.csv"); });
  EXPECT_TRUE(contains(m, "n.csv:1")) << m;
  EXPECT_TRUE(contains(m, "'spec'")) << m;

  m = input_error([] {
    parse_topology_csv("Layer name, IFMAP Height, IFMAP Width, Filter Height,\nc,1,1,1,\n", "s.csv");
  });
  EXPECT_TRUE(contains(m, "s.csv:1") && contains(m, "--topology-format conv")) << m;

  m = input_error([] { parse_topology_csv("name,spec\n", "n.csv"); });
  EXPECT_TRUE(contains(m, "no layers")) << m;

  m = input_error([] { parse_topology_csv("name,spec\na,warp h=2\n", "n.csv"); });
  EXPECT_TRUE(contains(m, "n.csv:2")) << m;
  EXPECT_TRUE(contains(m, "warp")) << m;
}

TEST(TopologyJson, SpecAndExplicitFields) {
  const auto doc = nlohmann::json::parse(R"({
    "name": "tiny",
    "layers": [
      {"name": "c1", "spec": "conv2d h=10 w=10 c=1 k=4 r=5"},
      {"kind": "maxpool", "h": 6, "w": 6, "c": 4, "r": 2},
      {"name": "c2", "kind": "conv2d", "h": 3, "w": 3, "c": 4, "k": 8, "r": 3, "rounding": "ceil"}
    ]})");
  const Topology t = parse_topology_json(doc, "tiny.json");
  EXPECT_EQ(t.name, "tiny");
  ASSERT_EQ(t.layers.size(), 3u);
  EXPECT_EQ(t.layers[0].name, "c1");
  EXPECT_EQ(t.layers[0].out_h(), 6);  // 10 - 5 + 1
  EXPECT_EQ(t.layers[1].name, "layer1");
  EXPECT_EQ(t.layers[1].stride_h, 2);  // pools default to stride = window
  EXPECT_EQ(t.layers[1].out_h(), 3);
  EXPECT_EQ(t.layers[2].rounding, OutputRounding::kCeil);
  EXPECT_EQ(t.layers[2].out_channels, 8);
}

TEST(TopologyJson, ErrorsNameTheJsonPath) {
  std::string m = input_error([] {
    parse_topology_json(nlohmann::json::parse(R"({"layers": [{"spec": "relu h=2 w=2 c=1"},
        {"kind": "conv2d", "h": 4, "w": 4, "c": 1, "k": 2, "r": true}]})"),
                        "t.json");
  });
  EXPECT_TRUE(contains(m, "t.json: /layers/1/r")) << m;
  EXPECT_TRUE(contains(m, "true")) << m;

  m = input_error([] {
    parse_topology_json(nlohmann::json::parse(R"({"layers": [], "nmae": "x"})"), "t.json");
  });
  EXPECT_TRUE(contains(m, "/nmae")) << m;

  m = input_error([] {
    parse_topology_json(nlohmann::json::parse(R"({"layers": []})"), "t.json");
  });
  EXPECT_TRUE(contains(m, "/layers")) << m;

  m = input_error([] {
    parse_topology_json(
        nlohmann::json::parse(R"({"layers": [{"spec": "relu h=2 w=2 c=1", "kind": "relu"}]})"),
        "t.json");
  });
  EXPECT_TRUE(contains(m, "/layers/0/kind")) << m;

  m = input_error([] {
    parse_topology_json(nlohmann::json::parse(R"({"layers": [{"spec": "conv2d h=4 w=4 c=1 k=1 r=9"}]})"),
                        "t.json");
  });
  EXPECT_TRUE(contains(m, "/layers/0")) << m;
}

TEST(Topology, CsvAndJsonRoundTrip) {
  Topology t = parse_topology_csv(
      "name,spec\n"
      "c,conv2d h=9 w=7 c=4 k=8 r=3 s=1 stride_h=2 stride_w=1 pad_h=1 pad_w=0 dilation=2 groups=2\n"
      "d,dwconv h=8 w=8 c=8 r=3 pad=1\n"
      "g,gemm m=3 n=4 k=5\n"
      "p,avgpool h=8 w=8 c=8 r=3 stride=2 pad=1 rounding=ceil\n",
      "rt.csv");
  const Topology from_csv = parse_topology_csv(topology_to_csv(t), "rt.csv");
  const Topology from_json = parse_topology_json(topology_to_json(t), "rt.json");
  ASSERT_EQ(from_csv.layers.size(), t.layers.size());
  ASSERT_EQ(from_json.layers.size(), t.layers.size());
  for (std::size_t i = 0; i < t.layers.size(); ++i) {
    EXPECT_EQ(layer_spec_string(from_csv.layers[i]), layer_spec_string(t.layers[i]));
    EXPECT_EQ(layer_spec_string(from_json.layers[i]), layer_spec_string(t.layers[i]));
  }
}

TEST(Topology, LoadPicksTheParserByExtension) {
  const fs::path dir = fs::temp_directory_path() / ("hwnas_topo_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  hwnas::write_file_atomically(dir / "a.csv", "name,spec\nr,relu h=2 w=2 c=3\n");
  hwnas::write_file_atomically(dir / "b.JSON", R"({"layers":[{"spec":"relu h=2 w=2 c=5"}]})");
  hwnas::write_file_atomically(dir / "c.txt", "whatever");
  EXPECT_EQ(load_topology((dir / "a.csv").string()).layers.at(0).in_channels, 3);
  EXPECT_EQ(load_topology((dir / "b.JSON").string()).layers.at(0).in_channels, 5);
  std::string m = input_error([&] { load_topology((dir / "c.txt").string()); });
  EXPECT_TRUE(contains(m, "c.txt")) << m;
  m = input_error([&] { load_topology((dir / "missing.csv").string()); });
  EXPECT_TRUE(contains(m, "missing.csv")) << m;
  fs::remove_all(dir);
}

TEST(Topology, ShippedExamplesParse) {
  const fs::path root = HWNAS_SOURCE_DIR;
  const Topology a = load_topology((root / "topologies" / "aconvnet_mstar.json").string());
  ASSERT_EQ(a.layers.size(), 8u);
  // 88 -> conv5 84 -> pool 42 -> conv5 38 -> pool 19 -> conv6 14 -> pool 7 -> conv5 3 -> conv3 1
  EXPECT_EQ(a.layers[0].out_h(), 84);
  EXPECT_EQ(a.layers[1].out_h(), 42);
  EXPECT_EQ(a.layers[2].out_h(), 38);
  EXPECT_EQ(a.layers[3].out_h(), 19);
  EXPECT_EQ(a.layers[4].out_h(), 14);
  EXPECT_EQ(a.layers[5].out_h(), 7);
  EXPECT_EQ(a.layers[6].out_h(), 3);
  EXPECT_EQ(a.layers[7].out_h(), 1);
  EXPECT_EQ(a.layers[7].out_channels, 10);
  for (std::size_t i = 1; i < a.layers.size(); ++i) {
    EXPECT_EQ(a.layers[i].in_h, a.layers[i - 1].out_h()) << "layer " << i;
    EXPECT_EQ(a.layers[i].in_channels, a.layers[i - 1].out_channels) << "layer " << i;
  }
  // MobileNet-v1 head: 224 -> 112 (conv s2) -> 112 (dw) -> 112 (pw 64) -> 56 (dw s2) -> 56 (pw 128).
  const Topology m = load_topology((root / "topologies" / "mobilenet_v1_head.json").string());
  ASSERT_EQ(m.layers.size(), 10u);
  for (std::size_t i = 1; i < m.layers.size(); ++i) {
    EXPECT_EQ(m.layers[i].in_h, m.layers[i - 1].out_h()) << m.layers[i].name;
    EXPECT_EQ(m.layers[i].in_channels, m.layers[i - 1].out_channels) << m.layers[i].name;
  }
  EXPECT_EQ(m.layers[2].groups, 32);  // depthwise
  EXPECT_EQ(m.layers[6].out_h(), 56);
  EXPECT_EQ(m.layers[9].in_channels, 128);
}
