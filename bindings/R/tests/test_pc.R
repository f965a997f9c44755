# Probabilistic circuits from R, on the NLTCS benchmark data shipped as `nltcs`.
library(latens)

close <- function(a, b, tol) isTRUE(all(abs(a - b) <= tol * (1 + abs(b))))
expect_error <- function(expr, pattern) {
  msg <- tryCatch({ expr; NULL }, error = function(e) conditionMessage(e))
  if (is.null(msg)) stop("no error; expected one matching '", pattern, "'")
  if (!grepl(pattern, msg)) stop("error '", msg, "' does not match '", pattern, "'")
  invisible(msg)
}

# ---- a hand-written circuit: 0.25 * B(x1; .3) B(x2; .8) + 0.75 * B(x1; .9) B(x2; .4).
# Oracle: the mixture evaluated by hand in R.
tiny <- tempfile(fileext = ".pc")
writeLines(c("# latens-pc 1", "vars 2", "ncat 2 2", "units 7",
             "B 0 0.7 0.3", "B 1 0.2 0.8", "P 2 0 1",
             "B 0 0.1 0.9", "B 1 0.6 0.4", "P 2 3 4",
             "S 2 2 0.25 5 0.75", "root 6", "end"), tiny)
tm <- pc_read(tiny)
stopifnot(inherits(tm, "latens_pc"), tm$nvars == 2L, tm$units == 7, !tm$deterministic)
states <- as.matrix(expand.grid(x1 = 0:1, x2 = 0:1))
bern <- function(p1, x) ifelse(x == 1, p1, 1 - p1)
p_hand <- 0.25 * bern(.3, states[, 1]) * bern(.8, states[, 2]) +
          0.75 * bern(.9, states[, 1]) * bern(.4, states[, 2])
stopifnot(close(pc_loglik(tm, states), log(p_hand), 1e-14))
# NA marginalises: p(x1 = 1) = .25 * .3 + .75 * .9
stopifnot(close(pc_loglik(tm, c(1, NA)), log(0.25 * 0.3 + 0.75 * 0.9), 1e-14))
stopifnot(close(pc_loglik(tm, c(NA, NA)), 0, 1e-14))
# conditional log p(x2 = 1 | x1 = 1) from the hand-computed joint
stopifnot(close(pc_conditional(tm, c(1, 1), query = 2),
                log(p_hand[4] / (p_hand[2] + p_hand[4])), 1e-13))
# sampling: frequencies of 20000 draws against the hand probabilities (chi-square, 3 df;
# the seed is fixed, so this is deterministic; the 0.1% critical value is 16.27)
s <- pc_sample(tm, n = 20000, seed = 7)
code <- s[, 1] + 2 * s[, 2] + 1
obs <- tabulate(code, 4)
chi2 <- sum((obs - 20000 * p_hand)^2 / (20000 * p_hand))
stopifnot(all(s %in% 0:1), chi2 < 16.27)
# conditional sampling keeps the evidence and draws x2 from p(x2 | x1 = 0)
ev <- matrix(c(0, NA), 4000, 2, byrow = TRUE)
sc <- pc_sample(tm, seed = 3, evidence = ev)
p21 <- p_hand[3] / (p_hand[1] + p_hand[3])
stopifnot(all(sc[, 1] == 0), abs(mean(sc[, 2]) - p21) < 4 * sqrt(p21 * (1 - p21) / 4000))
# sampling is reproducible from its seed
stopifnot(identical(pc_sample(tm, 50, seed = 11), pc_sample(tm, 50, seed = 11)))

# ---- a Chow-Liu tree on the real data: deterministic, so MAP is exact.
clt <- pc_learn(nltcs$train, structure = "cltree")
stopifnot(clt$deterministic, clt$nvars == 16L)
# brute force over all 2^16 states: the distribution sums to one
all_states <- as.matrix(expand.grid(rep(list(0:1), 16)))
ll_all <- pc_loglik(clt, all_states)
stopifnot(close(sum(exp(ll_all)), 1, 1e-10))
# marginal with NA = the sum over the completions (brute force over 2^4 completions)
x <- nltcs$test[1:20, ]
xm <- x
xm[, c(2, 5, 9, 14)] <- NA
key <- function(m) apply(m, 1, paste, collapse = "")
lookup <- setNames(ll_all, key(all_states))
brute <- sapply(seq_len(nrow(xm)), function(i) {
  comp <- matrix(xm[i, ], 16, 16, byrow = TRUE)
  comp[, c(2, 5, 9, 14)] <- as.matrix(expand.grid(rep(list(0:1), 4)))
  log(sum(exp(lookup[key(comp)])))
})
stopifnot(close(pc_loglik(clt, xm), brute, 1e-10))
# MAP completion equals the arg-max over the completions, its value the max
mp <- pc_map(clt, xm)
stopifnot(mp$exact, all(mp$map[!is.na(xm)] == xm[!is.na(xm)]))
best <- sapply(seq_len(nrow(xm)), function(i) {
  comp <- matrix(xm[i, ], 16, 16, byrow = TRUE)
  comp[, c(2, 5, 9, 14)] <- as.matrix(expand.grid(rep(list(0:1), 4)))
  max(lookup[key(comp)])
})
stopifnot(close(mp$logp, best, 1e-10), close(pc_loglik(clt, mp$map), best, 1e-10))
# MAP and sampling fill a copy: the caller's (double) matrix keeps its NAs
xd <- xm + 0
before <- xd
invisible(pc_map(clt, xd))
invisible(pc_sample(clt, seed = 1, evidence = xd))
stopifnot(identical(xd, before))
# conditional = brute-force ratio of marginals
q <- c(2, 5)
xc <- x
xc[, c(9, 14)] <- NA
num <- pc_loglik(clt, xc)
xe <- xc
xe[, q] <- NA
stopifnot(close(pc_conditional(clt, xc, q), num - pc_loglik(clt, xe), 1e-10))
stopifnot(close(pc_conditional(clt, xc, colnames(xc)[q]), num - pc_loglik(clt, xe), 1e-10))
# a data frame works as well as a matrix
stopifnot(identical(pc_loglik(clt, as.data.frame(x)), pc_loglik(clt, x)))

# ---- file round trip is bit-exact
f <- tempfile(fileext = ".pc")
pc_write(clt, f)
clt2 <- pc_read(f)
stopifnot(identical(pc_params(clt), pc_params(clt2)),
          identical(pc_loglik(clt, x), pc_loglik(clt2, x)))

# ---- HCLT learning: a short run; the summary's log-likelihoods are those of the data
train <- nltcs$train[1:3000, ]
valid <- nltcs$valid[1:500, ]
h <- pc_learn(train, valid, structure = "hclt", latents = 4, components = 1, epochs = 2,
              batch = 500, seed = 5)
stopifnot(close(h$train_loglik, mean(pc_loglik(h, train)), 1e-12),
          close(h$valid_loglik, mean(pc_loglik(h, valid)), 1e-12),
          close(as.numeric(logLik(h)), sum(pc_loglik(h, train)), 1e-12),
          attr(logLik(h), "df") == h$params)
# the circuit is normalised: all 2^16 states sum to one
stopifnot(close(sum(exp(pc_loglik(h, all_states))), 1, 1e-10))
# the same seed gives the same circuit
h2 <- pc_learn(train, valid, structure = "hclt", latents = 4, epochs = 2, batch = 500, seed = 5)
stopifnot(identical(pc_params(h), pc_params(h2)))

# ---- oracle: the C command line on the same model file and data, when make check gives it
cli <- Sys.getenv("LATENS")
if (nzchar(cli) && file.exists(cli)) {
  dfile <- tempfile(fileext = ".csv")
  write.table(nltcs$test, dfile, sep = ",", row.names = FALSE, col.names = FALSE)
  hf <- tempfile(fileext = ".pc")
  pc_write(h, hf)
  out <- system2(cli, c("pc", "loglik", "--model", hf, "--data", dfile, "--json", "--quiet"),
                 stdout = TRUE)
  cli_mean <- as.numeric(sub('.*"mean_loglik": *([-0-9.eE+]+).*', "\\1", paste(out, collapse = "")))
  stopifnot(close(mean(pc_loglik(h, nltcs$test)), cli_mean, 1e-12))
  # learning from R and from the CLI with the same seed gives the same circuit
  tfile <- tempfile(fileext = ".csv")
  vfile <- tempfile(fileext = ".csv")
  write.table(train, tfile, sep = ",", row.names = FALSE, col.names = FALSE)
  write.table(valid, vfile, sep = ",", row.names = FALSE, col.names = FALSE)
  cf <- tempfile(fileext = ".pc")
  system2(cli, c("pc", "learn", "--train", tfile, "--valid", vfile, "--structure", "hclt",
                 "--latents", "4", "--epochs", "2", "--batch", "500", "--seed", "5",
                 "--quiet", "-o", cf), stdout = FALSE)
  stopifnot(identical(pc_params(pc_read(cf)), pc_params(h)))
  # latent variable distillation: the built-in k-means teacher, and an external teacher's
  # hard assignments (here z_j = x_j) passed in memory from R and as a CSV file to the CLI
  hk <- pc_learn(train, structure = "hclt", latents = 2, epochs = 1, batch = 500, seed = 9,
                 lvd = "kmeans")
  system2(cli, c("pc", "learn", "--train", tfile, "--structure", "hclt", "--latents", "2",
                 "--epochs", "1", "--batch", "500", "--seed", "9", "--lvd", "kmeans",
                 "--quiet", "-o", cf), stdout = FALSE)
  stopifnot(identical(pc_params(pc_read(cf)), pc_params(hk)))
  zfile <- tempfile(fileext = ".csv")
  write.table(train, zfile, sep = ",", row.names = FALSE, col.names = FALSE)
  hz <- pc_learn(train, structure = "hclt", latents = 2, epochs = 1, batch = 500, seed = 9,
                 lvd = train)
  system2(cli, c("pc", "learn", "--train", tfile, "--structure", "hclt", "--latents", "2",
                 "--epochs", "1", "--batch", "500", "--seed", "9", "--lvd", zfile,
                 "--quiet", "-o", cf), stdout = FALSE)
  stopifnot(identical(pc_params(pc_read(cf)), pc_params(hz)))
  cat("pc: matches the latens CLI\n")
} else {
  cat("pc: LATENS not set, CLI comparison skipped\n")
}

# ---- errors are R errors carrying the reason; the session survives
expect_error(pc_learn(matrix(c(0, 1, 2, 0), 2)), "train\\[1, 2\\] is 2")
expect_error(pc_loglik(clt, matrix(0, 1, 3)), "3 columns, the circuit has 16")
expect_error(pc_loglik(clt, matrix(2, 1, 16)), "data\\[1, 1\\] = 2")
expect_error(pc_conditional(clt, x, query = 17), "query column 17")
expect_error(pc_learn(train, structure = "hclt", latents = 2, epochs = 1, lvd = train[, 1:3]),
             "lvd has 3 columns: expected 16 \\(states\\) or 32")
expect_error(pc_learn(train, structure = "cltree", lvd = "kmeans"), "lvd applies to")
bad <- tempfile(fileext = ".pc")
writeLines(c("# latens-pc 1", "vars 2", "ncat 2 2", "units 1", "Q 0 1", "root 0", "end"), bad)
expect_error(pc_read(bad), "pc:5: unit 0: expected a type letter")  # the library's message, file:line
expect_error(pc_read(file.path(tempdir(), "no-such.pc")), "no-such.pc")
# a circuit restored from save()/load() has lost its C object: a clear error, no crash
rf <- tempfile(fileext = ".rds")
saveRDS(clt, rf)
expect_error(pc_loglik(readRDS(rf), x), "empty latens_pc handle")
expect_error(pc_loglik(list(), x), "latens_pc object")
rm(clt, clt2, h, h2)
invisible(gc()) # finalisers run here; a double free would crash
cat("test_pc.R: all passed\n")
