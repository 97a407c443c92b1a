/*
 * nordma.c: a build without rdma-core has no RDMA transport;
 * mjl_transport_find("rdma") then finds nothing and
 * mjl_transport_unknown says why.
 */
#include "mojim_link.h"

const struct mjl_transport *const mjl_rdma = NULL;
