# Reference for ferroscore's RiskModel on GSE1992 (R 4.2, survival 3.5.3, glmnet 4.1.6).
# Run from the repository root after make_inputs.py:
#   Rscript tests/data/risk_gse1992/make_reference.R /work/shared/data
# Input X exactly as fixtures/prognostic_gse1992 (README there): the gse1992 renames, the
# candidates present, zero-variance genes removed; relapse-free survival.
suppressPackageStartupMessages({library(survival); library(glmnet); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args)) args[1] else "/work/shared/data"
here <- "tests/data/risk_gse1992"

expr <- read.csv(gzfile(file.path(data_dir, "breast_gse1992_expression.csv.gz")),
                 row.names = 1, check.names = FALSE)
clin <- read.csv(file.path(data_dir, "breast_gse1992_clinical.csv"), row.names = 1,
                 check.names = FALSE)
renames <- c(MBOAT5 = "LPCAT3", CARS = "CARS1", ATP5G3 = "ATP5MC3", TTC35 = "EMC2",
             JMJD1B = "KDM3B")
genes <- rownames(expr)
for (old in names(renames)) {
  if (old %in% genes && !(renames[[old]] %in% genes)) genes[genes == old] <- renames[[old]]
}
rownames(expr) <- genes
candidates <- scan("tests/data/prognostic_gse1992/candidates.txt", what = "", quiet = TRUE)
X <- t(as.matrix(expr[intersect(candidates, rownames(expr)), rownames(clin)]))
X <- X[, apply(X, 2, var) > 0]
time <- clin$rfs_months
event <- clin$rfs_event
y <- Surv(time, event)
folds <- read.csv("tests/data/prognostic_gse1992/folds.csv", row.names = 1)[rownames(clin), "fold"]

# 1. Predicted survival of the C-measure lambda.min model (glmnet's survfit.coxnet: a coxph
#    fit with the linear predictor as offset, Efron ties, survfit at newx)
cv <- cv.glmnet(X, y, family = "cox", alpha = 1, foldid = folds, type.measure = "C",
                thresh = 1e-14, maxit = 1e6)
fit <- survfit(cv$glmnet.fit, s = cv$lambda.min, x = X, y = y, newx = X)
horizons <- c(12, 36, 60)
surv <- t(summary(fit, times = horizons, extend = TRUE)$surv)
colnames(surv) <- paste0("t", horizons)
write.csv(data.frame(sample = rownames(clin), surv, check.names = FALSE),
          file.path(here, "survfit_C_min.csv"), row.names = FALSE)

# 2. Harrell's bootstrap optimism of two pipelines, on the resamples of make_inputs.py:
#    "C":        cv.glmnet(type.measure = "C") on all candidates, lambda.min
#    "screen_C": coxph per gene (Efron), keep p < 0.05, then the same
rows <- as.matrix(read.csv(file.path(here, "bootstrap_rows.csv")))
bfolds <- as.matrix(read.csv(file.path(here, "bootstrap_folds.csv")))
harrell <- function(risk, yy) Cindex(risk, yy)  # glmnet's Harrell C (as cv.glmnet)
pipeline <- function(xx, yy, ff, screen_p) {
  keep <- rep(TRUE, ncol(xx))
  if (!is.null(screen_p)) {
    p <- apply(xx, 2, function(g) summary(coxph(yy ~ g, ties = "efron"))$coefficients[1, 5])
    keep <- p < screen_p
  }
  b <- setNames(rep(0, ncol(xx)), colnames(xx))
  cvb <- cv.glmnet(xx[, keep, drop = FALSE], yy, family = "cox", alpha = 1, foldid = ff,
                   type.measure = "C", thresh = 1e-14, maxit = 1e6)
  b[keep] <- as.numeric(coef(cvb, s = "lambda.min"))
  list(b = b, lambda = cvb$lambda.min, screened = sum(keep))
}
out <- list()
for (name in c("C", "screen_C")) {
  screen_p <- if (name == "C") NULL else 0.05
  full <- pipeline(X, y, folds, screen_p)
  apparent <- harrell(drop(X %*% full$b), y)
  per <- data.frame()
  for (b in seq_len(ncol(rows))) {
    pick <- rows[, b]
    yb <- Surv(time[pick], event[pick])
    fb <- pipeline(X[pick, ], yb, bfolds[, b], screen_p)
    per <- rbind(per, data.frame(resample = b, lambda_min = fb$lambda, screened = fb$screened,
                                 n_genes = sum(fb$b != 0),
                                 C_resample = harrell(drop(X[pick, ] %*% fb$b), yb),
                                 C_original = harrell(drop(X %*% fb$b), y)))
  }
  optimism <- mean(per$C_resample - per$C_original)
  out[[name]] <- list(apparent = apparent, optimism = optimism,
                      corrected = apparent - optimism, n_genes = sum(full$b != 0),
                      resamples = per)
  cat(name, "apparent", apparent, "optimism", optimism, "\n")
}
write_json(list(R = R.version.string, survival = as.character(packageVersion("survival")),
                glmnet = as.character(packageVersion("glmnet")), optimism = out),
           file.path(here, "optimism_reference.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
