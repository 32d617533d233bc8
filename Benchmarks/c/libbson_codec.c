/*
 * The C ceiling of the codec comparison (built and driven by ../compare_codec.py):
 * the same documents handled by libbson directly, with no Swift values in between.
 *
 *   libbson_codec DIR [OPS [WARMUP [NAME [TASK]]]]
 *   libbson_codec DIR serve      reads "TASK/NAME OPS WARMUP" lines on stdin (walk/flat 10000
 *                                1000, say) and answers each with one JSON line
 *
 * reads DIR/flat.bson, DIR/deep.bson, DIR/full.bson and prints one JSON object per task
 * (only for document NAME, and only task TASK, when given; for callgrind, for instance):
 *
 *   walk/NAME       iterate every element (recursing into documents and arrays) and read
 *                   its value with the typed bson_iter_* getter: the floor under any decoder
 *   walk-utf8/NAME  the same, plus bson_utf8_validate on every key and string-bearing value,
 *                   which our strict decoder also checks
 *   validate/NAME   bson_validate with UTF-8 checking (allowing NUL, as BSON strings may)
 *   rebuild/NAME    walk, and append every value into a new bson_t with the typed
 *                   bson_append_* functions: the floor under an encoder (it includes a walk)
 *
 * Before timing, rebuild's output is checked byte for byte against its input.
 */
#include <bson/bson.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEPTH 100

/* Folds every value read into one number the optimizer cannot drop. */
static volatile uint64_t g_sink;

static uint64_t mix(uint64_t acc, uint64_t value) { return (acc ^ value) * 0x100000001b3ULL; }

static uint64_t mix_bytes(uint64_t acc, const void *data, uint32_t length) {
    /* Touch the first and last byte, like a consumer that looks at the value. */
    const uint8_t *bytes = data;
    if (length == 0) return mix(acc, 0);
    return mix(mix(acc, bytes[0]), bytes[length - 1] + (uint64_t)length);
}

static int utf8_ok(const char *text, uint32_t length) { return bson_utf8_validate(text, length, true); }

/* Returns 0 on success, -1 on an element it cannot read. */
static int walk(const bson_iter_t *source, int depth, int check_utf8, uint64_t *acc) {
    bson_iter_t iter = *source;
    if (depth > MAX_DEPTH) return -1;
    while (bson_iter_next(&iter)) {
        const char *key = bson_iter_key(&iter);
        uint32_t key_length = bson_iter_key_len(&iter);
        if (check_utf8 && !utf8_ok(key, key_length)) return -1;
        *acc = mix_bytes(*acc, key, key_length);
        switch (bson_iter_type(&iter)) {
        case BSON_TYPE_DOUBLE: {
            double value = bson_iter_double(&iter);
            uint64_t bits;
            memcpy(&bits, &value, sizeof bits);
            *acc = mix(*acc, bits);
            break;
        }
        case BSON_TYPE_UTF8:
        case BSON_TYPE_CODE:
        case BSON_TYPE_SYMBOL: {
            uint32_t length = 0;
            const char *text = bson_iter_type(&iter) == BSON_TYPE_UTF8 ? bson_iter_utf8(&iter, &length)
                               : bson_iter_type(&iter) == BSON_TYPE_CODE ? bson_iter_code(&iter, &length)
                                                                          : bson_iter_symbol(&iter, &length);
            if (check_utf8 && !utf8_ok(text, length)) return -1;
            *acc = mix_bytes(*acc, text, length);
            break;
        }
        case BSON_TYPE_DOCUMENT:
        case BSON_TYPE_ARRAY: {
            bson_iter_t child;
            if (!bson_iter_recurse(&iter, &child)) return -1;
            if (walk(&child, depth + 1, check_utf8, acc) != 0) return -1;
            break;
        }
        case BSON_TYPE_BINARY: {
            bson_subtype_t subtype;
            uint32_t length = 0;
            const uint8_t *data = NULL;
            bson_iter_binary(&iter, &subtype, &length, &data);
            *acc = mix_bytes(mix(*acc, subtype), data, length);
            break;
        }
        case BSON_TYPE_OID:
            *acc = mix_bytes(*acc, bson_iter_oid(&iter)->bytes, 12);
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
            if (check_utf8 && (!utf8_ok(pattern, (uint32_t)strlen(pattern)) || !utf8_ok(options, (uint32_t)strlen(options))))
                return -1;
            *acc = mix_bytes(mix_bytes(*acc, pattern, (uint32_t)strlen(pattern)), options, (uint32_t)strlen(options));
            break;
        }
        case BSON_TYPE_DBPOINTER: {
            uint32_t length = 0;
            const char *collection = NULL;
            const bson_oid_t *oid = NULL;
            bson_iter_dbpointer(&iter, &length, &collection, &oid);
            if (check_utf8 && !utf8_ok(collection, length)) return -1;
            *acc = mix_bytes(mix_bytes(*acc, collection, length), oid->bytes, 12);
            break;
        }
        case BSON_TYPE_CODEWSCOPE: {
            uint32_t length = 0, scope_length = 0;
            const uint8_t *scope = NULL;
            const char *code = bson_iter_codewscope(&iter, &length, &scope_length, &scope);
            bson_iter_t child;
            if (check_utf8 && !utf8_ok(code, length)) return -1;
            if (!bson_iter_init_from_data(&child, scope, scope_length)) return -1;
            if (walk(&child, depth + 1, check_utf8, acc) != 0) return -1;
            *acc = mix_bytes(*acc, code, length);
            break;
        }
        case BSON_TYPE_INT32:
            *acc = mix(*acc, (uint32_t)bson_iter_int32(&iter));
            break;
        case BSON_TYPE_TIMESTAMP: {
            uint32_t timestamp = 0, increment = 0;
            bson_iter_timestamp(&iter, &timestamp, &increment);
            *acc = mix(mix(*acc, timestamp), increment);
            break;
        }
        case BSON_TYPE_INT64:
            *acc = mix(*acc, (uint64_t)bson_iter_int64(&iter));
            break;
        case BSON_TYPE_DECIMAL128: {
            bson_decimal128_t value;
            bson_iter_decimal128(&iter, &value);
            *acc = mix(mix(*acc, value.high), value.low);
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
    /* A false bson_iter_next with err_off set means corrupt bytes, not the end. */
    return iter.err_off != 0 ? -1 : 0;
}

/* Appends every element under `source` to `out` with the typed append functions. */
static int rebuild(const bson_iter_t *source, bson_t *out, int depth) {
    bson_iter_t iter = *source;
    if (depth > MAX_DEPTH) return -1;
    while (bson_iter_next(&iter)) {
        const char *key = bson_iter_key(&iter);
        int key_length = (int)bson_iter_key_len(&iter);
        bool ok;
        switch (bson_iter_type(&iter)) {
        case BSON_TYPE_DOUBLE:
            ok = bson_append_double(out, key, key_length, bson_iter_double(&iter));
            break;
        case BSON_TYPE_UTF8: {
            uint32_t length = 0;
            const char *text = bson_iter_utf8(&iter, &length);
            ok = bson_append_utf8(out, key, key_length, text, (int)length);
            break;
        }
        case BSON_TYPE_CODE: {
            uint32_t length = 0;
            ok = bson_append_code(out, key, key_length, bson_iter_code(&iter, &length));
            break;
        }
        case BSON_TYPE_SYMBOL: {
            uint32_t length = 0;
            const char *text = bson_iter_symbol(&iter, &length);
            ok = bson_append_symbol(out, key, key_length, text, (int)length);
            break;
        }
        case BSON_TYPE_DOCUMENT:
        case BSON_TYPE_ARRAY: {
            bson_iter_t child_iter;
            bson_t child;
            int is_array = bson_iter_type(&iter) == BSON_TYPE_ARRAY;
            if (!bson_iter_recurse(&iter, &child_iter)) return -1;
            ok = is_array ? bson_append_array_begin(out, key, key_length, &child)
                          : bson_append_document_begin(out, key, key_length, &child);
            if (!ok || rebuild(&child_iter, &child, depth + 1) != 0) return -1;
            ok = is_array ? bson_append_array_end(out, &child) : bson_append_document_end(out, &child);
            break;
        }
        case BSON_TYPE_BINARY: {
            bson_subtype_t subtype;
            uint32_t length = 0;
            const uint8_t *data = NULL;
            bson_iter_binary(&iter, &subtype, &length, &data);
            ok = bson_append_binary(out, key, key_length, subtype, data, length);
            break;
        }
        case BSON_TYPE_OID:
            ok = bson_append_oid(out, key, key_length, bson_iter_oid(&iter));
            break;
        case BSON_TYPE_BOOL:
            ok = bson_append_bool(out, key, key_length, bson_iter_bool(&iter));
            break;
        case BSON_TYPE_DATE_TIME:
            ok = bson_append_date_time(out, key, key_length, bson_iter_date_time(&iter));
            break;
        case BSON_TYPE_NULL:
            ok = bson_append_null(out, key, key_length);
            break;
        case BSON_TYPE_UNDEFINED:
            ok = bson_append_undefined(out, key, key_length);
            break;
        case BSON_TYPE_REGEX: {
            const char *options = NULL;
            const char *pattern = bson_iter_regex(&iter, &options);
            ok = bson_append_regex(out, key, key_length, pattern, options);
            break;
        }
        case BSON_TYPE_DBPOINTER: {
            uint32_t length = 0;
            const char *collection = NULL;
            const bson_oid_t *oid = NULL;
            bson_iter_dbpointer(&iter, &length, &collection, &oid);
            ok = bson_append_dbpointer(out, key, key_length, collection, oid);
            break;
        }
        case BSON_TYPE_CODEWSCOPE: {
            uint32_t length = 0, scope_length = 0;
            const uint8_t *scope_data = NULL;
            const char *code = bson_iter_codewscope(&iter, &length, &scope_length, &scope_data);
            bson_t scope;
            if (!bson_init_static(&scope, scope_data, scope_length)) return -1;
            ok = bson_append_code_with_scope(out, key, key_length, code, &scope);
            break;
        }
        case BSON_TYPE_INT32:
            ok = bson_append_int32(out, key, key_length, bson_iter_int32(&iter));
            break;
        case BSON_TYPE_TIMESTAMP: {
            uint32_t timestamp = 0, increment = 0;
            bson_iter_timestamp(&iter, &timestamp, &increment);
            ok = bson_append_timestamp(out, key, key_length, timestamp, increment);
            break;
        }
        case BSON_TYPE_INT64:
            ok = bson_append_int64(out, key, key_length, bson_iter_int64(&iter));
            break;
        case BSON_TYPE_DECIMAL128: {
            bson_decimal128_t value;
            bson_iter_decimal128(&iter, &value);
            ok = bson_append_decimal128(out, key, key_length, &value);
            break;
        }
        case BSON_TYPE_MINKEY:
            ok = bson_append_minkey(out, key, key_length);
            break;
        case BSON_TYPE_MAXKEY:
            ok = bson_append_maxkey(out, key, key_length);
            break;
        default:
            return -1;
        }
        if (!ok) return -1;
    }
    return iter.err_off != 0 ? -1 : 0;
}

typedef struct {
    const char *name;
    uint8_t *data;
    size_t length;
} document_t;

enum task { TASK_WALK, TASK_WALK_UTF8, TASK_VALIDATE, TASK_REBUILD };
static const char *const task_names[] = {"walk", "walk-utf8", "validate", "rebuild"};

/* One operation of `task` on `doc`; 0 on success. */
static int run_once(enum task task, const document_t *doc) {
    bson_iter_t iter;
    uint64_t acc = 0;
    if (!bson_iter_init_from_data(&iter, doc->data, doc->length)) return -1;
    switch (task) {
    case TASK_WALK:
    case TASK_WALK_UTF8:
        if (walk(&iter, 0, task == TASK_WALK_UTF8, &acc) != 0) return -1;
        g_sink += acc;
        return 0;
    case TASK_VALIDATE: {
        bson_t view;
        size_t offset = 0;
        if (!bson_init_static(&view, doc->data, doc->length)) return -1;
        return bson_validate(&view, BSON_VALIDATE_UTF8 | BSON_VALIDATE_UTF8_ALLOW_NULL, &offset) ? 0 : -1;
    }
    case TASK_REBUILD: {
        /* The same starting size our Swift encoder asks for. */
        bson_t *out = bson_sized_new(512);
        int status = rebuild(&iter, out, 0);
        g_sink += out->len;
        bson_destroy(out);
        return status;
    }
    }
    return -1;
}

static int64_t now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int read_file(const char *path, document_t *doc) {
    FILE *file = fopen(path, "rb");
    long size;
    if (!file) return -1;
    if (fseek(file, 0, SEEK_END) != 0 || (size = ftell(file)) < 5 || fseek(file, 0, SEEK_SET) != 0) {
        fclose(file);
        return -1;
    }
    doc->data = malloc((size_t)size);
    doc->length = (size_t)size;
    if (!doc->data || fread(doc->data, 1, (size_t)size, file) != (size_t)size) {
        fclose(file);
        return -1;
    }
    fclose(file);
    return 0;
}

/* rebuild must reproduce its input exactly, or its timings mean nothing. */
static int check_rebuild(const document_t *doc) {
    bson_iter_t iter;
    bson_t *out = bson_sized_new(512);
    int same;
    if (!bson_iter_init_from_data(&iter, doc->data, doc->length) || rebuild(&iter, out, 0) != 0) {
        bson_destroy(out);
        return -1;
    }
    same = out->len == doc->length && memcmp(bson_get_data(out), doc->data, doc->length) == 0;
    bson_destroy(out);
    return same ? 0 : -1;
}

/* Times `ops` operations of `task` on `doc` after `warmup` untimed ones, by the wall clock
 * (returned) and by this thread's CPU time (in *cpu_ns); -1 on failure. */
/* The malloc-call counter of malloc_count.c when bench.py preloads it (weak: absent otherwise). */
extern uint64_t bench_malloc_count(void) __attribute__((weak));
static int64_t g_mallocs = -1;

static int64_t measure(enum task task, const document_t *doc, long ops, long warmup, int64_t *cpu_ns) {
    int64_t start, start_cpu;
    uint64_t mallocs_before;
    for (long n = 0; n < warmup; n++) {
        if (run_once(task, doc) != 0) return -1;
    }
    mallocs_before = bench_malloc_count ? bench_malloc_count() : 0;
    start = now_ns(CLOCK_MONOTONIC);
    start_cpu = now_ns(CLOCK_THREAD_CPUTIME_ID);
    for (long n = 0; n < ops; n++) {
        if (run_once(task, doc) != 0) return -1;
    }
    *cpu_ns = now_ns(CLOCK_THREAD_CPUTIME_ID) - start_cpu;
    g_mallocs = bench_malloc_count ? (int64_t)(bench_malloc_count() - mallocs_before) : -1;
    return now_ns(CLOCK_MONOTONIC) - start;
}

/* Answers "TASK/NAME OPS WARMUP" lines until end of input or "quit" (at most a million). */
static int serve(const document_t *docs, const char *const *names) {
    char line[256];
    for (long count = 0; count < 1000000 && fgets(line, sizeof line, stdin); count++) {
        char task_name[32], doc_name[32];
        long ops = 0, warmup = -1;
        int task = -1, doc = -1;
        int64_t ns, cpu_ns = 0;
        if (strncmp(line, "quit", 4) == 0) break;
        if (sscanf(line, "%31[^/]/%31s %ld %ld", task_name, doc_name, &ops, &warmup) == 4 && ops > 0 && warmup >= 0) {
            for (int i = TASK_WALK; i <= TASK_REBUILD; i++) {
                if (strcmp(task_name, task_names[i]) == 0) task = i;
            }
            for (int i = 0; i < 3; i++) {
                if (strcmp(doc_name, names[i]) == 0) doc = i;
            }
        }
        if (task < 0 || doc < 0) {
            printf("{\"error\": \"bad request\"}\n");
        } else if ((ns = measure((enum task)task, &docs[doc], ops, warmup, &cpu_ns)) < 0) {
            printf("{\"error\": \"%s/%s failed on a valid document\"}\n", task_names[task], names[doc]);
        } else {
            printf("{\"side\": \"c\", \"task\": \"%s/%s\", \"ops\": %ld, \"ns\": %" PRId64 ", \"cpu_ns\": %" PRId64
                   ", \"mallocs\": %" PRId64 "}\n",
                   task_names[task], names[doc], ops, ns, cpu_ns, g_mallocs);
        }
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv) {
    static const char *const names[] = {"flat", "deep", "full"};
    document_t docs[3];
    int serving = argc > 2 && strcmp(argv[2], "serve") == 0;
    long ops = argc > 2 && !serving ? atol(argv[2]) : 10000;
    long warmup = argc > 3 ? atol(argv[3]) : 1000;
    if (argc < 2 || ops <= 0 || warmup < 0) {
        fprintf(stderr, "usage: %s DIR [OPS [WARMUP [NAME [TASK]]]]\n", argv[0]);
        return 2;
    }
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.bson", argv[1], names[i]);
        docs[i].name = names[i];
        if (read_file(path, &docs[i]) != 0) {
            fprintf(stderr, "libbson_codec: cannot read %s\n", path);
            return 1;
        }
        if (check_rebuild(&docs[i]) != 0) {
            fprintf(stderr, "libbson_codec: rebuilding %s did not reproduce its bytes\n", path);
            return 1;
        }
    }
    if (serving) {
        int status = serve(docs, names);
        for (int i = 0; i < 3; i++) free(docs[i].data);
        return status + (g_sink == 42 ? 3 : 0);
    }
    for (int i = 0; i < 3; i++) {
        if (argc > 4 && strcmp(argv[4], names[i]) != 0) continue;
        for (int task = TASK_WALK; task <= TASK_REBUILD; task++) {
            int64_t ns, cpu_ns = 0;
            if (argc > 5 && strcmp(argv[5], task_names[task]) != 0) continue;
            if ((ns = measure((enum task)task, &docs[i], ops, warmup, &cpu_ns)) < 0) {
                fprintf(stderr, "libbson_codec: %s/%s failed on a valid document\n", task_names[task], docs[i].name);
                return 1;
            }
            printf("{\"side\": \"c\", \"task\": \"%s/%s\", \"ops\": %ld, \"ns\": %" PRId64 ", \"cpu_ns\": %" PRId64 "}\n",
                   task_names[task], docs[i].name, ops, ns, cpu_ns);
            fflush(stdout);
        }
    }
    for (int i = 0; i < 3; i++) free(docs[i].data);
    return g_sink == 42 ? 3 : 0; /* uses the sink; practically never 42 */
}
