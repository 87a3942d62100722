// Single-file readers: content sniffing, raw MSTAR Phoenix chips, JPEG/PNG through stb_image.
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "hwnas/common/error.hpp"
#include "hwnas/nas/dataset.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_image.h>
#pragma GCC diagnostic pop

namespace hwnas::nas {
namespace {

constexpr char kEndMarker[] = "[EndofPhoenixHeader]";
// A Phoenix header is a few kB; anything claiming more is a corrupt length field.
constexpr std::size_t kMaxHeaderBytes = 1u << 20;
constexpr int kMaxChipSide = 1 << 15;

bool starts_with(const std::vector<unsigned char>& b, const unsigned char* magic, std::size_t n) {
  return b.size() >= n && std::memcmp(b.data(), magic, n) == 0;
}

std::size_t find_text(const std::vector<unsigned char>& b, const char* text, std::size_t limit) {
  const std::size_t n = std::strlen(text);
  const std::size_t end = std::min(b.size(), limit);
  for (std::size_t i = 0; i + n <= end; ++i) {
    if (std::memcmp(b.data() + i, text, n) == 0) return i;
  }
  return std::string::npos;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

long long parse_header_int(const MstarChip& chip, const std::string& key, const std::string& where) {
  const std::string* v = chip.field(key);
  if (v == nullptr) throw InputError(where, "Phoenix header has no '" + key + "=' field");
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(*v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v->size()) {
    throw InputError(where, "Phoenix header field " + key + "= '" + *v + "' is not an integer");
  }
  return value;
}

float read_be_float(const unsigned char* p) {
  const std::uint32_t bits = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) |
                             (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// stb_image trusts some JPEG header fields: a DHT segment whose 16 code counts add up to more
// than 256 overruns its fixed tables (found by fuzzing under ASan). Walk the marker segments,
// including those after each scan's entropy-coded data, and reject such files first.
void check_jpeg_segments(const std::vector<unsigned char>& b, const std::string& where) {
  std::size_t pos = 2;  // after SOI
  const std::size_t n = b.size();
  while (pos + 1 < n) {
    if (b[pos] != 0xFF) throw InputError(where, "corrupt JPEG: expected a marker at byte " + std::to_string(pos));
    while (pos + 1 < n && b[pos + 1] == 0xFF) ++pos;  // fill bytes
    if (pos + 1 >= n) break;
    const unsigned marker = b[pos + 1];
    pos += 2;
    if (marker == 0xD9) return;  // EOI
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no length field
    if (pos + 2 > n) break;
    const std::size_t len = (std::size_t(b[pos]) << 8) | b[pos + 1];
    if (len < 2 || pos + len > n) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      throw InputError(where, std::string("corrupt JPEG: segment FF") + kHex[marker >> 4] + kHex[marker & 15] +
                                  " at byte " + std::to_string(pos - 2) + " runs past the end of the file");
    }
    if (marker == 0xC4) {  // DHT: one or more tables of 1 + 16 + sum(counts) bytes
      std::size_t q = pos + 2;
      const std::size_t end = pos + len;
      while (q < end) {
        if (q + 17 > end) throw InputError(where, "corrupt JPEG: short Huffman table segment");
        if ((b[q] >> 4) > 1 || (b[q] & 15) > 3) throw InputError(where, "corrupt JPEG: bad Huffman table id");
        std::size_t codes = 0;
        for (int i = 1; i <= 16; ++i) codes += b[q + i];
        if (codes > 256) {
          throw InputError(where, "corrupt JPEG: Huffman table with " + std::to_string(codes) + " codes (at most 256)");
        }
        q += 17 + codes;
      }
      if (q != end) throw InputError(where, "corrupt JPEG: Huffman table segment length mismatch");
    }
    pos += len;
    if (marker == 0xDA) {
      // Entropy-coded data: FF is followed by 00 (stuffing) or a restart marker inside it.
      while (pos + 1 < n && !(b[pos] == 0xFF && b[pos + 1] != 0x00 && (b[pos + 1] < 0xD0 || b[pos + 1] > 0xD7))) ++pos;
    }
  }
  throw InputError(where, "truncated JPEG: no end-of-image marker (FF D9)");
}

}  // namespace

std::vector<unsigned char> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open file for reading");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw InputError(path, "cannot determine file size");
  in.seekg(0, std::ios::beg);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    throw InputError(path, "read error");
  }
  return bytes;
}

FileKind detect_file_kind(const std::vector<unsigned char>& bytes) {
  static const unsigned char kJpeg[] = {0xFF, 0xD8, 0xFF};
  static const unsigned char kPng[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (starts_with(bytes, kJpeg, sizeof kJpeg)) return FileKind::kJpeg;
  if (starts_with(bytes, kPng, sizeof kPng)) return FileKind::kPng;
  // Phoenix chips open with "[PhoenixHeaderVerXX.XX]"; accept the length field near the start
  // too, for writers that omit the version line.
  if (find_text(bytes, "PhoenixHeader", 512) != std::string::npos) return FileKind::kMstarChip;
  return FileKind::kUnknown;
}

const char* file_kind_name(FileKind kind) {
  switch (kind) {
    case FileKind::kJpeg: return "JPEG";
    case FileKind::kPng: return "PNG";
    case FileKind::kMstarChip: return "MSTAR Phoenix chip";
    case FileKind::kUnknown: break;
  }
  return "unknown";
}

const std::string* MstarChip::field(const std::string& key) const {
  for (const auto& kv : header) {
    if (kv.first == key) return &kv.second;
  }
  return nullptr;
}

MstarChip parse_mstar_chip(const std::vector<unsigned char>& bytes, const std::string& where) {
  const std::size_t marker = find_text(bytes, kEndMarker, kMaxHeaderBytes);
  if (marker == std::string::npos) {
    throw InputError(where, std::string("no ") + kEndMarker +
                                " line in the first 1 MiB: not an MSTAR Phoenix file or a truncated header");
  }
  MstarChip chip;
  std::size_t line_start = 0;
  int line_no = 0;
  while (line_start < marker) {
    std::size_t line_end = line_start;
    while (line_end < marker && bytes[line_end] != '\n') ++line_end;
    ++line_no;
    const std::string line = trim(std::string(bytes.begin() + line_start, bytes.begin() + line_end));
    line_start = line_end + 1;
    if (line.empty() || line.front() == '[') continue;  // version / section markers
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
      throw InputError(where + ": header line " + std::to_string(line_no),
                       "'" + line + "' is not a 'key= value' line");
    }
    chip.header.emplace_back(trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
  }
  const long long header_len = parse_header_int(chip, "PhoenixHeaderLength", where);
  const std::size_t marker_end = marker + std::strlen(kEndMarker);
  if (header_len < static_cast<long long>(marker_end) || header_len > static_cast<long long>(kMaxHeaderBytes)) {
    throw InputError(where, "PhoenixHeaderLength= " + std::to_string(header_len) +
                                " does not cover the header, which ends at byte " + std::to_string(marker_end));
  }
  for (const char* key : {"NativeHeaderLength", "native_header_length"}) {
    if (chip.field(key) == nullptr) continue;
    const long long native = parse_header_int(chip, key, where);
    if (native != 0) {
      throw InputError(where, std::string(key) + "= " + std::to_string(native) +
                                  ": full-scene files are not supported, only chips (native header length 0)");
    }
  }
  const long long rows = parse_header_int(chip, "NumberOfRows", where);
  const long long cols = parse_header_int(chip, "NumberOfColumns", where);
  if (rows <= 0 || cols <= 0 || rows > kMaxChipSide || cols > kMaxChipSide) {
    throw InputError(where, "chip size NumberOfRows= " + std::to_string(rows) + " NumberOfColumns= " +
                                std::to_string(cols) + " is out of range 1.." + std::to_string(kMaxChipSide));
  }
  const std::size_t pixels = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
  const std::size_t need = static_cast<std::size_t>(header_len) + 2 * pixels * sizeof(float);
  if (bytes.size() < need) {
    throw InputError(where, "truncated: a " + std::to_string(rows) + "x" + std::to_string(cols) +
                                " chip with a " + std::to_string(header_len) + "-byte header needs " +
                                std::to_string(need) + " bytes (magnitude + phase float32), the file has " +
                                std::to_string(bytes.size()));
  }
  if (bytes.size() > need) {
    throw InputError(where, "file has " + std::to_string(bytes.size() - need) +
                                " bytes after the phase block of a " + std::to_string(rows) + "x" +
                                std::to_string(cols) + " chip: header and data disagree");
  }
  chip.rows = static_cast<int>(rows);
  chip.cols = static_cast<int>(cols);
  chip.header_bytes = static_cast<std::size_t>(header_len);
  chip.magnitude.resize(pixels);
  chip.phase.resize(pixels);
  const unsigned char* mag = bytes.data() + header_len;
  const unsigned char* pha = mag + pixels * sizeof(float);
  for (std::size_t i = 0; i < pixels; ++i) {
    const float m = read_be_float(mag + 4 * i);
    const float p = read_be_float(pha + 4 * i);
    if (!std::isfinite(m) || m < 0.0f) {
      throw InputError(where, "magnitude " + std::to_string(m) + " at pixel " + std::to_string(i) +
                                  " (row " + std::to_string(i / cols) + ") is not a finite value >= 0");
    }
    if (!std::isfinite(p)) {
      throw InputError(where, "phase at pixel " + std::to_string(i) + " is not finite");
    }
    chip.magnitude[i] = m;
    chip.phase[i] = p;
  }
  return chip;
}

MstarChip read_mstar_chip(const std::string& path) { return parse_mstar_chip(read_file_bytes(path), path); }

GreyImage decode_grey_image(const std::vector<unsigned char>& bytes, const std::string& where) {
  const FileKind kind = detect_file_kind(bytes);
  if (kind != FileKind::kJpeg && kind != FileKind::kPng) {
    throw InputError(where, "not a JPEG or PNG image");
  }
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw InputError(where, "image file too large");
  }
  if (kind == FileKind::kJpeg) {
    // Also catches cut-off files, which stb would decode silently (missing data reads as zeros).
    check_jpeg_segments(bytes, where);
  }
  int w = 0, h = 0, comp = 0;
  unsigned char* data = stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &comp, 1);
  if (data == nullptr) {
    const char* why = stbi_failure_reason();
    throw InputError(where, std::string("cannot decode ") + file_kind_name(kind) + ": " +
                                (why != nullptr ? why : "unknown error"));
  }
  GreyImage img;
  img.height = h;
  img.width = w;
  img.values.assign(data, data + static_cast<std::size_t>(w) * h);
  stbi_image_free(data);
  return img;
}

}  // namespace hwnas::nas
