/* bench/core/bench_table.c: placeholder, being written. */
int main(void) { return 0; }
