// Geometry and op decomposition against DARTS's model_search.py / operations.py and the closed
// forms of field-notes-nas.md 6.1 / 6.2.
#include <gtest/gtest.h>

#include <set>

#include "hwnas/common/error.hpp"
#include "hwnas/common/op_catalog.hpp"
#include "hwnas/costmodels/decompose.hpp"
#include "hwnas/costmodels/geometry.hpp"

namespace hc = hwnas::costmodels;
using hwnas::sim::ElementwiseOp;
using hwnas::sim::LayerKind;

namespace {

std::int64_t sum_macs(const std::vector<hc::HwLayer>& ls) {
  std::int64_t m = 0;
  for (const auto& l : ls) m += l.macs;
  return m;
}
std::int64_t sum_params(const std::vector<hc::HwLayer>& ls) {
  std::int64_t m = 0;
  for (const auto& l : ls) m += l.params;
  return m;
}
std::vector<hc::HwLayer> op(const std::string& name, std::int64_t c, std::int64_t h, std::int64_t stride,
                            hc::NetVariant v = {}) {
  return hc::op_layers(hwnas::OpCatalog::builtin().get(name), {c, h, h}, stride, v, "t");
}

}  // namespace

TEST(Geometry, DartsSearchNetCells) {
  hc::SearchGeometry s;  // 1x64x64, 8 cells, C=16, 4 nodes
  const auto g = hc::resolve_geometry(s);
  ASSERT_EQ(g.cells.size(), 8u);
  EXPECT_EQ(*g.spec.reduction_cells, (std::vector<std::int64_t>{2, 5}));
  const std::int64_t c[8] = {16, 16, 32, 32, 32, 64, 64, 64};
  const std::int64_t h[8] = {64, 64, 64, 32, 32, 32, 16, 16};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(g.cells[i].channels, c[i]) << i;
    EXPECT_EQ(g.cells[i].in_height, h[i]) << i;
    EXPECT_EQ(g.cells[i].reduction, i == 2 || i == 5) << i;
    EXPECT_EQ(g.cells[i].reduction_prev, i == 3 || i == 6) << i;
    EXPECT_EQ(g.cells[i].out_channels, 4 * c[i]) << i;
  }
  EXPECT_EQ(g.stem_channels, 48);
  // s0/s1 channels: stem 48 feeds cells 0 and 1; cell k-1's 4C feeds s1.
  EXPECT_EQ(g.cells[0].pp_channels, 48);
  EXPECT_EQ(g.cells[0].p_channels, 48);
  EXPECT_EQ(g.cells[1].pp_channels, 48);
  EXPECT_EQ(g.cells[1].p_channels, 64);
  EXPECT_EQ(g.cells[3].pp_channels, 64);   // cell 1 output, at 64x64
  EXPECT_EQ(g.cells[3].pp_height, 64);
  EXPECT_EQ(g.cells[3].p_channels, 128);   // reduction cell 2 output, at 32x32
  EXPECT_EQ(g.classifier_channels, 256);
  EXPECT_EQ(g.classifier_height, 16);
}

TEST(Geometry, FourteenEdgesAndStrides) {
  const auto normal = hc::cell_edges(4, false);
  const auto reduce = hc::cell_edges(4, true);
  ASSERT_EQ(normal.size(), 14u);  // 2+3+4+5
  ASSERT_EQ(reduce.size(), 14u);
  std::set<std::pair<std::int64_t, std::int64_t>> seen;
  int strided = 0;
  for (std::size_t i = 0; i < reduce.size(); ++i) {
    const auto& e = reduce[i];
    EXPECT_EQ(e.index, static_cast<std::int64_t>(i));
    EXPECT_LT(e.from, e.to);
    EXPECT_GE(e.to, 2);
    EXPECT_LE(e.to, 5);
    EXPECT_TRUE(seen.insert({e.from, e.to}).second);
    EXPECT_EQ(e.stride, e.from < 2 ? 2 : 1);
    EXPECT_EQ(normal[i].stride, 1);
    EXPECT_EQ(hc::edge_index(e.from, e.to), e.index);
    strided += e.stride == 2;
  }
  EXPECT_EQ(strided, 8);  // two per node
  // Node 3's edges start after node 2's two.
  EXPECT_EQ(hc::edge_index(0, 3), 2);
  EXPECT_EQ(hc::edge_index(4, 5), 13);
  EXPECT_EQ(hc::cell_edges(5, false).size(), 20u);  // 2+3+4+5+6
}

TEST(Geometry, DefaultReductionsFollowDarts) {
  EXPECT_EQ(hc::default_reduction_cells(8), (std::vector<std::int64_t>{2, 5}));
  EXPECT_EQ(hc::default_reduction_cells(5), (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(hc::default_reduction_cells(20), (std::vector<std::int64_t>{6, 13}));
  EXPECT_EQ(hc::default_reduction_cells(1), (std::vector<std::int64_t>{0}));
}

TEST(Geometry, ImpossibleGeometryNamesTheProblem) {
  hc::SearchGeometry s;
  s.cells = 0;
  try {
    hc::resolve_geometry(s);
    FAIL();
  } catch (const hwnas::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cells = 0"), std::string::npos) << e.what();
  }
  s = {};
  s.input_height = s.input_width = 4;
  s.reduction_cells = std::vector<std::int64_t>{0, 1, 2};  // 4 -> 2 -> 1 -> ?
  try {
    hc::resolve_geometry(s);
    FAIL();
  } catch (const hwnas::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cell 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1x1"), std::string::npos) << e.what();
  }
  s = {};
  s.input_height = s.input_width = 6;  // 6 -> 3, then an odd size cannot be factor-reduced
  s.reduction_cells = std::vector<std::int64_t>{1, 3};
  EXPECT_THROW(hc::resolve_geometry(s), hwnas::InputError);
  s = {};
  s.reduction_cells = std::vector<std::int64_t>{5, 2};
  EXPECT_THROW(hc::resolve_geometry(s), hwnas::InputError);
  s.reduction_cells = std::vector<std::int64_t>{8};
  EXPECT_THROW(hc::resolve_geometry(s), hwnas::InputError);
}

TEST(Geometry, ParsesInputAndReductions) {
  hc::SearchGeometry s;
  hc::parse_input_shape("3x88x72", "--input", s);
  EXPECT_EQ(s.input_channels, 3);
  EXPECT_EQ(s.input_height, 88);
  EXPECT_EQ(s.input_width, 72);
  hc::parse_input_shape("32x32", "--input", s);
  EXPECT_EQ(s.input_channels, 1);
  for (const char* bad : {"abc", "1x0x64", "1x64x64x3", "1x-4x4", "1xx64", "64x", ""})
    EXPECT_THROW(hc::parse_input_shape(bad, "--input", s), hwnas::InputError) << bad;
  EXPECT_FALSE(hc::parse_reduction_cells("", "--reductions").has_value());
  EXPECT_TRUE(hc::parse_reduction_cells("none", "--reductions")->empty());
  EXPECT_EQ(*hc::parse_reduction_cells("1,4", "--reductions"), (std::vector<std::int64_t>{1, 4}));
  EXPECT_THROW(hc::parse_reduction_cells("1;4", "--reductions"), hwnas::InputError);
}

// field-notes-nas.md 6.1: sep_k = 2 H'^2 C (k^2 + C), dil_k = H'^2 C (k^2 + C), FR = H'^2 C^2,
// preprocess 1x1 = H^2 C_in C.
TEST(Decompose, MacsMatchFieldNotesClosedForms) {
  EXPECT_EQ(sum_macs(op("sep_conv_3x3", 16, 32, 1)), 819200);
  EXPECT_EQ(sum_macs(op("sep_conv_5x5", 16, 32, 1)), 1343488);
  EXPECT_EQ(sum_macs(op("dil_conv_3x3", 16, 32, 1)), 409600);
  EXPECT_EQ(sum_macs(op("dil_conv_5x5", 16, 32, 1)), 671744);
  EXPECT_EQ(sum_macs(op("skip_connect", 16, 32, 2)), 65536);
  EXPECT_EQ(sum_macs(hc::relu_conv_bn_layers({64, 32, 32}, 16, 1, 1, {}, "pre")), 1048576);
  // The MSTAR rows.
  EXPECT_EQ(sum_macs(op("sep_conv_3x3", 16, 88, 1)), 6195200);
  EXPECT_EQ(sum_macs(op("sep_conv_5x5", 16, 88, 1)), 10160128);
  EXPECT_EQ(sum_macs(op("dil_conv_3x3", 16, 88, 1)), 3097600);
  EXPECT_EQ(sum_macs(op("dil_conv_5x5", 16, 88, 1)), 5080064);
  EXPECT_EQ(sum_macs(op("sep_conv_3x3", 32, 44, 1)), 5080064);
  EXPECT_EQ(sum_macs(op("dil_conv_5x5", 64, 22, 1)), 2756864);
  EXPECT_EQ(sum_macs(hc::relu_conv_bn_layers({256, 22, 22}, 64, 1, 1, {}, "pre")), 7929856);
  // Pools, none and identity do no MACs.
  for (const char* n : {"none", "max_pool_3x3", "avg_pool_3x3", "skip_connect"})
    EXPECT_EQ(sum_macs(op(n, 16, 32, 1)), 0) << n;
  // Stride 2: H' = H/2 in the first block (sep) and throughout (dil).
  EXPECT_EQ(sum_macs(op("dil_conv_3x3", 16, 64, 2)), 409600);
  // sep stride 2: first block dw at stride 2 -> 32x32, the rest at 32x32: same as H=32 stride 1.
  EXPECT_EQ(sum_macs(op("sep_conv_3x3", 16, 64, 2)), 819200);
}

// Parameters as PyTorch counts them (bias=False convs, affine BN = 2C).
TEST(Decompose, ParamsMatchModuleShapes) {
  const std::int64_t C = 16;
  EXPECT_EQ(sum_params(op("sep_conv_3x3", C, 32, 1)), 2 * (C * 9 + C * C + 2 * C));
  EXPECT_EQ(sum_params(op("sep_conv_5x5", C, 32, 1)), 2 * (C * 25 + C * C + 2 * C));
  EXPECT_EQ(sum_params(op("dil_conv_3x3", C, 32, 1)), C * 9 + C * C + 2 * C);
  EXPECT_EQ(sum_params(op("dil_conv_5x5", C, 32, 1)), C * 25 + C * C + 2 * C);
  EXPECT_EQ(sum_params(op("skip_connect", C, 32, 2)), 2 * C * (C / 2) + 2 * C);
  EXPECT_EQ(sum_params(op("conv_3x3", C, 32, 1)), 9 * C * C + 2 * C);
  for (const char* n : {"none", "max_pool_3x3", "avg_pool_3x3", "skip_connect"})
    EXPECT_EQ(sum_params(op(n, C, 32, 1)), 0) << n;
  // Search net: BN affine=False everywhere in the ops.
  hc::NetVariant search;
  search.affine_bn = false;
  search.include_search_only = true;
  EXPECT_EQ(sum_params(op("sep_conv_3x3", C, 32, 1, search)), 2 * (C * 9 + C * C));
  // Fusing ReLU/BN removes layers, not parameters.
  hc::NetVariant fused;
  fused.fuse_elementwise = true;
  EXPECT_EQ(sum_params(op("sep_conv_5x5", C, 32, 1, fused)), 2 * (C * 25 + C * C + 2 * C));
}

TEST(Decompose, SepConvIsTwoReluDwPwBnBlocks) {
  const auto ls = op("sep_conv_3x3", 32, 64, 2);
  ASSERT_EQ(ls.size(), 8u);
  const auto& relu1 = ls[0].layer;
  EXPECT_EQ(relu1.kind, LayerKind::kElementwise);
  EXPECT_EQ(relu1.elementwise_op, ElementwiseOp::kRelu);
  EXPECT_EQ(relu1.in_h, 64);
  const auto& dw1 = ls[1].layer;
  EXPECT_EQ(dw1.kind, LayerKind::kConv2d);
  EXPECT_EQ(dw1.groups, 32);
  EXPECT_EQ(dw1.in_channels, 32);
  EXPECT_EQ(dw1.out_channels, 32);
  EXPECT_EQ(dw1.kernel_h, 3);
  EXPECT_EQ(dw1.stride_h, 2);
  EXPECT_EQ(dw1.pad_h, 1);
  EXPECT_EQ(dw1.in_h, 64);
  const auto& pw1 = ls[2].layer;
  EXPECT_EQ(pw1.groups, 1);
  EXPECT_EQ(pw1.kernel_h, 1);
  EXPECT_EQ(pw1.in_h, 32);
  EXPECT_EQ(ls[3].layer.elementwise_op, ElementwiseOp::kBatchNorm);
  EXPECT_EQ(ls[3].layer.in_h, 32);
  EXPECT_EQ(ls[4].layer.elementwise_op, ElementwiseOp::kRelu);
  EXPECT_EQ(ls[5].layer.stride_h, 1);  // the second block never strides
  EXPECT_EQ(ls[5].layer.groups, 32);
  EXPECT_EQ(ls[5].layer.in_h, 32);
  EXPECT_EQ(ls[6].layer.kernel_h, 1);
  EXPECT_EQ(ls[7].layer.elementwise_op, ElementwiseOp::kBatchNorm);
}

TEST(Decompose, DilConvPoolsSkipNone) {
  const auto dil = op("dil_conv_5x5", 16, 32, 1);
  ASSERT_EQ(dil.size(), 4u);
  EXPECT_EQ(dil[1].layer.dilation_h, 2);
  EXPECT_EQ(dil[1].layer.pad_h, 4);  // receptive field 9x9, same padding
  EXPECT_EQ(dil[1].layer.groups, 16);
  const auto dil3 = op("dil_conv_3x3", 16, 32, 2);
  EXPECT_EQ(dil3[1].layer.pad_h, 2);
  EXPECT_EQ(dil3[1].layer.stride_h, 2);

  const auto mp = op("max_pool_3x3", 16, 32, 2);
  ASSERT_EQ(mp.size(), 1u);  // derived network: no BN after the pool
  EXPECT_EQ(mp[0].layer.elementwise_op, ElementwiseOp::kMaxPool);
  EXPECT_EQ(mp[0].layer.kernel_h, 3);
  EXPECT_EQ(mp[0].layer.stride_h, 2);
  EXPECT_EQ(mp[0].layer.pad_h, 1);
  hc::NetVariant search;
  search.include_search_only = true;
  search.affine_bn = false;
  const auto ap = op("avg_pool_3x3", 16, 32, 1, search);
  ASSERT_EQ(ap.size(), 2u);  // the search net's BatchNorm2d(C, affine=False) after the pool
  EXPECT_EQ(ap[0].layer.elementwise_op, ElementwiseOp::kAvgPool);
  EXPECT_EQ(ap[1].layer.elementwise_op, ElementwiseOp::kBatchNorm);
  EXPECT_EQ(ap[1].params, 0);

  EXPECT_TRUE(op("none", 16, 32, 1).empty());
  EXPECT_TRUE(op("none", 16, 32, 2).empty());
  EXPECT_TRUE(op("skip_connect", 16, 32, 1).empty());  // identity

  const auto fr = op("skip_connect", 16, 32, 2);  // FactorizedReduce
  ASSERT_EQ(fr.size(), 4u);
  EXPECT_EQ(fr[0].layer.elementwise_op, ElementwiseOp::kRelu);
  EXPECT_EQ(fr[0].layer.in_h, 32);
  for (int i : {1, 2}) {
    EXPECT_EQ(fr[i].layer.kind, LayerKind::kConv2d);
    EXPECT_EQ(fr[i].layer.kernel_h, 1);
    EXPECT_EQ(fr[i].layer.stride_h, 2);
    EXPECT_EQ(fr[i].layer.out_channels, 8);
  }
  EXPECT_EQ(fr[1].layer.in_h, 32);
  EXPECT_EQ(fr[2].layer.in_h, 31);  // x[:, :, 1:, 1:]
  EXPECT_EQ(fr[3].layer.elementwise_op, ElementwiseOp::kBatchNorm);
  EXPECT_EQ(fr[3].layer.in_h, 16);
  EXPECT_EQ(fr[3].layer.in_channels, 16);

  hc::NetVariant fused;
  fused.fuse_elementwise = true;
  const auto sep = op("sep_conv_3x3", 16, 32, 1, fused);
  ASSERT_EQ(sep.size(), 4u);
  for (const auto& l : sep) EXPECT_EQ(l.layer.kind, LayerKind::kConv2d);
  EXPECT_EQ(op("max_pool_3x3", 16, 32, 1, fused).size(), 1u);  // pools still run
}

TEST(Decompose, FactorizedReduceNeedsEvenChannelsAndSize) {
  try {
    hc::factorized_reduce_layers({16, 32, 32}, 15, {}, "cell3.preprocess0");
    FAIL();
  } catch (const hwnas::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cell3.preprocess0"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("15"), std::string::npos);
  }
  EXPECT_THROW(op("skip_connect", 15, 32, 2), hwnas::InputError);
  EXPECT_THROW(op("skip_connect", 16, 31, 2), hwnas::InputError);
}

TEST(Decompose, CustomOpFromJsonIsInterpreted) {
  auto cat = hwnas::OpCatalog::builtin();
  cat.merge_json(nlohmann::json::parse(R"({"ops": [{"name": "conv_5x5_plain", "primitives": [
      {"type": "conv", "kernel": 5, "takes_edge_stride": true}]}]})"),
                 "extra.json");
  const auto ls = hc::op_layers(cat.get("conv_5x5_plain"), {16, 32, 32}, 2, {}, "x");
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0].macs, 16 * 16 * 16 * 16 * 25);
  EXPECT_EQ(ls[0].params, 16 * 16 * 25);
  EXPECT_EQ(ls[0].layer.pad_h, 2);
}

// field-notes 6.2: the DARTS search net (C=16, L=8, 10 classes, 3-channel stem) holds 1,930,618
// parameters: every op of every edge, BN affine=False in the cells, affine in the stem.
TEST(Decompose, SearchNetParameterCountMatchesGolden) {
  hc::SearchGeometry s;
  s.input_channels = 3;
  s.input_height = s.input_width = 32;
  const auto g = hc::resolve_geometry(s);
  hc::NetVariant v;
  v.affine_bn = false;
  v.include_search_only = true;
  const auto cat = hwnas::OpCatalog::builtin();
  std::int64_t params = sum_params(hc::stem_layers(g, v)) + sum_params(hc::classifier_layers(g, v));
  for (const auto& cell : g.cells) {
    params += sum_params(hc::preprocess_layers(cell, v));
    for (const auto& e : cell.edges) {
      const hc::Shape in = e.from < 2 ? hc::Shape{cell.channels, cell.in_height, cell.in_width}
                                      : hc::Shape{cell.channels, cell.out_height, cell.out_width};
      for (const auto& o : cat.select("darts")) params += sum_params(hc::op_layers(o, in, e.stride, v, "x"));
    }
  }
  EXPECT_EQ(params, 1930618);
}
