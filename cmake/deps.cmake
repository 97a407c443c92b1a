# Every dependency is a Debian package; a missing one stops configure with
# the package name to install (README explains why each is there).
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()
find_package(Threads REQUIRED)

# mojim_require(<prefix> <pkg-config module> <Debian package>)
function(mojim_require prefix module debpkg)
  pkg_check_modules(${prefix} IMPORTED_TARGET ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "missing ${module}: apt-get install ${debpkg}")
  endif()
endfunction()

mojim_require(PMEM libpmem libpmem-dev)
mojim_require(ISAL libisal libisal-dev)
mojim_require(CRYPTO libcrypto libssl-dev)
mojim_require(SSL libssl libssl-dev)
mojim_require(CHECK check check)
mojim_require(WIREDTIGER wiredtiger libwiredtiger-dev)
mojim_require(MHD libmicrohttpd libmicrohttpd-dev)

# The RDMA transport is built when rdma-core's headers are there (or not,
# with -DMOJIM_RDMA=OFF); without it, transport=rdma is refused with the
# reason.
option(MOJIM_RDMA "build the RDMA transport (rdma-core)" ON)
if(MOJIM_RDMA)
  pkg_check_modules(IBVERBS IMPORTED_TARGET libibverbs)
  pkg_check_modules(RDMACM IMPORTED_TARGET librdmacm)
endif()
if(MOJIM_RDMA AND IBVERBS_FOUND AND RDMACM_FOUND)
  set(MOJIM_HAVE_RDMA ON)
else()
  set(MOJIM_HAVE_RDMA OFF)
  if(MOJIM_RDMA)
    message(STATUS "RDMA off: apt-get install libibverbs-dev librdmacm-dev")
  else()
    message(STATUS "RDMA off: -DMOJIM_RDMA=OFF")
  endif()
endif()
