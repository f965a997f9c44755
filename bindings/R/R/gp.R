# One-dimensional Gaussian processes in linear time (state-space Matern kernels) and GPFA.
# A fitted "latens_gp" is plain R data (kernel spec, hyperparameters, noise, the series), so
# it survives save()/load(); each call rebuilds the C kernel from it.

# The series sorted by time (stably, as the CLI does); `order` maps back to the input.
gp_series <- function(time, y) {
  time <- as.numeric(time)
  y <- as.numeric(y)
  if (length(time) != length(y))
    stop(sprintf("latens: time has %d values, y has %d", length(time), length(y)), call. = FALSE)
  if (anyNA(time) || any(!is.finite(time)))
    stop(sprintf("latens: time[%d] is %s (times must be finite)",
                 which(!is.finite(time))[1L], format(time[!is.finite(time)][1L])), call. = FALSE)
  o <- order(time)
  list(t = time[o], y = y[o], order = o)
}

gp_fit <- function(time, y, kernel = "matern32", params = NULL, noise = NULL,
                   fit_noise = TRUE, whittle = FALSE, center = TRUE, max_iter = 300,
                   likelihood = c("gaussian", "poisson", "bernoulli")) {
  likelihood <- match.arg(likelihood)
  s <- gp_series(time, y)
  if (likelihood == "gaussian") {
    level <- if (center) mean(s$y, na.rm = TRUE) else 0
    r <- .Call(r_gp_fit, s$t, s$y - level, kernel, params, noise, fit_noise, whittle, max_iter)
  } else { # CVI's ELBO by Nelder-Mead, from the CLI's data-scaled start
    level <- 0
    if (is.null(params)) params <- gp_cvi_start(kernel, s$t)
    r <- .Call(r_gp_cvi_fit, s$t, s$y, kernel, params, likelihood, max_iter)
    fit_noise <- FALSE
  }
  if (!r$converged)
    warning(sprintf("latens: gp_fit stopped after %d iterations without meeting its tolerance",
                    r$iterations), call. = FALSE)
  structure(list(kernel = kernel, likelihood = likelihood, params = r$params,
                 noise = r$noise, loglik = if (likelihood == "gaussian") r$loglik else NA_real_,
                 elbo = if (likelihood == "gaussian") NA_real_ else r$loglik,
                 level = level, iterations = r$iterations, converged = r$converged,
                 fit_noise = fit_noise, time = as.numeric(time), y = as.numeric(y),
                 nobs = sum(!is.na(y)), call = match.call()),
            class = "latens_gp")
}

# Unit variance on the latent (log-rate or logit) scale, lengthscales a twentieth of the
# span (spread over the terms of a sum), Hida frequencies four cycles over the span: the
# start `latens gp fit --likelihood poisson|bernoulli` uses.
gp_cvi_start <- function(kernel, t) {
  p <- .Call(r_gp_kernel_defaults, kernel)
  span <- if (length(t)) t[length(t)] - t[1L] else 1
  if (!(span > 0)) span <- 1
  nm <- names(p)
  term <- suppressWarnings(as.integer(sub("^[a-z]+", "", nm)))
  term[is.na(term)] <- 1L
  p[startsWith(nm, "variance")] <- 1
  p[startsWith(nm, "lengthscale")] <- span / 20 * term[startsWith(nm, "lengthscale")]
  p[startsWith(nm, "frequency")] <- 2 * pi * 4 / span
  p
}

gp_check <- function(object) {
  if (!inherits(object, "latens_gp"))
    stop("latens: expected a latens_gp object (from gp_fit)", call. = FALSE)
}

# The posterior of f + level, at newtimes (NULL: the data's times, in the data's order).
gp_posterior <- function(object, newtimes = NULL) {
  gp_check(object)
  s <- gp_series(object$time, object$y)
  q <- if (is.null(newtimes)) NULL else as.numeric(newtimes)
  if (!is.null(q) && any(!is.finite(q)))
    stop("latens: newtimes must be finite", call. = FALSE)
  gauss <- is.null(object$likelihood) || object$likelihood == "gaussian"
  p <- if (gauss)
    .Call(r_gp_posterior, s$t, s$y - object$level, object$kernel, object$params,
          object$noise, q)
  else
    .Call(r_gp_cvi_posterior, s$t, s$y, object$kernel, object$params, object$likelihood, q)
  if (is.null(q)) { # back to the input order
    inv <- order(s$order)
    p$mean <- p$mean[inv]
    p$var <- p$var[inv]
    if (!gauss) p$rate <- p$rate[inv]
  }
  out <- data.frame(time = if (is.null(q)) object$time else q, mean = p$mean + object$level,
                    var = p$var, sd = sqrt(p$var))
  if (!gauss) out$rate <- p$rate # E[exp(f)] (Poisson) or E[sigmoid(f)] (Bernoulli)
  out
}

gp_smooth <- function(x, y = NULL, kernel = "matern32", params = NULL, noise = NULL,
                      center = TRUE, likelihood = c("gaussian", "poisson", "bernoulli")) {
  likelihood <- match.arg(likelihood)
  if (inherits(x, "latens_gp")) {
    fit <- x
  } else if (likelihood != "gaussian" && !is.null(params)) {
    fit <- structure(list(kernel = kernel, likelihood = likelihood, params = params,
                          noise = NA_real_, level = 0, time = as.numeric(x),
                          y = as.numeric(y)), class = "latens_gp")
  } else if (is.null(params) || (likelihood == "gaussian" && is.null(noise))) {
    fit <- gp_fit(x, y, kernel = kernel, params = params, noise = noise, center = center,
                  likelihood = likelihood)
  } else {
    s <- gp_series(x, y)
    fit <- structure(list(kernel = kernel, params = params, noise = noise,
                          level = if (center) mean(s$y, na.rm = TRUE) else 0,
                          time = as.numeric(x), y = as.numeric(y)), class = "latens_gp")
  }
  out <- gp_posterior(fit)
  out$y <- fit$y
  out[c("time", "y", setdiff(names(out), c("time", "y")))]
}

predict.latens_gp <- function(object, newtimes = NULL, ...) {
  gp_posterior(object, newtimes)
}

gp_loglik <- function(object, time = object$time, y = object$y) {
  gp_check(object)
  s <- gp_series(time, y)
  if (!is.null(object$likelihood) && object$likelihood != "gaussian")
    return(.Call(r_gp_cvi_posterior, s$t, s$y, object$kernel, object$params,
                 object$likelihood, NULL)$elbo)
  .Call(r_gp_loglik, s$t, s$y - object$level, object$kernel, object$params, object$noise)
}

gp_kernel_eval <- function(kernel, params = NULL, tau) {
  .Call(r_gp_kernel_eval, kernel, params, as.numeric(tau))
}

logLik.latens_gp <- function(object, ...) {
  if (!is.null(object$likelihood) && object$likelihood != "gaussian")
    stop(sprintf("latens: a %s GP has an ELBO (object$elbo), not a log-likelihood",
                 object$likelihood), call. = FALSE)
  structure(object$loglik, df = length(object$params) + as.integer(isTRUE(object$fit_noise)),
            nobs = object$nobs, class = "logLik")
}

print.latens_gp <- function(x, ...) {
  gauss <- is.null(x$likelihood) || x$likelihood == "gaussian"
  cat(sprintf("latens GP (kernel %s, %s likelihood), %d observations%s\n", x$kernel,
              if (gauss) "gaussian" else x$likelihood, x$nobs,
              if (gauss) sprintf(", level %g", x$level) else ""))
  print(signif(if (gauss) c(x$params, noise = x$noise) else x$params, 6))
  cat(sprintf("%s %.4f%s\n", if (gauss) "log marginal likelihood" else "ELBO",
              if (gauss) x$loglik else x$elbo,
              if (isTRUE(x$converged)) "" else " (not converged)"))
  invisible(x)
}

# ---------------------------------------------------------------- GPFA

gpfa <- function(data, times = NULL, latents = 2, kernel = "matern32", lengthscale = NULL,
                 likelihood = c("poisson", "gaussian"), learn_timescales = FALSE,
                 max_iter = 30) {
  likelihood <- match.arg(likelihood)
  trials <- if (is.list(data) && !is.data.frame(data)) data else list(data)
  trials <- lapply(seq_along(trials), function(r) {
    m <- trials[[r]]
    if (is.data.frame(m)) m <- as.matrix(m)
    if (!is.numeric(m) && !is.logical(m))
      stop(sprintf("latens: trial %d must be a numeric matrix", r), call. = FALSE)
    if (is.null(dim(m))) m <- matrix(m, ncol = 1L)
    storage.mode(m) <- "double"
    m
  })
  # default times 0, 1, ...: the row index, as `latens gp gpfa` numbers rows
  if (is.null(times)) times <- lapply(trials, function(m) as.numeric(seq_len(nrow(m)) - 1L))
  if (!is.list(times)) times <- list(times)
  times <- lapply(times, as.numeric)
  if (length(times) != length(trials))
    stop(sprintf("latens: %d trials but %d time vectors", length(trials), length(times)),
         call. = FALSE)
  if (is.null(lengthscale)) { # the CLI's default: 10 x the median positive step
    st <- unlist(lapply(times, function(t) diff(t)))
    st <- st[st > 0]
    lengthscale <- if (length(st)) 10 * stats::median(st) else 10
  }
  r <- .Call(r_gp_gpfa, trials, times, latents, kernel, lengthscale, likelihood,
             learn_timescales, max_iter)
  units <- colnames(trials[[1L]])
  if (!is.null(units)) rownames(r$loadings) <- names(r$offsets) <- units
  if (likelihood == "poisson") r$noise <- NULL
  r$iterations <- length(r$trace)
  r$likelihood <- likelihood
  r$kernel <- kernel
  r$times <- times
  r$nobs <- sum(vapply(trials, function(m) sum(!is.na(m)), numeric(1)))
  r$call <- match.call()
  if (!r$converged)
    warning(sprintf("latens: gpfa stopped after %d iterations without meeting its tolerance",
                    r$iterations), call. = FALSE)
  class(r) <- "latens_gpfa"
  r
}

logLik.latens_gpfa <- function(object, ...) {
  if (object$likelihood != "gaussian")
    stop("latens: a Poisson GPFA has an ELBO (object$trace), not a log-likelihood",
         call. = FALSE)
  K <- ncol(object$loadings)
  N <- nrow(object$loadings)
  structure(object$trace[length(object$trace)], df = N * K + 2 * N, nobs = object$nobs,
            class = "logLik")
}

print.latens_gpfa <- function(x, ...) {
  cat(sprintf("latens GPFA: %d latents, %d units, %d trials, %s likelihood, kernel %s\n",
              ncol(x$loadings), nrow(x$loadings), length(x$latents), x$likelihood, x$kernel))
  cat(sprintf("lengthscales %s\n", paste(signif(x$lengthscales, 4), collapse = " ")))
  cat(sprintf("%s %.4f after %d iterations%s\n",
              if (x$likelihood == "gaussian") "log-likelihood" else "ELBO",
              x$trace[length(x$trace)], x$iterations,
              if (x$converged) "" else " (not converged)"))
  invisible(x)
}
