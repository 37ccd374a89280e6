# Packaging: installs the CMake package that out-of-tree plugins and applications use.
#
#   find_package(Plinth 0.1 REQUIRED)   ->  plinth::abi, plinth::sdk, plinth::core, plinth_add_plugin()
#
# Included at the end of the top-level CMakeLists.txt, after every target exists. The targets put
# themselves into the PlinthTargets export set where they are defined (install(TARGETS ... EXPORT
# PlinthTargets)); this file installs that set, the config and version files, and PlinthPlugin.cmake.
include(CMakePackageConfigHelpers)

set(PLINTH_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/Plinth")

# The config must find the packages behind every imported target an exported target links, or a
# consumer's generate step fails on an unknown target. Read the exported targets' link interfaces
# instead of keeping a hand-written list that drifts from what core/ and plugins/sdk actually link.
set(_plinth_exported "")
foreach(_t plinth::abi plinth::sdk plinth::core)
  if(TARGET ${_t})
    get_target_property(_real ${_t} ALIASED_TARGET)
    if(NOT _real)
      set(_real ${_t})
    endif()
    list(APPEND _plinth_exported ${_real})
  endif()
endforeach()

set(_plinth_deps "")
foreach(_t IN LISTS _plinth_exported)
  get_target_property(_libs ${_t} INTERFACE_LINK_LIBRARIES)
  if(NOT _libs)
    continue()
  endif()
  foreach(_lib IN LISTS _libs)
    # $<LINK_ONLY:x> wraps the private dependencies of static libraries; they still need finding.
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" _lib "${_lib}")
    if(_lib MATCHES "^plinth" OR _lib MATCHES "^\\$<" OR NOT _lib MATCHES "::")
      continue()  # our own targets, other generator expressions, plain -l flags
    endif()
    if(_lib MATCHES "^Boost::(headers|boost|disable_autolinking|dynamic_linking|diagnostic_definitions)$")
      list(APPEND _plinth_deps "Boost")
    elseif(_lib MATCHES "^Boost::(.+)$")
      list(APPEND _plinth_deps "Boost COMPONENTS ${CMAKE_MATCH_1}")
    elseif(_lib MATCHES "^(spdlog|fmt|Threads|nlohmann_json|CLI11|OpenMP|dnnl|DNNL|GTest)::")
      set(_pkg ${CMAKE_MATCH_1})
      if(_pkg STREQUAL "DNNL")
        set(_pkg dnnl)
      endif()
      list(APPEND _plinth_deps "${_pkg}")
    else()
      message(WARNING "Plinth package: exported target ${_t} links ${_lib}; "
                      "add its find_dependency to cmake/PlinthPackage.cmake")
    endif()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES _plinth_deps)
set(PLINTH_CONFIG_DEPENDENCIES "")
foreach(_dep IN LISTS _plinth_deps)
  string(APPEND PLINTH_CONFIG_DEPENDENCIES "find_dependency(${_dep})\n")
endforeach()

install(EXPORT PlinthTargets
  NAMESPACE plinth::
  FILE PlinthTargets.cmake
  DESTINATION "${PLINTH_INSTALL_CMAKEDIR}")

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/PlinthConfig.cmake.in"
  "${CMAKE_CURRENT_BINARY_DIR}/PlinthConfig.cmake"
  INSTALL_DESTINATION "${PLINTH_INSTALL_CMAKEDIR}"
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_BINDIR PLINTH_INSTALL_PLUGIN_DIR)

# 0.x counts as one major version: CMake's SameMajorVersion accepts 0.1 for a request of 0.1.
write_basic_package_version_file(
  "${CMAKE_CURRENT_BINARY_DIR}/PlinthConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMajorVersion)

install(FILES
  "${CMAKE_CURRENT_BINARY_DIR}/PlinthConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/PlinthConfigVersion.cmake"
  "${CMAKE_CURRENT_LIST_DIR}/PlinthPlugin.cmake"
  DESTINATION "${PLINTH_INSTALL_CMAKEDIR}")

unset(_plinth_exported)
unset(_plinth_deps)
