// The package's lock for shared state.
//
// Normally this is the standard library's `Synchronization.Mutex`. On Linux that mutex hands
// the lock over inside the kernel (a priority-inheriting futex), where ThreadSanitizer cannot
// see it, so a ThreadSanitizer build reports every access to state guarded by it as a race
// (a 15-line program that only increments a counter under a `Mutex` shows the same reports).
// `make test-tsan` therefore builds with `-DBSON_SOCKET_PTHREAD_LOCKS`, which swaps in the
// class below, the same API on a `pthread_mutex_t`, whose lock and unlock ThreadSanitizer
// follows. Nothing else changes between the two builds.
//
// The guarded value lives in its own allocation, not in a stored property: a zero-sized value
// (`PackageMutex<()>`, a plain lock) would otherwise share its address with the next stored
// property, and ThreadSanitizer would report the inout access to it under the lock as racing
// with other threads' unlocked read of the mutex pointer (a false report; a real unlocked
// access to the value is still reported).

#if BSON_SOCKET_PTHREAD_LOCKS
import Glibc

/// `Synchronization.Mutex`'s API on a `pthread_mutex_t`, for ThreadSanitizer builds only.
package final class PackageMutex<Value>: @unchecked Sendable {
    private let value: UnsafeMutablePointer<Value>
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    package init(_ initialValue: sending Value) {
        value = .allocate(capacity: 1)
        value.initialize(to: initialValue)
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        value.deinitialize(count: 1)
        value.deallocate()
    }

    package func withLock<Result, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value.pointee)
    }
}
#else
package import Synchronization

/// The lock for shared state: `Synchronization.Mutex` (see the note at the top of the file).
package typealias PackageMutex = Synchronization.Mutex
#endif
