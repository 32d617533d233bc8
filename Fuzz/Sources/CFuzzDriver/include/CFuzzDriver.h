#ifndef CFUZZDRIVER_H
#define CFUZZDRIVER_H

#include <stddef.h>
#include <stdint.h>

// Runs libFuzzer's driver (command-line parsing, corpus, mutation loop) with `test_one_input`
// as the target. SwiftPM gives every executable its own entry point, so libFuzzer's `main`
// is not used; each fuzz target's `main` calls this instead.
int fuzz_run_driver(int argc, char **argv, int (*test_one_input)(const uint8_t *data, size_t size));

#endif
