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
                         probs = c(0.05, 0.5, 0.95), rng = c("philox", "fast")) {
  scheme <- match.arg(scheme)
  rng <- match.arg(rng)
  noise <- match.arg(noise)
  calculus <- match.arg(calculus)
  user <- !is.null(drift) || !is.null(diffusion)
  if (!user) model <- match.arg(model, .sde_builtin_models)
  if (adaptive && !scheme %in% c("sri", "sra")) stop("adaptive = TRUE needs scheme \"sri\" or \"sra\"")
  if (adaptive && rng == "fast") stop("adaptive = TRUE needs rng = \"philox\"")
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
               tol = as.numeric(tol), rng = rng)
  r <- .Call(r_sde_simulate, spec, theta, x0, times, as.integer(paths), ctrl, seed,
             isTRUE(summary), isTRUE(brownian), as.numeric(probs))
  d <- r$d; nt <- length(times)
  state <- paste0("x", seq_len(d))
  out <- list(model = r$name, params = r$params, scheme = scheme, rng = rng,
              adaptive = isTRUE(adaptive),
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
                    column = NULL, obs = NULL, readout = NULL, z0 = NULL, t0 = NULL,
                    dt = NULL, scheme = NULL, filter = NULL, fit_params = NULL,
                    nsamples = NULL) {
  method <- match.arg(method)
  eng <- list(obs = obs, readout = readout, z0 = z0, t0 = t0, dt = dt, scheme = scheme,
              filter = filter, fit_params = fit_params, nsamples = nsamples)
  if (.sde_ssm_wanted(model, eng))
    return(.sde_ssm_fit(data, model, method, params, particles, nsub, seed, max_iter, column,
                        eng))
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
                 objective_se = object$objective_se,
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

sde_filter <- function(data, params = NULL, method = c("kalman", "pf", "ekf", "ukf"),
                       particles = 1000L, seed = 1, column = NULL, model = "ou", obs = NULL,
                       readout = NULL, z0 = NULL, t0 = NULL, dt = NULL, scheme = NULL) {
  method <- if (missing(method)) NULL else match.arg(method)
  eng <- list(obs = obs, readout = readout, z0 = z0, t0 = t0, dt = dt, scheme = scheme)
  if (.sde_ssm_wanted(model, eng) || isTRUE(method %in% c("ekf", "ukf")))
    return(.sde_ssm_states(data, model, params, method, "filter", particles, seed, column, eng))
  .sde_states(data, params, if (is.null(method)) "kalman" else method, FALSE, particles, seed,
              column)
}

sde_smooth <- function(data, params = NULL, method = c("kalman", "pf", "sde-matching", "ekf", "ukf"),
                       particles = 1000L, seed = 1, column = NULL, nsub = 3L, model = "ou",
                       obs = NULL, readout = NULL, z0 = NULL, t0 = NULL, dt = NULL,
                       scheme = NULL, nsamples = NULL) {
  method <- if (missing(method)) NULL else match.arg(method)
  eng <- list(obs = obs, readout = readout, z0 = z0, t0 = t0, dt = dt, scheme = scheme,
              nsub = nsub, nsamples = nsamples)
  if (.sde_ssm_wanted(model, eng[names(eng) != "nsub"]) || isTRUE(method %in% c("ekf", "ukf")))
    return(.sde_ssm_states(data, model, params, method, "smooth", particles, seed, column, eng))
  .sde_states(data, params, if (is.null(method)) "kalman" else method, TRUE, particles, seed,
              column, nsub)
}

# ---------------------------------------------------------------- any model (latens_sde_ssm)
# The engine of `latens sde filter|smooth|fit --model NAME`: any built-in (or linear) model
# behind a linear readout, with the CLI's defaults, so that the same inputs give the same
# numbers.  model = "ou" alone keeps the latent-OU interface above (kappa, mu, sigma, r);
# with any engine option (obs, readout, z0, ...; or method ekf / ukf) it is the built-in ou
# (theta, mu, sigma) with r, as on the command line.

.sde_ssm_wanted <- function(model, eng)
  !identical(model, "ou") || any(!vapply(eng, is.null, TRUE))

# Time and a T x p matrix of values: time is the column "time" (else the first), the values
# `column` (names or numbers) or the next p columns ("value" when p = 1 and present).
.sde_obs <- function(data, column, p) {
  if (stats::is.ts(data)) {
    time <- as.numeric(stats::time(data)); X <- matrix(as.numeric(data), ncol = NCOL(data))
  } else if (is.data.frame(data) || is.matrix(data)) {
    data <- as.data.frame(data)
    tc <- if ("time" %in% names(data)) match("time", names(data)) else 1L
    vc <- if (!is.null(column)) column
          else if (p == 1 && "value" %in% names(data)) "value"
          else setdiff(seq_len(ncol(data)), tc)[seq_len(p)]
    if (length(vc) != p || anyNA(vc))
      stop(sprintf("the readout has %d row(s): need %d value column(s) besides the time", p, p))
    miss <- if (is.character(vc)) setdiff(vc, names(data)) else vc[vc > ncol(data)]
    if (length(miss)) stop(sprintf("data has no column %s", sQuote(miss[1])))
    time <- data[[tc]]
    X <- do.call(cbind, lapply(vc, function(j) data[[j]]))
    if (!is.numeric(X)) stop("value columns must be numeric")
  } else if (is.numeric(data)) {
    time <- seq_along(data); X <- matrix(as.numeric(data), ncol = 1)
  } else {
    stop("data must be a data frame (time, values), a matrix, a ts or a numeric vector")
  }
  if (!is.numeric(time)) stop("time must be numeric")
  time <- as.numeric(time); storage.mode(X) <- "double"
  if (ncol(X) != p) stop(sprintf("%d value column(s) for a readout of %d row(s)", ncol(X), p))
  if (length(time) < 2) stop(sprintf("need at least 2 observation times, got %d", length(time)))
  if (anyNA(time) || any(!is.finite(time)))
    stop(sprintf("time %d is missing or not finite", which(!is.finite(time))[1]))
  if (is.unsorted(time)) {
    k <- which(diff(time) < 0)[1] + 1
    stop(sprintf("time must not decrease: time[%d] = %g is before time[%d] = %g", k, time[k], k - 1, time[k - 1]))
  }
  bad <- which(is.infinite(X))
  if (length(bad)) stop(sprintf("value[%d] is infinite", bad[1]))
  list(time = time, X = X)
}

# Everything the C glue reads, with the CLI's defaults.
.sde_ssm_setup <- function(data, model, params, task, method, particles, seed, column, eng,
                           max_iter = 5000L) {
  spec <- .sde_spec(model, params, NULL, NULL, "diagonal", NULL, NULL, "ito")
  lin <- spec$kind == "linear"
  rpar <- if (lin) params$r else NULL
  if (!lin && !is.null(params) && !is.numeric(params)) stop("params must be a numeric vector")
  info <- .Call(r_sde_model_info, spec)
  def <- info$params
  rname <- if ("r" %in% names(def)) "r_obs" else "r"
  theta <- NULL
  if (!lin && !is.null(params)) {
    pn <- names(params)
    if (is.null(pn)) {
      if (length(params) > length(def) + 1)
        stop(sprintf("model '%s' takes %d parameters and %s, got %d", info$name, length(def),
                     rname, length(params)))
      pn <- c(names(def), rname)[seq_along(params)]
    }
    bad <- setdiff(pn, c(names(def), rname))
    if (length(bad))
      stop(sprintf("model '%s' has no parameter %s (it has %s)", info$name,
                   paste(sQuote(bad), collapse = ", "), paste(c(names(def), rname), collapse = ", ")))
    params <- stats::setNames(as.numeric(params), pn)
    def[intersect(pn, names(def))] <- params[intersect(pn, names(def))]
    if (rname %in% pn) rpar <- params[[rname]]
    theta <- unname(def)
  }
  d <- info$d
  obs <- if (is.null(eng$obs)) "gaussian" else match.arg(eng$obs, c("gaussian", "poisson"))
  C <- if (is.null(eng$readout)) matrix(c(1, rep(0, d - 1)), 1) else eng$readout
  if (is.null(dim(C))) C <- matrix(C, 1)
  C <- matrix(as.numeric(C), nrow(C))
  if (ncol(C) != d || any(!is.finite(C)))
    stop(sprintf("readout must be a finite matrix with %d column(s) (the state dimension)", d))
  s <- .sde_obs(data, column, nrow(C))
  if (obs == "poisson" && any(!is.na(s$X) & (s$X < 0 | s$X != floor(s$X))))
    stop("obs = \"poisson\" needs counts (non-negative whole numbers)")
  if (is.null(rpar)) {
    v <- stats::var(as.vector(s$X), na.rm = TRUE)
    rpar <- if (sum(!is.na(s$X)) > 1 && is.finite(v) && v > 0) 0.1 * v else 1
  }
  if (!is.numeric(rpar) || length(rpar) != 1 || !(rpar > 0) || !is.finite(rpar))
    stop(sprintf("%s must be one finite number > 0", rname))
  x0 <- info$x0
  stationary <- is.null(eng$z0) && identical(info$name, "ou") && !lin
  z0 <- eng$z0
  if (is.null(z0)) {
    m0 <- x0; sd0 <- pmax(1, abs(x0))
  } else {
    z0 <- as.numeric(z0)
    if (!length(z0) %in% c(2, 2 * d) || any(!is.finite(z0)))
      stop(sprintf("z0 must be mean, sd (for all) or %d pairs of finite numbers", d))
    m0 <- if (length(z0) == 2) rep(z0[1], d) else z0[c(TRUE, FALSE)]
    sd0 <- if (length(z0) == 2) rep(z0[2], d) else z0[c(FALSE, TRUE)]
    if (any(!(sd0 > 0))) stop("z0: standard deviations must be > 0")
  }
  P0 <- diag(sd0^2, d)
  if (stationary && identical(method, "sde-matching")) { # matching takes the prior as given
    th <- if (is.null(theta)) unname(def) else theta
    stationary <- FALSE
    m0 <- th[2]; P0 <- matrix(if (th[1] > 0) th[3]^2 / (2 * th[1]) else 1, 1)
  }
  t0 <- if (is.null(eng$t0)) s$time[1] else as.numeric(eng$t0)
  if (length(t0) != 1 || !is.finite(t0) || t0 > s$time[1])
    stop(sprintf("t0 must be one number <= the first observation time %g", s$time[1]))
  fitf <- NULL
  if (task == "fit") {
    allp <- c(names(def), rname)
    fp <- eng$fit_params
    if (is.null(fp)) fp <- if (obs == "gaussian") allp else names(def)
    bad <- setdiff(fp, allp)
    if (length(bad)) stop(sprintf("fit_params: model '%s' has no parameter %s", info$name,
                                  paste(sQuote(bad), collapse = ", ")))
    if (obs == "poisson" && rname %in% fp) stop(sprintf("fit_params: %s is not a parameter of obs = \"poisson\"", rname))
    if (!length(fp)) stop("fit_params: nothing to estimate")
    fitf <- as.integer(allp %in% fp)
  }
  num1 <- function(v, def) if (is.null(v)) def else v
  ctrl <- list(obs = obs, C = C, d = d, p = nrow(C), m0 = as.numeric(m0),
               P0 = as.numeric(P0), stationary = stationary, r = as.numeric(rpar), t0 = t0,
               dt = as.numeric(num1(eng$dt, 1e-3)), scheme = num1(eng$scheme, "em"),
               particles = as.integer(particles), nsamples = as.integer(num1(eng$nsamples, 16L)),
               nsub = as.integer(num1(eng$nsub, 3L)), max_iter = as.integer(max_iter),
               seed = seed, method = method, fit = fitf, filter = num1(eng$filter, "ekf"))
  list(spec = spec, theta = theta, s = s, ctrl = ctrl, info = info, rname = rname,
       pnames = c(names(def), rname), linear = lin || identical(info$name, "ou"))
}

.sde_ssm_states <- function(data, model, params, method, task, particles, seed, column, eng) {
  if (inherits(params, "latens_sde_ssm_fit")) params <- params$params
  probe <- .sde_ssm_setup(data, model, params, task, "kalman", particles, seed, column, eng)
  if (is.null(method))
    method <- if (probe$ctrl$obs == "poisson") "pf" else if (probe$linear) "kalman" else "ekf"
  z <- if (identical(method, "sde-matching")) .sde_ssm_setup(data, model, params, task, method,
                                                            particles, seed, column, eng)
       else probe
  z$ctrl$method <- method
  r <- .Call(r_sde_ssm, z$spec, z$theta, z$s$time, t(z$s$X), z$ctrl, task)
  d <- nrow(r$mean); p <- ncol(z$s$X)
  out <- data.frame(time = z$s$time)
  for (q in seq_len(p)) out[[if (p == 1) "value" else paste0("value", q)]] <- z$s$X[, q]
  for (i in seq_len(d)) {
    out[[if (d == 1) "mean" else paste0("mean", i)]] <- r$mean[i, ]
    out[[if (d == 1) "sd" else paste0("sd", i)]] <- r$sd[i, ]
  }
  th <- if (is.null(z$theta)) unname(z$info$params) else z$theta
  attr(out, "loglik") <- r$loglik
  attr(out, "params") <- stats::setNames(c(th, z$ctrl$r), z$pnames)
  attr(out, "method") <- method
  attr(out, "model") <- z$info$name
  if (identical(method, "sde-matching")) {
    attr(out, "iterations") <- r$iterations
    attr(out, "loglik_se") <- r$objective_se
  }
  out
}

.sde_ssm_fit <- function(data, model, method, params, particles, nsub, seed, max_iter, column,
                         eng) {
  eng$nsub <- nsub
  z <- .sde_ssm_setup(data, model, params, "fit", method, particles, seed, column, eng, max_iter)
  r <- .Call(r_sde_ssm, z$spec, z$theta, z$s$time, t(z$s$X), z$ctrl, "fit")
  np <- length(z$pnames)
  lik <- if (method == "pf") "pf" else if (z$linear && z$ctrl$obs == "gaussian") "kalman"
         else if (method == "sde-matching") "ekf" else z$ctrl$filter
  out <- list(params = stats::setNames(r$se[np + seq_len(np)], z$pnames),
              se = stats::setNames(r$se[seq_len(np)], z$pnames), loglik = r$loglik,
              objective = r$objective, objective_se = r$objective_se,
              iterations = r$iterations, converged = r$converged, method = method,
              likelihood = lik, model = z$info$name,
              fitted = z$pnames[z$ctrl$fit == 1L], obs = z$ctrl$obs,
              nobs = sum(!is.na(z$s$X)), data = data.frame(time = z$s$time, z$s$X))
  class(out) <- "latens_sde_ssm_fit"
  out
}

print.latens_sde_ssm_fit <- function(x, ...) {
  cat(sprintf("latent SDE fit: model %s, %s observations, method %s (%s likelihood)\n",
              x$model, x$obs, x$method, x$likelihood))
  tab <- cbind(estimate = x$params, se = x$se)
  print(tab, ...)
  cat(sprintf("log-likelihood %.6g (%d observed values), objective %.6g, %d iterations%s\n",
              x$loglik, x$nobs, x$objective, x$iterations,
              if (x$converged) "" else " (not converged)"))
  invisible(x)
}

logLik.latens_sde_ssm_fit <- function(object, ...)
  structure(object$loglik, df = length(object$fitted), nobs = object$nobs, class = "logLik")

coef.latens_sde_ssm_fit <- function(object, ...) object$params
