/*
 * A malloc-call counter for the codec benchmark (bench.py builds it as a shared object
 * and LD_PRELOADs it into every codec worker: Swift, libbson from Swift, C, pymongo,
 * py-bson). Each worker reads bench_malloc_count() before and after its timed operations
 * (found with dlsym / ctypes; a worker without the preload reports no count) and divides
 * by the operation count.
 *
 * Counted: malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign. The calls are
 * passed to glibc's own entry points (__libc_malloc and friends), so no dlsym is needed
 * (dlsym may itself allocate). Python's small-object allocator serves most Python objects
 * from its own arenas, so for the Python workers the count is of the calls that reach the
 * C allocator, which is what this measures for every worker alike.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static _Atomic uint64_t calls;

uint64_t bench_malloc_count(void) { return calls; }

void *malloc(size_t size) {
    calls++;
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    calls++;
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    calls++;
    return __libc_realloc(pointer, size);
}

void *memalign(size_t alignment, size_t size) {
    calls++;
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    calls++;
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    void *pointer;
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    calls++;
    pointer = __libc_memalign(alignment, size);
    if (!pointer) return ENOMEM;
    *out = pointer;
    return 0;
}
