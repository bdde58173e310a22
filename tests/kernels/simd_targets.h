// for_each_target: runs a kernel test once per SIMD target this CPU supports (AVX-512, AVX2 and
// the portable baseline on an AVX-512 machine), so that every compiled path is checked, not only
// the one dispatch picks.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/linear_simd.h"

namespace llama4::test {

// Calls body(target name) with Highway's dispatch forced to each target in turn, then restores
// the default dispatch.
template <typename Body>
void for_each_target(Body body) {
  const std::vector<std::int64_t> targets = simd::available_targets();
  ASSERT_FALSE(targets.empty());
  for (std::int64_t target : targets) {
    simd::force_target(target);
    const std::string name = simd::target_name(target);
    SCOPED_TRACE(name);
    EXPECT_EQ(simd::current_target_name(), name);
    body(name);
  }
  simd::force_target(0);
}

}  // namespace llama4::test
