# The 0.x version policy: a 0.x release may break the ABI, so neither the
# soname nor find_package's version check may take 0.2 for 0.1; from 1.0 on,
# minor releases of one major are compatible.
# Invoked by CTest with -DVERSION_FILE (SpindleConfigVersion.cmake),
# -DLIBRARY (libspindle) and -DREADELF.

# find_package evaluates a version file this way: PACKAGE_FIND_VERSION* in,
# PACKAGE_VERSION_COMPATIBLE out.
function(compatible want out)
  string(REPLACE "." ";" parts "${want}")
  list(LENGTH parts PACKAGE_FIND_VERSION_COUNT)
  list(APPEND parts 0 0 0)
  list(GET parts 0 PACKAGE_FIND_VERSION_MAJOR)
  list(GET parts 1 PACKAGE_FIND_VERSION_MINOR)
  list(GET parts 2 PACKAGE_FIND_VERSION_PATCH)
  set(PACKAGE_FIND_VERSION_TWEAK 0)
  set(PACKAGE_FIND_VERSION "${want}")
  include("${VERSION_FILE}")
  set(${out} "${PACKAGE_VERSION_COMPATIBLE}" PARENT_SCOPE)
endfunction()

include("${VERSION_FILE}")            # PACKAGE_VERSION: this release
string(REPLACE "." ";" parts "${PACKAGE_VERSION}")
list(GET parts 0 major)
list(GET parts 1 minor)
math(EXPR next_minor "${minor} + 1")
math(EXPR next_major "${major} + 1")

set(failures "")
macro(expect want expected)
  compatible("${want}" got)
  if(NOT "${got}" STREQUAL "${expected}")
    string(APPEND failures "  find_package(Spindle ${want}) against ${PACKAGE_VERSION}: "
                           "compatible=${got}, expected ${expected}\n")
  endif()
endmacro()

expect("${major}.${minor}" TRUE)
expect("${major}.${next_minor}" FALSE)
expect("${next_major}.0" FALSE)
if(major EQUAL 0)
  if(minor GREATER 0)
    math(EXPR prev_minor "${minor} - 1")
    expect("0.${prev_minor}" FALSE)
  endif()
  set(soname "libspindle.so.0.${minor}")
else()
  expect("${major}.0" TRUE)
  set(soname "libspindle.so.${major}")
endif()

execute_process(COMMAND "${READELF}" -d "${LIBRARY}" OUTPUT_VARIABLE dynamic RESULT_VARIABLE rc)
if(rc OR NOT dynamic MATCHES "Library soname: \\[([^]]*)\\]")
  string(APPEND failures "  no soname in ${LIBRARY}\n")
elseif(NOT CMAKE_MATCH_1 STREQUAL soname)
  string(APPEND failures "  soname ${CMAKE_MATCH_1}, expected ${soname} for ${PACKAGE_VERSION}\n")
endif()

if(failures)
  message(FATAL_ERROR "version policy broken:\n${failures}")
endif()
message(STATUS "Spindle ${PACKAGE_VERSION}: soname ${soname}; find_package takes "
               "${major}.${minor} and refuses ${major}.${next_minor} and ${next_major}.0")
