# Project-wide compiler settings and the PLINTH_BACKEND_<NAME> tri-state options.

function(plinth_common_warnings)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-Wall> $<$<COMPILE_LANGUAGE:C,CXX>:-Wextra>
                        $<$<COMPILE_LANGUAGE:C,CXX>:-Wpedantic> $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor>)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-Wshadow=local>)
      # GCC 12 at -O3 (Release) reports false -Wrestrict errors inside libstdc++ for ordinary string
      # concatenation (`"literal" + std::string`, GCC bug 105651, fixed in 13). Without this a
      # Release build fails on correct code, and every new concatenation would have to dodge it.
      if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
        add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
      endif()
    endif()
    if(PLINTH_WERROR)
      add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-Werror>)
    endif()
  endif()
endfunction()

function(plinth_apply_sanitizers)
  if(PLINTH_SANITIZE)
    add_compile_options(-fsanitize=${PLINTH_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${PLINTH_SANITIZE})
  endif()
endfunction()

# plinth_backend_option(<NAME> <doc>) declares PLINTH_BACKEND_<NAME> = AUTO|ON|OFF (default AUTO).
# The backend's CMakeLists then calls plinth_backend_decide(<NAME> <found> <reason>): ON with a missing
# toolchain is a configure error; AUTO prints one line saying why the backend is skipped.
function(plinth_backend_option name doc)
  set(PLINTH_BACKEND_${name} AUTO CACHE STRING "${doc} (AUTO|ON|OFF)")
  set_property(CACHE PLINTH_BACKEND_${name} PROPERTY STRINGS AUTO ON OFF)
endfunction()

# Sets PLINTH_BUILD_BACKEND_<NAME> in the caller's scope.
function(plinth_backend_decide name found reason)
  set(mode "${PLINTH_BACKEND_${name}}")
  set(build OFF)
  if(mode STREQUAL "OFF")
    message(STATUS "Plinth backend ${name}: disabled (PLINTH_BACKEND_${name}=OFF)")
  elseif(found)
    set(build ON)
    message(STATUS "Plinth backend ${name}: building")
  elseif(mode STREQUAL "ON")
    message(FATAL_ERROR "Plinth backend ${name}: PLINTH_BACKEND_${name}=ON but ${reason}")
  else()
    message(STATUS "Plinth backend ${name}: skipped, ${reason}")
  endif()
  set(PLINTH_BUILD_BACKEND_${name} ${build} PARENT_SCOPE)
endfunction()
