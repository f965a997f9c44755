# Probabilistic circuits.  A "latens_pc" object is a list holding the C circuit behind an
# external pointer (`ptr`) and a few facts copied out of it, so printing needs no C call.

# Binary data as a double matrix, naming the first cell that is not 0, 1 or NA.
pc_binary_matrix <- function(x, what) {
  m <- pc_matrix(x, what)
  bad <- which(!is.na(m) & m != 0 & m != 1, arr.ind = TRUE)
  if (length(bad)) {
    i <- bad[1L, 1L]; j <- bad[1L, 2L]
    stop(sprintf("latens: %s[%d, %d] is %s, not 0, 1 or NA (binary data)", what, i, j,
                 format(m[i, j])), call. = FALSE)
  }
  m
}

# A data frame or matrix as a double matrix (factors and logicals become their codes 0..k-1
# and 0/1, which is what the circuit's categories are).
pc_matrix <- function(x, what) {
  if (is.data.frame(x))
    x <- vapply(x, function(col) {
      if (is.factor(col)) as.integer(col) - 1 else as.numeric(col)
    }, numeric(nrow(x)))
  if (is.null(dim(x))) x <- matrix(x, nrow = 1L)
  if (!is.numeric(x) && !is.logical(x))
    stop(sprintf("latens: %s must be a numeric matrix or data frame", what), call. = FALSE)
  storage.mode(x) <- "double"
  x
}

new_latens_pc <- function(ptr, kind, varnames, call = NULL) {
  info <- .Call(r_pc_info, ptr)
  structure(c(list(ptr = ptr, structure = kind, varnames = varnames, call = call), info),
            class = "latens_pc")
}

pc_learn <- function(train, valid = NULL, structure = c("hclt", "cltree", "rat", "pic"),
                     latents = NULL, components = NULL, epochs = 100, batch = NULL,
                     seed = 1, lvd = NULL) {
  structure <- match.arg(structure)
  tr <- pc_binary_matrix(train, "train")
  va <- if (is.null(valid)) NULL else pc_binary_matrix(valid, "valid")
  if (is.null(latents)) latents <- if (structure == "pic") 64 else 16
  if (is.null(components)) components <- if (structure == "rat") 8 else 1
  if (is.null(batch)) batch <- if (structure == "pic") 256 else 1024
  if (!is.null(lvd) && !is.character(lvd)) lvd <- pc_matrix(lvd, "lvd")
  ptr <- .Call(r_pc_learn, tr, va, structure, latents, components, epochs, batch, seed, lvd)
  m <- new_latens_pc(ptr, structure, colnames(tr), match.call())
  ll <- .Call(r_pc_loglik, ptr, tr)
  m$train_loglik <- mean(ll)
  m$n_train <- nrow(tr)
  m$valid_loglik <- if (is.null(va)) NA_real_ else mean(.Call(r_pc_loglik, ptr, va))
  m$n_valid <- if (is.null(va)) 0L else nrow(va)
  m
}

pc_read <- function(file) {
  new_latens_pc(.Call(r_pc_read, path.expand(file)), "file", NULL, match.call())
}

pc_write <- function(model, file) {
  pc_check(model)
  .Call(r_pc_write, model$ptr, path.expand(file))
  invisible(file)
}

pc_check <- function(model) {
  if (!inherits(model, "latens_pc"))
    stop("latens: model must be a latens_pc object (from pc_learn or pc_read)", call. = FALSE)
}

# Query data as a double matrix whose entries the circuit accepts, naming the first bad cell
# in R's 1-based terms (the library would name it 0-based).
pc_query_matrix <- function(model, x, what) {
  x <- pc_matrix(x, what)
  if (ncol(x) != model$nvars)
    stop(sprintf("latens: %s has %d columns, the circuit has %d variables", what, ncol(x),
                 model$nvars), call. = FALSE)
  k <- rep(model$ncat, each = nrow(x))
  obs <- !is.na(x)
  bad <- which(obs & (!is.finite(x) | (k > 0 & (x != round(x) | x < 0 | x >= k))))
  if (length(bad)) {
    i <- (bad[1L] - 1L) %% nrow(x) + 1L
    j <- (bad[1L] - 1L) %/% nrow(x) + 1L
    stop(sprintf("latens: %s[%d, %d] = %s is not a value of variable %d (%s) or NA", what, i, j,
                 format(x[i, j]), j,
                 if (model$ncat[j] > 0) sprintf("categories 0..%d", model$ncat[j] - 1L)
                 else "finite"), call. = FALSE)
  }
  x
}

pc_loglik <- function(model, data) {
  pc_check(model)
  .Call(r_pc_loglik, model$ptr, pc_query_matrix(model, data, "data"))
}

pc_conditional <- function(model, data, query) {
  pc_check(model)
  x <- pc_query_matrix(model, data, "data")
  if (is.character(query)) {
    idx <- match(query, colnames(x))
    if (anyNA(idx))
      stop(sprintf("latens: query column '%s' is not in data", query[is.na(idx)][1L]),
           call. = FALSE)
    query <- idx
  }
  .Call(r_pc_conditional, model$ptr, x, as.integer(query))
}

pc_map <- function(model, evidence) {
  pc_check(model)
  x <- pc_query_matrix(model, evidence, "evidence")
  r <- .Call(r_pc_map, model$ptr, x)
  dimnames(r$map) <- dimnames(x)
  r$exact <- model$deterministic
  r
}

pc_sample <- function(model, n = 1, seed = 1, evidence = NULL) {
  pc_check(model)
  if (is.null(evidence)) {
    x <- matrix(NA_real_, nrow = n, ncol = model$nvars)
    colnames(x) <- model$varnames
  } else {
    x <- pc_query_matrix(model, evidence, "evidence")
  }
  s <- .Call(r_pc_sample, model$ptr, x, seed)
  dimnames(s) <- dimnames(x)
  s
}

pc_params <- function(model) {
  pc_check(model)
  .Call(r_pc_params, model$ptr)
}

print.latens_pc <- function(x, ...) {
  cat(sprintf("latens probabilistic circuit (%s): %d variables, %.0f units, %.0f edges, %.0f parameters%s\n",
              x$structure, x$nvars, x$units, x$edges, x$params,
              if (x$deterministic) ", deterministic" else ""))
  if (!is.null(x$train_loglik))
    cat(sprintf("train mean log-likelihood %.4f (%d rows)\n", x$train_loglik, x$n_train))
  if (!is.null(x$valid_loglik) && !is.na(x$valid_loglik))
    cat(sprintf("valid mean log-likelihood %.4f (%d rows)\n", x$valid_loglik, x$n_valid))
  invisible(x)
}

summary.latens_pc <- function(object, ...) {
  s <- object[c("structure", "nvars", "units", "edges", "params", "deterministic")]
  s$ncat <- table(object$ncat, dnn = "categories")
  if (!is.null(object$train_loglik)) {
    s$train_loglik <- object$train_loglik
    s$valid_loglik <- object$valid_loglik
    s$bits_per_dim <- -object$train_loglik / (object$nvars * log(2))
  }
  class(s) <- "summary.latens_pc"
  s
}

print.summary.latens_pc <- function(x, ...) {
  cat(sprintf("Probabilistic circuit (%s)\n", x$structure))
  cat(sprintf("  variables %d, units %.0f, edges %.0f, parameters %.0f\n", x$nvars, x$units,
              x$edges, x$params))
  cat(sprintf("  deterministic: %s (MAP is %s)\n", if (x$deterministic) "yes" else "no",
              if (x$deterministic) "exact" else "the max-product approximation"))
  if (!is.null(x$train_loglik)) {
    cat(sprintf("  train mean log-likelihood %.4f (%.4f bits per variable)\n",
                x$train_loglik, x$bits_per_dim))
    if (!is.na(x$valid_loglik))
      cat(sprintf("  valid mean log-likelihood %.4f\n", x$valid_loglik))
  }
  invisible(x)
}

# The log-likelihood of `newdata` (default: the training data, when known), with the
# number of parameters as its degrees of freedom.
logLik.latens_pc <- function(object, newdata = NULL, ...) {
  if (is.null(newdata)) {
    if (is.null(object$train_loglik))
      stop("latens: this circuit was read from a file: give newdata", call. = FALSE)
    val <- object$train_loglik * object$n_train
    n <- object$n_train
  } else {
    ll <- pc_loglik(object, newdata)
    val <- sum(ll)
    n <- length(ll)
  }
  structure(val, df = object$params, nobs = n, class = "logLik")
}
