# Compiler settings shared by every nocturne target.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
endif()

# Warnings apply to our own targets only (never to third-party headers, which are SYSTEM).
add_library(nocturne_warnings INTERFACE)
target_compile_options(nocturne_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wconversion -Wno-sign-conversion
    $<$<BOOL:${NOCTURNE_WERROR}>:-Werror>)

if(NOCTURNE_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
    add_link_options(-fsanitize=address,undefined)
endif()

if(NOCTURNE_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
        message(FATAL_ERROR "NOCTURNE_FUZZ needs clang (libFuzzer); configure with the 'fuzz' preset")
    endif()
    add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
    add_link_options(-fsanitize=address,undefined)
endif()

# nocturne_add_module(NAME SOURCES ... DEPS ...): one static library per layer folder.
function(nocturne_add_module name)
    cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
    add_library(nocturne_${name} STATIC ${ARG_SOURCES})
    add_library(nocturne::${name} ALIAS nocturne_${name})
    target_include_directories(nocturne_${name} PUBLIC "${PROJECT_SOURCE_DIR}/include")
    target_link_libraries(nocturne_${name} PUBLIC ${ARG_DEPS} PRIVATE nocturne_warnings)
    # Sanitized, the layers where the CPU goes (the protocol, the simulator) are built -O1, as
    # AddressSanitizer's documentation advises: at -O0 the simulations ran 3-4 times slower than
    # the debug build's and made the sanitized suite CI's longest step. The Asio/Beast glue and
    # the tests stay -O0, where -O1 would double their compile time for little run time.
    if(NOCTURNE_SANITIZE AND name IN_LIST NOCTURNE_SANITIZE_OPTIMIZED)
        target_compile_options(nocturne_${name} PRIVATE -O1)
    endif()
endfunction()
set(NOCTURNE_SANITIZE_OPTIMIZED core crypto wire dht store trust knowledge vote compute gossip
    anomaly agent sim)
