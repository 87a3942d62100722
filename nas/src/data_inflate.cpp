// gzip / DEFLATE decoder (RFC 1951, RFC 1952), written for the IDX loader so hwnas_nas needs no
// zlib link. Table-driven Huffman decoding; every length, distance and code is validated, and the
// gzip trailer's CRC-32 and size are checked, so corruption or truncation is always reported.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "hwnas/common/error.hpp"
#include "hwnas/nas/dataset.hpp"

namespace hwnas::nas {
namespace {

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<std::uint32_t, 256> kCrcTable = make_crc_table();

// Refuse to inflate beyond this (a corrupt stream or a decompression bomb).
constexpr std::size_t kMaxOutputBytes = std::size_t(1) << 31;

class BitReader {
 public:
  BitReader(const unsigned char* p, std::size_t n, const std::string& where) : p_(p), n_(n), where_(where) {}

  void refill() {
    while (count_ <= 56) {
      // Reading ahead past the end supplies zeros; consumed() tells whether any were used.
      const std::uint64_t b = pos_ < n_ ? p_[pos_] : 0;
      if (pos_ >= n_ + 16) throw InputError(where_, "truncated gzip data (deflate stream ends early)");
      ++pos_;
      buf_ |= b << count_;
      count_ += 8;
    }
  }
  std::uint32_t bits(int k) {  // k <= 32
    if (count_ < k) refill();
    const std::uint32_t v = static_cast<std::uint32_t>(buf_ & ((std::uint64_t(1) << k) - 1));
    buf_ >>= k;
    count_ -= k;
    return v;
  }
  std::uint64_t peek() {
    if (count_ < 16) refill();
    return buf_;
  }
  void drop(int k) {
    buf_ >>= k;
    count_ -= k;
  }
  void align_to_byte() { drop(count_ % 8); }
  std::size_t consumed_bytes() const { return pos_ - static_cast<std::size_t>(count_ / 8); }
  void check_not_past_end() const {
    if (consumed_bytes() > n_) throw InputError(where_, "truncated gzip data (deflate stream ends early)");
  }
  const std::string& where() const { return where_; }

 private:
  const unsigned char* p_;
  std::size_t n_;
  std::size_t pos_ = 0;
  std::uint64_t buf_ = 0;
  int count_ = 0;
  const std::string& where_;
};

// Canonical Huffman code as a direct lookup table indexed by the next `bits` input bits
// (LSB-first); entry = symbol << 4 | code length, 0 = no code.
struct Huffman {
  std::vector<std::uint16_t> table;
  int bits = 0;
};

Huffman build_huffman(const std::uint8_t* lengths, int n, const std::string& where, const char* what) {
  int count[16] = {0};
  for (int i = 0; i < n; ++i) ++count[lengths[i]];
  Huffman h;
  for (int len = 15; len >= 1; --len) {
    if (count[len] != 0) {
      h.bits = len;
      break;
    }
  }
  int left = 1;
  for (int len = 1; len <= 15; ++len) {
    left = left * 2 - count[len];
    if (left < 0) throw InputError(where, std::string("corrupt gzip data: over-subscribed ") + what + " code");
  }
  if (h.bits == 0) return h;  // no codes at all; any use is reported by decode()
  int next[16] = {0};
  int code = 0;
  count[0] = 0;
  for (int len = 1; len <= 15; ++len) {
    code = (code + count[len - 1]) << 1;
    next[len] = code;
  }
  h.table.assign(std::size_t(1) << h.bits, 0);
  for (int sym = 0; sym < n; ++sym) {
    const int len = lengths[sym];
    if (len == 0) continue;
    const int c = next[len]++;
    int rev = 0;
    for (int k = 0; k < len; ++k) rev |= ((c >> k) & 1) << (len - 1 - k);
    for (std::size_t i = static_cast<std::size_t>(rev); i < h.table.size(); i += std::size_t(1) << len) {
      h.table[i] = static_cast<std::uint16_t>((sym << 4) | len);
    }
  }
  return h;
}

int decode(BitReader& in, const Huffman& h) {
  if (h.bits == 0) throw InputError(in.where(), "corrupt gzip data: use of an empty Huffman code");
  const std::uint16_t e = h.table[in.peek() & ((std::uint64_t(1) << h.bits) - 1)];
  if (e == 0) throw InputError(in.where(), "corrupt gzip data: invalid Huffman code");
  in.drop(e & 15);
  return e >> 4;
}

constexpr std::uint16_t kLenBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                        31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr std::uint8_t kLenExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                        2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr std::uint16_t kDistBase[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,
                                         33,  49,  65,  97,  129, 193,  257,  385,  513,  769,
                                         1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr std::uint8_t kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                         6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

void inflate_codes(BitReader& in, const Huffman& lit, const Huffman& dist, std::vector<unsigned char>& out) {
  for (;;) {
    const int sym = decode(in, lit);
    if (sym < 256) {
      out.push_back(static_cast<unsigned char>(sym));
    } else if (sym == 256) {
      return;
    } else {
      if (sym > 285) throw InputError(in.where(), "corrupt gzip data: invalid length symbol");
      const std::size_t len = kLenBase[sym - 257] + in.bits(kLenExtra[sym - 257]);
      const int dsym = decode(in, dist);
      if (dsym > 29) throw InputError(in.where(), "corrupt gzip data: invalid distance symbol");
      const std::size_t d = kDistBase[dsym] + in.bits(kDistExtra[dsym]);
      if (d > out.size()) throw InputError(in.where(), "corrupt gzip data: distance reaches before the start");
      const std::size_t from = out.size() - d;
      for (std::size_t k = 0; k < len; ++k) out.push_back(out[from + k]);  // may overlap itself
    }
    if (out.size() > kMaxOutputBytes) throw InputError(in.where(), "gzip data expands beyond 2 GiB");
  }
}

void inflate_dynamic(BitReader& in, std::vector<unsigned char>& out) {
  static constexpr std::uint8_t kOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
  const int nlit = static_cast<int>(in.bits(5)) + 257;
  const int ndist = static_cast<int>(in.bits(5)) + 1;
  const int nclen = static_cast<int>(in.bits(4)) + 4;
  if (nlit > 286 || ndist > 30) throw InputError(in.where(), "corrupt gzip data: bad dynamic block counts");
  std::uint8_t clen[19] = {0};
  for (int i = 0; i < nclen; ++i) clen[kOrder[i]] = static_cast<std::uint8_t>(in.bits(3));
  const Huffman lencode = build_huffman(clen, 19, in.where(), "code-length");
  std::uint8_t lengths[286 + 30] = {0};
  int i = 0;
  while (i < nlit + ndist) {
    const int sym = decode(in, lencode);
    if (sym < 16) {
      lengths[i++] = static_cast<std::uint8_t>(sym);
      continue;
    }
    std::uint8_t value = 0;
    int repeat = 0;
    if (sym == 16) {
      if (i == 0) throw InputError(in.where(), "corrupt gzip data: repeat with no previous length");
      value = lengths[i - 1];
      repeat = 3 + static_cast<int>(in.bits(2));
    } else if (sym == 17) {
      repeat = 3 + static_cast<int>(in.bits(3));
    } else {
      repeat = 11 + static_cast<int>(in.bits(7));
    }
    if (i + repeat > nlit + ndist) throw InputError(in.where(), "corrupt gzip data: code lengths overflow");
    while (repeat-- > 0) lengths[i++] = value;
  }
  if (lengths[256] == 0) throw InputError(in.where(), "corrupt gzip data: no end-of-block code");
  const Huffman lit = build_huffman(lengths, nlit, in.where(), "literal/length");
  const Huffman dist = build_huffman(lengths + nlit, ndist, in.where(), "distance");
  inflate_codes(in, lit, dist, out);
}

void inflate_stream(BitReader& in, std::vector<unsigned char>& out) {
  bool last = false;
  while (!last) {
    last = in.bits(1) != 0;
    const std::uint32_t type = in.bits(2);
    if (type == 0) {
      in.align_to_byte();
      const std::uint32_t len = in.bits(16);
      const std::uint32_t nlen = in.bits(16);
      if ((len ^ 0xFFFFu) != nlen) throw InputError(in.where(), "corrupt gzip data: stored block length check");
      for (std::uint32_t k = 0; k < len; ++k) out.push_back(static_cast<unsigned char>(in.bits(8)));
    } else if (type == 1) {
      std::uint8_t lengths[288];
      for (int k = 0; k < 288; ++k) lengths[k] = k < 144 ? 8 : k < 256 ? 9 : k < 280 ? 7 : 8;
      std::uint8_t dlengths[30];
      for (auto& d : dlengths) d = 5;
      inflate_codes(in, build_huffman(lengths, 288, in.where(), "fixed"),
                    build_huffman(dlengths, 30, in.where(), "fixed"), out);
    } else if (type == 2) {
      inflate_dynamic(in, out);
    } else {
      throw InputError(in.where(), "corrupt gzip data: reserved block type 3");
    }
    in.check_not_past_end();
  }
  in.align_to_byte();
}

std::uint32_t read_le32(const unsigned char* p) {
  return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[3]) << 24);
}

}  // namespace

std::uint32_t crc32(const unsigned char* data, std::size_t n) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) c = kCrcTable[(c ^ data[i]) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::vector<unsigned char> gunzip(const std::vector<unsigned char>& bytes, const std::string& where) {
  std::vector<unsigned char> out;
  std::size_t pos = 0;
  int member = 0;
  // Concatenated members are one stream (RFC 1952 section 2.2).
  while (pos < bytes.size()) {
    ++member;
    const std::string at = member == 1 ? where : where + " (gzip member " + std::to_string(member) + ")";
    const unsigned char* p = bytes.data() + pos;
    const std::size_t n = bytes.size() - pos;
    if (n < 18 || p[0] != 0x1F || p[1] != 0x8B) {
      throw InputError(at, member == 1 ? "not gzip data (bad magic bytes or too short)"
                                       : "unexpected bytes after the end of the gzip data");
    }
    if (p[2] != 8) throw InputError(at, "gzip compression method " + std::to_string(p[2]) + " is not deflate (8)");
    const unsigned flags = p[3];
    if (flags & 0xE0u) throw InputError(at, "gzip header has reserved flag bits set");
    std::size_t h = 10;
    auto need = [&](std::size_t k) {
      if (h + k > n) throw InputError(at, "truncated gzip header");
    };
    if (flags & 4u) {  // FEXTRA
      need(2);
      h += 2 + (std::size_t(p[h]) | (std::size_t(p[h + 1]) << 8));
    }
    for (unsigned bit : {8u, 16u}) {  // FNAME, FCOMMENT: zero-terminated
      if (!(flags & bit)) continue;
      while (true) {
        need(1);
        if (p[h++] == 0) break;
      }
    }
    if (flags & 2u) h += 2;  // FHCRC
    need(0);
    const std::size_t start = out.size();
    BitReader in(p + h, n - h, at);
    inflate_stream(in, out);
    std::size_t end = h + in.consumed_bytes();
    if (end + 8 > n) throw InputError(at, "truncated gzip data (no CRC-32/size trailer)");
    const std::uint32_t crc = read_le32(p + end);
    const std::uint32_t isize = read_le32(p + end + 4);
    if (crc32(out.data() + start, out.size() - start) != crc) {
      throw InputError(at, "corrupt gzip data: CRC-32 of the decompressed data does not match the trailer");
    }
    if (static_cast<std::uint32_t>(out.size() - start) != isize) {
      throw InputError(at, "corrupt gzip data: decompressed size does not match the trailer");
    }
    pos += end + 8;
  }
  if (member == 0) throw InputError(where, "empty gzip file");
  return out;
}

}  // namespace hwnas::nas
