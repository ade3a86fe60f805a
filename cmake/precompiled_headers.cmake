# Precompiled headers (KITELINE_PCH; scripts/test.sh turns them on under CI=true, where every
# build is a clean one). Most of a kiteline .cpp that touches Asio is spent parsing Asio,
# OpenSSL, spdlog and fmt (and GoogleTest in the tests); with a precompiled header each such file
# parses them once per build instead of once per file. A developer's build tree keeps them off
# by default: it rebuilds a few files at a time, through ccache, which does not cache a compile
# that reads a .gch without extra sloppiness settings.
#
# Three headers, each compiled once in a donor target and reused (REUSE_FROM) by targets whose
# flags match (the compiler refuses a .gch/.pch made with other flags: -Winvalid-pch under
# -Werror, clang's own check, both fail the build rather than silently parse again):
#   asio       kiteline_net         -> the I/O modules and the executable
#   test_asio  kiteline_test_fixtures -> the integration, process and Asio unit suites
#   test       kiteline_test_base   -> (unused: see the end of this file)
# Targets with few Asio files (config, the pure modules, fuzz and bench) take none: loading a
# 200 MB header costs a file that needs none of it more than it saves.
option(KITELINE_PCH "Precompiled headers for Asio/OpenSSL/spdlog/GoogleTest (CI builds)" OFF)

set(KL_PCH_STD <algorithm> <array> <atomic> <chrono> <cstddef> <cstdint> <cstring> <functional>
               <map> <memory> <mutex> <optional> <span> <string> <string_view> <system_error>
               <thread> <utility> <vector>)
set(KL_PCH_IO <asio.hpp> <asio/experimental/as_tuple.hpp>
              <asio/experimental/awaitable_operators.hpp> <asio/ssl.hpp>
              <openssl/err.h> <openssl/evp.h> <openssl/ssl.h>
              <fmt/format.h> <spdlog/logger.h> <spdlog/spdlog.h>)
set(KL_PCH_GTEST <gtest/gtest.h> <gmock/gmock.h>)

# kiteline_pch(<target> asio|test_asio|test): <target> uses that precompiled header.
function(kiteline_pch target kind)
  if(NOT KITELINE_PCH OR NOT TARGET ${target})
    return()
  endif()
  set(donor_asio kiteline_net)
  set(donor_test_asio kiteline_test_fixtures)
  set(donor_test kiteline_test_base)
  set(donor ${donor_${kind}})
  if(target STREQUAL donor)
    if(kind STREQUAL asio)
      target_precompile_headers(${target} PRIVATE ${KL_PCH_STD} ${KL_PCH_IO})
    elseif(kind STREQUAL test_asio)
      target_precompile_headers(${target} PRIVATE ${KL_PCH_STD} ${KL_PCH_IO} ${KL_PCH_GTEST})
    else()
      target_precompile_headers(${target} PRIVATE ${KL_PCH_STD} ${KL_PCH_GTEST})
    endif()
  else()
    target_precompile_headers(${target} REUSE_FROM ${donor})
  endif()
endfunction()

# Called once at the end of the top-level CMakeLists.txt, when every target exists.
function(kiteline_precompiled_headers)
  if(NOT KITELINE_PCH)
    return()
  endif()
  foreach(target kiteline_net kiteline_tls kiteline_keys kiteline_tunnel kiteline_relay
                 kiteline_connector kiteline_console kiteline)
    kiteline_pch(${target} asio)
  endforeach()
  # proxy_key.cpp defines OPENSSL_SUPPRESS_DEPRECATED before its OpenSSL includes, which a
  # header included ahead of them would undo.
  set_source_files_properties(${CMAKE_SOURCE_DIR}/src/keys/proxy_key.cpp
                              DIRECTORY ${CMAKE_SOURCE_DIR}/src
                              PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
  foreach(target kiteline_test_fixtures kiteline_integration_tests kiteline_test_processes
                 kiteline_hostile_tests kiteline_service_tests kiteline_unit_net
                 kiteline_unit_tunnel kiteline_unit_console)
    kiteline_pch(${target} test_asio)
  endforeach()
  # The unit suites without Asio take none: with a GoogleTest-only header, g++ 12 -O2 reported
  # its std::string -Warray-bounds false positive in unit/wire/error_frame_test.cpp (not seen
  # without the header); the kind `test` (donor kiteline_test_base) is kept for a later try.
endfunction()
