# One INTERFACE target carries the project's warning and sanitizer flags; every
# unlinkd target links it, so no target can drift from the policy.
add_library(unlinkd_warnings INTERFACE)
target_compile_options(unlinkd_warnings INTERFACE -Wall -Wextra -Werror)

if(UNLINKD_SANITIZE)
  set(_unlinkd_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_compile_options(unlinkd_warnings INTERFACE ${_unlinkd_san})
  target_link_options(unlinkd_warnings INTERFACE ${_unlinkd_san})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 under -fsanitize=address reports -Wmaybe-uninitialized and
    # -Wstringop-overflow/-overread inside libstdc++ and Boost headers that a
    # plain build does not (GCC bugs 105562, 106199); they are false positives.
    target_compile_options(unlinkd_warnings INTERFACE
      -Wno-maybe-uninitialized -Wno-stringop-overflow -Wno-stringop-overread)
  endif()
endif()
