# `cmake --install` (with --prefix or DESTDIR): the binary, the man page, example .rc files and
# the systemd units. The units name the binary and the configuration by their installed paths:
# they are configured at install time, so `--prefix` given then is the one they name.
include(GNUInstallDirs)

install(TARGETS kiteline RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(KL_MAN_PAGE ${CMAKE_BINARY_DIR}/dist/kiteline.1)
set(VERSION ${PROJECT_VERSION})
configure_file(${CMAKE_SOURCE_DIR}/docs/kiteline.1 ${KL_MAN_PAGE} @ONLY)
install(FILES ${KL_MAN_PAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(FILES ${CMAKE_SOURCE_DIR}/dist/examples/relay.rc
              ${CMAKE_SOURCE_DIR}/dist/examples/connector.rc
              ${CMAKE_SOURCE_DIR}/dist/examples/relay-with-local-backends.rc
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# lib/systemd/system under the prefix (Debian's place for packaged units).
set(KITELINE_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where the systemd units go, relative to the install prefix")
install(CODE "
  set(KL_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  cmake_path(ABSOLUTE_PATH KL_PREFIX NORMALIZE)
  set(KL_BINDIR \"\${KL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  if(KL_PREFIX STREQUAL \"/usr\")
    set(KL_SYSCONFDIR \"/etc\")
  else()
    set(KL_SYSCONFDIR \"\${KL_PREFIX}/${CMAKE_INSTALL_SYSCONFDIR}\")
  endif()
  set(KL_DOCDIR \"\${KL_PREFIX}/${CMAKE_INSTALL_DOCDIR}\")
  foreach(unit kiteline-relay.service kiteline-connector.service)
    configure_file(\"${CMAKE_SOURCE_DIR}/dist/systemd/\${unit}.in\"
                   \"${CMAKE_BINARY_DIR}/dist/systemd/\${unit}\" @ONLY)
    file(INSTALL \"${CMAKE_BINARY_DIR}/dist/systemd/\${unit}\"
         DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${KITELINE_SYSTEMD_UNIT_DIR}\")
  endforeach()
")
