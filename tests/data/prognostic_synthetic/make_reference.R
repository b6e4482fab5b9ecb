# Second conformance fixture for fs.survival.screen / coxnet / cv_coxnet / meta_analysis:
# a SYNTHETIC cohort with many tied times (integer months), more samples than genes, an
# unpenalised gene and unequal penalty factors, covariates for the adjusted screen, and two
# more meta-analysis inputs (metafor's dat.hackshaw1998, and a homogeneous synthetic set where
# every tau^2 estimator is truncated at 0).
# Run from this folder: Rscript make_reference.R   (R 4.2, survival 3.5.3, glmnet 4.1.6,
# metafor 3.8.1, jsonlite)
suppressMessages({library(survival); library(glmnet); library(metafor); library(jsonlite)})
set.seed(20261201)
n <- 150; p <- 40
latent <- rnorm(n)
X <- sapply(seq_len(p), function(j) 0.6 * latent * (j %% 3 == 0) + rnorm(n, sd = 0.5 + j / 40))
colnames(X) <- sprintf("G%02d", seq_len(p))
rownames(X) <- sprintf("P%03d", seq_len(n))
X <- round(X, 6)
age <- round(rnorm(n, 60, 10))
stage <- factor(sample(c("I", "II", "III"), n, replace = TRUE, prob = c(0.4, 0.35, 0.25)))
lp <- 0.5 * X[, 3] - 0.4 * X[, 7] + 0.3 * X[, 12] + 0.02 * (age - 60) + 0.4 * (stage == "III")
event_time <- rexp(n, 0.03 * exp(lp))
censor_time <- runif(n, 5, 90)
time <- pmax(1, ceiling(pmin(event_time, censor_time)))  # integer months: many ties
status <- as.integer(event_time <= censor_time)
cohort <- data.frame(sample = rownames(X), time = time, event = status, age = age,
                     stage = as.character(stage), X, check.names = FALSE)
write.csv(cohort, "cohort.csv", row.names = FALSE)
# read back what the tests read, so both sides use the same numbers
cohort <- read.csv("cohort.csv", check.names = FALSE)
X <- as.matrix(cohort[, sprintf("G%02d", seq_len(p))]); rownames(X) <- cohort$sample
y <- Surv(cohort$time, cohort$event)
cohort$stage <- factor(cohort$stage)

uni <- t(sapply(colnames(X), function(g) {
  f <- coxph(y ~ X[, g], ties = "efron", control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100))
  s <- summary(f)$coefficients
  a <- coxph(y ~ X[, g] + age + stage, data = cohort, ties = "efron",
             control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100))
  sa <- summary(a)$coefficients
  c(coef = s[1, "coef"], se = s[1, "se(coef)"], p = s[1, "Pr(>|z|)"],
    coef_adj = sa[1, "coef"], se_adj = sa[1, "se(coef)"], p_adj = sa[1, "Pr(>|z|)"])
}))
write.csv(data.frame(gene = rownames(uni), uni), "univariate_cox.csv", row.names = FALSE)

path_out <- function(fit, name) {
  write.csv(data.frame(lambda = fit$lambda, df = fit$df, dev_ratio = fit$dev.ratio),
            paste0(name, "_path.csv"), row.names = FALSE)
  b <- as.matrix(fit$beta); colnames(b) <- sprintf("l%03d", seq_len(ncol(b)))
  write.csv(b, paste0(name, "_coef.csv"))
}
pf <- c(0, 0.5, 2, rep(1, p - 3))
path_out(glmnet(X, y, family = "cox", alpha = 0.7, penalty.factor = pf, thresh = 1e-14,
                maxit = 1e7), "coxnet_enet07_pf")
path_out(glmnet(X, y, family = "cox", alpha = 1, standardize = FALSE, thresh = 1e-14,
                maxit = 1e7), "coxnet_lasso_unstandardized")
folds <- sample(rep(1:5, length.out = n))
write.csv(data.frame(sample = rownames(X), fold = folds), "folds.csv", row.names = FALSE)
cv <- list()
for (m in c("deviance", "C")) {
  f <- cv.glmnet(X, y, family = "cox", foldid = folds, type.measure = m, thresh = 1e-14,
                 maxit = 1e7)
  write.csv(data.frame(lambda = f$lambda, cvm = f$cvm, cvsd = f$cvsd, nzero = f$nzero),
            paste0("cv_", m, ".csv"), row.names = FALSE)
  cv[[m]] <- list(lambda_min = f$lambda.min, lambda_1se = f$lambda.1se,
                  index_min = f$index[1], index_1se = f$index[2])
}

meta_fit <- function(yi, vi) {
  out <- list()
  for (m in c("FE", "DL", "REML", "PM", "HE", "SJ")) {
    for (knha in c(FALSE, TRUE)) {
      if (m == "FE" && knha) next
      f <- rma(yi, vi, method = m, test = if (knha) "knha" else "z",
               control = list(tol = 1e-12, threshold = 1e-12))
      pr <- predict(f)
      out[[paste0(m, if (knha) "_knha" else "")]] <- list(
        estimate = f$b[1], se = f$se, statistic = f$zval, p = f$pval, ci_lower = f$ci.lb,
        ci_upper = f$ci.ub, tau2 = f$tau2, tau2_se = if (m == "FE") NULL else f$se.tau2,
        I2 = f$I2, H2 = f$H2, Q = f$QE, Q_p = f$QEp,
        pi_lower = if (m == "FE") NULL else pr$pi.lb, pi_upper = if (m == "FE") NULL else pr$pi.ub)
    }
  }
  out
}
hack <- escalc(measure = "OR", ai = NULL, yi = yi, vi = vi, data = dat.hackshaw1998)
homogeneous <- data.frame(yi = c(0.21, 0.25, 0.18, 0.30, 0.23, 0.20),
                          vi = c(0.040, 0.025, 0.050, 0.030, 0.045, 0.035))
write.csv(data.frame(study = hack$study, yi = hack$yi, vi = hack$vi), "meta_hackshaw.csv",
          row.names = FALSE)
write.csv(homogeneous, "meta_homogeneous.csv", row.names = FALSE)
writeLines(toJSON(list(
  versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                  glmnet = as.character(packageVersion("glmnet")),
                  metafor = as.character(packageVersion("metafor"))),
  n = n, events = sum(cohort$event), cv = cv,
  meta_hackshaw = meta_fit(hack$yi, hack$vi),
  meta_homogeneous = meta_fit(homogeneous$yi, homogeneous$vi)),
  auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "reference.json")
