# Every dependency comes from a Debian package and is found the CMake way.
find_package(Threads REQUIRED)
find_package(TBB REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)

# OpenBLAS: FindBLAS with the OpenBLAS vendor gives BLAS::BLAS; cblas.h sits in the
# multiarch include directory (Debian: /usr/include/<arch>/cblas.h).
set(BLA_VENDOR OpenBLAS)
find_package(BLAS REQUIRED)
find_path(LRA_CBLAS_INCLUDE_DIR cblas.h
          PATH_SUFFIXES openblas openblas-pthread x86_64-linux-gnu/openblas-pthread
                        aarch64-linux-gnu/openblas-pthread)
if(NOT LRA_CBLAS_INCLUDE_DIR)
  message(FATAL_ERROR "cblas.h not found: install libopenblas-dev (apt-get install -y libopenblas-dev)")
endif()

# libspng decodes the image tasks' PNG files (a private dependency of lra::lra).
find_package(PkgConfig REQUIRED)
pkg_check_modules(SPNG REQUIRED IMPORTED_TARGET spng)

if(LRA_BUILD_APPS OR LRA_BUILD_TESTS)
  find_package(CLI11 REQUIRED)
endif()
if(LRA_BUILD_TESTS)
  find_package(doctest REQUIRED)
endif()
