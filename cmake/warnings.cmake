# Warning flags for every kiteline target (style §11).
function(kiteline_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 reports Asio's coroutine frame allocator as a mismatched new/delete at -O2 (a
    # false positive on awaitable_frame_base::operator delete).
    target_compile_options(${target} PRIVATE -Wno-mismatched-new-delete)
  endif()
  if(KITELINE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  target_compile_features(${target} PUBLIC cxx_std_20)
endfunction()
