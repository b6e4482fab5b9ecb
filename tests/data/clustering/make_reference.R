# Reference clusterings for ferroscore's consensus-clustering kernels and algorithms.
# Run from this directory:  Rscript make_reference.R   (R 4.2, cluster, ConsensusClusterPlus 1.62.0)
suppressPackageStartupMessages({library(cluster); library(ConsensusClusterPlus)})
expr <- read.csv("../../../src/ferroscore/data/breast_gse1992_expression.csv.gz",
                 row.names = 1, check.names = FALSE)
genes <- readLines("../pca/genes_kegg.txt")                   # 29 KEGG ferroptosis genes
x <- as.matrix(expr[genes, 1:70])                             # genes x the first 70 tumours
d <- 1 - cor(x)                                               # 1 - Pearson between tumours
out <- list()
for (method in c("average", "complete", "single")) {
  tree <- hclust(as.dist(d), method = method)
  for (k in 2:8) out[[sprintf("hc_%s_k%d", method, k)]] <- cutree(tree, k)
}
for (k in 2:6) out[[sprintf("pam_k%d", k)]] <- pam(as.dist(d), k, diss = TRUE, cluster.only = TRUE)
write.csv(as.data.frame(out), "labels.csv")
# ConsensusClusterPlus with PAM and k-means on the fixture's matrix (statistical comparison)
m <- as.matrix(expr[readLines("../workflow_gse1992/genes_clustered.txt"), ])
m <- sweep(m, 1, apply(m, 1, median))
for (alg in c("pam", "km")) {
  res <- ConsensusClusterPlus(m, maxK = 4, reps = 1000, pItem = 0.8, pFeature = 1,
                              clusterAlg = alg, distance = if (alg == "km") "euclidean" else "pearson",
                              seed = 1992, plot = NULL, verbose = FALSE)
  for (k in 2:4) write.csv(round(res[[k]]$consensusMatrix, 6),
                           gzfile(sprintf("ccp_%s_k%d.csv.gz", alg, k)),
                           row.names = colnames(m))
}
writeLines(c(R.version.string, paste("cluster", packageVersion("cluster")),
             paste("ConsensusClusterPlus", packageVersion("ConsensusClusterPlus")),
             "labels.csv: hclust(as.dist(1 - cor(x)), method) + cutree(k); pam(diss = TRUE)",
             "ccp_*: ConsensusClusterPlus(m, maxK = 4, reps = 1000, pItem = 0.8, clusterAlg = pam/km, seed = 1992)"),
           "provenance.txt")
