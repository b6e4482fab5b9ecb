# Reference principal-component scores for ferroscore's method="pca" (R 4.2, stats::prcomp).
# Run from this directory:  Rscript make_reference.R
expr <- read.csv("../../../src/ferroscore/data/breast_gse1992_expression.csv.gz",
                 row.names = 1, check.names = FALSE)
sets <- list(
  kegg = c("ALOX15", "CP", "CYBB", "ACSL1", "ACSL3", "ACSL4", "FTH1", "FTL", "GCLC", "GCLM",
           "GPX4", "GSS", "HMOX1", "SLC11A2", "PCBP1", "PCBP2", "PRNP", "SAT1", "SLC3A2", "TF",
           "TFRC", "TP53", "VDAC2", "VDAC3", "NCOA4", "ATG5", "ATG7", "SLC7A11", "SLC40A1"),
  core = c("ACSL4", "MBOAT5", "TFRC", "NCOA4", "GPX4", "SLC7A11", "AIFM2", "FTH1", "GCH1"))
reference <- 1:80                       # fit on the first 80 tumours, project the other 44
for (name in names(sets)) {
  genes <- intersect(sets[[name]], rownames(expr))
  x <- t(as.matrix(expr[genes, ]))
  for (scaled in c(TRUE, FALSE)) {
    fit <- prcomp(x[reference, ], scale. = scaled)
    scores <- rbind(fit$x[, 1:3], predict(fit, newdata = x[-reference, ])[, 1:3])
    write.csv(scores, sprintf("prcomp_%s_%s.csv", name, if (scaled) "scaled" else "centred"))
  }
  writeLines(genes, sprintf("genes_%s.txt", name))
}
writeLines(c(R.version.string, "stats::prcomp(x[1:80, ], scale. = TRUE/FALSE); predict() for 81:124"),
           "provenance.txt")
