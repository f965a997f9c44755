# Stochastic differential equations: simulation of built-in, linear and R-function models,
# and the latent Ornstein-Uhlenbeck model's fitting, filtering and smoothing.

.sde_builtin_models <- c("gbm", "ou", "cir", "double-well", "lotka-volterra", "lorenz",
                         "additive", "linear")

# The model spec the C glue reads (list with `kind`).
.sde_spec <- function(model, params, drift, diffusion, noise, noise_dim, x0, calculus) {
  if (!is.null(drift) || !is.null(diffusion)) {
    if (!is.function(drift) || !is.function(diffusion))
      stop("give both drift and diffusion as functions(t, x, theta)")
    if (is.null(x0)) stop("x0 is required with R drift and diffusion functions")
    d <- length(x0)
    if (!is.null(noise_dim) && !noise %in% c("additive", "general"))
      stop("noise_dim goes with noise = \"additive\" or \"general\"")
    m <- if (is.null(noise_dim)) d else noise_dim
    return(list(kind = "r", drift = drift, diffusion = diffusion, d = d, m = m,
                noise = noise, env = environment(), calculus = calculus))
  }
  if (identical(model, "linear")) {
    if (!is.list(params) || is.null(params$A) || is.null(params$G))
      stop("model = \"linear\" needs params = list(A = <d x d>, G = <d x m>, b = <d, optional>)")
    return(list(kind = "linear", A = as.matrix(params$A), G = as.matrix(params$G),
                b = params$b, calculus = calculus))
  }
  list(kind = "builtin", name = model, calculus = calculus)
}

# Parameters in the model's order: a named vector sets those names over the defaults.
.sde_theta <- function(spec, params) {
  if (spec$kind == "linear" || is.null(params)) return(NULL)
  if (spec$kind == "r") return(as.numeric(params))
  if (!is.numeric(params)) stop("params must be a numeric vector")
  def <- .Call(r_sde_model_info, spec)$params
  if (is.null(names(params))) {
    if (length(params) > length(def))
      stop(sprintf("model '%s' takes %d parameters (%s), got %d", spec$name, length(def),
                   paste(names(def), collapse = ", "), length(params)))
    def[seq_along(params)] <- params
  } else {
    bad <- setdiff(names(params), names(def))
    if (length(bad))
      stop(sprintf("model '%s' has no parameter %s (it has %s)", spec$name,
                   paste(sQuote(bad), collapse = ", "), paste(names(def), collapse = ", ")))
    def[names(params)] <- params
  }
  unname(def)
}

sde_simulate <- function(model = "gbm", params = NULL, x0 = NULL, t1 = 1, dt = 1e-3,
                         paths = 1L, scheme = c("em", "milstein", "sri", "sra", "heun",
                                                "implicit-em"),
                         adaptive = FALSE, tol = 1e-3, seed = 1, times = NULL,
                         summary = FALSE, brownian = FALSE, drift = NULL, diffusion = NULL,
                         noise = c("diagonal", "scalar", "additive", "general"),
                         noise_dim = NULL, calculus = c("ito", "stratonovich"),
                         probs = c(0.05, 0.5, 0.95)) {
  scheme <- match.arg(scheme)
  noise <- match.arg(noise)
  calculus <- match.arg(calculus)
  user <- !is.null(drift) || !is.null(diffusion)
  if (!user) model <- match.arg(model, .sde_builtin_models)
  if (adaptive && !scheme %in% c("sri", "sra")) stop("adaptive = TRUE needs scheme \"sri\" or \"sra\"")
  if (brownian && summary) stop("brownian = TRUE returns paths: not with summary = TRUE")
  if (is.null(times)) {
    if (!is.numeric(t1) || length(t1) != 1 || !(t1 > 0)) stop("t1 must be one positive number")
    if (!is.numeric(dt) || length(dt) != 1 || !(dt > 0)) stop("dt must be one positive number")
    n <- ceiling(t1 / dt * (1 - 1e-12))
    if (n > 1e7) stop("the output grid t = 0, dt, ..., t1 would have more than 1e7 times; give times")
    times <- c(seq(0, by = dt, length.out = n), t1)
  }
  times <- as.numeric(times)
  if (!length(times) || anyNA(times) || any(!is.finite(times)) || is.unsorted(times, strictly = TRUE))
    stop("times must be finite and strictly increasing")
  if (!is.numeric(probs) || anyNA(probs) || any(probs < 0 | probs > 1))
    stop("probs must be probabilities in [0, 1]")
  spec <- .sde_spec(model, params, drift, diffusion, noise, noise_dim, x0, calculus)
  theta <- .sde_theta(spec, params)
  if (!is.null(x0)) x0 <- as.numeric(x0)
  # The glue reads an R function's error from geterrmessage(); this marker tells an
  # interrupt (which leaves no message) from an error.
  if (spec$kind == "r") try(stop("latens: no R error", call. = FALSE), silent = TRUE)
  ctrl <- list(scheme = scheme, dt = as.numeric(dt), adaptive = isTRUE(adaptive),
               tol = as.numeric(tol))
  r <- .Call(r_sde_simulate, spec, theta, x0, times, as.integer(paths), ctrl, seed,
             isTRUE(summary), isTRUE(brownian), as.numeric(probs))
  d <- r$d; nt <- length(times)
  state <- paste0("x", seq_len(d))
  out <- list(model = r$name, params = r$params, scheme = scheme, adaptive = isTRUE(adaptive),
              t = times, paths = as.integer(paths), seed = seed, steps = r$steps,
              rejected = r$rejected)
  if (summary) {
    df <- data.frame(t = times)
    qn <- sprintf("q%02d", round(100 * probs))
    for (i in seq_len(d)) {
      df[[paste0("mean_", state[i])]] <- r$mean[i, ]
      df[[paste0("var_", state[i])]] <- r$var[i, ]
      for (j in seq_along(probs)) df[[paste0(qn[j], "_", state[i])]] <- r$quantiles[i + (j - 1) * d, ]
    }
    out$summary <- df
  } else {
    # Library layout: x_i(t_k) of path p at row i + k d, column p.
    x <- aperm(array(r$x, c(d, nt, paths)), c(2, 1, 3))
    dimnames(x) <- list(NULL, state, NULL)
    out$x <- x
    if (brownian) {
      W <- aperm(array(r$W, c(r$m, nt, paths)), c(2, 1, 3))
      dimnames(W) <- list(NULL, paste0("W", seq_len(r$m)), NULL)
      out$W <- W
    }
  }
  class(out) <- "latens_sde_paths"
  out
}

print.latens_sde_paths <- function(x, ...) {
  kind <- if (is.null(x$summary)) "paths" else "summary"
  cat(sprintf("latens SDE %s: model %s, scheme %s%s, %d path%s, %d output times on [%g, %g]\n",
              kind, x$model, x$scheme, if (x$adaptive) " (adaptive)" else "", x$paths,
              if (x$paths == 1) "" else "s", length(x$t), x$t[1], x$t[length(x$t)]))
  if (length(x$params))
    cat("params:", paste(sprintf("%s = %g", names(x$params), x$params), collapse = ", "), "\n")
  cat(sprintf("steps %.0f, rejected %.0f\n", x$steps, x$rejected))
  if (!is.null(x$summary)) print(utils::head(x$summary, 6L), ...)
  invisible(x)
}

summary.latens_sde_paths <- function(object, ...) {
  if (!is.null(object$summary)) return(object$summary)
  x <- object$x
  nt <- dim(x)[1]
  df <- data.frame(t = object$t)
  for (i in seq_len(dim(x)[2])) {
    xi <- matrix(x[, i, ], nt)
    nm <- dimnames(x)[[2]][i]
    df[[paste0("mean_", nm)]] <- rowMeans(xi)
    df[[paste0("var_", nm)]] <- if (ncol(xi) > 1) apply(xi, 1, stats::var) else 0
  }
  df
}

# Long format: one row per path and time (path, t, x1, ..., [W1, ...]), as the CLI writes.
as.data.frame.latens_sde_paths <- function(x, row.names = NULL, optional = FALSE, ...) {
  if (!is.null(x$summary)) return(x$summary)
  a <- x$x
  nt <- dim(a)[1]; np <- dim(a)[3]
  df <- data.frame(path = rep(seq_len(np), each = nt), t = rep(x$t, np))
  for (i in seq_len(dim(a)[2])) df[[dimnames(a)[[2]][i]]] <- as.vector(a[, i, ])
  if (!is.null(x$W))
    for (q in seq_len(dim(x$W)[2])) df[[dimnames(x$W)[[2]][q]]] <- as.vector(x$W[, q, ])
  df
}

# ---------------------------------------------------------------- latent OU inference

.ou_names <- c("kappa", "mu", "sigma", "r")

# (time, value) from a data frame (columns time and value, or the first two), a ts, or a
# numeric vector (times 1..n).
.sde_series <- function(data, column = NULL) {
  if (stats::is.ts(data)) {
    time <- as.numeric(stats::time(data)); value <- as.numeric(data)
  } else if (is.data.frame(data) || is.matrix(data)) {
    data <- as.data.frame(data)
    if (ncol(data) < 2) stop("data needs a time column and a value column")
    tc <- if ("time" %in% names(data)) "time" else 1L
    vc <- if (!is.null(column)) column else if ("value" %in% names(data)) "value" else 2L
    time <- data[[tc]]; value <- data[[vc]]
    if (is.null(value)) stop(sprintf("data has no column %s", sQuote(column)))
  } else if (is.numeric(data)) {
    time <- seq_along(data); value <- data
  } else {
    stop("data must be a data frame (time, value), a ts or a numeric vector")
  }
  if (!is.numeric(time) || !is.numeric(value)) stop("time and value must be numeric")
  time <- as.numeric(time); value <- as.numeric(value)
  if (length(time) < 3) stop(sprintf("need at least 3 observations, got %d", length(time)))
  if (anyNA(time) || any(!is.finite(time))) stop(sprintf("time %d is missing or not finite", which(!is.finite(time))[1]))
  if (is.unsorted(time)) {
    k <- which(diff(time) < 0)[1] + 1
    stop(sprintf("time must not decrease: time[%d] = %g is before time[%d] = %g", k, time[k], k - 1, time[k - 1]))
  }
  bad <- which(is.infinite(value))
  if (length(bad)) stop(sprintf("value[%d] is infinite", bad[1]))
  if (sum(!is.na(value)) < 2) stop("need at least 2 observed values")
  list(time = time, value = value)
}

.ou_params <- function(params) {
  if (is.null(params)) return(NULL)
  p <- as.numeric(params)
  if (!is.null(names(params))) {
    if (!setequal(names(params), .ou_names))
      stop("params must name kappa, mu, sigma and r")
    p <- as.numeric(params[.ou_names])
  }
  if (length(p) != 4 || any(!is.finite(p)) || any(p[-2] <= 0))
    stop("params must be kappa > 0, mu, sigma > 0, r > 0")
  p
}

sde_fit <- function(data, model = "ou", method = c("mle", "pf", "sde-matching"),
                    params = NULL, particles = 500L, nsub = 3L, seed = 1, max_iter = 5000L,
                    column = NULL) {
  method <- match.arg(method)
  if (!identical(model, "ou")) stop("sde_fit fits the latent Ornstein-Uhlenbeck model only (model = \"ou\")")
  s <- .sde_series(data, column)
  r <- .Call(r_sde_ou_fit, s$time, s$value, method, .ou_params(params), as.integer(particles),
             as.integer(nsub), seed, as.integer(max_iter))
  r$method <- method
  r$model <- "ou"
  r$nobs <- sum(!is.na(s$value))
  r$data <- data.frame(time = s$time, value = s$value)
  class(r) <- "latens_sde_fit"
  r
}

print.latens_sde_fit <- function(x, ...) {
  cat(sprintf("latent OU fit (method %s): dz = kappa (mu - z) dt + sigma dW, x = z + N(0, r)\n",
              x$method))
  tab <- cbind(estimate = x$params, se = x$se)
  print(tab, ...)
  cat(sprintf("log-likelihood %.6g (%d observations), %d iterations%s\n", x$loglik, x$nobs,
              x$iterations, if (x$converged) "" else " (not converged)"))
  invisible(x)
}

summary.latens_sde_fit <- function(object, ...) {
  tab <- cbind(Estimate = object$params, `Std. Error` = object$se)
  structure(list(coefficients = tab, loglik = object$loglik, objective = object$objective,
                 method = object$method, nobs = object$nobs, iterations = object$iterations,
                 converged = object$converged, AIC = -2 * object$loglik + 8),
            class = "summary.latens_sde_fit")
}

print.summary.latens_sde_fit <- function(x, ...) {
  cat(sprintf("latent OU model, method %s, %d observations\n", x$method, x$nobs))
  print(x$coefficients, ...)
  cat(sprintf("log-likelihood %.6g, AIC %.6g, method objective %.6g, %d iterations%s\n",
              x$loglik, x$AIC, x$objective, x$iterations,
              if (x$converged) "" else " (not converged)"))
  invisible(x)
}

logLik.latens_sde_fit <- function(object, ...)
  structure(object$loglik, df = 4L, nobs = object$nobs, class = "logLik")

coef.latens_sde_fit <- function(object, ...) object$params

# Filtered or smoothed moments of the latent z; params NULL: the Kalman MLE.
.sde_states <- function(data, params, method, smooth, particles, seed, column, nsub = 3L) {
  if (inherits(params, "latens_sde_fit")) params <- params$params
  s <- .sde_series(data, column)
  if (is.null(params)) params <- sde_fit(data.frame(time = s$time, value = s$value))$params
  p <- .ou_params(params)
  r <- .Call(r_sde_ou_states, s$time, s$value, p, method, smooth, as.integer(particles), seed,
             as.integer(nsub))
  out <- data.frame(time = s$time, value = s$value, mean = r$mean, sd = r$sd)
  attr(out, "loglik") <- r$loglik
  attr(out, "params") <- stats::setNames(p, .ou_names)
  out
}

sde_filter <- function(data, params = NULL, method = c("kalman", "pf"), particles = 1000L,
                       seed = 1, column = NULL)
  .sde_states(data, params, match.arg(method), FALSE, particles, seed, column)

sde_smooth <- function(data, params = NULL, method = c("kalman", "pf", "sde-matching"),
                       particles = 1000L, seed = 1, column = NULL, nsub = 3L)
  .sde_states(data, params, match.arg(method), TRUE, particles, seed, column, nsub)
