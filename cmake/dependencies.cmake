# Every dependency comes from a Debian package (scripts/install-deps.sh).
find_package(ZLIB REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
# JSON of --authdomain auth apps' answers (relay/auth_app_answer): Debian's nlohmann-json3-dev,
# header only; 3.10 for its non-recursive parser and destructor.
find_package(nlohmann_json 3.10 REQUIRED)

# Standalone Asio is header-only (libasio-dev).
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(kiteline_asio INTERFACE)
target_include_directories(kiteline_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(kiteline_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(kiteline_asio INTERFACE Threads::Threads)
# Asio 1.22 enables co_await for clang only through the Coroutines TS macro (__cpp_coroutines);
# clang 14 in C++20 mode implements standard coroutines (__cpp_impl_coroutine) with libstdc++'s
# <coroutine>, which Asio already detects as ASIO_HAS_STD_COROUTINE.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  target_compile_definitions(kiteline_asio INTERFACE ASIO_HAS_CO_AWAIT=1)
endif()

if(KITELINE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(KITELINE_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
