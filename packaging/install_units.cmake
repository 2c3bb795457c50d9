# Run by `cmake --install` (and cpack): writes the systemd units and their
# environment files for the prefix given at install time and installs them.
# /etc for the prefix /usr (the package), <prefix>/etc for any other.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(VERDI_SYSCONFDIR /etc)
else()
  set(VERDI_SYSCONFDIR "${CMAKE_INSTALL_PREFIX}/etc")
endif()
set(VERDI_CONFIG_DIR "${VERDI_SYSCONFDIR}/verdi")
set(VERDI_BIN "${CMAKE_INSTALL_PREFIX}/${VERDI_BINDIR_REL}/verdi")

foreach(file verdi-worker@.service verdi-manager.service verdi.env manager.env)
  configure_file("${VERDI_PACKAGING_DIR}/systemd/${file}.in" "${VERDI_STAGE_DIR}/${file}" @ONLY)
endforeach()
# systemd looks in /usr/lib/systemd/system and /usr/local/lib/systemd/system.
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE
  FILES "${VERDI_STAGE_DIR}/verdi-worker@.service" "${VERDI_STAGE_DIR}/verdi-manager.service")
# The environment files hold the admin's settings: an existing one is kept.
foreach(file verdi.env manager.env)
  if(EXISTS "$ENV{DESTDIR}${VERDI_CONFIG_DIR}/${file}")
    message(STATUS "Kept: $ENV{DESTDIR}${VERDI_CONFIG_DIR}/${file}")
  else()
    file(INSTALL DESTINATION "${VERDI_CONFIG_DIR}" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE
      FILES "${VERDI_STAGE_DIR}/${file}")
  endif()
endforeach()
