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

# MPI (Open MPI from Debian: libopenmpi-dev) for `mpirun -np K lra_cpu train`: LRA_MPI=AUTO
# uses it when found, ON requires it, OFF builds the serial communicator only.
set(LRA_HAVE_MPI OFF)
if(NOT LRA_MPI STREQUAL "OFF")
  if(LRA_MPI STREQUAL "ON")
    find_package(MPI REQUIRED COMPONENTS CXX)
  else()
    find_package(MPI QUIET COMPONENTS CXX)
  endif()
  if(MPI_CXX_FOUND)
    set(LRA_HAVE_MPI ON)
    find_program(LRA_MPIEXEC NAMES mpirun mpiexec HINTS ${MPIEXEC_EXECUTABLE})
  endif()
endif()
message(STATUS "lra: MPI ${LRA_HAVE_MPI} (LRA_MPI=${LRA_MPI})")

if(LRA_BUILD_APPS OR LRA_BUILD_TESTS)
  find_package(CLI11 REQUIRED)
endif()
if(LRA_BUILD_TESTS)
  find_package(doctest REQUIRED)
endif()
