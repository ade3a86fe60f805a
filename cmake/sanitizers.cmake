# Global sanitizer flags, from KITELINE_SANITIZE (set by the asan/tsan/fuzz presets).
if(KITELINE_SANITIZE)
  list(JOIN KITELINE_SANITIZE "," _kl_san)
  add_compile_options(-fsanitize=${_kl_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_kl_san})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND "undefined" IN_LIST KITELINE_SANITIZE)
    # clang 14's UBSan `function` check cannot compile C++20 coroutine code ("Cannot represent
    # a difference across sections"); every other UBSan check stays on.
    add_compile_options(-fno-sanitize=function)
  endif()
endif()
