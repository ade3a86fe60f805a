# Global sanitizer flags, from KITELINE_SANITIZE (set by the asan/tsan presets).
if(KITELINE_SANITIZE)
  list(JOIN KITELINE_SANITIZE "," _kl_san)
  add_compile_options(-fsanitize=${_kl_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_kl_san})
endif()
