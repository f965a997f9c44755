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
# Ctrl-C during a long C computation: the progress bridge notices the interrupt (under
# R_ToplevelExec, never longjmping through the library), the library stops and cleans up,
# and the call ends in an R error; the session goes on.  A child R learns a large circuit;
# this process sends it SIGINT once the learning has started.
pidfile <- tempfile()
outfile <- tempfile()
child <- tempfile(fileext = ".R")
writeLines(c(
  "library(latens)",
  sprintf("cat(Sys.getpid(), file = '%s')", pidfile),
  "r <- tryCatch(pc_learn(nltcs$train, structure = 'hclt', latents = 32, epochs = 1000,",
  "                       batch = 256), error = function(e) conditionMessage(e),",
  "              interrupt = function(e) 'interrupted in R code')",
  "cat('RESULT:', r, '\\n')",
  "m <- pc_learn(nltcs$train[1:100, ], structure = 'cltree')",
  "cat('ALIVE', m$nvars, '\\n')"), child)
system2(file.path(R.home("bin"), "R"), c("--vanilla", "--no-echo", "-f", child),
        stdout = outfile, stderr = outfile, wait = FALSE)
waited <- 0
while (!file.exists(pidfile) && waited < 60) { Sys.sleep(0.2); waited <- waited + 0.2 }
stopifnot(file.exists(pidfile))
Sys.sleep(2)  # well inside the EM epochs
pid <- as.integer(readLines(pidfile, warn = FALSE))
tools::pskill(pid, tools::SIGINT)
waited <- 0
while (!any(grepl("^ALIVE", readLines(outfile, warn = FALSE))) && waited < 60) {
  Sys.sleep(0.2); waited <- waited + 0.2
}
out <- readLines(outfile, warn = FALSE)
if (!any(grepl("^ALIVE 16", out))) tools::pskill(pid, tools::SIGKILL)
cat(out, sep = "\n")
stopifnot(any(grepl("^RESULT: latens: interrupted by the user", out)), any(grepl("^ALIVE 16", out)))

cat("test_core.R: all passed\n")
