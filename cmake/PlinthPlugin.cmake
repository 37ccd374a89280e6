# plinth_add_plugin(<target> NAME <name> SOURCES ... [OUTPUT_DIR dir] [NO_INSTALL])
# Builds a backend plugin exactly as a vendor would: a MODULE library named
# libplinth-backend-<name>.so that links only plinth::sdk (and through it plinth::abi) and exports the
# single entry symbol. Installed with the Plinth package so out-of-tree plugins use it too.
function(plinth_add_plugin target)
  cmake_parse_arguments(P "NO_INSTALL" "NAME;OUTPUT_DIR" "SOURCES" ${ARGN})
  if(NOT P_NAME)
    message(FATAL_ERROR "plinth_add_plugin(${target}): NAME is required")
  endif()
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE plinth::sdk)
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "plinth-backend-${P_NAME}"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(P_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${P_OUTPUT_DIR}")
  elseif(DEFINED PLINTH_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${PLINTH_PLUGIN_OUTPUT_DIR}")
  endif()
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    # Fail at link time, not at dlopen time, on an unresolved symbol.
    target_link_options(${target} PRIVATE -Wl,--no-undefined)
    # Export the entry point and nothing else: g++ would otherwise export weak template
    # instantiations from libstdc++ that could bind to another plugin's copies.
    set(_map "${CMAKE_CURRENT_BINARY_DIR}/${target}.map")
    file(WRITE "${_map}" "{ global: plinth_plugin_init; local: *; };\n")
    target_link_options(${target} PRIVATE "-Wl,--version-script=${_map}")
  endif()
  if(NOT P_NO_INSTALL AND DEFINED PLINTH_INSTALL_PLUGIN_DIR)
    install(TARGETS ${target} LIBRARY DESTINATION "${PLINTH_INSTALL_PLUGIN_DIR}")
  endif()
endfunction()
