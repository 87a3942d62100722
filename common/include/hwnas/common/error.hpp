#pragma once
// Errors that cross module boundaries. InputError is the user's fault (bad file, field, value)
// and maps to exit code 2; anything else that escapes to main is a runtime failure (exit 1).
#include <stdexcept>
#include <string>

namespace hwnas {

class InputError : public std::runtime_error {
 public:
  // where: file (and line or JSON path) the bad input came from; what: the complaint, naming
  // the value. Composed as "<where>: <what>" so every message points at its source.
  InputError(const std::string& where, const std::string& what)
      : std::runtime_error(where.empty() ? what : where + ": " + what) {}
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

class RuntimeFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace hwnas
