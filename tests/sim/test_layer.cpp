#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "hwnas/common/error.hpp"
#include "hwnas/sim/layer.hpp"

using hwnas::InputError;
using namespace hwnas::sim;

namespace {

Layer conv(std::int64_t h, std::int64_t w, std::int64_t c, std::int64_t k, std::int64_t r,
           std::int64_t s, std::int64_t stride, std::int64_t pad, std::int64_t dilation,
           std::int64_t groups) {
  Layer l;
  l.kind = LayerKind::kConv2d;
  l.in_h = h, l.in_w = w, l.in_channels = c, l.out_channels = k;
  l.kernel_h = r, l.kernel_w = s;
  l.stride_h = l.stride_w = stride;
  l.pad_h = l.pad_w = pad;
  l.dilation_h = l.dilation_w = dilation;
  l.groups = groups;
  return l;
}

// Brute force: every output channel, output pixel, input channel of its group and tap; a MAC is
// useful when the tap's input coordinate lies inside the real (unpadded) ifmap.
std::int64_t brute_force_macs(const Layer& l) {
  std::int64_t macs = 0;
  const std::int64_t cpg = l.in_channels / l.groups;
  for (std::int64_t co = 0; co < l.out_channels; ++co)
    for (std::int64_t oy = 0; oy < l.out_h(); ++oy)
      for (std::int64_t ox = 0; ox < l.out_w(); ++ox)
        for (std::int64_t ci = 0; ci < cpg; ++ci)
          for (std::int64_t r = 0; r < l.kernel_h; ++r)
            for (std::int64_t s = 0; s < l.kernel_w; ++s) {
              const std::int64_t iy = oy * l.stride_h - l.pad_h + r * l.dilation_h;
              const std::int64_t ix = ox * l.stride_w - l.pad_w + s * l.dilation_w;
              if (iy >= 0 && iy < l.in_h && ix >= 0 && ix < l.in_w) ++macs;
            }
  return macs;
}

// Output size by enumeration: window start positions whose whole span fits the padded input.
std::int64_t enumerate_out(std::int64_t in, std::int64_t k, std::int64_t stride, std::int64_t pad,
                           std::int64_t dilation) {
  const std::int64_t padded = in + 2 * pad, span = dilation * (k - 1) + 1;
  std::int64_t n = 0;
  for (std::int64_t start = 0; start + span <= padded; start += stride) ++n;
  return n;
}

template <typename F>
std::string input_error_message(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected hwnas::InputError";
  return "";
}

}  // namespace

TEST(LayerShape, OutputSizeFloorAndScaleSimCeil) {
  Layer l = conv(224, 224, 3, 64, 7, 7, 2, 0, 1, 1);
  EXPECT_EQ(l.out_h(), 109);  // floor((224-7)/2)+1
  l.rounding = OutputRounding::kCeil;
  EXPECT_EQ(l.out_h(), 110);  // SCALE-Sim: ceil((224-7+2)/2)
  Layer p = conv(34, 34, 64, 128, 3, 3, 2, 0, 1, 1);
  EXPECT_EQ(p.out_w(), 16);
  p.rounding = OutputRounding::kCeil;
  EXPECT_EQ(p.out_w(), 17);
  // Divisible case: both agree.
  Layer q = conv(56, 56, 64, 64, 3, 3, 1, 1, 1, 1);
  EXPECT_EQ(q.out_h(), 56);
  q.rounding = OutputRounding::kCeil;
  EXPECT_EQ(q.out_h(), 56);
}

TEST(LayerShape, OutputSizeWithPaddingAndDilationMatchesEnumeration) {
  for (std::int64_t in : {5, 7, 12}) {
    for (std::int64_t k : {1, 2, 3}) {
      for (std::int64_t stride : {1, 2, 3}) {
        for (std::int64_t pad : {0, 1, 2}) {
          for (std::int64_t dil : {1, 2}) {
            const std::int64_t span = dil * (k - 1) + 1;
            if (span > in + 2 * pad || pad >= span) continue;
            Layer l = conv(in, in, 1, 1, k, k, stride, pad, dil, 1);
            EXPECT_EQ(l.out_h(), enumerate_out(in, k, stride, pad, dil))
                << in << " " << k << " " << stride << " " << pad << " " << dil;
            l.rounding = OutputRounding::kCeil;
            // ceil keeps one more window exactly when the last stride does not land flush.
            const std::int64_t flush = (in + 2 * pad - span) % stride == 0 ? 0 : 1;
            EXPECT_EQ(l.out_h(), enumerate_out(in, k, stride, pad, dil) + flush);
          }
        }
      }
    }
  }
  // Dilation 2 on a 3x3 window spans 5: 32 + 2*2 - 5 + 1 = 32 outputs.
  EXPECT_EQ(conv(32, 32, 8, 8, 3, 3, 1, 2, 2, 1).out_h(), 32);
}

TEST(LayerShape, GemmShapePerGroup) {
  const GemmShape g = gemm_shape(conv(56, 56, 64, 128, 3, 3, 2, 1, 1, 4));
  EXPECT_EQ(g.m, 28 * 28);
  EXPECT_EQ(g.n, 32);
  EXPECT_EQ(g.k, 3 * 3 * 16);
  EXPECT_EQ(g.groups, 4);
  Layer gemm;
  gemm.kind = LayerKind::kGemm;
  gemm.gemm_m = 64, gemm.gemm_n = 128, gemm.gemm_k = 256;
  const GemmShape h = gemm_shape(gemm);
  EXPECT_EQ(h.m, 64);
  EXPECT_EQ(h.n, 128);
  EXPECT_EQ(h.k, 256);
  EXPECT_EQ(h.groups, 1);
  EXPECT_EQ(layer_macs(gemm), 64 * 128 * 256);
  EXPECT_EQ(layer_mapped_macs(gemm), 64 * 128 * 256);
  EXPECT_EQ(layer_param_count(gemm), 128 * 256);
}

TEST(LayerShape, UsefulMacsMatchBruteForce) {
  struct Case {
    std::int64_t h, w, c, k, r, s, stride, pad, dil, groups;
  };
  const Case cases[] = {
      {8, 8, 4, 6, 3, 3, 1, 1, 1, 1},    // same padding
      {9, 7, 4, 4, 3, 3, 2, 1, 1, 1},    // strided, odd sizes
      {8, 8, 2, 3, 3, 3, 1, 2, 2, 1},    // dilated + padded
      {10, 10, 6, 6, 3, 3, 1, 1, 1, 6},  // depthwise
      {10, 9, 8, 4, 5, 3, 2, 2, 1, 2},   // grouped, rectangular window
      {7, 7, 3, 5, 3, 3, 3, 2, 2, 1},    // stride 3, pad 2, dilation 2
      {6, 6, 2, 2, 1, 1, 1, 0, 1, 1},    // pointwise
  };
  for (const Case& c : cases) {
    Layer l = conv(c.h, c.w, c.c, c.k, c.r, c.s, c.stride, c.pad, c.dil, c.groups);
    validate_layer(l);
    EXPECT_EQ(layer_macs(l), brute_force_macs(l)) << layer_spec_string(l);
    EXPECT_EQ(layer_mapped_macs(l), l.out_h() * l.out_w() * c.k * c.r * c.s * (c.c / c.groups))
        << layer_spec_string(l);
    l.rounding = OutputRounding::kCeil;
    EXPECT_EQ(layer_macs(l), brute_force_macs(l)) << "ceil " << layer_spec_string(l);
  }
  // No padding, floor rounding: every tap is useful.
  const Layer dense = conv(12, 12, 4, 8, 3, 3, 1, 0, 1, 1);
  EXPECT_EQ(layer_macs(dense), layer_mapped_macs(dense));
  // SCALE-Sim's extra ceil window runs past the edge: mapped > useful.
  Layer ceil_layer = conv(34, 34, 2, 2, 3, 3, 2, 0, 1, 1);
  ceil_layer.rounding = OutputRounding::kCeil;
  EXPECT_GT(layer_mapped_macs(ceil_layer), layer_macs(ceil_layer));
}

TEST(LayerShape, ParamsAndVectorOps) {
  EXPECT_EQ(layer_param_count(conv(8, 8, 16, 32, 3, 3, 1, 1, 1, 4)), 32 * 4 * 9);
  Layer pool;
  pool.kind = LayerKind::kElementwise;
  pool.elementwise_op = ElementwiseOp::kMaxPool;
  pool.in_h = pool.in_w = 4, pool.in_channels = 3;
  pool.kernel_h = pool.kernel_w = 2, pool.stride_h = pool.stride_w = 2;
  EXPECT_EQ(pool.out_h(), 2);
  EXPECT_EQ(layer_vector_ops(pool), 2 * 2 * 3 * 4);
  EXPECT_EQ(layer_param_count(pool), 0);
  Layer bn = pool;
  bn.elementwise_op = ElementwiseOp::kBatchNorm;
  EXPECT_EQ(bn.out_h(), 4);
  EXPECT_EQ(layer_vector_ops(bn), 2 * 4 * 4 * 3);
  EXPECT_EQ(layer_param_count(bn), 6);
  Layer gap = pool;
  gap.elementwise_op = ElementwiseOp::kGlobalAvgPool;
  EXPECT_EQ(gap.out_h(), 1);
  EXPECT_EQ(layer_vector_ops(gap), 4 * 4 * 3);
  Layer add = pool;
  add.elementwise_op = ElementwiseOp::kAdd;
  EXPECT_EQ(layer_vector_ops(add), 4 * 4 * 3);
  EXPECT_EQ(layer_macs(add), 0);
  EXPECT_EQ(layer_vector_ops(conv(4, 4, 1, 1, 1, 1, 1, 0, 1, 1)), 0);
}

TEST(LayerShape, ValidateNamesTheField) {
  auto message = [](const Layer& l) -> std::string {
    try {
      validate_layer(l);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message(conv(0, 8, 4, 4, 3, 3, 1, 1, 1, 1)).find("in_h"), std::string::npos);
  EXPECT_NE(message(conv(8, 8, 6, 4, 3, 3, 1, 1, 1, 4)).find("in_channels"), std::string::npos);
  EXPECT_NE(message(conv(8, 8, 4, 6, 3, 3, 1, 1, 1, 4)).find("out_channels"), std::string::npos);
  EXPECT_NE(message(conv(4, 4, 1, 1, 7, 3, 1, 1, 1, 1)).find("kernel_h"), std::string::npos);
  EXPECT_NE(message(conv(4, 4, 1, 1, 3, 3, 0, 1, 1, 1)).find("stride_h"), std::string::npos);
  EXPECT_NE(message(conv(8, 8, 1, 1, 3, 3, 1, 3, 1, 1)).find("pad_h"), std::string::npos);
  EXPECT_NE(message(conv(8, 8, 1, 1, 3, 3, 1, 0, 0, 1)).find("dilation_h"), std::string::npos);
  EXPECT_EQ(message(conv(8, 8, 4, 4, 3, 3, 1, 1, 1, 2)), "");
  Layer g;
  g.kind = LayerKind::kGemm;
  g.gemm_m = 4, g.gemm_n = 0, g.gemm_k = 4;
  EXPECT_NE(message(g).find("gemm_n"), std::string::npos);
}

TEST(LayerSpec, ParsesEveryKind) {
  const Layer c = parse_layer_spec(
      "conv2d h=32 w=30 c=16 k=24 r=3 s=5 stride=2 pad=1 dilation=2 groups=4 name=c1", "t");
  EXPECT_EQ(c.kind, LayerKind::kConv2d);
  EXPECT_EQ(c.name, "c1");
  EXPECT_EQ(c.in_h, 32);
  EXPECT_EQ(c.in_w, 30);
  EXPECT_EQ(c.in_channels, 16);
  EXPECT_EQ(c.out_channels, 24);
  EXPECT_EQ(c.kernel_h, 3);
  EXPECT_EQ(c.kernel_w, 5);
  EXPECT_EQ(c.stride_h, 2);
  EXPECT_EQ(c.stride_w, 2);
  EXPECT_EQ(c.pad_w, 1);
  EXPECT_EQ(c.dilation_h, 2);
  EXPECT_EQ(c.groups, 4);

  const Layer d = parse_layer_spec("conv2d h=8 w=8 c=4 k=8 r=3", "t");
  EXPECT_EQ(d.kernel_w, 3);  // s defaults to r
  EXPECT_EQ(d.stride_h, 1);
  EXPECT_EQ(d.pad_h, 0);
  EXPECT_EQ(d.dilation_w, 1);
  EXPECT_EQ(d.groups, 1);
  EXPECT_EQ(d.rounding, OutputRounding::kFloor);

  const Layer dw = parse_layer_spec("dwconv h=16 w=16 c=32 r=3 pad=1", "t");
  EXPECT_EQ(dw.groups, 32);
  EXPECT_EQ(dw.out_channels, 32);
  EXPECT_EQ(gemm_shape(dw).k, 9);
  EXPECT_EQ(gemm_shape(dw).n, 1);

  const Layer g = parse_layer_spec("gemm m=64 n=128 k=256", "t");
  EXPECT_EQ(g.kind, LayerKind::kGemm);
  EXPECT_EQ(g.gemm_k, 256);

  const Layer mp = parse_layer_spec("maxpool h=32 w=32 c=16 r=3 stride=2 pad=1", "t");
  EXPECT_EQ(mp.elementwise_op, ElementwiseOp::kMaxPool);
  EXPECT_EQ(mp.out_h(), 16);
  const Layer ap = parse_layer_spec("avgpool h=8 w=8 c=4 r=2", "t");
  EXPECT_EQ(ap.stride_h, 2);  // pools default to stride = window
  EXPECT_EQ(ap.out_h(), 4);

  EXPECT_EQ(parse_layer_spec("relu h=4 w=4 c=2", "t").elementwise_op, ElementwiseOp::kRelu);
  EXPECT_EQ(parse_layer_spec("bn h=4 w=4 c=2", "t").elementwise_op, ElementwiseOp::kBatchNorm);
  EXPECT_EQ(parse_layer_spec("add h=4 w=4 c=2", "t").elementwise_op, ElementwiseOp::kAdd);
  EXPECT_EQ(parse_layer_spec("gap h=4 w=4 c=2", "t").elementwise_op, ElementwiseOp::kGlobalAvgPool);

  const Layer rect = parse_layer_spec(
      "conv2d h=9 w=9 c=1 k=1 r=3 stride_h=2 stride_w=1 "
      "pad_h=0 pad_w=1 rounding=ceil",
      "t");
  EXPECT_EQ(rect.stride_h, 2);
  EXPECT_EQ(rect.stride_w, 1);
  EXPECT_EQ(rect.pad_w, 1);
  EXPECT_EQ(rect.rounding, OutputRounding::kCeil);
}

TEST(LayerSpec, StringRoundTrips) {
  const char* specs[] = {
      "conv2d h=32 w=30 c=16 k=24 r=3 s=5 stride=2 pad=1 dilation=2 groups=4 name=c1",
      "conv2d h=9 w=9 c=2 k=1 r=3 stride_h=2 stride_w=1 pad_h=0 pad_w=1 rounding=ceil",
      "dwconv h=16 w=16 c=32 r=3 pad=1",
      "gemm m=64 n=128 k=256 name=fc",
      "maxpool h=32 w=32 c=16 r=3 stride=2 pad=1",
      "avgpool h=8 w=8 c=4 r=2",
      "relu h=4 w=4 c=2",
      "bn h=4 w=4 c=2",
      "add h=4 w=4 c=2",
      "gap h=7 w=7 c=512 name=pool",
  };
  for (const char* spec : specs) {
    const Layer a = parse_layer_spec(spec, "t");
    const std::string text = layer_spec_string(a);
    const Layer b = parse_layer_spec(text, "t2");
    EXPECT_EQ(layer_spec_string(b), text) << spec;
    EXPECT_EQ(b.name, a.name);
    EXPECT_EQ(b.kind, a.kind);
    EXPECT_EQ(b.elementwise_op, a.elementwise_op);
    EXPECT_EQ(b.in_h, a.in_h);
    EXPECT_EQ(b.in_w, a.in_w);
    EXPECT_EQ(b.in_channels, a.in_channels);
    EXPECT_EQ(b.out_channels, a.out_channels);
    EXPECT_EQ(b.kernel_h, a.kernel_h);
    EXPECT_EQ(b.kernel_w, a.kernel_w);
    EXPECT_EQ(b.stride_h, a.stride_h);
    EXPECT_EQ(b.stride_w, a.stride_w);
    EXPECT_EQ(b.pad_h, a.pad_h);
    EXPECT_EQ(b.pad_w, a.pad_w);
    EXPECT_EQ(b.dilation_h, a.dilation_h);
    EXPECT_EQ(b.dilation_w, a.dilation_w);
    EXPECT_EQ(b.groups, a.groups);
    EXPECT_EQ(b.rounding, a.rounding);
    EXPECT_EQ(b.gemm_m, a.gemm_m);
    EXPECT_EQ(b.gemm_n, a.gemm_n);
    EXPECT_EQ(b.gemm_k, a.gemm_k);
  }
}

TEST(LayerSpec, ErrorsNameWhereKeyAndValue) {
  auto msg = [](const std::string& spec) {
    return input_error_message([&] { parse_layer_spec(spec, "net.csv:7"); });
  };
  auto has_all = [](const std::string& m, std::initializer_list<const char*> parts) {
    for (const char* p : parts)
      if (m.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << m << " lacks " << p;
    return ::testing::AssertionSuccess();
  };
  EXPECT_TRUE(has_all(msg("conv2d h=8 w=8 c=4 k=4 r=3 bogus=5"), {"net.csv:7", "bogus", "5"}));
  EXPECT_TRUE(has_all(msg("conv2d h=8 w=8 c=4 r=3"), {"net.csv:7", "'k'", "missing"}));
  EXPECT_TRUE(has_all(msg("conv2d h=8 w=eight c=4 k=4 r=3"), {"net.csv:7", "'w'", "eight"}));
  EXPECT_TRUE(has_all(msg("conv2d h=8 w=8.5 c=4 k=4 r=3"), {"net.csv:7", "'w'", "8.5"}));
  EXPECT_TRUE(has_all(msg("conv2d h=8 w=8 c=4 k=4 r=3 stride=0"), {"net.csv:7", "stride", "0"}));
  EXPECT_TRUE(has_all(msg("conv2d h=-3 w=8 c=4 k=4 r=3"), {"net.csv:7", "'h'", "-3"}));
  EXPECT_TRUE(has_all(msg("conv2d h=8 w=8 c=4 k=4 r=3 pad=-1"), {"net.csv:7", "pad", "-1"}));
  EXPECT_TRUE(has_all(msg("conv2d h=99999999999999999999 w=8 c=4 k=4 r=3"),
                      {"net.csv:7", "'h'", "99999999999999999999"}));
  EXPECT_TRUE(has_all(msg("conv3d h=8 w=8 c=4"), {"net.csv:7", "conv3d"}));
  EXPECT_TRUE(has_all(msg(""), {"net.csv:7", "empty"}));
  EXPECT_TRUE(has_all(msg("relu h=4 w=4"), {"net.csv:7", "'c'"}));
  EXPECT_TRUE(has_all(msg("relu h=4 w=4 c=2 r=3"), {"net.csv:7", "'r'", "3"}));
  EXPECT_TRUE(has_all(msg("gemm m=4 n=4 k=4 k=5"), {"net.csv:7", "'k'", "twice"}));
  EXPECT_TRUE(has_all(msg("gemm m=4 n=4 k"), {"net.csv:7", "'k'"}));
  EXPECT_TRUE(has_all(msg("dwconv h=8 w=8 c=4 r=3 k=8"), {"net.csv:7", "'k'", "8"}));
  EXPECT_TRUE(has_all(msg("conv2d h=8 w=8 c=4 k=4 r=3 stride=1 stride_h=2"),
                      {"net.csv:7", "stride", "stride_h"}));
  EXPECT_TRUE(
      has_all(msg("conv2d h=8 w=8 c=4 k=4 r=3 rounding=up"), {"net.csv:7", "rounding", "up"}));
  // Shape errors found by validate_layer still name the source and the field.
  EXPECT_TRUE(
      has_all(msg("conv2d h=8 w=8 c=6 k=4 r=3 groups=4"), {"net.csv:7", "in_channels", "6"}));
  EXPECT_TRUE(has_all(msg("conv2d h=2 w=8 c=4 k=4 r=5"), {"net.csv:7", "kernel_h", "5"}));
}

TEST(LayerShape, EdgeCasesAgainstBruteForce) {
  // Stride larger than the window skips input pixels; SCALE-Sim's ceil window may start past
  // the input's end (h=5, r=1, stride 3: windows at 0, 3, 6), contributing no useful MACs.
  Layer skip = conv(5, 5, 2, 3, 1, 1, 3, 0, 1, 1);
  EXPECT_EQ(skip.out_h(), 2);
  EXPECT_EQ(layer_macs(skip), brute_force_macs(skip));
  skip.rounding = OutputRounding::kCeil;
  EXPECT_EQ(skip.out_h(), 3);
  EXPECT_EQ(layer_macs(skip), 2 * 2 * 2 * 3);  // only windows 0 and 3 per axis
  EXPECT_EQ(layer_macs(skip), brute_force_macs(skip));
  EXPECT_EQ(layer_mapped_macs(skip), 3 * 3 * 2 * 3);
  // Window as large as the padded input: one output pixel.
  const Layer whole = conv(3, 3, 2, 2, 5, 5, 1, 1, 1, 1);
  EXPECT_EQ(whole.out_h(), 1);
  EXPECT_EQ(layer_macs(whole), 3 * 3 * 2 * 2);
  EXPECT_EQ(layer_macs(whole), brute_force_macs(whole));
  // 1x1 input, 1x1 kernel.
  const Layer unit = conv(1, 1, 1, 1, 1, 1, 1, 0, 1, 1);
  EXPECT_EQ(layer_macs(unit), 1);
  EXPECT_EQ(gemm_shape(unit).m, 1);
}

TEST(LayerShape, RejectsLayersTooLargeToCount) {
  Layer g;
  g.kind = LayerKind::kGemm;
  g.gemm_m = g.gemm_n = g.gemm_k = 1 << 20;  // 2^60 MAC slots
  EXPECT_THROW(validate_layer(g), std::invalid_argument);
  g.gemm_k = 1;
  EXPECT_NO_THROW(validate_layer(g));  // 2^40
  EXPECT_THROW(validate_layer(conv(1 << 20, 1 << 20, 1 << 10, 1, 1, 1, 1, 0, 1, 1)),
               std::invalid_argument);
}

TEST(LayerSpec, MoreMalformedValues) {
  auto msg = [](const std::string& spec) {
    return input_error_message([&] { parse_layer_spec(spec, "cli --layer"); });
  };
  for (const char* bad : {"+5", "0x10", "1e3", "3.0", "", "--1", "4x"}) {
    const std::string spec = std::string("relu h=4 w=") + bad + " c=2";
    const std::string m = msg(spec);
    EXPECT_NE(m.find("cli --layer"), std::string::npos) << spec;
  }
  EXPECT_NE(msg("relu h=4 w=4 c=2 name=").find("'name'"), std::string::npos);
  EXPECT_NE(msg("relu h=4 w=4 c=2 =3").find("=3"), std::string::npos);
  // Extra whitespace and tabs are fine.
  const Layer l = parse_layer_spec("  conv2d\th=8   w=8 c=4 k=4 r=3  ", "t");
  EXPECT_EQ(l.in_w, 8);
}
