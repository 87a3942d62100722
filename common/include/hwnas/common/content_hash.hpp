#pragma once
// A stable 64-bit FNV-1a digest, printed as 16 hex digits. Used to key caches and to detect
// stale tables; not a cryptographic hash.
#include <cstdint>
#include <string>
#include <string_view>

namespace hwnas {

std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t seed = 0xcbf29ce484222325ULL);
std::string content_hash_hex(std::string_view bytes);

}  // namespace hwnas
