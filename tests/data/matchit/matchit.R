# Reference pairs from R MatchIt (Debian's r-cran-matchit 4.5.1) for
# tests/test_matchit_reference.py. Run from this folder:
#   python3 make_scores.py && Rscript matchit.R
#
# MatchIt 4.5.1 matches a *numeric distance vector* to the nearest control below the treated
# unit rather than the nearest one (e.g. a treated 0.5 takes 0.1 over 0.6), so the distances
# are given as the one covariate of a Euclidean distance instead, which takes MatchIt's exact
# path; treated rows are sorted by distance, largest first, and m.order = "data" keeps that
# order (MatchIt's "largest" needs a propensity score). The caliper is 0.2 standard
# deviations of the distance.
suppressMessages(library(MatchIt))
d <- read.csv("scores.csv")
d <- d[order(-d$treat, -d$distance), ]
rownames(d) <- d$id
pairs <- function(m) {
  mm <- m$match.matrix
  out <- data.frame(treated = rep(as.integer(rownames(mm)), ncol(mm)),
                    control = as.integer(as.vector(mm)))
  out[!is.na(out$control), ]
}
run <- function(name, ...) {
  m <- matchit(treat ~ distance, data = d, distance = "euclidean", method = "nearest",
               m.order = "data", caliper = c(distance = 0.2), std.caliper = TRUE, ...)
  write.csv(pairs(m), paste0("pairs_", name, ".csv"), row.names = FALSE)
}
run("ratio1")
run("ratio2_exact", ratio = 2, exact = ~stratum)
run("replace", replace = TRUE)
cat("MatchIt", as.character(packageVersion("MatchIt")), "\n")
