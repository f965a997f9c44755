# Gaussian processes from R, on the Nile series (`nile`) and the Sachs data (`sachs`).
# Oracle throughout: the dense O(n^3) Gaussian computations done in plain R with chol(),
# with the kernels written out in closed form here (not taken from the library).
library(latens)

close <- function(a, b, tol) isTRUE(all(abs(a - b) <= tol * (1 + abs(b))))
expect_error <- function(expr, pattern) {
  msg <- tryCatch({ expr; NULL }, error = function(e) conditionMessage(e))
  if (is.null(msg)) stop("no error; expected one matching '", pattern, "'")
  if (!grepl(pattern, msg)) stop("error '", msg, "' does not match '", pattern, "'")
  invisible(msg)
}
matern12 <- function(d, p) p[["variance"]] * exp(-abs(d) / p[["lengthscale"]])
matern32 <- function(d, p) {
  r <- sqrt(3) * abs(d) / p[["lengthscale"]]
  p[["variance"]] * (1 + r) * exp(-r)
}
dense_ll <- function(K, y, noise) {
  R <- chol(K + diag(noise, length(y)))
  a <- backsolve(R, y, transpose = TRUE)
  -0.5 * sum(a^2) - sum(log(diag(R))) - 0.5 * length(y) * log(2 * pi)
}
# posterior of f at times tq given observations y at t (dense)
dense_post <- function(kern, p, t, y, noise, tq) {
  S <- kern(outer(t, t, "-"), p) + diag(noise, length(t))
  Kq <- kern(outer(tq, t, "-"), p)
  list(mean = drop(Kq %*% solve(S, y)),
       var = kern(0, p) - rowSums(Kq * t(solve(S, t(Kq)))))
}

t <- nile$time
y <- nile$value
yc <- y - mean(y)

# ---- Matern-1/2 (an AR(1) latent plus noise): the fitted log-likelihood is the dense one
f12 <- gp_fit(t, y, kernel = "matern12")
p12 <- f12$params
stopifnot(inherits(f12, "latens_gp"), f12$converged, names(p12) == c("variance", "lengthscale"))
ll_dense <- dense_ll(matern12(outer(t, t, "-"), p12), yc, f12$noise)
stopifnot(close(f12$loglik, ll_dense, 1e-10), close(as.numeric(logLik(f12)), ll_dense, 1e-10),
          attr(logLik(f12), "df") == 3, close(gp_loglik(f12), ll_dense, 1e-10))
# ... and a maximum: moving any parameter by 2% lowers the dense log-likelihood
for (j in 1:3) for (s in c(0.98, 1.02)) {
  q <- c(p12, noise = f12$noise)
  q[j] <- q[j] * s
  stopifnot(dense_ll(matern12(outer(t, t, "-"), q), yc, q[["noise"]]) < f12$loglik)
}
# the kernel itself against its closed form
tau <- c(0, 0.5, 1, 3, 10)
stopifnot(close(gp_kernel_eval("matern12", p12, tau), matern12(tau, p12), 1e-14),
          close(gp_kernel_eval("matern32", c(2, 3), tau),
                matern32(tau, c(variance = 2, lengthscale = 3)), 1e-14))

# ---- Matern-3/2: smoothing mean and variance equal the dense GP posterior
f32 <- gp_fit(t, y, kernel = "matern32")
p32 <- f32$params
stopifnot(close(f32$loglik, dense_ll(matern32(outer(t, t, "-"), p32), yc, f32$noise), 1e-10))
sm <- gp_smooth(f32)
dp <- dense_post(matern32, p32, t, yc, f32$noise, t)
stopifnot(names(sm) == c("time", "y", "mean", "var", "sd"),
          close(sm$mean, dp$mean + mean(y), 1e-9), close(sm$var, dp$var, 1e-8))
# predict at new times: outside the data, between points, duplicated, unsorted
tq <- c(1980, 1870.5, 1920.25, 1920.25, 1900)
pr <- predict(f32, newtimes = tq)
dq <- dense_post(matern32, p32, t, yc, f32$noise, tq)
stopifnot(identical(pr$time, tq), close(pr$mean, dq$mean + mean(y), 1e-9),
          close(pr$var, dq$var, 1e-8), close(pr$sd, sqrt(dq$var), 1e-8))
# unsorted input and missing values: the posterior uses the observed points only
ym <- y
miss <- c(3, 30:36, 77)
ym[miss] <- NA
perm <- rev(seq_along(t))
sm2 <- gp_smooth(t[perm], ym[perm], kernel = "matern32", params = p32, noise = f32$noise)
obs <- !is.na(ym)
lev <- mean(ym, na.rm = TRUE)
dm <- dense_post(matern32, p32, t[obs], ym[obs] - lev, f32$noise, t)
stopifnot(all(sm2$time == t[perm]), identical(sm2$y, as.numeric(ym[perm])),
          close(sm2$mean, (dm$mean + lev)[perm], 1e-9), close(sm2$var, dm$var[perm], 1e-8))

# ---- oracle: the C command line on the same (centred) series, when make check gives it
cli <- Sys.getenv("LATENS")
if (nzchar(cli) && file.exists(cli)) {
  csv <- tempfile(fileext = ".csv")
  writeLines(c("time,value", sprintf("%.17g,%.17g", t, yc)), csv)
  out <- paste(system2(cli, c("gp", "fit", "--data", csv, "--time-col", "time",
                              "--value-col", "value", "--kernel", "matern12", "--json",
                              "--quiet"), stdout = TRUE), collapse = "")
  num <- function(key) as.numeric(sub(sprintf('.*"%s": *([-0-9.eE+]+).*', key), "\\1", out))
  stopifnot(close(f12$loglik, num("loglik"), 1e-12),
            close(p12[["variance"]], num("variance"), 1e-12),
            close(p12[["lengthscale"]], num("lengthscale"), 1e-12),
            close(f12$noise, num("noise"), 1e-12))
  cat("gp: matches the latens CLI\n")
} else {
  cat("gp: LATENS not set, CLI comparison skipped\n")
}

# ---- GPFA (Gaussian): the final objective is the dense log-likelihood of the stacked data
# under the fitted readout, cov = sum_k c_k c_k' (x) K_k + diag(noise) (x) I; the latent
# means are the dense conditional means E[f_k | y].
Y <- as.matrix(scale(log(sachs[1:60, 1:4])))
g <- suppressWarnings(gpfa(Y, latents = 2, kernel = "matern12", lengthscale = 5,
                           likelihood = "gaussian", max_iter = 8))
stopifnot(inherits(g, "latens_gpfa"), dim(g$loadings) == c(4, 2),
          all(diff(g$trace) >= -1e-9 * abs(g$trace[-1])))  # EM never decreases it
tt <- seq_len(nrow(Y))
Kk <- lapply(1:2, function(k) matern12(outer(tt, tt, "-"),
                                       c(variance = 1, lengthscale = g$lengthscales[k])))
S <- kronecker(diag(g$noise), diag(length(tt)))
for (k in 1:2) S <- S + kronecker(tcrossprod(g$loadings[, k]), Kk[[k]])
v <- as.vector(sweep(Y, 2, g$offsets))
stopifnot(close(as.numeric(logLik(g)), dense_ll(S, v, 0), 1e-9))
for (k in 1:2) {
  cross <- kronecker(t(g$loadings[, k]), Kk[[k]])
  stopifnot(close(g$latents[[1]][, k], drop(cross %*% solve(S, v)), 1e-7))
}

# ---- Poisson counts (yearly numbers of great discoveries, datasets::discoveries) by CVI.
# Oracle: the fixed point of the Gaussian variational posterior (Opper & Archambeau 2009),
# dense in R: the mean solves m = K (y - r) and the covariance V = (K^-1 + diag r)^-1, with
# r = E exp(f) = exp(m + v/2) the posterior mean rate.
dt <- as.numeric(time(datasets::discoveries))
dy <- as.numeric(datasets::discoveries)
fp <- gp_fit(dt, dy, kernel = "matern32", likelihood = "poisson", max_iter = 200)
stopifnot(fp$likelihood == "poisson", is.na(fp$loglik), is.finite(fp$elbo),
          close(gp_loglik(fp), fp$elbo, 1e-12))
sp <- gp_smooth(fp)
Kd <- matern32(outer(dt, dt, "-"), fp$params)
rate <- exp(sp$mean + sp$var / 2)
V <- solve(solve(Kd) + diag(rate))
stopifnot(close(sp$rate, rate, 1e-12), close(sp$mean, drop(Kd %*% (dy - rate)), 1e-5),
          close(sp$var, diag(V), 1e-5))
# predictions join the series as missing points: the dense conditional of the same q
pq <- predict(fp, newtimes = c(1859, 1900.5, 1965))
Kq <- matern32(outer(c(1859, 1900.5, 1965), dt, "-"), fp$params)
stopifnot(close(pq$mean, drop(Kq %*% (dy - rate)), 1e-5))
expect_error(logLik(fp), "ELBO")
if (nzchar(cli) && file.exists(cli)) {
  csv <- tempfile(fileext = ".csv")
  writeLines(c("time,value", sprintf("%.17g,%.17g", dt, dy)), csv)
  out <- paste(system2(cli, c("gp", "fit", "--data", csv, "--time-col", "time", "--value-col",
                              "value", "--likelihood", "poisson", "--json", "--quiet"),
                       stdout = TRUE), collapse = "")
  num <- function(key) as.numeric(sub(sprintf('.*"%s": *([-0-9.eE+]+).*', key), "\\1", out))
  stopifnot(close(fp$elbo, num("loglik"), 1e-12),
            close(fp$params[["lengthscale"]], num("lengthscale"), 1e-12))
}

# ---- Poisson GPFA on monthly road-casualty counts (datasets::Seatbelts): the same objective
# as the C command line on the same table (when make check gives it); the ELBO trace is
# finite and the loadings have one row per unit.
Ys <- as.matrix(datasets::Seatbelts[, c("DriversKilled", "front", "rear", "VanKilled")])
gp4 <- suppressWarnings(gpfa(Ys, latents = 2, max_iter = 10))
stopifnot(gp4$likelihood == "poisson", all(is.finite(gp4$trace)),
          identical(rownames(gp4$loadings), colnames(Ys)), is.null(gp4$noise))
expect_error(logLik(gp4), "ELBO")
if (nzchar(cli) && file.exists(cli)) {
  csv <- tempfile(fileext = ".csv")
  write.csv(Ys, csv, row.names = FALSE)
  out <- paste(system2(cli, c("gp", "gpfa", "--data", csv, "--latents", "2", "--iterations",
                              "10", "--json", "--quiet"), stdout = TRUE), collapse = "")
  obj <- as.numeric(sub('.*"objective": *([-0-9.eE+]+).*', "\\1", out))
  stopifnot(close(gp4$trace[length(gp4$trace)], obj, 1e-12))
  # learnt timescales: the same search as the CLI's, to the last bit
  gl <- suppressWarnings(gpfa(Y, latents = 2, likelihood = "gaussian", kernel = "matern12",
                              lengthscale = 5, learn_timescales = TRUE, max_iter = 3))
  csv <- tempfile(fileext = ".csv")  # every digit, so both fit the same numbers
  writeLines(c(paste(colnames(Y), collapse = ","),
               apply(Y, 1, function(r) paste(sprintf("%.17g", r), collapse = ","))), csv)
  out <- paste(system2(cli, c("gp", "gpfa", "--data", csv, "--latents", "2", "--likelihood",
                              "gaussian", "--kernel", "matern12", "--lengthscale", "5",
                              "--learn-timescales", "--iterations", "3", "--json", "--quiet"),
                       stdout = TRUE), collapse = "")
  ls_cli <- as.numeric(strsplit(sub('.*"lengthscales": *\\[([^]]*)\\].*', "\\1", out), ",")[[1]])
  obj <- as.numeric(sub('.*"objective": *([-0-9.eE+]+).*', "\\1", out))
  stopifnot(close(gl$lengthscales, ls_cli, 1e-12), close(gl$trace[length(gl$trace)], obj, 1e-12),
            gl$lengthscales[1] != 5)
}

# ---- errors are R errors carrying the library's reason
expect_error(gp_fit(t, y, kernel = "matern99"), "matern99")
expect_error(gp_fit(t, c(y[-1], Inf)), "finite|Inf")
expect_error(gp_fit(t, y[-1]), "time has 100 values, y has 99")
expect_error(gp_fit(c(NA, t[-1]), y), "time\\[1\\] is NA")
expect_error(gp_smooth(t, y, kernel = "matern12", params = c(1, 2, 3), noise = 1),
             "2 hyperparameters, params has 3")
expect_error(gp_smooth(t, y, kernel = "matern12", params = c(-1, 2), noise = 1), "variance")
expect_error(gpfa(list(Y, Y[, 1:3]), latents = 1, likelihood = "gaussian"), "trial 2 has 3 units")
cat("test_gp.R: all passed\n")
