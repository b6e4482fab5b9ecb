# Peer timings for benchmarks/bench_survival.py (R survival and glmnet on the same data).
#   Rscript peers_survival.R coxph  <folder> <n_genes>   # coxph(Surv ~ x_j) for the first genes
#   Rscript peers_survival.R glmnet <folder> <n_genes> [thresh]   # glmnet(family = "cox") path
#   Rscript peers_survival.R cv     <folder> <n_genes>   # cv.glmnet with the folds in folds.txt
# <folder> holds expr.bin (float64, genes x samples, row-major), clinical.csv (time, event) and
# info.json (n_genes, n_samples). Prints one JSON line; only the model fitting is timed.
args <- commandArgs(trailingOnly = TRUE)
task <- args[1]
folder <- args[2]
k <- as.integer(args[3])
suppressMessages({library(survival); library(glmnet); library(jsonlite)})
info <- fromJSON(file.path(folder, "info.json"))
x <- matrix(readBin(file.path(folder, "expr.bin"), "double", info$n_genes * info$n_samples),
            nrow = info$n_samples)
clinical <- read.csv(file.path(folder, "clinical.csv"))
y <- Surv(clinical$time, clinical$event)
if (task == "coxph") {
  coefficients <- numeric(k)
  seconds <- system.time(
    for (j in seq_len(k)) coefficients[j] <- coef(coxph(y ~ x[, j]))[1])[["elapsed"]]
  out <- list(seconds = seconds, n_genes = k, coef = coefficients)
} else if (task == "glmnet") {
  X <- x[, seq_len(k)]
  thresh <- if (length(args) > 3) as.numeric(args[4]) else 1e-7  # glmnet's default
  seconds <- system.time(fit <- suppressWarnings(glmnet(X, y, family = "cox",
                                                         thresh = thresh)))[["elapsed"]]
  out <- list(seconds = seconds, lambda = fit$lambda, dev_ratio = fit$dev.ratio)
} else if (task == "cv") {
  X <- x[, seq_len(k)]
  folds <- scan(file.path(folder, "folds.txt"), quiet = TRUE)
  seconds <- system.time(cv <- cv.glmnet(X, y, family = "cox", foldid = folds))[["elapsed"]]
  out <- list(seconds = seconds, lambda_min = cv$lambda.min, lambda_1se = cv$lambda.1se,
              n_lambdas = length(cv$lambda))
} else {
  stop("unknown task ", task)
}
cat(toJSON(out, auto_unbox = TRUE, digits = NA), "\n")
