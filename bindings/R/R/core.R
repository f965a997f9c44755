# Build facts of the linked C library.
latens_version <- function() {
  v <- .Call(r_latens_version)
  class(v) <- "latens_version"
  v
}


print.latens_version <- function(x, ...) {
  cat(sprintf("latens %s (BLAS: %s, %s; OpenMP: %s, %d threads; SUNDIALS %d)\n",
              x$version, x$blas, x$blas_runtime, if (x$openmp) "yes" else "no",
              x$max_threads, x$sundials))
  invisible(x)
}
