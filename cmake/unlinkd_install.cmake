# `cmake --install` puts the binaries, the systemd units, the example config
# and the docs in the usual places; `cpack -G DEB` (in the build tree) makes a
# .deb of the same. With the prefix /usr the config goes to /etc/unlinkd.
install(TARGETS unlinkd unlinkctl unlinkd-sandbox RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# With the prefix /usr (the .deb) the config belongs in /etc, as GNUInstallDirs'
# FULL path says; under any other prefix it stays inside it (a staging install
# must not write to the real /etc).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(UNLINKD_CONFIG_DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/unlinkd)
else()
  set(UNLINKD_CONFIG_DESTINATION ${CMAKE_INSTALL_SYSCONFDIR}/unlinkd)
endif()
install(FILES examples/unlinkd.yaml DESTINATION ${UNLINKD_CONFIG_DESTINATION})
install(FILES examples/unlinkd.yaml examples/credentials.example.yaml
              examples/sandbox-fixture.yaml examples/sandbox-faults.yaml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY examples/manifests DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME unlinkd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "unlinkd maintainers <unlinkd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Bulk offboarding of TikTok for Business accounts")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd (>= 252)")
# The config is the operator's: dpkg keeps their edits on upgrade.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/systemd/debian/conffiles
                                       ${PROJECT_SOURCE_DIR}/systemd/debian/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
