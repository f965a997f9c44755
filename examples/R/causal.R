# examples/R/causal.R: causal discovery on protein-signalling data (Sachs et al. 2005).
# PC-stable with Fisher-z tests (alpha 0.01) on the log concentrations of 11 proteins in
# 7,466 cells, compared with the 18-edge consensus network (both shipped with the
# package).  Checked twice: PC given a perfect test (d-separation in the consensus network
# made acyclic) returns exactly its CPDAG, and the adjacency matrix agrees with the edges.
library(latens)
data(sachs)

g <- causal_pc(log(sachs), alpha = 0.01)
print(g)
truth <- causal_graph(names(sachs), sachs_consensus)
cmp <- causal_compare(truth, g)
print(cmp)

# The consensus has a feedback loop (PIP3 -> plcg -> PIP2 -> PIP3): drop each edge that
# would close a cycle, then PC with the d-separation oracle must find the CPDAG exactly.
dag <- sachs_consensus[0, ]
reaches <- function(e, from, to) { # is `to` reachable from `from` along the edges e?
  seen <- from
  repeat {
    nxt <- setdiff(e$to[e$from %in% seen], seen)
    if (!length(nxt)) return(to %in% seen)
    seen <- c(seen, nxt)
  }
}
for (k in seq_len(nrow(sachs_consensus)))
  if (!reaches(dag, sachs_consensus$to[k], sachs_consensus$from[k]))
    dag <- rbind(dag, sachs_consensus[k, ])
dag <- causal_graph(names(sachs), dag)
oracle <- causal_compare(causal_cpdag(dag), causal_pc(oracle = dag))
cat(sprintf("check: PC with d-separation in the %d-edge DAG: SHD %d to its CPDAG\n",
            nrow(dag$edges), oracle$shd))
stopifnot(oracle$shd == 0, sum(g$adjacency[upper.tri(g$adjacency)] != 0 |
                                 t(g$adjacency)[upper.tri(g$adjacency)] != 0) == nrow(g$edges))
