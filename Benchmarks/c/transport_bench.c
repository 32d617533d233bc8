/*
 * The C side of the transport benchmark (built and driven by ../compare_transport.py):
 * the sender every receiver reads from, the C receivers, the C ping-pong client and the
 * C echo server.
 *
 *   transport_bench sender SMALL LARGE UNIX_PATH
 *       listens on 127.0.0.1 (a port the system picks) and on the Unix socket UNIX_PATH,
 *       prints "port N", then for each connection: reads an 8-byte request (set 0 = SMALL,
 *       1 = LARGE; document count; both little-endian uint32), writes that many frames of
 *       the set (cycling through it) in writes of up to 1 MiB, and closes. Ends when stdin
 *       ends. Every receiver, whatever its language, gets the same bytes from this one
 *       program, so the measurement is the receiver's.
 *   transport_bench serve SMALL
 *       a long-lived worker answering one JSON line per stdin line:
 *         recv MODE ADDRESS SET COUNT WARMUP    MODE: decode | frame | buffered
 *         verify MODE ADDRESS SET COUNT OUTPUT  writes the frames it received to OUTPUT
 *         ping ADDRESS COUNT WARMUP             ping-pong client, round trips in ns
 *         mem COUNT WARMUP                      the decode walk over SMALL in memory, no socket
 *   transport_bench once MODE ADDRESS SET COUNT     one receive, no warm-up (for perf stat)
 *   transport_bench echo-server                 echoes frames on 127.0.0.1; prints "port N"
 *
 * Receive modes:
 *   decode    exact reads like our FileDescriptor path and py-bson (the 4-byte header, then
 *             the body in recv calls of at most 32 KiB into a buffer), then a libbson walk
 *             over every element reading each value with its typed getter and checking
 *             every key and string for UTF-8, as our strict decoder does
 *   frame     the same exact reads, no decode (header bounds and terminator checked)
 *   buffered  framing over a 64 KiB read-ahead buffer (one recv brings many frames), no
 *             decode: what our BSONSocket read-ahead does, written directly in C
 *
 * ADDRESS is tcp:127.0.0.1:PORT or unix:PATH. Every socket gets 30 s send and receive
 * timeouts (so nothing here can hang) and TCP_NODELAY on TCP.
 */
#define _GNU_SOURCE
#include <bson/bson.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAME (16 * 1024 * 1024 + 16 * 1024)
#define RECV_CHUNK (32 * 1024)
#define READ_AHEAD (64 * 1024)
#define SEND_CHUNK (1024 * 1024)
#define MAX_DEPTH 100

static volatile uint64_t g_sink;

/* ---------------------------------------------------------------- document sets */

typedef struct {
    uint8_t *data;
    size_t size;
    size_t count;
    size_t *offsets; /* count + 1 entries: frame i is data[offsets[i] .. offsets[i + 1]) */
} doc_set_t;

static int load_set(const char *path, doc_set_t *set) {
    FILE *file = fopen(path, "rb");
    long size;
    size_t capacity = 1024;
    memset(set, 0, sizeof *set);
    if (!file) return -1;
    if (fseek(file, 0, SEEK_END) != 0 || (size = ftell(file)) < 5 || fseek(file, 0, SEEK_SET) != 0) {
        fclose(file);
        return -1;
    }
    set->data = malloc((size_t)size);
    set->size = (size_t)size;
    if (!set->data || fread(set->data, 1, set->size, file) != set->size) {
        fclose(file);
        return -1;
    }
    fclose(file);
    set->offsets = malloc(capacity * sizeof(size_t));
    for (size_t offset = 0; offset < set->size;) {
        int32_t length;
        if (set->size - offset < 5) return -1;
        memcpy(&length, set->data + offset, 4);
        if (length < 5 || (size_t)length > set->size - offset) return -1;
        if (set->count + 2 > capacity) {
            capacity *= 2;
            set->offsets = realloc(set->offsets, capacity * sizeof(size_t));
        }
        set->offsets[set->count++] = offset;
        offset += (size_t)length;
    }
    set->offsets[set->count] = set->size;
    return 0;
}

/* ---------------------------------------------------------------- sockets */

static int64_t now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void set_options(int fd, int tcp) {
    struct timeval limit = {.tv_sec = 30, .tv_usec = 0};
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    if (tcp) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Connects to "tcp:HOST:PORT" or "unix:PATH"; -1 on failure. */
static int connect_to(const char *address) {
    int fd;
    if (strncmp(address, "unix:", 5) == 0) {
        struct sockaddr_un un = {.sun_family = AF_UNIX};
        if (strlen(address + 5) >= sizeof un.sun_path) return -1;
        strcpy(un.sun_path, address + 5);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        if (connect(fd, (struct sockaddr *)&un, sizeof un) != 0) {
            close(fd);
            return -1;
        }
        set_options(fd, 0);
        return fd;
    }
    char host[64];
    int port = 0;
    if (sscanf(address, "tcp:%63[^:]:%d", host, &port) != 2 || port < 1 || port > 65535) return -1;
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &in.sin_addr) != 1) return -1;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&in, sizeof in) != 0) {
        close(fd);
        return -1;
    }
    set_options(fd, 1);
    return fd;
}

static int listen_tcp(int *port) {
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t length = sizeof in;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&in, sizeof in) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&in, &length) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(in.sin_port);
    return fd;
}

static int listen_unix(const char *path) {
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    int fd;
    if (strlen(path) >= sizeof un.sun_path) return -1;
    strcpy(un.sun_path, path);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&un, sizeof un) != 0 || listen(fd, 16) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends every byte; 0 on success. */
static int send_all(int fd, const uint8_t *bytes, size_t length) {
    while (length > 0) {
        ssize_t sent = send(fd, bytes, length, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        bytes += sent;
        length -= (size_t)sent;
    }
    return 0;
}

/* Receives exactly `length` bytes in recv calls of at most 32 KiB. 1: done; 0: the peer
 * closed before the first byte; -1: an error, or a close part-way. */
static int recv_exact(int fd, uint8_t *bytes, size_t length) {
    size_t got = 0;
    while (got < length) {
        size_t want = length - got < RECV_CHUNK ? length - got : RECV_CHUNK;
        ssize_t received = recv(fd, bytes + got, want, 0);
        if (received < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (received == 0) return got == 0 ? 0 : -1;
        got += (size_t)received;
    }
    return 1;
}

/* ---------------------------------------------------------------- framing */

/* Exact reads: the header, then the body into *buffer (grown as needed, kept across
 * frames). 1: a frame of *length bytes is in *buffer; 0: clean end of stream; -1: error. */
static int recv_frame_exact(int fd, uint8_t **buffer, size_t *capacity, size_t *length) {
    uint8_t header[4];
    int32_t announced;
    int status = recv_exact(fd, header, 4);
    if (status <= 0) return status;
    memcpy(&announced, header, 4);
    if (announced < 5 || announced > MAX_FRAME) return -1;
    if ((size_t)announced > *capacity) {
        uint8_t *grown = realloc(*buffer, (size_t)announced);
        if (!grown) return -1;
        *buffer = grown;
        *capacity = (size_t)announced;
    }
    memcpy(*buffer, header, 4);
    if (recv_exact(fd, *buffer + 4, (size_t)announced - 4) != 1) return -1;
    if ((*buffer)[announced - 1] != 0) return -1;
    *length = (size_t)announced;
    return 1;
}

/* Framing over a read-ahead buffer: many frames per recv; a frame larger than the buffer
 * is completed with exact reads into a buffer of its own. */
typedef struct {
    int fd;
    uint8_t buffer[READ_AHEAD];
    size_t start, end;
    uint8_t *large;
    size_t large_capacity;
} reader_t;

/* 1: *frame points at a frame of *length bytes (valid until the next call); 0: clean end
 * of stream; -1: error. */
static int recv_frame_buffered(reader_t *reader, const uint8_t **frame, size_t *length) {
    for (int calls = 0; calls < 1000000; calls++) {
        size_t available = reader->end - reader->start;
        if (available >= 4) {
            int32_t announced;
            memcpy(&announced, reader->buffer + reader->start, 4);
            if (announced < 5 || announced > MAX_FRAME) return -1;
            if ((size_t)announced <= available) {
                *frame = reader->buffer + reader->start;
                *length = (size_t)announced;
                reader->start += (size_t)announced;
                return (*frame)[announced - 1] == 0 ? 1 : -1;
            }
            if ((size_t)announced > READ_AHEAD) {
                if ((size_t)announced > reader->large_capacity) {
                    uint8_t *grown = realloc(reader->large, (size_t)announced);
                    if (!grown) return -1;
                    reader->large = grown;
                    reader->large_capacity = (size_t)announced;
                }
                memcpy(reader->large, reader->buffer + reader->start, available);
                reader->start = reader->end = 0;
                if (recv_exact(reader->fd, reader->large + available, (size_t)announced - available) != 1) return -1;
                *frame = reader->large;
                *length = (size_t)announced;
                return reader->large[announced - 1] == 0 ? 1 : -1;
            }
        }
        /* Move the partial frame to the front and fill the rest. */
        if (reader->start > 0) {
            memmove(reader->buffer, reader->buffer + reader->start, available);
            reader->start = 0;
            reader->end = available;
        }
        ssize_t received = recv(reader->fd, reader->buffer + reader->end, READ_AHEAD - reader->end, 0);
        if (received < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (received == 0) return available == 0 ? 0 : -1;
        reader->end += (size_t)received;
    }
    return -1;
}

/* ---------------------------------------------------------------- decoding */

static uint64_t mix(uint64_t acc, uint64_t value) { return (acc ^ value) * 0x100000001b3ULL; }

static int text_ok(const char *text, uint32_t length, uint64_t *acc) {
    if (!bson_utf8_validate(text, length, true)) return 0;
    *acc = mix(*acc, length ? (uint8_t)text[0] + (uint64_t)length : 0);
    return 1;
}

/* Visits every element below `parent`, reading each value with its typed getter and
 * checking keys and strings for UTF-8; 0 on success. */
static int walk(const bson_iter_t *parent, int depth, uint64_t *acc) {
    bson_iter_t iter = *parent;
    if (depth > MAX_DEPTH) return -1;
    while (bson_iter_next(&iter)) {
        uint32_t length = 0;
        if (!text_ok(bson_iter_key(&iter), bson_iter_key_len(&iter), acc)) return -1;
        switch (bson_iter_type(&iter)) {
        case BSON_TYPE_DOUBLE: {
            double value = bson_iter_double(&iter);
            uint64_t bits;
            memcpy(&bits, &value, sizeof bits);
            *acc = mix(*acc, bits);
            break;
        }
        case BSON_TYPE_UTF8: {
            const char *text = bson_iter_utf8(&iter, &length);
            if (!text_ok(text, length, acc)) return -1;
            break;
        }
        case BSON_TYPE_CODE: {
            const char *text = bson_iter_code(&iter, &length);
            if (!text_ok(text, length, acc)) return -1;
            break;
        }
        case BSON_TYPE_SYMBOL: {
            const char *text = bson_iter_symbol(&iter, &length);
            if (!text_ok(text, length, acc)) return -1;
            break;
        }
        case BSON_TYPE_DOCUMENT:
        case BSON_TYPE_ARRAY: {
            bson_iter_t child;
            if (!bson_iter_recurse(&iter, &child) || walk(&child, depth + 1, acc) != 0) return -1;
            break;
        }
        case BSON_TYPE_BINARY: {
            bson_subtype_t subtype;
            const uint8_t *data = NULL;
            bson_iter_binary(&iter, &subtype, &length, &data);
            *acc = mix(*acc, (uint64_t)subtype + length);
            break;
        }
        case BSON_TYPE_OID:
            *acc = mix(*acc, bson_iter_oid(&iter)->bytes[11]);
            break;
        case BSON_TYPE_BOOL:
            *acc = mix(*acc, bson_iter_bool(&iter));
            break;
        case BSON_TYPE_DATE_TIME:
            *acc = mix(*acc, (uint64_t)bson_iter_date_time(&iter));
            break;
        case BSON_TYPE_REGEX: {
            const char *options = NULL;
            const char *pattern = bson_iter_regex(&iter, &options);
            if (!text_ok(pattern, (uint32_t)strlen(pattern), acc) || !text_ok(options, (uint32_t)strlen(options), acc))
                return -1;
            break;
        }
        case BSON_TYPE_DBPOINTER: {
            const char *collection = NULL;
            const bson_oid_t *oid = NULL;
            bson_iter_dbpointer(&iter, &length, &collection, &oid);
            if (!text_ok(collection, length, acc)) return -1;
            break;
        }
        case BSON_TYPE_CODEWSCOPE: {
            uint32_t scope_length = 0;
            const uint8_t *scope = NULL;
            const char *code = bson_iter_codewscope(&iter, &length, &scope_length, &scope);
            bson_iter_t child;
            if (!text_ok(code, length, acc) || !bson_iter_init_from_data(&child, scope, scope_length) ||
                walk(&child, depth + 1, acc) != 0)
                return -1;
            break;
        }
        case BSON_TYPE_INT32:
            *acc = mix(*acc, (uint32_t)bson_iter_int32(&iter));
            break;
        case BSON_TYPE_TIMESTAMP: {
            uint32_t timestamp = 0, increment = 0;
            bson_iter_timestamp(&iter, &timestamp, &increment);
            *acc = mix(*acc, ((uint64_t)timestamp << 32) | increment);
            break;
        }
        case BSON_TYPE_INT64:
            *acc = mix(*acc, (uint64_t)bson_iter_int64(&iter));
            break;
        case BSON_TYPE_DECIMAL128: {
            bson_decimal128_t value;
            bson_iter_decimal128(&iter, &value);
            *acc = mix(*acc, value.low ^ value.high);
            break;
        }
        case BSON_TYPE_UNDEFINED:
        case BSON_TYPE_NULL:
        case BSON_TYPE_MINKEY:
        case BSON_TYPE_MAXKEY:
            *acc = mix(*acc, bson_iter_type(&iter));
            break;
        default:
            return -1;
        }
    }
    /* bson_iter_next also stops at corrupt bytes: then err_off is set. */
    return iter.err_off != 0 ? -1 : 0;
}

static int decode(const uint8_t *frame, size_t length) {
    bson_iter_t iter;
    uint64_t acc = 0;
    if (!bson_iter_init_from_data(&iter, frame, length) || walk(&iter, 0, &acc) != 0) return -1;
    g_sink += acc;
    return 0;
}

/* ---------------------------------------------------------------- receivers */

enum mode { MODE_DECODE, MODE_FRAME, MODE_BUFFERED };
static const char *const mode_names[] = {"decode", "frame", "buffered"};

static int parse_mode(const char *name) {
    for (int i = MODE_DECODE; i <= MODE_BUFFERED; i++) {
        if (strcmp(name, mode_names[i]) == 0) return i;
    }
    return -1;
}

typedef struct {
    enum mode mode;
    int fd;
    reader_t *reader;
    uint8_t *buffer;
    size_t capacity;
} receiver_t;

/* One document: 1 received (and decoded in decode mode), 0 clean end, -1 error. The frame
 * is left in *frame / *length. */
static int receive_one(receiver_t *r, const uint8_t **frame, size_t *length) {
    int status;
    if (r->mode == MODE_BUFFERED) return recv_frame_buffered(r->reader, frame, length);
    status = recv_frame_exact(r->fd, &r->buffer, &r->capacity, length);
    if (status != 1) return status;
    *frame = r->buffer;
    if (r->mode == MODE_DECODE && decode(r->buffer, *length) != 0) return -1;
    return 1;
}

static int open_receiver(receiver_t *r, enum mode mode, const char *address, unsigned set, unsigned count) {
    uint32_t request[2] = {htole32(set), htole32(count)};
    memset(r, 0, sizeof *r);
    r->mode = mode;
    r->fd = connect_to(address);
    if (r->fd < 0) return -1;
    if (send_all(r->fd, (const uint8_t *)request, sizeof request) != 0) return -1;
    if (mode == MODE_BUFFERED) {
        r->reader = calloc(1, sizeof *r->reader);
        r->reader->fd = r->fd;
    }
    return 0;
}

static void close_receiver(receiver_t *r) {
    if (r->fd >= 0) close(r->fd);
    if (r->reader) free(r->reader->large);
    free(r->reader);
    free(r->buffer);
}

/* Receives warmup untimed and count timed documents, then expects the end of stream.
 * Returns the wall-clock ns (CPU ns in *cpu_ns), or -1. */
static int64_t measure(enum mode mode, const char *address, unsigned set, long count, long warmup, int64_t *cpu_ns) {
    receiver_t r;
    const uint8_t *frame;
    size_t length;
    int64_t start, start_cpu, wall = -1;
    if (open_receiver(&r, mode, address, set, (unsigned)(count + warmup)) != 0) {
        close_receiver(&r);
        return -1;
    }
    for (long n = 0; n < warmup; n++) {
        if (receive_one(&r, &frame, &length) != 1) goto done;
    }
    start = now_ns(CLOCK_MONOTONIC);
    start_cpu = now_ns(CLOCK_THREAD_CPUTIME_ID);
    for (long n = 0; n < count; n++) {
        if (receive_one(&r, &frame, &length) != 1) goto done;
        g_sink += length;
    }
    *cpu_ns = now_ns(CLOCK_THREAD_CPUTIME_ID) - start_cpu;
    wall = now_ns(CLOCK_MONOTONIC) - start;
    if (receive_one(&r, &frame, &length) != 0) wall = -1;
done:
    close_receiver(&r);
    return wall;
}

static int verify(enum mode mode, const char *address, unsigned set, long count, const char *output) {
    receiver_t r;
    const uint8_t *frame;
    size_t length;
    int status = -1;
    FILE *out = fopen(output, "wb");
    if (!out) return -1;
    if (open_receiver(&r, mode, address, set, (unsigned)count) == 0) {
        long n = 0;
        for (; n < count; n++) {
            if (receive_one(&r, &frame, &length) != 1) break;
            if (mode != MODE_BUFFERED && decode(frame, length) != 0) break; /* every mode walks here */
            if (fwrite(frame, 1, length, out) != length) break;
        }
        if (n == count && receive_one(&r, &frame, &length) == 0) status = 0;
    }
    close_receiver(&r);
    if (fclose(out) != 0) status = -1;
    return status;
}

/* The decode alone: the walk over the frames of `set` in memory, cycling, no socket. */
static int64_t decode_from_memory(const doc_set_t *set, long count, long warmup, int64_t *cpu_ns) {
    int64_t start = 0, start_cpu = 0;
    for (long n = 0; n < warmup + count; n++) {
        size_t index = (size_t)n % set->count;
        if (n == warmup) {
            start = now_ns(CLOCK_MONOTONIC);
            start_cpu = now_ns(CLOCK_THREAD_CPUTIME_ID);
        }
        if (decode(set->data + set->offsets[index], set->offsets[index + 1] - set->offsets[index]) != 0) return -1;
    }
    *cpu_ns = now_ns(CLOCK_THREAD_CPUTIME_ID) - start_cpu;
    return now_ns(CLOCK_MONOTONIC) - start;
}

/* ---------------------------------------------------------------- ping-pong */

/* Sends frames of `set` in turn, waits for each echo; writes count round trips (ns). */
static int ping(const char *address, const doc_set_t *set, long count, long warmup, uint64_t *samples) {
    uint8_t *buffer = NULL;
    size_t capacity = 0, length = 0;
    int fd = connect_to(address);
    int status = -1;
    if (fd < 0) return -1;
    for (long n = 0; n < warmup + count; n++) {
        size_t index = (size_t)n % set->count;
        const uint8_t *frame = set->data + set->offsets[index];
        size_t size = set->offsets[index + 1] - set->offsets[index];
        int64_t start = now_ns(CLOCK_MONOTONIC);
        if (send_all(fd, frame, size) != 0 || recv_frame_exact(fd, &buffer, &capacity, &length) != 1) goto done;
        int64_t end = now_ns(CLOCK_MONOTONIC);
        if (n >= warmup) samples[n - warmup] = (uint64_t)(end - start);
        if (length != size || memcmp(buffer, frame, size) != 0) goto done;
    }
    status = 0;
done:
    close(fd);
    free(buffer);
    return status;
}

/* Echoes every frame of one connection back, unchanged, until the peer closes. */
static void echo_connection(int fd) {
    uint8_t *buffer = NULL;
    size_t capacity = 0, length = 0;
    for (long n = 0; n < 100000000; n++) {
        if (recv_frame_exact(fd, &buffer, &capacity, &length) != 1) break;
        if (send_all(fd, buffer, length) != 0) break;
    }
    free(buffer);
}

/* ---------------------------------------------------------------- servers */

/* Writes `count` frames of `set` (starting at its first, cycling) in writes of at most
 * SEND_CHUNK bytes. */
static int send_documents(int fd, const doc_set_t *set, uint32_t count) {
    uint64_t cycles = count / set->count;
    size_t rest = count % set->count;
    for (uint64_t c = 0; c <= cycles; c++) {
        size_t end = c < cycles ? set->size : set->offsets[rest];
        for (size_t offset = 0; offset < end;) {
            size_t chunk = end - offset < SEND_CHUNK ? end - offset : SEND_CHUNK;
            if (send_all(fd, set->data + offset, chunk) != 0) return -1;
            offset += chunk;
        }
    }
    return 0;
}

/* Accepts on the listeners in `fds[1..]` until stdin (`fds[0]`) ends; calls `handle` on
 * each connection, one at a time. */
static int accept_loop(struct pollfd *fds, int nfds, void (*handle)(int fd, int tcp, void *context), void *context) {
    for (long connections = 0; connections < 1000000;) {
        if (poll(fds, (nfds_t)nfds, 1000) < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if (fds[0].revents) {
            char line[256];
            if (!fgets(line, sizeof line, stdin)) return 0;
        }
        for (int i = 1; i < nfds; i++) {
            if (!(fds[i].revents & POLLIN)) continue;
            int fd = accept4(fds[i].fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0) continue;
            set_options(fd, i == 1);
            handle(fd, i == 1, context);
            close(fd);
            connections++;
        }
    }
    return 0;
}

static void handle_sender(int fd, int tcp, void *context) {
    const doc_set_t *sets = context;
    uint32_t request[2];
    (void)tcp;
    if (recv_exact(fd, (uint8_t *)request, sizeof request) != 1) return;
    uint32_t set = le32toh(request[0]), count = le32toh(request[1]);
    if (set > 1) return;
    send_documents(fd, &sets[set], count);
}

static void handle_echo(int fd, int tcp, void *context) {
    (void)tcp;
    (void)context;
    echo_connection(fd);
}

/* ---------------------------------------------------------------- worker */

static int serve(const doc_set_t *small) {
    char line[4096];
    uint64_t *samples = NULL;
    for (long requests = 0; requests < 1000000 && fgets(line, sizeof line, stdin); requests++) {
        char command[16], mode_name[16], address[256], output[2048];
        unsigned set = 0;
        long count = 0, warmup = -1;
        int mode;
        if (strncmp(line, "quit", 4) == 0) break;
        if (sscanf(line, "recv %15s %255s %u %ld %ld", mode_name, address, &set, &count, &warmup) == 5 &&
            (mode = parse_mode(mode_name)) >= 0 && count > 0 && warmup >= 0) {
            int64_t cpu_ns = 0, ns = measure((enum mode)mode, address, set, count, warmup, &cpu_ns);
            if (ns < 0)
                printf("{\"error\": \"recv %s failed\"}\n", mode_name);
            else
                printf("{\"side\": \"c\", \"task\": \"%s\", \"docs\": %ld, \"ns\": %" PRId64 ", \"cpu_ns\": %" PRId64 "}\n",
                       mode_name, count, ns, cpu_ns);
        } else if (sscanf(line, "verify %15s %255s %u %ld %2047s", mode_name, address, &set, &count, output) == 5 &&
                   (mode = parse_mode(mode_name)) >= 0 && count > 0) {
            if (verify((enum mode)mode, address, set, count, output) != 0)
                printf("{\"error\": \"verify %s failed\"}\n", mode_name);
            else
                printf("{\"side\": \"c\", \"task\": \"verify-%s\", \"ok\": true}\n", mode_name);
        } else if (sscanf(line, "mem %ld %ld", &count, &warmup) == 2 && count > 0 && warmup >= 0) {
            int64_t cpu_ns = 0, ns = decode_from_memory(small, count, warmup, &cpu_ns);
            if (ns < 0)
                printf("{\"error\": \"mem failed on a valid document\"}\n");
            else
                printf("{\"side\": \"c\", \"task\": \"mem\", \"docs\": %ld, \"ns\": %" PRId64 ", \"cpu_ns\": %" PRId64 "}\n",
                       count, ns, cpu_ns);
        } else if (sscanf(line, "%15s %255s %ld %ld", command, address, &count, &warmup) == 4 &&
                   strcmp(command, "ping") == 0 && count > 0 && count <= 10000000 && warmup >= 0) {
            samples = realloc(samples, (size_t)count * sizeof *samples);
            if (ping(address, small, count, warmup, samples) != 0) {
                printf("{\"error\": \"ping failed\"}\n");
            } else {
                printf("{\"side\": \"c\", \"task\": \"ping\", \"samples_ns\": [");
                for (long n = 0; n < count; n++) printf(n ? ",%" PRIu64 : "%" PRIu64, samples[n]);
                printf("]}\n");
            }
        } else {
            printf("{\"error\": \"bad request\"}\n");
        }
        fflush(stdout);
    }
    free(samples);
    return 0;
}

int main(int argc, char **argv) {
    doc_set_t sets[2];
    if (argc == 5 && strcmp(argv[1], "sender") == 0) {
        int port = 0, tcp, unix_fd;
        if (load_set(argv[2], &sets[0]) != 0 || load_set(argv[3], &sets[1]) != 0) {
            fprintf(stderr, "transport_bench: cannot read the document sets\n");
            return 1;
        }
        tcp = listen_tcp(&port);
        unix_fd = listen_unix(argv[4]);
        if (tcp < 0 || unix_fd < 0) {
            fprintf(stderr, "transport_bench: cannot listen\n");
            return 1;
        }
        printf("port %d\n", port);
        fflush(stdout);
        struct pollfd fds[3] = {{.fd = 0, .events = POLLIN}, {.fd = tcp, .events = POLLIN}, {.fd = unix_fd, .events = POLLIN}};
        int status = accept_loop(fds, 3, handle_sender, sets);
        unlink(argv[4]);
        return status;
    }
    if (argc == 2 && strcmp(argv[1], "echo-server") == 0) {
        int port = 0, tcp = listen_tcp(&port);
        if (tcp < 0) return 1;
        printf("port %d\n", port);
        fflush(stdout);
        struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = tcp, .events = POLLIN}};
        return accept_loop(fds, 2, handle_echo, NULL);
    }
    if (argc == 3 && strcmp(argv[1], "serve") == 0) {
        if (load_set(argv[2], &sets[0]) != 0) {
            fprintf(stderr, "transport_bench: cannot read %s\n", argv[2]);
            return 1;
        }
        return serve(&sets[0]) + (g_sink == 42 ? 3 : 0);
    }
    if (argc == 6 && strcmp(argv[1], "once") == 0) {
        int mode = parse_mode(argv[2]);
        int64_t cpu_ns = 0;
        if (mode < 0) return 2;
        int64_t ns = measure((enum mode)mode, argv[3], (unsigned)atoi(argv[4]), atol(argv[5]), 0, &cpu_ns);
        if (ns < 0) return 1;
        printf("{\"side\": \"c\", \"task\": \"%s\", \"ns\": %" PRId64 "}\n", argv[2], ns);
        return g_sink == 42 ? 3 : 0;
    }
    fprintf(stderr, "usage: %s sender SMALL LARGE UNIX_PATH | serve SMALL | once MODE ADDRESS SET COUNT | echo-server\n",
            argv[0]);
    return 2;
}
