#pragma once
// Small text helpers shared by the file readers of sim/ (topology and SCALE-Sim files).
#include <cctype>
#include <string>

namespace hwnas::sim::text {

inline std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace hwnas::sim::text
