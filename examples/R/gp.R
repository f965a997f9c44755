# examples/R/gp.R: smooth the Nile's annual flow with a Gaussian process.
# A Matern-3/2 GP around the mean flow (1871-1970, shipped with the package) is fitted by
# maximum likelihood in linear time (Kalman filtering) and the smoothed flow printed.  The
# example checks itself against the textbook dense GP: the log marginal likelihood and the
# posterior mean from a Cholesky factorisation of the 100 x 100 covariance matrix.
library(latens)
data(nile)

fit <- gp_fit(nile$time, nile$value, kernel = "matern32")
print(fit)
sm <- gp_smooth(fit)
print(sm[seq(1, 100, by = 14), ], row.names = FALSE, digits = 5)

# Dense reference: K(i, j) = k(t_i - t_j), y - level ~ N(0, K + noise I).
K <- matrix(gp_kernel_eval(fit$kernel, fit$params, outer(nile$time, nile$time, "-")), 100)
y <- nile$value - fit$level
L <- chol(K + diag(fit$noise, 100))              # upper triangular, t(L) %*% L
alpha <- backsolve(L, forwardsolve(t(L), y))
dense_mean <- drop(K %*% alpha) + fit$level
dense_ll <- -0.5 * sum(y * alpha) - sum(log(diag(L))) - 50 * log(2 * pi)
cat(sprintf("check: dense log-likelihood %.9f (state space %.9f), max |mean difference| %.1e\n",
            dense_ll, logLik(fit), max(abs(sm$mean - dense_mean))))
# Both are exact inference: they differ by rounding only (~1e-12 relative).
stopifnot(abs(dense_ll - as.numeric(logLik(fit))) < 1e-9 * abs(dense_ll),
          max(abs(sm$mean - dense_mean)) < 1e-9 * fit$level)
