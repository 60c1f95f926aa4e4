# One INTERFACE target carries the project's warning and sanitizer flags; every
# unlinkd target links it, so no target can drift from the policy.
add_library(unlinkd_warnings INTERFACE)
target_compile_options(unlinkd_warnings INTERFACE -Wall -Wextra -Werror)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # Two g++ 12 false positives around C++20 coroutines, off everywhere
  # rather than pragma by pragma: -Wmismatched-new-delete on every Asio
  # awaitable frame (it pairs the frame's class-specific operator delete
  # with the global new it never uses; GCC bug 109224), and
  # -Wmaybe-uninitialized on a result<T, E> moved out of a co_await (the
  # variant's inactive member; GCC bugs 105562, 107919). clang-tidy and the
  # sanitizers still check both.
  # And -Wrestrict, false at -O3 (Release) inside std::string's operator+
  # (GCC bug 105329).
  target_compile_options(unlinkd_warnings INTERFACE
    -Wno-mismatched-new-delete -Wno-maybe-uninitialized -Wno-restrict)
endif()

if(UNLINKD_SANITIZE)
  set(_unlinkd_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  # _GLIBCXX_ASSERTIONS: bounds checks (back() of an empty vector, say) that
  # ASan cannot see; it does not change the ABI.
  target_compile_options(unlinkd_warnings INTERFACE ${_unlinkd_san} -D_GLIBCXX_ASSERTIONS)
  target_link_options(unlinkd_warnings INTERFACE ${_unlinkd_san})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 under -fsanitize=address reports -Wmaybe-uninitialized and
    # -Wstringop-overflow/-overread inside libstdc++ and Boost headers that a
    # plain build does not (GCC bugs 105562, 106199); they are false positives.
    target_compile_options(unlinkd_warnings INTERFACE
      -Wno-maybe-uninitialized -Wno-stringop-overflow -Wno-stringop-overread)
  endif()
endif()

# The fuzz build (scripts/fuzz): the parser library is instrumented for
# libFuzzer's coverage and checked by ASan and UBSan; the fuzz targets in
# tests/fuzz/ link the fuzzer runtime itself. UB stops the run like a crash.
# _GLIBCXX_ASSERTIONS adds bounds checks that ASan cannot see (indexing
# within a vector's capacity); it does not change the ABI.
if(UNLINKD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR
      "UNLINKD_FUZZ needs clang (libFuzzer is part of clang; g++ has none), but the C++ "
      "compiler is ${CMAKE_CXX_COMPILER_ID} (${CMAKE_CXX_COMPILER}). Configure a fresh tree "
      "with CC=clang CXX=clang++, or run scripts/fuzz.")
  endif()
  set(UNLINKD_FUZZ_SANITIZERS address,undefined)
  target_compile_options(unlinkd_warnings INTERFACE
    -fsanitize=fuzzer-no-link,${UNLINKD_FUZZ_SANITIZERS} -fno-sanitize-recover=all
    -fno-omit-frame-pointer -D_GLIBCXX_ASSERTIONS)
endif()
