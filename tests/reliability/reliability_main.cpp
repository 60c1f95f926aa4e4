// The reliability suite's main: prints the sizes and the seed first, so that
// any failure can be replayed with the same UNLINKD_RELIABILITY_SEED.
#include <iostream>

#include <gtest/gtest.h>

#include "tests/reliability/reliability_settings.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  try {
    std::cout << "reliability: " << unlinkd::reliability::settings().describe() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "reliability: " << e.what() << '\n';
    return 2;
  }
  return RUN_ALL_TESTS();
}
