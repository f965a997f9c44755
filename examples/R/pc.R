# examples/R/pc.R: learn a probabilistic circuit on binary survey data and query it.
# A hidden Chow-Liu tree is learnt on the NLTCS training split (16 yes/no disability
# indicators, shipped with the package), scored on the test split, and asked about a
# respondent whose last 8 answers are hidden: the probability of the 8 we see, the most
# likely completion (MAP) and a few samples.  Checked by brute force: the circuit sums to 1
# over all 2^16 answer patterns, and the marginal equals the sum over the 2^8 completions.
library(latens)
data(nltcs)

m <- pc_learn(nltcs$train, nltcs$valid, structure = "hclt", latents = 8, epochs = 5, seed = 42)
print(m)
ll <- pc_loglik(m, nltcs$test)
cat(sprintf("test mean log-likelihood %.3f nats over %d rows\n", mean(ll), length(ll)))

# A respondent reporting 3 or more of the first 8 limitations; the last 8 answers hidden.
r <- which(rowSums(nltcs$test[, 1:8]) >= 3)[1]
ev <- matrix(c(nltcs$test[r, 1:8], rep(NA, 8)), nrow = 1,
             dimnames = list(NULL, colnames(nltcs$test)))
lev <- pc_loglik(m, ev)
mp <- pc_map(m, ev)
cat(sprintf("respondent %d, answers 1-8: %s  log p = %.4f\n", r,
            paste(ev[1, 1:8], collapse = ""), lev))
cat(sprintf("MAP completion of answers 9-16: %s%s (true: %s)\n",
            paste(mp$map[1, 9:16], collapse = ""),
            if (isTRUE(mp$exact)) "" else " (max-product: the HCLT is not deterministic)",
            paste(nltcs$test[r, 9:16], collapse = "")))
print(pc_sample(m, n = 3, seed = 7, evidence = ev[c(1, 1, 1), ]))

# Brute force: every 0/1 pattern of the hidden answers, and of all 16.
bits <- function(k) as.matrix(expand.grid(rep(list(0:1), k)))
comp <- cbind(matrix(ev[1, 1:8], 256, 8, byrow = TRUE), bits(8))
colnames(comp) <- colnames(ev)
lse <- function(x) max(x) + log(sum(exp(x - max(x))))
allp <- bits(16)
colnames(allp) <- colnames(ev)
z <- lse(pc_loglik(m, allp))
zev <- lse(pc_loglik(m, comp))
cat(sprintf("check: log sum over 2^16 patterns %.1e; evidence %.10f vs sum of completions %.10f\n",
            z, lev, zev))
stopifnot(abs(z) < 1e-9, abs(lev - zev) < 1e-9,
          all(mp$map[1, 1:8] == ev[1, 1:8]))
