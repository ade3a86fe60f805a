# Every dependency comes from a Debian package (scripts/install-deps.sh).
find_package(ZLIB REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)

# Standalone Asio is header-only (libasio-dev).
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(kiteline_asio INTERFACE)
target_include_directories(kiteline_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(kiteline_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(kiteline_asio INTERFACE Threads::Threads)

if(KITELINE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(KITELINE_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
