#ifndef SWIFT_BSON_SOCKET_CLIBBSON_SHIM_H
#define SWIFT_BSON_SOCKET_CLIBBSON_SHIM_H

// The whole binding to Debian's libbson (package libbson-dev, pkg-config name
// libbson-1.0). SwiftPM finds the header through pkg-config; if either is
// missing, the compiler stops at the #error below with what to install.
#if __has_include(<bson/bson.h>)
// bcon.h is all variadic macros, which Swift cannot import; defining its include
// guard first keeps bson.h from pulling it in.
#define BCON_H_
#include <bson/bson.h>
#elif __has_include(<libbson-1.0/bson/bson.h>)
#define BCON_H_
#include <libbson-1.0/bson/bson.h>
#else
#error "libbson headers not found. Install them with: sudo apt-get install -y libbson-dev pkg-config (make test and make demo do this for you)"
#endif

#include <stddef.h>
#include <stdint.h>

// Every function here is static inline: a non-inline definition in a header
// that two Swift modules import would be defined twice at link time.

// Swift imports bson_iter_t and bson_t without their declared 128-byte
// alignment, so MemoryLayout reports a smaller size than C's sizeof. Swift code
// that makes room for one (always with 128-byte alignment) asks C for the size.
static inline size_t swiftbson_iter_size(void) { return sizeof(bson_iter_t); }
static inline size_t swiftbson_bson_size(void) { return sizeof(bson_t); }

// When bson_iter_next returns false, libbson leaves the offset of the element
// it was reading in `off` and a non-zero `err_off` if the bytes were corrupt
// (zero at the normal end). No accessor function exposes either field, and
// Swift sees the iterator only as an OpaquePointer.
static inline uint32_t swiftbson_iter_element_offset(const bson_iter_t *iter) {
    return iter->off;
}
static inline uint32_t swiftbson_iter_error_offset(const bson_iter_t *iter) {
    return iter->err_off;
}

// bson_t keeps its length in a field; libbson has no function that returns it
// without also returning the data pointer.
static inline uint32_t swiftbson_bson_length(const bson_t *bson) {
    return bson->len;
}

#endif
