# Every dependency comes from a Debian 12 package (scripts/install-deps installs
# them); nothing is vendored and nothing is downloaded at configure time.
find_package(yaml-cpp 0.7 REQUIRED CONFIG)
find_package(OpenSSL 3 REQUIRED)

if(UNLINKD_FUZZ)
  return()
endif()

# Boost 1.81 exactly: Debian 12's newest, and the version the code is written
# against (no cancel_after, no default completion token).
find_package(Boost 1.81.0 EXACT REQUIRED CONFIG COMPONENTS json)
find_package(SQLite3 REQUIRED)
find_package(spdlog 1.10 REQUIRED CONFIG)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
if(UNLINKD_BUILD_TESTS)
  find_package(GTest 1.12 REQUIRED CONFIG)
endif()
