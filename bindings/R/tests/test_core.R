# The package's core: build facts, quiet error handling, registration.
library(latens)

v <- latens_version()
stopifnot(inherits(v, "latens_version"),
          identical(v$version, as.character(packageVersion("latens"))),  # one version
          v$blas %in% c("openblas", "gsl"), is.logical(v$openmp), v$max_threads >= 1L,
          v$sundials >= 6L)
print(v)

# Every .Call routine is registered and dynamic lookup is off (R_useDynamicSymbols FALSE).
dll <- getLoadedDLLs()[["latens"]]
routines <- getDLLRegisteredRoutines(dll)$.Call
stopifnot(length(routines) > 10L, !dll[["dynamicLookup"]],
          all(c("r_latens_version", "r_pc_loglik", "r_gp_fit") %in% names(routines)))

# A library error becomes an R error with the library's reason, and the library's own
# handler prints nothing (R reports the error itself): run it in a child R and read stderr.
rscript <- file.path(R.home("bin"), "Rscript")
out <- suppressWarnings(system2(rscript, c("-e", shQuote(paste(
  "library(latens);",
  "m <- tryCatch(gp_fit(1:5, c(1, 2, Inf, 4, 5)), error = function(e) conditionMessage(e));",
  "cat('MSG:', m, '\\n')"))), stdout = TRUE, stderr = TRUE))
msg <- grep("^MSG:", out, value = TRUE)
stopifnot(length(msg) == 1L, grepl("latens:", msg), !grepl("^MSG: *$", msg))
stopifnot(!any(grepl("^latens: .*\\.c:[0-9]+:", out)))  # no line from the default handler
cat("test_core.R: all passed\n")
