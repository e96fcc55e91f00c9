// One copy of a function per instruction set, picked when the program loads (GCC's
// target_clones): plain loops over contiguous floats that the compiler vectorises for
// AVX-512 where the CPU has it, AVX2, or the x86-64 baseline. Other compilers get one copy.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ANIMERUN_CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ANIMERUN_CPU_CLONES
#endif
