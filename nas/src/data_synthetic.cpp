// Synthetic SAR-like target chips: a class-specific target shape, rotated by a random azimuth,
// on textured clutter with a radar shadow, imaged through multiplicative speckle
// (intensity x Gamma(L, 1/L)), stored as magnitude (sqrt of intensity) like MSTAR chips.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "hwnas/common/error.hpp"
#include "hwnas/nas/dataset.hpp"

namespace hwnas::nas {
namespace {

constexpr double kPi = 3.141592653589793;
constexpr int kFamilies = 4;  // rectangle, L-shape, cross, point-scatterer ring

// Per-variant shape parameters (variant = class / kFamilies, 0..3).
constexpr double kRectAspect[4] = {1.5, 2.3, 3.2, 4.2};
constexpr double kLArmRatio[4] = {1.0, 0.55, 0.78, 0.35};
constexpr int kRingPoints[4] = {3, 4, 5, 6};

struct Shape {
  int family = 0;
  int variant = 0;
};

bool in_box(double u, double v, double u0, double u1, double v0, double v1) {
  return u >= u0 && u <= u1 && v >= v0 && v <= v1;
}

// Body membership in target units (about one tenth of the image side).
bool inside(const Shape& s, double u, double v) {
  switch (s.family) {
    case 0: {  // solid rectangle of fixed area 4, class-specific aspect
      const double a = std::sqrt(kRectAspect[s.variant]);
      return std::abs(u) <= a && std::abs(v) <= 1.0 / a;
    }
    case 1: {  // L: long arm along u, second arm along v of class-specific relative length
      const double len = 3.2;
      const double w = 0.75;
      return in_box(u, v, -1.6, 1.6, -1.6, -1.6 + w) ||
             in_box(u, v, -1.6, -1.6 + w, -1.6, -1.6 + len * kLArmRatio[s.variant]);
    }
    case 2: {  // crosses: +, T, short +, off-centre +
      const double w = 0.38;
      const bool bar = std::abs(v) <= w && std::abs(u) <= 1.9;
      switch (s.variant) {
        case 0: return bar || (std::abs(u) <= w && std::abs(v) <= 1.9);
        case 1: return bar || (std::abs(u) <= w && v >= 0.0 && v <= 1.9);
        case 2: return bar || (std::abs(u) <= w && std::abs(v) <= 0.95);
        default: return bar || (std::abs(u - 1.0) <= w && std::abs(v) <= 1.9);
      }
    }
    default:  // point-scatterer ring: weak disc body; the points are added separately
      return u * u + v * v <= 1.9 * 1.9;
  }
}

struct Blob {
  double x, y, amp;
};

void render(const Shape& shape, int size, double looks, DataRng& rng, float* out) {
  const double unit = size * 0.09 * (0.9 + 0.2 * rng.uniform());
  const double cx = size * 0.5 + (rng.uniform() - 0.5) * size / 8.0;
  const double cy = size * 0.5 + (rng.uniform() - 0.5) * size / 8.0;
  const double az = 2.0 * kPi * rng.uniform();
  const double ca = std::cos(az), sa = std::sin(az);
  const double clutter = 0.7 + 0.6 * rng.uniform();
  const double body = clutter * (shape.family == 3 ? 1.6 + 0.8 * rng.uniform() : 4.0 + 4.0 * rng.uniform());
  const double shadow_len = (0.6 + 0.8 * rng.uniform()) * unit;  // pixels, away from the radar (+y)
  // Low-frequency clutter texture: two random plane waves, +-20 %.
  double wave[2][3];
  for (auto& w : wave) {
    const double dir = 2.0 * kPi * rng.uniform();
    const double k = 2.0 * kPi * (0.5 + 1.5 * rng.uniform()) / size;
    w[0] = k * std::cos(dir);
    w[1] = k * std::sin(dir);
    w[2] = 2.0 * kPi * rng.uniform();
  }
  auto to_local = [&](double x, double y, double& u, double& v) {
    const double dx = (x - cx) / unit, dy = (y - cy) / unit;
    u = dx * ca + dy * sa;
    v = -dx * sa + dy * ca;
  };
  auto covered = [&](double x, double y) {
    double u, v;
    to_local(x, y, u, v);
    return inside(shape, u, v);
  };
  std::vector<Blob> blobs;
  auto to_image = [&](double u, double v, double amp) {
    blobs.push_back({cx + unit * (u * ca - v * sa), cy + unit * (u * sa + v * ca), amp});
  };
  if (shape.family == 3) {
    const int n = kRingPoints[shape.variant];
    for (int j = 0; j < n; ++j) {
      const double t = 2.0 * kPi * j / n;
      to_image(1.5 * std::cos(t), 1.5 * std::sin(t), clutter * (18.0 + 12.0 * rng.uniform()));
    }
  }
  // Class-independent glints on the body (corner reflectors, hatches) blur the family cues.
  const int glints = 1 + static_cast<int>(rng.below(3));
  for (int g = 0, tries = 0; g < glints && tries < 200; ++tries) {
    const double u = (rng.uniform() - 0.5) * 4.4, v = (rng.uniform() - 0.5) * 4.4;
    if (!inside(shape, u, v)) continue;
    to_image(u, v, clutter * (10.0 + 15.0 * rng.uniform()));
    ++g;
  }
  // Every shape lies within 2.5 units of its centre; beyond that plus the shadow, only clutter.
  const double reach = 2.5 * unit + shadow_len + 1.5;
  // The texture waves are separable: sin(a + b) = sin a cos b + cos a sin b.
  std::vector<double> wave_x(4 * static_cast<std::size_t>(size)), wave_y(4 * static_cast<std::size_t>(size));
  for (int i = 0; i < size; ++i) {
    for (int k = 0; k < 2; ++k) {
      wave_x[4 * i + 2 * k] = std::sin(wave[k][0] * i + wave[k][2]);
      wave_x[4 * i + 2 * k + 1] = std::cos(wave[k][0] * i + wave[k][2]);
      wave_y[4 * i + 2 * k] = std::sin(wave[k][1] * i);
      wave_y[4 * i + 2 * k + 1] = std::cos(wave[k][1] * i);
    }
  }
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      // 2x2 supersampling of the body and its shadow.
      double frac_body = 0.0, frac_shadow = 0.0;
      const double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      const bool near = dx * dx + dy * dy <= reach * reach;
      for (int sy = 0; sy < 2 && near; ++sy) {
        for (int sx = 0; sx < 2; ++sx) {
          const double px = x + 0.25 + 0.5 * sx, py = y + 0.25 + 0.5 * sy;
          if (covered(px, py)) {
            frac_body += 0.25;
          } else if (covered(px, py - shadow_len / 2) || covered(px, py - shadow_len)) {
            frac_shadow += 0.25;
          }
        }
      }
      double texture = 1.0;
      for (int k = 0; k < 2; ++k) {
        texture += 0.1 * (wave_x[4 * x + 2 * k] * wave_y[4 * y + 2 * k + 1] +
                          wave_x[4 * x + 2 * k + 1] * wave_y[4 * y + 2 * k]);
      }
      const double ground = clutter * texture;
      double sigma = ground * (1.0 - frac_body - frac_shadow) + body * frac_body + 0.15 * ground * frac_shadow;
      for (const Blob& b : blobs) {
        const double d2 = (x + 0.5 - b.x) * (x + 0.5 - b.x) + (y + 0.5 - b.y) * (y + 0.5 - b.y);
        if (d2 < 16.0) sigma += b.amp * std::exp(-d2 / (2.0 * 0.8 * 0.8));
      }
      // Unit-mean intensity; single look is the exponential distribution (Gamma(1)).
      const double speckle = looks == 1.0 ? -std::log(1.0 - rng.uniform()) : rng.gamma(looks) / looks;
      out[static_cast<std::size_t>(y) * size + x] = static_cast<float>(std::sqrt(sigma * speckle));
    }
  }
}

Dataset make_split(const SyntheticOptions& o, int per_class, std::uint64_t split_salt) {
  Dataset d;
  for (int k = 0; k < o.classes; ++k) d.class_names.push_back(synthetic_class_name(k));
  const std::size_t n = static_cast<std::size_t>(per_class) * o.classes;
  d.samples.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    // Every sample has its own stream: independent of generation order and of the other split.
    DataRng rng(DataRng(o.seed ^ split_salt).next_u64() + 0x9E3779B97F4A7C15ull * (i + 1));
    const int label = static_cast<int>(i % static_cast<std::size_t>(o.classes));
    Image& img = d.samples[i];
    img.channels = 1;
    img.height = o.size;
    img.width = o.size;
    img.label = label;
    img.pixels.resize(static_cast<std::size_t>(o.size) * o.size);
    render(Shape{label % kFamilies, label / kFamilies}, o.size, o.looks, rng, img.pixels.data());
  }
  return d;
}

}  // namespace

std::string synthetic_class_name(int k) {
  const int v = k / kFamilies;
  if (k < 0 || v >= 4) return "class" + std::to_string(k);
  char buf[48];
  switch (k % kFamilies) {
    case 0: std::snprintf(buf, sizeof buf, "rect-1:%.1f", kRectAspect[v]); break;
    case 1: std::snprintf(buf, sizeof buf, "L-arms-%.2f", kLArmRatio[v]); break;
    case 2: {
      static constexpr const char* kCross[4] = {"cross-plus", "cross-T", "cross-short", "cross-offset"};
      std::snprintf(buf, sizeof buf, "%s", kCross[v]);
      break;
    }
    default: std::snprintf(buf, sizeof buf, "ring-%d-points", kRingPoints[v]); break;
  }
  return buf;
}

SplitPair make_synthetic_sar(const SyntheticOptions& o) {
  if (o.classes < 2 || o.classes > 4 * kFamilies) {
    throw InputError("synthetic classes " + std::to_string(o.classes) + " must be in 2..16");
  }
  if (o.size < 24 || o.size > 1024) throw InputError("synthetic image size " + std::to_string(o.size) + " must be in 24..1024");
  if (o.train_per_class < 1 || o.test_per_class < 1) {
    throw InputError("synthetic samples per class must be >= 1 (train " + std::to_string(o.train_per_class) +
                     ", test " + std::to_string(o.test_per_class) + ")");
  }
  if (!(o.looks >= 0.5 && o.looks <= 64.0)) {
    throw InputError("synthetic speckle looks " + std::to_string(o.looks) + " must be in 0.5..64");
  }
  SplitPair p;
  p.train = make_split(o, o.train_per_class, 0x7472616E00000000ull);  // "tran"
  p.test = make_split(o, o.test_per_class, 0x7465737400000000ull);    // "test"
  return p;
}

}  // namespace hwnas::nas
