# Rebuilds data/*.rda from the project's bundled CSV files (data/README.md gives their
# provenance).  Run from bindings/R:  Rscript data-raw/make_data.R ../../data
args <- commandArgs(trailingOnly = TRUE)
src <- if (length(args)) args[1L] else "../../data"

sachs <- read.csv(file.path(src, "sachs.csv"), check.names = FALSE)
sachs_consensus <- read.csv(file.path(src, "sachs_consensus.csv"), stringsAsFactors = FALSE)
nile <- read.csv(file.path(src, "nile.csv"))
read_bin <- function(f) {
  m <- as.matrix(read.csv(file.path(src, f), header = FALSE))
  storage.mode(m) <- "integer"
  dimnames(m) <- list(NULL, sprintf("x%02d", seq_len(ncol(m))))
  m
}
nltcs <- list(train = read_bin("nltcs.train.data"), valid = read_bin("nltcs.valid.data"),
              test = read_bin("nltcs.test.data"))

dir.create("data", showWarnings = FALSE)
save(sachs, file = "data/sachs.rda", compress = "xz")
save(sachs_consensus, file = "data/sachs_consensus.rda", compress = "xz")
save(nile, file = "data/nile.rda", compress = "xz")
save(nltcs, file = "data/nltcs.rda", compress = "xz")
