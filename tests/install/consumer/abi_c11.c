/* The installed ABI headers, used from strict C11: prints the ABI version they declare. */
#include <stdio.h>

#include "plinth/abi.h"
#include "plinth/ops.h"

int main(void) {
  plinth_host_services_t host = {0};
  host.struct_size = (uint32_t)sizeof host;
  host.abi_major = PLINTH_ABI_VERSION_MAJOR;
  host.abi_minor = PLINTH_ABI_VERSION_MINOR;
  printf("%u.%u %u\n", (unsigned)host.abi_major, (unsigned)host.abi_minor, (unsigned)PLINTH_OP_COUNT);
  return 0;
}
