#pragma once
// Results are written to "<path>.tmp.<pid>" and renamed over <path>, so a reader (or a crash)
// never sees a half-written file and an older complete file survives a failed write.
#include <filesystem>
#include <string>

namespace hwnas {

void write_file_atomically(const std::filesystem::path& path, const std::string& contents);
std::string read_file(const std::filesystem::path& path);  // throws InputError naming the file

}  // namespace hwnas
