#ifndef SWIFT_BSON_SOCKET_BENCH_CLIBBSON_SHIM_H
#define SWIFT_BSON_SOCKET_BENCH_CLIBBSON_SHIM_H

// libbson for the benchmark's "raw libbson from Swift" contender only (libbson-swift):
// the ceiling a Swift program reaches when it drives libbson's iterator and append
// functions itself, with no Swift values in between. The library reaches libbson through
// its own CLibBSON module; this one exists so the benchmark does not need that module
// exported. No program imports both.
#if __has_include(<bson/bson.h>)
#define BCON_H_
#include <bson/bson.h>
#elif __has_include(<libbson-1.0/bson/bson.h>)
#define BCON_H_
#include <libbson-1.0/bson/bson.h>
#else
#error "libbson headers not found: sudo apt-get install -y libbson-dev pkg-config"
#endif

#include <stddef.h>
#include <stdint.h>

// bson_iter_t and bson_t are declared 128-byte aligned; Swift imports them opaque, so the
// Swift side asks C for their sizes and makes aligned room itself.
static inline size_t benchbson_iter_size(void) { return sizeof(bson_iter_t); }
static inline size_t benchbson_bson_size(void) { return sizeof(bson_t); }
// A false bson_iter_next with a non-zero err_off means corrupt bytes, not the end.
static inline uint32_t benchbson_iter_error_offset(const bson_iter_t *iter) { return iter->err_off; }
static inline uint32_t benchbson_bson_length(const bson_t *bson) { return bson->len; }

#endif
