# Second limma reference for ferroscore's fs.de.limma: a covariate design, missing values,
# a gene that cannot estimate one coefficient, trend = TRUE, an F test and a contrast.
# Run from this directory:  Rscript make_reference.R   (R 4.2, limma 3.54.1)
suppressPackageStartupMessages(library(limma))
expr <- read.csv("../../../src/ferroscore/data/breast_gse1992_expression.csv.gz",
                 row.names = 1, check.names = FALSE)
clin <- read.csv("../../../src/ferroscore/data/breast_gse1992_clinical.csv", row.names = 1,
                 na.strings = "missing", check.names = FALSE)
stopifnot(identical(rownames(clin), colnames(expr)))
genes <- rownames(expr)[seq(1, nrow(expr), by = 5)]          # every 5th gene: 3,106 genes
y <- as.matrix(expr[genes, ])
set.seed(16)
mask <- matrix(runif(length(y)) < 0.03, nrow(y))             # 3% of the values missing
g1 <- which(clin$grade == 1)
mask[10, g1] <- TRUE                                         # gene 10: no grade-1 sample
mask[20, ] <- TRUE; mask[20, 1:3] <- FALSE                   # gene 20: 3 observed samples
y[mask] <- NA
where <- which(mask, arr.ind = TRUE)
write.csv(data.frame(gene = genes[where[, 1]], sample = colnames(y)[where[, 2]]),
          gzfile("missing.csv.gz"), row.names = FALSE)
writeLines(genes, "genes.txt")
keep <- complete.cases(clin[, c("er_positive", "age", "grade")])
cl <- clin[keep, ]
design <- model.matrix(~ er_positive + age + factor(grade), data = cl)
colnames(design) <- c("(Intercept)", "er_positive", "age", "grade[2]", "grade[3]")
yk <- y[, keep]
fit <- lmFit(yk, design)
out <- function(eb, tab, file) {
  tab$s2_post <- eb$s2.post; tab$df_total <- eb$df.total
  write.csv(tab, gzfile(file))
}
eb <- eBayes(fit, trend = TRUE)
out(eb, topTable(eb, coef = "er_positive", number = Inf, sort.by = "none"),
    "trend_er_positive.csv.gz")
eb_plain <- eBayes(fit)
out(eb_plain, topTable(eb_plain, coef = c("grade[2]", "grade[3]"), number = Inf,
                       sort.by = "none"), "plain_grade_F.csv.gz")
cm <- matrix(c(0, 0, 0, -1, 1), ncol = 1, dimnames = list(colnames(design), "G3vsG2"))
cont <- contrasts.fit(fit, cm)
eb_c <- eBayes(cont)
out(eb_c, topTable(eb_c, coef = 1, number = Inf, sort.by = "none"), "contrast_g3_g2.csv.gz")
writeLines(c(
  paste("limma", as.character(packageVersion("limma"))), R.version.string,
  paste("samples", sum(keep)), paste("genes", length(genes)), paste("missing", sum(mask)),
  sprintf("trend_df_prior %.17g", eb$df.prior),
  sprintf("plain_df_prior %.17g", eb_plain$df.prior),
  sprintf("plain_s2_prior %.17g", eb_plain$s2.prior),
  sprintf("contrast_df_prior %.17g", eb_c$df.prior),
  sprintf("contrast_s2_prior %.17g", eb_c$s2.prior)), "prior.txt")
write.csv(data.frame(s2_prior = eb$s2.prior, row.names = genes), gzfile("trend_s2_prior.csv.gz"))
