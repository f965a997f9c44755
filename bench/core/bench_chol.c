/* bench/core/bench_chol.c: placeholder, being written. */
int main(void) { return 0; }
