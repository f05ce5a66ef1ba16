/* isolated_call.c: see include/isolated_call.h. */
#define _GNU_SOURCE
#include "isolated_call.h"

#include <sys/mman.h>
#include <unistd.h>

int mia_isolated_block(size_t size) {
    int fd = memfd_create("mia-isolated-call", MFD_CLOEXEC);
    if (fd < 0) return -1;
    if (ftruncate(fd, (off_t)size) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}
