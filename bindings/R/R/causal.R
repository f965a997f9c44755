# Causal discovery: PC-stable, FCI, GES, LiNGAM, the cumulant method and NOTEARS, returning
# "latens_graph" objects; graph comparison and equivalence classes.

# Endpoint marks (latens' codes) and their text at the left / right end of an edge.
.marks <- c(none = 0L, tail = 1L, arrow = 2L, circle = 3L)
.left_txt <- c("", "-", "<", "o")
.right_txt <- c("", "-", ">", "o")

# Numeric matrix and names from a data frame or matrix; wrong types are R errors here.
.causal_matrix <- function(data, discrete) {
  if (is.data.frame(data)) {
    ok <- vapply(data, function(v) is.numeric(v) || is.logical(v) || (discrete && is.factor(v)),
                 logical(1))
    if (!all(ok))
      stop(sprintf("column %s is of type '%s', not numeric%s", sQuote(names(data)[!ok][1]),
                   class(data[[which(!ok)[1]]])[1], if (discrete) " or a factor" else ""))
    data[] <- lapply(data, function(v) if (is.factor(v)) as.integer(v) else as.numeric(v))
    nm <- names(data)
    x <- as.matrix(data)
  } else if (is.matrix(data) && (is.numeric(data) || is.logical(data))) {
    x <- data
    nm <- colnames(data)
  } else {
    stop("data must be a data frame or a numeric matrix")
  }
  storage.mode(x) <- "double"
  if (is.null(nm)) nm <- paste0("X", seq_len(ncol(x)))
  if (ncol(x) < 2) stop("data needs at least 2 columns")
  if (anyDuplicated(nm)) stop(sprintf("column name %s is repeated", sQuote(nm[anyDuplicated(nm)])))
  bad <- which(is.na(x), arr.ind = TRUE)
  if (nrow(bad))
    stop(sprintf("data[%d, %d] (column %s) is missing (NA/NaN); latens needs complete data",
                 bad[1, 1], bad[1, 2], sQuote(nm[bad[1, 2]])))
  dimnames(x) <- NULL
  list(x = x, names = nm)
}

# Indices of variable names or numbers, checked.
.var_index <- function(v, names, what) {
  if (is.numeric(v)) {
    if (any(v < 1 | v > length(names) | v != round(v))) stop(sprintf("%s: no variable %s", what, v[1]))
    return(as.integer(v))
  }
  i <- match(as.character(v), names)
  if (anyNA(i)) stop(sprintf("%s: no variable %s", what, sQuote(as.character(v)[is.na(i)][1])))
  i
}

# list(forbid = <from, to pairs>, require = <pairs>, tiers = list(c(...), c(...)) or a
# vector of tiers per variable) -> 1-based index matrices and a tier vector.
.causal_knowledge <- function(k, names) {
  if (is.null(k)) return(NULL)
  if (!is.list(k)) stop("knowledge must be a list(forbid =, require =, tiers =)")
  bad <- setdiff(names(k), c("forbid", "require", "tiers"))
  if (length(bad)) stop(sprintf("knowledge: unknown entry %s", sQuote(bad[1])))
  pairs <- function(e, what) {
    if (is.null(e)) return(NULL)
    e <- as.data.frame(e, stringsAsFactors = FALSE)
    if (ncol(e) != 2) stop(sprintf("knowledge$%s must have two columns (from, to)", what))
    cbind(.var_index(e[[1]], names, paste0("knowledge$", what)),
          .var_index(e[[2]], names, paste0("knowledge$", what)))
  }
  tier <- NULL
  if (!is.null(k$tiers)) {
    tier <- integer(length(names))
    if (is.list(k$tiers)) {
      for (t in seq_along(k$tiers)) tier[.var_index(k$tiers[[t]], names, "knowledge$tiers")] <- t - 1L
    } else {
      if (length(k$tiers) != length(names)) stop("knowledge$tiers: one tier per variable, or a list")
      tier <- as.integer(k$tiers)
      if (anyNA(tier) || any(tier < 0)) stop("knowledge$tiers must be whole numbers >= 0")
    }
  }
  list(forbid = pairs(k$forbid, "forbid"), require = pairs(k$require, "require"), tier = tier)
}

# Edge data frame of a mark matrix, in latens' canonical orientation and order
# (latens_causal_graph_edges in causal.h), so it matches the CLI's edge lists row for row.
.causal_edges <- function(M, nodes) {
  from <- integer(); to <- integer(); type <- character()
  p <- length(nodes)
  for (i in seq_len(p - 1)) for (j in (i + 1):p) {
    if (M[i, j] == 0L) next
    a <- i; b <- j; ma <- M[j, i]; mb <- M[i, j]
    if ((ma == 2L && mb != 2L) || (ma == 3L && mb == 1L)) { a <- j; b <- i; t <- ma; ma <- mb; mb <- t }
    from <- c(from, a); to <- c(to, b)
    type <- c(type, paste0(.left_txt[ma + 1L], "-", .right_txt[mb + 1L]))
  }
  o <- order(pmin(from, to), pmax(from, to)) # the library's order: by the pair's indices
  data.frame(from = nodes[from[o]], to = nodes[to[o]], type = type[o], stringsAsFactors = FALSE)
}

# The S3 graph from the glue's list(nodes, latent, marks).
.causal_graph <- function(g, method, ...) {
  M <- g$marks
  dimnames(M) <- list(g$nodes, g$nodes)
  structure(list(nodes = g$nodes, adjacency = M, edges = .causal_edges(M, g$nodes),
                 latent_nodes = g$nodes[g$latent], method = method, ...),
            class = "latens_graph")
}

causal_graph <- function(nodes, edges = NULL, latent = character()) {
  if (is.data.frame(nodes) && is.null(edges)) { edges <- nodes; nodes <- NULL }
  if (is.null(edges)) edges <- data.frame(from = character(), to = character(), type = character())
  edges <- as.data.frame(edges, stringsAsFactors = FALSE)
  if (!all(c("from", "to") %in% names(edges))) stop("edges needs columns from and to (and type)")
  if (is.null(edges$type)) edges$type <- rep("-->", nrow(edges))
  if (is.null(nodes)) nodes <- unique(c(as.character(edges$from), as.character(edges$to)))
  nodes <- as.character(nodes)
  if (anyDuplicated(nodes)) stop(sprintf("node %s is repeated", sQuote(nodes[anyDuplicated(nodes)])))
  p <- length(nodes)
  M <- matrix(0L, p, p, dimnames = list(nodes, nodes))
  codes <- c("-" = 1L, "<" = 2L, ">" = 2L, "o" = 3L)
  for (k in seq_len(nrow(edges))) {
    ty <- as.character(edges$type[k])
    if (nchar(ty) != 3 || substr(ty, 2, 2) != "-" || !substr(ty, 1, 1) %in% c("-", "<", "o") ||
        !substr(ty, 3, 3) %in% c("-", ">", "o"))
      stop(sprintf("edge %d: type %s is not one of -->, <--, ---, <->, o->, <-o, o-o, --o, o--",
                   k, sQuote(ty)))
    i <- .var_index(as.character(edges$from[k]), nodes, sprintf("edge %d", k))
    j <- .var_index(as.character(edges$to[k]), nodes, sprintf("edge %d", k))
    if (i == j) stop(sprintf("edge %d joins %s to itself", k, sQuote(nodes[i])))
    M[j, i] <- codes[[substr(ty, 1, 1)]]
    M[i, j] <- codes[[substr(ty, 3, 3)]]
  }
  lat <- nodes %in% latent
  if (!all(latent %in% nodes)) stop("latent names a node that is not in the graph")
  .causal_graph(list(nodes = nodes, latent = lat, marks = unname(M)), "given")
}

.as_graph <- function(g, what) {
  if (inherits(g, "latens_graph")) return(g)
  if (is.data.frame(g)) return(causal_graph(g))
  stop(sprintf("%s must be a latens_graph (see causal_graph) or an edge data frame", what))
}

.glue_graph <- function(g) {
  M <- g$adjacency
  storage.mode(M) <- "integer"
  list(nodes = g$nodes, latent = g$nodes %in% g$latent_nodes, marks = unname(M))
}

.boot_types <- c("-->", "---", "<->", "o->", "o-o", "--o")

.causal_fit <- function(data, algo, discrete, test, opts, knowledge, bootstrap, seed) {
  d <- .causal_matrix(data, discrete)
  kn <- .causal_knowledge(knowledge, d$names)
  if (!is.null(kn) && !algo %in% c("pc", "fci")) stop("knowledge is used by causal_pc and causal_fci only")
  r <- .Call(r_causal_run, d$x, d$names, discrete, algo, test, opts, kn, seed)
  extra <- list()
  if (!is.null(r$B)) extra$B <- structure(r$B, dimnames = list(d$names, d$names))
  if (!is.null(r$W)) extra$W <- structure(r$W, dimnames = list(d$names, d$names))
  if (!is.null(r$order)) extra$order <- d$names[r$order]
  if (!is.null(r$Lambda)) extra$Lambda <- structure(r$Lambda, dimnames = list(d$names, NULL))
  if (algo == "ges") extra$score <- r$score
  g <- do.call(.causal_graph, c(list(r$graph, algo), extra))
  if (bootstrap > 0) {
    b <- .Call(r_causal_bootstrap, d$x, d$names, discrete, algo, test, opts,
               as.integer(bootstrap), seed)
    idx <- which(b$freq > 0, arr.ind = TRUE)
    idx <- idx[order(idx[, 3], idx[, 1], idx[, 2]), , drop = FALSE]
    g$bootstrap <- data.frame(from = d$names[idx[, 1]], to = d$names[idx[, 2]],
                              type = .boot_types[idx[, 3]], frequency = b$freq[idx],
                              stringsAsFactors = FALSE)
    attr(g$bootstrap, "replicates") <- as.integer(bootstrap)
    attr(g$bootstrap, "failed") <- b$failed
  }
  g
}

.ci_opts <- function(alpha, max_depth, uc_priority, threads, ...) {
  if (!is.numeric(alpha) || length(alpha) != 1 || !(alpha > 0 && alpha < 1))
    stop("alpha must be one number in (0, 1)")
  list(alpha = alpha, max_depth = max_depth, uc_priority = uc_priority, threads = threads, ...)
}

causal_pc <- function(data, alpha = 0.05, test = c("fisherz", "chisq", "gsq"),
                      discrete = FALSE, knowledge = NULL, max_depth = -1L, uc_priority = 3L,
                      bootstrap = 0L, seed = 1, threads = 0L, oracle = NULL) {
  opts <- .ci_opts(alpha, max_depth, uc_priority, threads)
  if (!is.null(oracle)) {
    g <- .glue_graph(.as_graph(oracle, "oracle"))
    return(.causal_graph(.Call(r_causal_oracle, g$nodes, g$latent, g$marks, "pc", opts), "pc"))
  }
  test <- if (missing(test) && discrete) "chisq" else match.arg(test)
  .check_test(test, discrete)
  .causal_fit(data, "pc", discrete, test, opts, knowledge, bootstrap, seed)
}

causal_fci <- function(data, alpha = 0.05, test = c("fisherz", "chisq", "gsq"),
                       discrete = FALSE, knowledge = NULL, max_depth = -1L, uc_priority = 3L,
                       pds_depth = 3L, bootstrap = 0L, seed = 1, threads = 0L, oracle = NULL) {
  opts <- .ci_opts(alpha, max_depth, uc_priority, threads, pds_depth = pds_depth)
  if (!is.null(oracle)) {
    g <- .glue_graph(.as_graph(oracle, "oracle"))
    return(.causal_graph(.Call(r_causal_oracle, g$nodes, g$latent, g$marks, "fci", opts), "fci"))
  }
  test <- if (missing(test) && discrete) "chisq" else match.arg(test)
  .check_test(test, discrete)
  .causal_fit(data, "fci", discrete, test, opts, knowledge, bootstrap, seed)
}

.check_test <- function(test, discrete) {
  if (discrete != (test != "fisherz"))
    stop(sprintf("test = \"%s\" needs %s data", test,
                 if (discrete) "continuous (discrete = FALSE)" else "discrete (discrete = TRUE)"))
}

causal_ges <- function(data, score = c("auto", "bic", "bdeu"), discrete = FALSE,
                       penalty_discount = 1, ess = 1, max_parents = -1L, bootstrap = 0L,
                       seed = 1, threads = 0L) {
  score <- match(match.arg(score), c("auto", "bic", "bdeu")) - 1L
  opts <- list(score = score, penalty_discount = penalty_discount, ess = ess,
               max_parents = max_parents, threads = threads)
  .causal_fit(data, "ges", discrete, "fisherz", opts, NULL, bootstrap, seed)
}

causal_lingam <- function(data, method = c("direct", "ica"), prune_alpha = 1e-3,
                          bootstrap = 0L, seed = 1, threads = 0L) {
  method <- match.arg(method)
  opts <- list(prune_alpha = prune_alpha, threads = threads)
  .causal_fit(data, paste0("lingam-", method), FALSE, "fisherz", opts, NULL, bootstrap, seed)
}

causal_cumulant <- function(data, root_z = 4, min_corr = 0.05, prune = 0.15, bootstrap = 0L,
                            seed = 1, threads = 0L) {
  opts <- list(root_z = root_z, min_corr = min_corr, prune = prune, threads = threads)
  .causal_fit(data, "cumulant", FALSE, "fisherz", opts, NULL, bootstrap, seed)
}

causal_notears <- function(data, lambda1 = 0.1, w_threshold = 0.3, standardize = FALSE,
                           bootstrap = 0L, seed = 1, threads = 0L) {
  opts <- list(lambda1 = lambda1, w_threshold = w_threshold,
               standardize = as.numeric(isTRUE(standardize)), threads = threads)
  .causal_fit(data, "notears", FALSE, "fisherz", opts, NULL, bootstrap, seed)
}

causal_compare <- function(truth, estimate, truth_as = c("given", "cpdag", "pag")) {
  truth_as <- match.arg(truth_as)
  t <- .glue_graph(.as_graph(truth, "truth"))
  e <- .glue_graph(.as_graph(estimate, "estimate"))
  r <- .Call(r_causal_compare, t$nodes, t$latent, t$marks, e$nodes, e$latent, e$marks, truth_as)
  for (k in c("shd", "tp_adj", "fp_adj", "fn_adj", "tp_arrow", "fp_arrow", "fn_arrow"))
    r[[k]] <- as.integer(r[[k]])
  structure(r, class = "latens_graph_comparison")
}

print.latens_graph_comparison <- function(x, ...) {
  cat(sprintf("SHD                 %d\n", x$shd))
  cat(sprintf("adjacency  P/R/F1   %.4f %.4f %.4f  (tp %d, fp %d, fn %d)\n", x$adj_precision,
              x$adj_recall, x$adj_f1, x$tp_adj, x$fp_adj, x$fn_adj))
  cat(sprintf("arrowhead  P/R/F1   %.4f %.4f %.4f  (tp %d, fp %d, fn %d)\n", x$arrow_precision,
              x$arrow_recall, x$arrow_f1, x$tp_arrow, x$fp_arrow, x$fn_arrow))
  invisible(x)
}

causal_cpdag <- function(dag) {
  g <- .glue_graph(.as_graph(dag, "dag"))
  .causal_graph(.Call(r_causal_equivalence, g$nodes, g$latent, g$marks, FALSE), "cpdag")
}

causal_pag <- function(dag) {
  g <- .glue_graph(.as_graph(dag, "dag"))
  .causal_graph(.Call(r_causal_equivalence, g$nodes, g$latent, g$marks, TRUE), "pag")
}

print.latens_graph <- function(x, ...) {
  cat(sprintf("latens graph (%s): %d nodes%s, %d edges\n", x$method, length(x$nodes),
              if (length(x$latent_nodes)) sprintf(" (%d latent: %s)", length(x$latent_nodes),
                                                  paste(x$latent_nodes, collapse = ", ")) else "",
              nrow(x$edges)))
  if (nrow(x$edges)) print(x$edges, row.names = FALSE, ...)
  if (!is.null(x$bootstrap))
    cat(sprintf("bootstrap: %d replicates (%g failed), $bootstrap holds %d edge frequencies\n",
                attr(x$bootstrap, "replicates"), attr(x$bootstrap, "failed"),
                nrow(x$bootstrap)))
  invisible(x)
}

summary.latens_graph <- function(object, ...) {
  types <- table(factor(object$edges$type, levels = c("-->", "---", "<->", "o->", "o-o", "--o")))
  A <- object$adjacency != 0L
  structure(list(method = object$method, nodes = length(object$nodes),
                 latent = length(object$latent_nodes), edges = nrow(object$edges),
                 types = types, degree = rowSums(A)),
            class = "summary.latens_graph")
}

print.summary.latens_graph <- function(x, ...) {
  cat(sprintf("latens graph (%s): %d nodes (%d latent), %d edges\n", x$method, x$nodes,
              x$latent, x$edges))
  cat("edge types:\n")
  print(x$types[x$types > 0], ...)
  cat("degree:\n")
  print(x$degree, ...)
  invisible(x)
}

as.data.frame.latens_graph <- function(x, row.names = NULL, optional = FALSE, ...) x$edges
