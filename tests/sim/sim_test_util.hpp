#pragma once
// Helpers shared by the sim file-reader tests.
#include <gtest/gtest.h>

#include <string>

#include "hwnas/common/error.hpp"

namespace hwnas::sim::testing {

// Runs `f`, expects an InputError, and returns its message.
template <class F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError thrown";
  return "";
}

inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace hwnas::sim::testing
